"""How fast can the staircase's CPU preset run here? One-by-one vs stacked critics vs processes.

Issue 6 asks whether training many small critics as one stacked model (``torch.func`` stacking,
``infobound.estimate.batched.StackedCritics``; the staircase's ``train_runs(..., stacked=True)``)
and spreading independent groups over processes makes the staircase CPU preset (all estimators,
both critics, several seeds) at least 3× faster than running the same runs one by one in one
process. This script measures every way of running those runs, side by side in one invocation:

- ``one by one, 1 process, T threads``: the baseline — each run alone, one after another, with
  torch's default thread count (T = the cores this process may use);
- ``one by one, 1 process, 1 thread``;
- ``stacked, 1 process, 1 thread``: the runs of each (critic, seed) group as one stacked model;
- ``one by one, P processes × 1 thread``: what ``infobound bench staircase`` does on CPU;
- ``stacked, P processes × 1 thread``: each group's stack split into P parts, one per process.

Every mode trains exactly the same runs (the CPU preset's 11 estimators × {joint 64-hidden,
separable 256-hidden critic} × ``--seeds``) for ``--steps-per-level`` × 5 steps, in fresh
processes so that thread settings do not leak; the modes alternate over ``--rounds`` and we report
the median wall time of each and its speed-up over the baseline. The per-step cost does not change
along the staircase, so short runs give the ratio of full-length ones.

    python benchmarks/staircase_speed.py --out results/staircase_speed
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch

from infobound.results import print_table, save_figure, write_json
from infobound.bench.staircase import PAPER_ESTIMATORS, PRESETS, PUBLISHED_LEVELS, RunSpec, parse_estimator, train_runs


def build_specs(seeds: list[int], steps_per_level: int) -> list[RunSpec]:
    """The CPU preset's runs (all estimators, both critics) for each seed, shortened to ``steps_per_level``."""
    from dataclasses import replace

    setups = {c: replace(s, steps_per_level=steps_per_level) for c, s in PRESETS["cpu"]["critics"].items()}
    return [RunSpec(est, param, critic, setup, 128, 20, PUBLISHED_LEVELS, False, 5e-4, seed)
            for seed in seeds for critic, setup in setups.items()
            for est, param in dict.fromkeys(parse_estimator(e) for e in PAPER_ESTIMATORS)]


def groups_of(specs: list[RunSpec]) -> list[list[RunSpec]]:
    """Runs that may share one stacked model: same critic and seed (hence the same data stream)."""
    groups: dict[tuple[str, int], list[RunSpec]] = {}
    for spec in specs:
        groups.setdefault((spec.critic, spec.seed), []).append(spec)
    return list(groups.values())


def _train(chunks: list[list[RunSpec]], threads: int, stacked: bool) -> None:
    torch.set_num_threads(threads)
    for chunk in chunks:
        if stacked:
            train_runs(chunk, "cpu", stacked=len(chunk) > 1)
        else:
            for spec in chunk:
                train_runs([spec], "cpu", stacked=False)


def _timed(chunks: list[list[RunSpec]], threads: int, stacked: bool) -> float:
    start = time.perf_counter()
    _train(chunks, threads, stacked)
    return time.perf_counter() - start


def split(items: list[Any], parts: int) -> list[list[Any]]:
    """``items`` in ``parts`` contiguous pieces of near-equal length (empty pieces dropped)."""
    size, extra = divmod(len(items), parts)
    pieces, start = [], 0
    for p in range(parts):
        end = start + size + (1 if p < extra else 0)
        pieces.append(items[start:end])
        start = end
    return [p for p in pieces if p]


def run_mode(mode: str, specs: list[RunSpec], cores: int, processes: int) -> float:
    """Wall seconds to train all ``specs`` the way ``mode`` says, each mode in fresh processes."""
    context = multiprocessing.get_context("spawn")
    groups = groups_of(specs)
    if mode.startswith("one by one, 1 process"):
        threads = 1 if mode.endswith("1 thread") else cores
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            pool.submit(_train, [[specs[0]]], threads, False).result()  # warm-up: imports, first allocations
            return pool.submit(_timed, [[s] for s in specs], threads, False).result()
    if mode == "stacked, 1 process, 1 thread":
        with ProcessPoolExecutor(1, mp_context=context) as pool:
            pool.submit(_train, [[specs[0]]], 1, False).result()
            return pool.submit(_timed, groups, 1, True).result()
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        list(pool.map(_train, [[[specs[0]]]] * processes, [1] * processes, [False] * processes))
        start = time.perf_counter()
        if mode.startswith("one by one"):
            # Longest runs first, handed out one at a time, as the bench's pool does.
            order = sorted(specs, key=lambda s: s.critic != "joint")
            futures = [pool.submit(_train, [[s]], 1, False) for s in order]
        else:
            parts = [split(g, processes) for g in groups]
            per_process = [[p[i] for p in parts if i < len(p)] for i in range(processes)]
            futures = [pool.submit(_train, chunks, 1, True) for chunks in per_process]
        for future in futures:
            future.result()
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--steps-per-level", type=int, default=8, help="steps per stage (5 stages); ≥ 4")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--processes", type=int, default=None, help="default: the cores this process may use")
    parser.add_argument("--out", type=Path, default=Path("results/staircase_speed"))
    args = parser.parse_args()

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    processes = args.processes or cores
    specs = build_specs(args.seeds, args.steps_per_level)
    modes = [f"one by one, 1 process, {cores} threads", "one by one, 1 process, 1 thread",
             "stacked, 1 process, 1 thread", f"one by one, {processes} processes × 1 thread",
             f"stacked, {processes} processes × 1 thread"]
    times: dict[str, list[float]] = {m: [] for m in modes}
    print(f"{len(specs)} runs ({len(groups_of(specs))} stackable groups) × {5 * args.steps_per_level} steps, "
          f"{args.rounds} rounds, {cores} cores", flush=True)
    for r in range(args.rounds):
        for mode in (modes if r % 2 == 0 else modes[::-1]):
            times[mode].append(run_mode(mode, specs, cores, processes))
            print(f"  round {r + 1}: {mode}: {times[mode][-1]:.1f} s", flush=True)
    baseline = statistics.median(times[modes[0]])
    rows = [{"mode": m, "median s": statistics.median(t), "speed-up": baseline / statistics.median(t),
             "s per run-step (ms)": 1000 * statistics.median(t) / (len(specs) * 5 * args.steps_per_level)}
            for m, t in times.items()]
    print_table(rows, precision=2, title=f"staircase CPU preset, {len(specs)} runs: wall time by execution mode "
                                         f"(speed-up over one by one in one process)")
    write_json(args.out / "staircase_speed.json", {
        "runs": len(specs), "steps_per_run": 5 * args.steps_per_level, "seeds": args.seeds, "cores": cores,
        "processes": processes, "rounds": args.rounds, "times": times, "rows": rows,
        "torch": torch.__version__, "python": sys.version.split()[0], "machine": platform.processor() or platform.machine()})

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.barh([r["mode"] for r in rows][::-1], [r["speed-up"] for r in rows][::-1], color="tab:blue")
    ax.axvline(3.0, color="tab:red", ls="--", label="issue 6 target (3×)")
    ax.set_xlabel("speed-up over one by one in one process")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, args.out / "staircase_speed.png")
    print(f"wrote {args.out / 'staircase_speed.json'} and staircase_speed.png")


if __name__ == "__main__":
    main()
