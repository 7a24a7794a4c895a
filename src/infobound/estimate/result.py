"""The one result type every estimator returns, neural or not."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class EstimateResult:
    """A mutual-information estimate in nats.

    Attributes:
        value: the estimate (nats). For neural estimators it is measured on held-out data.
        ci: (low, high) interval around ``value`` where meaningful (e.g. a normal interval from the
            held-out batches), else None.
        method: "neural", "ksg", "cca", "histogram", ...
        bound: the bound's registry name for neural estimators, else None.
        n_samples: number of samples used in total.
        seconds: wall time of the estimate.
        history: per-evaluation training history (e.g. {"step": [...], "train": [...], "heldout": [...]}).
        details: anything estimator-specific (critic, hyper-parameters, batch size, k, ...).
    """

    value: float
    ci: tuple[float, float] | None = None
    method: str = "neural"
    bound: str | None = None
    n_samples: int = 0
    seconds: float = 0.0
    history: dict[str, list[float]] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def __float__(self) -> float:
        return float(self.value)

    def __str__(self) -> str:
        interval = f" [{self.ci[0]:.3f}, {self.ci[1]:.3f}]" if self.ci else ""
        what = f"{self.method}/{self.bound}" if self.bound else self.method
        return f"{self.value:.3f} nats{interval} ({what}, n={self.n_samples}, {self.seconds:.1f}s)"
