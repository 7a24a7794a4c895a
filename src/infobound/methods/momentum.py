"""The target ("momentum") network shared by BYOL and MoCo v3: an exponential moving average of the online one."""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from infobound.models import ProjectionHead


def cosine_momentum(base: float, progress: float) -> float:
    """BYOL's schedule (Grill et al. 2020), also MoCo v3's: ``1 − (1 − base)·(cos(π·progress) + 1)/2``, base → 1."""
    return 1.0 - (1.0 - base) * (math.cos(math.pi * min(max(progress, 0.0), 1.0)) + 1.0) / 2.0


@torch.no_grad()
def ema_update(online: nn.Module, target: nn.Module, momentum: float) -> None:
    """θ_target ← m·θ_target + (1 − m)·θ_online, parameter by parameter (buffers such as BatchNorm statistics
    follow the target's own forward passes)."""
    for p_online, p_target in zip(online.parameters(), target.parameters()):
        p_target.mul_(momentum).add_(p_online.detach(), alpha=1.0 - momentum)


def check_momentum(momentum: float) -> float:
    if not 0.0 <= momentum < 1.0:
        raise ValueError(f"`momentum` must lie in [0, 1), got {momentum}")
    return float(momentum)


def predictor_and_target(encoder: nn.Module, projector: ProjectionHead,
                         pred_hidden: int) -> tuple[ProjectionHead, nn.Module, ProjectionHead]:
    """BYOL's / MoCo v3's extra parts: a predictor MLP on the projection (width → pred_hidden → width)
    and frozen copies of the encoder and projector that :func:`ema_update` moves towards the online ones."""
    width = projector.out_dim
    predictor = ProjectionHead(width, pred_hidden, width)
    return (predictor, copy.deepcopy(encoder).requires_grad_(False),
            copy.deepcopy(projector).requires_grad_(False))

