"""Every pretrain objective on text end to end, the text evaluation against naive references, CLI errors."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from scipy.stats import spearmanr

from infobound.data.wordnet import load_wordnet
from infobound.eval.text import pair_cosines, relatedness_spearman, text_metrics
from infobound.methods import build_method, pretrain

OBJECTIVES = [dict(objective="infonce"), dict(objective="ml_cpc", alpha=0.1)] + [
    dict(objective="fmicl", divergence=d) for d in ("kl", "js", "pearson", "sq_hellinger", "tsallis", "vlc")]
SMALL = dict(num_test=None, max_length=24, vocab_size=150, num_pairs=20)


@pytest.mark.parametrize("options", OBJECTIVES, ids=lambda o: o.get("divergence", o["objective"]))
def test_pretrain_every_objective_on_text(corpus_wordnet, tmp_path, options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = pretrain(dataset="wordnet", data_dir=str(corpus_wordnet), data_kwargs=SMALL, epochs=1, batch_size=16,
                     encoder="text_cnn" if options.get("divergence") not in ("kl", None) else None,
                     encoder_kwargs=dict(dim=16, layers=1, **({} if options.get("divergence") not in ("kl", None)
                                                              else dict(heads=2))),
                     few_label_per_class=1, knn_k=5, proj_dim=8, proj_hidden=16, out=str(tmp_path / "run"), **options)
    saved = json.loads((tmp_path / "run" / "metrics.json").read_text())
    for key in ("linear_acc", "relatedness", "tfidf_linear_acc", "tfidf_relatedness", "random_init_linear_acc",
                "random_init_relatedness", "mi_lower_bound"):
        assert np.isfinite(saved[key]), key
        assert saved[key] == pytest.approx(m[key])
    assert 0 <= saved["linear_acc"] <= 1 and -1 <= saved["relatedness"] <= 1
    assert saved["relatedness_pairs"] == 20


@pytest.mark.filterwarnings(r"ignore:You are trying to `self.log\(\)`")
def test_views_option_and_train_mode_in_both_passes(corpus_wordnet):
    splits = load_wordnet(corpus_wordnet, **SMALL)
    for views in ("dropout", "definition_example", "lemma_definition"):
        module = build_method("simclr", splits.input_shape, splits.num_classes, dataset="wordnet",
                              encoder="text_transformer", encoder_kwargs=dict(vocab_size=splits.vocab_size, dim=16,
                                                                              heads=2, layers=1),
                              augment_kwargs={"views": views})
        x = splits.x_train[:8]
        v1, v2 = module.views(x)
        if views == "lemma_definition":  # the synset's words, then its definition
            assert torch.equal(v1, x[:, 2].to(v1.dtype)) and torch.equal(v2, x[:, 0].to(v2.dtype))
        else:
            assert torch.equal(v1, x[:, 0].to(v1.dtype))
        if views == "dropout":
            assert torch.equal(v2, v1)
        elif views == "definition_example":  # the example where the synset has one
            has = (x[:, 1] != 0).any(1)
            assert has.any() and torch.equal(v2[has], x[has, 1]) and torch.equal(v2[~has], x[~has, 0])
        modes = []
        encoder = module.encoder
        encoder.embed.register_forward_hook(lambda mod, inp, out: modes.append((encoder.training, len(inp[0]))))
        module.train()
        module.training_step((x, splits.y_train[:8]), 0)
        assert modes == [(True, 16)]  # one train-mode pass over both copies: independent dropout masks


def test_pair_cosines_and_spearman_against_naive():
    rng = np.random.default_rng(0)
    f = rng.normal(size=(12, 5))
    pairs = [(0, 1), (2, 7), (3, 3), (4, 11), (5, 9), (6, 10)]
    naive = [float(f[a] @ f[b] / np.linalg.norm(f[a]) / np.linalg.norm(f[b])) for a, b in pairs]
    assert np.allclose(pair_cosines(f, pairs), naive)
    assert np.allclose(pair_cosines(sp.csr_matrix(f), pairs), naive)
    assert np.allclose(pair_cosines(torch.tensor(f), pairs), naive)
    target = rng.uniform(size=len(pairs))
    assert relatedness_spearman(f, pairs, target) == pytest.approx(spearmanr(naive, target).statistic)
    # cosines cos(t) falling with t along pairs whose target falls too: rho = 1
    ordered = [(0, 1), (2, 7), (4, 11), (5, 9), (6, 10)]
    g = np.zeros((12, 2))
    for (a, b), t in zip(ordered, np.linspace(0.1, 1.4, len(ordered))):
        g[a], g[b] = [1, 0], [np.cos(t), np.sin(t)]
    assert relatedness_spearman(g, ordered, [5, 4, 3, 2, 1]) == pytest.approx(1.0)


def test_tfidf_relatedness_against_sklearn(corpus_wordnet):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    splits = load_wordnet(corpus_wordnet, **SMALL)
    enc = torch.nn.Identity()
    out = text_metrics(enc, splits, test_feats=torch.zeros(len(splits.x_test), 2) + 1, seed=0)
    vec = TfidfVectorizer().fit(splits.texts_train)
    test = vec.transform(splits.texts_test)
    cos = [cosine_similarity(test[a], test[b])[0, 0] for a, b in splits.pairs]
    sims = [splits.graph.path_similarity(splits.keys_test[a], splits.keys_test[b]) for a, b in splits.pairs]
    assert out["tfidf_relatedness"] == pytest.approx(spearmanr(cos, sims).statistic)
    assert out["relatedness"] == 0.0  # constant features rank nothing
    assert "random_init_linear_acc" not in out  # an encoder without `config` has no random-init twin


def test_cli_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="wordnet-base"):
        pretrain(dataset="wordnet", data_dir=str(tmp_path), out=str(tmp_path / "r"))
    with pytest.raises(ValueError, match="`views` is an option of text datasets"):
        pretrain(dataset="digits", views="dropout", out=str(tmp_path / "r"))


def test_probe_reloads_the_same_tokens_and_metrics(corpus_wordnet, tmp_path):
    from infobound.methods import probe

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = pretrain(dataset="wordnet", data_dir=str(corpus_wordnet), data_kwargs=SMALL, epochs=1, batch_size=16,
                         encoder="text_cnn", encoder_kwargs=dict(dim=16, layers=0), few_label_per_class=0, knn_k=5,
                         out=str(tmp_path / "run"))
        again = probe(checkpoint=str(tmp_path / "run" / "model.ckpt"), few_label_per_class=0, knn_k=5)
    for key in ("linear_acc", "knn_acc", "relatedness", "tfidf_linear_acc"):
        assert again[key] == pytest.approx(first[key]), key


def test_tfidf_baseline_uses_the_labelled_glosses_only(corpus_wordnet):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from infobound.eval.text import TFIDF_C_GRID

    import dataclasses

    splits = load_wordnet(corpus_wordnet, num_labelled=40, **SMALL)
    rows = splits.labelled.tolist()
    wrong = splits.y_train.clone()  # labels outside the labelled rows are scrambled: they must not matter
    others = [i for i in range(len(wrong)) if i not in set(rows)]
    wrong[others] = wrong[others].roll(1)
    wrong[others] = torch.where(wrong[others] == splits.y_train[others], 0, wrong[others])
    splits = dataclasses.replace(splits, y_train=wrong, cache={})
    scrambled_all = dataclasses.replace(splits, labelled=None, cache={})
    assert text_metrics(torch.nn.Identity(), scrambled_all, test_feats=torch.randn(len(splits.x_test), 2),
                        seed=0)["tfidf_linear_acc"] < 0.9  # with the scrambled rows the baseline does notice
    out = text_metrics(torch.nn.Identity(), splits, test_feats=torch.randn(len(splits.x_test), 2), seed=0)
    vec = TfidfVectorizer().fit([splits.texts_train[i] for i in rows])
    assert out["tfidf_linear_C"] in TFIDF_C_GRID  # chosen on held-out labelled glosses (below: the test split)
    clf = LogisticRegression(C=out["tfidf_linear_C"], max_iter=1000).fit(vec.transform([splits.texts_train[i] for i in rows]),
                                                           splits.y_train[rows].numpy())
    by_hand = float((clf.predict(vec.transform(splits.texts_test)) == splits.y_test.numpy()).mean())
    assert out["tfidf_linear_acc"] == pytest.approx(by_hand) and by_hand >= 0.9


def test_tfidf_opening_words_baseline_against_sklearn_by_hand(corpus_wordnet):
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import normalize

    from infobound.eval.text import tfidf_baselines

    splits = load_wordnet(corpus_wordnet, **SMALL)
    out = tfidf_baselines(splits, opening_words=2)
    assert out["opening_words"] == 2 and "tfidf_opening_linear_acc" in out and tfidf_baselines(splits) is not out
    # by hand: the first two words as position-tagged binary columns, each row L2-normalised, beside TF-IDF
    words = CountVectorizer().build_analyzer()

    def tag(text: str) -> str:
        return " ".join(f"w{i}:{w}" for i, w in enumerate(words(text)[:2]))

    onehot = CountVectorizer(binary=True, token_pattern=r"\S+", lowercase=False).fit([tag(t) for t in splits.texts_train])
    extra = [normalize(onehot.transform([tag(t) for t in side]).astype(float)) for side in (splits.texts_train, splits.texts_test)]
    vec = TfidfVectorizer().fit(splits.texts_train)
    train = sp.hstack([vec.transform(splits.texts_train), extra[0]]).tocsr()
    test = sp.hstack([vec.transform(splits.texts_test), extra[1]]).tocsr()
    clf = LogisticRegression(C=out["tfidf_opening_linear_C"], max_iter=1000).fit(train, splits.y_train.numpy())
    assert out["tfidf_opening_linear_acc"] == pytest.approx(float((clf.predict(test) == splits.y_test.numpy()).mean()))


def _callback(**hooks):
    """A Lightning callback with the given hooks (``on_fit_start=fn(trainer, module)``, ...)."""
    import lightning as L

    return type("Hooks", (L.Callback,), {name: (lambda f: lambda self, *a: f(*a))(fn) for name, fn in hooks.items()})()


@pytest.mark.parametrize("sparse", [True, False], ids=["sparse", "dense"])
def test_text_run_resumes_exactly_and_sparse_tables_train_only_used_rows(corpus_wordnet, tmp_path, sparse):
    from infobound.methods import train_and_evaluate
    from infobound.methods.optimizers import DenseSparseAdam
    from infobound.methods.train import load_method

    splits = load_wordnet(corpus_wordnet, **SMALL)
    kw = dict(method="simclr", epochs=2, batch_size=16, encoder="text_cnn", few_label_per_class=0, knn_k=5,
              encoder_kwargs=dict(dim=16, layers=0, pooling="weighted", sparse_embeddings=sparse,
                                  vocab_size=splits.vocab_size),
              augment_kwargs={"views": "dropout"}, objective="fmicl", divergence="js", lr=3e-3)
    seen: dict = {}

    def record(trainer, module):
        seen["optimizer"] = trainer.optimizers[0]
        seen["table"] = module.encoder.embed.weight.detach().clone()

    def kill(trainer, module, batch, batch_idx):
        if trainer.current_epoch == 1 and batch_idx == 1:
            raise RuntimeError("killed on purpose")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = train_and_evaluate(splits, tmp_path / "whole", callbacks=[_callback(on_train_start=record)], **kw)
        with pytest.raises(RuntimeError, match="killed on purpose"):
            train_and_evaluate(splits, tmp_path / "killed", callbacks=[_callback(on_train_batch_start=kill)], **kw)
        resumed = train_and_evaluate(splits, tmp_path / "killed", resume=True, **kw)
    assert isinstance(seen["optimizer"], DenseSparseAdam) == sparse
    a = load_method(tmp_path / "whole" / "model.ckpt").encoder
    b = load_method(tmp_path / "killed" / "model.ckpt").encoder
    assert a.embed.sparse == sparse and all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert resumed["linear_acc"] == whole["linear_acc"]
    # the encoder's dropout is drawn from the step's seed (resume above); lazy updates: rows no training
    # definition uses keep their initial vectors under DenseSparseAdam, dense Adam's weight decay moves them
    used = torch.zeros(splits.vocab_size, dtype=torch.bool)
    used[splits.x_train[:, 0].long().flatten()] = True
    assert (~used).sum() >= 5
    moved = (a.embed.weight != seen["table"]).any(1)
    assert moved[used][1:].all() and (moved[~used].all() if not sparse else not moved[~used].any())
