"""Gathering across processes with gradients, for contrastive losses under DDP.

Contrastive losses need every rank's samples as negatives. :func:`gather_with_grad` concatenates
the rows of a tensor from all ranks (in rank order) and, on the way back, hands each rank the SUM
over ranks of the gradients that reached its own rows. With DistributedDataParallel averaging the
parameter gradients over the W ranks, the update is then the gradient of ``(1/W) Σ_r L_r``; so:

* if every rank computes the *global* loss on the gathered batch (what :mod:`infobound.losses`
  does: the same value on every rank), the update equals the single-process update on the
  concatenated batch, single normalisers (ML-CPC) included;
* if rank r computes a *local share* L_r (its own anchors against gathered candidates), the shares
  must average to the global loss.

Outside an initialised process group (or with one process) every function here is the identity,
so the same loss code runs in a plain single-process loop. Ranks may hold different numbers of
rows; they are padded for the collective and cut back afterwards.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.distributed as dist
from torch import Tensor


def is_distributed() -> bool:
    """True inside an initialised process group with more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world_size() -> int:
    """Number of processes (1 outside a process group)."""
    return dist.get_world_size() if is_distributed() else 1


def rank() -> int:
    """This process's rank (0 outside a process group)."""
    return dist.get_rank() if is_distributed() else 0


def _row_counts(t: Tensor) -> list[int]:
    local = torch.tensor([t.shape[0]], dtype=torch.long, device=t.device)
    counts = [torch.zeros_like(local) for _ in range(dist.get_world_size())]
    dist.all_gather(counts, local)
    return [int(c) for c in counts]


class _GatherRows(torch.autograd.Function):
    """all_gather along dim 0 whose backward sums the gradients of all ranks and keeps this rank's rows."""

    @staticmethod
    def forward(ctx: Any, t: Tensor, counts: list[int], offset: int) -> Tensor:
        ctx.rows = (offset, offset + t.shape[0])
        longest = max(counts)
        padded = t.contiguous()
        if t.shape[0] < longest:
            padded = torch.cat([padded, padded.new_zeros((longest - t.shape[0], *t.shape[1:]))])
        parts = [torch.empty_like(padded) for _ in counts]
        dist.all_gather(parts, padded)
        return torch.cat([part[:count] for part, count in zip(parts, counts)])

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        total = grad.contiguous().clone()  # all_reduce works in place; the incoming gradient is not ours to change
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        start, stop = ctx.rows
        return total[start:stop], None, None


def gather_with_grad(t: Tensor) -> Tensor:
    """all_gather along dim 0 that lets gradients flow back to each rank's own slice.

    The backward pass sums, over ranks, the gradients that reached this rank's rows (see the module
    docstring for what that means under DDP).

    Args:
        t: [n_r, ...] this rank's rows (n_r may differ between ranks).

    Returns:
        [Σ_r n_r, ...] all ranks' rows in rank order; ``t`` itself outside a process group.
    """
    if not is_distributed():
        return t
    if t.dim() == 0:
        raise ValueError("gather_with_grad needs a tensor with a leading (batch) dimension, got a 0-dim tensor")
    counts = _row_counts(t)
    return _GatherRows.apply(t, counts, sum(counts[: dist.get_rank()]))


__all__ = ["gather_with_grad", "is_distributed", "rank", "world_size"]
