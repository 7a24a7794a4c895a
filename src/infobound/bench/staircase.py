"""``infobound bench staircase``: the MI staircase of SMILE (Song & Ermon, ICLR 2020) and ML-CPC
(Song & Ermon, NeurIPS 2020).

A 20-d correlated Gaussian whose true MI steps through 2, 4, 6, 8, 10 nats; a critic is trained
with each estimator's objective on a fresh batch of 128 every step (Adam 5e-4), and the
training-batch estimate is recorded. CPC is capped at log n = 4.85 nats; ML-CPC with α < 1 lifts
the cap to log(n/α) and climbs past log n while staying a lower bound; α-CPC with small α
overshoots the truth (its per-anchor normalisers make it an invalid bound).

Outputs (under ``--out``): ``results.json`` (``{"batch_size", "rows": [{"estimator", "alpha",
"critic", "true_mi", "estimate"}, ...], ...}``), ``results.md`` (the table), ``staircase.png``
(estimate vs step, one panel per estimator) and ``runs/`` (one JSON per finished run with its
whole curve; a restarted bench skips those).

Execution: on CPU every run is an independent single-threaded process (``--workers``, default =
cores). On CUDA the runs of one critic type are stacked into one vmapped model
(:class:`infobound.estimate.batched.StackedCritics`) and trained in-process; one Adam over the
stacked parameters takes exactly the steps the separate runs would take.
"""

from __future__ import annotations

import hashlib
import json
import math
import multiprocessing
import os
import queue as queue_module
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from infobound.results import format_table, read_json, save_figure, write_json, write_text
from infobound.runs import prepare_out

from .. import bounds
from .. import critics as critics_lib
from ..tasks import Staircase
from ._runner import bar_disabled, set_progress

CriticName = Literal["joint", "separable"]

# estimator name -> (registered bound, name of its one hyper-parameter or None, display name)
ESTIMATORS: dict[str, tuple[str, str | None, str]] = {
    "cpc": ("infonce", None, "CPC"),
    "ml_cpc": ("ml_cpc", "alpha", "ML-CPC"),
    "alpha_cpc": ("alpha_cpc", "alpha", "α-CPC"),
    "nwj": ("nwj", None, "NWJ"),
    "js": ("js", None, "JS"),
    "smile": ("smile", "clip", "SMILE"),
    "mine": ("mine", None, "MINE"),
    "dv": ("dv", None, "DV"),
    "tuba": ("tuba", None, "TUBA"),
}
"""Estimators by name; a spec is ``NAME`` or ``NAME:VALUE`` (VALUE = α for ml_cpc/alpha_cpc, τ for smile)."""

PAPER_ESTIMATORS = ["cpc", "ml_cpc:1", "ml_cpc:0.1", "ml_cpc:0.01", "ml_cpc:0.001", "ml_cpc:0.0001",
                    "alpha_cpc:0.001", "nwj", "js", "smile:5", "mine"]

# Song & Ermon (NeurIPS 2020) official figures, batch 128, mean of the last 1,000 of 4,000 steps per
# stage (reference PAPERS.md §2): (estimator, α) -> {critic: estimates at MI 2, 4, 6, 8, 10}.
PUBLISHED_LEVELS = (2.0, 4.0, 6.0, 8.0, 10.0)
PUBLISHED: dict[tuple[str, float], dict[str, tuple[float, ...]]] = {
    ("cpc", 1.0): {"joint": (1.83, 3.28, 4.17, 4.60, 4.77), "separable": (1.69, 3.12, 4.04, 4.50, 4.71)},
    ("ml_cpc", 1.0): {"joint": (1.75, 3.08, 3.92, 4.39, 4.63), "separable": (1.47, 2.63, 3.39, 3.86, 4.16)},
    ("ml_cpc", 0.1): {"joint": (1.89, 3.64, 5.02, 5.97, 6.54), "separable": (1.65, 3.00, 4.36, 5.25, 5.82)},
    ("ml_cpc", 0.01): {"joint": (1.91, 3.80, 5.53, 6.96, 8.00), "separable": (1.68, 3.06, 4.43, 5.76, 6.71)},
    ("ml_cpc", 0.001): {"joint": (1.91, 3.81, 5.68, 7.50, 8.98), "separable": (1.60, 3.02, 4.21, 5.51, 6.64)},
    ("ml_cpc", 0.0001): {"joint": (1.92, 3.79, 5.70, 7.69, 9.77), "separable": (1.66, 3.10, 4.31, 5.49, 6.71)},
    ("alpha_cpc", 0.001): {"joint": (2.13, 5.33, 8.44, 10.38, 11.28), "separable": (1.86, 4.57, 7.67, 9.82, 10.92)},
}


@dataclass(frozen=True)
class CriticSetup:
    """Size and schedule of one critic type.

    Attributes:
        hidden: hidden width (reference: 256).
        layers: hidden layers (reference: 3).
        embed_dim: separable critic's embedding size (reference: 32; unused by the joint critic).
        steps_per_level: training steps per stage (reference: 4,000).
    """

    hidden: int = 256
    layers: int = 3
    embed_dim: int = 32
    steps_per_level: int = 4000

    def build_kwargs(self, critic: str) -> dict[str, int]:
        kwargs = {"hidden": self.hidden, "layers": self.layers}
        if critic == "separable":
            kwargs["embed_dim"] = self.embed_dim
        return kwargs


PRESETS: dict[str, dict[str, Any]] = {
    # The paper: 20k steps (4k per stage) for both critics and all estimators. The joint critic
    # costs ~13 GFLOP per step (all 128² pairs through 3 × 256 layers): a GPU job (~0.35 s per step
    # on one CPU thread, i.e. ~2 h per run).
    "paper": {"critics": {"joint": CriticSetup(), "separable": CriticSetup()}, "run": ["joint", "separable"],
              "estimators": PAPER_ESTIMATORS},
    # CPU: the separable critic exactly as in the paper; the joint critic shrunk to 64 hidden units
    # (~16× fewer FLOPs per pair) and 1,000 steps per stage, ~0.03–0.04 s per step on one thread.
    "cpu": {"critics": {"joint": CriticSetup(hidden=64, steps_per_level=1000), "separable": CriticSetup()},
            "run": ["joint", "separable"], "estimators": PAPER_ESTIMATORS},
    # The README's main job (< 5 min on 2 cores): the separable critic at paper width, 600 steps per
    # stage, CPC against ML-CPC at three α — enough to see ML-CPC climb past log n and stay below truth.
    # (``--critics joint,separable`` adds the cpu preset's small joint critic at 600 steps per stage.)
    "quick": {"critics": {"joint": CriticSetup(hidden=64, steps_per_level=600),
                          "separable": CriticSetup(steps_per_level=600)},
              "run": ["separable"], "estimators": ["cpc", "ml_cpc:0.1", "ml_cpc:0.01", "ml_cpc:0.001"]},
    # Seconds; for tests and smoke runs.
    "tiny": {"critics": {"joint": CriticSetup(hidden=16, layers=2, steps_per_level=8),
                         "separable": CriticSetup(hidden=16, layers=1, embed_dim=8, steps_per_level=8)},
             "run": ["separable"], "estimators": ["cpc", "ml_cpc:0.01"], "batch_size": 16},
}


@dataclass(frozen=True)
class RunSpec:
    """One training run of the staircase (everything that determines its curve)."""

    estimator: str
    param: float | None
    critic: str
    critic_setup: CriticSetup
    batch_size: int
    dim: int
    levels: tuple[float, ...]
    cubic: bool
    lr: float
    seed: int

    @property
    def label(self) -> str:
        return estimator_label(self.estimator, self.param)

    @property
    def alpha(self) -> float | None:
        return self.param if ESTIMATORS[self.estimator][1] == "alpha" else None

    @property
    def key(self) -> str:
        """File name of the finished run: readable prefix + a digest of the full configuration."""
        digest = hashlib.sha1(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:10]
        param = "" if self.param is None else f"-{self.param:g}"
        return f"{self.critic}__{self.estimator}{param}__{digest}"

    @property
    def staircase(self) -> Staircase:
        return Staircase(self.dim, tuple(self.levels), self.critic_setup.steps_per_level, self.cubic)

    def build_critic(self) -> torch.nn.Module:
        torch.manual_seed(self.seed)  # every run of one critic type starts from the same weights
        name = "concat" if self.critic == "joint" else self.critic
        return critics_lib.build(name, self.dim, self.dim, **self.critic_setup.build_kwargs(self.critic))

    def bound(self) -> Callable[[Tensor], Tensor]:
        """``scores -> estimate`` with this run's hyper-parameter (and its own MINE moving average)."""
        bound_name, param_name, _ = ESTIMATORS[self.estimator]
        fn = bounds.allow_overflow(bounds.get(bound_name))  # −inf runs get no gradient, see below
        kwargs: dict[str, Any] = {} if param_name is None else {param_name: self.param}
        if bounds.info(bound_name).stateful:
            kwargs["state"] = bounds.MovingAverage()
        return lambda scores: fn(scores, **kwargs)


def estimator_label(estimator: str, param: float | None) -> str:
    """Display name, e.g. ``ML-CPC α=0.001`` or ``SMILE τ=5``."""
    _, param_name, display = ESTIMATORS[estimator]
    if param_name is None or param is None:
        return display
    return f"{display} {'α' if param_name == 'alpha' else 'τ'}={param:g}"


def parse_estimator(spec: str) -> tuple[str, float | None]:
    """``"ml_cpc:0.01"`` → ``("ml_cpc", 0.01)``; ``"cpc"`` → ``("cpc", None)``.

    Raises:
        ValueError: unknown estimator, a value for an estimator without a hyper-parameter, a
            missing α, or a value that is not a number.
    """
    name, _, value = spec.strip().partition(":")
    name = name.strip().lower().replace("-", "_")
    name = {"infonce": "cpc", "nce": "cpc", "mlcpc": "ml_cpc"}.get(name, name)
    if name not in ESTIMATORS:
        raise ValueError(f"unknown estimator {spec!r}; expected NAME or NAME:VALUE with NAME one of "
                         f"{sorted(ESTIMATORS)} (e.g. ml_cpc:0.01, smile:5)")
    _, param_name, _ = ESTIMATORS[name]
    if not value.strip():
        if param_name == "alpha":
            raise ValueError(f"estimator {spec!r} needs its α, e.g. {name}:0.01")
        return name, (5.0 if param_name == "clip" else None)
    if param_name is None:
        raise ValueError(f"estimator {name!r} takes no hyper-parameter, got {spec!r}")
    try:
        param = float(value)
    except ValueError:
        raise ValueError(f"estimator {spec!r}: {value!r} is not a number") from None
    if param_name == "alpha":
        if not (param > 0 and math.isfinite(param)):
            raise ValueError(f"estimator {spec!r}: α must be a finite number > 0")
    return name, param


# --------------------------------------------------------------------------------------------- training


def _mask_gradients(parameters: list[Tensor], finite: Tensor, stacked: bool) -> None:
    """Zero the gradient of every run whose estimate is not finite (NWJ's e^f can overflow to −inf).

    Adam still steps (with its momentum) so the stacked and separate trainers stay identical.
    """
    for p in parameters:
        if p.grad is None:
            continue
        mask = finite.view(-1, *([1] * (p.dim() - 1))) if stacked else finite[0]
        p.grad = torch.where(mask, p.grad, torch.zeros_like(p.grad))


def train_runs(specs: list[RunSpec], device: str | torch.device = "cpu", stacked: bool | None = None,
               progress: Callable[[int], None] | None = None, report_every: int = 50) -> np.ndarray:
    """Train runs that share a critic type, schedule, batch and data seed on one device.

    Every run sees the same data stream: step t draws a fresh batch of ``Staircase.task_at(t)``
    from one generator seeded with ``seed`` on ``device``. With ``stacked`` (default: more than
    one run) the critics are evaluated as one vmapped model.

    Args:
        specs: runs that differ only in their estimator.
        device: where to train.
        stacked: stack the critics (required for more than one run).
        progress: called with the number of steps done since the last call.
        report_every: steps between progress calls.

    Returns:
        [len(specs), total_steps] array of the training-batch estimate (nats) at every step.
    """
    from ..estimate.batched import StackedCritics  # lazy: pulls in torch.func

    if not specs:
        raise ValueError("`specs` must hold at least one run")
    first = specs[0]
    shared = {(s.critic, s.critic_setup, s.batch_size, s.dim, tuple(s.levels), s.cubic, s.lr, s.seed) for s in specs}
    if len(shared) != 1:
        raise ValueError("runs trained together must share critic, schedule, batch size, task, lr and seed")
    stacked = len(specs) > 1 if stacked is None else stacked
    if len(specs) > 1 and not stacked:
        raise ValueError("several runs can only be trained together as a stacked model (stacked=True)")
    device = torch.device(device)
    members = [s.build_critic() for s in specs]
    model = (StackedCritics(members) if stacked else members[0]).to(device)
    parameters = list(model.parameters())
    optimiser = torch.optim.Adam(parameters, lr=first.lr)
    estimators = [s.bound() for s in specs]
    staircase = first.staircase
    generator = torch.Generator(device=device)
    generator.manual_seed(first.seed)
    total = staircase.total_steps
    curves = torch.empty(len(specs), total, device=device)
    done = 0
    for step in range(total):
        x, y = staircase.task_at(step).sample(first.batch_size, seed=generator, device=device)
        scores = model(x, y) if stacked else model(x, y)[None]
        estimates = torch.stack([estimate(scores[e]) for e, estimate in enumerate(estimators)])
        finite = torch.isfinite(estimates)
        optimiser.zero_grad(set_to_none=True)
        # Runs are independent: run e's slice of the stacked parameters gets run e's gradient only.
        (-torch.where(finite, estimates, torch.zeros_like(estimates)).sum()).backward()
        if not bool(finite.all()):
            _mask_gradients(parameters, finite, stacked)
        optimiser.step()
        curves[:, step] = estimates.detach()
        if progress is not None and (step + 1 - done >= report_every or step + 1 == total):
            progress(step + 1 - done)
            done = step + 1
    return curves.cpu().double().numpy()


def stage_means(curve: np.ndarray, steps_per_level: int, levels: int, fraction: float = 0.25) -> list[float | None]:
    """Mean of the finite estimates in the last ``fraction`` of each stage (the papers' read-out)."""
    out: list[float | None] = []
    tail = max(1, int(round(steps_per_level * fraction)))
    for k in range(levels):
        window = curve[(k + 1) * steps_per_level - tail: (k + 1) * steps_per_level]
        window = window[np.isfinite(window)]
        out.append(float(window.mean()) if window.size else None)
    return out


def _run_record(spec: RunSpec, curve: np.ndarray, seconds: float, device: str) -> dict[str, Any]:
    finite = np.isfinite(curve)
    return {
        "key": spec.key, "estimator": spec.estimator, "param": spec.param, "alpha": spec.alpha,
        "label": spec.label, "critic": spec.critic, "spec": asdict(spec), "device": device,
        "seconds": seconds, "nonfinite_steps": int((~finite).sum()),
        "stage_means": stage_means(curve, spec.critic_setup.steps_per_level, len(spec.levels)),
        "curve": [round(float(v), 4) if np.isfinite(v) else None for v in curve],
    }


def _spec_from_dict(d: dict[str, Any]) -> RunSpec:
    d = dict(d)
    d["critic_setup"] = CriticSetup(**d["critic_setup"])
    d["levels"] = tuple(d["levels"])
    return RunSpec(**d)


_WORKER_QUEUE: Any = None
_WORKER_PARENT: int | None = None


def _init_worker(progress_queue: Any) -> None:
    global _WORKER_QUEUE, _WORKER_PARENT
    torch.set_num_threads(1)  # one thread per process: independent runs go to separate processes
    _WORKER_QUEUE, _WORKER_PARENT = progress_queue, os.getppid()


def _report_from_worker(steps: int) -> None:
    if os.getppid() != _WORKER_PARENT:  # the bench was killed: don't train on as an orphan
        os._exit(1)
    _WORKER_QUEUE.put(steps)


def _run_in_worker(spec_dict: dict[str, Any], runs_dir: str) -> dict[str, Any]:
    """One run in a pool process; writes its record atomically and returns it."""
    spec = _spec_from_dict(spec_dict)
    start = time.perf_counter()
    report = _report_from_worker if _WORKER_QUEUE is not None else None
    curve = train_runs([spec], "cpu", stacked=False, progress=report)[0]
    record = _run_record(spec, curve, time.perf_counter() - start, "cpu")
    write_json(Path(runs_dir) / f"{spec.key}.json", record)
    return record


def _execute(todo: list[RunSpec], runs_dir: Path, device: torch.device, stack: bool, workers: int) -> list[dict]:
    """Train the runs not on disk yet; each finished run is written to ``runs_dir`` at once."""
    if not todo:
        return []
    if device.type == "cpu" and workers > 1:
        return _execute_in_pool(todo, runs_dir, workers)
    groups: dict[tuple, list[RunSpec]] = {}
    for spec in todo:
        groups.setdefault((spec.critic, spec.critic_setup) if stack else (spec.key,), []).append(spec)
    records: list[dict[str, Any]] = []
    threads = torch.get_num_threads()
    if device.type == "cpu":
        torch.set_num_threads(1)
    try:
        with _progress_bar(todo) as bar:
            for group in groups.values():
                bar.set_postfix_str(f"{group[0].critic}: {len(group)} run(s)" + (" stacked" if len(group) > 1 else ""))
                start = time.perf_counter()
                curves = train_runs(group, device, stacked=len(group) > 1,
                                    progress=lambda k: bar.update(k * len(group)))
                seconds = (time.perf_counter() - start) / len(group)
                for spec, curve in zip(group, curves):
                    record = _run_record(spec, curve, seconds, str(device))
                    write_json(runs_dir / f"{spec.key}.json", record)
                    records.append(record)
    finally:
        torch.set_num_threads(threads)
    return records


def _execute_in_pool(todo: list[RunSpec], runs_dir: Path, workers: int) -> list[dict]:
    """One run per process, one thread each; progress comes back through a queue."""
    context = multiprocessing.get_context()
    progress_queue = context.Queue()
    records: list[dict[str, Any]] = []
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                             initargs=(progress_queue,)) as pool:
        # Longest runs first so the pool's tail is short; workers start before the bar's thread does.
        pending = {pool.submit(_run_in_worker, asdict(s), str(runs_dir))
                   for s in sorted(todo, key=lambda s: -_cost_estimate(s))}
        with _progress_bar(todo) as bar:
            while pending:
                finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                _drain(progress_queue, bar)
                records += [fut.result() for fut in finished]
            _drain(progress_queue, bar)
    return records


def _progress_bar(todo: list[RunSpec]) -> tqdm:
    total = sum(s.staircase.total_steps for s in todo)
    return tqdm(total=total, desc=f"staircase ({len(todo)} runs)", unit="step", unit_scale=True, smoothing=0.05,
                disable=bar_disabled())


def _drain(progress_queue: Any, bar: tqdm) -> None:
    while True:
        try:
            bar.update(progress_queue.get_nowait())
        except queue_module.Empty:
            return


def _cost_estimate(spec: RunSpec) -> float:
    """Relative cost of a run (multiply-adds per step × steps), for scheduling only."""
    h, n = spec.critic_setup.hidden, spec.batch_size
    layers = spec.critic_setup.layers
    per_step = n * n * h * h * (layers - 1) if spec.critic == "joint" else 2 * n * h * h * layers
    return per_step * spec.staircase.total_steps


# --------------------------------------------------------------------------------------------- reporting


def _published(record: dict[str, Any], levels: tuple[float, ...], batch_size: int, cubic: bool) -> tuple | None:
    if cubic or batch_size != 128 or tuple(levels) != PUBLISHED_LEVELS:
        return None
    param = 1.0 if record["estimator"] == "cpc" else record["param"]
    entry = PUBLISHED.get((record["estimator"], param if param is None else float(param)))
    return entry.get(record["critic"]) if entry else None


def _fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def results_table(records: list[dict[str, Any]], levels: tuple[float, ...], batch_size: int, cubic: bool) -> str:
    """Markdown table: estimator × critic rows, one column per true MI; published value in brackets."""
    rows = []
    any_published = False
    for r in records:
        published = _published(r, levels, batch_size, cubic)
        any_published |= published is not None
        row: dict[str, Any] = {"estimator": r["label"], "critic": r["critic"]}
        for k, mi in enumerate(levels):
            cell = _fmt(r["stage_means"][k])
            if published is not None:
                cell += f" ({published[k]:.2f})"
            row[f"MI={mi:g}"] = cell
        if r["nonfinite_steps"]:
            row["non-finite steps"] = r["nonfinite_steps"]
        rows.append(row)
    columns = ["estimator", "critic"] + [f"MI={mi:g}" for mi in levels]
    if any(r["nonfinite_steps"] for r in records):
        columns.append("non-finite steps")
    text = format_table(rows, columns)
    if any_published:
        text += ("\n\nIn brackets: the published value (ML-CPC paper's figures: batch 128, 4,000 steps per stage, "
                 "mean of the last 1,000, critics 3 × 256 hidden); compare with the critic size and stage length "
                 "of our run.")
    return text


def claim_checks(records: list[dict[str, Any]], levels: tuple[float, ...], batch_size: int) -> list[dict[str, Any]]:
    """The claims the figure is about, checked on the top stage.

    * ML-CPC with α < 1: log n < estimate < true MI (climbs past CPC's ceiling, stays a lower bound).
    * Invalid bounds (α-CPC with α < 1): the stages where the estimate exceeds the true MI.
    """
    log_n, top, checks = math.log(batch_size), len(levels) - 1, []
    for r in records:
        value = r["stage_means"][top]
        if r["estimator"] == "ml_cpc" and r["alpha"] is not None and r["alpha"] < 1 and value is not None:
            ok = log_n < value < levels[top]
            text = (f"{r['label']} ({r['critic']}) at MI={levels[top]:g}: {value:.2f} nats "
                    f"{'>' if value > log_n else '≤'} log n = {log_n:.2f} and "
                    f"{'<' if value < levels[top] else '≥'} {levels[top]:g} {'✓' if ok else '✗'}")
            checks.append({"kind": "ml_cpc_past_log_n", "label": r["label"], "critic": r["critic"], "alpha": r["alpha"],
                           "true_mi": levels[top], "estimate": value, "log_n": log_n, "passed": ok, "text": text})
        elif not bounds.info(ESTIMATORS[r["estimator"]][0]).valid_lower_bound and (r["alpha"] or 1) < 1:
            over = [(mi, v) for mi, v in zip(levels, r["stage_means"]) if v is not None and v > mi]
            text = (f"{r['label']} ({r['critic']}) exceeds the true MI at "
                    + (", ".join(f"MI={mi:g} ({v:.2f})" for mi, v in over) if over else "no stage")
                    + (" — not a valid lower bound" if over else ""))
            checks.append({"kind": "invalid_bound_overshoots", "label": r["label"], "critic": r["critic"],
                           "alpha": r["alpha"], "overshoot_at": [mi for mi, _ in over], "passed": bool(over),
                           "text": text})
    return checks


def headline_claim(checks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one-line claim: ML-CPC α = 1e-3 (else the smallest α) on the separable critic where run."""
    ml = [c for c in checks if c["kind"] == "ml_cpc_past_log_n"]
    if not ml:
        return None
    return min(ml, key=lambda c: (abs(math.log10(c["alpha"]) + 3), c["critic"] != "separable"))


def _smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Centered moving average that ignores non-finite points."""
    if window <= 1:
        return values
    ok = np.isfinite(values)
    kernel = np.ones(window)
    total = np.convolve(np.where(ok, values, 0.0), kernel, mode="same")
    count = np.convolve(ok.astype(float), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def plot_staircase(records: list[dict[str, Any]], levels: tuple[float, ...], batch_size: int, path: Path,
                   title: str = "") -> Path:
    """One panel per estimator: estimate vs step (light raw, bold smoothed) per critic, true MI as
    steps, log n dashed — the layout of the ML-CPC / SMILE figures."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(dict.fromkeys(r["label"] for r in records))
    critic_names = list(dict.fromkeys(r["critic"] for r in records))
    colours = {c: f"C{i}" for i, c in enumerate(["joint", "separable"] + [c for c in critic_names
                                                                       if c not in ("joint", "separable")])}
    steps = {r["critic"]: r["spec"]["critic_setup"]["steps_per_level"] for r in records}
    ref = max(steps.values())
    cols = min(4, len(labels))
    rows = math.ceil(len(labels) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 2.8 * rows), sharex=True, sharey=True, squeeze=False)
    top = max(levels)
    for ax, label in zip(axes.flat, labels):
        for r in (r for r in records if r["label"] == label):
            curve = np.array([np.nan if v is None else v for v in r["curve"]], dtype=float)
            x = np.arange(curve.size) * (ref / steps[r["critic"]])
            colour = colours[r["critic"]]
            ax.plot(x, np.clip(curve, -2, top + 4), color=colour, alpha=0.25, lw=0.5)
            ax.plot(x, _smooth(curve, max(1, steps[r["critic"]] // 20)), color=colour, lw=1.4, label=r["critic"])
        stairs_x = np.arange(len(levels) + 1) * ref
        ax.stairs(levels, stairs_x, baseline=None, color="k", lw=1.0, label="true MI")
        ax.axhline(math.log(batch_size), color="grey", ls="--", lw=1.0, label=f"log n = {math.log(batch_size):.2f}")
        ax.set_title(label, fontsize=10)
        ax.set_ylim(-1, top + 3)
        ax.grid(alpha=0.2)
    for ax in axes.flat[len(labels):]:
        ax.axis("off")
    for column in range(cols):  # the lowest panel of each column carries the step axis
        ax = axes[(len(labels) - 1 - column) // cols, column]
        ax.xaxis.set_tick_params(labelbottom=True)
        ax.set_xlabel("step" + ("" if len(set(steps.values())) == 1 else " (stages aligned)"))
    for ax in axes[:, 0]:
        ax.set_ylabel("estimate (nats)")
    handles, names = axes.flat[0].get_legend_handles_labels()
    legend_height = 0.35 / fig.get_figheight()  # a strip of 0.35 in under the panels
    fig.legend(handles, names, loc="lower center", ncol=len(names), frameon=False, bbox_to_anchor=(0.5, 0.0))
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, legend_height, 1, 1))
    return save_figure(fig, path)


# --------------------------------------------------------------------------------------------- entry point


def _resolve_device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    resolved = torch.device(device)
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--device {device} asks for CUDA, but this torch build sees no CUDA GPU")
    return resolved


def _as_list(value: list[str] | str | None) -> list[str] | None:
    if value is None or isinstance(value, list):
        return value
    return [v for v in value.split(",") if v.strip()]


def main(
    quick: bool = False,
    preset: Literal["quick", "cpu", "paper", "tiny"] | None = None,
    estimators: list[str] | str | None = None,
    critics: list[CriticName] | str | None = None,
    steps_per_level: int | None = None,
    hidden: int | None = None,
    batch_size: int | None = None,
    levels: list[float] | None = None,
    dim: int = 20,
    cubic: bool = False,
    lr: float = 5e-4,
    seed: int = 0,
    device: str = "auto",
    workers: int | None = None,
    stack: bool | None = None,
    out: Path = Path("results/staircase"),
    resume: bool = True,
    overwrite: bool = False,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Reproduce the ML-CPC / SMILE MI staircase and compare with the published numbers.

    Args:
        quick: shorthand for ``--preset quick`` (the README's main job: < 5 min on 2 CPU cores).
        preset: ``quick``; ``cpu`` (separable critic at full length, joint critic shrunk to 64
            hidden units and 1,000 steps per stage); ``paper`` (everything at full size: a GPU job);
            ``tiny`` (seconds). Default: ``paper`` where CUDA is available, else ``cpu``.
        estimators: override the preset's estimators: ``NAME`` or ``NAME:VALUE`` (α for ml_cpc and
            alpha_cpc, τ for smile), as a list or comma-separated, e.g. ``cpc,ml_cpc:0.01,smile:5``.
        critics: restrict to these critics (``joint``, ``separable``).
        steps_per_level: override the steps per stage of every critic.
        hidden: override the hidden width of every critic.
        batch_size: batch size n (default 128; log n is CPC's ceiling).
        levels: true MI of each stage in nats (default 2 4 6 8 10).
        dim: dimension of x and y.
        cubic: the cubic variant (y ↦ y³; same MI, harder critic).
        lr: Adam learning rate.
        seed: seeds the data stream and the critics' initial weights.
        device: ``auto`` (CUDA when available), ``cpu``, ``cuda``, ``cuda:1``, ...
        workers: CPU processes, one thread each (default: number of cores); on CUDA the runs train
            in this process.
        stack: train the runs of one critic type as one vmapped model (default: on CUDA only).
        out: output folder: results.json, results.md, staircase.png, runs/.
        resume: reuse finished runs found in ``out/runs`` (an interrupted run continues; a run's file
            name hashes its whole configuration, so runs of other settings are never mixed in).
        overwrite: delete a non-empty ``out`` first and start over.
        progress: show progress bars (default: on a terminal).

    Returns:
        The dictionary written to ``out/results.json``.
    """
    set_progress(progress)
    torch_device = _resolve_device(device)
    if quick and preset not in (None, "quick"):
        raise ValueError(f"--quick and --preset {preset} contradict each other")
    name = "quick" if quick else (preset or ("paper" if torch_device.type == "cuda" else "cpu"))
    cfg = PRESETS[name]
    parsed = list(dict.fromkeys(parse_estimator(s) for s in (_as_list(estimators) or cfg["estimators"])))
    chosen = _as_list(critics) or cfg["run"]
    unknown = [c for c in chosen if c not in cfg["critics"]]
    if unknown:
        raise ValueError(f"unknown critic(s) {unknown}; expected joint and/or separable")
    setups: dict[str, CriticSetup] = {c: cfg["critics"][c] for c in chosen}
    if steps_per_level is not None or hidden is not None:
        setups = {c: CriticSetup(hidden if hidden is not None else s.hidden, s.layers, s.embed_dim,
                                 steps_per_level if steps_per_level is not None else s.steps_per_level)
                  for c, s in setups.items()}
    n = batch_size or cfg.get("batch_size", 128)
    level_values = tuple(float(v) for v in (levels or PUBLISHED_LEVELS))
    if n < 2:
        raise ValueError(f"`batch_size` must be >= 2, got {n}")
    if any(s.steps_per_level < 4 for s in setups.values()):
        raise ValueError("`steps_per_level` must be >= 4 (the read-out averages the last quarter of each stage)")
    too_big = [f"{e}:{p:g}" for e, p in parsed if ESTIMATORS[e][1] == "alpha" and p > n]
    if too_big:
        raise ValueError(f"α must be <= the batch size {n} (the negatives' weights turn negative above it): {too_big}")
    specs = [RunSpec(est, param, critic, setup, n, dim, level_values, cubic, lr, seed)
             for critic, setup in setups.items() for est, param in parsed]
    stack = torch_device.type == "cuda" if stack is None else stack
    if workers is None:
        workers = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    workers = max(1, min(workers, len(specs)))

    out = Path(out)
    resume = prepare_out(out, {"bench": "staircase"}, resume=resume, overwrite=overwrite)
    runs_dir = out / "runs"
    done, todo = {}, []
    for spec in specs:
        path = runs_dir / f"{spec.key}.json"
        if resume and path.exists():
            done[spec.key] = read_json(path)
        else:
            todo.append(spec)
    where = str(torch_device) + ("" if torch_device.type != "cpu" else f", {workers} process(es) × 1 thread")
    print(f"staircase [{name}]: {len(specs)} runs ({len(done)} already in {runs_dir}), "
          f"critics {', '.join(f'{c} ({s.hidden} hidden, {s.steps_per_level} steps/stage)' for c, s in setups.items())}, "
          f"batch {n}, on {where}", flush=True)
    start = time.perf_counter()
    for record in _execute(todo, runs_dir, torch_device, stack, workers):
        done[record["key"]] = record
    seconds = time.perf_counter() - start
    records = [done[s.key] for s in specs]

    rows = [{"estimator": r["estimator"], "alpha": r["alpha"], "critic": r["critic"], "true_mi": mi,
             "estimate": r["stage_means"][k], "label": r["label"]}
            for r in records for k, mi in enumerate(level_values)]
    checks = claim_checks(records, level_values, n)
    claim = headline_claim(checks)
    table = results_table(records, level_values, n, cubic)
    title = (f"MI staircase ({'cubic, ' if cubic else ''}d={dim}, batch {n}, preset {name})")
    plot_staircase(records, level_values, n, out / "staircase.png", title)
    results = {
        "batch_size": n, "log_n": math.log(n), "preset": name, "levels": list(level_values), "dim": dim,
        "cubic": cubic, "lr": lr, "seed": seed, "device": str(torch_device),
        "critics": {c: asdict(s) for c, s in setups.items()},
        "estimators": [{"estimator": e, "param": p, "label": estimator_label(e, p)} for e, p in parsed],
        "rows": rows, "claim": claim, "checks": checks, "seconds": seconds,
        "run_seconds": {r["key"]: r["seconds"] for r in records},
        "runs": [str(runs_dir / f"{r['key']}.json") for r in records],
        "published": [{"estimator": e, "alpha": a, "critic": c, "values": list(v)}
                      for (e, a), by_critic in PUBLISHED.items() for c, v in by_critic.items()],
    }
    write_json(out / "results.json", results)
    write_text(out / "results.md", f"{title}\n\nmean estimate (nats) over the last quarter of each stage\n\n{table}\n")
    print(f"\n{title}: mean estimate (nats) over the last quarter of each stage\n\n{table}\n")
    for check in checks:
        if check is not claim:
            print(check["text"])
    if claim is not None:
        print(f"claim: {claim['text']}")
    print(f"\n{len(todo)} run(s) trained in {seconds:.0f} s; wrote {out / 'results.json'}, results.md, "
          f"staircase.png and {len(records)} run file(s) in {runs_dir}", flush=True)
    return results


__all__ = ["CriticSetup", "ESTIMATORS", "PRESETS", "PUBLISHED", "RunSpec", "claim_checks", "estimator_label", "main",
           "parse_estimator", "plot_staircase", "results_table", "stage_means", "train_runs"]
