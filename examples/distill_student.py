"""Distil a teacher into a student with ML-CPC + KD, in Python (the CLI: ``infobound distill``).

Trains a 1-D CNN teacher on MNIST-1D (generated locally), then a small MLP student three ways:
alone, with KD, and with ML-CPC over CRD's memory banks plus KD; prints the test accuracies.

    python examples/distill_student.py          # a few CPU-minutes; INFOBOUND_EXAMPLE_TINY=1: seconds

Your own models: any ``infobound.models.zoo`` name, or see docs/distill.md for the losses
(:class:`infobound.distill.KDLoss`, :class:`infobound.distill.MemoryContrastLoss`) in your own loop.
"""

import os

import torch

from infobound.data import load_dataset
from infobound.distill import DistillConfig, TrainConfig, distill_student, train_teacher

TINY = os.environ.get("INFOBOUND_EXAMPLE_TINY") == "1"
torch.set_num_threads(1)

data = load_dataset("mnist1d", num_samples=600 if TINY else 10_000, seed=0)
epochs = 1 if TINY else 10
train = TrainConfig(epochs=epochs, batch_size=64, lr=0.05, seed=0)

teacher, meta = train_teacher("cnn1d_large", data, train, log=None)
print(f"teacher cnn1d_large: test accuracy {meta['test_acc']:.3f}")

for method in ("student", "kd", "ml_cpc+kd"):
    # nce_k negatives per sample from the memory bank (CRD uses 16,384 on CIFAR-100); alpha is ML-CPC's α.
    config = DistillConfig(method=method, nce_k=256 if TINY else 1024, alpha=1.0)
    result = distill_student("mlp_small", teacher, data, train, config, log=None)
    print(f"student mlp_small, {method:10s}: test accuracy {result.test_acc:.3f}")
