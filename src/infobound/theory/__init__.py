"""Exact, small-scale checks of the theory behind the benchmarks (no training, no sampling).

- :mod:`.information`: entropies and (conditional) mutual information of discrete joint tables;
- :mod:`.infocl`: InfoCL's Theorem 1 (a minimal sufficient representation loses I(v1; T | v2));
- :mod:`.metric_learning`: InfoNCE = log n − multi-class K-pair loss, and its relation to the
  triplet loss (Tschannen et al. 2020, §4).
"""

from .infocl import Theorem1Check, minimal_sufficient_representation, shared_private_example, synergy_counterexample, theorem1
from .information import Joint
from .metric_learning import kpair_loss, soft_triplet_loss, triplet_loss

__all__ = ["Joint", "Theorem1Check", "kpair_loss", "minimal_sufficient_representation", "shared_private_example",
           "soft_triplet_loss", "synergy_counterexample", "theorem1", "triplet_loss"]
