"""bmi's v1 benchmark (Czyż et al., "Beyond Normal", NeurIPS 2023) and high-MI non-Gaussian-copula tasks.

:func:`bmi_v1_tasks` re-implements the 40 tasks of ``bmi.benchmark.BENCHMARK_TASKS_LIST`` (bmi's
``task_list.py``) with our samplers, under bmi's task ids, without JAX: the same base distributions
(bivariate normal ρ = 0.75, additive uniform noise, Student-t with identity dispersion, dense
multinormal with off-diagonal 0.5, bmi's "2-pair" latent-variable multinormal — correlation 0.8 on
two coordinate pairs, λ = η = 2) and the same diffeomorphisms (normal CDF, half-cube, asinh,
wiggly, the bimodal inverse-CDF maps, bmi's spiral with speed 1/d on planes (0, 1) of X and (1, 2) of
Y, and the swiss roll of scale 21 on a uniform margin). Diffeomorphisms leave the MI unchanged, so
every task's ground truth is its base distribution's closed form. Samples are ours (torch), not
bmi's: the distributions match, the random draws do not.

:func:`high_mi_tasks` adds 5–10 nat tasks whose dependence is *not* a Gaussian copula: a spiral of
X, additive coupling flows (random fixed volume-preserving maps) on both sides, and strongly
correlated Student-t.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .gaussian import CorrelatedGaussian, rho_for_mi
from .multivariate import AdditiveUniformNoise, MultivariateNormal, MultivariateStudentT
from .transforms import Transform, Transformed, get_transform

GAUSSIAN_CORRELATION = 0.75
"""bmi's ``GAUSSIAN_CORRELATION`` of the 1 × 1 tasks."""


def _both(base: Any, name: str, prefix: str, **params: Any) -> Transformed:
    t = get_transform(name, **params)
    return Transformed(base, t, t, name=f"{prefix}-{base.name}")


def _two_pair(dim: int) -> MultivariateNormal:
    # bmi's GaussianLVMParametrization(n_interacting=2, α=0, λ=η=2, ε=1) as a correlation matrix:
    # X_i = 2 Z_i + E_i (i < 2) and X_i = E_i + 2 V_i (i ≥ 2) all have variance 5; corr(X_i, Y_i) = 4/5.
    task = MultivariateNormal.sparse(dim, dim, n_interacting=2, correlation=0.8)
    return MultivariateNormal(task.covariance, dim, name=f"multinormal-sparse-{dim}-{dim}-2-2.0")


def _student_identity(dim: int, dof: int) -> MultivariateStudentT:
    return MultivariateStudentT(np.eye(2 * dim), dim, dof=float(dof), name=f"student-identity-{dim}-{dim}-{dof}")


def _spiral(base: Any) -> Transformed:
    # bmi: transform_spiral_task(speed=1, normalize_speed=True) → speed 1/d_x on plane (0, 1) of X, 1/d_y on (1, 2) of Y.
    tx = get_transform("spiral", speed=1.0 / base.dim_x, plane=(0, 1))
    ty = get_transform("spiral", speed=1.0 / base.dim_y, plane=(1, 2))
    return Transformed(base, tx, ty, name=f"spiral-{base.name}")


def bmi_v1_tasks() -> dict[str, Any]:
    """The 40 tasks of bmi's v1 benchmark under bmi's task ids (see the module docstring)."""
    binormal = MultivariateNormal(np.array([[1.0, GAUSSIAN_CORRELATION], [GAUSSIAN_CORRELATION, 1.0]]), 1,
                                  name=f"1v1-normal-{GAUSSIAN_CORRELATION}")
    uniform = _both(binormal, "normal_cdf", "normal_cdf")
    bistudent = _student_identity(1, 1)
    bimodal = Transformed(binormal, get_transform("bimodal", weights=(0.3, 0.7), means=(0.0, 5.0)),
                          get_transform("bimodal", weights=(0.5, 0.5), means=(-1.0, 3.0)),
                          name=f"1v1-bimodal-{GAUSSIAN_CORRELATION}")
    wiggly = Transformed(binormal, get_transform("wiggly", side="x"), get_transform("wiggly", side="y"),
                         name=f"wiggly-{binormal.name}")
    swissroll = Transformed(uniform, get_transform("swiss_roll", scale=21.0, uniform_input=True), None,
                            name=f"swissroll_x-{uniform.name}")
    one_dim = [binormal, uniform, AdditiveUniformNoise(0.1, name="1v1-additive-0.1"),
               AdditiveUniformNoise(0.75, name="1v1-additive-0.75"), bimodal, wiggly,
               _both(binormal, "half_cube", "half_cube"), bistudent, _both(bistudent, "asinh", "asinh")]
    multinormal = [MultivariateNormal(MultivariateNormal.dense(d, d, 0.5).covariance, d,
                                      name=f"multinormal-dense-{d}-{d}-0.5") for d in (2, 3, 5, 25, 50)]
    multinormal += [_two_pair(d) for d in (2, 3, 5, 25)]
    students = [_student_identity(d, dof) for d, dof in ((2, 1), (2, 2), (3, 2), (3, 3), (5, 2), (5, 3))]
    bases = [_two_pair(d) for d in (3, 5, 25)]
    transformed = ([_both(b, "normal_cdf", "normal_cdf") for b in bases] + [_both(b, "half_cube", "half_cube") for b in bases]
                   + [_spiral(b) for b in bases] + [_spiral(_both(b, "normal_cdf", "normal_cdf")) for b in bases]
                   + [_both(_student_identity(d, dof), "asinh", "asinh") for d, dof in ((2, 1), (3, 2), (5, 2))])
    tasks = one_dim + [swissroll] + multinormal + students + transformed
    return {t.name: t for t in tasks}


def additive_coupling(dim: int, layers: int = 4, hidden: int = 16, strength: float = 1.5, seed: int = 0) -> Transform:
    r"""A fixed random flow of additive coupling layers (NICE, Dinh et al. 2015): volume-preserving, invertible.

    Layer k splits the coordinates into halves (A, B), alternating which half is first, and maps
    B ↦ B + t_k(A) with t_k(a) = strength · W₂ tanh(W₁ a + b₁), weights drawn once from ``seed``.
    The inverse subtracts the same shifts in reverse order; the MI of a task is unchanged.
    """
    if dim < 2:
        raise ValueError(f"additive coupling needs dim >= 2, got {dim}")
    gen = torch.Generator().manual_seed(seed)
    half = dim // 2
    params = []
    for k in range(layers):
        a_idx = list(range(half)) if k % 2 == 0 else list(range(half, dim))
        b_idx = [i for i in range(dim) if i not in a_idx]
        w1 = torch.randn(len(a_idx), hidden, generator=gen) * (2.0 / math.sqrt(len(a_idx)))
        b1 = torch.randn(hidden, generator=gen)
        w2 = torch.randn(hidden, len(b_idx), generator=gen) * (strength / math.sqrt(hidden))
        params.append((a_idx, b_idx, w1, b1, w2))

    def shift(x: Tensor, a_idx: list[int], w1: Tensor, b1: Tensor, w2: Tensor) -> Tensor:
        return torch.tanh(x[:, a_idx] @ w1.to(x) + b1.to(x)) @ w2.to(x)

    def fwd(x: Tensor) -> Tensor:
        if x.shape[1] != dim:
            raise ValueError(f"this coupling flow maps {dim} dimensions, got {x.shape[1]}")
        out = x.clone()
        for a_idx, b_idx, w1, b1, w2 in params:
            out[:, b_idx] = out[:, b_idx] + shift(out, a_idx, w1, b1, w2)
        return out

    def inv(y: Tensor) -> Tensor:
        out = y.clone()
        for a_idx, b_idx, w1, b1, w2 in reversed(params):
            out[:, b_idx] = out[:, b_idx] - shift(out, a_idx, w1, b1, w2)
        return out

    return Transform("additive_coupling", fwd, inv)


def high_mi_tasks(levels: tuple[float, ...] = (5.0, 10.0), dim: int = 5) -> dict[str, Any]:
    """5–10 nat tasks whose dependence is not a Gaussian copula (GCMI is not exact on them).

    - ``spiral-x-gaussian``: CorrelatedGaussian(dim, I) with X spiralled (speed 0.5, plane (0, 1));
    - ``coupling-gaussian``: CorrelatedGaussian(dim, I) with a 4-layer additive coupling flow on X
      and another on Y;
    - ``student-t-strong``: Student-t, ν = 3, dispersion of the CorrelatedGaussian with Gaussian MI I
      (its MI is I plus the Student-t term).
    """
    tasks: dict[str, Any] = {}
    for mi in levels:
        base = CorrelatedGaussian(dim, mi)
        tag = f"{dim}x{dim}-{mi:g}nats"
        tasks[f"spiral-x-gaussian-{tag}"] = Transformed(base, get_transform("spiral", speed=0.5), None,
                                                        name=f"spiral-x-gaussian-{tag}")
        tasks[f"coupling-gaussian-{tag}"] = Transformed(base, additive_coupling(dim, seed=1),
                                                        additive_coupling(dim, seed=2), name=f"coupling-gaussian-{tag}")
        rho = rho_for_mi(mi, dim)
        dispersion = np.eye(2 * dim)
        for i in range(dim):
            dispersion[i, dim + i] = dispersion[dim + i, i] = rho
        tasks[f"student-t-strong-dof3-{tag}"] = MultivariateStudentT(dispersion, dim, dof=3.0,
                                                                     name=f"student-t-strong-dof3-{tag}")
    return tasks


__all__ = ["GAUSSIAN_CORRELATION", "additive_coupling", "bmi_v1_tasks", "high_mi_tasks"]
