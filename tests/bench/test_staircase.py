"""bench staircase: schema of results.json, PNG, resume, stacked = separate training, clear errors."""

import json
import math

import numpy as np
import pytest

from infobound.bench import staircase
from infobound.cli import main as cli_main

ROW_KEYS = {"estimator", "alpha", "critic", "true_mi", "estimate"}


def _check_results(data, estimators, critics, levels=(2.0, 4.0, 6.0, 8.0, 10.0)):
    assert data["batch_size"] == 16
    assert len(data["rows"]) == len(estimators) * len(critics) * len(levels)
    for row in data["rows"]:
        assert ROW_KEYS <= set(row)
        assert row["critic"] in critics and row["true_mi"] in levels
        assert row["estimate"] is None or math.isfinite(row["estimate"])
    assert {(r["estimator"], r["alpha"]) for r in data["rows"]} == set(estimators)


def test_tiny_run_through_the_python_api(tmp_path):
    data = staircase.main(preset="tiny", estimators=["cpc", "ml_cpc:0.01", "mine"], critics=["joint", "separable"],
                          workers=1, out=tmp_path)
    _check_results(data, {("cpc", None), ("ml_cpc", 0.01), ("mine", None)}, {"joint", "separable"})
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert on_disk["rows"] == data["rows"]
    assert (tmp_path / "staircase.png").stat().st_size > 10_000
    assert "| estimator" in (tmp_path / "results.md").read_text()
    assert data["claim"]["kind"] == "ml_cpc_past_log_n" and data["claim"]["alpha"] == 0.01
    runs = sorted((tmp_path / "runs").glob("*.json"))
    assert len(runs) == 6
    record = json.loads(runs[0].read_text())
    assert len(record["curve"]) == 5 * record["spec"]["critic_setup"]["steps_per_level"]


def test_cli_tiny_run_with_bare_flags(tmp_path, capsys):
    cli_main(["bench", "staircase", "--preset", "tiny", "--cubic", "--workers", "1", "--estimators", "cpc,ml_cpc:0.1",
              "--out", str(tmp_path)])
    data = json.loads((tmp_path / "results.json").read_text())
    assert data["cubic"] is True and data["preset"] == "tiny"
    _check_results(data, {("cpc", None), ("ml_cpc", 0.1)}, {"separable"})
    assert (tmp_path / "staircase.png").exists()
    printed = capsys.readouterr().out
    assert "claim: ML-CPC α=0.1" in printed and str(tmp_path / "results.json") in printed


def test_resume_skips_finished_runs(tmp_path, monkeypatch):
    options = dict(preset="tiny", estimators=["cpc", "ml_cpc:0.01"], workers=1, out=tmp_path)
    first = staircase.main(**options)
    trained = []
    real = staircase.train_runs

    def counting(specs, *args, **kwargs):
        trained.extend(s.label for s in specs)
        return real(specs, *args, **kwargs)

    monkeypatch.setattr(staircase, "train_runs", counting)
    second = staircase.main(**options)
    assert trained == [] and second["rows"] == first["rows"]
    # An interrupted bench: one run file missing -> only that run trains again, with the same curve.
    missing = next((tmp_path / "runs").glob("separable__cpc__*.json"))
    missing.unlink()
    third = staircase.main(**options)
    assert trained == ["CPC"] and third["rows"] == first["rows"]
    # Another configuration never reuses these files.
    staircase.main(**options, lr=1e-3)
    assert trained == ["CPC", "CPC", "ML-CPC α=0.01"]


def test_process_pool_matches_in_process(tmp_path):
    staircase.main(preset="tiny", estimators=["cpc", "nwj"], workers=2, out=tmp_path)
    for path in (tmp_path / "runs").glob("*.json"):
        record = json.loads(path.read_text())
        spec = staircase._spec_from_dict(record["spec"])
        assert spec.key == record["key"]
        again = staircase.train_runs([spec], "cpu", stacked=False)[0]
        np.testing.assert_allclose(record["curve"], again, atol=1e-3)  # the record rounds to 4 decimals


def test_stacked_training_equals_separate_runs():
    setup = staircase.CriticSetup(hidden=16, layers=2, embed_dim=8, steps_per_level=6)
    for critic in ("joint", "separable"):
        specs = [staircase.RunSpec(name, param, critic, setup, 16, 5, (1.0, 3.0), False, 1e-3, 0)
                 for name, param in map(staircase.parse_estimator, ["cpc", "ml_cpc:0.01", "nwj", "js", "smile", "mine"])]
        together = staircase.train_runs(specs, "cpu", stacked=True)
        apart = np.stack([staircase.train_runs([s], "cpu", stacked=False)[0] for s in specs])
        assert together.shape == (6, 12)
        np.testing.assert_allclose(together, apart, atol=1e-4)


def test_unknown_estimator_and_bad_specs_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown estimator 'nope'"):
        staircase.main(preset="tiny", estimators=["nope"], out=tmp_path)
    with pytest.raises(ValueError, match="needs its α"):
        staircase.parse_estimator("ml_cpc")
    with pytest.raises(ValueError, match="takes no hyper-parameter"):
        staircase.parse_estimator("cpc:0.1")
    with pytest.raises(ValueError, match="not a number"):
        staircase.parse_estimator("ml_cpc:small")
    with pytest.raises(ValueError, match="unknown critic"):
        staircase.main(preset="tiny", critics=["bilinear"], out=tmp_path)
    assert staircase.parse_estimator("SMILE") == ("smile", 5.0)
    assert staircase.parse_estimator("ml-cpc:1e-3") == ("ml_cpc", 0.001)
    assert not (tmp_path / "results.json").exists()


def test_stage_means_and_claim_checks():
    curve = np.concatenate([np.full(8, 1.0), np.r_[np.zeros(6), 3.0, np.inf]])
    assert staircase.stage_means(curve, 8, 2) == [1.0, 3.0]  # last quarter, non-finite steps left out
    log_n = math.log(128)
    records = [
        {"estimator": "ml_cpc", "alpha": 0.001, "label": "ML-CPC α=0.001", "critic": "separable",
         "stage_means": [1.9, 3.0, 4.2, 5.5, 6.6]},
        {"estimator": "ml_cpc", "alpha": 0.1, "label": "ML-CPC α=0.1", "critic": "separable",
         "stage_means": [1.9, 3.0, 4.2, 4.5, 4.6]},
        {"estimator": "alpha_cpc", "alpha": 0.001, "label": "α-CPC α=0.001", "critic": "joint",
         "stage_means": [2.1, 5.3, 8.4, 10.4, 9.9]},
    ]
    checks = staircase.claim_checks(records, (2.0, 4.0, 6.0, 8.0, 10.0), 128)
    assert [c["passed"] for c in checks] == [True, False, True]
    assert checks[0]["estimate"] > log_n and "✓" in checks[0]["text"]
    assert checks[2]["overshoot_at"] == [2.0, 4.0, 6.0, 8.0]
    assert staircase.headline_claim(checks)["alpha"] == 0.001
