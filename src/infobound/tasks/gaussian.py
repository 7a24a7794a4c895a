"""Correlated Gaussians: the staircase task of Poole et al. 2019 / Song & Ermon 2020."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from .base import Seed, check_sample_size, make_generator


def rho_for_mi(mi: float, dim: int) -> float:
    r"""Per-dimension correlation giving total MI ``mi``: ρ = sqrt(1 − e^{−2I/d})."""
    return math.sqrt(1.0 - math.exp(-2.0 * mi / dim))


@dataclass(frozen=True)
class CorrelatedGaussian:
    r"""x ~ N(0, I_d), y = ρx + sqrt(1 − ρ²) ε, so I(x; y) = −(d/2) log(1 − ρ²).

    With ``cubic=True`` y is replaced by y³, an invertible map that leaves the MI unchanged but
    makes the critic's job harder (SMILE / ML-CPC staircase, "cubic" panels).

    Attributes:
        dim: d, the dimension of x and of y.
        mi: the true mutual information in nats.
        cubic: apply y ↦ y³.
    """

    dim: int = 20
    mi: float = 2.0
    cubic: bool = False

    def __post_init__(self) -> None:
        if self.dim < 1:
            raise ValueError(f"`dim` must be >= 1, got {self.dim}")
        if not (self.mi >= 0 and math.isfinite(self.mi)):
            raise ValueError(f"`mi` must be a finite number >= 0, got {self.mi}")

    @property
    def mutual_information(self) -> float:
        return float(self.mi)

    @property
    def dim_x(self) -> int:
        return self.dim

    @property
    def dim_y(self) -> int:
        return self.dim

    @property
    def rho(self) -> float:
        return rho_for_mi(self.mi, self.dim)

    def sample(self, n: int, seed: Seed = 0, device: torch.device | str | None = None) -> tuple[Tensor, Tensor]:
        check_sample_size(n)
        gen = make_generator(seed, device)
        device = gen.device
        x = torch.randn(n, self.dim, generator=gen, device=device)
        eps = torch.randn(n, self.dim, generator=gen, device=device)
        rho = self.rho
        y = rho * x + math.sqrt(1.0 - rho**2) * eps
        return x, (y**3 if self.cubic else y)

    def log_density_ratio(self, x: Tensor, y: Tensor) -> Tensor:
        r"""log p(x_i, y_j)/(p(x_i)p(y_j)) for all pairs:

        .. math::
            -\tfrac{d}{2}\log(1-\rho^2) - \frac{\rho^2(\lVert x_i\rVert^2 + \lVert y_j\rVert^2) - 2\rho\, x_i\cdot y_j}{2(1-\rho^2)}
        """
        if self.cubic:
            y = torch.sign(y) * y.abs().pow(1.0 / 3.0)
        rho = self.rho
        if rho == 0.0:
            return x.new_zeros(x.shape[0], y.shape[0])
        one_minus = 1.0 - rho**2
        quad = rho**2 * ((x * x).sum(1)[:, None] + (y * y).sum(1)[None, :]) - 2.0 * rho * (x @ y.t())
        return -0.5 * self.dim * math.log(one_minus) - quad / (2.0 * one_minus)


@dataclass(frozen=True)
class Staircase:
    """The staircase schedule: the true MI steps through ``levels``, ``steps_per_level`` steps each.

    Attributes:
        dim: dimension of x and y (20 in the papers).
        levels: true MI of each stage in nats (2, 4, 6, 8, 10).
        steps_per_level: training steps per stage (4,000 in the papers).
        cubic: use the cubic variant of the Gaussian task.
    """

    dim: int = 20
    levels: tuple[float, ...] = (2.0, 4.0, 6.0, 8.0, 10.0)
    steps_per_level: int = 4000
    cubic: bool = False

    @property
    def total_steps(self) -> int:
        return len(self.levels) * self.steps_per_level

    def level_at(self, step: int) -> int:
        if not 0 <= step < self.total_steps:
            raise ValueError(f"`step` must lie in [0, {self.total_steps}), got {step}")
        return step // self.steps_per_level

    def task_at(self, step: int) -> CorrelatedGaussian:
        return CorrelatedGaussian(self.dim, self.levels[self.level_at(step)], self.cubic)

    def true_mi(self, step: int) -> float:
        return float(self.levels[self.level_at(step)])
