"""``infobound bench distill``: teacher → student pairs × methods × seeds on MNIST-1D, at equal budget.

Each pair's teacher is trained once (seed 0, cross-entropy) and frozen; every student run then uses
the same epochs, batch size, optimiser and schedule, whatever its method — the methods differ only
in the loss. Every finished run is kept in ``OUT/runs/`` so an interrupted bench resumes, and runs
go to separate single-threaded processes (reference §7: faster than one two-threaded process on
shared cores). Output: a table of mean ± std top-1 test accuracy (std over seeds, ddof = 1), the
number of pairs where ML-CPC beats CRD, ``results.json``, ``results.md`` and ``distill.png``.
"""

from __future__ import annotations

import os
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from tqdm.auto import tqdm

from infobound.results import format_table, read_json, save_figure, write_json, write_text
from infobound.runs import prepare_out

from ._runner import bar_disabled, set_progress

SAME, CROSS = "same family", "cross family"
PAIRS: dict[str, tuple[str, str, str]] = {
    "cnn": ("cnn1d_large", "cnn1d_small", SAME),
    "mlp": ("mlp_large", "mlp_small", SAME),
    "cnn-mlp": ("cnn1d_large", "mlp_small", CROSS),
}
"""Named teacher → student pairs (teacher, student, relation)."""

METHODS = ["student", "kd", "crd", "ml_cpc", "ml_cpc+kd", "alpha_cpc", "alpha_cpc+kd"]
"""The bench's methods: α-CPC is the official ML-CPC distillation code's baseline; it shares ``--alpha``
with ML-CPC (at α = 1 it is InfoNCE)."""

PRESETS: dict[str, dict[str, Any]] = {
    # 3 pairs × 7 methods × 3 seeds = 63 student runs + 2 teachers.
    "full": {"pairs": list(PAIRS), "methods": METHODS, "seeds": [0, 1, 2], "num_samples": 10_000, "epochs": 10,
             "teacher_epochs": 12, "nce_k": 1024},
    "quick": {"pairs": list(PAIRS), "methods": METHODS, "seeds": [0], "num_samples": 10_000, "epochs": 10,
              "teacher_epochs": 12, "nce_k": 1024},
    # seconds; a smoke run for tests.
    "tiny": {"pairs": ["mlp", "cnn-mlp"], "methods": METHODS, "seeds": [0], "num_samples": 600, "epochs": 1,
             "teacher_epochs": 1, "nce_k": 32},
}


@dataclass(frozen=True)
class Setup:
    """Settings shared by every run of a bench (the equal budget)."""

    num_samples: int
    epochs: int
    teacher_epochs: int
    nce_k: int
    alpha: float
    batch_size: int = 64
    lr: float = 0.05
    data_seed: int = 0


@dataclass(frozen=True)
class RunSpec:
    pair: str
    method: str
    seed: int

    @property
    def key(self) -> str:
        return f"{self.pair}__{self.method.replace('+', '-')}__s{self.seed}"


_DATA: dict[tuple[int, int], Any] = {}


def _data(setup: Setup) -> Any:
    """MNIST-1D for this bench, generated once per process."""
    from ..data import load_dataset

    key = (setup.num_samples, setup.data_seed)
    if key not in _DATA:
        _DATA[key] = load_dataset("mnist1d", seed=setup.data_seed, num_samples=setup.num_samples)
    return _DATA[key]


def _train_config(setup: Setup, epochs: int, seed: int) -> Any:
    from ..distill import TrainConfig

    return TrainConfig(epochs=epochs, batch_size=setup.batch_size, lr=setup.lr, seed=seed)


def _teacher(arch: str, setup: Setup, out: Path) -> dict[str, Any]:
    """Train (or reuse) the teacher ``arch``; returns its accuracy and time."""
    import torch

    from ..distill import train_teacher

    torch.set_num_threads(1)
    start = time.perf_counter()
    _, meta = train_teacher(arch, _data(setup), _train_config(setup, setup.teacher_epochs, 0), out / "teachers" / arch,
                            resume=True, log=None)
    return {"arch": arch, "test_acc": meta["test_acc"], "seconds": time.perf_counter() - start}


def _student(spec: RunSpec, setup: Setup, out: Path) -> dict[str, Any]:
    """One student run; failures are returned as data, never raised."""
    import torch

    from ..distill import DistillConfig, distill_student, load_teacher

    torch.set_num_threads(1)
    teacher_arch, student_arch, relation = PAIRS[spec.pair]
    row: dict[str, Any] = {"pair": spec.pair, "teacher": teacher_arch, "student": student_arch, "relation": relation,
                           "method": spec.method, "seed": spec.seed}
    start = time.perf_counter()
    try:
        data = _data(setup)
        teacher, _ = load_teacher(out / "teachers" / teacher_arch / "teacher.pt", data)
        result = distill_student(student_arch, teacher, data, _train_config(setup, setup.epochs, spec.seed),
                                 DistillConfig(method=spec.method, nce_k=setup.nce_k, alpha=setup.alpha), log=None)
        last = result.history[-1]
        row.update(student_acc=result.test_acc, best_student_acc=result.best_test_acc,
                   mi_nats=last.get("mi_nats"), error=None)
    except Exception as exc:  # noqa: BLE001 — one failed run must not stop the bench
        row.update(student_acc=None, error=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc(limit=4))
    row["seconds"] = time.perf_counter() - start
    return row


def _pool_map(fn: Any, jobs: list[Any], workers: int, desc: str) -> Any:
    """Yield ``(job, fn(*job))`` as jobs finish, in-process when ``workers <= 1``."""
    with tqdm(total=len(jobs), desc=desc, disable=True if not jobs else bar_disabled()) as bar:
        if workers <= 1:
            for job in jobs:
                yield job, fn(*job)
                bar.update()
            return
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(fn, *job): job for job in jobs}
            for fut in as_completed(futures):
                yield futures[fut], fut.result()
                bar.update()


def _summarise(rows: list[dict[str, Any]], teachers: dict[str, dict[str, Any]], pairs: list[str],
               methods: list[str]) -> list[dict[str, Any]]:
    summary = []
    for pair in pairs:
        t_arch, s_arch, relation = PAIRS[pair]
        entry: dict[str, Any] = {"pair": pair, "teacher": t_arch, "student": s_arch, "relation": relation,
                                 "teacher_acc": teachers[t_arch]["test_acc"], "methods": {}}
        for method in methods:
            accs = [r["student_acc"] for r in rows if r["pair"] == pair and r["method"] == method
                    and r["student_acc"] is not None]
            entry["methods"][method] = {
                "mean": float(np.mean(accs)) if accs else None,
                "std": float(np.std(accs, ddof=1)) if len(accs) > 1 else None,
                "n": len(accs), "accs": accs}
        summary.append(entry)
    return summary


def _cell(stats: dict[str, Any]) -> str:
    if stats["mean"] is None:
        return "fail"
    text = f"{100 * stats['mean']:.2f}"
    return text + (f" ± {100 * stats['std']:.2f}" if stats["std"] is not None else "")


def _table(summary: list[dict[str, Any]], methods: list[str]) -> str:
    rows = []
    for s in summary:
        row = {"teacher → student": f"{s['teacher']} → {s['student']}", "relation": s["relation"],
               "teacher": f"{100 * s['teacher_acc']:.2f}"}
        row.update({("student alone" if m == "student" else m): _cell(s["methods"][m]) for m in methods})
        rows.append(row)
    return format_table(rows)


def _wins(summary: list[dict[str, Any]], a: str, b: str) -> tuple[int, int]:
    """(pairs where method a's mean beats method b's, pairs where both ran)."""
    both = [s for s in summary if a in s["methods"] and b in s["methods"]
            and s["methods"][a]["mean"] is not None and s["methods"][b]["mean"] is not None]
    return sum(s["methods"][a]["mean"] > s["methods"][b]["mean"] for s in both), len(both)


def _figure(summary: list[dict[str, Any]], methods: list[str], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(2.4 * len(summary) + 2, 4))
    width = 0.8 / len(methods)
    for j, m in enumerate(methods):
        means = [100 * (s["methods"][m]["mean"] or np.nan) for s in summary]
        stds = [100 * (s["methods"][m]["std"] or 0.0) for s in summary]
        ax.bar(np.arange(len(summary)) + (j - (len(methods) - 1) / 2) * width, means, width, yerr=stds, capsize=2,
               label="student alone" if m == "student" else m)
    for i, s in enumerate(summary):
        ax.hlines(100 * s["teacher_acc"], i - 0.45, i + 0.45, colors="k", linestyles="dashed", linewidth=1)
    accs = [100 * st["mean"] for s in summary for st in s["methods"].values() if st["mean"] is not None]
    if accs:
        ax.set_ylim(max(0.0, min(accs) - 5), min(100.0, max(max(accs), max(100 * s["teacher_acc"] for s in summary)) + 3))
    ax.set_xticks(range(len(summary)), [f"{s['teacher']}\n→ {s['student']}" for s in summary], fontsize=8)
    ax.set_ylabel("student top-1 test accuracy (%)")
    ax.set_title("infobound bench distill (MNIST-1D); dashed: teacher")
    ax.legend(fontsize=7, ncol=len(methods), loc="lower center", bbox_to_anchor=(0.5, 1.08))
    save_figure(fig, path)


def main(
    preset: Literal["full", "quick", "tiny"] = "full",
    pairs: list[str] | None = None,
    methods: list[str] | None = None,
    seeds: list[int] | None = None,
    epochs: int | None = None,
    alpha: float = 1.0,
    workers: int | None = None,
    out: Path = Path("results/distill"),
    resume: bool = True,
    overwrite: bool = False,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Distil teachers into students on MNIST-1D with every method at equal budget; table, JSON and PNG.

    Args:
        preset: ``full`` (3 pairs × 7 methods × 3 seeds), ``quick`` (one seed) or ``tiny`` (a smoke run).
        pairs: override the preset's pairs (names in ``PAIRS``: cnn, mlp, cnn-mlp).
        methods: override the methods (student, kd, crd, ml_cpc, infonce, alpha_cpc and each with +kd).
        seeds: override the seeds.
        epochs: override the student epochs.
        alpha: ML-CPC's and α-CPC's α.
        workers: parallel single-threaded processes (default: the number of CPU cores).
        out: output folder: results.json, results.md, distill.png, runs/, teachers/.
        resume: reuse finished runs and trained teachers found in ``out`` (refused when they were made
            with other settings).
        overwrite: delete a non-empty ``out`` first and start over.
        progress: show progress bars (default: on a terminal).
    """
    set_progress(progress)
    from ..distill import canonical_method

    cfg = dict(PRESETS[preset])
    pairs = pairs or cfg["pairs"]
    unknown = [p for p in pairs if p not in PAIRS]
    if unknown:
        raise ValueError(f"unknown pair(s) {unknown}; expected names from {sorted(PAIRS)}")
    methods = [canonical_method(m) for m in (methods or cfg["methods"])]
    seeds = seeds or cfg["seeds"]
    setup = Setup(num_samples=cfg["num_samples"], epochs=epochs or cfg["epochs"], teacher_epochs=cfg["teacher_epochs"],
                  nce_k=cfg["nce_k"], alpha=alpha)
    out = Path(out)
    workers = workers or os.cpu_count() or 1
    start = time.perf_counter()
    settings = {"preset": preset, **asdict(setup)}
    runs_dir = out / "runs"
    resume = prepare_out(out, settings, resume=resume, overwrite=overwrite)

    teacher_archs = sorted({PAIRS[p][0] for p in pairs})
    teachers: dict[str, dict[str, Any]] = {}
    for (arch, _, _), info in _pool_map(_teacher, [(a, setup, out) for a in teacher_archs],
                                         min(workers, len(teacher_archs)), "teachers"):
        teachers[arch] = info
        print(f"teacher {arch}: test_acc {info['test_acc']:.4f} ({info['seconds']:.0f}s)", flush=True)

    specs = [RunSpec(p, m, s) for p in pairs for m in methods for s in seeds]
    rows, todo = [], []
    for spec in specs:
        path = runs_dir / f"{spec.key}.json"
        if resume and path.exists():
            rows.append(read_json(path))
        else:
            todo.append((spec, setup, out))
    for (spec, _, _), row in _pool_map(_student, todo, workers, "bench distill"):
        write_json(runs_dir / f"{spec.key}.json", row)
        rows.append(row)

    summary = _summarise(rows, teachers, pairs, methods)
    table = _table(summary, methods)
    lines = [table, ""]
    counts: dict[str, list[int]] = {}
    for a, b in (("ml_cpc", "crd"), ("ml_cpc+kd", "crd"), ("ml_cpc", "kd"), ("crd", "kd"), ("ml_cpc", "alpha_cpc")):
        if a in methods and b in methods:
            won, total = _wins(summary, a, b)
            counts[f"{a} > {b}"] = [won, total]
            lines.append(f"{a} beats {b} (mean over seeds) in {won} of {total} pairs")
    failures = [{k: r[k] for k in ("pair", "method", "seed", "error")} for r in rows if r.get("error")]
    n_runs = len(rows)
    run_seconds = sum(r["seconds"] for r in rows)
    lines.append(f"\n{n_runs} student runs, {run_seconds / 60:.1f} min of run time "
                 f"({run_seconds / max(n_runs, 1):.0f} s per run); wall {(time.perf_counter() - start) / 60:.1f} min "
                 f"with {workers} worker(s) (finished runs reused: {n_runs - len(todo)})")
    text = "\n".join(lines)
    print("\n" + text, flush=True)
    if failures:
        print(format_table(failures), flush=True)
    results = {"settings": settings, "pairs": pairs, "methods": methods, "seeds": seeds, "teachers": teachers,
               "summary": summary, "wins": counts, "rows": rows, "failures": failures,
               "wall_seconds": time.perf_counter() - start}
    write_json(out / "results.json", results)
    write_text(out / "results.md", text + "\n")
    _figure(summary, methods, out / "distill.png")
    print(f"wrote {out / 'results.json'}, results.md and distill.png", flush=True)
    return results


__all__ = ["METHODS", "PAIRS", "PRESETS", "main"]
