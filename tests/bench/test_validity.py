"""bench validity: batched bounds equal the library's, overshoot is detected where it exists, safe α table."""

import json
import math

import pytest
import torch

from infobound import bounds
from infobound.bench import validity
from infobound.cli import main as cli_main
from infobound.tasks import CorrelatedGaussian, task_suite

TINY = dict(batch_sizes=[8, 16], mis=[1.0, 8.0], dims=[20], alphas=[1.0, 0.1, 1e-3], batches=200, workers=1,
            adversarial=False)


def _row(rows, bound, alpha, critic="log r"):
    return next(r for r in rows if r["bound"] == bound and r["alpha"] == alpha and r["critic"] == critic)


def test_batched_statistics_equal_the_bounds_on_random_scores():
    scores = 3.0 * torch.randn(5, 7, 7, dtype=torch.float64)
    stats = validity.BatchStatistics.from_scores(scores)
    alphas = [7.0, 1.0, 0.3, 1e-2, 1e-5]
    for bound in validity.BOUNDS:
        expected = torch.tensor([[float(bounds.get(bound)(s, alpha=a)) for s in scores] for a in alphas],
                                dtype=torch.float64)
        torch.testing.assert_close(stats.estimates(bound, alphas), expected)
    with pytest.raises(ValueError, match="alpha"):
        stats.ml_cpc([8.0])


def test_tiny_grid_through_the_api_writes_table_json_and_png(tmp_path, capsys):
    data = validity.main(scales=[0.85, 1.0, 1.2], out=tmp_path, **TINY)
    for name in ("validity.json", "validity.md", "validity_gaussian-d20.png"):
        assert (tmp_path / name).exists()
    assert json.loads((tmp_path / "validity.json").read_text())["config"]["z"] == 3.0
    assert "smallest α with no significant overshoot" in capsys.readouterr().out
    summary = {(s["n"], s["bound"], s["critic"]): s for s in data["summary"]}
    assert set(summary) == {(n, b, c) for n in (8, 16) for b in validity.BOUNDS for c in validity.CRITICS}
    # α-CPC overshoots at α = 1e-3 and MI 8 for both critics, so its safe α is above 1e-3.
    for n in (8, 16):
        for critic in validity.CRITICS:
            assert summary[(n, "alpha_cpc", critic)]["alpha_min"] > 1e-3
            assert summary[(n, "alpha_cpc", critic)]["worst_below"]["significant"]
    rows = [r for cell in data["cells"] for r in cell["rows"]]
    assert not any(r["significant"] for r in rows if r["alpha"] == 1.0)  # α = 1: ML-CPC and CPC are valid


def test_cli_tiny_grid(tmp_path):
    cli_main(["bench", "validity", "--batch_sizes", "[8]", "--mis", "[2.0]", "--dims", "[5]", "--alphas", "[1, 0.01]",
              "--batches", "100", "--scales", "[1.0]", "--workers", "1", "--adversarial", "false",
              "--out", str(tmp_path)])
    data = json.loads((tmp_path / "validity.json").read_text())
    assert [c["task"] for c in data["cells"]] == ["gaussian-d5-mi2"]
    assert {s["critic"] for s in data["summary"]} == {"log r"}  # one scale: no scale search
    assert (tmp_path / "validity_gaussian-d5.png").exists()


def test_alpha_cpc_overshoot_is_detected_at_small_alpha_and_high_mi():
    rows = validity.measure_validity(CorrelatedGaussian(20, 8.0), 16, alphas=[1.0, 1e-3], batches=200)
    over = _row(rows, "alpha_cpc", 1e-3)
    assert over["significant"] and over["overshoot"] > 0.5
    assert not _row(rows, "ml_cpc", 1e-3)["significant"]  # ML-CPC at the same α and MI stays below


def test_ml_cpc_overshoot_is_detected_far_below_the_safe_range():
    # At n = 8 and MI 1 the analytic critic overshoots by ≈ 0.045 nats at α = 1e-3 (≈ 9 SE with 20k batches).
    rows = validity.measure_validity(CorrelatedGaussian(20, 1.0), 8, alphas=[1.0, 1e-3], batches=20000)
    assert _row(rows, "ml_cpc", 1e-3)["significant"]
    assert not _row(rows, "ml_cpc", 1.0)["significant"]


@pytest.mark.parametrize("dim,mi,n", [(1, 0.5, 8), (1, 10.0, 64), (20, 4.0, 8), (20, 10.0, 64)])
def test_ml_cpc_at_alpha_one_is_never_flagged(dim, mi, n):
    rows = validity.measure_validity(CorrelatedGaussian(dim, mi), n, alphas=[1.0], batches=300,
                                     scales=[0.7, 1.0, 1.5])
    for critic in validity.CRITICS:
        r = _row(rows, "ml_cpc", 1.0, critic)
        assert not r["significant"] and r["overshoot"] < 0


def test_any_task_with_a_density_ratio_works():
    task = task_suite("quick")["normal-dense-2x2"]  # numpy inside its ratio: the loop fallback of vmap
    rows = validity.measure_validity(task, 8, alphas=[1.0], batches=50)
    assert all(math.isfinite(r["mean"]) and r["true_mi"] == pytest.approx(task.mutual_information) for r in rows)
    with pytest.raises(TypeError, match="log_density_ratio"):
        validity.measure_validity(task_suite("quick")["student-t-dof3-2x2"], 8, alphas=[1.0], batches=10)


def test_smallest_safe_alpha_reads_the_monotone_closure():
    assert validity.smallest_safe_alpha({1.0: False, 0.1: True, 0.01: False}) == (1.0, True)
    assert validity.smallest_safe_alpha({1.0: False, 0.1: False, 0.01: True}) == (0.1, True)
    assert validity.smallest_safe_alpha({1.0: False, 0.1: False}) == (0.1, False)
    assert validity.smallest_safe_alpha({1.0: True, 0.1: False}) == (math.inf, True)
    assert validity.fine_alphas(1.0, 1e-2)[::20] == pytest.approx([1.0, 0.1, 0.01])



def test_adversarial_search_reports_both_alphas_and_resumes(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(validity.ADVERSARIAL_SETTINGS, "quick", {"steps": 5, "eval_entries": 2**14,
                                                                   "min_batches": 200, "counterexample_batches": 2000})
    grid = [{"families": ["quadratic", "separable"], "dims": [1], "mis": [2.0], "batch_sizes": [8]}]
    data = validity.main(quick=True, analytic=False, adversarial_grid=grid, workers=1, out=tmp_path)
    found = data["adversarial"]
    assert {(c["family"], c["label"]) for c in found["cells"]} == {
        (f, label) for f in ("quadratic", "separable") for label in ("old", "reference")}
    assert [r["alpha"] for r in found["counterexample"]] == [0.0631, pytest.approx(8 / 57)]
    (summary,) = found["summary"]
    assert summary["alpha_new"] == pytest.approx(8 / 57) and summary["alpha_old"] == 0.0631
    for name in ("validity.json", "validity.md", "validity_adversarial.png", "adversarial.jsonl"):
        assert (tmp_path / name).exists()
    assert "worst adversary at α new" in capsys.readouterr().out
    # A rerun reads the journal instead of training again.
    monkeypatch.setattr(validity.adv, "adversarial_cell", lambda *a, **k: pytest.fail("cell recomputed"))
    again = validity.main(quick=True, analytic=False, adversarial_grid=grid, workers=1, out=tmp_path)
    assert again["adversarial"]["cells"] == found["cells"]
    with pytest.raises(ValueError, match="family"):
        validity.main(quick=True, analytic=False, adversarial_grid=[{**grid[0], "families": ["x"]}], out=tmp_path)
    # Cells trained with other settings are not mixed into the journal's.
    with pytest.raises(ValueError, match="other settings"):
        validity.main(quick=True, analytic=False, adversarial_grid=grid, adversarial_steps=7, workers=1, out=tmp_path)
