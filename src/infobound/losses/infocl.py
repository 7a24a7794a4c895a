r"""InfoCL regularisers (Wang, Guo, Deng & Lu, CVPR 2022): keep more of I(z; v) than contrastive learning does.

InfoCL maximises ``I(z1; z2) + λ I(z1; v1) + λ I(z2; v2)``: besides the shared information, each
representation keeps information about its own augmented view. Two estimators of the extra terms,
usable with any method (add the returned term to the contrastive loss):

* RC (:class:`ReconstructionRegularizer`): a decoder reconstructs the augmented view from the
  backbone feature; term = λ·MSE.
* LBE (:class:`LowerBoundRegularizer`): a stochastic encoder h = μ + ζε and the entropy lower bound
  ``−mean_i logsumexp_j(−‖h_i − μ_j‖²/s)`` on the pooled outputs of several blocks (weights
  0.25, 0.5, 1 for the last three stages); the term returned is λ·Σ_b w_b·mean_i logsumexp_j(…),
  i.e. minus the bound, so that adding it to the loss maximises the bound.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..bounds._checks import upcast


class ReconstructionRegularizer(nn.Module):
    """RC: ``weight · MSE(decoder(features), target_view)``.

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

    def forward(self, features: Tensor, target_view: Tensor) -> Tensor:
        """The term to ADD to the loss (0-dim)."""
        reconstruction = self.decoder(features)
        if reconstruction.shape != target_view.shape:
            raise ValueError(f"the decoder must reconstruct the view's shape {tuple(target_view.shape)}, "
                             f"got {tuple(reconstruction.shape)} from features of shape {tuple(features.shape)}")
        return self.weight * F.mse_loss(reconstruction, target_view)


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
    r"""LBE: the entropy lower-bound term of InfoCL on noisy block features.

    For each block b with pooled features μ [n, c]: h = μ + ζε, ε ~ N(0, I), and

    .. math::
        \text{term} = \lambda \sum_b w_b \,\frac1n\sum_i \log\sum_j e^{-\lVert h_i - \mu_j\rVert^2 / s}

    which is minus the lower bound (up to the constant log n); adding it to the loss pushes the
    features of different samples apart. The noise comes from torch's global generator.

    Args:
        weights: w_b per block, in the order the blocks are passed (paper: 0.25, 0.5, 1 for the
            last three stages).
        noise: ζ (0.1).
        scale: s (20).
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

    def forward(self, block_features: Sequence[Tensor]) -> Tensor:
        """The term to ADD to the loss (0-dim), from one feature tensor per block."""
        if len(block_features) != len(self.weights):
            raise ValueError(f"got {len(block_features)} block features for {len(self.weights)} weights {self.weights}")
        total = None
        for weight, feature in zip(self.weights, block_features):
            mu = _pool(feature)
            h = mu + self.noise * torch.randn_like(mu)
            term = weight * _log_kernel_mean(h, mu, self.scale)
            total = term if total is None else total + term
        return self.lam * total


__all__ = ["LowerBoundRegularizer", "ReconstructionRegularizer"]
