"""Adversarial critics for ``infobound bench validity``: train a critic to *break* ML-CPC, then measure it.

A lower bound must hold for every critic, so the analytic critic log r is a friendly case. Here a
critic is trained by gradient ascent on the mean ML-CPC value over fresh batches of a task with known
MI (the adversary wants the estimate as high as possible), then frozen and evaluated on independent
batches; a significant overshoot of the true MI proves that α is not safe for every critic.

Critic families (all batched: x [B, n, d], y [B, n, d] → scores [B, n, n]), each started at the
analytic critic of a correlated Gaussian so that the ascent begins at the best critic and moves to
wherever ML-CPC at this α rewards it:

- ``quadratic``: f = −θ₁A|x − y|² + B(θ₂|x|² + θ₃|y|²) − 0.1θ₄(x·y)² with A = ρ/(2(1−ρ²)),
  B = ρ/(2(1+ρ)) (θ = (1, 1, 1, 0) is log r up to a constant; every a·x·y − b_x|x|² − b_y|y|² −
  c(x·y)², the issue's counterexample f = 54.22 xy − 26.78 (x² + y²) − 0.0357 (xy)² included, lies
  in this family);
- ``mlp``: quadratic + a concat MLP residual ψ([x_i, y_j]) (2 hidden layers of 32, zero-initialised
  output), a flexible joint critic;
- ``separable``: quadratic + a separable residual g(x)ᵀh(y) (MLPs d → 32 → 16, g's output zero-initialised).

All scores are computed in float64 (at d = 1, MI 8, 1 − ρ² = e⁻¹⁶ and float32 cancels).
"""

from __future__ import annotations

import json
import math
import sys
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import Tensor, nn
from tqdm.auto import tqdm

from .. import bounds
from ..tasks import CorrelatedGaussian, make_generator

FAMILIES = ("quadratic", "mlp", "separable")


def ml_cpc_batched(scores: Tensor, alpha: float) -> Tensor:
    """[B] ML-CPC of each of B score matrices [B, n, n] (the formula of :func:`infobound.bounds.ml_cpc`)."""
    n = scores.shape[-1]
    log_pos = math.log(alpha) - 2.0 * math.log(n)
    log_neg = math.log(n - alpha) - 2.0 * math.log(n) - math.log(n - 1)
    eye = torch.eye(n, dtype=torch.bool, device=scores.device)
    weights = torch.where(eye, torch.tensor(log_pos, dtype=scores.dtype), torch.tensor(log_neg, dtype=scores.dtype))
    return scores.diagonal(dim1=1, dim2=2).mean(1) - torch.logsumexp((scores + weights).flatten(1), dim=1)


class QuadraticCritic(nn.Module):
    """f = −θ₁A|x − y|² + B(θ₂|x|² + θ₃|y|²) − 0.1·θ₄(x·y)²; the analytic Gaussian critic at θ = (1, 1, 1, 0).

    With A = ρ/(2(1−ρ²)) and B = ρ/(2(1+ρ)), log r = −A|x − y|² + B(|x|² + |y|²) + const. This
    parametrisation separates the huge curvature across the diagonal (A ≈ e^{2I/d}/4) from the O(1)
    terms, so an optimiser step of the same size is meaningful at every MI (in the raw coefficients
    a·x·y − b(|x|² + |y|²) the two large terms cancel to ~(1 − ρ²) relative precision).
    """

    def __init__(self, rho: float, theta: Sequence[float] = (1.0, 1.0, 1.0, 0.0)) -> None:
        super().__init__()
        self.big = rho / (2.0 * (1.0 - rho**2))
        self.small = rho / (2.0 * (1.0 + rho))
        self.theta = nn.Parameter(torch.tensor([float(t) for t in theta], dtype=torch.float64))

    @classmethod
    def from_coefficients(cls, a: float, b: float, c: float, rho: float) -> "QuadraticCritic":
        """The critic a·(x·y) − b(|x|² + |y|²) − c·(x·y)² in this parametrisation."""
        critic = cls(rho)
        with torch.no_grad():
            side = (a / 2.0 - b) / critic.small
            critic.theta.copy_(torch.tensor([a / 2.0 / critic.big, side, side, c / 0.1], dtype=torch.float64))
        return critic

    def coefficients(self) -> dict[str, float]:
        """The raw coefficients of a·(x·y) − b_x|x|² − b_y|y|² − c·(x·y)²."""
        t = self.theta.detach().tolist()
        a_half = t[0] * self.big
        return {"a": 2.0 * a_half, "b_x": a_half - t[1] * self.small, "b_y": a_half - t[2] * self.small,
                "c": 0.1 * t[3]}

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        s = x @ y.transpose(-1, -2)
        qx = (x * x).sum(-1)[..., :, None]
        qy = (y * y).sum(-1)[..., None, :]
        t = self.theta
        # |x − y|² = qx + qy − 2s, formed before scaling by the large A.
        return -t[0] * self.big * (qx + qy - 2.0 * s) + self.small * (t[1] * qx + t[2] * qy) - 0.1 * t[3] * s * s


class MLPResidualCritic(nn.Module):
    """Quadratic critic + ψ([x_i, y_j]), a concat MLP (2 × 32 hidden, zero-initialised output)."""

    def __init__(self, rho: float, dim: int, hidden: int = 32) -> None:
        super().__init__()
        self.base = QuadraticCritic(rho)
        self.net = nn.Sequential(nn.Linear(2 * dim, hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                                 nn.Linear(hidden, 1)).double()
        nn.init.zeros_(self.net[-1].weight)
        nn.init.zeros_(self.net[-1].bias)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        n = x.shape[-2]
        pairs = torch.cat([x[..., :, None, :].expand(*x.shape[:-1], n, x.shape[-1]),
                           y[..., None, :, :].expand(*y.shape[:-2], n, n, y.shape[-1])], dim=-1)
        return self.base(x, y) + self.net(pairs).squeeze(-1)


class SeparableResidualCritic(nn.Module):
    """Quadratic critic + g(x)ᵀh(y) (MLPs d → 32 → 16; g's output zero-initialised)."""

    def __init__(self, rho: float, dim: int, hidden: int = 32, embed: int = 16) -> None:
        super().__init__()
        self.base = QuadraticCritic(rho)
        self.g = nn.Sequential(nn.Linear(dim, hidden), nn.SiLU(), nn.Linear(hidden, embed)).double()
        self.h = nn.Sequential(nn.Linear(dim, hidden), nn.SiLU(), nn.Linear(hidden, embed)).double()
        nn.init.zeros_(self.g[-1].weight)
        nn.init.zeros_(self.g[-1].bias)

    def forward(self, x: Tensor, y: Tensor) -> Tensor:
        return self.base(x, y) + self.g(x) @ self.h(y).transpose(-1, -2)


def build_critic(family: str, task: CorrelatedGaussian) -> nn.Module:
    if family == "quadratic":
        return QuadraticCritic(task.rho)
    if family == "mlp":
        return MLPResidualCritic(task.rho, task.dim)
    if family == "separable":
        return SeparableResidualCritic(task.rho, task.dim)
    raise ValueError(f"`family` must be one of {FAMILIES}, got {family!r}")


def sample_batches(task: Any, n: int, batches: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
    """[B, n, dx], [B, n, dy] float64 batches of i.i.d. pairs."""
    x, y = task.sample(n * batches, seed=gen)
    return x.double().reshape(batches, n, -1), y.double().reshape(batches, n, -1)


def train_adversary(critic: nn.Module, task: Any, n: int, alpha: float, *, steps: int, pool_entries: int = 2**22,
                    step_entries: int = 2**22, lr: float = 1e-3, seed: int = 0) -> nn.Module:
    """Gradient ascent on the mean ML-CPC at α over a fixed pool of training batches.

    A fixed pool (sample-average approximation, ≈ ``pool_entries`` score entries) makes the
    objective deterministic when a step sees the whole pool (the quadratic family): with fresh
    batches at every step the heavy-tailed gradient of ML-CPC at small α drowns the small moves
    that raise its mean. Families with many parameters cycle through the pool in steps of
    ≈ ``step_entries`` entries. The pool is independent of the evaluation batches, so any
    over-fitting to it can only lower the evaluated mean.
    """
    gen = make_generator(seed)
    pool = max(8, pool_entries // (n * n))
    per_step = max(4, min(pool, step_entries // (n * n)))
    x_pool, y_pool = sample_batches(task, n, pool, gen)
    optimiser = torch.optim.Adam(critic.parameters(), lr=lr)
    cursor = 0
    for _ in range(steps):
        if cursor + per_step > pool:
            cursor = 0
        x, y = x_pool[cursor:cursor + per_step], y_pool[cursor:cursor + per_step]
        cursor += per_step
        loss = -ml_cpc_batched(critic(x, y), alpha).mean()
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
    return critic


@torch.no_grad()
def evaluate_critic(critic: nn.Module, task: Any, n: int, alphas: Sequence[float], *, batches: int, seed: int,
                    max_entries: int = 2**22) -> list[dict[str, float]]:
    """Mean and SE of ML-CPC at each α over ``batches`` independent batches (common random numbers)."""
    gen = make_generator(seed)
    chunk = max(1, max_entries // (n * n))
    values: list[list[Tensor]] = [[] for _ in alphas]
    checked = False
    for start in range(0, batches, chunk):
        b = min(chunk, batches - start)
        x, y = sample_batches(task, n, b, gen)
        scores = critic(x, y)
        for k, alpha in enumerate(alphas):
            v = ml_cpc_batched(scores, alpha)
            if not checked:  # the batched formula is the library's bound
                ref = torch.stack([bounds.ml_cpc(s, alpha=alpha) for s in scores[:2]])
                if not torch.allclose(v[:2], ref, rtol=1e-9, atol=1e-9):
                    raise RuntimeError(f"batched ML-CPC disagrees with bounds.ml_cpc: {v[:2]} vs {ref}")
            values[k].append(v)
        checked = True
    out = []
    for alpha, parts in zip(alphas, values):
        v = torch.cat(parts)
        if not bool(torch.isfinite(v).all()):
            raise RuntimeError("non-finite ML-CPC values in the adversarial evaluation")
        mean, se = float(v.mean()), float(v.std()) / math.sqrt(v.numel())
        truth = float(task.mutual_information)
        out.append({"alpha": float(alpha), "mean": mean, "se": se, "overshoot": mean - truth,
                    "z_score": (mean - truth) / se, "batches": v.numel()})
    return out


def adversarial_cell(family: str, dim: int, mi: float, n: int, alpha: float, *, steps: int, eval_entries: int,
                     min_batches: int, seed: int, label: str = "") -> dict[str, Any]:
    """Train one adversary at (family, task, n, α); evaluate it and the analytic critic at α on independent batches.

    Both critics see the same evaluation batches (common random numbers), so their difference is sharp.
    """
    torch.set_num_threads(1)
    start = time.perf_counter()
    task = CorrelatedGaussian(int(dim), float(mi))
    critic = build_critic(family, task)
    step_entries = 2**20 if family == "quadratic" else 2**15  # the MLP's [B, n, n, 32] activations
    lr = 5e-3 if family == "quadratic" else 1e-3
    train_adversary(critic, task, n, alpha, steps=steps, pool_entries=2**20, step_entries=step_entries, lr=lr,
                    seed=seed)
    batches = max(min_batches, eval_entries // (n * n))
    row = evaluate_critic(critic, task, n, [alpha], batches=batches, seed=seed + 10**6)[0]
    analytic = evaluate_critic(QuadraticCritic(task.rho), task, n, [alpha], batches=batches, seed=seed + 10**6)[0]
    quad = critic if isinstance(critic, QuadraticCritic) else critic.base
    row.update(label=label, family=family, dim=int(dim), true_mi=float(mi), n=int(n), steps=steps,
               analytic={k: analytic[k] for k in ("mean", "se", "overshoot", "z_score")},
               coefficients=quad.coefficients(), seconds=time.perf_counter() - start)
    return row


def _cell_key(c: dict[str, Any]) -> str:
    return f"{c['family']}|d{c['dim']}|mi{c['mi']:g}|n{c['n']}|{c['label']}|a{c['alpha']:.6g}"


def run_adversarial(cells: Sequence[dict[str, Any]], *, steps: int, eval_entries: int, min_batches: int, seed: int,
                    workers: int, journal: Path | None = None, progress: bool | None = None) -> list[dict[str, Any]]:
    """Run adversarial cells (dicts: family, dim, mi, n, alpha, label) in worker processes.

    Each finished cell is appended to ``journal`` (JSON lines) and skipped on a rerun: the sweep resumes.
    ``progress``: a bar over the cells (None: only on a terminal).
    """
    done: dict[str, dict[str, Any]] = {}
    if journal is not None and journal.exists():
        for line in journal.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                done[row["key"]] = row
    todo = [c for c in cells if _cell_key(c) not in done]
    if workers > 1:  # largest cells first, so that parallel workers finish together
        todo.sort(key=lambda c: -(c["n"] ** 2) * (10 if c["family"] == "mlp" else 1))

    def run(submit: Any, c: dict[str, Any]) -> Any:
        return submit(adversarial_cell, c["family"], c["dim"], c["mi"], c["n"], c["alpha"], steps=steps,
                      eval_entries=eval_entries, min_batches=min_batches, label=c["label"],
                      seed=zlib.crc32(f"{seed}|{_cell_key(c)}".encode()))

    bar = tqdm(total=len(todo), desc="adversarial critics", unit="cell", file=sys.stderr,
               disable=None if progress is None else not progress)

    def record(c: dict[str, Any], row: dict[str, Any]) -> None:
        bar.update(1)
        row["key"] = _cell_key(c)
        done[row["key"]] = row
        if journal is not None:
            journal.parent.mkdir(parents=True, exist_ok=True)
            with journal.open("a") as fh:
                fh.write(json.dumps(row) + "\n")

    if workers <= 1:
        for c in todo:
            record(c, run(lambda fn, *a, **k: fn(*a, **k), c))
    else:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [(c, run(pool.submit, c)) for c in todo]
            for c, fut in futures:
                record(c, fut.result())
    bar.close()
    return [done[_cell_key(c)] for c in cells]


def counterexample(alphas: Sequence[float], *, batches: int = 400_000, seed: int = 0) -> list[dict[str, float]]:
    """The issue's fixed critic f = 54.22 xy − 26.78 (x² + y²) − 0.0357 (xy)² on a 1-d Gaussian, I = 2, n = 8."""
    task = CorrelatedGaussian(1, 2.0)
    critic = QuadraticCritic.from_coefficients(54.22, 26.78, 0.0357, task.rho)
    return evaluate_critic(critic, task, 8, alphas, batches=batches, seed=seed)


__all__ = ["FAMILIES", "MLPResidualCritic", "QuadraticCritic", "SeparableResidualCritic", "adversarial_cell",
           "build_critic", "run_adversarial", "counterexample", "evaluate_critic", "ml_cpc_batched", "train_adversary"]
