"""BYOL (Grill et al., NeurIPS 2020): an online network predicts a slowly moving target network's projection."""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import Tensor

from infobound import losses

from .base import ContrastiveMethod
from .momentum import check_momentum, cosine_momentum, ema_update, predictor_and_target

MOMENTUM, PROJ_HIDDEN, PROJ_DIM, LR = 0.98, 1024, 256, 3e-3  # screened on MNIST-1D (docs/ssl.md, "BYOL")


class BYOL(ContrastiveMethod):
    r"""BYOL over the shared base (same probes, checkpoints, DDP, RC/LBE).

    The online encoder → projector → predictor ``q`` regresses the target encoder → projector of the
    other view; loss = ‖q̂(v1) − t̂(v2)‖² + ‖q̂(v2) − t̂(v1)‖² (the paper's L + L̃, each the batch mean
    of 2 − 2 cos). The target is an exponential moving average of the online encoder and projector
    with the momentum raised from ``momentum`` to 1 along a cosine over training. InfoCL's RC/LBE act
    on the online representation h, as in InfoCL's BYOL code.

    As the official code (deepmind-research/byol), the projector and the predictor are Linear → BatchNorm →
    ReLU → Linear MLPs (4096 hidden, 256 out there), and each view goes through projector, predictor and
    target on its own (their BatchNorms see one view's batch). The width (1024 → 256) and Adam's lr
    (3e-3; LARS at 0.2 × batch/256 there) are BYOL's own defaults, screened on MNIST-1D (docs/ssl.md, "BYOL").

    Args:
        momentum: the base τ of the target's moving average (BYOL: 0.996 for ImageNet's 1000 epochs; 0.98
            here: on 30-epoch MNIST-1D runs 0.98 / 0.99 / 0.996 gave linear 0.702 / 0.689 / 0.682). What
            lifts BYOL over 0.70 there is more steps: batch 128 gives 0.705 ± 0.005 over seeds 0–2 against
            0.683 ± 0.014 at batch 256 (docs/ssl.md, "Second screen").
        pred_hidden: hidden width of the predictor (default: ``proj_hidden``, as the paper).
        proj_hidden, proj_dim: the projector's hidden and output widths.
        lr: Adam's learning rate.
        **kwargs: as :class:`~infobound.methods.base.ContrastiveMethod`; ``objective`` must be omitted
            (or ``byol``): BYOL has no negatives and no other objective.
    """

    name = "byol"
    default_objective = "byol"

    def __init__(self, input_shape: Sequence[int], num_classes: int, momentum: float = MOMENTUM,
                 pred_hidden: int | None = None, proj_hidden: int = PROJ_HIDDEN, proj_dim: int = PROJ_DIM,
                 lr: float = LR, **kwargs: Any) -> None:
        check_momentum(momentum)
        super().__init__(input_shape, num_classes, proj_hidden=proj_hidden, proj_dim=proj_dim, lr=lr, **kwargs)
        self.save_hyperparameters()
        self.predictor, self.target_encoder, self.target_projector = predictor_and_target(
            self.encoder, self.projector, pred_hidden or self.hparams.proj_hidden)

    def build_objective(self, name: str, kwargs: dict[str, Any]) -> None:
        if name != "byol" or kwargs.get("temperature") is not None:
            raise ValueError(f"byol trains with its own regression loss: omit `objective` (got {name!r}) "
                             f"and `temperature`")
        self.objective = losses.BYOLLoss()

    def contrastive(self, h: Tensor, v1: Tensor, v2: Tensor, progress: float) -> losses.ContrastiveOutput:
        # one projector / predictor / target pass per view, as the official code: their BatchNorms see one
        # view's batch (a pass over both views concatenated pools the statistics and learns worse features)
        q1, q2 = (self.predictor(self.projector(hv)) for hv in h.chunk(2))
        m = cosine_momentum(self.hparams.momentum, progress)
        ema_update(self.encoder, self.target_encoder, m)
        ema_update(self.projector, self.target_projector, m)
        with torch.no_grad():
            t1, t2 = (self.target_projector(self.target_encoder(v)) for v in (v1, v2))
        a, b = self.objective(q1, t2), self.objective(q2, t1)
        return losses.ContrastiveOutput(a.loss + b.loss, 0.5 * (a.mi_lower_bound + b.mi_lower_bound), a.ceiling)
