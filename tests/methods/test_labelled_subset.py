"""The semi-supervised protocol (DatasetSplits.labelled): pre-train on every train input, fit probes on the
labelled rows only, and keep the other rows' labels away from the online probe."""

import dataclasses

import lightning as L
import pytest
import torch

from infobound.data import load_dataset
from infobound.eval import extract_features, linear_probe
from infobound.methods import build_method, train_and_evaluate
from infobound.methods.train import evaluate


@pytest.fixture(scope="module")
def tiny():
    return load_dataset("mnist1d", num_samples=400, seed=0)  # 320 train / 80 test


def test_labelled_must_be_sorted_distinct_indices(tiny):
    for bad in (torch.tensor([0]), torch.tensor([3, 1]), torch.tensor([1, 1, 2]), torch.tensor([0, 320]),
                torch.tensor([-1, 2]), torch.tensor([0.0, 1.0]), torch.tensor([[0, 1]])):
        with pytest.raises(ValueError, match="labelled"):
            dataclasses.replace(tiny, labelled=bad)
    ok = dataclasses.replace(tiny, labelled=torch.tensor([2, 5, 9]))
    x, y = ok.labelled_train()
    assert torch.equal(x, tiny.x_train[[2, 5, 9]]) and torch.equal(y, tiny.y_train[[2, 5, 9]])
    seen = ok.training_labels()
    assert torch.equal(seen[[2, 5, 9]], tiny.y_train[[2, 5, 9]]) and int((seen == -1).sum()) == 317


def test_evaluation_probes_the_labelled_rows_only(tiny):
    """Labels outside ``labelled`` are scrambled: the probe must not notice, and must equal a probe fit by hand
    on the labelled rows' features."""
    labelled = torch.arange(0, 320, 2)
    scrambled = tiny.y_train.clone()
    scrambled[1::2] = (scrambled[1::2] + 3) % 10
    splits = dataclasses.replace(tiny, y_train=scrambled, labelled=labelled)
    L.seed_everything(0, verbose=False)
    encoder = build_method("simclr", tiny.input_shape, 10).encoder.eval()
    got = evaluate(encoder, splits, few_label_per_class=0)
    by_hand = linear_probe(extract_features(encoder, tiny.x_train[labelled]), tiny.y_train[labelled],
                           extract_features(encoder, tiny.x_test), tiny.y_test)
    assert got["linear_acc"] == pytest.approx(by_hand)
    everything = evaluate(encoder, dataclasses.replace(tiny, y_train=scrambled), few_label_per_class=0)
    assert everything["linear_acc"] != pytest.approx(by_hand)  # the scrambled labels do matter when used


def test_online_probe_ignores_unlabelled_rows(tiny):
    L.seed_everything(0, verbose=False)
    method = build_method("simclr", tiny.input_shape, 10, proj_hidden=32, proj_dim=16).train()
    logged = {}
    method.log_dict = lambda d, **k: logged.update(d)
    method.log = lambda *a, **k: None  # no trainer attached
    x = tiny.x_train[:48]
    loss = method.training_step((x, torch.full((48,), -1)), 0)
    loss.backward()
    assert torch.isfinite(loss) and "train/probe_loss" not in logged
    assert method.probe.weight.grad is None  # no label, no probe gradient (and no NaN from an empty mean)
    y = torch.full((48,), -1)
    y[:5] = tiny.y_train[:5]
    method.zero_grad()
    method.training_step((x, y), 0).backward()
    assert method.probe.weight.grad is not None and "train/probe_loss" in logged


def test_a_run_with_a_labelled_subset_trains_on_every_row(tiny, tmp_path):
    splits = dataclasses.replace(tiny, labelled=torch.arange(0, 320, 4))
    m = train_and_evaluate(splits, tmp_path, epochs=1, batch_size=64, few_label_per_class=2, proj_hidden=32,
                           proj_dim=16)
    assert 0.0 <= m["linear_acc"] <= 1.0 and m["few_label_acc"] >= 0.0
    import csv

    rows = list(csv.DictReader((tmp_path / "logs" / "metrics.csv").open()))
    steps = [r for r in rows if r["train/mi_nats_step"]]
    assert len(steps) == 5  # 320 rows / 64: five steps, the unlabelled rows included
    assert any(r["train/probe_loss"] for r in rows)  # the labelled quarter reached the online probe
