"""Forward + backward time of ``bounds.infonce`` and ``bounds.ml_cpc`` against the bare expressions.

The library's bounds validate their input (shape, n ≥ 2, α range; the O(n²) NaN/Inf scan only when
the result is not finite). This measures what that costs on the hot path, float32 on one thread:

    python benchmarks/bounds_speed.py --out results/bounds_speed

Bare expressions (what a user would write by hand, nothing checked):
  * InfoNCE: ``log n − cross_entropy(scores, arange(n))``;
  * ML-CPC: ``mean(diag scores) − logsumexp(scores + W)`` with the log-weight matrix W built once,
    outside the timed region (log α/n² on the diagonal, log((n−α)/(n²(n−1))) elsewhere).

Each repetition times one forward + backward of both, in alternating order, on the same scores;
we report the median time of each, the median of the per-repetition ratios ours / bare (the issue's
target: within 1.2×) and the ratio of the best times. The default clock is this thread's CPU time,
which time given to other processes on a shared machine does not inflate (``--clock wall`` for
elapsed time); the ratio measured side by side is the number to read.
"""

from __future__ import annotations

import argparse
import math
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor

from infobound import bounds
from infobound.results import print_table, write_json

BoundFn = Callable[[Tensor], Tensor]


def bare_infonce(scores: Tensor) -> Tensor:
    n = scores.shape[0]
    return math.log(n) - F.cross_entropy(scores, torch.arange(n, device=scores.device))


def bare_ml_cpc(n: int, alpha: float, like: Tensor) -> BoundFn:
    """The bare ML-CPC expression with its log-weight matrix prepared in advance."""
    log_weights = torch.full((n, n), math.log(n - alpha) - 2 * math.log(n) - math.log(n - 1),
                             dtype=like.dtype, device=like.device)
    log_weights.fill_diagonal_(math.log(alpha) - 2 * math.log(n))

    def bare(scores: Tensor) -> Tensor:
        return scores.diagonal().mean() - torch.logsumexp((scores + log_weights).flatten(), dim=0)

    return bare


def pairs(n: int, alpha: float, like: Tensor) -> dict[str, tuple[BoundFn, BoundFn]]:
    """bound name → (ours, bare)."""
    return {
        "infonce": (bounds.infonce, bare_infonce),
        "ml_cpc": (lambda s: bounds.ml_cpc(s, alpha=alpha), bare_ml_cpc(n, alpha, like)),
    }


# CPU time of this thread: with one torch thread the forward and the CPU backward run on the calling
# thread, and time the scheduler gives to other processes on a shared machine is not counted.
CLOCKS: dict[str, Callable[[], float]] = {"thread": time.thread_time, "wall": time.perf_counter}


def _forward_backward_seconds(fn: BoundFn, scores: Tensor, clock: Callable[[], float]) -> float:
    scores.grad = None
    start = clock()
    fn(scores).backward()
    return clock() - start


def time_interleaved(ours: BoundFn, bare: BoundFn, scores: Tensor, repeats: int, warmup: int = 3,
                     clock: str = "thread") -> dict[str, float]:
    """Median times (ms), the median per-repetition ratio ours/bare and the ratio of the best times.

    Which of the two runs first alternates between repetitions.
    """
    if repeats < 1:
        raise ValueError(f"`repeats` must be >= 1, got {repeats}")
    if clock not in CLOCKS:
        raise ValueError(f"`clock` must be one of {sorted(CLOCKS)}, got {clock!r}")
    tick = CLOCKS[clock]
    torch.testing.assert_close(ours(scores.detach()), bare(scores.detach()))  # the same function
    for _ in range(warmup):
        _forward_backward_seconds(ours, scores, tick)
        _forward_backward_seconds(bare, scores, tick)
    ours_s, bare_s = [], []
    for r in range(repeats):
        if r % 2 == 0:
            ours_s.append(_forward_backward_seconds(ours, scores, tick))
            bare_s.append(_forward_backward_seconds(bare, scores, tick))
        else:
            bare_s.append(_forward_backward_seconds(bare, scores, tick))
            ours_s.append(_forward_backward_seconds(ours, scores, tick))
    ratios = [o / b for o, b in zip(ours_s, bare_s)]
    return {
        "ours_ms": 1e3 * statistics.median(ours_s),
        "bare_ms": 1e3 * statistics.median(bare_s),
        "ratio": statistics.median(ratios),
        "ratio_of_best": min(ours_s) / min(bare_s),
    }


def run(sizes: list[int], repeats: int, alpha: float, clock: str = "thread", seed: int = 0) -> list[dict[str, float | int | str]]:
    rows: list[dict[str, float | int | str]] = []
    gen = torch.Generator().manual_seed(seed)
    for n in sizes:
        scores = torch.randn(n, n, generator=gen).requires_grad_(True)
        for name, (ours, bare) in pairs(n, alpha, scores).items():
            stats = time_interleaved(ours, bare, scores, repeats, clock=clock)
            rows.append({"bound": name, "n": n, **stats, "within_1.2x": stats["ratio"] <= 1.2})
    return rows


def main(argv: list[str] | None = None) -> list[dict[str, float | int | str]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024, 2048])
    parser.add_argument("--repeats", type=int, default=41, help="interleaved repetitions per (bound, n)")
    parser.add_argument("--alpha", type=float, default=0.01, help="ML-CPC's α")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="thread",
                        help="thread: CPU time of this thread (robust on a shared machine, exact with --threads 1); "
                             "wall: elapsed time")
    parser.add_argument("--out", type=Path, default=Path("results/bounds_speed"))
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rows = run(args.sizes, args.repeats, args.alpha, args.clock)
    print_table(rows, ["bound", "n", "bare_ms", "ours_ms", "ratio", "ratio_of_best", "within_1.2x"], precision=3,
                title=f"forward+backward, float32, {args.threads} thread(s), {args.clock} clock; "
                      "ratio = median of per-repetition ours/bare")
    path = write_json(args.out / "results.json", {
        "command": " ".join(["python benchmarks/bounds_speed.py", *argv]),
        "threads": args.threads, "clock": args.clock, "repeats": args.repeats, "alpha": args.alpha, "dtype": "float32",
        "torch": torch.__version__, "machine": platform.processor() or platform.machine(), "rows": rows,
    })
    print(f"wrote {path}")
    return rows


if __name__ == "__main__":
    main()
