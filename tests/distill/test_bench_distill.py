"""``infobound bench distill`` end to end on its tiny preset: table, win count, JSON, PNG, resume."""

import pytest

from infobound.bench import distill as bench


def test_every_preset_runs_alpha_cpc_beside_ml_cpc():
    from infobound.distill import canonical_method

    for name, preset in bench.PRESETS.items():
        assert {"alpha_cpc", "alpha_cpc+kd", "ml_cpc", "crd", "kd"} <= set(preset["methods"]), name
        assert [canonical_method(m) for m in preset["methods"]] == preset["methods"]


def test_tiny_bench_writes_results_and_resumes(tmp_path, capsys):
    out = tmp_path / "bench"
    methods = ["student", "crd", "ml_cpc", "alpha_cpc"]
    results = bench.main(preset="tiny", pairs=["mlp"], methods=methods, workers=1, out=out, alpha=0.5)
    assert (out / "results.json").exists() and (out / "results.md").exists() and (out / "distill.png").exists()
    assert len(results["rows"]) == 4 and not results["failures"]
    assert {r["method"] for r in results["rows"]} == set(methods)
    cell = results["summary"][0]["methods"]["ml_cpc"]
    assert 0.0 <= cell["mean"] <= 1.0 and cell["n"] == 1
    assert results["wins"]["ml_cpc > crd"][1] == 1 and results["wins"]["ml_cpc > alpha_cpc"][1] == 1
    printed = capsys.readouterr().out
    assert "mlp_large → mlp_small" in printed and "ml_cpc beats crd" in printed and "ml_cpc beats alpha_cpc" in printed
    again = bench.main(preset="tiny", pairs=["mlp"], methods=methods, workers=1, out=out, alpha=0.5)
    assert [r["student_acc"] for r in again["rows"]] == [r["student_acc"] for r in results["rows"]]
    assert "finished runs reused: 4" in capsys.readouterr().out


def test_bench_rejects_unknown_pairs_and_changed_settings(tmp_path):
    with pytest.raises(ValueError, match="unknown pair"):
        bench.main(preset="tiny", pairs=["resnet"], out=tmp_path)
    bench.main(preset="tiny", pairs=["mlp"], methods=["student"], workers=1, out=tmp_path)
    with pytest.raises(ValueError, match="other settings"):
        bench.main(preset="tiny", pairs=["mlp"], methods=["student"], epochs=2, workers=1, out=tmp_path)
