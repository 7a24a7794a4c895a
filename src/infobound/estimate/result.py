"""The one result type every estimator returns, neural or not."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import Tensor


@dataclass(frozen=True)
class EstimateResult:
    """A mutual-information estimate in nats.

    Attributes:
        value: the estimate (nats). For neural estimators it is measured on held-out data.
        ci: the *sampling interval* (low, high) around ``value`` where meaningful, else None (also
            readable as :attr:`sampling_interval`). For neural estimators it is mean ± t·SE over the
            held-out batches: it covers the noise of evaluating a fixed critic on finite data, **not**
            the bias of the bound or of the critic's training, so it usually does not contain the
            true MI (a lower bound sits below it). It is not a confidence interval on I(X; Y); for a
            statement about I(X; Y) read :attr:`lower`. The name ``ci`` is kept for compatibility.
        lower: a certified one-sided 95% lower confidence limit on I(X; Y) (nats): a bound valid for
            every critic, evaluated with the final critic on rows used neither for training nor for
            early stopping (docs/estimate.md, "Certified lower limit"). None for estimators without
            such a guarantee (KSG, Gaussian, histogram, …) or when certification is switched off.
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
    lower: float | None = None

    @property
    def sampling_interval(self) -> tuple[float, float] | None:
        """(low, high): the held-out sampling interval around ``value`` (the same as ``ci``; not a CI on the MI)."""
        return self.ci

    def __float__(self) -> float:
        return float(self.value)

    def __str__(self) -> str:
        """E.g. ``1.81 nats (sampling interval [1.77, 1.85]); certified I ≥ 1.70 at 95% (neural/ml_cpc, n=5000, 3.1s)``."""
        text = f"{self.value:.2f} nats"
        if self.ci:
            text += f" (sampling interval [{self.ci[0]:.2f}, {self.ci[1]:.2f}])"
        if self.lower is not None:
            text += f"; certified I ≥ {self.lower:.2f} at 95%"
        what = f"{self.method}/{self.bound}" if self.bound else self.method
        return f"{text} ({what}, n={self.n_samples}, {self.seconds:.1f}s)"


def mean_and_sampling_interval(values: Tensor) -> tuple[float, tuple[float, float]]:
    """Mean over k held-out batches (or rows) ± t·SE, t the 97.5% Student-t quantile with k − 1 degrees of freedom.

    With few batches the standard error is itself noisy, so 1.96 (the k → ∞ limit) would give
    too narrow an interval: t = 2.45 for k = 7, 4.30 for k = 3. It covers the sampling noise of the
    evaluation, not the estimator's bias: it is not a confidence interval on I(X; Y).
    """
    from scipy.stats import t as student_t

    k = values.numel()
    mean = float(values.mean())
    half_width = float(student_t.ppf(0.975, k - 1)) * float(values.std(unbiased=True)) / math.sqrt(k)
    return mean, (mean - half_width, mean + half_width)

