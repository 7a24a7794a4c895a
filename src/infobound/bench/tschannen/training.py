"""The shared two-view training loop of the Tschannen benchmark.

Two encoders g1, g2 map view 1 and view 2 of a batch to features; a critic turns the features into
a score matrix; a bound (any registered name) turns the scores into nats. Adam minimises an
objective of the bound value (−I for maximisation, |I − t| for the "encoder" experiment). Every
``eval_every`` steps the loop records the bound on held-out test pairs and the accuracy of a linear
probe (:func:`infobound.eval.linear_probe`) on g1(view 1), as the paper does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
import torch
from torch import Tensor, nn

from ... import bounds
from ...data.halves import TwoViewSplits
from ...eval import linear_probe
from ...models.flows import jacobian_log_condition

_LABELS = {"infonce": "I_NCE", "nwj": "I_NWJ"}


@dataclass(frozen=True)
class BoundSpec:
    """A bound by name with its hyper-parameters, parsed from ``"name"`` or ``"name:key=value,..."``.

    Examples: ``"infonce"``, ``"nwj"``, ``"ml_cpc:alpha=0.1"``, ``"smile:clip=5"``.
    """

    name: str
    kwargs: dict[str, float] = field(default_factory=dict)

    @classmethod
    def parse(cls, spec: str) -> "BoundSpec":
        name, _, rest = spec.partition(":")
        kwargs: dict[str, float] = {}
        for item in filter(None, (s.strip() for s in rest.split(","))):
            key, eq, value = item.partition("=")
            if not eq:
                raise ValueError(f"bound option {item!r} in {spec!r} must read key=value")
            kwargs[key.strip()] = float(value)
        bounds.info(name)  # raises ValueError naming the registered bounds when unknown
        return cls(name.strip(), kwargs)

    @property
    def label(self) -> str:
        base = _LABELS.get(bounds.info(self.name).name, self.name)
        return base + ("(" + ", ".join(f"{k}={v:g}" for k, v in self.kwargs.items()) + ")" if self.kwargs else "")

    def __call__(self, scores: Tensor) -> Tensor:
        """The bound's value in nats (stateless: MINE reports its DV value)."""
        return bounds.allow_overflow(bounds.get(self.name))(scores, **self.kwargs)

    def trainer(self) -> Callable[[Tensor], Tensor]:
        """The training objective's bound: stateful bounds (MINE) get a fresh moving average per run."""
        fn, kwargs = bounds.allow_overflow(bounds.get(self.name)), dict(self.kwargs)
        if bounds.info(self.name).stateful:
            kwargs["state"] = bounds.MovingAverage()
        return lambda scores: fn(scores, **kwargs)


def batches(n: int, batch_size: int, gen: torch.Generator) -> Iterator[Tensor]:
    """Index batches forever: a fresh permutation per epoch, incomplete last batch dropped."""
    if batch_size > n:
        raise ValueError(f"batch size {batch_size} exceeds the {n} training examples")
    while True:
        perm = torch.randperm(n, generator=gen)
        for start in range(0, n - batch_size + 1, batch_size):
            yield perm[start:start + batch_size]


@torch.no_grad()
def encode(encoder: nn.Module, x: Tensor, chunk: int = 1024) -> Tensor:
    """Features of all rows of ``x`` in eval mode, ``chunk`` rows at a time."""
    was_training = encoder.training
    encoder.eval()
    try:
        return torch.cat([encoder(x[i:i + chunk]) for i in range(0, len(x), chunk)])
    finally:
        encoder.train(was_training)


def probe_accuracy(encoder: nn.Module | None, data: TwoViewSplits, noise: tuple[Tensor, Tensor] | None = None) -> float:
    """Linear-probe test accuracy on g1(view 1) (``encoder=None``: raw view 1, the pixel baseline).

    ``noise`` (fixed tensors for the train and test views) is added first, as the paper does for the
    noisy-input runs.
    """
    x_tr, x_te = data.view1_train, data.view1_test
    if noise is not None:
        x_tr, x_te = x_tr + noise[0], x_te + noise[1]
    if encoder is not None:
        x_tr, x_te = encode(encoder, x_tr), encode(encoder, x_te)
    return linear_probe(x_tr, data.y_train, x_te, data.y_test)


def probe_noise(data: TwoViewSplits, noise_std: float, seed: int) -> tuple[Tensor, Tensor] | None:
    """One fixed noise draw for the probe's train and test view-1 inputs (None when ``noise_std`` is 0)."""
    if noise_std <= 0:
        return None
    gen = torch.Generator().manual_seed(seed + 104729)
    return tuple((noise_std * torch.randn(v.shape, generator=gen)).to(v.device)  # type: ignore[return-value]
                 for v in (data.view1_train, data.view1_test))


@torch.no_grad()
def held_out_bound(g1: nn.Module, g2: nn.Module, critic: nn.Module, bound: Callable[[Tensor], Tensor],
                   data: TwoViewSplits, batch_size: int, noise_std: float, gen: torch.Generator) -> float:
    """Mean bound value over the test pairs, cut into batches of the training size (a fixed shuffle)."""
    modules = (g1, g2, critic)
    states = [m.training for m in modules]
    for m in modules:
        m.eval()
    try:
        n = len(data.view1_test)
        size = min(batch_size, n)
        perm = torch.randperm(n, generator=gen)
        values = []
        for start in range(0, n - size + 1, size):
            idx = perm[start:start + size]
            x1, x2 = data.view1_test[idx], data.view2_test[idx]
            if noise_std > 0:
                noise = (noise_std * torch.randn(x1.shape, generator=gen)).to(x1.device)
                x1, x2 = x1 + noise, x2 + noise
            values.append(float(bound(critic(g1(x1), g2(x2)))))
        return float(np.mean(values))
    finally:
        for m, s in zip(modules, states):
            m.train(s)


def train_two_view(g1: nn.Module, g2: nn.Module, critic: nn.Module, bound: BoundSpec, data: TwoViewSplits, *,
                   steps: int, eval_every: int, batch_size: int = 128, lr: float = 1e-4, noise_std: float = 0.0,
                   target: float | None = None, condition_examples: int = 0, seed: int = 0,
                   probe: bool = True) -> dict[str, Any]:
    """Train g1, g2 and the critic on (view 1, view 2) pairs and record the paper's curves.

    Args:
        g1, g2, critic: modules; the critic maps (g1(x1) [n, d1], g2(x2) [n, d2]) to scores [n, n].
        bound: the MI bound (value in nats) to maximise.
        data: flat two-view splits.
        steps: optimiser steps.
        eval_every: record every this many steps (and at step 0 and at the end).
        batch_size, lr: Adam on all parameters of g1, g2 and the critic (the paper: 128, 1e-4).
        noise_std: Gaussian noise added to the inputs; the SAME noise draw is added to both views,
            as in the authors' code (§3.1 condition-number runs: 0.05).
        target: if given, minimise |I − target| instead of maximising I (§3.3).
        condition_examples: if > 0, record log(σ_max/σ_min) of g1's Jacobian at this many training
            examples at every evaluation (§3.1, Fig. 2).
        seed: seeds the batch order and the noise (the weights follow torch's global RNG).
        probe: record the linear-probe accuracy.

    Returns:
        ``{"step": [...], "train_bound": [...], "test_bound": [...], "accuracy": [...],
        "log_condition": [[...], ...]}`` (the last only with ``condition_examples``); ``train_bound``
        is the mean training-batch value since the previous record (NaN at step 0).
    """
    gen = torch.Generator().manual_seed(seed)
    eval_gen_seed = seed + 7919
    params = [p for m in (g1, g2, critic) for p in m.parameters()]
    opt = torch.optim.Adam(params, lr=lr)
    train_value = bound.trainer()
    n_train = len(data.view1_train)
    if noise_std > 0 and data.view1_train.shape[1:] != data.view2_train.shape[1:]:
        raise ValueError("noise_std > 0 adds the same noise to both views, which needs views of equal shape")
    fixed_noise = probe_noise(data, noise_std, seed)
    cond_x = data.view1_train[:condition_examples] if condition_examples > 0 else None
    if cond_x is not None and fixed_noise is not None:
        cond_x = cond_x + fixed_noise[0][:condition_examples]

    history: dict[str, list[Any]] = {"step": [], "train_bound": [], "test_bound": [], "accuracy": []}
    if cond_x is not None:
        history["log_condition"] = []
    running: list[float] = []

    def record(step: int) -> None:
        history["step"].append(step)
        history["train_bound"].append(float(np.mean(running)) if running else math.nan)
        running.clear()
        history["test_bound"].append(held_out_bound(g1, g2, critic, bound, data, batch_size, noise_std,
                                                    torch.Generator().manual_seed(eval_gen_seed)))
        history["accuracy"].append(probe_accuracy(g1, data, fixed_noise) if probe else math.nan)
        if cond_x is not None:
            history["log_condition"].append(jacobian_log_condition(g1, cond_x).tolist())

    record(0)
    stream = batches(n_train, batch_size, gen)
    for step in range(1, steps + 1):
        idx = next(stream)
        x1, x2 = data.view1_train[idx], data.view2_train[idx]
        if noise_std > 0:
            noise = (noise_std * torch.randn(x1.shape, generator=gen)).to(x1.device)
            x1, x2 = x1 + noise, x2 + noise
        value = train_value(critic(g1(x1), g2(x2)))
        loss = -value if target is None else (value - target).abs()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        running.append(float(value.detach()))
        if step % eval_every == 0 or step == steps:
            record(step)
    return history


__all__ = ["BoundSpec", "batches", "encode", "held_out_bound", "probe_accuracy", "probe_noise", "train_two_view"]
