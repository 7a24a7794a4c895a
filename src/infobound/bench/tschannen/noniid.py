r"""The non-i.i.d. batch construction of Tschannen et al. (ICLR 2020, §4, Fig. 4c).

Every bound in :mod:`infobound.bounds` assumes the n pairs of a batch are i.i.d. draws of p(x, y),
so that the off-diagonal pairs (x_i, y_j) are draws of p(x)p(y). The paper shows what happens when
they are not, with one latent shared by the whole batch (the construction of the authors' companion
notebook, ``mutual_information_representation_learning/mirl.ipynb`` in google-research):

.. math::
    Z \sim \mathcal N\Big(0, \begin{bmatrix}1 & -0.5\\ -0.5 & 1\end{bmatrix}\Big)\ \text{once per batch},\qquad
    \epsilon_i \sim \mathcal N\Big(0, \begin{bmatrix}1 & 0.9\\ 0.9 & 1\end{bmatrix}\Big)\ \text{i.i.d.},\qquad
    (X_i, Y_i) = Z + \epsilon_i .

Each pair on its own is bivariate normal with covariance Σ = Σ_Z + Σ_ε = [[2, 0.4], [0.4, 2]], so
ρ = 0.4/2 = 0.2 and the true MI of every pair is I = −½ log(1 − ρ²) = −½ log 0.96 ≈ 0.020411 nats.
The i.i.d. control draws the n pairs straight from N(0, Σ) (a fresh Z per pair, in effect).

Why the bounds overshoot: within a non-i.i.d. batch the "negatives" are not independent. For j ≠ i,
Cov(X_i, Y_j) = Cov(Z_x, Z_y) = −0.5 (instead of 0) while Cov(X_i, Y_i) = 0.4, so a critic can
separate positives from negatives far better than p(x, y) vs p(x)p(y) allows, and I_NCE and I_NWJ
climb well above 0.0204 (the paper's Fig. 4c; our pilot: ≈0.20 and ≈0.10 nats).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from ...tasks.base import Seed, check_sample_size, make_generator


def _cholesky_2x2(cov: tuple[tuple[float, float], tuple[float, float]]) -> Tensor:
    return torch.linalg.cholesky(torch.tensor(cov, dtype=torch.float64))


@dataclass(frozen=True)
class SharedLatentGaussian:
    """Scalar pairs (x, y) whose batches share one latent Z (non-i.i.d.) or not (i.i.d.).

    Attributes:
        cov_z: covariance of the per-batch latent Z = (Z_x, Z_y) (the paper: [[1, −0.5], [−0.5, 1]]).
        cov_eps: covariance of the per-pair noise (the paper: [[1, 0.9], [0.9, 1]]).
        iid: False → one Z per batch (the paper's non-i.i.d. batches); True → every pair is an
            independent draw of N(0, cov_z + cov_eps).
    """

    cov_z: tuple[tuple[float, float], tuple[float, float]] = ((1.0, -0.5), (-0.5, 1.0))
    cov_eps: tuple[tuple[float, float], tuple[float, float]] = ((1.0, 0.9), (0.9, 1.0))
    iid: bool = False

    @property
    def cov(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """Covariance of one pair (x_i, y_i): Σ = Σ_Z + Σ_ε."""
        (a, b), (c, d) = self.cov_z
        (e, f), (g, h) = self.cov_eps
        return (a + e, b + f), (c + g, d + h)

    @property
    def rho(self) -> float:
        (sxx, sxy), (_, syy) = self.cov
        return sxy / math.sqrt(sxx * syy)

    @property
    def mutual_information(self) -> float:
        """I(x_i; y_i) = −½ log(1 − ρ²); 0.020411 nats for the paper's covariances (i.i.d. or not)."""
        return -0.5 * math.log1p(-self.rho ** 2)

    @property
    def dim_x(self) -> int:
        return 1

    @property
    def dim_y(self) -> int:
        return 1

    def sample(self, n: int, seed: Seed = 0, device: torch.device | str | None = None) -> tuple[Tensor, Tensor]:
        """One batch of n pairs: x [n, 1], y [n, 1] (float32)."""
        check_sample_size(n)
        gen = make_generator(seed)
        if self.iid:
            xy = torch.randn(n, 2, generator=gen, dtype=torch.float64) @ _cholesky_2x2(self.cov).T
        else:
            z = torch.randn(1, 2, generator=gen, dtype=torch.float64) @ _cholesky_2x2(self.cov_z).T
            eps = torch.randn(n, 2, generator=gen, dtype=torch.float64) @ _cholesky_2x2(self.cov_eps).T
            xy = z + eps
        xy = xy.float().to(device) if device is not None else xy.float()
        return xy[:, :1], xy[:, 1:]

    def log_density_ratio(self, x: Tensor, y: Tensor) -> Tensor:
        """log p(x_i, y_j) / (p(x_i) p(y_j)) of the per-pair law N(0, Σ), all pairs: [n, 1], [m, 1] → [n, m]."""
        (sxx, sxy), (_, syy) = self.cov
        rho = sxy / math.sqrt(sxx * syy)
        u = x[:, :1] / math.sqrt(sxx)
        v = (y[:, :1] / math.sqrt(syy)).T
        return (-0.5 * math.log1p(-rho ** 2)
                - (rho ** 2 * (u ** 2 + v ** 2) - 2 * rho * u * v) / (2 * (1 - rho ** 2)))


__all__ = ["SharedLatentGaussian"]
