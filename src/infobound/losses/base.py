"""What every objective returns, the α schedule, and the MI read-out with its ceiling warning."""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass
from typing import Callable, NamedTuple, Sequence, Union

from torch import Tensor

log = logging.getLogger(__name__)


class ContrastiveOutput(NamedTuple):
    """Result of one objective call.

    Attributes:
        loss: 0-dim tensor to minimise (carries the gradient).
        mi_lower_bound: 0-dim detached tensor, the lower bound on I(z1; z2) in nats that the
            objective implies on this batch (for every objective, the doc says which bound).
        ceiling: the largest value that bound can take on this batch: log n, log(n/α), or inf.
    """

    loss: Tensor
    mi_lower_bound: Tensor
    ceiling: float


@dataclass(frozen=True)
class GeometricAlphaSchedule:
    """α decaying geometrically from ``start`` to ``end`` over training (Song & Ermon's MoCo runs: 10 → 0.1).

    ``schedule(progress) = start · (end/start)^progress`` for progress ∈ [0, 1]. The official code
    steps it per epoch with progress = epoch/epochs; pass that, or the per-step fraction.
    """

    start: float = 10.0
    end: float = 0.1

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"GeometricAlphaSchedule `{name}` must be a finite number > 0, got {value}")

    def __call__(self, progress: float) -> float:
        progress = float(progress)
        if not (-1e-9 <= progress <= 1.0 + 1e-9):
            raise ValueError(f"`progress` must lie in [0, 1], got {progress}")
        progress = min(max(progress, 0.0), 1.0)
        return math.exp(math.log(self.start) + progress * (math.log(self.end) - math.log(self.start)))


AlphaSpec = Union[float, str, Sequence[float], Callable[[float], float]]


class Alpha:
    """A fixed α or a schedule of it, read with the training progress.

    Accepts a number, a ``(start, end)`` pair or the string ``"geometric"`` (10 → 0.1) for
    :class:`GeometricAlphaSchedule`, or any callable ``progress -> α``. A schedule called without a
    progress keeps the α of the last progress it saw (its start before any), so validation steps
    that pass no progress use the current training α.
    """

    def __init__(self, spec: AlphaSpec) -> None:
        if isinstance(spec, str):
            if spec.strip().lower() != "geometric":
                raise ValueError(f"`alpha` string must be 'geometric', got {spec!r}; pass a number or (start, end)")
            spec = GeometricAlphaSchedule()
        elif isinstance(spec, (list, tuple)):
            if len(spec) != 2:
                raise ValueError(f"`alpha` as a schedule must be (start, end), got {spec!r}")
            spec = GeometricAlphaSchedule(float(spec[0]), float(spec[1]))
        if callable(spec):
            self.schedule: Callable[[float], float] | None = spec
            self._progress = 0.0
        else:
            value = float(spec)
            if not (value > 0 and math.isfinite(value)):
                raise ValueError(f"`alpha` must be a finite number > 0, got {spec}")
            self.schedule, self.fixed = None, value

    def __call__(self, progress: float | None = None) -> float:
        if self.schedule is None:
            return self.fixed
        if progress is not None:
            self._progress = float(progress)
        return float(self.schedule(self._progress))

    def __repr__(self) -> str:
        return f"Alpha({self.schedule!r})" if self.schedule is not None else f"Alpha({self.fixed:g})"


class CeilingWarning(UserWarning):
    """The MI lower bound sits at the largest value its objective can report."""


class MIReadout:
    """Turns :class:`ContrastiveOutput` into a logged number of nats; warns once at the ceiling.

    An InfoNCE bound cannot exceed log n and an ML-CPC bound log(n/α): when the estimate reaches
    that cap, the objective no longer measures the MI (which may be far larger) and its gradient
    fades. The read-out warns (a :class:`CeilingWarning` and a log record) the first time the bound
    comes within ``margin`` nats of the ceiling, then stays quiet.

    Example:
        >>> readout = MIReadout("simclr/infonce")
        >>> out = objective(z1, z2)                    # doctest: +SKIP
        >>> self.log("mi_nats", readout(out))          # doctest: +SKIP
    """

    def __init__(self, name: str = "objective", margin: float = 0.1) -> None:
        if not margin >= 0:
            raise ValueError(f"`margin` must be >= 0 nats, got {margin}")
        self.name, self.margin = name, float(margin)
        self.warned = False
        self.last: float | None = None

    def __call__(self, output: ContrastiveOutput) -> float:
        """The bound in nats (a float); warns the first time it is within ``margin`` of the ceiling."""
        value = float(output.mi_lower_bound)
        self.last = value
        if not self.warned and math.isfinite(output.ceiling) and value >= output.ceiling - self.margin:
            self.warned = True
            message = (f"{self.name}: the MI lower bound ({value:.3f} nats) sits at its ceiling "
                       f"({output.ceiling:.3f} nats = log n or log(n/α)); it can no longer tell how much "
                       f"information the views share. Use a larger batch or queue, or ML-CPC with a smaller α.")
            log.warning(message)
            warnings.warn(message, CeilingWarning, stacklevel=2)
        return value
