"""``infobound bench distill`` end to end on its tiny preset: table, win count, JSON, PNG, resume."""

import pytest

from infobound.bench import distill as bench


def test_tiny_bench_writes_results_and_resumes(tmp_path, capsys):
    out = tmp_path / "bench"
    results = bench.main(preset="tiny", pairs=["mlp"], methods=["student", "crd", "ml_cpc"], workers=1, out=out)
    assert (out / "results.json").exists() and (out / "results.md").exists() and (out / "distill.png").exists()
    assert len(results["rows"]) == 3 and not results["failures"]
    cell = results["summary"][0]["methods"]["ml_cpc"]
    assert 0.0 <= cell["mean"] <= 1.0 and cell["n"] == 1
    assert results["wins"]["ml_cpc > crd"][1] == 1
    printed = capsys.readouterr().out
    assert "mlp_large → mlp_small" in printed and "ml_cpc beats crd" in printed
    again = bench.main(preset="tiny", pairs=["mlp"], methods=["student", "crd", "ml_cpc"], workers=1, out=out)
    assert [r["student_acc"] for r in again["rows"]] == [r["student_acc"] for r in results["rows"]]
    assert "finished runs reused: 3" in capsys.readouterr().out


def test_bench_rejects_unknown_pairs_and_changed_settings(tmp_path):
    with pytest.raises(ValueError, match="unknown pair"):
        bench.main(preset="tiny", pairs=["resnet"], out=tmp_path)
    bench.main(preset="tiny", pairs=["mlp"], methods=["student"], workers=1, out=tmp_path)
    with pytest.raises(ValueError, match="other settings"):
        bench.main(preset="tiny", pairs=["mlp"], methods=["student"], epochs=2, workers=1, out=tmp_path)
