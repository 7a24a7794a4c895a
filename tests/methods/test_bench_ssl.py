"""bench ssl: the tag transfer construction and a tiny end-to-end bench (one config per part, one epoch)."""

import json

import torch

from infobound.bench import ssl
from infobound.data import load_dataset


def test_tagged_splits_and_tag_swap_views():
    data = load_dataset("mnist1d", num_samples=200, seed=0)
    source, transfer = ssl.tagged_splits(data, seed=0)
    assert source.x_train.shape == (160, 40 + ssl.TAG_LENGTH) and torch.equal(source.y_train, data.y_train)
    assert transfer.num_classes == 40 and torch.equal(transfer.y_train // ssl.NUM_TAGS, data.y_train)
    tags = transfer.y_train % ssl.NUM_TAGS
    assert torch.equal(source.x_train[:, 40:], ssl.tag_patterns()[tags])  # the clean input carries its own tag
    aug = ssl.TagSwapAugment(max_shift=0, scale=(1, 1), noise=0, mask_fraction=0, shear=0)
    view = aug(source.x_train, torch.Generator().manual_seed(0))
    assert torch.equal(view[:, :40], source.x_train[:, :40])
    view_tags = (view[:, 40:] @ ssl.tag_patterns().T).argmax(1)
    assert (view_tags == tags).float().mean() < 0.45  # a fresh random tag: agrees with the true one ~1/4 of the time
    assert len(set(view_tags.tolist())) == ssl.NUM_TAGS


def test_every_row_gets_the_same_budget():
    """Rows differ only in method / objective / regulariser / named encoder, never in training budget."""
    budget = {"epochs", "batch_size", "lr", "weight_decay", "lr_schedule", "proj_dim", "proj_hidden"}
    for _, _, options in ssl.OBJECTIVES + ssl.INFOCL:
        assert not budget & set(options), options
    assert {m for _, m, _ in ssl.OBJECTIVES} >= {"simclr", "moco", "mocov3", "byol", "barlow_twins"}
    assert {(m, o["regularizer"]) for _, m, o in ssl.INFOCL} == {
        (m, r) for m in ("simclr", "byol", "barlow_twins") for r in ("none", "rc", "lbe")}


def test_tiny_bench_writes_tables_json_and_png(tmp_path, capsys):
    results = ssl.main(epochs=1, seeds=1, batch_size=64, num_samples=400, workers=1, loss_speed=False,
                       configs=["InfoNCE (NT-Xent)", "InfoCL · BYOL · lbe"], out=tmp_path)
    assert [s["config"] for s in results["objectives"]] == ["SimCLR · InfoNCE (NT-Xent)"]
    assert [s["config"] for s in results["infocl"]] == ["InfoCL · BYOL · lbe"]
    assert all(r["error"] is None for r in results["runs"]), results["runs"]
    assert results["infocl"][0]["transfer_linear_acc"] is not None
    for name in ("ssl.json", "ssl.md", "ssl.png"):
        assert (tmp_path / name).exists()
    assert "transfer linear" in capsys.readouterr().out
    saved = json.loads((tmp_path / "ssl.json").read_text())
    assert saved["objectives"][0]["linear_acc"] == results["objectives"][0]["linear_acc"]
    again = ssl.main(epochs=1, seeds=1, batch_size=64, num_samples=400, workers=1, loss_speed=False,
                     configs=["InfoNCE (NT-Xent)"], parts=["objectives"], out=tmp_path)  # reuses the finished run
    assert again["runs"][0]["linear_acc"] == results["runs"][0]["linear_acc"]
