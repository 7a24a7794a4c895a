"""The smallest ML-CPC α that stays a valid lower bound for every critic at a given batch size.

Below some α (that depends on the batch size n) ML-CPC's expected value can exceed the true mutual
information: the estimate stops being a lower bound. A lower bound has to hold for *every* critic,
including one trained to break it, so the α used by ``estimate_mi`` and by the certified lower limit
(:mod:`infobound.estimate.certify`) is the reference's rule α ≥ m/(n(m−1)+1) with m = n (in-batch
negatives), :func:`reference_alpha`.

Status of that rule (docs/validity.md): the ML-CPC paper proves a range of this form for its
estimator; docs/validity.md writes out how far the argument carries over to the in-batch estimator
with one normaliser over all n² pairs, and where it has a gap. Independently, ``infobound bench
validity`` trains critics (quadratic, concat-MLP and separable residual families) to *maximise*
ML-CPC on correlated Gaussians (MI 1–8 nats, d = 1 and 3, n = 8…256) and evaluates them on
independent batches: none overshoots the truth significantly at this α, while the same search
breaks the smaller α that the analytic critic alone suggested (:data:`ANALYTIC_CRITIC_ONLY`).
"""

from __future__ import annotations

ANALYTIC_CRITIC_ONLY: dict[int, float] = {
    8: 0.0631,
    16: 0.0316,
    32: 0.0158,
    64: 0.00708,
    128: 0.00316,
    256: 0.00141,
}
"""n → smallest α with no significant overshoot for the analytic critic log r and its scalings c·log r.

Kept for the record and for the tests: these values are **not** safe for every critic. The quadratic
critic f = 54.22·xy − 26.78·(x² + y²) − 0.0357·(xy)² on a 1-d Gaussian with I = 2 nats reads
2.0197 ± 0.0009 at n = 8, α = 0.0631 (issue 10), and adversarially trained critics overshoot at
the other n too (docs/validity.md). Do not use them as a default.
"""


def reference_alpha(batch_size: int, m: int | None = None) -> float:
    """The reference's rule (Song & Ermon 2020; PAPERS.md §1): α ≥ m/(n(m−1)+1) keeps ML-CPC a lower bound.

    At this α the ceiling log(m/α) equals log(n(m−1)+1): one plus the number of negatives in the batch.

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
    """Smallest α at which in-batch ML-CPC (m = n) is treated as a lower bound for every critic: n/(n(n−1)+1).

    The reference's rule (:func:`reference_alpha`), about 1/(n−1): 0.140 at n = 8, 0.0159 at n = 64,
    0.00392 at n = 256. Adversarial critics trained to maximise ML-CPC stay below the truth there and
    break the analytic-critic values of :data:`ANALYTIC_CRITIC_ONLY` (docs/validity.md). The result
    decreases with n.

    Args:
        batch_size: n, the number of positive pairs per batch (m = n, in-batch negatives).

    Returns:
        The smallest α considered safe at this batch size.
    """
    n = int(batch_size)
    if n < 2:
        raise ValueError(f"`batch_size` must be >= 2, got {batch_size}")
    return reference_alpha(n)


__all__ = ["ANALYTIC_CRITIC_ONLY", "min_safe_alpha", "reference_alpha"]
