"""Input validation shared by every bound, and the one place that fixes the compute precision.

Cheap structural checks (shape, size, α) run on every call. The expensive element-wise scan for
NaN/Inf runs only when a result is not finite: a full ``isfinite`` pass over a 2048×2048 input
costs more than the InfoNCE bound itself, so we diagnose the input only when it matters.

Precision policy: :func:`checked_scores` / :func:`checked_positives_negatives` hand the bounds their
input in :func:`compute_dtype` — float16 and bfloat16 are cast up to float32, float32 and float64 are
left alone (no copy). Every reduction (logsumexp, softplus, exp-means) therefore runs in at least
float32 and a half-precision caller gets a float32 result; the cast is differentiable, so gradients
reach the caller's tensor in its own dtype. The ops the bounds use (no matmul) are not lowered by
``torch.autocast``, so the result is the same under autocast. In half precision a 256×256 bound is
off by up to 0.07 nats and float16 overflows e^x at x > 11 (``benchmarks/half_precision.py``).
"""

from __future__ import annotations

import math
import sys

import torch
from torch import Tensor


def check_scores(scores: Tensor, name: str = "scores") -> int:
    """Validate a square score matrix and return its size n.

    Raises:
        TypeError: ``scores`` is not a floating-point tensor.
        ValueError: ``scores`` is not 2-d and square, or has fewer than 2 rows.
    """
    if not isinstance(scores, Tensor):
        raise TypeError(f"`{name}` must be a torch.Tensor, got {type(scores).__name__}")
    if not scores.is_floating_point():
        raise TypeError(f"`{name}` must be a floating-point tensor, got dtype {scores.dtype}")
    if scores.dim() != 2 or scores.shape[0] != scores.shape[1]:
        raise ValueError(
            f"`{name}` must be a square [n, n] matrix with positive pairs on the diagonal, "
            f"got shape {tuple(scores.shape)}"
        )
    n = scores.shape[0]
    if n < 2:
        raise ValueError(f"`{name}` needs at least 2 samples (n >= 2) to have negatives, got n = {n}")
    return n


def compute_dtype(dtype: torch.dtype) -> torch.dtype:
    """The dtype a bound computes in for inputs of ``dtype``: float64 stays, everything else is float32."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def upcast(t: Tensor) -> Tensor:
    """``t`` in :func:`compute_dtype` (the same tensor when it already is; a differentiable cast otherwise)."""
    if t.dtype == torch.float32 or t.dtype == torch.float64:
        return t
    return t.to(compute_dtype(t.dtype))


def checked_scores(scores: Tensor, name: str = "scores") -> tuple[Tensor, int]:
    """Validate a square score matrix (as :func:`check_scores`); return it in the compute dtype, and n."""
    n = check_scores(scores, name)
    return upcast(scores), n


def check_positives_negatives(positives: Tensor, negatives: Tensor) -> tuple[int, int]:
    """Validate explicit positives [n] and negatives [n, k]; return (n, k)."""
    for name, t in (("positives", positives), ("negatives", negatives)):
        if not isinstance(t, Tensor) or not t.is_floating_point():
            raise TypeError(f"`{name}` must be a floating-point torch.Tensor")
    if positives.dim() != 1:
        raise ValueError(f"`positives` must have shape [n], got {tuple(positives.shape)}")
    if negatives.dim() != 2 or negatives.shape[0] != positives.shape[0]:
        raise ValueError(
            f"`negatives` must have shape [n, k] with n = {positives.shape[0]} matching `positives`, "
            f"got {tuple(negatives.shape)}"
        )
    n, k = negatives.shape
    if n < 1 or k < 1:
        raise ValueError(f"need at least one positive and one negative per row, got n = {n}, k = {k}")
    return n, k


def checked_positives_negatives(positives: Tensor, negatives: Tensor) -> tuple[Tensor, Tensor, int, int]:
    """Validate (as :func:`check_positives_negatives`); return both in one compute dtype, and (n, k)."""
    n, k = check_positives_negatives(positives, negatives)
    dtype = compute_dtype(torch.promote_types(positives.dtype, negatives.dtype))
    return positives.to(dtype), negatives.to(dtype), n, k


def check_alpha(alpha: float, upper: float | None = None, name: str = "alpha") -> float:
    """α must be a finite positive number, at most ``upper`` where given."""
    alpha = float(alpha)
    if not (alpha > 0.0) or alpha != alpha or alpha == float("inf"):
        raise ValueError(f"`{name}` must be a finite number > 0, got {alpha}")
    if upper is not None and alpha > upper:
        raise ValueError(f"`{name}` must be <= {upper:g} here (the negative weights turn negative above it), got {alpha}")
    return alpha


class BoundOverflowError(ValueError):
    """A bound's value left the floating-point range although its inputs are finite.

    The exponential bounds (NWJ, TUBA, JS's value, f-divergences) evaluate e^score; in float32 that
    overflows for scores above 88.7, and the value is then ±inf. ``result`` holds that ±inf tensor
    (still attached to the graph) for the loops that skip such steps on purpose
    (:func:`infobound.bounds.allow_overflow`).
    """

    def __init__(self, message: str, result: Tensor) -> None:
        super().__init__(message)
        self.result = result


def ensure_finite_inputs(result: Tensor, bound: str | None = None, /, **inputs: Tensor | None) -> Tensor:
    """Return ``result`` when it is finite; otherwise raise an error that names ``bound``.

    ``bound`` defaults to the calling function's name (looked up only on the error path).

    Raises:
        ValueError: an input holds NaN/Inf (the message counts them), or the result is NaN from
            finite inputs (never returned silently).
        BoundOverflowError: the result is ±inf from finite inputs (e^score overflowed).
    """
    # Reading the scalar directly: ``bool(torch.isfinite(result).all())`` dispatches two tensor ops and
    # costs ~35 µs per forward+backward on one CPU thread, about 20 % of InfoNCE itself at n = 128.
    finite = math.isfinite(result.item()) if result.numel() == 1 else bool(torch.isfinite(result).all())
    if finite:
        return result
    bound = bound or sys._getframe(1).f_code.co_name
    largest = 0.0
    for name, t in inputs.items():
        if t is None or not isinstance(t, Tensor):
            continue
        bad = ~torch.isfinite(t)
        if bool(bad.any()):
            n_nan = int(torch.isnan(t).sum())
            n_inf = int(bad.sum()) - n_nan
            raise ValueError(f"{bound}: `{name}` contains non-finite values ({n_nan} NaN, {n_inf} ±Inf)")
        if t.numel():
            largest = max(largest, float(t.detach().abs().max()))
    flat = result.detach().flatten()
    value = flat[~torch.isfinite(flat)][0].item()
    message = (f"{bound}: the result is {value} from finite inputs (largest |score| {largest:.4g}, computed in "
               f"{str(result.dtype).replace('torch.', '')})")
    if math.isnan(value):  # inf − inf of two overflowing terms (Pearson, Tsallis): never handed back, not even by allow_overflow
        raise ValueError(message + ": two terms overflowed (inf − inf); scale the scores down or use a log-space "
                         "bound (infonce, ml_cpc)")
    raise BoundOverflowError(message + ": e^score left the floating-point range; scale the scores down or use "
                             "a log-space bound (infonce, ml_cpc)", result)
