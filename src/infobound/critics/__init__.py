"""Critics: modules mapping a batch (x [n, dx], y [n, dy]) to a score matrix [n, n].

``scores[i, j] = log g(x_i, y_j)``; feed it to any bound in :mod:`infobound.bounds`.
Build one by name: ``critics.build("concat", dx, dy, hidden=256, layers=3)``.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..models.mlp import mlp


def _check_pair(x: Tensor, y: Tensor, dx: int | None = None, dy: int | None = None) -> None:
    if x.dim() != 2 or y.dim() != 2:
        raise ValueError(f"critic inputs must be 2-d: x [n, dx], y [n, dy]; got x {tuple(x.shape)}, y {tuple(y.shape)}")
    if dx is not None and x.shape[1] != dx:
        raise ValueError(f"`x` must have {dx} features, got {x.shape[1]}")
    if dy is not None and y.shape[1] != dy:
        raise ValueError(f"`y` must have {dy} features, got {y.shape[1]}")


def _check_same_size(x: Tensor, y: Tensor, critic: str) -> None:
    _check_pair(x, y)
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"{critic} critic needs `x` and `y` of equal size, got {x.shape[1]} and {y.shape[1]}")


class SeparableCritic(nn.Module):
    r"""f(x, y) = g(x)ᵀh(y) with two MLP embeddings (Oord et al. 2018; Poole et al. 2019).

    With ``cosine=True`` the embeddings are L2-normalised and divided by ``temperature``
    (SimCLR's similarity). Cost O(n·(dx + dy)·hidden + n²·embed).

    Args:
        dim_x, dim_y: input sizes.
        hidden: hidden width of both MLPs.
        layers: hidden layers per MLP (staircase: 3).
        embed_dim: size of the embeddings (staircase: 32).
        cosine: use cosine similarity / temperature instead of a dot product.
        temperature: divides the cosine similarity.
    """

    def __init__(self, dim_x: int, dim_y: int, hidden: int = 256, layers: int = 3, embed_dim: int = 32,
                 cosine: bool = False, temperature: float = 0.1) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"`temperature` must be > 0, got {temperature}")
        self.dim_x, self.dim_y = dim_x, dim_y
        self.g = mlp(dim_x, hidden, embed_dim, layers)
        self.h = mlp(dim_y, hidden, embed_dim, layers)
        self.cosine, self.temperature = cosine, temperature

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        _check_pair(x, y, self.dim_x, self.dim_y)
        gx, hy = self.g(x), self.h(y)
        if self.cosine:
            return F.normalize(gx, dim=1) @ F.normalize(hy, dim=1).t() / self.temperature
        return gx @ hy.t()


class BilinearCritic(nn.Module):
    """f(x, y) = xᵀ W y (Tschannen et al. 2020's bilinear critic). W starts at zero."""

    def __init__(self, dim_x: int, dim_y: int) -> None:
        super().__init__()
        self.dim_x, self.dim_y = dim_x, dim_y
        self.weight = nn.Parameter(torch.zeros(dim_x, dim_y))

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        _check_pair(x, y, self.dim_x, self.dim_y)
        return x @ self.weight @ y.t()


class InnerProductCritic(nn.Module):
    """f(x, y) = x·y / temperature on inputs of equal size (optionally L2-normalised first)."""

    def __init__(self, temperature: float = 1.0, normalize: bool = False) -> None:
        super().__init__()
        if temperature <= 0:
            raise ValueError(f"`temperature` must be > 0, got {temperature}")
        self.temperature, self.normalize = temperature, normalize

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        _check_same_size(x, y, "inner-product")
        if self.normalize:
            x, y = F.normalize(x, dim=1), F.normalize(y, dim=1)
        return x @ y.t() / self.temperature


class ConcatCritic(nn.Module):
    r"""Joint critic f(x, y) = MLP([x; y]) evaluated on all n² pairs (Poole et al. 2019).

    The first layer of [x_i; y_j] is W_x x_i + W_y y_j + b, so it is computed once per sample and
    broadcast to the n² pairs; the n²×(dx+dy) concatenated input is never built. The remaining
    layers run on [n², hidden]. This is the same function as the naive MLP on concatenated pairs.

    Args:
        dim_x, dim_y: input sizes.
        hidden: hidden width (staircase: 256).
        layers: hidden layers (staircase: 3, i.e. 2d → 256 → 256 → 256 → 1).
    """

    def __init__(self, dim_x: int, dim_y: int, hidden: int = 256, layers: int = 3) -> None:
        super().__init__()
        if layers < 1:
            raise ValueError(f"`layers` must be >= 1 for the concat critic, got {layers}")
        self.dim_x, self.dim_y = dim_x, dim_y
        self.first = nn.Linear(dim_x + dim_y, hidden)
        self.rest = mlp(hidden, hidden, 1, layers - 1)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        _check_pair(x, y, self.dim_x, self.dim_y)
        w_x, w_y = self.first.weight[:, : self.dim_x], self.first.weight[:, self.dim_x :]
        hx = x @ w_x.t() + self.first.bias  # [n, h]
        hy = y @ w_y.t()  # [m, h]
        hidden = torch.relu(hx[:, None, :] + hy[None, :, :])  # [n, m, h]
        return self.rest(hidden).squeeze(-1)


class FGaussianCritic(nn.Module):
    r"""log of the f-Gaussian similarity of f-MICL (Lu et al., TMLR 2023):

    .. math::
        \log G(x, y) = \log\mu - \frac{\lVert \hat x - \hat y \rVert^2}{2\sigma^2}, \quad \hat x = x / \lVert x\rVert

    The f-MICL critic output is s_f = f'(G); pass these scores to
    ``bounds.f_divergence(scores, divergence)``, which applies f' itself.

    Args:
        inverse_width: 1/(2σ²) (1 for vision in the paper).
        mu: the scale μ (1 in the paper).
    """

    def __init__(self, inverse_width: float = 1.0, mu: float = 1.0) -> None:
        super().__init__()
        if inverse_width <= 0 or mu <= 0:
            raise ValueError(f"`inverse_width` and `mu` must be > 0, got {inverse_width}, {mu}")
        self.inverse_width, self.log_mu = inverse_width, math.log(mu)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        _check_same_size(x, y, "f-Gaussian")
        x, y = F.normalize(x, dim=1), F.normalize(y, dim=1)
        sq_dist = (2.0 - 2.0 * (x @ y.t())).clamp_min(0.0)  # ‖x̂ − ŷ‖² on the unit sphere
        return self.log_mu - self.inverse_width * sq_dist


class AnalyticCritic(nn.Module):
    """The optimal critic log p(x, y)/(p(x)p(y)) of a task that knows its density ratio.

    Used to measure the bias of a bound itself, free of optimisation error (``bench validity``).
    """

    def __init__(self, task: Any) -> None:
        super().__init__()
        if not hasattr(task, "log_density_ratio"):
            raise TypeError(f"{type(task).__name__} has no `log_density_ratio`; the analytic critic needs one")
        self.task = task

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        _check_pair(x, y)
        return self.task.log_density_ratio(x, y)


_BUILDERS: dict[str, Callable[..., nn.Module]] = {
    "separable": lambda dx, dy, **kw: SeparableCritic(dx, dy, **kw),
    "bilinear": lambda dx, dy, **kw: BilinearCritic(dx, dy, **kw),
    "concat": lambda dx, dy, **kw: ConcatCritic(dx, dy, **kw),
    "inner": lambda dx, dy, **kw: InnerProductCritic(**kw),
    "fgaussian": lambda dx, dy, **kw: FGaussianCritic(**kw),
}
_ALIASES = {"joint": "concat", "inner_product": "inner", "dot": "inner", "f_gaussian": "fgaussian"}


def available() -> list[str]:
    """Names accepted by :func:`build` (``analytic`` is built from a task: ``AnalyticCritic(task)``)."""
    return sorted(_BUILDERS)


def build(name: str, dim_x: int, dim_y: int, **kwargs: Any) -> nn.Module:
    """Build a critic by name: separable, bilinear, concat (alias joint), inner, fgaussian."""
    key = _ALIASES.get(name.strip().lower(), name.strip().lower())
    if key not in _BUILDERS:
        raise ValueError(f"unknown critic {name!r}; expected one of {available()}")
    return _BUILDERS[key](dim_x, dim_y, **kwargs)


__all__ = ["AnalyticCritic", "BilinearCritic", "ConcatCritic", "FGaussianCritic", "InnerProductCritic",
           "SeparableCritic", "available", "build"]
