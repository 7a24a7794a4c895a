"""Pure functions from a score matrix to a mutual-information estimate in nats.

A score matrix ``scores`` is a float tensor [n, n] with ``scores[i, j] = log g(x_i, y_j)`` and the
n positive pairs on the diagonal. Every bound returns a 0-dim tensor (nats) that is also a
training objective to maximise. This package imports nothing else of infobound.

Example:
    >>> import torch
    >>> from infobound import bounds
    >>> scores = torch.randn(128, 128)
    >>> bounds.ml_cpc(scores, alpha=0.01)            # doctest: +SKIP
    >>> bounds.get("smile")(scores, clip=5.0)        # by name, for configs and CLIs
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from torch import Tensor

from ._checks import BoundOverflowError, check_scores
from .contrastive import alpha_cpc, infonce, infonce_explicit, ml_cpc, ml_cpc_explicit, ml_cpc_fresh
from .dime import fdime, fdime_explicit, fdime_objective, fdime_objective_explicit, gan_dime, hd_dime, kl_dime
from .divergences import DIVERGENCES, FDivergence, available_divergences, get_divergence
from .fdiv import f_divergence
from .variational import MovingAverage, dv, interpolated, js, js_fgan, log_mean_exp_offdiag, mine, nwj, smile, tuba


class BoundFn(Protocol):
    """Every registered bound: ``fn(scores, **hyper_parameters) -> 0-dim tensor in nats``."""

    def __call__(self, scores: Tensor, /, **kwargs: Any) -> Tensor: ...


@dataclass(frozen=True)
class BoundInfo:
    """What the library knows about a registered bound.

    Attributes:
        name: registry name.
        fn: the function.
        valid_lower_bound: True when the expectation of the estimate never exceeds the true MI
            (α-CPC with α < 1 is the counter-example).
        stateful: True when the caller must keep state across steps (MINE's moving average).
        in_nats: False for f-divergence bounds other than KL (they bound another f-information).
    """

    name: str
    fn: BoundFn
    valid_lower_bound: bool = True
    stateful: bool = False
    in_nats: bool = True


_REGISTRY: dict[str, BoundInfo] = {}
_ALIASES = {"cpc": "infonce", "nce": "infonce", "mlcpc": "ml_cpc", "ml-cpc": "ml_cpc", "alpha-cpc": "alpha_cpc",
            "fdiv": "f_divergence", "f-divergence": "f_divergence"}


def register(name: str, fn: BoundFn, *, valid_lower_bound: bool = True, stateful: bool = False,
             in_nats: bool = True, overwrite: bool = False) -> BoundFn:
    """Add a bound to the registry so every user-facing option can take it by name."""
    if name in _REGISTRY and not overwrite:
        raise ValueError(f"bound {name!r} is already registered; pass overwrite=True to replace it")
    _REGISTRY[name] = BoundInfo(name, fn, valid_lower_bound, stateful, in_nats)
    return fn


def _canonical(name: str) -> str:
    key = name.strip().lower()
    key = _ALIASES.get(key, key).replace("-", "_")
    if key not in _REGISTRY:
        raise ValueError(f"unknown bound {name!r}; expected one of {available()}")
    return key


def get(name: str) -> BoundFn:
    """The bound function registered under ``name`` (aliases: cpc/nce → infonce)."""
    return _REGISTRY[_canonical(name)].fn


def info(name: str) -> BoundInfo:
    """Registry metadata of a bound (validity, statefulness, units)."""
    return _REGISTRY[_canonical(name)]


def available() -> list[str]:
    """Names of all registered bounds."""
    return sorted(_REGISTRY)


def allow_overflow(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    """``fn`` returning its ±inf value instead of raising :class:`BoundOverflowError`.

    For training loops that skip a step whose exponential term overflowed (NWJ at large scores) and
    keep going; everything else (NaN, non-finite inputs, bad arguments) still raises.
    """

    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Tensor:
        try:
            return fn(*args, **kwargs)
        except BoundOverflowError as err:
            return err.result

    return call


def ceiling(name: str, n: int, **kwargs: Any) -> float:
    """The largest value a bound can return on a batch of n (inf where there is none).

    InfoNCE is capped at log n; ML-CPC and α-CPC at log(n/α); Poole's I_α at 1 + log((n−1)/α) for
    0 < α < 1 and log(n−1) at α = 1 (its leave-one-out baselines); the others are unbounded above.
    """
    key = _canonical(name)
    if key == "infonce":
        return math.log(n)
    if key in ("ml_cpc", "alpha_cpc"):
        return math.log(n / float(kwargs.get("alpha", 1.0)))
    if key == "interpolated" and float(kwargs.get("alpha", 0.0)) > 0.0:
        alpha = float(kwargs["alpha"])
        return math.log(n - 1) if alpha >= 1.0 else 1.0 + math.log((n - 1) / alpha)
    return math.inf


for _name, _fn in [("infonce", infonce), ("ml_cpc", ml_cpc), ("nwj", nwj), ("tuba", tuba), ("js", js),
                   ("interpolated", interpolated)]:
    register(_name, _fn)
# Measured with the analytic critic (tests/bounds/test_bounds_validity.py): per-anchor α-CPC, and the
# minibatch DV value (also MINE's, and SMILE's, clipped or not) exceed the true MI at high MI — the
# log of a minibatch mean underestimates log E_q[e^f] (Jensen). They are estimators, not bounds.
register("alpha_cpc", alpha_cpc, valid_lower_bound=False)
register("dv", dv, valid_lower_bound=False)
register("smile", smile, valid_lower_bound=False)
register("mine", mine, stateful=True, valid_lower_bound=False)
register("f_divergence", f_divergence, in_nats=False)
# f-DIME reports the mean log-ratio on positives, an estimate (not a bound) that may sit on either side.
for _name, _fn in [("gan_dime", gan_dime), ("kl_dime", kl_dime), ("hd_dime", hd_dime)]:
    register(_name, _fn, valid_lower_bound=False)

__all__ = [
    "BoundFn", "BoundInfo", "BoundOverflowError", "allow_overflow", "DIVERGENCES", "FDivergence", "MovingAverage",
    "alpha_cpc", "available", "available_divergences", "ceiling", "check_scores", "dv", "f_divergence", "fdime",
    "fdime_explicit", "fdime_objective", "fdime_objective_explicit", "gan_dime", "get", "get_divergence", "hd_dime",
    "info", "kl_dime",
    "infonce", "infonce_explicit", "interpolated", "js", "js_fgan", "log_mean_exp_offdiag", "mine",
    "ml_cpc", "ml_cpc_explicit", "ml_cpc_fresh", "nwj", "register", "smile", "tuba",
]
