"""The neural estimator: train a critic with a bound, report the bound on held-out data.

Procedure (the protocol of Poole et al. 2019 and Song & Ermon 2020, with a held-out split so the
reported number is not the training objective):

1. check the inputs, split the rows into train and held-out (``test_fraction``), fit a
   per-coordinate standardisation on the training rows and apply it to both;
2. train a critic f(x, y) → scores [n, n] by maximising ``bound(scores)`` with Adam on random
   training batches of ``batch_size``;
3. every ``eval_interval`` steps evaluate the bound on the held-out rows, cut into batches of the
   training batch size; stop when the smoothed held-out value (the running median of the last
   ``smoothing_window`` evaluations, which ignores the isolated spikes of e^f-type bounds) has not
   improved for ``patience`` evaluations, and restore the critic of the best smoothed value;
4. report the mean over held-out batches and the sampling interval mean ± t·SE (t: the 97.5%
   Student-t quantile with k − 1 degrees of freedom for k batches; 1.96 as k grows);
5. certify: a third split of ``certify_fraction`` rows, untouched by training and early stopping,
   gives the one-sided 95% lower confidence limit ``lower`` on I(X; Y) with the final critic
   (:func:`~infobound.estimate.certify.certified_lower_limit`; docs/estimate.md).
"""

from __future__ import annotations

import collections
import inspect
import math
import statistics
import sys
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .. import bounds, critics
from .certify import certified_lower_limit
from .inputs import (STANDARDISE_CHOICES, check_finite, check_fractions, check_ints, config_from_options,
                     pair_and_split_sizes, split_and_standardise, torch_threads)
from .result import EstimateResult, mean_and_sampling_interval
from .safe_alpha import min_safe_alpha
from .stopping import BestCritic

DEFAULT_BOUND = "ml_cpc"
"""Chosen by ``benchmarks/estimate_defaults.py`` (table in docs/estimate.md)."""
DEFAULT_CRITIC = "separable"

_ARCHITECTURE_FIELDS = ("hidden", "layers", "embed_dim")


@dataclass(frozen=True)
class NeuralConfig:
    """Hyper-parameters of the neural estimator; every field is checked on construction.

    The defaults were picked by measurement (``benchmarks/estimate_defaults.py``; table and
    command in docs/estimate.md): low- and high-dimensional, Gaussian and heavy-tailed data with
    MI from 0.2 to 10 nats at N = 5,000.

    Attributes:
        batch_size: rows per training step and per held-out batch (n of the bound's n×n scores).
        lr: Adam learning rate.
        weight_decay: decoupled weight decay (AdamW); 0 is plain Adam.
        max_steps: upper limit on training steps.
        eval_interval: training steps between two held-out evaluations.
        patience: evaluations without improvement of the smoothed held-out value before stopping.
        smoothing_window: held-out evaluations in the running median that early stopping
            follows (1 = no smoothing).
        hidden: hidden width of the critic's MLPs.
        layers: hidden layers of the critic's MLPs.
        embed_dim: embedding size of the separable critic.
        test_fraction: share of the rows held out for early stopping and for the reported value.
        certify_fraction: share of the rows kept apart from training *and* early stopping to certify
            the final critic: ``lower``, a one-sided 95% lower confidence limit on I(X; Y) from
            ML-CPC at a safe α (docs/estimate.md, "Certified lower limit"). 0 switches it off
            (``lower`` is then None).
        standardise: "zscore", "rank" (Gaussian copula) or "none"; fitted on the training rows.
        alpha: α of ML-CPC / α-CPC / interpolated bounds. None: for ML-CPC the smallest α
            safe for every critic at the batch size (``safe_alpha.min_safe_alpha``), which lifts its
            ceiling log(n/α) as far as it stays a lower bound; for the others their own default.
        clip: τ of SMILE (None: the bound's own default, 5).
        bound_kwargs: any further keyword arguments of the bound.
        critic_kwargs: any further keyword arguments of the critic (e.g. ``cosine=True``).
        num_threads: torch threads while estimating (the caller's setting is restored); None
            leaves the setting alone.
        device: torch device for the critic and the data.
        progress: show a tqdm progress bar (only on a terminal).
    """

    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    max_steps: int = 2000
    eval_interval: int = 50
    patience: int = 8
    smoothing_window: int = 5
    hidden: int = 128
    layers: int = 1
    embed_dim: int = 32
    test_fraction: float = 0.2
    certify_fraction: float = 0.2
    standardise: str = "rank"
    alpha: float | None = None
    clip: float | None = None
    bound_kwargs: dict[str, Any] = field(default_factory=dict)
    critic_kwargs: dict[str, Any] = field(default_factory=dict)
    num_threads: int | None = 1
    device: str = "cpu"
    progress: bool = True

    def __post_init__(self) -> None:
        check_ints(self, {"batch_size": 2, "max_steps": 1, "eval_interval": 1, "patience": 1, "smoothing_window": 1,
                          "hidden": 1, "embed_dim": 1, "layers": 0, "num_threads": 1}, optional=("num_threads",))
        check_finite(self, "lr")
        check_finite(self, "weight_decay", strict=False)
        check_fractions(self, "test_fraction")
        if not (isinstance(self.certify_fraction, (int, float)) and 0.0 <= self.certify_fraction < 1.0
                and self.test_fraction + self.certify_fraction < 1.0):
            raise ValueError(f"`certify_fraction` must lie in [0, 1) with test_fraction + certify_fraction < 1, got "
                             f"{self.certify_fraction!r} (test_fraction={self.test_fraction!r})")
        if self.standardise not in STANDARDISE_CHOICES:
            raise ValueError(f"`standardise` must be one of {list(STANDARDISE_CHOICES)}, got {self.standardise!r}")
        for name in ("alpha", "clip"):
            check_finite(self, name, optional=True)
        for name in ("bound_kwargs", "critic_kwargs"):
            if not isinstance(getattr(self, name), dict):
                raise TypeError(f"`{name}` must be a dict, got {type(getattr(self, name)).__name__}")

    @classmethod
    def from_options(cls, **options: Any) -> "NeuralConfig":
        """Build from keyword options, rejecting unknown names with the list of valid ones."""
        return config_from_options(cls, options, "the neural estimator")


def _bound_kwargs(bound: str, config: NeuralConfig, batch_size: int) -> dict[str, Any]:
    """The keyword arguments handed to the bound, checked against its signature.

    ML-CPC without an explicit α gets the smallest α safe for every critic at the batch size
    (:func:`~infobound.estimate.safe_alpha.min_safe_alpha`): the highest ceiling, log(n/α),
    that still keeps it a lower bound.
    """
    kwargs = dict(config.bound_kwargs)
    if config.alpha is not None:
        kwargs["alpha"] = float(config.alpha)
    elif bound == "ml_cpc" and "alpha" not in kwargs:
        kwargs["alpha"] = float(min_safe_alpha(batch_size))
    if config.clip is not None:
        kwargs["clip"] = float(config.clip)
    parameters = inspect.signature(bounds.get(bound)).parameters
    accepted = set(parameters) - {"scores", "state"}
    unknown = sorted(set(kwargs) - accepted)
    if unknown:
        raise ValueError(f"bound {bound!r} takes no option(s) {unknown}; it accepts {sorted(accepted) or 'none'}")
    missing = sorted(name for name in accepted if parameters[name].default is inspect.Parameter.empty
                     and name not in kwargs)
    if missing:
        raise ValueError(f"bound {bound!r} needs {missing}; pass e.g. alpha=... (or bound_kwargs={{...}})")
    return kwargs


def _build_critic(name: str, dim_x: int, dim_y: int, config: NeuralConfig, seed: int) -> nn.Module:
    """Build the critic with the architecture fields it accepts, initialised from ``seed``."""
    with torch.random.fork_rng(devices=[]):
        probe = critics.build(name, dim_x, dim_y, **config.critic_kwargs)  # unknown names fail here
        accepted = inspect.signature(type(probe).__init__).parameters
        architecture = {k: getattr(config, k) for k in _ARCHITECTURE_FIELDS
                        if k in accepted and k not in config.critic_kwargs}
        torch.manual_seed(seed)
        critic = critics.build(name, dim_x, dim_y, **architecture, **config.critic_kwargs)
    return critic.to(config.device)


def _warn(message: str) -> None:
    """Warn with the location of the first caller outside this package (the user's line)."""
    frame, level = sys._getframe(1), 2
    while frame is not None and frame.f_globals.get("__name__", "").startswith("infobound.estimate"):
        frame, level = frame.f_back, level + 1
    warnings.warn(message, UserWarning, stacklevel=level)


def _warn_about_bound(bound: str, kwargs: dict[str, Any], batch_size: int) -> None:
    meta = bounds.info(bound)
    alpha = kwargs.get("alpha")
    if not meta.valid_lower_bound and (alpha is None or alpha < 1.0):
        _warn(f"{bound!r} is not a valid lower bound on MI: its minibatch estimate can overshoot the true "
              "value (measured in tests/bounds/test_bounds_validity.py); use 'ml_cpc' for a lifted ceiling "
              "that stays a bound")
    elif meta.name == "ml_cpc" and alpha is not None:
        safe = min_safe_alpha(batch_size)
        if alpha < safe:
            _warn(f"alpha={alpha:g} is below the smallest safe α = n/(n(n−1)+1) ≈ {safe:.3g} for batch size "
                  f"{batch_size}: ML-CPC may overshoot the true MI with some critics; raise alpha or the batch size")
    if not meta.in_nats:
        _warn(f"{bound!r} bounds an f-information, not the KL mutual information in nats")


def _heldout_batches(n_heldout: int, batch_size: int, generator: torch.Generator) -> list[Tensor]:
    order = torch.randperm(n_heldout, generator=generator)
    count = n_heldout // batch_size
    return [order[i * batch_size:(i + 1) * batch_size] for i in range(count)]


@torch.no_grad()
def _evaluate(critic: nn.Module, bound_fn: Any, kwargs: dict[str, Any], x: Tensor, y: Tensor,
              batches: list[Tensor]) -> Tensor:
    """The bound on each held-out batch (MINE's state is not touched: its value is DV's)."""
    was_training = critic.training
    critic.eval()
    values = torch.stack([bound_fn(critic(x[idx], y[idx]), **kwargs) for idx in batches]).double().cpu()
    critic.train(was_training)
    return values



def _training_loop(critic: nn.Module, bound_fn: Any, kwargs: dict[str, Any], stateful: bool,
                   x_train: Tensor, y_train: Tensor, x_held: Tensor, y_held: Tensor, batches: list[Tensor],
                   config: NeuralConfig, batch_size: int, generator: torch.Generator,
                   label: str) -> tuple[dict[str, list[float]], dict[str, Any]]:
    optimiser = torch.optim.AdamW(critic.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    state = bounds.MovingAverage() if stateful else None
    history: dict[str, list[float]] = {"step": [], "train": [], "heldout": [], "heldout_smoothed": []}
    keeper = BestCritic(critic, config.patience)
    recent: collections.deque[float] = collections.deque(maxlen=config.smoothing_window)
    running, running_count, bad_steps, stop_reason = 0.0, 0, 0, "max_steps"
    n_train = x_train.shape[0]
    order, cursor = torch.randperm(n_train, generator=generator), 0
    bar = tqdm(total=config.max_steps, desc=label, unit="step", leave=False,
               disable=None if config.progress else True, file=sys.stderr)
    step = 0
    try:
        for step in range(1, config.max_steps + 1):
            if cursor + batch_size > n_train:  # a new epoch: reshuffle, drop the ragged tail
                order, cursor = torch.randperm(n_train, generator=generator), 0
            idx = order[cursor:cursor + batch_size].to(x_train.device)
            cursor += batch_size
            scores = critic(x_train[idx], y_train[idx])
            value = bound_fn(scores, **kwargs, state=state) if stateful else bound_fn(scores, **kwargs)
            if not bool(torch.isfinite(value)):
                # e^f overflowed (NWJ, TUBA at large scores): skip the step rather than poison Adam.
                bad_steps += 1
                if bad_steps >= 10:
                    stop_reason = "diverged"
                    break
                continue
            bad_steps = 0
            optimiser.zero_grad(set_to_none=True)
            (-value).backward()
            optimiser.step()
            running += float(value.detach())
            running_count += 1
            bar.update(1)
            if step % config.eval_interval and step != config.max_steps:
                continue
            heldout = float(_evaluate(critic, bound_fn, kwargs, x_held, y_held, batches).mean())
            if not math.isfinite(heldout):
                heldout = -math.inf
            recent.append(heldout)
            smoothed = statistics.median(recent)
            history["step"].append(float(step))
            history["train"].append(running / max(running_count, 1))
            history["heldout"].append(heldout)
            history["heldout_smoothed"].append(smoothed)
            running, running_count = 0.0, 0
            bar.set_postfix(heldout=f"{heldout:.3f}", best=f"{max(keeper.value, smoothed):.3f}")
            if keeper.update(smoothed, step):
                stop_reason = "early_stopping"
                break
    except KeyboardInterrupt:
        stop_reason = "interrupted"
        _warn("training interrupted; reporting the best critic so far")
    finally:
        bar.close()
    if keeper.state is None:
        raise RuntimeError(
            f"training produced no finite held-out estimate ({stop_reason} at step {step}); "
            "try a smaller `lr`, another bound (e.g. 'smile' or 'ml_cpc') or standardised inputs")
    keeper.restore()
    if stop_reason == "diverged":
        _warn(f"the bound became non-finite during training at step {step}; reporting the best critic "
              f"(step {keeper.step}). A smaller `lr` or a bound without e^f terms may help.")
    return history, {"steps": step, "best_step": keeper.step, "stop_reason": stop_reason}


def estimate_neural(x: Any, y: Any, *, bound: str = DEFAULT_BOUND, critic: str = DEFAULT_CRITIC, seed: int = 0,
                    **options: Any) -> EstimateResult:
    """Neural MI estimate: train ``critic`` with ``bound``, report the bound on held-out batches.

    See :func:`infobound.estimate.estimate_mi` (the public entry point) for the arguments;
    ``options`` are the fields of :class:`NeuralConfig`.
    """
    start = time.perf_counter()
    config = NeuralConfig.from_options(**options)
    meta = bounds.info(bound)  # unknown names fail here with the list of bounds
    x_all, y_all, (n_train, n_held, n_cert) = pair_and_split_sizes(
        x, y, seed, (config.test_fraction, config.certify_fraction))
    n = x_all.shape[0]
    batch_size = min(config.batch_size, n_held // 2, n_train)
    if batch_size < 8:
        minimum = math.ceil(16 / config.test_fraction)
        raise ValueError(f"too few samples for the neural estimator: N = {n} gives {n_held} held-out rows "
                         f"(test_fraction={config.test_fraction}); it needs two held-out batches of at least 8, "
                         f"i.e. N >= {minimum}. For small N use method='ksg'.")
    # Certification batches: the training batch size where the rows allow four of them (the t limit
    # with k − 1 = 3 degrees of freedom is already 2.35 SE), smaller ones otherwise.
    cert_batch_size = min(batch_size, n_cert // 4) if n_cert else 0
    if n_cert and cert_batch_size < 8:
        _warn(f"no certified lower limit: N = {n} gives {n_cert} certification rows (certify_fraction="
              f"{config.certify_fraction}), and certification needs at least 32 (four batches of 8), i.e. "
              f"N >= {math.ceil(32 / config.certify_fraction)}; `lower` is None")
        n_train, n_cert = n_train + n_cert, 0
    if batch_size < config.batch_size:
        _warn(f"batch_size lowered from {config.batch_size} to {batch_size} so that the {n_held} held-out "
              "rows make at least two batches (the interval needs two)")
    kwargs = _bound_kwargs(meta.name, config, batch_size)
    _warn_about_bound(meta.name, kwargs, batch_size)

    with torch_threads(config.num_threads):
        generator = torch.Generator().manual_seed(seed)
        device = torch.device(config.device)
        parts = split_and_standardise(x_all, y_all, (n_train, n_held), generator, config.standardise)
        (x_train, y_train), (x_held, y_held), (x_cert, y_cert) = [(a.to(device), b.to(device)) for a, b in parts]
        batches = [b.to(device) for b in _heldout_batches(n_held, batch_size, generator)]
        model = _build_critic(critic, x_all.shape[1], y_all.shape[1], config, seed)
        bound_fn = bounds.allow_overflow(bounds.get(meta.name))  # an overflowing step is skipped, not fatal
        history, run = _training_loop(model, bound_fn, kwargs, meta.stateful, x_train, y_train, x_held, y_held,
                                      batches, config, batch_size, generator, label=meta.name)
        per_batch = _evaluate(model, bound_fn, kwargs, x_held, y_held, batches)
        certified = None
        if n_cert:
            # The critic and the standardisation are now fixed functions of the training and
            # held-out rows; the certification rows are fresh i.i.d. pairs for them.
            model.eval()
            certified = certified_lower_limit(model, x_cert, y_cert, batch_size=cert_batch_size,
                                              bound="ml_cpc", level=0.95, generator=generator)

    if not bool(torch.isfinite(per_batch).all()):
        raise RuntimeError(f"the {meta.name} bound is not finite on held-out data with the trained critic "
                           "(e^f overflowed); use 'smile' or 'ml_cpc'")
    value, ci = mean_and_sampling_interval(per_batch)
    ceiling = bounds.ceiling(meta.name, batch_size, **kwargs)
    if math.isfinite(ceiling) and value > 0.9 * ceiling:  # these bounds approach their cap from below
        _warn(f"the estimate {value:.2f} is within 10% of the {meta.name} ceiling log(n/α) = {ceiling:.2f} nats; "
              "the true MI may be higher: raise batch_size, lower alpha (within the safe range) or use "
              "an uncapped bound such as 'js' or 'smile'")
    details = {
        "critic": critic, "bound_kwargs": kwargs, "batch_size": batch_size, "n_train": n_train, "n_heldout": n_held,
        "n_certify": n_cert, "certificate": None if certified is None else certified.summary(),
        "heldout_batches": per_batch.tolist(), "ceiling": ceiling, "dim_x": x_all.shape[1], "dim_y": y_all.shape[1],
        "config": {k: v for k, v in asdict(config).items() if k != "progress"}, **run,
    }
    return EstimateResult(value, ci, method="neural", bound=meta.name, n_samples=n,
                          seconds=time.perf_counter() - start, history=history, details=details,
                          lower=None if certified is None else certified.lower)


__all__ = ["DEFAULT_BOUND", "DEFAULT_CRITIC", "NeuralConfig", "estimate_neural"]
