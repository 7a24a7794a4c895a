"""Multivariate normal and Student-t tasks with exact mutual information (after bmi, Czyż et al. 2023)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch
from scipy.special import digamma, gammaln
from torch import Tensor

from .base import Seed, check_sample_size, make_generator


def gaussian_mi_from_covariance(covariance: np.ndarray, dim_x: int) -> float:
    r"""I(X; Y) = ½ [log det Σ_xx + log det Σ_yy − log det Σ] for a joint normal with covariance Σ."""
    cov = np.asarray(covariance, dtype=np.float64)
    _, logdet = np.linalg.slogdet(cov)
    _, logdet_x = np.linalg.slogdet(cov[:dim_x, :dim_x])
    _, logdet_y = np.linalg.slogdet(cov[dim_x:, dim_x:])
    return float(0.5 * (logdet_x + logdet_y - logdet))


def _check_covariance(covariance: np.ndarray, dim_x: int) -> np.ndarray:
    cov = np.asarray(covariance, dtype=np.float64)
    if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
        raise ValueError(f"`covariance` must be a square matrix, got shape {cov.shape}")
    if not 1 <= dim_x < cov.shape[0]:
        raise ValueError(f"`dim_x` must lie in [1, {cov.shape[0] - 1}], got {dim_x}")
    if not np.allclose(cov, cov.T):
        raise ValueError("`covariance` must be symmetric")
    if np.linalg.eigvalsh(cov).min() <= 0:
        raise ValueError("`covariance` must be positive definite")
    return cov


@dataclass(frozen=True, eq=False)
class MultivariateNormal:
    """(X, Y) jointly normal with zero mean and covariance ``covariance``; X is the first ``dim_x`` coordinates.

    Build the common structures with :meth:`dense` and :meth:`sparse`.
    """

    covariance: np.ndarray
    dim_x: int
    name: str = "mvn"

    def __post_init__(self) -> None:
        object.__setattr__(self, "covariance", _check_covariance(self.covariance, self.dim_x))

    @property
    def dim_y(self) -> int:
        return self.covariance.shape[0] - self.dim_x

    @property
    def mutual_information(self) -> float:
        return gaussian_mi_from_covariance(self.covariance, self.dim_x)

    @classmethod
    def dense(cls, dim_x: int, dim_y: int, off_diagonal: float = 0.5) -> "MultivariateNormal":
        """Every pair of coordinates correlated by ``off_diagonal`` (bmi's "dense" interactions)."""
        d = dim_x + dim_y
        if not -1.0 / (d - 1) < off_diagonal < 1.0:
            raise ValueError(f"`off_diagonal` must lie in (−1/(d−1), 1) = ({-1.0 / (d - 1):.3f}, 1), got {off_diagonal}")
        cov = np.full((d, d), off_diagonal) + (1.0 - off_diagonal) * np.eye(d)
        return cls(cov, dim_x, name=f"dense-{dim_x}x{dim_y}")

    @classmethod
    def sparse(cls, dim_x: int, dim_y: int, n_interacting: int = 2, correlation: float = 0.8) -> "MultivariateNormal":
        """Only the first ``n_interacting`` coordinate pairs x_i ↔ y_i are correlated (bmi's "sparse")."""
        if not 1 <= n_interacting <= min(dim_x, dim_y):
            raise ValueError(f"`n_interacting` must lie in [1, {min(dim_x, dim_y)}], got {n_interacting}")
        if not -1 < correlation < 1:
            raise ValueError(f"`correlation` must lie in (−1, 1), got {correlation}")
        cov = np.eye(dim_x + dim_y)
        for i in range(n_interacting):
            cov[i, dim_x + i] = cov[dim_x + i, i] = correlation
        return cls(cov, dim_x, name=f"sparse-{dim_x}x{dim_y}")

    def _cholesky(self) -> Tensor:
        return torch.from_numpy(np.linalg.cholesky(self.covariance)).float()

    def sample(self, n: int, seed: Seed = 0, device: torch.device | str | None = None) -> tuple[Tensor, Tensor]:
        check_sample_size(n)
        gen = make_generator(seed, device)
        z = torch.randn(n, self.covariance.shape[0], generator=gen, device=gen.device) @ self._cholesky().to(gen.device).t()
        return z[:, : self.dim_x], z[:, self.dim_x :]

    def log_density_ratio(self, x: Tensor, y: Tensor) -> Tensor:
        """log p(x_i, y_j)/(p(x_i)p(y_j)) for all pairs, from the three precision matrices."""
        prec = torch.from_numpy(np.linalg.inv(self.covariance)).to(x)
        prec_x = torch.from_numpy(np.linalg.inv(self.covariance[: self.dim_x, : self.dim_x])).to(x)
        prec_y = torch.from_numpy(np.linalg.inv(self.covariance[self.dim_x :, self.dim_x :])).to(x)
        a, b, c = prec[: self.dim_x, : self.dim_x], prec[: self.dim_x, self.dim_x :], prec[self.dim_x :, self.dim_x :]
        qx = ((x @ (a - prec_x)) * x).sum(1)
        qy = ((y @ (c - prec_y)) * y).sum(1)
        cross = 2.0 * (x @ b @ y.t())
        # The constant ½[log det Σ_xx + log det Σ_yy − log det Σ] is exactly the MI.
        return self.mutual_information - 0.5 * (qx[:, None] + qy[None, :] + cross)


def _student_t_correction(dof: float, dim_x: int, dim_y: int) -> float:
    """Extra MI of a multivariate t over the normal with the same dispersion (Arellano-Valle et al. 2013)."""

    def f(v: float) -> float:
        return float(gammaln(v / 2.0) - (v / 2.0) * digamma(v / 2.0))

    return f(dof) + f(dof + dim_x + dim_y) - f(dof + dim_x) - f(dof + dim_y)


@dataclass(frozen=True, eq=False)
class MultivariateStudentT:
    r"""(X, Y) multivariate Student-t with ``dof`` degrees of freedom and dispersion Σ.

    Z = W / sqrt(V/ν), W ~ N(0, Σ), V ~ χ²_ν. Its MI is the Gaussian MI of Σ plus a correction
    that depends only on ν and the dimensions (Arellano-Valle, Contreras-Reyes & Genton 2013):

    .. math::
        I = I_{\mathcal N}(\Sigma) + g(\nu) + g(\nu + d_x + d_y) - g(\nu + d_x) - g(\nu + d_y),
        \quad g(v) = \log\Gamma(v/2) - \tfrac{v}{2}\psi(v/2)

    so X and Y are dependent even when Σ is block-diagonal (they share V). Heavy-tailed.
    """

    dispersion: np.ndarray
    dim_x: int
    dof: float = 3.0
    name: str = "student-t"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dispersion", _check_covariance(self.dispersion, self.dim_x))
        if not self.dof > 0:
            raise ValueError(f"`dof` must be > 0, got {self.dof}")

    @property
    def dim_y(self) -> int:
        return self.dispersion.shape[0] - self.dim_x

    @property
    def mutual_information(self) -> float:
        return gaussian_mi_from_covariance(self.dispersion, self.dim_x) + _student_t_correction(
            self.dof, self.dim_x, self.dim_y
        )

    def sample(self, n: int, seed: Seed = 0, device: torch.device | str | None = None) -> tuple[Tensor, Tensor]:
        check_sample_size(n)
        gen = make_generator(seed, device)
        chol = torch.from_numpy(np.linalg.cholesky(self.dispersion)).float().to(gen.device)
        w = torch.randn(n, self.dispersion.shape[0], generator=gen, device=gen.device) @ chol.t()
        # χ²_ν = 2·Gamma(ν/2, 1); torch's Gamma sampler takes no generator, so draw it from numpy seeded by gen.
        seed_np = int(torch.randint(0, 2**31 - 1, (1,), generator=gen, device=gen.device).item())
        v = torch.from_numpy(np.random.default_rng(seed_np).chisquare(self.dof, size=n)).float().to(gen.device)
        z = w / torch.sqrt(v / self.dof)[:, None]
        return z[:, : self.dim_x], z[:, self.dim_x :]

    def log_density(self, z: np.ndarray, which: str = "joint") -> np.ndarray:
        """Log density of the joint ("joint") or of a marginal ("x", "y"); for Monte-Carlo checks."""
        sl = {"joint": slice(None), "x": slice(0, self.dim_x), "y": slice(self.dim_x, None)}[which]
        cov = self.dispersion[sl, sl]
        d = cov.shape[0]
        z = np.asarray(z, dtype=np.float64)
        maha = np.einsum("ni,ij,nj->n", z, np.linalg.inv(cov), z)
        _, logdet = np.linalg.slogdet(cov)
        nu = self.dof
        return (gammaln((nu + d) / 2) - gammaln(nu / 2) - 0.5 * d * math.log(nu * math.pi) - 0.5 * logdet
                - 0.5 * (nu + d) * np.log1p(maha / nu))


@dataclass(frozen=True, eq=False)
class AdditiveUniformNoise:
    r"""X ~ U(0, 1), Y = X + N, N ~ U(−ε, ε), one-dimensional.

    I = ε − log(2ε) for ε ≤ ½ and 1/(4ε) for ε ≥ ½ (h(Y) of the trapezoidal density minus log 2ε).
    """

    epsilon: float = 0.1
    name: str = "uniform-noise"
    dim_x: int = field(default=1, init=False)
    dim_y: int = field(default=1, init=False)

    def __post_init__(self) -> None:
        if not self.epsilon > 0:
            raise ValueError(f"`epsilon` must be > 0, got {self.epsilon}")

    @property
    def mutual_information(self) -> float:
        e = self.epsilon
        return e - math.log(2 * e) if e <= 0.5 else 1.0 / (4.0 * e)

    def sample(self, n: int, seed: Seed = 0, device: torch.device | str | None = None) -> tuple[Tensor, Tensor]:
        check_sample_size(n)
        gen = make_generator(seed, device)
        x = torch.rand(n, 1, generator=gen, device=gen.device)
        noise = (2.0 * torch.rand(n, 1, generator=gen, device=gen.device) - 1.0) * self.epsilon
        return x, x + noise
