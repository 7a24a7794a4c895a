"""The smallest ML-CPC α that stays a valid lower bound at a given batch size.

Below some α (that depends on the batch size n) ML-CPC's expected value exceeds the true mutual
information: the estimate stops being a lower bound. ``infobound bench validity`` measures that α
by Monte-Carlo; :data:`MEASURED` holds its result and :func:`min_safe_alpha` reads it.

How the table was measured (``infobound bench validity``, the default full grid, seed 0):
correlated Gaussians of dimension 1 and 20 with true MI 0.5, 1, 2, 4, 6, 8 and 10 nats, in-batch
negatives (m = n), the analytic critic log r and the best scaled critic c·log r, c ∈ {0.7, 0.85, 1,
1.2, 1.5} (cross-fitted); for each n the smallest α on a grid of 20 values per decade such that no
larger α shows a significant overshoot (mean − true MI > 3 standard errors over 20,000 batches at
n ≤ 32, 2^26/n² batches above) on any of these tasks, for either critic. See docs/validity.md.

This is a *measured* necessary condition with these critics, not a proof: the reference's rule
α ≥ m/(n(m−1)+1) (:func:`reference_alpha`), which a plug-in check found free of overshoot, lies
about twice as high, and is what we fall back to outside the measured range.
"""

from __future__ import annotations

import math

MEASURED: dict[int, float] = {
    8: 0.0631,
    16: 0.0316,
    32: 0.0158,
    64: 0.00708,
    128: 0.00316,
    256: 0.00141,
}
"""n → smallest α with no significant overshoot, measured by ``infobound bench validity``."""


def reference_alpha(batch_size: int, m: int | None = None) -> float:
    """The reference's plug-in rule (Song & Ermon 2020; PAPERS.md §1): no overshoot for α ≥ m/(n(m−1)+1).

    Args:
        batch_size: n, the number of positive pairs.
        m: samples per anchor (1 positive + m − 1 negatives); m = n for in-batch negatives.
    """
    n = int(batch_size)
    m = n if m is None else int(m)
    if n < 1 or m < 2:
        raise ValueError(f"need n >= 1 and m >= 2, got n = {batch_size}, m = {m}")
    return m / (n * (m - 1) + 1)


def min_safe_alpha(batch_size: int) -> float:
    """Smallest α with no significant overshoot of the true MI for in-batch ML-CPC at this n.

    Inside the measured range (8 ≤ n ≤ 256) the measured values of :data:`MEASURED`, interpolated
    linearly in (log n, log α). Outside it a conservative value, never below a measured one:
    for n < 8 the larger of the reference rule m/(n(m−1)+1) and the value measured at n = 8;
    for n > 256 the smaller of the reference rule and the value measured at n = 256 (the measured
    α shrinks with n, so the n = 256 value stays safe for larger n). The result never increases with n.

    Args:
        batch_size: n, the number of positive pairs per batch (m = n, in-batch negatives).

    Returns:
        The smallest α considered safe at this batch size.
    """
    n = int(batch_size)
    if n < 2:
        raise ValueError(f"`batch_size` must be >= 2, got {batch_size}")
    sizes = sorted(MEASURED)
    if n in MEASURED:
        return MEASURED[n]
    if n < sizes[0]:
        return max(reference_alpha(n), MEASURED[sizes[0]])
    if n > sizes[-1]:
        return min(reference_alpha(n), MEASURED[sizes[-1]])
    hi = next(s for s in sizes if s > n)
    lo = sizes[sizes.index(hi) - 1]
    t = (math.log(n) - math.log(lo)) / (math.log(hi) - math.log(lo))
    return math.exp((1.0 - t) * math.log(MEASURED[lo]) + t * math.log(MEASURED[hi]))


__all__ = ["MEASURED", "min_safe_alpha", "reference_alpha"]
