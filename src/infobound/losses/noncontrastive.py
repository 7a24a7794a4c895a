r"""Objectives without negatives: BYOL's normalised regression and Barlow Twins' redundancy reduction.

Both take two batches of the same shape and return a :class:`~infobound.losses.base.ContrastiveOutput`.
Neither is an MI bound; their ``mi_lower_bound`` is a read-out only: the InfoNCE bound (Oord et al.
2018) on the cross-view cosine similarities / 0.1 of the two inputs, which is a valid lower bound on
I(a; b) for any critic (ceiling log n) and lets every method log the same quantity. It carries no
gradient.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import bounds
from ..bounds._checks import upcast
from .base import ContrastiveOutput
from .contrastive import check_pair, gather_pair

READOUT_TEMPERATURE = 0.1


def _readout(a: Tensor, b: Tensor) -> Tensor:
    with torch.no_grad():
        return bounds.infonce(F.normalize(a, dim=1) @ F.normalize(b, dim=1).t() / READOUT_TEMPERATURE)


class BYOLLoss(nn.Module):
    r"""BYOL's regression loss (Grill et al., NeurIPS 2020): ``mean_i ‖p̂_i − t̂_i‖² = mean_i (2 − 2 cos(p_i, t_i))``.

    ``forward(prediction, target)``: the online network's prediction and the target network's
    projection of the *other* view (detached here: the target gets no gradient). A method adds the
    two directions (the paper's symmetrised loss L + L̃).
    """

    def forward(self, prediction: Tensor, target: Tensor, progress: float | None = None) -> ContrastiveOutput:
        check_pair(prediction, target, ("prediction", "target"))
        if prediction.shape[0] < 2:
            raise ValueError(f"need at least 2 samples, got n = {prediction.shape[0]}")
        prediction, target = upcast(prediction), upcast(target.detach())
        loss = (2.0 - 2.0 * F.cosine_similarity(prediction, target, dim=1)).mean()
        return ContrastiveOutput(loss, _readout(prediction, target), math.log(prediction.shape[0]))


class BarlowTwinsLoss(nn.Module):
    r"""Barlow Twins (Zbontar et al., ICML 2021) on the cross-correlation of the standardised projections.

    .. math::
        C = \tfrac1N \tilde z_1^\top \tilde z_2,\quad
        \text{loss} = \sum_k (1 - C_{kk})^2 + \lambda \sum_{k\ne l} C_{kl}^2

    with z̃ each dimension standardised over the batch (mean 0, std 1; the paper's BatchNorm without
    affine, biased variance). Under DDP the batch is gathered first, so C is the global one.

    Args:
        lambda_offdiag: λ (5e-3 in the paper; InfoCL's code uses 1e-2).
        scale: multiplies the loss (the official code: 1; some re-implementations 1/32 or 0.025).
    """

    def __init__(self, lambda_offdiag: float = 5e-3, scale: float = 1.0) -> None:
        super().__init__()
        if not (lambda_offdiag >= 0 and math.isfinite(lambda_offdiag) and scale > 0):
            raise ValueError(f"need lambda_offdiag >= 0 and scale > 0, got {lambda_offdiag}, {scale}")
        self.lambda_offdiag, self.scale = float(lambda_offdiag), float(scale)

    def forward(self, z1: Tensor, z2: Tensor, progress: float | None = None) -> ContrastiveOutput:
        z1, z2 = gather_pair(z1, z2)
        z1, z2 = upcast(z1), upcast(z2)  # the bounds' precision policy: statistics in at least float32
        n = z1.shape[0]
        standardise = lambda z: (z - z.mean(0)) / (z.var(0, unbiased=False) + 1e-5).sqrt()  # noqa: E731  BN, no affine
        c = standardise(z1).t() @ standardise(z2) / n
        on = (1.0 - c.diagonal()).pow(2).sum()
        off = c.pow(2).sum() - c.diagonal().pow(2).sum()
        loss = self.scale * (on + self.lambda_offdiag * off)
        return ContrastiveOutput(loss, _readout(z1, z2), math.log(n))


__all__ = ["BYOLLoss", "BarlowTwinsLoss"]
