"""``infobound bench validity``: is this α still a lower bound?

ML-CPC lifts InfoNCE's log n ceiling to log(n/α) by down-weighting the positives in its single
normaliser; α-CPC does the same with one normaliser per anchor. For α < 1 neither is guaranteed to
stay below the true MI. This benchmark measures, by Monte-Carlo, how far each sits above or below
the truth with the *analytic* critic log r = log p(x, y)/(p(x)p(y)) of a task that knows its
density ratio (correlated Gaussians by default, any task with ``log_density_ratio`` through the
API), over a grid of α, batch size n and true MI, and reports the smallest α with no significant
overshoot for each n.

Method, for each (task, n): draw B independent batches, score every batch with the analytic critic,
and keep two sufficient statistics per batch, the positive scores f_ii and the row sums
log Σ_{j≠i} e^{f_ij}. Both bounds are closed-form in these for every α, so one pass over the
batches prices the whole α grid (the first score matrices are checked against
:func:`infobound.bounds.ml_cpc` and :func:`infobound.bounds.alpha_cpc` so the benchmark measures
the library's own functions). Per (α, task, n): mean estimate, standard error over the B batches,
overshoot = mean − true MI, *significant* when overshoot > z·SE (one-sided, z = 3 by default).

A bound must hold for *any* critic, so "log r does not overshoot" is necessary, not sufficient. We
also try the scaled critics c·log r (both bounds are invariant to a shift b, so c is the only free
parameter of c·log r + b), pick the best c per (α, task, n) on half of the batches and evaluate it on
the other half (cross-fitting, so the choice does not inflate the estimate), and report both.

The smallest safe α of an n is the smallest α such that no α' ≥ α is flagged for any task. For
ML-CPC it is read on a fine grid (20 values per decade) priced from the same batches; the table's
other columns, the figure and α-CPC's safe α use the coarse grid.
"""

from __future__ import annotations

import math
import os
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from statistics import NormalDist
from typing import Any, Sequence

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from infobound.results import format_table, save_figure, write_json, write_text
from infobound.runs import prepare_out

from .. import bounds
from ..critics import AnalyticCritic
from ..estimate.safe_alpha import ANALYTIC_CRITIC_ONLY, min_safe_alpha, reference_alpha
from ..tasks import CorrelatedGaussian, make_generator, task_suite
from . import adversarial as adv

BOUNDS = ("ml_cpc", "alpha_cpc")
"""The two re-weighted contrastive bounds whose validity depends on α."""

CRITICS = ("log r", "best c·log r")
"""The analytic critic, and the best of the scaled analytic critics (cross-fitted)."""

DEFAULT_ALPHAS = (1.0, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001, 5e-4, 2e-4, 1e-4)


def fine_alphas(largest: float = 1.0, smallest: float = 1e-4, per_decade: int = 20) -> list[float]:
    """Powers of 10^(1/per_decade) from ``largest`` down to ``smallest``: where ML-CPC's safe α is read."""
    top = math.ceil(-per_decade * math.log10(largest) - 1e-9)
    bottom = math.floor(-per_decade * math.log10(smallest) + 1e-9)
    return [10.0 ** (-k / per_decade) for k in range(top, bottom + 1)]


DEFAULT_SCALES = (0.7, 0.85, 1.0, 1.2, 1.5)
"""Critic scales c tried for ``best c·log r``; near the validity threshold the best c stays within 0.85–1.2."""

PRESETS: dict[str, dict[str, Any]] = {
    # ~12 CPU-minutes: about 6 minutes with 2 worker processes on 2 quiet cores.
    "full": {"batch_sizes": [8, 16, 32, 64, 128, 256], "mis": [0.5, 1.0, 2.0, 4.0, 6.0, 8.0, 10.0],
             "dims": [20, 1], "scales": list(DEFAULT_SCALES), "batch_budget": 2**26},
    # about a minute: a smoke run of the whole pipeline.
    "quick": {"batch_sizes": [8, 32, 128], "mis": [1.0, 4.0, 8.0], "dims": [20], "scales": [0.85, 1.0, 1.2],
              "batch_budget": 2**22},
}

ADVERSARIAL_GRIDS: dict[str, list[dict[str, Any]]] = {
    # ~15 CPU-minutes on one thread: quadratic adversaries everywhere, flexible ones at small n.
    "full": [
        {"families": ["quadratic"], "dims": [1], "mis": [1.0, 2.0, 4.0, 6.0, 8.0],
         "batch_sizes": [8, 16, 32, 64, 128, 256]},
        {"families": ["quadratic"], "dims": [3], "mis": [2.0, 4.0, 8.0], "batch_sizes": [8, 64]},
        {"families": ["separable", "mlp"], "dims": [1], "mis": [2.0, 4.0], "batch_sizes": [8, 32]},
    ],
    "quick": [{"families": ["quadratic"], "dims": [1], "mis": [2.0, 4.0], "batch_sizes": [8, 64]}],
}
"""Where adversarial critics are trained: grids of (families × dims × MI × n), each at the old and the new α."""

ADVERSARIAL_SETTINGS: dict[str, dict[str, int]] = {
    "full": {"steps": 150, "eval_entries": 2**23, "min_batches": 1000, "counterexample_batches": 400_000},
    "quick": {"steps": 60, "eval_entries": 2**21, "min_batches": 500, "counterexample_batches": 50_000},
}


def default_batches(batch_size: int, budget: int = 2**26) -> int:
    """Monte-Carlo batches for one (task, n) cell: ``budget / n²`` batches, clipped to [200, 20000].

    A fixed budget of score entries per cell keeps the cost flat in n. The per-batch spread of both
    bounds shrinks roughly like 1/√n, so the standard error still grows like √n above the clip
    (n ≥ 64 with the full budget): large-n cells detect only larger overshoots.
    """
    return int(min(20000, max(200, budget // batch_size**2)))


def low_mi_limit(batch_size: int) -> float:
    """Where the analytic critic's ML-CPC overshoot changes sign as the true MI → 0: α = 1/(2(n−1)).

    Second order in the weak dependence r = 1 + u (χ² = E[u²] under p(x)p(y), I ≈ χ²/2):
    E[I_ML] − I ≈ χ²·(1/(2n(n−1)) − α/n), because the n(n−1) off-diagonal ratios are (to leading
    order) uncorrelated with mean 1 and variance χ², so −log of their mean gains χ²/(2n(n−1)) by
    Jensen, while the positives add α(E_p[r] − 1)/n = αχ²/n to the normaliser. Optimising a scale c
    of the critic (c·log r) moves the sign change by a relative 1/(4n(n−1)) only.
    """
    n = int(batch_size)
    return 1.0 / (2.0 * (n - 1))


# ---------------------------------------------------------------------------------------------------
# Sufficient statistics of a batch of score matrices
# ---------------------------------------------------------------------------------------------------


def _check_alpha(alpha: float, n: int) -> None:
    if not 0.0 < alpha <= n:
        raise ValueError(f"`alpha` must lie in (0, n] = (0, {n}], got {alpha}")


def _log_weights(n: int, alphas: Sequence[float], like: Tensor) -> tuple[Tensor, Tensor]:
    """[A] log α and log β, β = (n − α)/(n − 1): the positive and negative weights of both bounds."""
    for a in alphas:
        _check_alpha(float(a), n)
    a = torch.tensor([float(v) for v in alphas], dtype=like.dtype)
    return a.log(), ((n - a) / (n - 1)).log()  # β = 0 at α = n gives log β = −inf, as in the bounds


@dataclass(frozen=True)
class BatchStatistics:
    """What ML-CPC and α-CPC need from B score matrices [B, n, n], for any α.

    Attributes:
        diag: [B, n] positive scores f_ii.
        log_row_off: [B, n] log Σ_{j≠i} exp f_ij, the negatives of each anchor.
    """

    diag: Tensor
    log_row_off: Tensor

    @classmethod
    def from_scores(cls, scores: Tensor) -> "BatchStatistics":
        """From score matrices [B, n, n] (positives on each diagonal)."""
        eye = torch.eye(scores.shape[-1], dtype=torch.bool, device=scores.device)
        return cls(scores.diagonal(dim1=1, dim2=2).clone(),
                   torch.logsumexp(scores.masked_fill(eye, -math.inf), dim=2))

    @property
    def batch_size(self) -> int:
        return self.diag.shape[1]

    @property
    def batches(self) -> int:
        return self.diag.shape[0]

    @cached_property
    def _totals(self) -> tuple[Tensor, Tensor, Tensor]:
        """[B] mean f_ii, log Σ_i e^{f_ii}, log Σ_{i≠j} e^{f_ij}: all ML-CPC needs."""
        return self.diag.mean(1), torch.logsumexp(self.diag, 1), torch.logsumexp(self.log_row_off, 1)

    def ml_cpc(self, alphas: Sequence[float]) -> Tensor:
        """[A, B] values of :func:`infobound.bounds.ml_cpc`: one normaliser (α Σ e^{f_ii} + β Σ_{i≠j} e^{f_ij})/n²."""
        n = self.batch_size
        log_a, log_b = _log_weights(n, alphas, self.diag)
        mean_diag, log_pos, log_neg = self._totals
        log_normaliser = torch.logaddexp(log_a[:, None] + log_pos, log_b[:, None] + log_neg) - 2.0 * math.log(n)
        return mean_diag - log_normaliser

    def alpha_cpc(self, alphas: Sequence[float]) -> Tensor:
        """[A, B] values of :func:`infobound.bounds.alpha_cpc`: a normaliser α e^{f_ii} + β Σ_{j≠i} e^{f_ij} per row."""
        n = self.batch_size
        log_a, log_b = _log_weights(n, alphas, self.diag)
        chunk = max(1, 2**22 // self.diag.numel())  # α values per pass, to bound the [A, B, n] temporary
        out = []
        for i in range(0, len(log_a), chunk):
            row = torch.logaddexp(log_a[i:i + chunk, None, None] + self.diag,
                                  log_b[i:i + chunk, None, None] + self.log_row_off)
            out.append(math.log(n) + (self.diag - row).mean(2))
        return torch.cat(out)

    def estimates(self, bound: str, alphas: Sequence[float]) -> Tensor:
        """[A, B] per-batch values of ``bound`` at each α."""
        if bound not in BOUNDS:
            raise ValueError(f"`bound` must be one of {BOUNDS}, got {bound!r}")
        return getattr(self, bound)(alphas)


def _batched_scores(critic: AnalyticCritic, x: Tensor, y: Tensor) -> Tensor:
    """[b, n, dx], [b, n, dy] → [b, n, n]; vmap where the task's ratio allows it, else a loop."""
    try:
        return torch.vmap(critic)(x, y)
    except Exception:  # noqa: BLE001 — ratios with numpy or data-dependent code do not vmap
        return torch.stack([critic(xb, yb) for xb, yb in zip(x, y)])


def _check_against_bounds(scores: Tensor, stats: BatchStatistics, alphas: Sequence[float]) -> None:
    """The closed forms must give what :mod:`infobound.bounds` gives on the same matrices."""
    for bound in BOUNDS:
        mine = stats.estimates(bound, alphas)
        theirs = torch.tensor([[float(bounds.get(bound)(s, alpha=a)) for s in scores] for a in alphas], dtype=mine.dtype)
        if not torch.allclose(mine, theirs, rtol=1e-6, atol=1e-6):
            raise RuntimeError(f"batched {bound} disagrees with infobound.bounds.{bound} at α = {list(alphas)}: "
                               f"{mine.tolist()} vs {theirs.tolist()}")


def score_statistics(task: Any, batch_size: int, batches: int, *, scales: Sequence[float] = (1.0,),
                     seed: int = 0, dtype: torch.dtype = torch.float64,
                     max_entries: int = 2**22) -> dict[float, BatchStatistics]:
    """Score ``batches`` independent batches of n pairs with c·(analytic critic) for each scale c.

    Args:
        task: any task with ``sample`` and ``log_density_ratio``.
        batch_size: n, pairs per batch (the score matrices are n × n, m = n).
        batches: B, independent batches.
        scales: critic scales c (1.0 is the analytic critic itself).
        seed: seeds the task's sampler.
        dtype: the score matrices' dtype; float64 by default because log r of a strongly dependent
            low-dimensional task cancels catastrophically in float32 (1 − ρ² ≈ 1e-9 at d = 1, MI 10).
        max_entries: score entries held in memory at once (chunks of batches).

    Returns:
        scale → :class:`BatchStatistics` over the same B batches (common random numbers).
    """
    n = int(batch_size)
    if n < 2 or batches < 1:
        raise ValueError(f"need batch_size >= 2 and batches >= 1, got {batch_size} and {batches}")
    if any(not c > 0 for c in scales):
        raise ValueError(f"critic scales must be > 0, got {list(scales)}")
    critic = AnalyticCritic(task)
    gen = make_generator(int(seed))
    chunk = max(1, max_entries // (n * n))
    parts: dict[float, list[BatchStatistics]] = {float(c): [] for c in scales}
    for start in range(0, batches, chunk):
        b = min(chunk, batches - start)
        x, y = task.sample(n * b, seed=gen)
        scores = _batched_scores(critic, x.to(dtype).reshape(b, n, *x.shape[1:]),
                                 y.to(dtype).reshape(b, n, *y.shape[1:]))
        for c, chunks in parts.items():
            chunks.append(BatchStatistics.from_scores(scores if c == 1.0 else c * scores))
            if start == 0:  # the batched closed forms are the library's bounds
                head = BatchStatistics(chunks[0].diag[:2], chunks[0].log_row_off[:2])
                _check_against_bounds(c * scores[:2], head, (1.0, 0.1, 1e-2, 1e-3, 1e-4))
    return {c: BatchStatistics(torch.cat([p.diag for p in chunks]), torch.cat([p.log_row_off for p in chunks]))
            for c, chunks in parts.items()}


# ---------------------------------------------------------------------------------------------------
# Mean, standard error and significance per α
# ---------------------------------------------------------------------------------------------------


def _critic_values(stats: dict[float, BatchStatistics], bound: str, alphas: Sequence[float],
                   critic: str) -> tuple[Tensor, list[list[float]]]:
    """[A, B] per-batch estimates of one critic and, per α, the scale(s) it used.

    ``best c·log r`` is cross-fitted: the scale that maximises the mean on the even batches is
    evaluated on the odd ones and vice versa, so the selection cannot inflate the reported mean.
    """
    if critic == CRITICS[0]:
        return stats[1.0].estimates(bound, alphas), [[1.0]] * len(alphas)
    scales = list(stats)
    per_scale = torch.stack([stats[c].estimates(bound, alphas) for c in scales])  # [S, A, B]
    best_even = per_scale[:, :, 0::2].mean(2).argmax(0)  # [A]
    best_odd = per_scale[:, :, 1::2].mean(2).argmax(0)
    columns = torch.arange(len(alphas))
    values = per_scale[best_odd, columns].clone()  # even batches take the scale chosen on the odd ones
    values[:, 1::2] = per_scale[best_even, columns][:, 1::2]
    return values, [[scales[o], scales[e]] for o, e in zip(best_odd.tolist(), best_even.tolist())]


def evaluate(stats: dict[float, BatchStatistics], true_mi: float, alphas: Sequence[float], *, z: float = 3.0,
             bound_names: Sequence[str] = BOUNDS, critics: Sequence[str] = CRITICS) -> list[dict[str, Any]]:
    """One row per (bound, critic, α): mean, SE, overshoot = mean − true MI, and whether it is significant.

    The SE is the standard deviation of the per-batch estimates over √B; ``scales`` lists the critic
    scale(s) used (two for the cross-fitted best scale: chosen on the odd, on the even batches).
    """
    rows = []
    n = stats[1.0].batch_size
    for bound in bound_names:
        for critic in critics:
            if critic == CRITICS[1] and len(stats) == 1:
                continue
            values, used = _critic_values(stats, bound, alphas, critic)
            b = values.shape[1]
            means = values.mean(1).tolist()
            ses = (values.std(1) / math.sqrt(b)).tolist() if b > 1 else [math.inf] * len(alphas)
            for alpha, mean, se, scales in zip(alphas, means, ses, used):
                over = mean - true_mi
                rows.append({"bound": bound, "critic": critic, "alpha": float(alpha), "mean": mean, "se": se,
                             "overshoot": over, "z_score": over / se if se > 0 else math.inf,
                             "significant": bool(over > z * se), "scales": scales, "ceiling": math.log(n / alpha)})
    return rows


def measure_validity(task: Any, batch_size: int, *, alphas: Sequence[float] = DEFAULT_ALPHAS,
                     batches: int | None = None, scales: Sequence[float] = (1.0,), z: float = 3.0,
                     seed: int = 0) -> list[dict[str, Any]]:
    """How far ML-CPC and α-CPC sit from the true MI of ``task`` with its analytic critic.

    Example:
        >>> from infobound.tasks import CorrelatedGaussian
        >>> rows = measure_validity(CorrelatedGaussian(20, 8.0), 64, alphas=[1e-3], batches=500)  # doctest: +SKIP
        >>> [(r["bound"], r["overshoot"], r["significant"]) for r in rows]                        # doctest: +SKIP

    Args:
        task: any task with ``sample``, ``mutual_information`` and ``log_density_ratio``.
        batch_size: n (in-batch negatives, m = n).
        alphas: the α values to price (all from the same batches).
        batches: Monte-Carlo batches; default :func:`default_batches`.
        scales: critic scales c to search for the ``best c·log r`` rows; (1.0,) gives log r only.
        z: a row is significant when overshoot > z · standard error.
        seed: seeds the sampler.

    Returns:
        One row per (bound, critic, α), see :func:`evaluate`, with the task's true MI, n and B added.
    """
    scales = sorted({1.0, *map(float, scales)})
    batches = batches or default_batches(batch_size)
    stats = score_statistics(task, batch_size, batches, scales=scales, seed=seed)
    rows = evaluate(stats, float(task.mutual_information), alphas, z=z)
    for r in rows:
        r.update(true_mi=float(task.mutual_information), n=int(batch_size), batches=batches)
    return rows


# ---------------------------------------------------------------------------------------------------
# The benchmark: a grid of cells in worker processes, then the smallest safe α per n
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    label: str  # e.g. "gaussian-d20-mi4"
    family: str  # rows of one figure, e.g. "gaussian-d20"
    task: Any
    n: int
    batches: int

    def seed(self, base: int) -> int:
        return zlib.crc32(f"{base}|{self.label}|{self.n}".encode())


def _append(grid: dict[str, Any], row: dict[str, Any]) -> None:
    entry = grid.setdefault(row["bound"], {}).setdefault(row["critic"], {"alpha": [], "overshoot": [], "se": []})
    for key in entry:
        entry[key].append(row[key])


def _run_cell(cell: Cell, alphas: Sequence[float], fine: Sequence[float], scales: Sequence[float], z: float,
              seed: int) -> dict[str, Any]:
    torch.set_num_threads(1)
    start = time.perf_counter()
    stats = score_statistics(cell.task, cell.n, cell.batches, scales=scales, seed=cell.seed(seed))
    true_mi = float(cell.task.mutual_information)
    rows = evaluate(stats, true_mi, alphas, z=z)
    # Where the smallest safe α is read: ML-CPC on the fine grid, α-CPC (invalid anyway) on the table's grid.
    grid: dict[str, dict[str, dict[str, list[float]]]] = {}
    for r in rows:
        if r["bound"] == "alpha_cpc":
            _append(grid, r)
    for r in evaluate(stats, true_mi, fine, z=z, bound_names=("ml_cpc",)):
        _append(grid, r)
    for r in rows:
        r.update(task=cell.label, family=cell.family, true_mi=true_mi, n=cell.n, batches=cell.batches)
    return {"task": cell.label, "family": cell.family, "true_mi": true_mi, "n": cell.n, "batches": cell.batches,
            "rows": rows, "grid": grid, "seconds": time.perf_counter() - start}


def smallest_safe_alpha(flagged: dict[float, bool]) -> tuple[float, bool]:
    """Smallest α such that no α' ≥ α is flagged; also whether any α at all was flagged.

    Returns (α_min, resolved): with nothing flagged α_min is the smallest α tried and resolved is
    False (the true limit lies below the grid). With α = max flagged, α_min is +inf (no safe α).
    """
    grid = sorted(flagged, reverse=True)
    bad = [a for a in grid if flagged[a]]
    if not bad:
        return grid[-1], False
    above = [a for a in grid if a > bad[0]]
    return (above[-1] if above else math.inf), True


def _summarise(cells: list[dict[str, Any]], z: float) -> list[dict[str, Any]]:
    """Per (n, bound, critic): smallest safe α (fine grid), who sets it, worst overshoot below it."""
    out = []
    for n in sorted({c["n"] for c in cells}):
        at_n = [c for c in cells if c["n"] == n]
        for bound in BOUNDS:
            for critic in CRITICS:
                if not all(critic in c["grid"][bound] for c in at_n):
                    continue
                cols = [c["grid"][bound][critic] for c in at_n]
                grid = cols[0]["alpha"]
                flagged = {a: any(col["overshoot"][i] > z * col["se"][i] for col in cols) for i, a in enumerate(grid)}
                alpha_min, resolved = smallest_safe_alpha(flagged)
                setter = None
                if resolved:
                    i = grid.index(max(a for a, f in flagged.items() if f))
                    setter = at_n[max(range(len(cols)), key=lambda k: cols[k]["overshoot"][i] / cols[k]["se"][i])]["task"]
                below = [r for c in at_n for r in c["rows"]
                         if r["bound"] == bound and r["critic"] == critic and r["alpha"] < alpha_min]
                worst = max(below, key=lambda r: r["overshoot"], default=None)
                out.append({"n": n, "bound": bound, "critic": critic, "alpha_min": alpha_min, "resolved": resolved,
                            "set_by": setter, "reference_rule": reference_alpha(n), "low_mi_limit": low_mi_limit(n),
                            "worst_below": None if worst is None else
                            {k: worst[k] for k in ("task", "alpha", "overshoot", "se", "significant")}})
    return out


def _fmt_alpha(alpha: float, resolved: bool = True) -> str:
    if math.isinf(alpha):
        return "none"
    return f"{alpha:.2g}" if resolved else f"≤ {alpha:.2g}"


def _fmt_worst(worst: dict[str, Any] | None) -> str:
    if worst is None:
        return "—"
    return f"{worst['overshoot']:+.3f} ± {worst['se']:.3f} at {worst['task']}, α = {worst['alpha']:g}"


def _tables(summary: list[dict[str, Any]]) -> str:
    blocks = []
    for bound in BOUNDS:
        rows = []
        for n in sorted({s["n"] for s in summary}):
            by = {s["critic"]: s for s in summary if s["n"] == n and s["bound"] == bound}
            row: dict[str, Any] = {"n": n}
            for critic, s in by.items():
                row[f"α_min, {critic}"] = _fmt_alpha(s["alpha_min"], s["resolved"])
                if critic == CRITICS[0]:
                    row["set by"] = s["set_by"] or "—"
                row[f"worst overshoot below it, {critic}"] = _fmt_worst(s["worst_below"])
            first = next(iter(by.values()))
            if bound == "ml_cpc":
                row["m/(n(m−1)+1)"] = f"{first['reference_rule']:.2g}"
                row["1/(2(n−1))"] = f"{first['low_mi_limit']:.2g}"
            rows.append(row)
        grid = "fine grid, 20 per decade" if bound == "ml_cpc" else "the table's α grid"
        blocks.append(f"{bound}: smallest α with no significant overshoot for any task ({grid})\n\n"
                      + format_table(rows))
    return "\n\n".join(blocks)


def _figure(cells: list[dict[str, Any]], summary: list[dict[str, Any]], family: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mine = [c for c in cells if c["family"] == family]
    ns = sorted({c["n"] for c in mine})
    panels = [(b, k) for b in BOUNDS for k in CRITICS if any(r["bound"] == b and r["critic"] == k
                                                             for c in mine for r in c["rows"])]
    fig, axes = plt.subplots(len(panels), len(ns), figsize=(3.2 * len(ns), 2.8 * len(panels)), squeeze=False,
                             sharex=True)
    tasks = sorted({c["task"] for c in mine}, key=lambda t: next(c["true_mi"] for c in mine if c["task"] == t))
    colours = dict(zip(tasks, plt.cm.viridis(np.linspace(0.0, 0.9, len(tasks)))))
    for i, (bound, critic) in enumerate(panels):
        for j, n in enumerate(ns):
            ax = axes[i][j]
            for c in (c for c in mine if c["n"] == n):
                rs = [r for r in c["rows"] if r["bound"] == bound and r["critic"] == critic]
                ax.errorbar([r["alpha"] for r in rs], [r["overshoot"] for r in rs], yerr=[r["se"] for r in rs],
                            color=colours[c["task"]], marker=".", ms=3, lw=1, capsize=2,
                            label=f"MI {c['true_mi']:g}")
            ax.axhline(0.0, color="k", lw=0.8)
            s = next((s for s in summary if s["n"] == n and s["bound"] == bound and s["critic"] == critic), None)
            if s and s["resolved"] and math.isfinite(s["alpha_min"]):
                ax.axvline(s["alpha_min"], color="tab:red", lw=1, label="α_min (all tasks)")
            if bound == "ml_cpc":
                ax.axvline(reference_alpha(n), color="grey", ls="--", lw=1, label="m/(n(m−1)+1)")
            ax.set_xscale("log")
            ax.set_yscale("symlog", linthresh=0.01)
            ax.set_title(f"{bound}, {critic}, n = {n}", fontsize=9)
            if j == 0:
                ax.set_ylabel("mean − true MI (nats)")
            if i == len(panels) - 1:
                ax.set_xlabel("α")
    labelled = {}
    for ax in axes.flat:
        labelled.update(zip(*reversed(ax.get_legend_handles_labels())))
    fig.suptitle(f"infobound bench validity, {family}: mean − true MI ± SE over Monte-Carlo batches")
    fig.tight_layout(rect=(0, 0.45 / fig.get_figheight(), 1, 1))
    fig.legend(list(labelled.values()), list(labelled), loc="lower center", ncol=min(len(labelled), 10), fontsize=8)
    save_figure(fig, path)


def _cells(batch_sizes: Sequence[int], mis: Sequence[float], dims: Sequence[int], suite_tasks: Sequence[str],
           batches: int | None, budget: int) -> list[Cell]:
    tasks: list[tuple[str, str, Any]] = [(f"gaussian-d{d}-mi{mi:g}", f"gaussian-d{d}", CorrelatedGaussian(d, float(mi)))
                                         for d in dims for mi in mis]
    if suite_tasks:
        available = task_suite("full")
        for name in suite_tasks:
            if name not in available:
                raise ValueError(f"unknown suite task {name!r}; expected one of {sorted(available)}")
            if not hasattr(available[name], "log_density_ratio"):
                raise ValueError(f"suite task {name!r} has no log_density_ratio, so no analytic critic")
            tasks.append((name, "suite", available[name]))
    for n in batch_sizes:
        if int(n) < 2:
            raise ValueError(f"batch sizes must be >= 2, got {n}")
    # Largest cells first, so that parallel workers finish together.
    return sorted((Cell(label, family, task, int(n), batches or default_batches(int(n), budget))
                   for label, family, task in tasks for n in batch_sizes), key=lambda c: -c.n**2 * c.batches)


# ---------------------------------------------------------------------------------------------------
# Adversarial critics: trained to break ML-CPC, at the old (analytic-critic) and the shipped α
# ---------------------------------------------------------------------------------------------------


def adversarial_alphas(n: int) -> list[tuple[str, float]]:
    """(label, α) pairs tried at batch size n: "old" (the analytic-critic table, where measured) and "reference"."""
    out = [("old", ANALYTIC_CRITIC_ONLY[n])] if n in ANALYTIC_CRITIC_ONLY else []
    return out + [("reference", min_safe_alpha(n))]


def _adversarial_cells(grid: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """One cell per (family, d, MI, n, α), skipping MI ≥ log(n/α): ML-CPC never exceeds its ceiling there."""
    cells = []
    for block in grid:
        unknown = set(block) - {"families", "dims", "mis", "batch_sizes"}
        if unknown:
            raise ValueError(f"adversarial grid entries take families, dims, mis, batch_sizes; got {sorted(unknown)}")
        for family in block["families"]:
            if family not in adv.FAMILIES:
                raise ValueError(f"unknown adversarial family {family!r}; expected one of {adv.FAMILIES}")
            for n in block["batch_sizes"]:
                if int(n) < 2:
                    raise ValueError(f"batch sizes must be >= 2, got {n}")
                for label, alpha in adversarial_alphas(int(n)):
                    for d in block["dims"]:
                        for mi in block["mis"]:
                            if float(mi) < math.log(int(n) / alpha):
                                cells.append({"family": family, "dim": int(d), "mi": float(mi), "n": int(n),
                                              "alpha": alpha, "label": label})
    return cells


def _adversarial_summary(rows: list[dict[str, Any]], z: float) -> list[dict[str, Any]]:
    """Per n: α old and new, and at each the worst adversarial and analytic cell in units of SE."""
    out = []
    for n in sorted({r["n"] for r in rows}):
        entry: dict[str, Any] = {"n": n, "alpha_old": ANALYTIC_CRITIC_ONLY.get(n), "alpha_new": min_safe_alpha(n)}
        for label in ("old", "reference"):
            at = [r for r in rows if r["n"] == n and r["label"] == label]
            if not at:
                continue
            worst = max(at, key=lambda r: r["z_score"])
            worst_analytic = max(at, key=lambda r: r["analytic"]["z_score"])
            entry[label] = {"cells": len(at), "significant": sum(r["z_score"] > z for r in at),
                            "worst": {k: worst[k] for k in ("family", "dim", "true_mi", "mean", "se", "overshoot",
                                                            "z_score", "batches", "coefficients")},
                            "worst_analytic": {"dim": worst_analytic["dim"], "true_mi": worst_analytic["true_mi"],
                                               **worst_analytic["analytic"]}}
        out.append(entry)
    return out


def _fmt_z(cell: dict[str, Any] | None, with_task: bool = True) -> str:
    if cell is None:
        return "—"
    text = f"{cell['overshoot']:+.4f} ± {cell['se']:.4f} ({cell['z_score']:+.1f} SE)"
    if with_task:
        text += f" {cell.get('family', 'log r')}, d {cell['dim']}, MI {cell['true_mi']:g}"
    return text


def _adversarial_table(summary: list[dict[str, Any]]) -> str:
    rows = []
    for s in summary:
        old, new = s.get("old"), s.get("reference")
        rows.append({
            "n": s["n"],
            "α old (log r only)": "—" if s["alpha_old"] is None else f"{s['alpha_old']:.3g}",
            "worst adversary at α old": _fmt_z(old and old["worst"]),
            "log r at α old": _fmt_z(old and old["worst_analytic"], with_task=False),
            "α new = n/(n(n−1)+1)": f"{s['alpha_new']:.3g}",
            "worst adversary at α new": _fmt_z(new and new["worst"]),
            "log r at α new": _fmt_z(new and new["worst_analytic"], with_task=False),
        })
    return ("ml_cpc, adversarial critics: worst mean − true MI ± SE over the tasks and critic families "
            "(independent evaluation batches)\n\n" + format_table(rows))


def _adversarial_figure(rows: list[dict[str, Any]], z: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    ns = sorted({r["n"] for r in rows})
    colours = dict(zip(ns, plt.cm.viridis(np.linspace(0.0, 0.9, len(ns)))))
    markers = {"quadratic": "o", "separable": "s", "mlp": "^"}
    for ax, label, title in zip(axes, ("old", "reference"), ("α old (analytic critic only)", "α new = n/(n(n−1)+1)")):
        for r in (r for r in rows if r["label"] == label):
            ax.scatter(r["true_mi"] + 0.08 * (r["dim"] - 1), max(r["z_score"], -30.0), color=colours[r["n"]],
                       marker=markers[r["family"]], s=22, alpha=0.85)
        ax.axhline(z, color="tab:red", lw=1, ls="--")
        ax.axhline(0.0, color="k", lw=0.8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("true MI (nats); d = 3 shifted right")
    axes[0].set_ylabel("(mean − true MI) / SE, clipped at −30")
    handles = [plt.Line2D([], [], color=colours[n], marker="o", ls="", label=f"n = {n}") for n in ns]
    handles += [plt.Line2D([], [], color="grey", marker=m, ls="", label=f) for f, m in markers.items()]
    handles += [plt.Line2D([], [], color="tab:red", ls="--", label=f"{z:g} SE")]
    fig.legend(handles=handles, loc="center right", fontsize=8)
    fig.suptitle("infobound bench validity: ML-CPC with critics trained to maximise it, on independent batches")
    fig.tight_layout(rect=(0, 0, 0.88, 1))
    save_figure(fig, path)


def run_adversarial_search(grid: Sequence[dict[str, Any]], *, settings: dict[str, int], z: float, seed: int,
                           workers: int, out: Path, progress: bool | None = None) -> dict[str, Any]:
    """The issue-10 counterexample, then adversaries on ``grid``; resumable through ``out/adversarial.jsonl``."""
    start = time.perf_counter()
    example = adv.counterexample([ANALYTIC_CRITIC_ONLY[8], min_safe_alpha(8)],
                                 batches=settings["counterexample_batches"], seed=seed)
    cells = _adversarial_cells(grid)
    rows = adv.run_adversarial(cells, steps=settings["steps"], eval_entries=settings["eval_entries"],
                               min_batches=settings["min_batches"], seed=seed, workers=min(workers, len(cells)),
                               journal=out / "adversarial.jsonl", progress=progress)
    summary = _adversarial_summary(rows, z)
    return {"grid": list(grid), "settings": settings, "counterexample": example, "summary": summary, "cells": rows,
            "seconds": time.perf_counter() - start}


def main(
    quick: bool = False,
    batch_sizes: list[int] | None = None,
    mis: list[float] | None = None,
    dims: list[int] | None = None,
    alphas: list[float] | None = None,
    batches: int | None = None,
    scales: list[float] | None = None,
    suite_tasks: list[str] | None = None,
    analytic: bool = True,
    adversarial: bool = True,
    adversarial_grid: list[dict[str, Any]] | None = None,
    adversarial_steps: int | None = None,
    z: float = 3.0,
    seed: int = 0,
    workers: int | None = None,
    out: Path = Path("results/validity"),
    resume: bool = True,
    overwrite: bool = False,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Measure how far ML-CPC and α-CPC sit from the true MI, with the analytic and with adversarial critics.

    Args:
        quick: the smoke-run grids (analytic: n 8/32/128, MI 1/4/8, d 20, fewer batches; adversarial:
            quadratic critics at n 8/64, MI 2/4, d 1; a few minutes).
        batch_sizes: n values of the analytic grid (default 8 … 256).
        mis: true MI of the correlated Gaussians, nats (default 0.5 … 10).
        dims: Gaussian dimensions (default 20 as in the staircase, and 1).
        alphas: the α grid of the table and figure (default 13 values, 1 … 1e-4); ML-CPC's smallest
            safe α is read on a fine grid of 20 values per decade over the same range and batches.
        batches: Monte-Carlo batches per cell (default: 2^26 / n² score entries, in [200, 20000]).
        scales: scales c of the ``best c·log r`` critic search; ``[1.0]`` measures log r only.
        suite_tasks: add tasks of ``infobound bench suite`` by name (those with a density ratio).
        analytic: run the analytic-critic grid (log r and c·log r over α).
        adversarial: reproduce the issue-10 counterexample and train critics to maximise ML-CPC at
            the old (analytic-critic) α and at the shipped α = min_safe_alpha(n) (bench/adversarial.py);
            finished cells are kept in ``out/adversarial.jsonl`` and a rerun resumes.
        adversarial_grid: blocks {families, dims, mis, batch_sizes}; default :data:`ADVERSARIAL_GRIDS`.
        adversarial_steps: Adam steps per adversary (default 150; 60 with ``quick``).
        z: overshoot is significant when mean − true MI > z · standard error (one-sided).
        seed: base seed; every cell derives its own from it.
        workers: parallel processes (one thread each); default = number of CPU cores.
        out: output folder: validity.json, validity.md, validity_<family>.png, validity_adversarial.png.
        resume: reuse the adversarial cells already in ``out/adversarial.jsonl`` (refused when they were
            made with other training settings or another seed).
        overwrite: delete a non-empty ``out`` first and start over.
        progress: show progress bars over the cells (default: on a terminal).

    Returns:
        The results dictionary written to ``out/validity.json``.
    """
    if not (analytic or adversarial):
        raise ValueError("nothing to do: `analytic` and `adversarial` are both false")
    preset = "quick" if quick else "full"
    cfg = PRESETS[preset]
    batch_sizes = batch_sizes or cfg["batch_sizes"]
    mis = mis or cfg["mis"]
    dims = dims or cfg["dims"]
    alphas = sorted(alphas or DEFAULT_ALPHAS, reverse=True)
    scales = sorted({1.0, *map(float, scales or cfg["scales"])})
    for a in alphas:
        _check_alpha(a, min(batch_sizes))
    settings = dict(ADVERSARIAL_SETTINGS[preset])
    if adversarial_steps is not None:
        if adversarial_steps < 0:
            raise ValueError(f"`adversarial_steps` must be >= 0, got {adversarial_steps}")
        settings["steps"] = int(adversarial_steps)
    out = Path(out)
    # The adversarial journal is reused cell by cell: a rerun with other training settings must not mix them.
    prepare_out(out, {"bench": "validity", "seed": seed, "adversarial": settings}, resume=resume, overwrite=overwrite)
    start = time.perf_counter()
    data: dict[str, Any] = {"config": {"analytic": analytic, "adversarial": adversarial, "z": z, "seed": seed,
                                       "quick": quick}}
    blocks: list[str] = []
    if analytic:
        cells = _cells(batch_sizes, mis, dims, suite_tasks or [], batches, cfg["batch_budget"])
        n_workers = min(workers or os.cpu_count() or 1, len(cells))
        fine = fine_alphas(alphas[0], alphas[-1])
        args = (alphas, fine, scales, z, seed)
        bar = dict(total=len(cells), desc="analytic critic", unit="cell", file=sys.stderr,
                   disable=None if progress is None else not progress)
        if n_workers <= 1:
            results = [_run_cell(c, *args) for c in tqdm(cells, **bar)]
        else:
            with ProcessPoolExecutor(max_workers=n_workers) as pool:
                results = list(tqdm(pool.map(_run_cell, cells, *([a] * len(cells) for a in args)), **bar))
        results.sort(key=lambda r: (r["family"], r["n"], r["true_mi"], r["task"]))
        summary = _summarise(results, z)
        tests_per_n = len(fine) * len({r["task"] for r in results})
        data["config"].update({
            "batch_sizes": list(batch_sizes), "mis": list(mis), "dims": list(dims), "alphas": alphas,
            "fine_alphas": fine, "scales": scales, "suite_tasks": suite_tasks or [],
            "batches": {str(n): next(c.batches for c in cells if c.n == n) for n in batch_sizes}})
        data["significance"] = {
            "test": "one-sided: overshoot = mean − true MI > z · SE, SE = std over batches / sqrt(batches)",
            "false_flag_rate_per_test": 1.0 - NormalDist().cdf(z),
            "tests_per_n_and_critic": tests_per_n,
            "bonferroni_z_5pct": NormalDist().inv_cdf(1.0 - 0.05 / tests_per_n),
            "note": ("The fine-grid tests at neighbouring α share their batches and are strongly correlated, so "
                     "Bonferroni is very conservative here; cells far above the threshold have strongly negative "
                     "means and cannot be falsely flagged. The smallest safe α depends on the number of batches: "
                     "with more batches smaller overshoots become significant and α_min moves up towards the "
                     "α where the mean crosses the true MI. The analytic critic's α_min is a necessary condition "
                     "only: see `adversarial` for critics trained to break the bound."),
        }
        data["summary"] = summary
        data["cells"] = results
        blocks.append(_tables(summary))
        for family in sorted({r["family"] for r in results}):
            _figure(results, summary, family, out / f"validity_{family}.png")
    if adversarial:
        grid = adversarial_grid or ADVERSARIAL_GRIDS[preset]
        found = run_adversarial_search(grid, settings=settings, z=z, seed=seed, workers=workers or 1, out=out,
                                       progress=progress)
        data["adversarial"] = found
        example = found["counterexample"]
        blocks.append(
            "issue-10 counterexample f = 54.22·xy − 26.78·(x² + y²) − 0.0357·(xy)², d 1, I = 2, n = 8: "
            + "; ".join(f"α = {r['alpha']:.4g}: {r['mean']:.4f} ± {r['se']:.4f} ({r['z_score']:+.1f} SE)"
                        for r in example)
            + f" over {example[0]['batches']} batches")
        blocks.append(_adversarial_table(found["summary"]))
        _adversarial_figure(found["cells"], z, out / "validity_adversarial.png")
    data["seconds"] = time.perf_counter() - start
    write_json(out / "validity.json", data)
    tables = "\n\n".join(blocks)
    write_text(out / "validity.md", tables + "\n")
    print(tables)
    print(f"\nsignificant: mean − true MI > {z:g}·SE; {data['seconds']:.0f} s")
    print(f"wrote {out / 'validity.json'}, validity.md and validity_*.png")
    return data


__all__ = ["ADVERSARIAL_GRIDS", "BOUNDS", "BatchStatistics", "CRITICS", "DEFAULT_ALPHAS", "adversarial_alphas",
           "evaluate", "fine_alphas", "low_mi_limit",
           "main", "measure_validity", "run_adversarial_search", "score_statistics", "smallest_safe_alpha"]
