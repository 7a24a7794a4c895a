"""The smallest ML-CPC α that stays a valid lower bound at a given batch size.

Placeholder rule until ``infobound bench validity`` measures it: the reference's plug-in check
found no overshoot for α ≥ m/(n(m−1)+1) with m = n (in-batch negatives).
"""

from __future__ import annotations


def min_safe_alpha(batch_size: int) -> float:
    """Smallest α with no significant overshoot of the true MI for in-batch ML-CPC at this n."""
    n = int(batch_size)
    if n < 2:
        raise ValueError(f"`batch_size` must be >= 2, got {batch_size}")
    return n / (n * (n - 1) + 1)
