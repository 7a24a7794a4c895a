"""A certified lower limit on I(X; Y): a valid bound, a fixed critic, fresh rows, a one-sided t limit.

Any critic f — however it was trained, selected or early-stopped — gives a lower bound in
expectation when it is evaluated with a *valid* bound (InfoNCE, or ML-CPC at an α that is safe
for every critic, :func:`~infobound.estimate.safe_alpha.min_safe_alpha`) on batches of rows that
played no part in choosing f. Cut such "certification" rows into k disjoint batches: the k
per-batch values are independent draws of one random variable V with E[V] ≤ I(X; Y), so the
one-sided Student-t lower limit of their mean is a lower confidence limit on E[V], hence on the
MI. The argument, its assumptions and what it does not cover are in docs/estimate.md
("Certified lower limit").

Example:
    >>> import torch
    >>> from infobound.estimate.certify import certified_lower_limit
    >>> x = torch.randn(2000, 1); y = x + 0.5 * torch.randn(2000, 1)
    >>> critic = lambda a, b: -(a - b.T) ** 2          # any function of (x, y) → [n, n] scores
    >>> certified_lower_limit(critic, x, y, batch_size=64).lower   # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import Tensor

from .. import bounds
from .safe_alpha import min_safe_alpha

ScoreFn = Callable[[Tensor, Tensor], Tensor]
"""``score_fn(x [n, dx], y [n, dy]) -> scores [n, n]``, scores[i, j] = f(x_i, y_j)."""

CERTIFYING_BOUNDS = ("ml_cpc", "infonce")
"""Bounds whose expectation stays below I(X; Y) for every critic (ML-CPC only at a safe α)."""


@dataclass(frozen=True)
class CertifiedLimit:
    """A one-sided lower confidence limit on I(X; Y) in nats.

    Attributes:
        lower: mean − t_{level, k−1} · SE; I(X; Y) ≥ lower with confidence ``level``.
        mean: mean of the bound over the k certification batches (itself below the MI in expectation).
        se: standard error of that mean, std(ddof=1) / √k.
        batches: k, the number of disjoint certification batches.
        batch_size: n, rows per batch.
        bound: "ml_cpc" or "infonce".
        alpha: ML-CPC's α (None for InfoNCE).
        level: the one-sided confidence level, e.g. 0.95.
        per_batch: the k per-batch values of the bound.
    """

    lower: float
    mean: float
    se: float
    batches: int
    batch_size: int
    bound: str
    alpha: float | None
    level: float
    per_batch: tuple[float, ...]

    def __float__(self) -> float:
        return float(self.lower)

    def summary(self) -> dict[str, Any]:
        """What an estimate's ``details["certificate"]`` records: every field but the per-batch values."""
        return {"bound": self.bound, "alpha": self.alpha, "batch_size": self.batch_size, "batches": self.batches,
                "mean": self.mean, "se": self.se, "level": self.level}


def _as_rows(data: Any, name: str) -> Tensor:
    t = data if isinstance(data, Tensor) else torch.as_tensor(data)
    if t.ndim == 1:
        t = t[:, None]
    if t.ndim < 2:
        raise ValueError(f"`{name}` must have shape [N, ...], got {tuple(t.shape)}")
    return t


def certified_lower_limit(score_fn: ScoreFn, x_cert: Any, y_cert: Any, *, batch_size: int, bound: str = "ml_cpc",
                          alpha: float | None = None, level: float = 0.95,
                          generator: torch.Generator | None = None) -> CertifiedLimit:
    r"""One-sided lower confidence limit on I(X; Y) from a fixed critic and rows it has never seen.

    The rows are permuted (``generator``), cut into k = ⌊N / n⌋ disjoint batches of n, and the bound
    B(f) is evaluated on each, giving V_1 … V_k. Then

    .. math::
        \text{lower} = \bar V - t_{\text{level},\,k-1}\,\frac{s_V}{\sqrt{k}},
        \qquad E[V] \le I(X; Y) \text{ for every critic } f,

    so P(lower ≤ I) ≥ P(lower ≤ E[V]) = level when V is normal, and → level as k grows otherwise
    (the t limit is a CLT approximation). The guarantee needs ``x_cert, y_cert`` to be i.i.d. pairs
    of p(x, y) and **independent of the critic**: they must not have been used for training, early
    stopping, model or hyper-parameter selection. It does not need the critic to be good — a poor
    critic only makes the limit loose.

    Args:
        score_fn: any critic, ``score_fn(x [n, dx], y [n, dy]) -> [n, n]`` scores (positives on the
            diagonal); called under ``torch.no_grad``. Put modules in eval mode yourself.
        x_cert: certification rows of X, [N, ...] (tensor or array; [N] is read as [N, 1]).
        y_cert: the paired rows of Y, [N, ...].
        batch_size: n, rows per batch; N must give at least two batches.
        bound: "ml_cpc" (default; ceiling log(n/α)) or "infonce" (ceiling log n).
        alpha: ML-CPC's α; None = :func:`~infobound.estimate.safe_alpha.min_safe_alpha` (n), the
            smallest α safe for every critic. A smaller α is refused: it would certify nothing.
        level: one-sided confidence level in (0.5, 1).
        generator: seeds the permutation of the rows (None: torch's global generator).

    Returns:
        :class:`CertifiedLimit`.

    Raises:
        ValueError: unknown bound, an α below the safe value or for InfoNCE, a level outside (0.5, 1),
            mismatched or too few rows, or scores of the wrong shape or not finite.
    """
    if bound not in CERTIFYING_BOUNDS:
        raise ValueError(f"`bound` must be one of {CERTIFYING_BOUNDS} (valid for every critic), got {bound!r}")
    if not (isinstance(batch_size, int) and not isinstance(batch_size, bool) and batch_size >= 2):
        raise ValueError(f"`batch_size` must be an int >= 2, got {batch_size!r}")
    if not (isinstance(level, (int, float)) and 0.5 < level < 1.0):
        raise ValueError(f"`level` must lie strictly between 0.5 and 1, got {level!r}")
    kwargs: dict[str, float] = {}
    if bound == "ml_cpc":
        safe = min_safe_alpha(batch_size)
        alpha = safe if alpha is None else float(alpha)
        if not (math.isfinite(alpha) and alpha <= batch_size):
            raise ValueError(f"`alpha` must be a finite number in (0, n = {batch_size}], got {alpha}")
        if alpha < safe * (1.0 - 1e-12):
            raise ValueError(f"`alpha`={alpha:g} is below min_safe_alpha({batch_size}) = {safe:.4g}: ML-CPC is not a "
                             "lower bound for every critic there, so it certifies nothing")
        kwargs["alpha"] = alpha
    elif alpha is not None:
        raise ValueError(f"`alpha` applies to bound='ml_cpc' only, got alpha={alpha!r} with bound={bound!r}")
    x, y = _as_rows(x_cert, "x_cert"), _as_rows(y_cert, "y_cert")
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"`x_cert` and `y_cert` must have the same number of rows, got {x.shape[0]} and {y.shape[0]}")
    k = x.shape[0] // batch_size
    if k < 2:
        raise ValueError(f"need at least two certification batches: {x.shape[0]} rows with batch_size={batch_size} "
                         f"give {k}; pass >= {2 * batch_size} rows or a smaller batch_size")
    order = torch.randperm(x.shape[0], generator=generator)[:k * batch_size].view(k, batch_size).to(x.device)
    fn = bounds.get(bound)
    values = []
    with torch.no_grad():
        for idx in order:
            scores = score_fn(x[idx], y[idx])
            if not isinstance(scores, Tensor) or tuple(scores.shape) != (batch_size, batch_size):
                shape = tuple(scores.shape) if isinstance(scores, Tensor) else type(scores).__name__
                raise ValueError(f"`score_fn` must return a [{batch_size}, {batch_size}] tensor, got {shape}")
            values.append(float(fn(scores.double(), **kwargs)))
    per_batch = torch.tensor(values, dtype=torch.float64)
    if not bool(torch.isfinite(per_batch).all()):
        raise ValueError(f"the {bound} bound is not finite on some certification batch: the critic's scores "
                         "overflow; rescale the critic")
    from scipy.stats import t as student_t

    mean = float(per_batch.mean())
    se = float(per_batch.std(unbiased=True)) / math.sqrt(k)
    lower = mean - float(student_t.ppf(level, k - 1)) * se
    return CertifiedLimit(lower=lower, mean=mean, se=se, batches=k, batch_size=batch_size, bound=bound,
                          alpha=kwargs.get("alpha"), level=float(level), per_batch=tuple(values))


__all__ = ["CERTIFYING_BOUNDS", "CertifiedLimit", "ScoreFn", "certified_lower_limit"]
