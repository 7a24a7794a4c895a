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


def _rotate_first_plane(x: Tensor, angle: Tensor) -> Tensor:
    c, s = torch.cos(angle), torch.sin(angle)
    out = x.clone()
    out[:, 0] = c * x[:, 0] - s * x[:, 1]
    out[:, 1] = s * x[:, 0] + c * x[:, 1]
    return out


def spiral(speed: float = 0.5) -> Transform:
    """x ↦ R(speed·‖x‖²) x, a rotation of the first coordinate plane by an angle growing with ‖x‖².

    Norm-preserving, so the inverse rotates back by the same angle (needs d ≥ 2).
    """

    def fwd(x: Tensor) -> Tensor:
        if x.shape[1] < 2:
            raise ValueError("the spiral transform needs at least 2 dimensions")
        return _rotate_first_plane(x, _rotation_angle(x, speed))

    return Transform("spiral", fwd, lambda y: _rotate_first_plane(y, -_rotation_angle(y, speed)))


_SWISS_SCALE = 1.5 * math.pi


def _swiss_roll(x: Tensor) -> Tensor:
    if x.shape[1] != 1:
        raise ValueError(f"the swiss-roll embedding maps a 1-d variable to 2-d, got {x.shape[1]} dimensions")
    t = _SWISS_SCALE * (1.0 + 2.0 * _normal_cdf(x[:, 0]))
    return torch.stack([t * torch.cos(t), t * torch.sin(t)], dim=1) / (3 * _SWISS_SCALE)


def _swiss_unroll(y: Tensor) -> Tensor:
    t = y.norm(dim=1) * 3 * _SWISS_SCALE  # the radius equals t, which increases monotonically
    return _normal_icdf((t / _SWISS_SCALE - 1.0) / 2.0)[:, None]


TRANSFORMS: dict[str, Callable[..., Transform]] = {
    "normal_cdf": lambda: Transform("normal_cdf", _normal_cdf, _normal_icdf),
    "half_cube": lambda: Transform(
        "half_cube", lambda x: x * x.abs().sqrt(), lambda y: torch.sign(y) * y.abs().pow(2.0 / 3.0)
    ),
    "asinh": lambda: Transform("asinh", torch.asinh, torch.sinh),
    "cube": lambda: Transform("cube", lambda x: x**3, lambda y: torch.sign(y) * y.abs().pow(1.0 / 3.0)),
    "spiral": spiral,
    "swiss_roll": lambda: Transform("swiss_roll", _swiss_roll, _swiss_unroll, out_dim=lambda d: 2),
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
