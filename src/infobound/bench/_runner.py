"""Run a bench's independent runs, one by one or over worker processes, with a progress bar.

``bench ssl`` and ``bench text`` train one model per (config, seed); each run is a function call whose
result is a row. Runs go to ``workers`` spawned processes (one torch thread each, set by the run
itself); a line per finished run is printed above a tqdm bar, which shows only on a terminal unless
``progress`` says otherwise.
"""

from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextvars import ContextVar
from typing import Any, Callable, Sequence

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


__all__ = ["bar_disabled", "run_all", "set_progress"]
