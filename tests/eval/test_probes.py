"""Probes on separable toy data: they score well where the classes are separable and at chance where not."""

import numpy as np
import pytest
import torch

from infobound.eval import (evaluate_features, extract_features, few_label_probe, holdout_split, knn_accuracy, linear_probe,
                            select_by_validation, tuned_linear_probe)


def _blobs(n, dim=8, classes=4, spread=0.3, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(classes, dim)) * 3
    y = rng.integers(0, classes, n)
    return centres[y] + spread * rng.normal(size=(n, dim)), y


def test_probes_on_separable_blobs():
    x, y = _blobs(600)
    xtr, ytr, xte, yte = x[:400], y[:400], x[400:], y[400:]
    assert linear_probe(xtr, ytr, xte, yte) == 1.0
    assert knn_accuracy(torch.tensor(xtr), torch.tensor(ytr), torch.tensor(xte), torch.tensor(yte), k=5) == 1.0
    mean, std = few_label_probe(xtr, ytr, xte, yte, per_class=2, repeats=3)
    assert mean > 0.95 and std >= 0.0
    report = evaluate_features(xtr, ytr, xte, yte, few_label_per_class=1, few_label_repeats=2)
    assert set(report) == {"linear_acc", "knn_acc", "few_label_acc", "few_label_std"}


def test_probes_are_at_chance_on_random_labels():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(800, 8)), rng.integers(0, 4, 800)
    assert abs(linear_probe(x[:600], y[:600], x[600:], y[600:]) - 0.25) < 0.12
    assert abs(knn_accuracy(x[:600], y[:600], x[600:], y[600:]) - 0.25) < 0.12


def test_tuned_probe_chooses_strong_regularisation_where_it_pays_and_never_looks_at_the_test_split():
    # 2 informative dimensions among 300, 300 train rows: C = 1 fits the noise (0.575), C = 0.01 does not (0.599)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 1300)
    x = rng.normal(size=(1300, 300))
    x[:, :2] += np.array([[1.4, 0.0], [0.0, 1.4], [-1.4, -1.4]])[y]
    xtr, ytr, xte, yte = x[:300], y[:300], x[300:], y[300:]
    grid = (0.001, 0.01, 0.1, 1.0, 10.0)
    acc, C = tuned_linear_probe(xtr, ytr, xte, yte, grid=grid)
    at_one = linear_probe(xtr, ytr, xte, yte, C=1.0)
    assert C < 1.0 and acc > at_one + 0.015 and acc == linear_probe(xtr, ytr, xte, yte, C=C)
    # scrambling the test labels changes the score, never the choice
    assert tuned_linear_probe(xtr, ytr, xte, rng.permutation(yte), grid=grid)[1] == C
    report = evaluate_features(xtr, ytr, xte, yte, probe_C=grid)
    assert report["linear_C"] == C and report["linear_acc"] == acc
    assert "linear_C" not in evaluate_features(xtr, ytr, xte, yte)  # a fixed C reports nothing to choose


def test_holdout_split_is_stratified_and_disjoint():
    y = np.repeat(np.arange(4), [50, 30, 15, 5])
    fit, val = holdout_split(y, 0.2, seed=1)
    assert len(np.intersect1d(fit, val)) == 0 and len(fit) + len(val) == len(y)
    assert [int((y[val] == c).sum()) for c in range(4)] == [10, 6, 3, 1]
    assert len(holdout_split(np.array([0, 0, 0, 1, 1, 2]), 0.5)[1]) == 3  # a singleton class: a plain split
    with pytest.raises(ValueError, match="fraction"):
        holdout_split(y, 1.5)


def test_select_by_validation_breaks_ties_toward_the_first_grid_value():
    best, scores = select_by_validation(lambda c: {0.1: 0.5, 1.0: 0.7, 10.0: 0.7}[c], (0.1, 1.0, 10.0))
    assert best == 1.0 and scores == {0.1: 0.5, 1.0: 0.7, 10.0: 0.7}
    with pytest.raises(ValueError, match="empty"):
        select_by_validation(lambda c: 0.0, ())


def test_knn_uses_cosine_similarity():
    # Same direction, very different norms: cosine kNN ignores the norm.
    xtr = np.array([[1.0, 0.0], [100.0, 0.0], [0.0, 1.0], [0.0, 50.0]])
    ytr = np.array([0, 0, 1, 1])
    assert knn_accuracy(xtr, ytr, np.array([[0.01, 0.0], [0.0, 9.0]]), np.array([0, 1]), k=2) == 1.0


def test_bad_inputs():
    with pytest.raises(ValueError, match="length"):
        linear_probe(np.zeros((3, 2)), np.zeros(2), np.zeros((2, 2)), np.zeros(2))
    with pytest.raises(ValueError, match="width"):
        knn_accuracy(np.zeros((3, 2)), np.zeros(3), np.zeros((2, 3)), np.zeros(2))
    with pytest.raises(ValueError, match="NaN"):
        knn_accuracy(np.full((3, 2), np.nan), np.zeros(3), np.zeros((2, 2)), np.zeros(2))
    with pytest.raises(ValueError):
        few_label_probe(np.zeros((3, 2)), np.zeros(3), np.zeros((2, 2)), np.zeros(2), per_class=0)


def test_extract_features_batches_and_restores_mode():
    enc = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(4, 3))
    enc.train()
    x = torch.randint(0, 256, (10, 1, 2, 2), dtype=torch.uint8)
    feats = extract_features(enc, x, batch_size=3)
    assert feats.shape == (10, 3) and enc.training
    assert torch.allclose(feats, enc(x.float() / 255).detach())
