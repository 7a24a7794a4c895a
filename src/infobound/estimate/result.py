"""The one result type every estimator returns, neural or not."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class EstimateResult:
    """A mutual-information estimate in nats.

    Attributes:
        value: the estimate (nats). For neural estimators it is measured on held-out data.
        ci: (low, high) sampling interval around ``value`` where meaningful (e.g. a Student-t interval
            over held-out batches or rows), else None. It covers the noise of the held-out evaluation
            only, not the estimator's bias: it need not contain the true MI.
        lower: a certified one-sided 95% lower confidence limit on I(X; Y) (a valid bound with the
            final critic on rows that took no part in training or selection), or None for
            estimators without such a guarantee.
        method: "neural", "ksg", "cca", "histogram", ...
        bound: the bound's registry name for neural estimators, else None.
        n_samples: number of samples used in total.
        seconds: wall time of the estimate.
        history: per-evaluation training history (e.g. {"step": [...], "train": [...], "heldout": [...]}).
        details: anything estimator-specific (critic, hyper-parameters, batch size, k, ...).
    """

    value: float
    ci: tuple[float, float] | None = None
    lower: float | None = None
    method: str = "neural"
    bound: str | None = None
    n_samples: int = 0
    seconds: float = 0.0
    history: dict[str, list[float]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def __float__(self) -> float:
        return float(self.value)

    def __str__(self) -> str:
        interval = f" (sampling interval [{self.ci[0]:.3f}, {self.ci[1]:.3f}])" if self.ci else ""
        certified = f"; certified I ≥ {self.lower:.3f} at 95%" if self.lower is not None else ""
        what = f"{self.method}/{self.bound}" if self.bound else self.method
        return f"{self.value:.3f} nats{interval}{certified} ({what}, n={self.n_samples}, {self.seconds:.1f}s)"
