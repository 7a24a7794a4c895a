"""Pick the default image augmentation per kind of image (colour / grayscale, small / large) by measurement.

No colour or large image data set is available offline, so both kinds are **synthetic stand-ins built
from Fashion-MNIST** and read back through the real ``image_folder`` loader (Pillow, PNG files):

- *colour* (``colour`` stage, 3 × 28 × 28): every garment gets a random foreground tint and a random
  background tint, RGB uniform in [0, 1]³, at least 0.5 apart (Euclidean) so that the shape stays
  visible; the tints are drawn from ``--seed`` independently of the label, so colour is a nuisance that
  a good representation should ignore (:func:`write_coloured_fashion`);
- *large* (``large`` stage, 1 × 64 × 64): the grayscale 28 × 28 PNGs read with ``image_size=64``, i.e.
  upsampled by the loader's bilinear resize. The upsampled images hold no detail finer than the
  28 × 28 originals, which is not true of real large photos (STL-10, ImageNet).

Each stage pre-trains ``examples/own_encoder.py``'s SmallCNN (width 16) with SimCLR-InfoNCE under each
candidate augmentation (``COLOUR`` / ``LARGE`` below; batch 256, Adam 1e-3 cosine, τ = 0.1) and probes
the frozen features (linear, kNN) on the test split, next to a linear probe on the raw pixels and on a
randomly initialised SmallCNN of the same split. Conclusions: docs/ssl.md, "Augmentation defaults by
image kind".

    nice -n 10 python benchmarks/image_kinds.py --stage colour --seeds 0 1
    nice -n 10 python benchmarks/image_kinds.py --stage colour --epochs 20 --seeds 0 1 \
        --configs +jitter0.4+gray0.5 +jitter0.4+gray0.2 +jitter0.4
    nice -n 10 python benchmarks/image_kinds.py --stage large --seeds 0
    nice -n 10 python benchmarks/image_kinds.py --stage large --seeds 1 \
        --configs crop0.2+flip+jitter crop0.2+flip+jitter+blur

Generated images go to ``OUT/data/`` (default ``results/image_kinds``, outside git); runs are reused
from ``OUT/<stage>/`` and the tables written to ``OUT/<stage>_e<epochs>_s<seeds>.{json,md,png}``.
One torch thread per process; each run records its process CPU time.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # examples.own_encoder

from ssl_defaults import probe_baselines  # noqa: E402  (this folder is on sys.path when run as a script)

# Candidate augmentations (overrides of infobound.data.build_augmentation's defaults; every candidate
# spells out all of its settings, so the table does not depend on what the default happens to be).
BASE = dict(crop_scale=(0.2, 1.0), flip=True)
COLOUR: dict[str, dict[str, Any]] = {
    "crop+flip": dict(BASE, jitter=0.0, grayscale_prob=0.0, blur_prob=0.0),
    "+jitter0.4": dict(BASE, jitter=0.4, jitter_prob=0.8, grayscale_prob=0.0, blur_prob=0.0),
    "+jitter0.4+gray0.2": dict(BASE, jitter=0.4, jitter_prob=0.8, grayscale_prob=0.2, blur_prob=0.0),  # SimCLR CIFAR
    "+jitter0.8+gray0.2": dict(BASE, jitter=0.8, jitter_prob=0.8, grayscale_prob=0.2, blur_prob=0.0),  # SimCLR s = 1
    "+jitter0.4+gray0.5": dict(BASE, jitter=0.4, jitter_prob=0.8, grayscale_prob=0.5, blur_prob=0.0),
    "+jitter0.8+gray0.5": dict(BASE, jitter=0.8, jitter_prob=0.8, grayscale_prob=0.5, blur_prob=0.0),
}
LARGE: dict[str, dict[str, Any]] = {
    "crop0.2+flip+jitter": dict(BASE, jitter=0.4, jitter_prob=0.8, blur_prob=0.0),  # the small-grayscale default
    "crop0.2+flip+jitter+blur": dict(BASE, jitter=0.4, jitter_prob=0.8, blur_prob=0.5),  # SimCLR ImageNet's blur
    "crop0.08+flip+jitter+blur": dict(BASE, crop_scale=(0.08, 1.0), jitter=0.4, jitter_prob=0.8, blur_prob=0.5),
    "crop0.5+flip+jitter+blur": dict(BASE, crop_scale=(0.5, 1.0), jitter=0.4, jitter_prob=0.8, blur_prob=0.5),
}
STAGES = {"colour": (COLOUR, None), "large": (LARGE, 64), "colour-large": (COLOUR, 64)}
MIN_TINT_DISTANCE = 0.5


def _folder_names(classes: Sequence[str]) -> list[str]:
    """Class folder names that sort in label order and are safe as paths ('T-shirt/top' has a slash)."""
    safe = ["".join(c if c.isalnum() or c in "-_" else "_" for c in name) for name in classes]
    return [f"{i:02d}_{name}" for i, name in enumerate(safe)]


def random_tints(n: int, seed: int, min_distance: float = MIN_TINT_DISTANCE) -> tuple[np.ndarray, np.ndarray]:
    """Foreground and background RGB tints ``[n, 3]`` in [0, 1], at least ``min_distance`` apart, from ``seed``."""
    rng = np.random.default_rng(seed)
    fg, bg = rng.random((n, 3)), rng.random((n, 3))
    while True:  # redraw the pairs that are too close (about a fifth at 0.5), so the garment stays visible
        close = np.linalg.norm(fg - bg, axis=1) < min_distance
        if not close.any():
            return fg, bg
        fg[close], bg[close] = rng.random((int(close.sum()), 3)), rng.random((int(close.sum()), 3))


def colourise(gray: np.ndarray, fg: np.ndarray, bg: np.ndarray) -> np.ndarray:
    """uint8 ``[N, H, W]`` grayscale → uint8 ``[N, H, W, 3]``: ``bg + (fg − bg) · gray / 255`` per image,
    so ink takes the foreground tint and paper the background tint."""
    m = gray.astype(np.float32)[..., None] / 255.0
    rgb = bg[:, None, None, :] + (fg - bg)[:, None, None, :] * m
    return np.clip(np.rint(rgb * 255.0), 0, 255).astype(np.uint8)


def write_coloured_fashion(root: str | Path, x: np.ndarray, y: np.ndarray, classes: Sequence[str], seed: int) -> None:
    """Write coloured copies of uint8 ``[N, H, W]`` images as ``root/<class>/<i>.png`` (RGB), tints from ``seed``."""
    write_folder(root, colourise(x, *random_tints(len(x), seed)), y, classes)


def write_folder(root: str | Path, x: np.ndarray, y: np.ndarray, classes: Sequence[str]) -> None:
    """uint8 ``[N, H, W]`` (grayscale) or ``[N, H, W, 3]`` (RGB) as PNGs under ``root/<class>/``."""
    from PIL import Image

    names = _folder_names(classes)
    for name in names:
        (Path(root) / name).mkdir(parents=True, exist_ok=True)
    for i, (img, label) in enumerate(zip(x, y)):
        Image.fromarray(img, "RGB" if img.ndim == 3 else "L").save(Path(root) / names[int(label)] / f"{i:05d}.png")


def make_folders(data_dir: str, out: Path, train: int, test: int, seed: int) -> dict[str, Path]:
    """Stratified Fashion-MNIST subsets as two ``image_folder`` trees (``train/`` + ``test/``): ``gray`` and
    ``colour``. Written once into a temporary folder and renamed, so a killed run leaves nothing half-written."""
    from infobound.data import load_dataset, stratified_indices

    folders = {kind: out / "data" / f"fashion_{kind}_{train}_{test}_s{seed}" for kind in ("gray", "colour")}
    missing = [k for k, p in folders.items() if not p.is_dir()]
    if not missing:
        return folders
    full = load_dataset("fashion_mnist", data_dir=data_dir)
    parts = {"train": (full.x_train, full.y_train, stratified_indices(full.y_train, train, seed)),
             "test": (full.x_test, full.y_test, stratified_indices(full.y_test, test, seed))}
    for kind in missing:
        tmp = folders[kind].with_name(folders[kind].name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        for offset, (split, (x, y, idx)) in enumerate(parts.items()):
            xs, ys = x[idx, 0].numpy(), y[idx].numpy()
            if kind == "colour":  # a different tint stream per split
                write_coloured_fashion(tmp / split, xs, ys, full.classes, seed=1000 * seed + offset)
            else:
                write_folder(tmp / split, xs, ys, full.classes)
        os.replace(tmp, folders[kind])
    return folders


def _quiet() -> None:
    torch.set_num_threads(1)
    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _run(splits: Any, name: str, augment: dict[str, Any], out: Path, epochs: int, seed: int, width: int) -> dict:
    """One SimCLR run (reused when ``out/…/metrics.json`` exists), with its process CPU time."""
    from examples.own_encoder import SmallCNN
    from infobound.methods import train_and_evaluate
    from infobound.results import read_json, write_json

    run = out / f"{name}_e{epochs}_s{seed}"
    if (run / "metrics.json").exists() and "cpu_seconds" in read_json(run / "metrics.json"):
        m = read_json(run / "metrics.json")
    else:
        torch.manual_seed(seed)
        cpu = time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = train_and_evaluate(splits, run, epochs=epochs, batch_size=256, seed=seed, few_label_per_class=0,
                                   encoder=SmallCNN(splits.input_shape, width=width), augment_kwargs=augment,
                                   resume=True)
        m["cpu_seconds"] = time.process_time() - cpu
        write_json(run / "metrics.json", m)
    row = {"config": name, "seed": seed, "linear": m["linear_acc"], "kNN": m["knn_acc"],
           "cpu_s": m.get("cpu_seconds")}
    print(row, flush=True)
    return row


def _summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean over seeds per config (baselines pass through)."""
    out: dict[str, dict[str, Any]] = {}
    for r in rows:
        s = out.setdefault(r["config"], {"config": r["config"], "linear": [], "kNN": [], "cpu_s": []})
        for k in ("linear", "kNN", "cpu_s"):
            if r.get(k) is not None:
                s[k].append(r[k])
    table = []
    for s in out.values():
        row: dict[str, Any] = {"config": s["config"], "runs": max(1, len(s["linear"]))}
        for k in ("linear", "kNN", "cpu_s"):
            if s[k]:
                row[k] = float(np.mean(s[k]))
                if len(s[k]) > 1 and k != "cpu_s":
                    row[k + " ±"] = float(np.std(s[k], ddof=1))
        table.append(row)
    return table


def _report(stage: str, rows: list[dict[str, Any]], header: str, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from infobound.results import format_table, save_figure, write_json, write_text

    summary = _summary(rows)
    columns = [c for c in ("config", "runs", "linear", "linear ±", "kNN", "kNN ±", "cpu_s")
               if any(c in r for r in summary)]
    text = f"{header}\n\n{format_table(summary, columns, precision=3)}"
    print(text, flush=True)
    write_json(out / f"{stage}.json", {"stage": stage, "header": header, "runs": rows, "summary": summary})
    write_text(out / f"{stage}.md", text + "\n")
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(summary)), 4))
    ax.bar(range(len(summary)), [r["linear"] for r in summary], yerr=[r.get("linear ±", 0) for r in summary],
           color="tab:blue", label="linear probe")
    ax.scatter(range(len(summary)), [r.get("kNN", np.nan) for r in summary], color="tab:orange", zorder=3, label="kNN")
    ax.set_xticks(range(len(summary)))
    ax.set_xticklabels([r["config"] for r in summary], rotation=30, ha="right", fontsize=7)
    low = min(min(r["linear"] for r in summary), min(r.get("kNN", 1) for r in summary))
    ax.set_ylim(low - 0.05, max(r["linear"] for r in summary) + 0.03)
    ax.set_ylabel("test accuracy")
    ax.set_title(header[:120], fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7)
    save_figure(fig, out / f"{stage}.png")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True, choices=tuple(STAGES))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--configs", nargs="+", default=None, help="a subset of the stage's candidates")
    parser.add_argument("--train", type=int, default=3000, help="training images (stratified)")
    parser.add_argument("--test", type=int, default=2000, help="test images (stratified)")
    parser.add_argument("--data_seed", type=int, default=0, help="seed of the subset and of the tints")
    parser.add_argument("--data_dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--width", type=int, default=16, help="SmallCNN width")
    parser.add_argument("--out", type=Path, default=Path("results/image_kinds"))
    args = parser.parse_args(argv)
    _quiet()
    from infobound.data import image_kind, load_dataset

    folders = make_folders(args.data_dir, args.out, args.train, args.test, args.data_seed)
    table, size = STAGES[args.stage]
    folder = folders["gray" if args.stage == "large" else "colour"]
    splits = load_dataset("image_folder", data_dir=folder, image_size=size)
    kind = image_kind(splits.input_shape)
    names = args.configs or list(table)
    unknown = sorted(set(names) - set(table))
    if unknown:
        raise SystemExit(f"--configs: unknown {unknown}; the {args.stage} stage has {list(table)}")
    rows = probe_baselines(splits, args.width)
    rows += [_run(splits, n, table[n], args.out / args.stage.replace("-", "_"), args.epochs, s, args.width)
             for n in names for s in args.seeds]
    shape = "×".join(map(str, splits.input_shape))
    header = (f"{args.stage} stand-in ({kind.name}, {shape}; synthetic, from Fashion-MNIST via image_folder): "
              f"{len(splits.x_train):,} train / {len(splits.x_test):,} test, SimCLR-InfoNCE, SmallCNN width "
              f"{args.width}, {args.epochs} epochs, batch 256, seeds {args.seeds}")
    _report(f"{args.stage}_e{args.epochs}_s{''.join(map(str, args.seeds))}", rows, header, args.out)


if __name__ == "__main__":
    main()
