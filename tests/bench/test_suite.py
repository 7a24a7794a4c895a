"""bench suite: failures are captured per run, finished runs resume, tables and files are written."""

import json

import pytest

from infobound.bench import suite
from infobound.cli import main as cli_main
from infobound.estimate.result import EstimateResult


def test_failures_are_captured_and_the_bench_goes_on(tmp_path):
    def explode(x, y, seed):
        raise RuntimeError("boom on purpose")

    suite.register_estimator("exploding", explode)
    try:
        results = suite.main(preset="tiny", estimators=["exploding", "gaussian"], tasks=["normal-dense-2x2"],
                             workers=1, out=tmp_path)
    finally:
        suite.ESTIMATORS.pop("exploding")
    by_est = {r["estimator"]: r for r in results["rows"]}
    assert by_est["exploding"]["estimate"] is None
    assert "RuntimeError: boom on purpose" in by_est["exploding"]["error"]
    assert by_est["gaussian"]["error"] is None and by_est["gaussian"]["estimate"] > 0
    assert results["failures"][0]["estimator"] == "exploding"
    for name in ("results.json", "results.md", "results.html", "suite_N300.png"):
        assert (tmp_path / name).exists()
    assert "boom" not in (tmp_path / "results.md").read_text()  # the table shows "fail", errors listed apart


def test_resume_reuses_finished_runs(tmp_path):
    calls = []

    def counting(x, y, seed):
        calls.append(seed)
        return EstimateResult(1.0, method="counting")

    suite.register_estimator("counting", counting)
    try:
        suite.main(preset="tiny", estimators=["counting"], tasks=["normal-dense-2x2"], workers=1, out=tmp_path)
        suite.main(preset="tiny", estimators=["counting"], tasks=["normal-dense-2x2"], workers=1, out=tmp_path)
    finally:
        suite.ESTIMATORS.pop("counting")
    assert calls == [0]


def test_cli_tiny_run_in_parallel(tmp_path):
    cli_main(["bench", "suite", "--preset", "tiny", "--workers", "2", "--out", str(tmp_path)])
    data = json.loads((tmp_path / "results.json").read_text())
    assert {r["estimator"] for r in data["rows"]} == {"ksg-k3", "gaussian", "histogram"}
    assert all(r["estimate"] is not None for r in data["rows"] if r["estimator"] == "ksg-k3")


def test_unknown_estimator_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="unknown estimator"):
        suite.main(preset="tiny", estimators=["nope"], out=tmp_path)


def test_per_estimator_summary_counts_coverage_and_the_certified_limit(tmp_path):
    """Hand-made results: truth of normal-dense-2x2 is 0.2939; coverage and lower <= truth counted per run."""

    def certified(x, y, seed):
        # seed 0: interval covers the truth and lower is below it; seed 1: neither.
        if seed == 0:
            return EstimateResult(0.30, (0.25, 0.35), lower=0.20, method="certified")
        return EstimateResult(0.50, (0.45, 0.55), lower=0.40, method="certified")

    suite.register_estimator("certified", certified)
    try:
        results = suite.main(preset="tiny", estimators=["certified", "gaussian"], tasks=["normal-dense-2x2"],
                             seeds=[0, 1], workers=1, out=tmp_path)
    finally:
        suite.ESTIMATORS.pop("certified")
    table = {row["estimator"]: row for row in results["per_estimator"][300]}
    row = table["certified"]
    truth = results["rows"][0]["true_mi"]
    assert row["ci covers truth"] == "1/2" and row["lower <= truth"] == "1/2"
    assert row["mean truth - lower"] == pytest.approx(truth - 0.30)  # ((t − 0.2) + (t − 0.4)) / 2
    assert row["MAE"] == pytest.approx(abs(0.40 - truth))  # |mean over seeds − truth|
    assert table["gaussian"]["lower <= truth"] == "-"
    assert "Per estimator" in (tmp_path / "results.md").read_text()
