"""``infobound bench suite``: estimators × ground-truth tasks × seeds × sample sizes.

Answers "which estimator should I trust on data like mine?" with numbers, in the manner of bmi's
benchmark (Czyż et al., NeurIPS 2023): every run is captured on its own (an estimator that fails
on a task leaves its error text in the results instead of stopping the bench), finished runs are
kept on disk so an interrupted bench resumes, and the results are a Markdown and an HTML table of
estimate vs truth (cells coloured by log(estimate/truth)), a PNG heat map and JSON.
"""

from __future__ import annotations

import html
import math
import os
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
from tqdm.auto import tqdm

from infobound.results import format_table, print_table, read_json, save_figure, write_json, write_text
from infobound.runs import prepare_out

from ..estimate.nonparametric import gaussian, gcmi, histogram, ksg
from ..estimate.result import EstimateResult
from ..tasks import task_suite
from ._runner import bar_disabled, set_progress

EstimatorFn = Callable[[Any, Any, int], EstimateResult]


def _neural(**options: Any) -> EstimatorFn:
    def run(x: Any, y: Any, seed: int) -> EstimateResult:
        from ..estimate import (
            estimate_mi,  # lazy: the neural estimator pulls in the trainer
        )

        method = options.get("method")
        extra = {"progress": False} if method in (None, "neural", "fdime", "flow", "doe") else {}
        return estimate_mi(x, y, seed=seed, **extra, **options)

    return run


def _external(kind: str) -> EstimatorFn:
    """Other toolkits' default neural estimators, for side-by-side error tables.

    They import lazily and only where installed (bmi needs JAX 0.4.33, torch-mist numpy < 2, so
    each usually lives in its own environment; see docs/suite.md). Both run with their defaults.
    """

    def run(x: Any, y: Any, seed: int) -> EstimateResult:
        start = time.perf_counter()
        if kind.startswith("bmi-"):
            import bmi

            cls = {"bmi-infonce": bmi.estimators.InfoNCEEstimator, "bmi-nwj": bmi.estimators.NWJEstimator,
                   "bmi-dv": bmi.estimators.DonskerVaradhanEstimator, "bmi-mine": bmi.estimators.MINEEstimator}[kind]
            value = cls(verbose=False, seed=seed).estimate(x, y)
        else:
            import torch
            from torch_mist import estimate_mi as mist_estimate_mi

            torch.manual_seed(seed)
            value = mist_estimate_mi(data=(x, y), verbose=False)[0]
        return EstimateResult(float(value), method=kind, n_samples=len(x), seconds=time.perf_counter() - start)

    return run


ESTIMATORS: dict[str, EstimatorFn] = {
    "ksg-k3": lambda x, y, seed: ksg(x, y, k=3, seed=seed),
    "ksg-k10": lambda x, y, seed: ksg(x, y, k=10, seed=seed),
    "gaussian": lambda x, y, seed: gaussian(x, y),
    "gcmi": lambda x, y, seed: gcmi(x, y),
    "histogram": lambda x, y, seed: histogram(x, y),
    "default": _neural(method=None),  # estimate_mi(x, y) as shipped
    "neural": _neural(method="neural"),  # ML-CPC at the safe α, separable critic
    # f-DIME as in the paper (a joint critic on derangements) and with the Gaussian-copula critic under it.
    "fdime-gan": _neural(method="fdime", gaussian_baseline=False, square_features=False, max_correction=None),
    "fdime-kl": _neural(method="fdime", variant="kl", gaussian_baseline=False, square_features=False,
                        max_correction=None),
    "fdime-hd": _neural(method="fdime", variant="hd", gaussian_baseline=False, square_features=False,
                        max_correction=None),
    "fdime-gan-copula": _neural(method="fdime"),  # = the default estimator's settings, named
    # Flow Gaussianisation (Butakov et al. 2024) + the f-DIME correction in its latent space.
    "flow": _neural(method="flow"),
    # Difference of entropies, H(Y) − H(Y|X) by held-out cross-entropies (McAllester & Stratos 2020).
    "doe": _neural(method="doe"),
    "doe-zscore": _neural(method="doe", standardise="zscore"),  # z-scores instead of normal scores
    **{name: _external(name) for name in ("bmi-infonce", "bmi-nwj", "bmi-dv", "bmi-mine", "torch-mist")},
}
"""Estimators by name; add your own with :func:`register_estimator`."""


def register_estimator(name: str, fn: EstimatorFn) -> None:
    """Add an estimator ``fn(x, y, seed) -> EstimateResult`` to the suite."""
    ESTIMATORS[name] = fn


PRESETS: dict[str, dict[str, Any]] = {
    # ~15 minutes on 2 CPU cores.
    "quick": {"tasks": "quick", "seeds": [0, 1, 2], "sample_sizes": [5000],
              "estimators": ["ksg-k3", "ksg-k10", "gaussian", "histogram", "neural"]},
    "full": {"tasks": "full", "seeds": [0, 1, 2, 3, 4], "sample_sizes": [1000, 5000, 10000],
             "estimators": ["ksg-k3", "ksg-k10", "gaussian", "histogram", "neural"]},
    # seconds; for tests and smoke runs.
    "tiny": {"tasks": "quick", "seeds": [0], "sample_sizes": [300], "estimators": ["ksg-k3", "gaussian", "histogram"],
             "max_tasks": 4},
    # bmi's 40 v1 tasks and six 5/10-nat non-copula tasks (docs/estimate.md, "accuracy").
    "accuracy": {"tasks": "accuracy", "seeds": [0, 1], "sample_sizes": [5000],
                 "estimators": ["default", "neural", "fdime-gan", "gcmi", "ksg-k10"]},
}


@dataclass(frozen=True)
class RunSpec:
    estimator: str
    task: str
    seed: int
    n_samples: int

    @property
    def key(self) -> str:
        return f"{self.estimator}__{self.task}__s{self.seed}__n{self.n_samples}"


def _run_one(spec: RunSpec, task_preset: str) -> dict[str, Any]:
    """One (estimator, task, seed, n) run in a worker; failures are returned, never raised."""
    import torch

    torch.set_num_threads(1)
    task = task_suite(task_preset)[spec.task]
    row: dict[str, Any] = {"estimator": spec.estimator, "task": spec.task, "seed": spec.seed,
                           "n_samples": spec.n_samples, "true_mi": task.mutual_information}
    start = time.perf_counter()
    try:
        # The estimator sees a data seed distinct from its own seed, so seeds vary both.
        x, y = task.sample(spec.n_samples, seed=10_000 + spec.seed)
        result = ESTIMATORS[spec.estimator](x.numpy(), y.numpy(), spec.seed)
        value = float(result.value)
        if not math.isfinite(value):
            raise FloatingPointError(f"estimate is not finite: {value}")
        row.update(estimate=value, error=None, ci=list(result.ci) if result.ci else None,
                   lower=getattr(result, "lower", None))
    except Exception as exc:  # noqa: BLE001 — capture every failure of one run as data
        row.update(estimate=None, error=f"{type(exc).__name__}: {exc}",
                   traceback=traceback.format_exc(limit=3))
    row["seconds"] = time.perf_counter() - start
    return row


def _summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean ± std over seeds per (task, n, estimator); failures counted."""
    groups: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault((r["task"], r["n_samples"], r["estimator"]), []).append(r)
    out = []
    for (task, n, est), rs in sorted(groups.items()):
        ok = [r["estimate"] for r in rs if r["estimate"] is not None]
        out.append({"task": task, "n_samples": n, "estimator": est, "true_mi": rs[0]["true_mi"],
                    "mean": float(np.mean(ok)) if ok else None, "std": float(np.std(ok)) if len(ok) > 1 else None,
                    "abs_error": float(abs(np.mean(ok) - rs[0]["true_mi"])) if ok else None,
                    "failures": len(rs) - len(ok), "seconds": float(np.mean([r["seconds"] for r in rs]))})
    return out


def estimator_summary(rows: list[dict[str, Any]], n: int, tasks: set[str] | None = None) -> list[dict[str, Any]]:
    """Per estimator at sample size n: MAE, time, coverage of the truth by ``ci``, and ``lower``'s record.

    MAE is the bench's (|mean over seeds − truth| averaged over tasks); "run MAE" averages
    |estimate − truth| over single runs (what one user sees). Coverage: the share of runs whose
    interval contains the truth. For estimators with a certified ``lower``: the share of runs with
    lower ≤ truth, and the mean gap truth − lower. ``tasks`` restricts the summary to those tasks.
    """
    if tasks is not None:
        rows = [r for r in rows if r["task"] in tasks]
    table = []
    for est in sorted({r["estimator"] for r in rows if r["n_samples"] == n}):
        rs = [r for r in rows if r["estimator"] == est and r["n_samples"] == n]
        ok = [r for r in rs if r.get("estimate") is not None]
        by_task: dict[str, list[float]] = {}
        for r in ok:
            by_task.setdefault(r["task"], []).append(r["estimate"] - r["true_mi"])
        with_ci = [r for r in ok if r.get("ci")]
        with_lower = [r for r in ok if r.get("lower") is not None]
        table.append({
            "estimator": est, "runs": len(rs), "failed": len(rs) - len(ok),
            "MAE": float(np.mean([abs(np.mean(v)) for v in by_task.values()])) if by_task else None,
            "run MAE": float(np.mean([abs(r["estimate"] - r["true_mi"]) for r in ok])) if ok else None,
            "median s": float(np.median([r["seconds"] for r in ok])) if ok else None,
            "ci covers truth": (f"{sum(r['ci'][0] <= r['true_mi'] <= r['ci'][1] for r in with_ci)}/{len(with_ci)}"
                                if with_ci else "-"),
            "lower <= truth": (f"{sum(r['lower'] <= r['true_mi'] for r in with_lower)}/{len(with_lower)}"
                               if with_lower else "-"),
            "mean truth - lower": (float(np.mean([r["true_mi"] - r["lower"] for r in with_lower]))
                                   if with_lower else None),
        })
    return table


def _log_ratio_colour(estimate: float | None, truth: float) -> str:
    """Green at estimate = truth, red below, blue above (saturating at a factor of e)."""
    if estimate is None:
        return "#bbbbbb"
    ratio = math.log(max(estimate, 1e-3) / max(truth, 1e-3))
    t = max(-1.0, min(1.0, ratio))
    if t < 0:
        r, g, b = 1.0, 1.0 + 0.45 * t, 1.0 + 0.55 * t
    else:
        r, g, b = 1.0 - 0.55 * t, 1.0 - 0.25 * t, 1.0
    return "#%02x%02x%02x" % (int(255 * r), int(255 * g), int(255 * b))


def _pivot(summary: list[dict[str, Any]], n: int) -> tuple[list[str], list[str], dict[tuple[str, str], dict]]:
    tasks = sorted({s["task"] for s in summary if s["n_samples"] == n})
    estimators = sorted({s["estimator"] for s in summary if s["n_samples"] == n})
    cell = {(s["task"], s["estimator"]): s for s in summary if s["n_samples"] == n}
    return tasks, estimators, cell


def _html_table(summary: list[dict[str, Any]], sample_sizes: list[int]) -> str:
    parts = ["<html><head><meta charset='utf-8'><style>td,th{padding:3px 8px;font:13px monospace;"
             "border:1px solid #ddd}table{border-collapse:collapse;margin-bottom:2em}</style></head><body>",
             "<h2>infobound bench suite: estimate vs true MI (nats)</h2>",
             "<p>Cell colour: log(estimate / truth); white-green = right, red = under, blue = over; grey = failed.</p>"]
    for n in sample_sizes:
        tasks, estimators, cell = _pivot(summary, n)
        parts.append(f"<h3>N = {n}</h3><table><tr><th>task</th><th>true MI</th>"
                     + "".join(f"<th>{html.escape(e)}</th>" for e in estimators) + "</tr>")
        for t in tasks:
            truth = next(s["true_mi"] for (tt, _), s in cell.items() if tt == t)
            parts.append(f"<tr><td>{html.escape(t)}</td><td>{truth:.2f}</td>")
            for e in estimators:
                s = cell.get((t, e))
                mean = s["mean"] if s else None
                text = "fail" if mean is None else f"{mean:.2f}" + (f" ± {s['std']:.2f}" if s["std"] is not None else "")
                parts.append(f"<td style='background:{_log_ratio_colour(mean, truth)}'>{text}</td>")
            parts.append("</tr>")
        parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _markdown_tables(summary: list[dict[str, Any]], sample_sizes: list[int]) -> str:
    blocks = []
    for n in sample_sizes:
        tasks, estimators, cell = _pivot(summary, n)
        rows = []
        for t in tasks:
            truth = next(s["true_mi"] for (tt, _), s in cell.items() if tt == t)
            row: dict[str, Any] = {"task": t, "true MI": f"{truth:.2f}"}
            for e in estimators:
                s = cell.get((t, e))
                row[e] = "fail" if not s or s["mean"] is None else f"{s['mean']:.2f}"
            rows.append(row)
        mae = {"task": "**mean abs. error**", "true MI": ""}
        for e in estimators:
            errs = [cell[(t, e)]["abs_error"] for t in tasks if (t, e) in cell and cell[(t, e)]["abs_error"] is not None]
            mae[e] = f"{np.mean(errs):.3f}" if errs else "—"
        rows.append(mae)
        # MAE covers only the runs that succeeded, so show how many failed beside it.
        failed = {"task": "failed runs", "true MI": ""}
        for e in estimators:
            failed[e] = str(sum(cell[(t, e)]["failures"] for t in tasks if (t, e) in cell))
        rows.append(failed)
        blocks.append(f"N = {n}\n\n" + format_table(rows))
    return "\n\n".join(blocks)


def _heatmap(summary: list[dict[str, Any]], n: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks, estimators, cell = _pivot(summary, n)
    grid = np.full((len(tasks), len(estimators)), np.nan)
    for i, t in enumerate(tasks):
        for j, e in enumerate(estimators):
            s = cell.get((t, e))
            if s and s["mean"] is not None:
                grid[i, j] = math.log(max(s["mean"], 1e-3) / max(s["true_mi"], 1e-3))
    fig, ax = plt.subplots(figsize=(1.3 * len(estimators) + 4, 0.32 * len(tasks) + 1.5))
    im = ax.imshow(np.clip(grid, -1, 1), cmap="RdBu", vmin=-1, vmax=1, aspect="auto")
    ax.set_xticks(range(len(estimators)), estimators, rotation=30, ha="right")
    ax.set_yticks(range(len(tasks)), tasks, fontsize=8)
    for i in range(len(tasks)):
        for j in range(len(estimators)):
            s = cell.get((tasks[i], estimators[j]))
            ax.text(j, i, "fail" if not s or s["mean"] is None else f"{s['mean']:.2f}", ha="center", va="center",
                    fontsize=7)
    fig.colorbar(im, ax=ax, label="log(estimate / true MI)")
    ax.set_title(f"infobound bench suite, N = {n}")
    save_figure(fig, path)


def main(
    preset: Literal["tiny", "quick", "full", "accuracy"] = "quick",
    estimators: list[str] | None = None,
    seeds: list[int] | None = None,
    sample_sizes: list[int] | None = None,
    tasks: list[str] | None = None,
    workers: int | None = None,
    out: Path = Path("results/suite"),
    resume: bool = True,
    overwrite: bool = False,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Run estimators × tasks × seeds × sample sizes and write a table of estimate vs truth.

    Args:
        preset: ``quick`` (~15 min on 2 cores), ``full``, ``accuracy`` (bmi's v1 tasks and the high-MI
            non-copula tasks) or ``tiny`` (seconds, a smoke run).
        estimators: override the preset's estimators (names in ``ESTIMATORS``).
        seeds: override the preset's seeds.
        sample_sizes: override the preset's sample sizes.
        tasks: restrict to these task names (default: the preset's whole task list).
        workers: parallel processes (one thread each); default = number of CPU cores.
        out: output folder: results.json, results.md, results.html, suite_N.png, runs/.
        resume: reuse finished runs found in ``out/runs`` (refused when made with another task list).
        overwrite: delete a non-empty ``out`` first and start over.
        progress: show progress bars (default: on a terminal).

    Returns:
        The results dictionary that was written to ``out/results.json``.
    """
    set_progress(progress)
    cfg = dict(PRESETS[preset])
    estimators = estimators or cfg["estimators"]
    unknown = [e for e in estimators if e not in ESTIMATORS]
    if unknown:
        raise ValueError(f"unknown estimator(s) {unknown}; expected names from {sorted(ESTIMATORS)}")
    all_tasks = task_suite(cfg["tasks"])
    task_names = tasks or list(all_tasks)[: cfg.get("max_tasks")]
    missing = [t for t in task_names if t not in all_tasks]
    if missing:
        raise ValueError(f"unknown task(s) {missing}; expected names from {sorted(all_tasks)}")
    seeds = seeds or cfg["seeds"]
    sample_sizes = sample_sizes or cfg["sample_sizes"]
    specs = [RunSpec(e, t, s, n) for n in sample_sizes for t in task_names for e in estimators for s in seeds]

    # A run's file name carries estimator, task, seed and N; the task definitions come from the preset.
    resume = prepare_out(out, {"bench": "suite", "tasks": cfg["tasks"]}, resume=resume, overwrite=overwrite)
    runs_dir = Path(out) / "runs"
    rows: list[dict[str, Any]] = []
    todo = []
    for spec in specs:
        path = runs_dir / f"{spec.key}.json"
        if resume and path.exists():
            rows.append(read_json(path))
        else:
            todo.append(spec)
    workers = workers or os.cpu_count() or 1
    start = time.perf_counter()
    with tqdm(total=len(todo), desc="bench suite", disable=True if not todo else bar_disabled()) as bar:
        if workers <= 1:
            for spec in todo:
                row = _run_one(spec, cfg["tasks"])
                write_json(runs_dir / f"{spec.key}.json", row)
                rows.append(row)
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(_run_one, spec, cfg["tasks"]): spec for spec in todo}
                for fut in as_completed(futures):
                    row = fut.result()
                    write_json(runs_dir / f"{futures[fut].key}.json", row)
                    rows.append(row)
                    bar.update()
    summary = _summarise(rows)
    failures = [{"estimator": r["estimator"], "task": r["task"], "seed": r["seed"], "n_samples": r["n_samples"],
                 "error": r["error"]} for r in rows if r.get("error")]
    per_estimator = {n: estimator_summary(rows, n) for n in sample_sizes}
    # The accuracy preset's two halves have separate targets (bmi v1 at low MI, 5–10 nats non-copula).
    groups = {"bmi-v1": set(task_suite("bmi-v1")), "high-mi": set(task_suite("high-mi"))} \
        if cfg["tasks"] == "accuracy" else {}
    per_group = {name: {n: estimator_summary(rows, n, names) for n in sample_sizes} for name, names in groups.items()}
    results = {"preset": preset, "estimators": estimators, "tasks": task_names, "seeds": seeds,
               "sample_sizes": sample_sizes, "seconds": time.perf_counter() - start, "rows": rows,
               "summary": summary, "per_estimator": per_estimator, "per_group": per_group, "failures": failures}
    out = Path(out)
    write_json(out / "results.json", results)
    markdown = _markdown_tables(summary, sample_sizes) + "".join(
        f"\n\nPer estimator, N = {n}\n\n" + format_table(per_estimator[n], precision=3) for n in sample_sizes) + "".join(
        f"\n\nPer estimator on the {name} tasks, N = {n}\n\n" + format_table(per_group[name][n], precision=3)
        for name in per_group for n in sample_sizes)
    write_text(out / "results.md", markdown + "\n")
    write_text(out / "results.html", _html_table(summary, sample_sizes))
    for n in sample_sizes:
        _heatmap(summary, n, out / f"suite_N{n}.png")
    print(markdown)
    if failures:
        print_table(failures, ["estimator", "task", "seed", "n_samples", "error"],
                    title=f"\n{len(failures)} run(s) failed (captured, the bench went on):")
    print(f"\nwrote {out / 'results.json'}, results.md, results.html and suite_N*.png")
    return results


__all__ = ["ESTIMATORS", "PRESETS", "main", "register_estimator"]
