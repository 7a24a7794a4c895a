r"""InfoCL regularisers (Wang, Guo, Deng & Lu, CVPR 2022): keep more of I(z; v) than contrastive learning does.

InfoCL maximises ``I(z1; z2) + λ I(z1; v1) + λ I(z2; v2)``: besides the shared information, each
representation keeps information about its own augmented view. Two estimators of the extra terms,
usable with any method (add the returned term to the contrastive loss):

* RC (:class:`ReconstructionRegularizer`): a decoder reconstructs each augmented view from its
  representation h; term = λ·Σ_views MSE(recon(h_v), x_v) (the official code: the two views'
  MSEs are summed, not averaged).
* LBE (:class:`LowerBoundRegularizer`): a stochastic encoder h = μ + ζε and the InfoNCE-type lower
  bound ``−mean_i logsumexp_j(−‖h_i − μ_j‖²/s)`` on the pooled outputs of the last three stages
  (weights 0.25, 0.5, 1; the last stage is the representation itself), each computed over the
  2N samples of both views concatenated, as the official code does; the term returned is
  λ·Σ_b w_b·mean_i logsumexp_j(…), i.e. minus the bound, so adding it to the loss maximises the bound.
  In the official code the noisy last stage h = μ + ζε is also what the projector sees
  (:meth:`LowerBoundRegularizer.sample`); the methods do that by default when LBE is on.

Reference: Haoqing-Wang/InfoCL, ``contrastive_learning/{SimCLR,BYOL,BarTwins}/main.py`` (read to match
conventions; none of it is copied).
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..bounds._checks import upcast


class ReconstructionRegularizer(nn.Module):
    r"""RC: ``weight · Σ_v MSE(decoder(h_v), x_v)`` over the views given.

    .. math::
        \text{term} = \lambda\,\big(\operatorname{mse}(\mathrm{rec}(h_1), x_1) + \operatorname{mse}(\mathrm{rec}(h_2), x_2)\big)

    with each MSE the mean over the elements of one view's batch (InfoCL's official code; a single
    tensor pair is one view).

    Args:
        decoder: maps backbone features [n, ...] to the shape of the augmented view; it is a
            submodule, so its parameters train with the model.
        weight: λ (1 for SimCLR on CIFAR/STL in the paper).
    """

    def __init__(self, decoder: nn.Module, weight: float = 1.0) -> None:
        super().__init__()
        if not (weight >= 0 and math.isfinite(weight)):
            raise ValueError(f"`weight` must be a finite number >= 0, got {weight}")
        self.decoder, self.weight = decoder, float(weight)

    def forward(self, features: Tensor | Sequence[Tensor], target_views: Tensor | Sequence[Tensor]) -> Tensor:
        """The term to ADD to the loss (0-dim): one (features, view) pair, or one per view (summed)."""
        if isinstance(features, Tensor):
            features, target_views = [features], [target_views]  # type: ignore[list-item]
        if len(features) != len(target_views) or not features:
            raise ValueError(f"need one target view per feature tensor, got {len(features)} and {len(target_views)}")
        total = None
        for h, view in zip(features, target_views):
            reconstruction = self.decoder(h)
            if reconstruction.shape != view.shape:
                raise ValueError(f"the decoder must reconstruct the view's shape {tuple(view.shape)}, "
                                 f"got {tuple(reconstruction.shape)} from features of shape {tuple(h.shape)}")
            term = F.mse_loss(reconstruction, view)
            total = term if total is None else total + term
        return self.weight * total


def _pool(feature: Tensor) -> Tensor:
    """[n, c, ...] block output → [n, c] by averaging the spatial / temporal positions."""
    if feature.dim() < 2:
        raise ValueError(f"block features must have shape [n, c, ...], got {tuple(feature.shape)}")
    return feature if feature.dim() == 2 else feature.flatten(2).mean(dim=2)


def _log_kernel_mean(h: Tensor, mu: Tensor, scale: float) -> Tensor:
    """mean_i logsumexp_j(−‖h_i − μ_j‖² / scale), in at least float32."""
    h, mu = upcast(h), upcast(mu)
    sq_dist = (h.pow(2).sum(1, keepdim=True) + mu.pow(2).sum(1) - 2.0 * (h @ mu.t())).clamp_min(0.0)
    return torch.logsumexp(-sq_dist / scale, dim=1).mean()


class LowerBoundRegularizer(nn.Module):
    r"""LBE: InfoCL's lower-bound term on the stochastic stage outputs h = μ + ζε.

    For each stage b with pooled outputs μ [M, c] (M = 2N: both views concatenated) and samples
    h = μ + ζε, ε ~ N(0, I):

    .. math::
        \text{term} = \lambda \sum_b w_b \,\frac1M\sum_i \log\sum_j e^{-\lVert h_i - \mu_j\rVert^2 / s}

    which is minus the lower bound ``InfoNCE(μ, h)`` of the official code (up to the constant
    log M); adding it to the loss pushes the representations of different samples apart. Noise is
    drawn from torch's global generator unless the samples are passed in.

    Args:
        weights: w_b for the last stages, shallowest first (paper: 0.25, 0.5, 1 for the last three;
            with fewer stages, e.g. an encoder exposing only h, the trailing weights are used).
        noise: ζ, the standard deviation of the stochastic encoder's noise (0.1).
        scale: s (20; the official ImageNet runs use 80).
        lam: λ (1 for SimCLR on CIFAR/STL).
    """

    def __init__(self, weights: Sequence[float] = (0.25, 0.5, 1.0), noise: float = 0.1, scale: float = 20.0,
                 lam: float = 1.0) -> None:
        super().__init__()
        if not weights or any(not (w >= 0 and math.isfinite(w)) for w in weights):
            raise ValueError(f"`weights` must be a non-empty sequence of finite numbers >= 0, got {weights}")
        if not (noise >= 0 and scale > 0 and lam >= 0):
            raise ValueError(f"need noise >= 0, scale > 0, lam >= 0; got {noise}, {scale}, {lam}")
        self.weights = tuple(float(w) for w in weights)
        self.noise, self.scale, self.lam = float(noise), float(scale), float(lam)

    def sample(self, mu: Tensor) -> Tensor:
        """The stochastic encoder's sample h = μ + ζε (ε from torch's global generator)."""
        return mu + self.noise * torch.randn_like(mu)

    def forward(self, means: Sequence[Tensor], samples: Sequence[Tensor | None] | None = None) -> Tensor:
        """The term to ADD to the loss (0-dim).

        Args:
            means: μ per stage (the last ``len(weights)`` stages, or fewer), each [M, c, ...]; maps are
                average-pooled to [M, c].
            samples: h per stage (same shapes after pooling), e.g. the sample that also fed the
                projector; None (or a None entry) draws h = μ + ζε here.
        """
        if not 1 <= len(means) <= len(self.weights):
            raise ValueError(f"got {len(means)} stage outputs for {len(self.weights)} weights {self.weights}; "
                             f"pass the last {len(self.weights)} stages (or fewer)")
        samples = list(samples) if samples is not None else [None] * len(means)
        if len(samples) != len(means):
            raise ValueError(f"got {len(samples)} samples for {len(means)} stage outputs")
        total = None
        for weight, mu, h in zip(self.weights[-len(means):], means, samples):
            mu = _pool(mu)
            h = self.sample(mu) if h is None else _pool(h)
            if h.shape != mu.shape:
                raise ValueError(f"a sample h must have the shape of its mean μ {tuple(mu.shape)}, got {tuple(h.shape)}")
            term = weight * _log_kernel_mean(h, mu, self.scale)
            total = term if total is None else total + term
        return self.lam * total


__all__ = ["LowerBoundRegularizer", "ReconstructionRegularizer"]
