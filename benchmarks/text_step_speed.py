"""CPU seconds per training step of the text bench's bag of embeddings under each Adam variant, side by side.

The encoder of ``bench text``'s preset (``text_cnn``, 0 layers, weighted pooling, 30,000 × 128 table) with
a 128 → 256 → 64 head, a batch of 256 rows (128 glosses × 2 views) of 14 tokens, a stand-in loss, one
thread; the mean over 30 steps after 5 warm-up steps. Rows: torch's default (multi-tensor) Adam,
single-tensor Adam, fused Adam (what ``adam_for`` builds), and sparse tables with ``DenseSparseAdam``.

    nice -n 10 python benchmarks/text_step_speed.py
"""

from __future__ import annotations

import time

import torch
from torch import nn

from infobound.methods.optimizers import adam_for
from infobound.models.text import TextCNN
from infobound.results import print_table


def seconds_per_step(variant: str, dim: int = 128, vocab_size: int = 30000, steps: int = 30) -> float:
    torch.manual_seed(0)
    encoder = TextCNN((3, 32), vocab_size=vocab_size, dim=dim, layers=0, dropout=0.1, token_dropout=0.3,
                      pooling="weighted", sparse_embeddings=variant == "sparse tables, DenseSparseAdam")
    model = nn.ModuleDict({"encoder": encoder, "head": nn.Sequential(nn.Linear(dim, 256), nn.BatchNorm1d(256),
                                                                   nn.ReLU(), nn.Linear(256, 64))})
    if variant in ("fused Adam (adam_for)", "sparse tables, DenseSparseAdam"):
        opt = adam_for(model, 3e-3)
    else:
        opt = torch.optim.Adam(model.parameters(), 3e-3, foreach=variant == "default Adam (multi-tensor)")
    x = torch.randint(1, vocab_size, (256, 3, 32))
    x[:, :, 14:] = 0

    def step() -> None:
        loss = (model["head"](encoder(x)) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(5):
        step()
    start = time.process_time()
    for _ in range(steps):
        step()
    return (time.process_time() - start) / steps


def main() -> None:
    torch.set_num_threads(1)
    variants = ("default Adam (multi-tensor)", "single-tensor Adam", "fused Adam (adam_for)",
                "sparse tables, DenseSparseAdam")
    rows = [{"optimiser": v, "CPU s / step": seconds_per_step(v)} for v in variants]
    for row in rows:
        row["vs default"] = rows[0]["CPU s / step"] / row["CPU s / step"]
    print_table(rows, precision=4)


if __name__ == "__main__":
    main()
