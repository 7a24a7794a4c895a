"""MI-preserving transforms: an invertible map applied to X and/or Y leaves I(X; Y) unchanged.

After bmi (Czyż et al., "Beyond Normal", NeurIPS 2023): the normal CDF, the half-cube map, the
spiral, asinh and a swiss-roll embedding make Gaussian tasks non-Gaussian while keeping the
ground truth. Each transform knows its inverse, so the transformed task keeps its density ratio
(the ratio is invariant: r(f(x), g(y)) = r(x, y)) and with it the analytic critic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import Tensor

from .base import Seed

_SQRT2 = math.sqrt(2.0)


@dataclass(frozen=True)
class Transform:
    """An invertible map on [n, d] tensors with its inverse and its output dimension."""

    name: str
    forward: Callable[[Tensor], Tensor]
    inverse: Callable[[Tensor], Tensor]
    out_dim: Callable[[int], int] = lambda d: d


def _normal_cdf(x: Tensor) -> Tensor:
    return 0.5 * (1.0 + torch.erf(x / _SQRT2))


def _normal_icdf(u: Tensor) -> Tensor:
    return _SQRT2 * torch.erfinv(2.0 * u.clamp(1e-7, 1 - 1e-7) - 1.0)


def _rotation_angle(x: Tensor, speed: float) -> Tensor:
    return speed * (x * x).sum(1)


def _rotate_plane(x: Tensor, angle: Tensor, i: int = 0, j: int = 1) -> Tensor:
    """Rotate coordinates (i, j) by ``angle``: exp(θA) x with A[i, j] = −1, A[j, i] = 1 (bmi's so(n) generator)."""
    c, s = torch.cos(angle), torch.sin(angle)
    out = x.clone()
    out[:, i] = c * x[:, i] - s * x[:, j]
    out[:, j] = s * x[:, i] + c * x[:, j]
    return out


def spiral(speed: float = 0.5, plane: tuple[int, int] = (0, 1)) -> Transform:
    """x ↦ R(speed·‖x‖²) x, a rotation of one coordinate plane by an angle growing with ‖x‖².

    Norm-preserving, so the inverse rotates back by the same angle. bmi's ``Spiral`` with the
    generator ``so_generator(d, *plane)`` (Czyż et al. 2023); needs d > max(plane).
    """
    i, j = plane

    def fwd(x: Tensor) -> Tensor:
        if x.shape[1] <= max(i, j):
            raise ValueError(f"the spiral transform on plane {plane} needs at least {max(i, j) + 1} dimensions")
        return _rotate_plane(x, _rotation_angle(x, speed), i, j)

    return Transform("spiral", fwd, lambda y: _rotate_plane(y, -_rotation_angle(y, speed), i, j))


_SWISS_SCALE = 1.5 * math.pi


def swiss_roll(scale: float = 3 * _SWISS_SCALE, uniform_input: bool = False) -> Transform:
    """A 1-d variable onto a 2-d swiss roll: t = 1.5π(1 + 2u), (t cos t, t sin t)/scale.

    u = Φ(x) for Gaussian input, or x itself with ``uniform_input`` (bmi's ``swissroll2d``, scale 21,
    applied after a normal CDF).
    """

    def fwd(x: Tensor) -> Tensor:
        if x.shape[1] != 1:
            raise ValueError(f"the swiss-roll embedding maps a 1-d variable to 2-d, got {x.shape[1]} dimensions")
        u = x[:, 0] if uniform_input else _normal_cdf(x[:, 0])
        t = _SWISS_SCALE * (1.0 + 2.0 * u)
        return torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / scale

    def inv(y: Tensor) -> Tensor:
        t = y.norm(dim=1) * scale  # the radius equals t/scale, which increases monotonically
        u = (t / _SWISS_SCALE - 1.0) / 2.0
        return (u if uniform_input else _normal_icdf(u))[:, None]

    return Transform("swiss_roll", fwd, inv, out_dim=lambda d: 2)


def _bisect_increasing(fn: Callable[[Tensor], Tensor], target: Tensor, low: Tensor, high: Tensor,
                       iterations: int = 60) -> Tensor:
    """Solve fn(v) = target for an increasing fn by bisection on [low, high] (float64)."""
    lo, hi, tgt = low.double(), high.double(), target.double()
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        below = fn(mid) < tgt
        lo, hi = torch.where(below, mid, lo), torch.where(below, hi, mid)
    return (0.5 * (lo + hi)).to(target.dtype)


def _wiggly_x(x: Tensor) -> Tensor:
    return x + 0.4 * torch.sin(1.0 * x) + 0.2 * torch.sin(1.7 * x + 1) + 0.03 * torch.sin(3.3 * x - 2.5)


def _wiggly_y(y: Tensor) -> Tensor:
    return y - 0.4 * torch.sin(0.4 * y) + 0.17 * torch.sin(1.3 * y + 3.5) + 0.02 * torch.sin(4.3 * y - 2.5)


def wiggly(side: str = "x") -> Transform:
    """bmi's "wiggly" maps (x + 0.4 sin x + …, one for X and one for Y): increasing, inverted by bisection."""
    fn = {"x": _wiggly_x, "y": _wiggly_y}[side]
    # |fn(v) − v| ≤ 0.63, so the preimage of w lies in [w − 1, w + 1].
    return Transform(f"wiggly_{side}", fn, lambda w: _bisect_increasing(fn, w, w - 1.0, w + 1.0))


def _mixture_cdf(t: Tensor, weights: tuple[float, ...], means: tuple[float, ...]) -> Tensor:
    return sum(w * _normal_cdf(t - m) for w, m in zip(weights, means))


def _mixture_sf(t: Tensor, weights: tuple[float, ...], means: tuple[float, ...]) -> Tensor:
    return sum(w * 0.5 * torch.erfc((t - m) / _SQRT2) for w, m in zip(weights, means))


def bimodal(weights: tuple[float, ...] = (0.3, 0.7), means: tuple[float, ...] = (0.0, 5.0)) -> Transform:
    """Gaussian x ↦ F⁻¹(Φ(x)) with F the CDF of Σ w_k N(m_k, 1): a monotone map to a bimodal margin.

    bmi's bimodal task uses weights (0.3, 0.7), means (0, 5) for X and (0.5, 0.5), (−1, 3) for Y.
    """

    def fwd(x: Tensor) -> Tensor:
        u = 0.5 * torch.erfc(-x.double() / _SQRT2)  # Φ(x) in float64: tails stay strictly inside (0, 1)
        lo = torch.full_like(u, min(means) - 40.0)
        hi = torch.full_like(u, max(means) + 40.0)
        return _bisect_increasing(lambda t: _mixture_cdf(t, weights, means), u, lo, hi, iterations=80).to(x.dtype)

    def inv(t: Tensor) -> Tensor:
        # Φ⁻¹(F(t)) from whichever tail keeps its precision in float64.
        t64 = t.double()
        cdf, sf = _mixture_cdf(t64, weights, means), _mixture_sf(t64, weights, means)
        return torch.where(cdf < 0.5, torch.special.ndtri(cdf), -torch.special.ndtri(sf)).to(t.dtype)

    return Transform("bimodal", fwd, inv)


TRANSFORMS: dict[str, Callable[..., Transform]] = {
    "normal_cdf": lambda: Transform("normal_cdf", _normal_cdf, _normal_icdf),
    "half_cube": lambda: Transform(
        "half_cube", lambda x: x * x.abs().sqrt(), lambda y: torch.sign(y) * y.abs().pow(2.0 / 3.0)
    ),
    "asinh": lambda: Transform("asinh", torch.asinh, torch.sinh),
    "cube": lambda: Transform("cube", lambda x: x**3, lambda y: torch.sign(y) * y.abs().pow(1.0 / 3.0)),
    "spiral": spiral,
    "swiss_roll": swiss_roll,
    "wiggly": wiggly,
    "bimodal": bimodal,
}


def get_transform(name: str, **params: Any) -> Transform:
    if name not in TRANSFORMS:
        raise ValueError(f"unknown transform {name!r}; expected one of {sorted(TRANSFORMS)}")
    return TRANSFORMS[name](**params)


@dataclass(frozen=True, eq=False)
class Transformed:
    """A base task with invertible maps applied to X and/or Y; the MI is the base task's.

    Attributes:
        base: any Task.
        transform_x, transform_y: a :class:`Transform` (or None to leave that side alone).
        name: shown in benchmark tables.
    """

    base: Any
    transform_x: Transform | None = None
    transform_y: Transform | None = None
    name: str = ""

    @property
    def mutual_information(self) -> float:
        return self.base.mutual_information

    @property
    def dim_x(self) -> int:
        return self.transform_x.out_dim(self.base.dim_x) if self.transform_x else self.base.dim_x

    @property
    def dim_y(self) -> int:
        return self.transform_y.out_dim(self.base.dim_y) if self.transform_y else self.base.dim_y

    def sample(self, n: int, seed: Seed = 0, device: torch.device | str | None = None) -> tuple[Tensor, Tensor]:
        x, y = self.base.sample(n, seed, device)
        return (self.transform_x.forward(x) if self.transform_x else x,
                self.transform_y.forward(y) if self.transform_y else y)

    def log_density_ratio(self, x: Tensor, y: Tensor) -> Tensor:
        if not hasattr(self.base, "log_density_ratio"):
            raise TypeError(f"base task {type(self.base).__name__} has no log_density_ratio")
        x0 = self.transform_x.inverse(x) if self.transform_x else x
        y0 = self.transform_y.inverse(y) if self.transform_y else y
        return self.base.log_density_ratio(x0, y0)


def transformed(base: Any, transform: str, sides: str = "both", **params: Any) -> Transformed:
    """Apply the named transform to X, Y or both: ``transformed(task, "asinh")``."""
    if sides not in ("x", "y", "both"):
        raise ValueError(f"`sides` must be 'x', 'y' or 'both', got {sides!r}")
    t = get_transform(transform, **params)
    tx = t if sides in ("x", "both") else None
    ty = t if sides in ("y", "both") else None
    base_name = getattr(base, "name", type(base).__name__)
    return Transformed(base, tx, ty, name=f"{transform}({base_name})")
