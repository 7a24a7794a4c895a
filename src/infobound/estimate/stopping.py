"""Early stopping on a held-out score, shared by the neural and f-DIME estimators."""

from __future__ import annotations

import copy
import math
from typing import Any

from torch import nn


class BestCritic:
    """Keeps the critic's weights at its best held-out score and counts evaluations without a gain.

    Args:
        critic: the module whose ``state_dict`` is copied at each new best.
        patience: evaluations without improvement after which :meth:`update` says stop.
        initial: the score to beat (e.g. the untrained critic's, which is then kept as the best state).
    """

    def __init__(self, critic: nn.Module, patience: int, initial: float = -math.inf) -> None:
        self.critic, self.patience = critic, patience
        self.value, self.step, self.stale = initial, 0, 0
        self.state: dict[str, Any] | None = (copy.deepcopy(critic.state_dict()) if math.isfinite(initial) else None)

    def update(self, value: float, step: int) -> bool:
        """Record the score at ``step``; True when ``patience`` evaluations passed without a gain."""
        if value > self.value:
            self.value, self.step, self.stale = value, step, 0
            self.state = copy.deepcopy(self.critic.state_dict())
            return False
        self.stale += 1
        return self.stale >= self.patience

    def restore(self) -> None:
        """Load the best weights back into the critic (a no-op when none was recorded)."""
        if self.state is not None:
            self.critic.load_state_dict(self.state)


__all__ = ["BestCritic"]
