"""Run a bench's independent runs, one by one or over worker processes, with a progress bar.

``bench ssl`` and ``bench text`` train one model per (config, seed); each run is a function call whose
result is a row, and :func:`summarise` gives the mean and std over seeds. Runs go to ``workers``
spawned processes (one torch thread each, set by the run itself); a line per finished run is printed
above a tqdm bar, which shows only on a terminal unless ``progress`` says otherwise.
"""

from __future__ import annotations

import math
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextvars import ContextVar
from typing import Any, Callable, Sequence

import numpy as np
from tqdm.auto import tqdm

_PROGRESS: ContextVar[bool | None] = ContextVar("infobound_bench_progress", default=None)


def set_progress(progress: bool | None) -> None:
    """The ``--progress`` of the running bench: True / False, or None for "only on a terminal"."""
    _PROGRESS.set(progress)


def bar_disabled(progress: bool | None = None) -> bool | None:
    """tqdm's ``disable`` for ``progress`` (default: the running bench's ``--progress``): None = on a terminal."""
    progress = _PROGRESS.get() if progress is None else progress
    return None if progress is None else not progress


def run_all(fn: Callable[..., dict[str, Any]], calls: Sequence[tuple[Any, ...]], *, workers: int,
            describe: Callable[[dict[str, Any]], str], desc: str, progress: bool | None = None) -> list[dict[str, Any]]:
    """``[fn(*args) for args in calls]`` in completion order, over ``workers`` processes when > 1.

    Args:
        fn: a picklable top-level function returning a row (a dict).
        calls: the argument tuples, one per run.
        workers: processes at a time (1: in this process).
        describe: the line printed for a finished row (after ``[k/N]``).
        desc: the progress bar's label.
        progress: show a bar (None: only on a terminal).
    """
    rows: list[dict[str, Any]] = []
    total = len(calls)
    with tqdm(total=total, desc=desc, unit="run", disable=bar_disabled(progress), file=sys.stderr) as bar:
        def done(row: dict[str, Any]) -> None:
            rows.append(row)
            bar.write(f"[{len(rows)}/{total}] {describe(row)}", file=sys.stdout)
            bar.update(1)

        if workers <= 1:
            for args in calls:
                done(fn(*args))
        else:
            import multiprocessing as mp

            with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
                for future in as_completed([pool.submit(fn, *args) for args in calls]):
                    done(future.result())
    sys.stdout.flush()
    return rows


def mean_std(values: list[float | None]) -> tuple[float | None, float | None]:
    """Mean and (population) std of the finite values; (None, None) when there are none, std 0 for one."""
    finite = [v for v in values if v is not None and math.isfinite(v)]
    if not finite:
        return None, None
    return float(np.mean(finite)), float(np.std(finite)) if len(finite) > 1 else 0.0


def summarise(rows: list[dict[str, Any]], labels: list[str], metrics: Sequence[str]) -> list[dict[str, Any]]:
    """Mean and std over seeds of each metric, one row per config label (in the given order); runs
    with an ``error`` are left out and counted in neither ``runs`` nor the means."""
    out = []
    for label in labels:
        runs = [r for r in rows if r["config"] == label and r["error"] is None]
        entry: dict[str, Any] = {"config": label, "runs": len(runs)}
        for m in metrics:
            entry[m], entry[m + "_std"] = mean_std([r.get(m) for r in runs])
        out.append(entry)
    return out


__all__ = ["bar_disabled", "mean_std", "run_all", "set_progress", "summarise"]
