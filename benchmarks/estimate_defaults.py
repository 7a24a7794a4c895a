"""Pick the defaults of ``estimate_mi`` by measurement: error and time of candidate settings.

Every candidate setting (bound, critic, batch size, learning rate, width, steps, standardisation)
runs ``estimate_mi`` on the same grid of tasks with known MI at N = 5,000:

- correlated Gaussians (x ~ N(0, I_d), y = ρx + noise) with d = 5 and d = 25 and true MI
  0.2, 1, 3, 6 and 10 nats;
- heavy-tailed / distorted data: a multivariate Student-t (ν = 3, 5 + 5 dimensions, 2.85 nats),
  and cubed Gaussians (x ↦ x³ on both sides, which keeps the MI) at 5 and 25 dimensions.

For each setting it reports the mean absolute error (nats), the mean signed error, the error on the
low (≤ 3 nats) and high (≥ 6 nats) tasks, the worst overshoot, and time. The machine is shared,
so besides wall time each run reports its process CPU time: with one thread that is what the
run costs on a quiet core (a 128×512 @ 512×512 matmul measures 0.9 ms of CPU time here under
load, the reference's quiet-core figure, while its wall time is 4–5× that). Finished runs are
cached in ``--out/runs.json``, so an interrupted run resumes.

    nice -n 10 python benchmarks/estimate_defaults.py --stage bounds --out results/estimate_defaults
    nice -n 10 python benchmarks/estimate_defaults.py --stage tuning --base-bound ml_cpc --out results/estimate_defaults

``--stage bounds`` compares the bounds at one base configuration;
``--stage critic`` compares the separable with the joint (concat) critic on four tasks (the
joint critic costs ~8× more per step, so it does not run on the whole grid);
``--stage tuning`` varies the other hyper-parameters one at a time around ``--base-bound``
(for ml_cpc without an explicit α: the smallest safe α of the batch size, as estimate_mi does);
``--stage combinations`` combines the changes that helped one at a time;
``--stage default`` runs only the library's current defaults (a check after changing them).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch

from infobound.results import print_table, read_json, write_json, write_text
from infobound.estimate import estimate_mi
from infobound.tasks import CorrelatedGaussian, MultivariateNormal, MultivariateStudentT, transformed

N_SAMPLES = 5000
CRITIC_STAGE_TASKS = ("gauss-5d-1", "gauss-25d-3", "gauss-25d-6", "cube-5d-1")


def tasks() -> dict[str, Any]:
    grid: dict[str, Any] = {}
    for dim in (5, 25):
        for mi in (0.2, 1.0, 3.0, 6.0, 10.0):
            grid[f"gauss-{dim}d-{mi:g}"] = CorrelatedGaussian(dim, mi)
    sparse = MultivariateNormal.sparse(5, 5, n_interacting=5, correlation=0.8)
    grid["student-t3-5d"] = MultivariateStudentT(sparse.covariance, 5, dof=3.0)
    grid["cube-5d-1"] = transformed(CorrelatedGaussian(5, 1.0), "cube")
    grid["cube-25d-3"] = transformed(CorrelatedGaussian(25, 3.0), "cube")
    return grid


# Base configuration of the "bounds" stage; "tuning" replaces one field at a time.
BASE: dict[str, Any] = {"critic": "separable", "batch_size": 128, "lr": 1e-3, "hidden": 128, "layers": 2,
                        "embed_dim": 32, "max_steps": 2000, "standardise": "rank"}


def bound_settings() -> dict[str, dict[str, Any]]:
    return {
        "smile τ=5": BASE | {"bound": "smile", "clip": 5.0},
        "js": BASE | {"bound": "js"},
        "nwj": BASE | {"bound": "nwj"},
        "mine": BASE | {"bound": "mine"},
        "infonce": BASE | {"bound": "infonce"},
        "ml_cpc α=0.1": BASE | {"bound": "ml_cpc", "alpha": 0.1},
        "ml_cpc α=0.01": BASE | {"bound": "ml_cpc", "alpha": 0.01},
    }


def critic_settings(bound: str) -> dict[str, dict[str, Any]]:
    return {f"{bound}: separable": BASE | {"bound": bound},
            f"{bound}: concat h64": BASE | {"bound": bound, "critic": "concat", "hidden": 64}}


def tuning_settings(bound: str) -> dict[str, dict[str, Any]]:
    base = BASE | {"bound": bound}
    variants = {
        "base": {}, "lr 5e-4": {"lr": 5e-4}, "lr 3e-3": {"lr": 3e-3}, "batch 256": {"batch_size": 256},
        "layers 1": {"layers": 1}, "hidden 256": {"hidden": 256}, "zscore standardise": {"standardise": "zscore"},
    }
    return {f"{bound}: {name}": base | change for name, change in variants.items()}


def combination_settings(bound: str) -> dict[str, dict[str, Any]]:
    """The changes that helped one at a time in the tuning stage, combined."""
    base = BASE | {"bound": bound}
    variants = {
        "layers 1, lr 5e-4": {"layers": 1, "lr": 5e-4},
        "layers 1, batch 256": {"layers": 1, "batch_size": 256},
        "layers 1, batch 256, lr 5e-4": {"layers": 1, "batch_size": 256, "lr": 5e-4},
        "layers 1, batch 256, hidden 256": {"layers": 1, "batch_size": 256, "hidden": 256},
        "layers 1, batch 256, 4000 steps": {"layers": 1, "batch_size": 256, "max_steps": 4000},
        "layers 0 (bilinear), batch 256": {"layers": 0, "batch_size": 256},
    }
    return {f"{bound}: {name}": base | change for name, change in variants.items()}


def default_settings() -> dict[str, dict[str, Any]]:
    return {"library defaults": {}}


def run_one(setting: str, options: dict[str, Any], task_name: str, seed: int) -> dict[str, Any]:
    torch.set_num_threads(1)
    task = tasks()[task_name]
    x, y = task.sample(N_SAMPLES, seed=1000 + seed)
    options = dict(options)
    start, cpu_start = time.perf_counter(), time.process_time()
    try:
        result = estimate_mi(x, y, seed=seed, progress=False, **options)
        value, error_text = result.value, None
        steps, ci = result.details["steps"], result.ci
    except Exception as err:  # a failing setting is a result, not a crash
        value, error_text, steps, ci = math.nan, f"{type(err).__name__}: {err}", 0, None
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    truth = task.mutual_information
    return {"setting": setting, "task": task_name, "seed": seed, "true_mi": truth, "estimate": value,
            "error": value - truth, "ci": ci, "seconds": seconds, "steps": steps, "cpu_seconds": cpu_seconds,
            "failure": error_text}


def summarise(rows: list[dict[str, Any]], settings: list[str]) -> list[dict[str, Any]]:
    table = []
    for setting in settings:
        mine = [r for r in rows if r["setting"] == setting and r["failure"] is None]
        if not mine:
            continue
        errors = [r["error"] for r in mine]
        low = [abs(r["error"]) for r in mine if r["true_mi"] <= 3.0]
        high = [abs(r["error"]) for r in mine if r["true_mi"] >= 6.0]
        table.append({
            "setting": setting, "MAE": statistics.fmean(abs(e) for e in errors),
            "MAE ≤3 nats": statistics.fmean(low) if low else None, "MAE ≥6 nats": statistics.fmean(high) if high else None,
            "mean error": statistics.fmean(errors), "max overshoot": max(errors),
            "CPU s/run": statistics.fmean(r["cpu_seconds"] for r in mine),
            "s/run (wall)": statistics.fmean(r["seconds"] for r in mine),
            "steps": statistics.fmean(r["steps"] for r in mine),
            "runs": f"{len(mine)}/{sum(r['setting'] == setting for r in rows)}",
        })
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=["bounds", "critic", "tuning", "combinations", "default"], default="bounds")
    parser.add_argument("--base-bound", default="ml_cpc",
                        help="bound of --stage critic and --stage tuning (ml_cpc: α = the safe α of the batch size)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--tasks", nargs="*", default=None, help="subset of task names (default: all)")
    parser.add_argument("--workers", type=int, default=1, help="processes (one thread each)")
    parser.add_argument("--out", type=Path, default=Path("results/estimate_defaults"))
    args = parser.parse_args()

    settings = {"bounds": bound_settings, "critic": lambda: critic_settings(args.base_bound),
                "tuning": lambda: tuning_settings(args.base_bound),
                "combinations": lambda: combination_settings(args.base_bound), "default": default_settings}[args.stage]()
    task_names = args.tasks or (list(CRITIC_STAGE_TASKS) if args.stage == "critic" else list(tasks()))
    cache_path = args.out / "runs.json"
    done = {(r["setting"], r["task"], r["seed"]): r for r in (read_json(cache_path) if cache_path.exists() else [])}
    todo = [(s, o, t, seed) for s, o in settings.items() for t in task_names for seed in args.seeds
            if (s, t, seed) not in done]
    print(f"{len(todo)} runs to do, {len(done)} cached in {cache_path}", flush=True)
    wall = time.perf_counter()
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for row in pool.map(run_one, *zip(*todo)) if todo else []:
            done[(row["setting"], row["task"], row["seed"])] = row
            write_json(cache_path, list(done.values()))
            print(f"{row['setting']:>28} {row['task']:>16}  true {row['true_mi']:5.2f}  est {row['estimate']:6.2f}  "
                  f"{row['seconds']:5.1f}s ({row['cpu_seconds']:4.1f}s CPU) {row['steps']} steps"
                  + (f"  FAILED {row['failure']}" if row["failure"] else ""), flush=True)
    rows = [r for r in done.values() if r["setting"] in settings and r["task"] in task_names and r["seed"] in args.seeds]
    table = summarise(rows, list(settings))
    title = (f"estimate_mi settings, {len(task_names)} tasks × {len(args.seeds)} seed(s), N = {N_SAMPLES} "
             f"(stage {args.stage}; {sum(r['cpu_seconds'] for r in rows):.0f} CPU s in all; "
             f"this invocation {time.perf_counter() - wall:.0f} s wall)")
    text = print_table(table, precision=2, title=title)
    per_task = [{"task": t, "true MI": next(r["true_mi"] for r in rows if r["task"] == t),
                 **{s: statistics.fmean(r["estimate"] for r in rows if r["task"] == t and r["setting"] == s)
                    for s in settings if any(r["task"] == t and r["setting"] == s for r in rows)}}
                for t in task_names]
    text += "\n\n" + print_table(per_task, precision=2, title="Estimates per task (mean over seeds)")
    write_json(args.out / f"summary_{args.stage}.json", {"stage": args.stage, "n_samples": N_SAMPLES,
                                                          "table": table, "per_task": per_task})
    write_text(args.out / f"summary_{args.stage}.md", text + "\n")


if __name__ == "__main__":
    main()
