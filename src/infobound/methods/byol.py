"""BYOL (Grill et al., NeurIPS 2020): an online network predicts a slowly moving target network's projection."""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import Tensor

from infobound import losses

from .base import ContrastiveMethod
from .momentum import check_momentum, cosine_momentum, ema_update, predictor_and_target


class BYOL(ContrastiveMethod):
    r"""BYOL over the shared base (same probes, checkpoints, DDP, RC/LBE).

    The online encoder → projector → predictor ``q`` regresses the target encoder → projector of the
    other view; loss = ‖q̂(v1) − t̂(v2)‖² + ‖q̂(v2) − t̂(v1)‖² (the paper's L + L̃, each the batch mean
    of 2 − 2 cos). The target is an exponential moving average of the online encoder and projector
    with the momentum raised from ``momentum`` to 1 along a cosine over training. InfoCL's RC/LBE act
    on the online representation h, as in InfoCL's BYOL code.

    Args:
        momentum: the base τ of the target's moving average (BYOL: 0.996 for long runs; 0.99 here).
        pred_hidden: hidden width of the predictor (default: ``proj_hidden``).
        **kwargs: as :class:`~infobound.methods.base.ContrastiveMethod`; ``objective`` must be omitted
            (or ``byol``): BYOL has no negatives and no other objective.
    """

    name = "byol"
    default_objective = "byol"

    def __init__(self, input_shape: Sequence[int], num_classes: int, momentum: float = 0.99,
                 pred_hidden: int | None = None, **kwargs: Any) -> None:
        check_momentum(momentum)
        super().__init__(input_shape, num_classes, **kwargs)
        self.save_hyperparameters()
        self.predictor, self.target_encoder, self.target_projector = predictor_and_target(
            self.encoder, self.projector, pred_hidden or self.hparams.proj_hidden)

    def build_objective(self, name: str, kwargs: dict[str, Any]) -> None:
        if name != "byol" or kwargs.get("temperature") is not None:
            raise ValueError(f"byol trains with its own regression loss: omit `objective` (got {name!r}) "
                             f"and `temperature`")
        self.objective = losses.BYOLLoss()

    def contrastive(self, h: Tensor, v1: Tensor, v2: Tensor, progress: float) -> losses.ContrastiveOutput:
        q1, q2 = self.predictor(self.projector(h)).chunk(2)
        m = cosine_momentum(self.hparams.momentum, progress)
        ema_update(self.encoder, self.target_encoder, m)
        ema_update(self.projector, self.target_projector, m)
        with torch.no_grad():
            t1, t2 = self.target_projector(self.target_encoder(torch.cat([v1, v2]))).chunk(2)
        a, b = self.objective(q1, t2), self.objective(q2, t1)
        return losses.ContrastiveOutput(a.loss + b.loss, 0.5 * (a.mi_lower_bound + b.mi_lower_bound), a.ceiling)
