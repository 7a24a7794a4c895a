"""Early stopping on a held-out score, shared by the neural, f-DIME and flow estimators."""

from __future__ import annotations

import copy
import math
import sys
from typing import Any, Callable

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm


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


def train_with_early_stopping(module: nn.Module, loss: Callable[[Tensor], Tensor], validate: Callable[[], float], *,
                              n_train: int, batch_size: int, lr: float, max_steps: int, eval_interval: int,
                              patience: int, generator: torch.Generator, history_key: str, desc: str,
                              progress: bool) -> dict[str, Any]:
    """Adam on ``loss`` over shuffled mini-batches of the training rows, with held-out early stopping.

    Every step takes the next ``batch_size`` row indices of a random permutation (a new one drawn from
    ``generator`` when fewer rows are left) and minimises ``loss(indices)``; a non-finite loss stops
    training ("diverged"). Every ``eval_interval`` steps ``validate()`` (higher is better) is recorded,
    and after ``patience`` evaluations without a gain training stops ("early_stopping"). The module
    starts as the best state (its score is ``validate()`` before training) and the best state is
    restored at the end.

    Returns:
        ``{"history": {"step": [...], history_key: [...]}, "steps", "best_step", "stop_reason"}``; the
        module is left in eval mode.
    """
    optimiser = torch.optim.Adam(module.parameters(), lr=lr)
    with torch.no_grad():
        initial = validate()
    keeper = BestCritic(module, patience, initial)  # the starting point is kept if nothing beats it
    history: dict[str, list[float]] = {"step": [0.0], history_key: [initial]}
    step, stop = 0, "max_steps"
    perm, cursor = torch.randperm(n_train, generator=generator), 0
    bar = tqdm(total=max_steps, desc=desc, unit="step", leave=False, disable=None if progress else True,
               file=sys.stderr)
    for step in range(1, max_steps + 1):
        bar.update(1)
        if cursor + batch_size > n_train:
            perm, cursor = torch.randperm(n_train, generator=generator), 0
        idx = perm[cursor:cursor + batch_size]
        cursor += batch_size
        value = loss(idx)
        if not math.isfinite(value.item()):
            stop = "diverged"
            break
        optimiser.zero_grad(set_to_none=True)
        value.backward()
        optimiser.step()
        if step % eval_interval:
            continue
        with torch.no_grad():
            current = validate()
        history["step"].append(float(step))
        history[history_key].append(current)
        bar.set_postfix(validation=f"{current:.3f}", best=f"{max(keeper.value, current):.3f}")
        if keeper.update(current, step):
            stop = "early_stopping"
            break
    bar.close()
    keeper.restore()
    module.eval()
    return {"history": history, "steps": step, "best_step": keeper.step, "stop_reason": stop}


def train_max_likelihood(model: nn.Module, a_tr: Tensor, b_tr: Tensor, a_val: Tensor, b_val: Tensor, *,
                         batch_size: int, lr: float, max_steps: int, eval_interval: int, patience: int,
                         generator: torch.Generator, desc: str, progress: bool = True) -> dict[str, Any]:
    """Maximum likelihood of ``model.log_likelihood(a, b)`` (one value per row) with early stopping.

    The loss is the batch's mean negative log-likelihood; the validation rows' mean log-likelihood
    (−∞ when not finite) decides early stopping and which state is restored
    (:func:`train_with_early_stopping`; its history key ``validation_log_likelihood``). The density
    models of ``method="flow"`` and ``method="doe"`` both train this way.
    """
    n_train = a_tr.shape[0]

    def loss(idx: Tensor) -> Tensor:
        return -model.log_likelihood(a_tr[idx], b_tr[idx]).mean()

    def validate() -> float:
        current = float(model.log_likelihood(a_val, b_val).mean())
        return current if math.isfinite(current) else -math.inf

    return train_with_early_stopping(model, loss, validate, n_train=n_train, batch_size=min(batch_size, n_train),
                                     lr=lr, max_steps=max_steps, eval_interval=eval_interval, patience=patience,
                                     generator=generator, history_key="validation_log_likelihood", desc=desc,
                                     progress=progress)


__all__ = ["BestCritic", "train_max_likelihood", "train_with_early_stopping"]
