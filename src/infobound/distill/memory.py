"""Memory banks over a whole training set and vectorised negative sampling (CRD, Tian et al. 2020).

A :class:`MemoryBank` keeps one unit vector per training sample. After each step the rows of the
batch move towards the new features, ``m_i ← normalise(μ m_i + (1 − μ) v_i)`` (μ = 0.5 in CRD), so
the bank is a slowly moving, nearly free set of negatives. A :class:`NegativeSampler` draws K
negative indices per anchor in one tensor operation (no Python loop over samples), always excluding
the anchor itself:

- ``"uniform"``: uniform over the N − 1 other samples;
- ``"other_class"``: uniform over the samples of other classes (the official CRD code's default,
  mode "exact").

Both sample *with* replacement (the official code samples without replacement when it can; with
K ≪ N the difference is negligible, and with-replacement sampling is what vectorises).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
from torch import Tensor, nn

SamplingMode = Literal["uniform", "other_class"]


def check_indices(index: Tensor, size: int, name: str = "index") -> Tensor:
    """Validate sample indices: an integer tensor [n] with every value in [0, size)."""
    if not isinstance(index, Tensor) or index.dtype not in (torch.int64, torch.int32, torch.int16, torch.uint8):
        raise TypeError(f"`{name}` must be an integer tensor of sample indices, got "
                        f"{type(index).__name__ if not isinstance(index, Tensor) else index.dtype}")
    if index.dim() != 1:
        raise ValueError(f"`{name}` must have shape [n], got {tuple(index.shape)}")
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= size):
        raise IndexError(f"`{name}` holds values in [{int(index.min())}, {int(index.max())}], outside [0, {size}) "
                         f"(the memory bank has one slot per training sample; is the dataset the one it was built for?)")
    return index.long()


class MemoryBank(nn.Module):
    """One feature slot per training sample, updated by momentum and re-normalised to unit length.

    Args:
        size: number of training samples N.
        dim: feature size d.
        momentum: μ in ``m_i ← normalise(μ m_i + (1 − μ) v_i)``; 0 replaces, 1 freezes.
        generator: seeds the initial contents (CRD's uniform(−s, s), s = 1/sqrt(d/3): unnormalised rows
            of expected squared norm 1 until their first update).
    """

    memory: Tensor

    def __init__(self, size: int, dim: int, momentum: float = 0.5, generator: torch.Generator | None = None) -> None:
        super().__init__()
        if size < 2 or dim < 1:
            raise ValueError(f"a memory bank needs size >= 2 and dim >= 1, got size = {size}, dim = {dim}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"`momentum` must lie in [0, 1], got {momentum}")
        self.size, self.dim, self.momentum = int(size), int(dim), float(momentum)
        std = 1.0 / math.sqrt(dim / 3.0)
        self.register_buffer("memory", (torch.rand(size, dim, generator=generator) * 2 - 1) * std)

    def _check(self, index: Tensor, features: Tensor | None = None) -> Tensor:
        index = check_indices(index, self.size)
        if features is not None:
            if features.dim() != 2 or features.shape[1] != self.dim:
                raise ValueError(f"features must have shape [n, {self.dim}] to fit this memory bank, got {tuple(features.shape)}")
            if features.shape[0] != index.shape[0]:
                raise ValueError(f"{features.shape[0]} feature rows but {index.shape[0]} indices")
        return index

    def scores(self, anchors: Tensor, index: Tensor) -> Tensor:
        """``anchors[a] · memory[index[a, j]]`` for anchors [n, d] and indices [n, k] → [n, k].

        Gradients flow to ``anchors`` only (the bank is a buffer). Computed as one matmul against the
        whole bank followed by a gather of scores, unless k is tiny next to N (k < N/32): gathering
        n·k rows is memory-bound and measured 8–30× slower than the matmul on CPU for k ≥ N/8
        (N = 8,000 and 50,000; CRD's 64 × 16,385 draws from 50,000 slots: 5.2 s vs 0.25 s per step).
        """
        if anchors.dim() != 2 or anchors.shape[1] != self.dim:
            raise ValueError(f"anchors must have shape [n, {self.dim}] to fit this memory bank, got {tuple(anchors.shape)}")
        if index.dim() != 2 or index.shape[0] != anchors.shape[0]:
            raise ValueError(f"index must have shape [n = {anchors.shape[0]}, k], got {tuple(index.shape)}")
        check_indices(index.reshape(-1), self.size)
        if index.shape[1] * 32 < self.size:
            rows = self.memory[index].to(anchors.dtype)  # [n, k, d], a copy
            return torch.bmm(rows, anchors.unsqueeze(2)).squeeze(2)
        # A copy, because autograd keeps the bank for the backward pass and update() writes in place.
        bank = self.memory.to(anchors.dtype, copy=True)
        return (anchors @ bank.T).gather(1, index)

    @torch.no_grad()
    def update(self, index: Tensor, features: Tensor) -> None:
        """Momentum-update and re-normalise the slots ``index`` with ``features`` [n, d] (detached).

        A batch that repeats an index updates that slot once, with the features of its last occurrence.
        """
        index = self._check(index, features)
        mixed = self.memory[index] * self.momentum + features.detach().to(self.memory.dtype) * (1.0 - self.momentum)
        self.memory.index_copy_(0, index, mixed / mixed.norm(dim=1, keepdim=True).clamp_min(1e-12))


class NegativeSampler:
    """Draw ``k`` negative sample indices per anchor, never the anchor itself, in one tensor operation.

    Args:
        labels: int64 [N] class of every training sample (needed for ``"other_class"``; optional for
            ``"uniform"``, where ``size`` suffices).
        mode: ``"uniform"`` or ``"other_class"`` (see the module docstring).
        size: N when no labels are given.
    """

    def __init__(self, labels: Tensor | None = None, mode: SamplingMode = "other_class", size: int | None = None) -> None:
        if mode not in ("uniform", "other_class"):
            raise ValueError(f"`mode` must be 'uniform' or 'other_class', got {mode!r}")
        if labels is None:
            if mode == "other_class":
                raise ValueError("mode 'other_class' needs the training labels")
            if size is None or size < 2:
                raise ValueError(f"give `labels` or a `size` >= 2, got size = {size}")
            self.size = int(size)
        else:
            if labels.dim() != 1:
                raise ValueError(f"`labels` must have shape [N], got {tuple(labels.shape)}")
            self.size = labels.shape[0]
            if size is not None and size != self.size:
                raise ValueError(f"`size` = {size} disagrees with {self.size} labels")
        self.mode = mode
        self.labels = None if labels is None else labels.long().cpu()
        self._device_tables: tuple[Tensor, ...] | None = None
        if mode == "other_class":
            assert self.labels is not None
            if int(self.labels.min()) < 0:
                raise ValueError("`labels` must be non-negative class indices")
            # Sort samples by class: the samples not of class c are order[:start_c] ++ order[end_c:].
            self.order = torch.argsort(self.labels, stable=True)
            counts = torch.bincount(self.labels)
            self.start = torch.cumsum(counts, 0) - counts
            self.count = counts
            if int((self.size - counts[self.labels]).min()) < 1:
                raise ValueError("mode 'other_class' needs at least two classes in the training labels")
        elif self.size < 2:
            raise ValueError("need at least 2 samples to draw negatives")

    def __call__(self, index: Tensor, k: int, generator: torch.Generator | None = None) -> Tensor:
        """Negative indices [n, k] for the anchors ``index`` [n]."""
        if int(k) < 1:
            raise ValueError(f"`k` (negatives per sample) must be >= 1, got {k}")
        index = check_indices(index, self.size)
        n, device = index.shape[0], index.device
        u = torch.rand(n, int(k), generator=generator, device=generator.device if generator is not None else device)
        u = u.to(device)
        if self.mode == "uniform":
            # uniform on the N − 1 others: draw r in [0, N − 1) and skip over the anchor's own slot.
            r = (u * (self.size - 1)).long().clamp_max(self.size - 2)
            return r + (r >= index.unsqueeze(1)).long()
        labels, start, count, order = self._tables(device)
        labels = labels[index]
        start, count = start[labels], count[labels]
        pool = (self.size - count).unsqueeze(1)  # samples of other classes, per anchor
        r = (u * pool).long().clamp_max(pool - 1)
        position = r + (r >= start.unsqueeze(1)).long() * count.unsqueeze(1)  # skip the anchor's class block
        return order[position]

    def _tables(self, device: torch.device) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """(labels, class start, class count, class-sorted order) on ``device``, copied there once."""
        if self._device_tables is None or self._device_tables[0].device != device:
            assert self.labels is not None
            self._device_tables = tuple(t.to(device) for t in (self.labels, self.start, self.count, self.order))
        return self._device_tables  # type: ignore[return-value]
