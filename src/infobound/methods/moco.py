"""MoCo v2 (He et al. 2020; Chen et al. 2020): momentum key encoder and a queue of K negatives.

The loss is symmetrised (each view is the query once, the other view's momentum key its positive),
as in solo-learn's ``mocov2plus``: one encoder pass over both views serves both directions. The
objective is a queue objective (:func:`infobound.losses.build_queue_objective`): ``infonce`` or
``ml_cpc``, the latter in the explicit positives/negatives form of the core library (log α on the
positives, log β on the negatives, one softmax over all N(K+1) logits). Keys of both views enter
the queue after each step (gathered from all ranks under DDP). The key encoder uses plain batch
norm (no shuffle-BN across devices).
"""

from __future__ import annotations

import copy
from typing import Any, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from infobound import distributed, losses

from .base import ContrastiveMethod


class MoCo(ContrastiveMethod):
    """MoCo v2 with a symmetrised loss.

    Args:
        queue_size: K, the number of queued negative keys.
        momentum: m of the key encoder's exponential moving average (θ_k ← m θ_k + (1 − m) θ_q).
        **kwargs: as :class:`~infobound.methods.base.ContrastiveMethod` (objective ``infonce`` or ``ml_cpc``).
    """

    name = "moco"

    def __init__(self, input_shape: Sequence[int], num_classes: int, queue_size: int = 2048, momentum: float = 0.99,
                 **kwargs: Any) -> None:
        if queue_size < 1 or not 0.0 <= momentum < 1.0:
            raise ValueError(f"need queue_size >= 1 and momentum in [0, 1), got {queue_size}, {momentum}")
        super().__init__(input_shape, num_classes, **kwargs)
        self.save_hyperparameters()
        self.key_encoder = copy.deepcopy(self.encoder).requires_grad_(False)
        self.key_projector = copy.deepcopy(self.projector).requires_grad_(False)
        self.register_buffer("queue", F.normalize(torch.randn(queue_size, self.projector.out_dim), dim=1))
        self.register_buffer("queue_ptr", torch.zeros((), dtype=torch.long))

    def build_objective(self, name: str, kwargs: dict[str, Any]) -> None:
        self.objective = losses.build_queue_objective(name, **kwargs)

    @torch.no_grad()
    def _momentum_update(self) -> None:
        m = self.hparams.momentum
        for online, key in ((self.encoder, self.key_encoder), (self.projector, self.key_projector)):
            for p_q, p_k in zip(online.parameters(), key.parameters()):
                p_k.mul_(m).add_(p_q.detach(), alpha=1.0 - m)

    @torch.no_grad()
    def _enqueue(self, keys: Tensor) -> None:
        keys = distributed.gather_with_grad(keys)  # all ranks' keys, in rank order (identity in one process)
        size, ptr = len(self.queue), int(self.queue_ptr)
        keys = keys[-size:]
        self.queue[(ptr + torch.arange(len(keys), device=keys.device)) % size] = keys
        self.queue_ptr.fill_((ptr + len(keys)) % size)

    def contrastive(self, h: Tensor, v1: Tensor, v2: Tensor, progress: float) -> losses.ContrastiveOutput:
        q1, q2 = F.normalize(self.projector(h), dim=1).chunk(2)
        self._momentum_update()
        with torch.no_grad():
            k1, k2 = F.normalize(self.key_projector(self.key_encoder(torch.cat([v1, v2]))), dim=1).chunk(2)
        queue = self.queue.clone()
        a = self.objective(q1, k2, queue, progress=progress)
        b = self.objective(q2, k1, queue, progress=progress)
        self._enqueue(torch.cat([k1, k2]))
        return losses.ContrastiveOutput(loss=0.5 * (a.loss + b.loss),
                                        mi_lower_bound=0.5 * (a.mi_lower_bound + b.mi_lower_bound), ceiling=a.ceiling)
