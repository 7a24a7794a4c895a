"""The six experiments of Tschannen et al. (ICLR 2020) as settings × seeds of one run function each.

An experiment is an :class:`Experiment`: its default parameters at small scale (minutes on 2 CPU
cores) and at the paper's scale (``--paper-scale``, GPU territory), the list of settings it compares,
a function running one (setting, seed), and a summary row per setting. Runs are independent, so the
driver (:func:`infobound.bench.tschannen.main`) can spread them over processes.
"""

from __future__ import annotations

import copy
import functools
import math
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch
from torch import nn

from ... import critics
from ...data.halves import TwoViewSplits, load_halves
from ...models.flows import CouplingFlow, ResidualMLP
from .encoders import build_encoder
from .noniid import SharedLatentGaussian
from .training import BoundSpec, batches, probe_accuracy, probe_noise, train_two_view

Params = dict[str, Any]
Setting = dict[str, Any]


@dataclass(frozen=True)
class Experiment:
    """One experiment: defaults, settings, a run function and a summary."""

    name: str
    title: str
    small: Params
    paper: Params
    settings: Callable[[Params], list[Setting]]
    run: Callable[[Setting, int, Params], dict[str, Any]]
    summarize: Callable[[Setting, list[dict[str, Any]], Params], dict[str, Any]]
    uses_data: bool = True


# ------------------------------------------------------------------------------------------ helpers


@functools.lru_cache(maxsize=4)
def _halves(dataset: str, data_dir: str | None) -> TwoViewSplits:
    return load_halves(dataset, data_dir=data_dir, seed=0)


@functools.lru_cache(maxsize=4)
def _flat(dataset: str, data_dir: str | None, device: str) -> TwoViewSplits:
    d = _halves(dataset, data_dir).flat()
    return d if device == "cpu" else d.to(device)


def data_for(params: Params) -> TwoViewSplits:
    """The flat two-view splits named by ``params`` (cached per process; data split seed fixed at 0)."""
    return _flat(params["dataset"], params.get("data_dir"), params.get("device", "cpu"))


def view_shape(params: Params) -> tuple[int, ...]:
    """Shape of one view-1 example before flattening, e.g. (1, 14, 28) for MNIST."""
    return _halves(params["dataset"], params.get("data_dir")).view_shape


def _stat(values: list[float]) -> tuple[float, float]:
    arr = np.asarray([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    if arr.size == 0:
        return math.nan, math.nan
    return float(arr.mean()), float(arr.std(ddof=1)) if arr.size > 1 else 0.0


def _pm(values: list[float], digits: int = 3) -> str:
    mean, sd = _stat(values)
    return "—" if math.isnan(mean) else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def _bilinear(d1: int, d2: int) -> nn.Module:
    return critics.build("bilinear", d1, d2)


def _device(params: Params) -> str:
    return params.get("device", "cpu")


def _pair_run(setting: Setting, seed: int, params: Params, g1: nn.Module, g2: nn.Module, critic: nn.Module,
              **kw: Any) -> dict[str, Any]:
    dev = _device(params)
    return train_two_view(g1.to(dev), g2.to(dev), critic.to(dev), BoundSpec.parse(setting["estimator"]), data_for(params),
                          steps=params["steps"], eval_every=params["eval_every"], batch_size=params["batch_size"],
                          lr=params["lr"], seed=seed, **kw)


def _curve_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "I_test start": _pm([r["test_bound"][0] for r in runs]),
        "I_test end": _pm([r["test_bound"][-1] for r in runs]),
        "acc start": _pm([r["accuracy"][0] for r in runs]),
        "acc end": _pm([r["accuracy"][-1] for r in runs]),
        "acc max": _pm([max(r["accuracy"]) for r in runs]),
    }


def _estimator_settings(params: Params, **extra: Any) -> list[Setting]:
    return [{"label": BoundSpec.parse(e).label, "estimator": e, **extra} for e in params["estimators"]]


COMMON_SMALL: Params = {"dataset": "mnist", "batch_size": 128, "lr": 1e-4, "estimators": ["infonce", "nwj"],
                        "seeds": [0, 1, 2]}
COMMON_PAPER: Params = {**COMMON_SMALL, "steps": 21000, "eval_every": 1000, "seeds": list(range(20))}


# ---------------------------------------------------------------------------------- 1. invertible


def _invertible_settings(params: Params) -> list[Setting]:
    return [{"label": f"{BoundSpec.parse(e).label}, {c}", "estimator": e, "coupling": c}
            for c in params["couplings"] for e in params["estimators"]]


@torch.no_grad()
def _round_trip_error(flow: CouplingFlow, x: torch.Tensor) -> tuple[float, float]:
    """max |g⁻¹(g(x)) − x| computed in float32 and, on a float64 copy of the flow, in float64.

    The float64 error says whether the trained map is still a bijection; the float32 error says
    whether it is still *numerically* invertible at training precision — an encoder can drive its
    coupling scales towards the 1e-7 floor and lose the second while keeping the first.
    """
    error32 = float((flow.inverse(flow(x)) - x).abs().max())
    flow64, x64 = copy.deepcopy(flow).double(), x.double()
    return error32, float((flow64.inverse(flow64(x64)) - x64).abs().max())


def _max_error(runs: list[dict[str, Any]], key: str) -> str:
    """The largest recorded error (one per run, or one per checkpoint), formatted; "–" for runs cached
    before that error was recorded."""
    values = [r.get(key) for r in runs]
    if any(v is None for v in values):
        return "–"
    return f"{max(max(v) if isinstance(v, list) else v for v in values):.1e}"


def _invertible_run(setting: Setting, seed: int, params: Params) -> dict[str, Any]:
    torch.manual_seed(seed)
    d1, d2 = data_for(params).view_dims
    flow = lambda d, s: CouplingFlow(d, params["flow_couplings"], params["flow_hidden"], setting["coupling"],  # noqa: E731
                                     init_std=params["init_std"], seed=s)
    g1, g2 = flow(d1, 2 * seed), flow(d2, 2 * seed + 1)
    history = _pair_run(setting, seed, params, g1, g2, _bilinear(d1, d2))
    history["inverse_error"], history["inverse_error_float64"] = _round_trip_error(g1, data_for(params).view1_test[:256])
    return history


def _invertible_summary(setting: Setting, runs: list[dict[str, Any]], params: Params) -> dict[str, Any]:
    return {**_curve_summary(runs), "max |g⁻¹(g(x)) − x|, float32": _max_error(runs, "inverse_error"),
            "float64": _max_error(runs, "inverse_error_float64")}


INVERTIBLE = Experiment(
    "invertible", "Bijective encoders (coupling flows): true MI is constant",
    small={**COMMON_SMALL, "steps": 1000, "eval_every": 125, "couplings": ["additive", "affine"],
           "flow_couplings": 6, "flow_hidden": [128, 128], "init_std": 1e-4},
    paper={**COMMON_PAPER, "couplings": ["additive"], "flow_couplings": 30, "flow_hidden": [512, 512], "init_std": 1e-4},
    settings=_invertible_settings, run=_invertible_run, summarize=_invertible_summary)


# --------------------------------------------------------------------------------- 2. adversarial


def _adversarial_settings(params: Params) -> list[Setting]:
    return [{"label": f"adversarial {params['coupling']} flow"}]


def _adversarial_run(setting: Setting, seed: int, params: Params) -> dict[str, Any]:
    """Tschannen et al. §3.1 (a′): a linear classifier learns labels from g(view 1) (10 Adam steps),
    then the invertible encoder takes one step towards making that classifier uniform over classes."""
    torch.manual_seed(seed)
    data, dev = data_for(params), _device(params)
    dim = data.view_dims[0]
    g = CouplingFlow(dim, params["flow_couplings"], params["flow_hidden"], params["coupling"],
                     init_std=params["init_std"], seed=2 * seed).to(dev)
    clf = nn.Linear(dim, data.num_classes).to(dev)
    opt_c = torch.optim.Adam(clf.parameters(), lr=params["classifier_lr"])
    opt_e = torch.optim.Adam(g.parameters(), lr=params["encoder_lr"])
    stream = batches(len(data.view1_train), params["batch_size"], torch.Generator().manual_seed(seed))
    x_check = data.view1_test[:256]
    history: dict[str, list[Any]] = {"step": [], "accuracy": [], "classifier_loss": [], "encoder_loss": [],
                                     "inverse_error": [], "inverse_error_float64": []}

    def classifier_step() -> float:
        idx = next(stream)
        with torch.no_grad():
            code = g(data.view1_train[idx])
        loss = nn.functional.cross_entropy(clf(code), data.y_train[idx])
        opt_c.zero_grad(set_to_none=True)
        loss.backward()
        opt_c.step()
        return loss.item()

    for _ in range(params["warmup_steps"]):
        classifier_step()
    loss_c = loss_e = math.nan
    for it in range(params["steps"] + 1):
        if it % params["eval_every"] == 0:
            history["step"].append(it)
            history["accuracy"].append(probe_accuracy(g, data))
            history["classifier_loss"].append(loss_c)
            history["encoder_loss"].append(loss_e)
            error32, error64 = _round_trip_error(g, x_check)
            history["inverse_error"].append(error32)
            history["inverse_error_float64"].append(error64)
        if it == params["steps"]:
            break
        loss_c = float(np.mean([classifier_step() for _ in range(params["classifier_steps"])]))
        idx = next(stream)
        logits = clf(g(data.view1_train[idx]))
        loss = -nn.functional.log_softmax(logits, dim=1).mean()  # cross-entropy to the uniform label
        opt_e.zero_grad(set_to_none=True)
        loss.backward()
        opt_e.step()
        loss_e = loss.item()
    return history


def _adversarial_summary(setting: Setting, runs: list[dict[str, Any]], params: Params) -> dict[str, Any]:
    return {
        "acc start": _pm([r["accuracy"][0] for r in runs]),
        "acc end": _pm([r["accuracy"][-1] for r in runs]),
        "acc min": _pm([min(r["accuracy"]) for r in runs]),
        "max |g⁻¹(g(x)) − x|, float32": _max_error(runs, "inverse_error"),
        "float64": _max_error(runs, "inverse_error_float64"),
    }


ADVERSARIAL = Experiment(
    "adversarial", "Adversarially trained invertible encoder: MI stays maximal, probe accuracy falls",
    small={**COMMON_SMALL, "estimators": [], "steps": 800, "eval_every": 100, "coupling": "affine", "flow_couplings": 6,
           "flow_hidden": [128, 128], "init_std": 1e-4, "classifier_lr": 1e-3, "encoder_lr": 1e-4,
           "classifier_steps": 10, "warmup_steps": 300},
    paper={**COMMON_PAPER, "estimators": [], "steps": 4000, "eval_every": 400, "seeds": [0], "coupling": "affine",
           "flow_couplings": 30, "flow_hidden": [512, 512], "init_std": 1e-4, "classifier_lr": 1e-3,
           "encoder_lr": 1e-5, "classifier_steps": 10, "warmup_steps": 1000},
    settings=_adversarial_settings, run=_adversarial_run, summarize=_adversarial_summary)


# -------------------------------------------------------------------------------- 3. conditioning


def _conditioning_run(setting: Setting, seed: int, params: Params) -> dict[str, Any]:
    torch.manual_seed(seed)
    d1, d2 = data_for(params).view_dims
    g1 = ResidualMLP(d1, params["layers"], init_std=params["init_std"])
    g2 = ResidualMLP(d2, params["layers"], init_std=params["init_std"])
    return _pair_run(setting, seed, params, g1, g2, _bilinear(d1, d2), noise_std=params["noise_std"],
                     condition_examples=params["condition_examples"])


def _conditioning_summary(setting: Setting, runs: list[dict[str, Any]], params: Params) -> dict[str, Any]:
    med = lambda r, i: float(np.median(r["log_condition"][i]))  # noqa: E731
    return {
        **{k: v for k, v in _curve_summary(runs).items() if k != "acc max"},
        "log κ median start": _pm([med(r, 0) for r in runs], 2),
        "log κ median end": _pm([med(r, -1) for r in runs], 2),
        "log κ max end": _pm([float(np.max(r["log_condition"][-1])) for r in runs], 2),
    }


CONDITIONING = Experiment(
    "conditioning", "Residual MLP encoders drift towards ill-conditioned Jacobians",
    small={**COMMON_SMALL, "steps": 1000, "eval_every": 125, "layers": 5, "init_std": 1e-4, "noise_std": 0.05,
           "condition_examples": 16},
    paper={**COMMON_PAPER, "layers": 5, "init_std": 1e-4, "noise_std": 0.05, "condition_examples": 128},
    settings=_estimator_settings, run=_conditioning_run, summarize=_conditioning_summary)


# -------------------------------------------------------------------------------------- 4. critic


def _critic_settings(params: Params) -> list[Setting]:
    return [{"label": f"{BoundSpec.parse(e).label}, {c}", "estimator": e, "estimator_label": BoundSpec.parse(e).label,
             "critic": c} for e in params["estimators"] for c in params["critics"]]


def _critic_run(setting: Setting, seed: int, params: Params) -> dict[str, Any]:
    torch.manual_seed(seed)
    shape = view_shape(params)
    enc = lambda: build_encoder("mlp", shape, hidden=params["mlp_hidden"], output_dim=params["feature_dim"])  # noqa: E731
    g1, g2 = enc(), enc()
    d = params["feature_dim"]
    kind = setting["critic"]
    if kind == "bilinear":
        critic = critics.build("bilinear", d, d)
    elif kind == "separable":  # the paper: one hidden layer of 100, output 100, per side
        critic = critics.build("separable", d, d, hidden=params["separable_hidden"], layers=1, embed_dim=params["separable_dim"])
    elif kind == "concat":  # the paper: MLP [200] → 1 on all n² concatenated pairs
        critic = critics.build("concat", d, d, hidden=params["concat_hidden"], layers=1)
    else:
        raise ValueError(f"unknown critic {kind!r}; expected bilinear, separable or concat")
    return _pair_run(setting, seed, params, g1, g2, critic)


def _critic_summary(setting: Setting, runs: list[dict[str, Any]], params: Params) -> dict[str, Any]:
    return {k: v for k, v in _curve_summary(runs).items() if k != "I_test start"}


CRITIC = Experiment(
    "critic", "Critic architecture: bilinear vs separable vs concat (MLP)",
    small={**COMMON_SMALL, "steps": 1000, "eval_every": 125, "critics": ["bilinear", "separable", "concat"],
           "mlp_hidden": 300, "feature_dim": 100, "separable_hidden": 100, "separable_dim": 100, "concat_hidden": 200},
    paper={**COMMON_PAPER, "critics": ["bilinear", "separable", "concat"], "mlp_hidden": 300, "feature_dim": 100,
           "separable_hidden": 100, "separable_dim": 100, "concat_hidden": 200},
    settings=_critic_settings, run=_critic_run, summarize=_critic_summary)


# ------------------------------------------------------------------------------------- 5. encoder


def _encoder_settings(params: Params) -> list[Setting]:
    return [{"label": f"{enc}, t={t:g}", "estimator": e, "estimator_label": BoundSpec.parse(e).label, "encoder": enc,
             "target": float(t)} for e in params["estimators"] for t in params["targets"] for enc in params["encoders"]]


def _encoder_run(setting: Setting, seed: int, params: Params) -> dict[str, Any]:
    torch.manual_seed(seed)
    shape = view_shape(params)
    kw = ({"channels": params["conv_channels"], "output_dim": params["feature_dim"]} if setting["encoder"] == "convnet"
          else {"hidden": params["mlp_hidden"], "output_dim": params["feature_dim"]})
    g1, g2 = build_encoder(setting["encoder"], shape, **kw), build_encoder(setting["encoder"], shape, **kw)
    d = params["feature_dim"]
    return _pair_run(setting, seed, params, g1, g2, _bilinear(d, d), target=setting["target"])


def _encoder_summary(setting: Setting, runs: list[dict[str, Any]], params: Params) -> dict[str, Any]:
    return {
        "target t": setting["target"],
        "I_test end": _pm([r["test_bound"][-1] for r in runs]),
        "acc start": _pm([r["accuracy"][0] for r in runs]),
        "acc end": _pm([r["accuracy"][-1] for r in runs]),
    }


ENCODER = Experiment(
    "encoder", "Encoder architecture at equal bound: MLP vs ConvNet trained on |I_EST − t|",
    small={**COMMON_SMALL, "steps": 1000, "eval_every": 125, "encoders": ["mlp", "convnet"], "targets": [2.0, 4.0],
           "mlp_hidden": 300, "feature_dim": 100, "conv_channels": 16, "seeds": [0, 1]},
    paper={**COMMON_PAPER, "encoders": ["mlp", "convnet"], "targets": [2.0, 4.0], "mlp_hidden": 300, "feature_dim": 100,
           "conv_channels": 64},
    settings=_encoder_settings, run=_encoder_run, summarize=_encoder_summary)


# -------------------------------------------------------------------------------------- 6. noniid


def _noniid_settings(params: Params) -> list[Setting]:
    return [{"label": f"{BoundSpec.parse(e).label}, {'i.i.d.' if iid else 'non-i.i.d.'}", "estimator": e, "iid": iid}
            for e in params["estimators"] for iid in (False, True)]


def _noniid_run(setting: Setting, seed: int, params: Params) -> dict[str, Any]:
    """Train a concat critic (MLP [10]*5 → 1 on scalar pairs) with a fresh batch every step."""
    torch.manual_seed(seed)
    task = SharedLatentGaussian(iid=setting["iid"])
    dev = _device(params)
    critic = critics.build("concat", 1, 1, hidden=params["critic_hidden"], layers=params["critic_layers"]).to(dev)
    bound = BoundSpec.parse(setting["estimator"])
    value_fn = bound.trainer()
    opt = torch.optim.Adam(critic.parameters(), lr=params["lr"])
    gen = torch.Generator().manual_seed(seed)
    values = []
    for _ in range(params["steps"]):
        x, y = task.sample(params["batch_size"], seed=gen, device=dev)
        value = value_fn(critic(x, y))
        opt.zero_grad(set_to_none=True)
        (-value).backward()
        opt.step()
        values.append(float(value.detach()))
    return {"step": list(range(1, params["steps"] + 1)), "train_bound": values, "true_mi": task.mutual_information}


def _noniid_summary(setting: Setting, runs: list[dict[str, Any]], params: Params) -> dict[str, Any]:
    tail = max(1, int(params["steps"] * params["tail_fraction"]))
    means = [float(np.mean(r["train_bound"][-tail:])) for r in runs]
    true_mi = runs[0]["true_mi"]
    return {"true MI": f"{true_mi:.4f}", f"I_EST (mean of last {tail} steps)": _pm(means, 4),
            "runs above truth": f"{sum(m > true_mi for m in means)}/{len(means)}"}


NONIID = Experiment(
    "noniid", "i.i.d. vs non-i.i.d. batches (shared latent): true MI 0.0204 nats",
    small={"batch_size": 128, "lr": 1e-4, "estimators": ["infonce", "nwj"], "seeds": [0, 1, 2], "steps": 5000,
           "critic_hidden": 10, "critic_layers": 5, "tail_fraction": 0.2},
    paper={"batch_size": 128, "lr": 1e-4, "estimators": ["infonce", "nwj"], "seeds": list(range(20)), "steps": 20000,
           "critic_hidden": 10, "critic_layers": 5, "tail_fraction": 0.2},
    settings=_noniid_settings, run=_noniid_run, summarize=_noniid_summary, uses_data=False)


EXPERIMENTS: dict[str, Experiment] = {e.name: e for e in (INVERTIBLE, ADVERSARIAL, CONDITIONING, CRITIC, ENCODER, NONIID)}


def run_one(name: str, setting: Setting, seed: int, params: Params) -> dict[str, Any]:
    """One (setting, seed) of an experiment in this process, single-threaded; adds ``seed`` and ``seconds``."""
    from threadpoolctl import threadpool_limits

    if params.get("device", "cpu") == "cpu":
        torch.set_num_threads(1)
    start = time.perf_counter()
    with threadpool_limits(1):
        out = EXPERIMENTS[name].run(setting, seed, params)
    return {"seed": seed, **out, "seconds": time.perf_counter() - start}


def raw_baseline(params: Params) -> float:
    """Linear-probe accuracy on raw view-1 pixels (with the run's input noise, as the paper's baseline)."""
    from threadpoolctl import threadpool_limits

    data = data_for(params)
    noise = probe_noise(data, params.get("noise_std", 0.0), seed=0)
    with threadpool_limits(1):
        return probe_accuracy(None, data, noise)


__all__ = ["EXPERIMENTS", "Experiment", "data_for", "raw_baseline", "run_one"]
