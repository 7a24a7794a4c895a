"""The ground-truth task suite of ``infobound bench suite`` (after bmi's benchmark, Czyż et al. 2023)."""

from __future__ import annotations

from typing import Any

from .bmi_v1 import bmi_v1_tasks, high_mi_tasks
from .gaussian import CorrelatedGaussian
from .multivariate import AdditiveUniformNoise, MultivariateNormal, MultivariateStudentT
from .transforms import transformed

SUITE_PRESETS = ("quick", "full", "bmi-v1", "high-mi", "accuracy")


def task_suite(preset: str = "quick") -> dict[str, Any]:
    """Named tasks with exact MI.

    ``quick``: one of each family at modest dimension. ``full``: more dimensions and MI levels.
    ``bmi-v1``: bmi's 40 v1 benchmark tasks (:func:`~infobound.tasks.bmi_v1.bmi_v1_tasks`).
    ``high-mi``: 5 and 10 nat tasks that are not Gaussian-copula (:func:`~infobound.tasks.bmi_v1.high_mi_tasks`).
    ``accuracy``: ``bmi-v1`` and ``high-mi`` together.
    """
    if preset not in SUITE_PRESETS:
        raise ValueError(f"`preset` must be one of {list(SUITE_PRESETS)}, got {preset!r}")
    if preset == "bmi-v1":
        return bmi_v1_tasks()
    if preset == "high-mi":
        return high_mi_tasks()
    if preset == "accuracy":
        return {**bmi_v1_tasks(), **high_mi_tasks()}
    dims = [(2, 2), (5, 5)] if preset == "quick" else [(1, 1), (2, 2), (5, 5), (25, 25)]
    tasks: dict[str, Any] = {}
    for dx, dy in dims:
        tasks[f"normal-dense-{dx}x{dy}"] = MultivariateNormal.dense(dx, dy, off_diagonal=0.5)
        if min(dx, dy) >= 2:
            tasks[f"normal-sparse-{dx}x{dy}"] = MultivariateNormal.sparse(dx, dy, n_interacting=2, correlation=0.8)
        sparse_or_dense = tasks.get(f"normal-sparse-{dx}x{dy}", tasks[f"normal-dense-{dx}x{dy}"])
        tasks[f"student-t-dof3-{dx}x{dy}"] = MultivariateStudentT(
            sparse_or_dense.covariance, dx, dof=3.0, name=f"student-t-{dx}x{dy}")
        for t in ("normal_cdf", "half_cube", "asinh") + (("spiral",) if dx >= 2 else ()):
            tasks[f"{t}-{dx}x{dy}"] = transformed(sparse_or_dense, t)
    tasks["uniform-noise-eps0.1"] = AdditiveUniformNoise(0.1)
    tasks["uniform-noise-eps0.75"] = AdditiveUniformNoise(0.75)
    tasks["swiss-roll-1x1"] = transformed(CorrelatedGaussian(1, 1.0), "swiss_roll", sides="x")
    high = (5.0, 10.0) if preset == "quick" else (5.0, 10.0, 15.0)
    for mi in high:
        tasks[f"high-mi-gaussian-{mi:g}nats-10x10"] = CorrelatedGaussian(10, mi)
    tasks["high-mi-cubic-10nats-10x10"] = CorrelatedGaussian(10, 10.0, cubic=True)
    return tasks


__all__ = ["SUITE_PRESETS", "task_suite"]
