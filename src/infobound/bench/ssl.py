"""``infobound bench ssl``: objectives, methods and InfoCL regularisers on MNIST-1D, same budget each.

Part 1 — objectives and methods. SimCLR × {InfoNCE (NT-Xent), ML-CPC α = 0.1, ML-CPC with the
geometric α schedule 10 → 0.1, f-MICL KL / JS / Pearson / VLC, alignment–uniformity}, MoCo v2 ×
{InfoNCE, ML-CPC 10 → 0.1}, MoCo v3 × {InfoNCE with the 1-D CNN, InfoNCE with a small ViT}, BYOL and
Barlow Twins. Every row gets the same budget: the same data, augmentation, batch, number of epochs
(hence optimiser steps), optimiser and learning-rate schedule, seeds, and the same 1-D CNN unless the
row names another encoder; linear probe, weighted kNN and a 5-labels-per-class probe on the test
split of the frozen features. (Wall time differs: BYOL and MoCo v3 run a second, momentum encoder.)

Part 2 — InfoCL, transfer-style. Contrastive learning keeps what the two views share; information
that the augmentation makes differ between views is discarded, and a downstream task that needs it
suffers (Wang et al., CVPR 2022). To measure this, every MNIST-1D signal gets an 8-step *tag*
segment appended that carries a second label, one of four bump positions, drawn independently of
the digit. The augmentation shifts, scales, noises and masks the 40-step signal as in part 1 and
**replaces the tag of each view by an independently drawn random tag**, so the tag is present in
every view but shared by none: I(v1; v2) holds the digit and nothing of the tag. The source task is
the digit (shared, 10 classes); the transfer task is the pair (digit, tag) (40 classes), whose tag
half is exactly the label information not shared between views. SimCLR-InfoNCE, BYOL and Barlow
Twins are each trained with no regulariser, RC (a decoder reconstructs each view, tag included, from
h; the two views' MSEs summed) and LBE (InfoCL's official form: the InfoNCE-type bound between the
stage outputs μ and the stochastic h = μ + ζε over both views' 2N samples, on the last three encoder
stages, the last being h itself, which also feeds the projector), λ = 1. Probes see clean tagged
inputs and the deterministic μ.

Every run is one process with one torch thread (``workers`` at a time), its own directory with
checkpoints, ``metrics.json`` and logs; finished runs are reused, so an interrupted bench resumes.
The same invocation also times our InfoNCE / ML-CPC loss modules against pytorch-metric-learning's
NTXentLoss (:func:`infobound.bench.loss_speed.compare_loss_speed`). Output: Markdown tables of mean
± std over seeds on stdout and in ``ssl.md``, ``ssl.json`` and a bar chart ``ssl.png``.
"""

from __future__ import annotations

import logging
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from infobound.results import (
    format_table,
    read_json,
    save_figure,
    write_json,
    write_text,
)
from infobound.runs import prepare_out

from ..data import DatasetSplits, SignalAugment, load_dataset
from ._runner import run_all, summarise

TAG_LENGTH, NUM_TAGS = 8, 4

# (label, method, options): part 1, the objectives.
OBJECTIVES: list[tuple[str, str, dict[str, Any]]] = [
    ("SimCLR · InfoNCE (NT-Xent)", "simclr", dict(objective="infonce")),
    ("SimCLR · ML-CPC α=0.1", "simclr", dict(objective="ml_cpc", alpha=0.1)),
    ("SimCLR · ML-CPC α 10→0.1", "simclr", dict(objective="ml_cpc", alpha=10.0, alpha_end=0.1)),
    ("SimCLR · f-MICL KL", "simclr", dict(objective="fmicl", divergence="kl")),
    ("SimCLR · f-MICL JS", "simclr", dict(objective="fmicl", divergence="js")),
    ("SimCLR · f-MICL Pearson", "simclr", dict(objective="fmicl", divergence="pearson")),
    ("SimCLR · f-MICL VLC", "simclr", dict(objective="fmicl", divergence="vlc")),
    ("SimCLR · AU", "simclr", dict(objective="au")),
    ("MoCo v2 · InfoNCE", "moco", dict(objective="infonce")),
    ("MoCo v2 · ML-CPC α 10→0.1", "moco", dict(objective="ml_cpc", alpha=10.0, alpha_end=0.1)),
    ("MoCo v3 · InfoNCE · 1-D CNN", "mocov3", dict(objective="infonce")),  # named: --configs can skip the ViT
    ("MoCo v3 · InfoNCE · ViT", "mocov3", dict(objective="infonce", encoder="vit")),
    ("BYOL", "byol", {}),
    ("Barlow Twins", "barlow_twins", {}),
]
# part 2, InfoCL on SimCLR-InfoNCE, BYOL and Barlow Twins with the tag transfer task.
INFOCL_METHODS: list[tuple[str, str, dict[str, Any]]] = [
    ("SimCLR", "simclr", dict(objective="infonce")), ("BYOL", "byol", {}), ("Barlow Twins", "barlow_twins", {})]
INFOCL: list[tuple[str, str, dict[str, Any]]] = [
    (f"InfoCL · {name} · {reg}", method, dict(options, regularizer=reg, lam=1.0))
    for name, method, options in INFOCL_METHODS for reg in ("none", "rc", "lbe")
]


# ------------------------------------------------------------------------------------ tagged data


def tag_patterns(length: int = TAG_LENGTH, num_tags: int = NUM_TAGS, amplitude: float = 1.5) -> Tensor:
    """[num_tags, length]: tag k is a Gaussian bump (width 0.6 steps) centred at step 2k + 0.5."""
    t = torch.arange(length, dtype=torch.float32)
    centres = 2.0 * torch.arange(num_tags, dtype=torch.float32) + 0.5
    return amplitude * torch.exp(-0.5 * ((t[None] - centres[:, None]) / 0.6) ** 2)


def tagged_splits(splits: DatasetSplits, seed: int = 0) -> tuple[DatasetSplits, DatasetSplits]:
    """MNIST-1D with a random tag appended to every signal: (source splits with digit labels,
    transfer splits with the joint label 4·digit + tag). Tags are drawn from ``seed``, independently of the digit."""
    g = torch.Generator().manual_seed(seed)
    patterns = tag_patterns()
    tags_train = torch.randint(0, NUM_TAGS, (len(splits.x_train),), generator=g)
    tags_test = torch.randint(0, NUM_TAGS, (len(splits.x_test),), generator=g)
    x_train = torch.cat([splits.x_train, patterns[tags_train]], dim=1)
    x_test = torch.cat([splits.x_test, patterns[tags_test]], dim=1)
    source = DatasetSplits(x_train, splits.y_train, x_test, splits.y_test, splits.num_classes, "mnist1d-tagged")
    transfer = DatasetSplits(x_train, splits.y_train * NUM_TAGS + tags_train, x_test, splits.y_test * NUM_TAGS + tags_test,
                             splits.num_classes * NUM_TAGS, "mnist1d-tagged-joint")
    return source, transfer


class TagSwapAugment(nn.Module):
    """Augments the signal part with :class:`~infobound.data.SignalAugment` and replaces the tag part by
    a tag drawn at random for each view: the tag is in every view and shared by none."""

    def __init__(self, **signal_options: Any) -> None:
        super().__init__()
        self.signal = SignalAugment(**signal_options)
        self.register_buffer("patterns", tag_patterns(), persistent=False)

    def forward(self, x: Tensor, generator: torch.Generator | None = None) -> Tensor:
        signal = self.signal(x[:, :-TAG_LENGTH], generator)
        tags = torch.randint(0, NUM_TAGS, (len(x),), device=x.device, generator=generator)
        return torch.cat([signal, self.patterns.to(x.device)[tags]], dim=1)


# ------------------------------------------------------------------------------------------- runs


@dataclass
class RunSpec:
    part: str  # "objectives" or "infocl"
    label: str
    method: str
    options: dict[str, Any]
    seed: int
    out: Path
    epochs: int
    batch_size: int


def _run_one(spec: RunSpec, splits: DatasetSplits, transfer: DatasetSplits | None) -> dict[str, Any]:
    """One pre-training run in its own process (one thread); errors are returned, not raised."""
    from ..eval import extract_features, knn_accuracy, linear_probe
    from ..methods import check_finished_run, load_method, train_and_evaluate

    torch.set_num_threads(1)
    for name in ("lightning.pytorch", "lightning.fabric"):  # after the import: Lightning sets INFO on import
        logging.getLogger(name).setLevel(logging.ERROR)
    row: dict[str, Any] = {"part": spec.part, "config": spec.label, "seed": spec.seed, "error": None}
    done = spec.out / "metrics.json"
    try:
        # `infobound probe` can reload plain MNIST-1D; the tagged variant exists only inside this bench.
        reload = {"name": "mnist1d", "seed": 0, "num_samples": len(splits.x_train) + len(splits.x_test)}
        run = dict(method=spec.method, epochs=spec.epochs, batch_size=spec.batch_size, seed=spec.seed,
                   augment=TagSwapAugment() if transfer is not None else None,
                   data_options=reload if transfer is None else {"name": splits.name}, **spec.options)
        if done.exists():
            check_finished_run(splits, spec.out, **run)  # a run made before a default changed is not reused
            metrics = read_json(done)
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # Lightning's hints about workers and log intervals, per run
                metrics = train_and_evaluate(splits, spec.out, resume=True, **run)
            if transfer is not None:
                encoder = load_method(spec.out / "model.ckpt").encoder
                train, test = extract_features(encoder, transfer.x_train), extract_features(encoder, transfer.x_test)
                metrics.update(
                    transfer_linear_acc=linear_probe(train, transfer.y_train, test, transfer.y_test),
                    transfer_knn_acc=knn_accuracy(train, transfer.y_train, test, transfer.y_test),
                    tag_linear_acc=linear_probe(train, transfer.y_train % NUM_TAGS, test, transfer.y_test % NUM_TAGS))
                write_json(done, metrics)
        row.update({k: metrics.get(k) for k in ("linear_acc", "knn_acc", "few_label_acc", "online_probe_acc",
                                                "mi_lower_bound", "mi_ceiling", "train_seconds",
                                                "transfer_linear_acc", "transfer_knn_acc", "tag_linear_acc")})
    except Exception:  # noqa: BLE001 — one failing run must not stop the bench
        row["error"] = traceback.format_exc(limit=8)
    return row


def _pm(mean: float | None, std: float | None, precision: int = 3) -> str:
    return "—" if mean is None else f"{mean:.{precision}f} ± {std:.{precision}f}"


def _table(summary: list[dict[str, Any]], columns: dict[str, str], precision: int = 3) -> str:
    cells = []
    for s in summary:
        row = {"config": s["config"], "runs": s["runs"]}
        for key, title in columns.items():
            row[title] = (f"{s[key]:.0f}" if key == "train_seconds" and s[key] is not None
                          else _pm(s[key], s[key + "_std"], 2 if key == "mi_lower_bound" else precision))
        cells.append(row)
    return format_table(cells, ["config", "runs", *columns.values()])


def _plot(objectives: list[dict[str, Any]], infocl: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(16, 4.8), gridspec_kw={"width_ratios": [len(objectives) or 1,
                                                                                    max(len(infocl), 2)]})
    panels = [(axes[0], objectives, [("linear_acc", "linear probe"), ("knn_acc", "kNN (k=20)")], "objectives (digit, test)"),
              (axes[1], infocl, [("linear_acc", "source: digit, linear"), ("transfer_linear_acc", "transfer: digit×tag, linear"),
                                 ("tag_linear_acc", "unshared tag alone, linear")], "InfoCL: tag transfer task")]
    for ax, summary, bars, title in panels:
        x = np.arange(len(summary))
        width = 0.8 / len(bars)
        for i, (key, name) in enumerate(bars):
            means = [s[key] if s[key] is not None else 0.0 for s in summary]
            stds = [s[key + "_std"] or 0.0 for s in summary]
            ax.bar(x + (i - (len(bars) - 1) / 2) * width, means, width, yerr=stds, capsize=2, label=name)
        ax.set_xticks(x)
        ax.set_xticklabels([s["config"].split(" · ", 1)[-1] if summary is infocl else s["config"] for s in summary],
                           rotation=35, ha="right", fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_ylabel("test accuracy")
        ax.set_title(title, fontsize=10)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=7, loc="upper right")  # above the bars (accuracies stay below 0.8 here)
    fig.suptitle("MNIST-1D self-supervised pre-training, same budget per row: mean ± std over seeds", fontsize=11)
    save_figure(fig, path)


def main(epochs: int = 30, seeds: int = 3, batch_size: int = 128, num_samples: int = 10000, workers: int = 2,
         parts: list[str] | None = None, configs: list[str] | None = None, loss_speed: bool = True,
         loss_batch_sizes: list[int] | None = None, quick: bool = False,
         out: Path = Path("results/ssl"), resume: bool = True, overwrite: bool = False,
         progress: bool | None = None) -> dict[str, Any]:
    """Contrastive objectives and InfoCL regularisers on MNIST-1D (see the module docstring).

    Args:
        epochs: training epochs of every run.
        seeds: training seeds 0 .. seeds-1 per config (the data is the same for all: data seed 0).
        batch_size: batch size of every run. 128 (≈ 1,860 steps at 30 epochs) was chosen by measurement:
            against 256 every part-1 row held or gained at three seeds, and the momentum-encoder
            methods (BYOL, MoCo v3), which lag at ≈ 930 steps, reach 0.70 only at 128 (docs/ssl.md).
        num_samples: MNIST-1D size (80 % train / 20 % test).
        workers: runs in parallel, one process with one thread each.
        parts: "objectives" and/or "infocl" (default both).
        configs: only the configs whose label contains one of these strings (case-insensitive).
        loss_speed: also compare our loss modules with pytorch-metric-learning's NTXentLoss.
        loss_batch_sizes: batch sizes of that comparison (default 128 … 2048).
        quick: a smoke run: 2 epochs, 1 seed, 2,000 samples, loss sizes 64 … 256.
        out: output folder: runs/<config>/seed<k>/ and ssl.json, ssl.md, ssl.png, loss_speed.*.
        resume: reuse the finished runs in ``out`` and continue interrupted ones (refused when made
            with another batch size; a run's folder name carries its config, epochs and data size).
        overwrite: delete a non-empty ``out`` first and start over.
        progress: show a progress bar over the runs (default: on a terminal).
    """
    if quick:
        epochs, seeds, num_samples = min(epochs, 2), 1, min(num_samples, 2000)
        loss_batch_sizes = loss_batch_sizes or [64, 128, 256]
    parts = parts or ["objectives", "infocl"]
    unknown = set(parts) - {"objectives", "infocl"}
    if unknown:
        raise ValueError(f"unknown part(s) {sorted(unknown)}; expected objectives and/or infocl")
    out = Path(out)
    prepare_out(out, {"bench": "ssl", "batch_size": batch_size}, resume=resume, overwrite=overwrite)
    started = time.perf_counter()
    data = load_dataset("mnist1d", num_samples=num_samples, seed=0)
    source, transfer = tagged_splits(data, seed=0)

    def keep(label: str) -> bool:
        return not configs or any(c.lower() in label.lower() for c in configs)

    specs: list[RunSpec] = []
    for part, table in (("objectives", OBJECTIVES), ("infocl", INFOCL)):
        if part not in parts:
            continue
        for label, method, options in table:
            if not keep(label):
                continue
            slug = "".join(ch if ch.isalnum() else "_" for ch in label.lower()).strip("_")
            for seed in range(seeds):
                specs.append(RunSpec(part, label, method, options, seed, out / "runs" / f"{slug}_e{epochs}_n{num_samples}"
                                     / f"seed{seed}", epochs, batch_size))
    print(f"bench ssl: {len(specs)} runs ({epochs} epochs, batch {batch_size}, MNIST-1D {num_samples}), "
          f"{workers} worker(s), one thread each", flush=True)
    args = [(s, data if s.part == "objectives" else source, None if s.part == "objectives" else transfer) for s in specs]
    rows = run_all(_run_one, args, workers=workers, describe=_describe, desc="bench ssl", progress=progress)
    order = {(s.label, s.seed): i for i, s in enumerate(specs)}
    rows.sort(key=lambda r: order[(r["config"], r["seed"])])

    columns = {"linear_acc": "linear", "knn_acc": "kNN", "few_label_acc": "5-label", "mi_lower_bound": "MI bound (nats)",
               "train_seconds": "s/run"}
    obj_labels = list(dict.fromkeys(s.label for s in specs if s.part == "objectives"))
    icl_labels = list(dict.fromkeys(s.label for s in specs if s.part == "infocl"))
    obj_summary = summarise(rows, obj_labels, list(columns))
    icl_summary = summarise(rows, icl_labels, [*columns, "transfer_linear_acc", "transfer_knn_acc", "tag_linear_acc"])
    header = (f"MNIST-1D ({num_samples} samples, {len(data.x_train)} train / {len(data.x_test)} test), 1-D CNN, "
              f"{epochs} epochs, batch {batch_size}, seeds 0..{seeds - 1}; test accuracy mean ± std over seeds")
    sections = [header]
    raw = _raw_baselines(data, transfer)
    if obj_summary:
        sections.append("Objectives (probes on frozen features; chance 0.10; raw signal: linear "
                        f"{raw['linear_acc']:.3f}, kNN {raw['knn_acc']:.3f})\n\n" + _table(obj_summary, columns))
    if icl_summary:
        icl_columns = {"linear_acc": "source linear", "knn_acc": "source kNN", "transfer_linear_acc": "transfer linear",
                       "transfer_knn_acc": "transfer kNN", "tag_linear_acc": "tag alone, linear", "train_seconds": "s/run"}
        sections.append("InfoCL (RC / LBE, λ = 1), tag transfer task (source: digit, 10 classes; transfer: digit × "
                        f"unshared tag, 40 classes, chance 0.025; raw tagged input: transfer linear "
                        f"{raw['transfer_linear_acc']:.3f}, kNN {raw['transfer_knn_acc']:.3f})\n\n"
                        + _table(icl_summary, icl_columns))
    failures = [r for r in rows if r["error"]]
    if failures:
        sections.append("Failed runs:\n" + "\n".join(f"- {r['config']} seed {r['seed']}: "
                                                     f"{r['error'].strip().splitlines()[-1]}" for r in failures))
    speed_rows = None
    if loss_speed:
        from .loss_speed import compare_loss_speed, with_readable_ratios

        speed_rows = compare_loss_speed(loss_batch_sizes or [128, 256, 512, 1024, 2048])
        sections.append("Loss forward + backward, one thread, d = 128 (ratios: ours ÷ pytorch-metric-learning "
                        "NTXentLoss at the same batch)\n\n" + format_table(
                            with_readable_ratios(speed_rows), ["batch", "implementation", "ms", "peak_mb", "time_ratio", "memory_ratio", "note"]))
    text = "\n\n".join(sections)
    print("\n" + text, flush=True)
    results = {"settings": {"epochs": epochs, "seeds": seeds, "batch_size": batch_size, "num_samples": num_samples,
                            "workers": workers, "quick": quick},
               "seconds": time.perf_counter() - started, "raw_baselines": raw,
               "objectives": obj_summary, "infocl": icl_summary, "runs": rows, "loss_speed": speed_rows}
    write_json(out / "ssl.json", results)
    write_text(out / "ssl.md", text + "\n")
    _plot(obj_summary, icl_summary, out / "ssl.png")
    print(f"\nwrote {out / 'ssl.json'}, ssl.md and ssl.png ({results['seconds']:.0f} s)", flush=True)
    return results


def _raw_baselines(data: DatasetSplits, transfer: DatasetSplits) -> dict[str, float]:
    """Probes on the raw inputs: the bar a representation has to clear."""
    from ..eval import knn_accuracy, linear_probe

    t = transfer
    return {"linear_acc": linear_probe(data.x_train, data.y_train, data.x_test, data.y_test),
            "knn_acc": knn_accuracy(data.x_train, data.y_train, data.x_test, data.y_test),
            "transfer_linear_acc": linear_probe(t.x_train, t.y_train, t.x_test, t.y_test),
            "transfer_knn_acc": knn_accuracy(t.x_train, t.y_train, t.x_test, t.y_test)}


def _describe(row: dict[str, Any]) -> str:
    status = (f"linear {row['linear_acc']:.3f}  kNN {row['knn_acc']:.3f}  {row['train_seconds']:.0f} s"
              if row["error"] is None else "FAILED: " + row["error"].strip().splitlines()[-1])
    return f"{row['config']} seed {row['seed']}: {status}"


__all__ = ["INFOCL", "INFOCL_METHODS", "OBJECTIVES", "TagSwapAugment", "main", "summarise", "tag_patterns", "tagged_splits"]
