r"""MoCo-style objectives over a queue of K negatives: InfoNCE and ML-CPC.

``forward(query [n, d], key [n, d], queue [K, d], progress=None)``: each query's positive is its
key (``q_i·k_i/τ``) and its negatives are the K queue entries (``q_i·queue_j/τ``), so m = K + 1
candidates per query. ML-CPC uses :func:`infobound.bounds.ml_cpc_explicit`: log α on the
positives, log β = log((m−α)/(m−1)) on the negatives, ONE softmax over all n·(K+1) logits.

Under DDP queries and keys are gathered from all ranks and every rank computes the objective on
the global batch against its queue (MoCo keeps the same queue on every rank by enqueuing the
gathered keys), so the ML-CPC normaliser is global and the update equals the single-process one
on the concatenated batch.
"""

from __future__ import annotations

import math

import torch.nn.functional as F
from torch import Tensor, nn

from .. import bounds
from .base import Alpha, AlphaSpec, ContrastiveOutput
from .contrastive import gather_pair


def _queue_logits(query: Tensor, key: Tensor, queue: Tensor, temperature: float,
                  normalize: bool) -> tuple[Tensor, Tensor]:
    """Positive logits [N] and queue logits [N, K] of the (gathered) queries."""
    if not isinstance(queue, Tensor) or not queue.is_floating_point() or queue.dim() != 2:
        raise ValueError(f"`queue` must be a floating-point [K, d] tensor, got "
                         f"{tuple(queue.shape) if isinstance(queue, Tensor) else type(queue).__name__}")
    if queue.shape[1] != query.shape[1] or queue.shape[0] < 1:
        raise ValueError(f"`queue` must have shape [K >= 1, d = {query.shape[1]}], got {tuple(queue.shape)}")
    query, key = gather_pair(query, key, names=("query", "key"))
    if normalize:
        query, key, queue = F.normalize(query, dim=1), F.normalize(key, dim=1), F.normalize(queue, dim=1)
    return (query * key).sum(dim=1) / temperature, query @ queue.t() / temperature


class _QueueObjective(nn.Module):
    def __init__(self, temperature: float, normalize: bool) -> None:
        super().__init__()
        if not (temperature > 0 and math.isfinite(temperature)):
            raise ValueError(f"`temperature` must be a finite number > 0, got {temperature}")
        self.temperature, self.normalize = float(temperature), normalize


class QueueInfoNCELoss(_QueueObjective):
    r"""MoCo's InfoNCE: cross-entropy of the key among the key and the K queue entries.

    ``loss = log(K+1) − I_NCE`` (the usual MoCo cross-entropy), ``mi_lower_bound = I_NCE`` ≤ log(K+1).

    Args:
        temperature: τ (MoCo v2: 0.2).
        normalize: L2-normalise query, key and queue first (MoCo's encoders already do).
    """

    def __init__(self, temperature: float = 0.2, normalize: bool = True) -> None:
        super().__init__(temperature, normalize)

    def forward(self, query: Tensor, key: Tensor, queue: Tensor, progress: float | None = None) -> ContrastiveOutput:
        positives, negatives = _queue_logits(query, key, queue, self.temperature, self.normalize)
        bound = bounds.infonce_explicit(positives, negatives)
        ceiling = math.log(negatives.shape[1] + 1)
        return ContrastiveOutput(ceiling - bound, bound.detach(), ceiling)


class QueueMLCPCLoss(_QueueObjective):
    r"""ML-CPC over a queue (Song & Ermon 2020, their MoCo runs).

    ``mi_lower_bound = I_ML`` from ``bounds.ml_cpc_explicit`` (ceiling log((K+1)/α)) and
    ``loss = (log((K+1)/α) − I_ML) / α``: the official code's KL between the softmax over all
    N(K+1) logits (log α on positives, log β on negatives) and the target with mass 1/N on each
    positive, divided by α (``divide_by_alpha=False`` drops the division).

    Args:
        alpha: a number, ``(start, end)`` or ``"geometric"`` (10 → 0.1, the official runs), or a
            callable ``progress -> α``. Needs 0 < α ≤ K + 1.
        temperature: τ (MoCo v2: 0.2).
        normalize: L2-normalise query, key and queue first.
        divide_by_alpha: divide the KL by α as the official code does.
    """

    def __init__(self, alpha: AlphaSpec = 1.0, temperature: float = 0.2, normalize: bool = True,
                 divide_by_alpha: bool = True) -> None:
        super().__init__(temperature, normalize)
        self.alpha, self.divide_by_alpha = Alpha(alpha), divide_by_alpha

    def forward(self, query: Tensor, key: Tensor, queue: Tensor, progress: float | None = None) -> ContrastiveOutput:
        alpha = self.alpha(progress)
        positives, negatives = _queue_logits(query, key, queue, self.temperature, self.normalize)
        bound = bounds.ml_cpc_explicit(positives, negatives, alpha=alpha)
        ceiling = math.log((negatives.shape[1] + 1) / alpha)
        loss = ceiling - bound
        return ContrastiveOutput(loss / alpha if self.divide_by_alpha else loss, bound.detach(), ceiling)


__all__ = ["QueueInfoNCELoss", "QueueMLCPCLoss"]
