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
    # the preset's encoder appends its opening words: TF-IDF is also shown with the same cue
    k = bench.REDUCED["encoder_kwargs"].get("head_tokens", 0)
    assert (f"TF-IDF + first {k} word(s) one-hot" in table) == bool(k) and ("tfidf_opening_linear_acc" in base) == bool(k)
    assert all(r["linear_C"] in (0.01, 0.03, 0.1, 0.3, 1.0, 3.0) for r in res["runs"])  # chosen on held-out glosses
    # a second call reuses the finished runs' metrics.json
    again = bench.main(**kw)
    assert [r["linear_acc"] for r in again["runs"]] == [r["linear_acc"] for r in res["runs"]]
    assert "text" in BENCHMARKS
    # without --resume the filled folder is refused rather than silently mixed with a new run
    import pytest

    with pytest.raises(ValueError, match="is not empty"):
        bench.main(**{**kw, "resume": False})


def test_presets_and_overrides():
    from infobound.models import build_encoder

    reduced = bench.resolve_settings()
    assert reduced == {**bench.REDUCED, "views": "dropout"}
    # switching encoder drops the preset's options of the other one, so the encoder can be built
    for preset, other in ((True, "text_transformer"), (False, "text_cnn")):
        s = bench.resolve_settings(preset, encoder=other, encoder_kwargs={"dim": 16}, epochs=3, views="lemma_definition")
        assert s["encoder"] == other and s["epochs"] == 3 and s["views"] == "lemma_definition"
        assert s["encoder_kwargs"]["dim"] == 16
        assert not set(s["encoder_kwargs"]) & {"layers", "heads", "pooling", "head_tokens"}
        build_encoder(other, (2, 8), vocab_size=30, **s["encoder_kwargs"],
                      **({"heads": 2} if other == "text_transformer" else {}))
    kept = bench.resolve_settings(True, encoder="text_transformer", encoder_kwargs={"layers": 1})["encoder_kwargs"]
    assert kept["layers"] == 1 and kept["token_dropout"] == bench.REDUCED["encoder_kwargs"]["token_dropout"]
    assert bench.resolve_settings(num_train=20000)["num_train"] == 20000
    assert bench.resolve_settings()["num_train"] is None and bench.resolve_settings()["num_labelled"] == 20000
    old = bench.resolve_settings(num_train=20000, num_labelled=None, vocab_size=8000, epochs=20)  # the earlier preset
    assert (old["num_train"], old["num_labelled"], old["vocab_size"], old["epochs"]) == (20000, None, 8000, 20)
