"""``infobound bench losses``: speed and peak memory of our InfoNCE / ML-CPC losses vs pytorch-metric-learning.

Side by side, in one process, on the same random [n, d] views for every batch size n:

* ours: :class:`~infobound.losses.InfoNCELoss` (SimCLR's NT-Xent over 2n views and the cross-view
  form) and :class:`~infobound.losses.MLCPCLoss` (cross-view, and over the 2n views);
* theirs: ``SelfSupervisedLoss(NTXentLoss(temperature))`` of pytorch-metric-learning, the same
  NT-Xent as our default InfoNCE (the bench checks that the two values agree at every n).

Method. Time: forward + backward of the loss alone (features are leaf tensors), one thread,
median of ``reps`` rounds in which the implementations run interleaved (order rotated each round)
after one warm-up call each, so background load on a shared machine hits all of them alike.
Peak memory: torch's CPU allocator records every allocation and free when the profiler runs with
``profile_memory=True``; the peak of their running sum over one forward + backward (inputs already
allocated, so it counts what the loss itself needs) is the figure reported. pytorch-metric-learning
builds a [2n, 2n(2n−2)] comparison matrix in NTXentLoss (O(n³) memory), so it is skipped where its
predicted peak exceeds ``pml_memory_limit_gb``; the row says so.
"""

from __future__ import annotations

import contextlib
import math
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
from torch import Tensor

from infobound.results import print_table, save_figure, write_json

from ..losses import InfoNCELoss, MLCPCLoss

PML = "pml NTXent"
LossFn = Callable[[Tensor, Tensor], Tensor]


def _ours(temperature: float, alpha: float) -> dict[str, LossFn]:
    objectives = {
        "ours infonce (NT-Xent)": InfoNCELoss(temperature=temperature, negatives="simclr"),
        "ours infonce (cross)": InfoNCELoss(temperature=temperature, negatives="cross"),
        f"ours ml_cpc α={alpha:g} (cross)": MLCPCLoss(alpha=alpha, temperature=temperature, negatives="cross"),
        f"ours ml_cpc α={alpha:g} (2n views)": MLCPCLoss(alpha=alpha, temperature=temperature, negatives="simclr"),
    }
    return {name: (lambda z1, z2, o=objective: o(z1, z2).loss) for name, objective in objectives.items()}


def _pml(temperature: float) -> LossFn | None:
    try:
        from pytorch_metric_learning.losses import NTXentLoss, SelfSupervisedLoss
    except ImportError:
        return None
    return SelfSupervisedLoss(NTXentLoss(temperature=temperature))


def pml_predicted_peak_bytes(n: int) -> int:
    """NTXentLoss compares every positive pair with every negative pair: about four float copies of a
    [2n, 2n(2n−2)] matrix (mask, masked scores, their exponential and its gradient) dominate its
    memory (measured: 34 MiB at n = 64, 272 MiB at 128, 2.1 GiB at 256)."""
    return 4 * 4 * (2 * n) * (2 * n) * (2 * n - 2)


def _views(n: int, dim: int, seed: int) -> tuple[Tensor, Tensor]:
    g = torch.Generator().manual_seed(seed)
    z1 = torch.randn(n, dim, generator=g)
    z2 = z1 + 0.5 * torch.randn(n, dim, generator=g)
    return z1.requires_grad_(), z2.requires_grad_()


def _step(fn: LossFn, z1: Tensor, z2: Tensor) -> float:
    z1.grad = z2.grad = None
    loss = fn(z1, z2)
    loss.backward()
    return float(loss.detach())


@contextlib.contextmanager
def _stderr_muted() -> Iterator[None]:
    """Silence file descriptor 2: the profiler's C++ side prints two lines per run there, and its
    log level can only be set before torch is imported."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _peak_bytes(fn: LossFn, z1: Tensor, z2: Tensor) -> int:
    """Peak of the running sum of torch's CPU allocations and frees over one forward + backward."""
    from torch.profiler import ProfilerActivity, profile

    z1.grad = z2.grad = None
    with _stderr_muted(), profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn(z1, z2).backward()
    records = sorted((e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"),
                     key=lambda e: e.start_ns())
    current = peak = 0
    for record in records:
        current += record.nbytes()
        peak = max(peak, current)
    return peak


def _measure(impls: dict[str, LossFn], z1: Tensor, z2: Tensor, reps: int) -> dict[str, dict[str, float]]:
    """Value, median / fastest time (interleaved rounds, order rotated) and peak memory of each implementation."""
    values = {name: _step(fn, z1, z2) for name, fn in impls.items()}  # warm-up, and the values
    times: dict[str, list[float]] = {name: [] for name in impls}
    names = list(impls)
    for r in range(reps):
        for name in names[r % len(names):] + names[: r % len(names)]:
            start = time.perf_counter()
            _step(impls[name], z1, z2)
            times[name].append(time.perf_counter() - start)
    return {name: {"loss": values[name], "ms": 1e3 * statistics.median(times[name]), "ms_min": 1e3 * min(times[name]),
                   "peak_mb": _peak_bytes(impls[name], z1, z2) / 2**20} for name in names}


DEFAULT_BATCH_SIZES = (32, 64, 128, 256, 512, 1024, 2048)


def with_readable_ratios(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows with the ratios as 3 significant digits (they reach 1e-3, which a fixed 2 decimals shows as 0.00)."""
    return [{**r, **{k: f"{r[k]:.3g}" for k in ("time_ratio", "memory_ratio") if r.get(k) is not None}} for r in rows]


def compare_loss_speed(batch_sizes: list[int] | tuple[int, ...] = DEFAULT_BATCH_SIZES, dim: int = 128,
                       temperature: float = 0.1, alpha: float = 0.1, reps: int = 7, seed: int = 0,
                       pml_memory_limit_gb: float = 1.0, threads: int = 1) -> list[dict[str, Any]]:
    """Time and peak memory of our InfoNCE / ML-CPC losses and pytorch-metric-learning's NT-Xent.

    Returns one row per (batch size, implementation): ``batch``, ``implementation``, ``ms``
    (median forward + backward), ``ms_min`` (fastest round), ``peak_mb``, ``loss``, ``time_ratio``
    and ``memory_ratio`` (ours ÷ pytorch-metric-learning at the same batch; None where it did not
    run) and ``note``. At every batch where both run, ``ours infonce (NT-Xent)`` must equal
    pytorch-metric-learning's value (relative 1e-4 in float32) or the function raises.
    """
    if not batch_sizes or any(int(n) < 2 for n in batch_sizes):
        raise ValueError(f"`batch_sizes` must be integers >= 2, got {batch_sizes}")
    if reps < 1:
        raise ValueError(f"`reps` must be >= 1, got {reps}")
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        ours, pml = _ours(temperature, alpha), _pml(temperature)
        rows: list[dict[str, Any]] = []
        for n in map(int, batch_sizes):
            impls, skipped = dict(ours), ""
            if pml is None:
                skipped = "pytorch-metric-learning not installed (pip install pytorch-metric-learning)"
            elif pml_predicted_peak_bytes(n) > pml_memory_limit_gb * 2**30:
                skipped = (f"skipped: NTXentLoss's O(n³) comparison matrix needs ~"
                           f"{pml_predicted_peak_bytes(n) / 2**30:.1f} GiB > {pml_memory_limit_gb:g} GiB")
            else:
                impls[PML] = pml
            results = _measure(impls, *_views(n, dim, seed), reps)
            reference = results.get(PML)
            if reference is not None:
                ours_value = results["ours infonce (NT-Xent)"]["loss"]
                if not math.isclose(ours_value, reference["loss"], rel_tol=1e-4, abs_tol=1e-5):
                    raise AssertionError(f"n={n}: our NT-Xent {ours_value:.6f} != pytorch-metric-learning "
                                         f"{reference['loss']:.6f}")
            for name in [*ours, PML]:
                result = results.get(name, {"loss": None, "ms": None, "ms_min": None, "peak_mb": None})
                ratios = {"time_ratio": None, "memory_ratio": None}
                if reference is not None:
                    ratios = {"time_ratio": result["ms"] / reference["ms"],
                              "memory_ratio": result["peak_mb"] / reference["peak_mb"]}
                rows.append({"batch": n, "implementation": name, **result, **ratios,
                             "note": skipped if name == PML else ""})
        return rows
    finally:
        torch.set_num_threads(previous_threads)


def _plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for name in dict.fromkeys(r["implementation"] for r in rows):
        points = [(r["batch"], r["ms"], r["peak_mb"]) for r in rows if r["implementation"] == name and r["ms"] is not None]
        if not points:
            continue
        batch, ms, mb = zip(*points)
        style = "--" if name == PML else "-"
        axes[0].plot(batch, ms, style, marker="o", label=name)
        axes[1].plot(batch, mb, style, marker="o", label=name)
    for ax, label in zip(axes, ("forward + backward, ms (median)", "peak allocated, MiB")):
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("batch size n (2n views)")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8, loc="lower right")
    fig.suptitle("Contrastive loss cost on CPU, one thread, d = 128")
    save_figure(fig, path)


def main(batch_sizes: list[int] | None = None, dim: int = 128, temperature: float = 0.1, alpha: float = 0.1,
         reps: int = 7, pml_memory_limit_gb: float = 1.0, quick: bool = False,
         out: Path = Path("results/losses")) -> list[dict[str, Any]]:
    """Compare our InfoNCE / ML-CPC losses with pytorch-metric-learning's NTXentLoss at growing batch sizes.

    Args:
        batch_sizes: batch sizes n (default 32 … 2048, ~5 min on a busy 2-core machine; ``quick``: 32, 64, 128).
        dim: feature size d.
        temperature: τ of every loss.
        alpha: α of ML-CPC.
        reps: interleaved timing rounds (median reported).
        pml_memory_limit_gb: skip pytorch-metric-learning where its predicted peak is larger.
        quick: a few-seconds smoke run.
        out: output folder: loss_speed.json, loss_speed.md, loss_speed.png.
    """
    batch_sizes = batch_sizes or ([32, 64, 128] if quick else list(DEFAULT_BATCH_SIZES))
    start = time.perf_counter()
    rows = compare_loss_speed(batch_sizes, dim=dim, temperature=temperature, alpha=alpha, reps=3 if quick else reps,
                              pml_memory_limit_gb=pml_memory_limit_gb)
    columns = ["batch", "implementation", "ms", "ms_min", "peak_mb", "time_ratio", "memory_ratio", "note"]
    text = print_table(with_readable_ratios(rows), columns, precision=2,
                       title=f"Loss forward + backward on CPU (1 thread, d = {dim}, τ = {temperature:g}); "
                             f"ratios = ours ÷ pytorch-metric-learning NTXentLoss at the same batch")
    out = Path(out)
    write_json(out / "loss_speed.json", {"batch_sizes": batch_sizes, "dim": dim, "temperature": temperature,
                                         "alpha": alpha, "reps": reps, "seconds": time.perf_counter() - start,
                                         "method": __doc__, "rows": rows})
    (out / "loss_speed.md").write_text(text + "\n")
    _plot(rows, out / "loss_speed.png")
    print(f"\nwrote {out / 'loss_speed.json'}, loss_speed.md and loss_speed.png")
    return rows


__all__ = ["compare_loss_speed", "with_readable_ratios", "main", "pml_predicted_peak_bytes"]
