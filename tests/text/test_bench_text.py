"""``infobound bench text`` on the tiny WordNet: tables, JSON, PNG, resume."""

from __future__ import annotations

import json

from infobound.bench import text as bench
from infobound.cli import BENCHMARKS


def test_bench_text_runs_and_resumes(corpus_wordnet, tmp_path, capsys):
    kw = dict(seeds=1, workers=1, epochs=1, batch_size=16, configs=["InfoNCE", "f-MICL JS"], data_dir=str(corpus_wordnet),
              encoder_kwargs=dict(dim=16, layers=1), out=tmp_path)
    res = bench.main(**kw)
    assert [s["config"] for s in res["objectives"]] == ["InfoNCE (SimCSE)", "f-MICL JS"]
    assert all(r["error"] is None for r in res["runs"]), [r["error"] for r in res["runs"]]
    for s in res["objectives"]:
        assert s["runs"] == 1 and 0 <= s["linear_acc"] <= 1 and s["linear_acc_std"] == 0.0
    base = res["baselines"]
    assert 0 <= base["tfidf_linear_acc"] <= 1 and 0 < base["majority_acc"] <= 1
    saved = json.loads((tmp_path / "text.json").read_text())
    assert saved["objectives"][0]["linear_acc"] == res["objectives"][0]["linear_acc"]
    assert (tmp_path / "text.png").stat().st_size > 0
    table = (tmp_path / "text.md").read_text()
    assert "TF-IDF" in table and "random init" in table and "f-MICL JS" in table
    # a second call reuses the finished runs' metrics.json
    again = bench.main(**kw)
    assert [r["linear_acc"] for r in again["runs"]] == [r["linear_acc"] for r in res["runs"]]
    assert "text" in BENCHMARKS
    # without --resume the filled folder is refused rather than silently mixed with a new run
    import pytest

    with pytest.raises(ValueError, match="is not empty"):
        bench.main(**{**kw, "resume": False})
