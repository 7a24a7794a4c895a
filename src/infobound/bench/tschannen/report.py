"""Figures of the Tschannen benchmark: the paper's panels, mean ± sd over seeds per setting."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

Result = dict[str, Any]


def mean_sd(runs: list[dict[str, Any]], key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Steps, mean and sd (ddof 1 as in the tables, NaN-aware) of ``key`` over runs recorded at the same steps."""
    length = min(len(r[key]) for r in runs)
    steps = np.asarray(runs[0]["step"][:length], dtype=float)
    values = np.asarray([[np.nan if v is None else v for v in r[key][:length]] for r in runs], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns (e.g. no loss before the first step)
        sd = np.nanstd(values, axis=0, ddof=1) if len(runs) > 1 else np.zeros(length)
        return steps, np.nanmean(values, axis=0), sd


def _band(ax: Any, runs: list[dict[str, Any]], key: str, label: str, smooth: float = 0.0) -> None:
    steps, mean, sd = mean_sd(runs, key)
    if smooth > 0:
        from scipy.ndimage import gaussian_filter1d

        mean, sd = gaussian_filter1d(mean, smooth), gaussian_filter1d(sd, smooth)
    (line,) = ax.plot(steps, mean, label=label, lw=1.6)
    if len(runs) > 1:
        ax.fill_between(steps, mean - sd, mean + sd, color=line.get_color(), alpha=0.2, lw=0)


def _baseline(ax: Any, result: Result) -> None:
    raw = result.get("raw_baseline")
    if raw is not None and math.isfinite(raw):
        ax.axhline(raw, ls="--", color="k", lw=1, label=f"raw pixels ({raw:.3f})")


def _groups(result: Result) -> dict[str, list[dict[str, Any]]]:
    """Settings grouped by estimator (one row of panels each) for the critic/encoder experiments."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for s in result["settings"]:
        groups.setdefault(s["setting"].get("estimator_label", ""), []).append(s)
    return groups


def figure(result: Result) -> Any:
    """The experiment's figure (a matplotlib Figure)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    name, settings = result["experiment"], result["settings"]
    steps_label = "training step"
    if name == "noniid":
        fig, ax = plt.subplots(figsize=(7, 4.2))
        smooth = max(1.0, result["params"]["steps"] / 200)
        for s in settings:
            _band(ax, s["runs"], "train_bound", s["setting"]["label"], smooth=smooth)
        ax.axhline(settings[0]["runs"][0]["true_mi"], ls="--", color="k", lw=1, label="true MI (0.0204)")
        ax.set_xlabel(steps_label)
        ax.set_ylabel("I_EST (nats, smoothed)")
        ax.set_title(result["title"], fontsize=10)
        ax.legend(fontsize=8)
        return fig
    if name == "adversarial":
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        for s in settings:
            _band(axes[0], s["runs"], "accuracy", s["setting"]["label"])
            _band(axes[1], s["runs"], "classifier_loss", "classifier loss")
            _band(axes[1], s["runs"], "encoder_loss", "encoder loss (CE to uniform)")
        _baseline(axes[0], result)
        axes[0].set_ylabel("linear-probe accuracy on g(view 1)")
        axes[1].set_ylabel("loss")
        for ax in axes:
            ax.set_xlabel("encoder step")
            ax.legend(fontsize=8)
        fig.suptitle(result["title"], fontsize=10)
        fig.tight_layout()
        return fig
    if name in ("critic", "encoder"):
        groups = _groups(result)
        fig, axes = plt.subplots(len(groups), 2, figsize=(11, 3.8 * len(groups)), squeeze=False)
        for row, (est, group) in enumerate(groups.items()):
            for s in group:
                label = s["setting"]["label"]
                _band(axes[row, 0], s["runs"], "test_bound", label)
                _band(axes[row, 1], s["runs"], "accuracy", label)
            if name == "encoder":
                for t in sorted({s["setting"]["target"] for s in group}):
                    axes[row, 0].axhline(t, ls=":", color="gray", lw=1)
            _baseline(axes[row, 1], result)
            axes[row, 0].set_ylabel(f"{est} on test pairs (nats)")
            axes[row, 1].set_ylabel(f"accuracy with {est}")
            for ax in axes[row]:
                ax.set_xlabel(steps_label)
                ax.legend(fontsize=7)
        fig.suptitle(result["title"], fontsize=10)
        fig.tight_layout()
        return fig
    extra = len(settings) if name == "conditioning" else 0
    rows = 1 + (extra + 1) // 2
    fig, grid = plt.subplots(rows, 2, figsize=(11, 4 * rows), squeeze=False)
    axes = grid.flatten()
    for s in settings:
        _band(axes[0], s["runs"], "test_bound", s["setting"]["label"])
        _band(axes[1], s["runs"], "accuracy", s["setting"]["label"])
    _baseline(axes[1], result)
    axes[0].set_ylabel("bound on test pairs (nats)")
    axes[1].set_ylabel("linear-probe accuracy on g1(view 1)")
    for i, s in enumerate(settings[:extra]):
        _percentiles(axes[2 + i], s)
    for ax in axes[2 + extra:]:
        ax.set_visible(False)
    for ax in axes[: 2 + extra]:
        ax.set_xlabel(steps_label)
        ax.legend(fontsize=8)
    fig.suptitle(result["title"], fontsize=10)
    fig.tight_layout()
    return fig


def _percentiles(ax: Any, setting_result: dict[str, Any]) -> None:
    """Percentile bands of log(σ_max/σ_min) pooled over examples and seeds (the paper's Fig. 2 panels)."""
    runs = setting_result["runs"]
    length = min(len(r["log_condition"]) for r in runs)
    steps = np.asarray(runs[0]["step"][:length], dtype=float)
    pooled = np.concatenate([np.asarray(r["log_condition"][:length]) for r in runs], axis=1)  # [evals, examples·seeds]
    qs = np.percentile(pooled, [0, 20, 40, 60, 80, 100], axis=1)
    for lo, hi, alpha in zip(qs[:-1], qs[1:], (0.25, 0.45, 0.65, 0.45, 0.25)):
        ax.fill_between(steps, lo, hi, color="tab:blue", alpha=alpha, lw=0)
    ax.plot(steps, qs[-1], "--", color="tab:red", lw=1, label="max")
    ax.plot(steps, np.median(pooled, axis=1), color="k", lw=1.2, label="median")
    ax.set_ylabel("log σ_max/σ_min of ∂g1/∂x")
    ax.set_title(setting_result["setting"]["label"] + " (bands: 20% percentiles)", fontsize=9)


__all__ = ["figure", "mean_sd"]
