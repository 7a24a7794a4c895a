"""Train many small critics at once as one batched model.

Training runs that share a data stream and a critic architecture (seeds × bounds × α of a
staircase, say) differ only in their parameters and their bound. We stack the E critics'
parameters (``torch.func.stack_module_state``) and evaluate all of them with one ``vmap``-ed
forward pass — one batched matrix product per layer instead of E small ones — then apply each
run's bound to its own [n, n] slice. The summed loss has independent gradients per run, and Adam
is element-wise, so one Adam over the stacked parameters takes exactly the steps E separate Adams
would: :func:`train_batched` reproduces :func:`train_sequential` run for run (up to float
rounding of batched vs. single matrix products).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch
from torch import Tensor, nn
from torch.func import functional_call, stack_module_state, vmap

from .. import bounds, critics

BatchSampler = Callable[[int], tuple[Tensor, Tensor]]
"""step -> (x [n, dx], y [n, dy]); must be deterministic in ``step`` so every run sees the same stream."""


@dataclass(frozen=True)
class RunConfig:
    """One training run: a bound (with its hyper-parameters), a critic and a seed.

    Attributes:
        bound: registry name (``bounds.available()``).
        bound_kwargs: e.g. {"alpha": 0.01} or {"clip": 5.0}.
        critic: critic name for ``critics.build``.
        critic_kwargs: e.g. {"hidden": 256, "layers": 3, "embed_dim": 32}.
        seed: seeds the critic's initialisation.
        lr: Adam learning rate.
        label: a display name (defaults to the bound and its hyper-parameters).
    """

    bound: str
    bound_kwargs: dict[str, Any] = field(default_factory=dict)
    critic: str = "separable"
    critic_kwargs: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    lr: float = 5e-4
    label: str = ""

    def build_critic(self, dim_x: int, dim_y: int) -> nn.Module:
        torch.manual_seed(self.seed)
        return critics.build(self.critic, dim_x, dim_y, **self.critic_kwargs)

    @property
    def group_key(self) -> tuple[str, str, float]:
        """Runs with equal keys can share one batched model (same architecture and learning rate)."""
        return (self.critic, repr(sorted(self.critic_kwargs.items())), self.lr)


def _bound_caller(run: RunConfig) -> Callable[[Tensor], Tensor]:
    fn = bounds.allow_overflow(bounds.get(run.bound))  # −inf (NWJ overflow) gets no gradient below
    kwargs = dict(run.bound_kwargs)
    if bounds.info(run.bound).stateful:
        kwargs["state"] = bounds.MovingAverage()
    return lambda scores: fn(scores, **kwargs)


def train_sequential(runs: list[RunConfig], sample_batch: BatchSampler, steps: int, dim_x: int, dim_y: int,
                     device: str | torch.device = "cpu") -> np.ndarray:
    """Train each run on its own, one after another (the reference for :func:`train_batched`).

    Returns:
        [len(runs), steps] array of the training-batch estimate (nats) at every step.
    """
    curves = np.zeros((len(runs), steps))
    for r, run in enumerate(runs):
        critic = run.build_critic(dim_x, dim_y).to(device)
        optimiser = torch.optim.Adam(critic.parameters(), lr=run.lr)
        bound = _bound_caller(run)
        for step in range(steps):
            x, y = sample_batch(step)
            estimate = bound(critic(x.to(device), y.to(device)))
            optimiser.zero_grad(set_to_none=True)
            # Same rule as the batched trainer: a non-finite estimate contributes no gradient.
            (-torch.where(torch.isfinite(estimate), estimate, torch.zeros_like(estimate))).backward()
            optimiser.step()
            curves[r, step] = estimate.item()
    return curves


class StackedCritics(nn.Module):
    """E critics of one architecture evaluated together: (x, y) -> scores [E, n, n]."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        if not members:
            raise ValueError("`members` must hold at least one critic")
        kinds = {type(m) for m in members}
        if len(kinds) != 1:
            raise ValueError(f"all stacked critics must share one architecture, got {sorted(k.__name__ for k in kinds)}")
        params, buffers = stack_module_state(members)
        self.params = nn.ParameterDict({k.replace(".", "__"): nn.Parameter(v) for k, v in params.items()})
        self._buffers_stacked = buffers
        # A parameter-free copy on the meta device serves as the functional template.
        self._template = [copy.deepcopy(members[0]).to("meta")]
        self.size = len(members)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        params = {k.replace("__", "."): v for k, v in self.params.items()}

        def one(p: dict[str, Tensor], b: dict[str, Tensor]) -> Tensor:
            return functional_call(self._template[0], (p, b), (x, y))

        return vmap(one)(params, self._buffers_stacked)


def train_batched(runs: list[RunConfig], sample_batch: BatchSampler, steps: int, dim_x: int, dim_y: int,
                  device: str | torch.device = "cpu") -> np.ndarray:
    """Train all runs together, one stacked model per architecture group.

    Each group sees the stream ``sample_batch(step)`` once per step, however many runs it holds.

    Returns:
        [len(runs), steps] array of the training-batch estimate (nats) at every step, in the
        order of ``runs`` — the same numbers :func:`train_sequential` gives.
    """
    groups: dict[tuple, list[int]] = {}
    for i, run in enumerate(runs):
        groups.setdefault(run.group_key, []).append(i)
    curves = np.zeros((len(runs), steps))
    for indices in groups.values():
        members = [runs[i].build_critic(dim_x, dim_y) for i in indices]
        stacked = StackedCritics(members).to(device)
        optimiser = torch.optim.Adam(stacked.parameters(), lr=runs[indices[0]].lr)
        callers = [_bound_caller(runs[i]) for i in indices]
        for step in range(steps):
            x, y = sample_batch(step)
            scores = stacked(x.to(device), y.to(device))
            estimates = torch.stack([call(scores[e]) for e, call in enumerate(callers)])
            optimiser.zero_grad(set_to_none=True)
            # Runs are independent: the gradient of the sum w.r.t. run e's slice is run e's own gradient.
            # A −inf estimate (NWJ overflow) must not poison the others' gradients.
            finite = torch.isfinite(estimates)
            (-(torch.where(finite, estimates, torch.zeros_like(estimates))).sum()).backward()
            optimiser.step()
            curves[indices, step] = estimates.detach().cpu().numpy()
    return curves


def gaussian_stream(task_at: Callable[[int], Any], batch_size: int, seed: int = 0,
                    device: str | torch.device = "cpu") -> BatchSampler:
    """A deterministic data stream: step t draws a fresh batch of ``task_at(t)`` seeded by (seed, t)."""

    def sample(step: int) -> tuple[Tensor, Tensor]:
        return task_at(step).sample(batch_size, seed=seed * 1_000_003 + step, device=device)

    return sample


__all__ = ["RunConfig", "StackedCritics", "gaussian_stream", "train_batched", "train_sequential"]
