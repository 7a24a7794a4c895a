"""Pick SSL defaults by measurement: MNIST-1D (SimCLR settings) and Fashion-MNIST (grayscale augmentation,
then SSL features against raw pixels). Numbers and conclusions: docs/ssl.md, "Defaults by measurement".

Stages (each run is one process with one torch thread; finished runs are reused from ``--out``):

- ``mnist1d-screen``: SimCLR-InfoNCE, 15 epochs, seed 0, one setting changed at a time from the
  *old* defaults (no shear): temperature, batch, learning rate, projector, and each augmentation step;
- ``mnist1d-confirm``: the library's current defaults at ``bench ssl``'s budget (30 epochs, batch
  256) for InfoNCE, ML-CPC α = 0.1 and ML-CPC α 10 → 0.1, seeds ``--seeds``;
- ``byol-screen``: BYOL at ``bench ssl``'s budget (30 epochs), one setting changed from its defaults,
  seeds ``--seeds``;
- ``mocov3-screen``: MoCo v3 (1-D CNN, InfoNCE) at ``bench ssl``'s budget, one setting changed from its
  defaults, seeds ``--seeds``;
- ``fashion-screen``: grayscale augmentations on Fashion-MNIST (3,000 train / 2,000 test, stratified),
  ``examples/own_encoder.py``'s SmallCNN (width 16), 8 epochs, plus raw-pixel and random-encoder probes;
- ``fashion-check``: pre-training on 10,286 images (``num_samples`` 12,000) with the current defaults,
  linear probe of the features vs of the raw pixels and of a randomly initialised encoder, same split.

    nice -n 10 python benchmarks/ssl_defaults.py --stage mnist1d-screen --out results/ssl_defaults
    nice -n 10 python benchmarks/ssl_defaults.py --stage mnist1d-confirm --seeds 0 1 2 --out results/ssl_defaults
    nice -n 10 python benchmarks/ssl_defaults.py --stage byol-screen --seeds 1 --workers 1 --out results/ssl_defaults
    nice -n 10 python benchmarks/ssl_defaults.py --stage fashion-screen --data_dir /usr/share/datasets/fashion-mnist
    nice -n 10 python benchmarks/ssl_defaults.py --stage fashion-check --epochs 15 --data_dir /usr/share/datasets/fashion-mnist

Writes ``OUT/<stage>.json``, ``OUT/<stage>.md`` and ``OUT/<stage>.png``. Each run records its wall
time and its process CPU time (what it costs on a quiet core; the machine is shared).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # examples.own_encoder

OLD = dict(shear=0.0)  # the augmentation before this measurement
SCREEN: dict[str, dict[str, Any]] = {
    "base": dict(augment_kwargs=OLD),
    "t0.05": dict(temperature=0.05, augment_kwargs=OLD),
    "t0.2": dict(temperature=0.2, augment_kwargs=OLD),
    "t0.5": dict(temperature=0.5, augment_kwargs=OLD),
    "b128": dict(batch_size=128, augment_kwargs=OLD),
    "lr3e-3": dict(lr=3e-3, augment_kwargs=OLD),
    "proj128": dict(proj_dim=128, proj_hidden=512, augment_kwargs=OLD),
    "shift4": dict(augment_kwargs={**OLD, "max_shift": 4}),
    "shift14": dict(augment_kwargs={**OLD, "max_shift": 14}),
    "shift20": dict(augment_kwargs={**OLD, "max_shift": 20}),
    "noise0.3": dict(augment_kwargs={**OLD, "noise": 0.3}),
    "nomask": dict(augment_kwargs={**OLD, "mask_prob": 0.0}),
    "maskp1": dict(augment_kwargs={**OLD, "mask_prob": 1.0}),
    "mask0.2": dict(augment_kwargs={**OLD, "mask_fraction": 0.2}),
    "shear0.5": dict(augment_kwargs={"shear": 0.5}),
    "shear2": dict(augment_kwargs={"shear": 2.0}),
    "shear3": dict(augment_kwargs={"shear": 3.0}),
    "shear4": dict(augment_kwargs={"shear": 4.0}),
    "shear2_stretch": dict(augment_kwargs={"shear": 2.0, "stretch": (0.8, 1.25)}),
    "shear2_lr3e-3": dict(lr=3e-3, augment_kwargs={"shear": 2.0}),
}
CONFIRM: dict[str, dict[str, Any]] = {
    "dflt_infonce": dict(objective="infonce"),
    "dflt_mlcpc": dict(objective="ml_cpc", alpha=0.1),
    "dflt_mlcpc_sched": dict(objective="ml_cpc", alpha=10.0, alpha_end=0.1),
}
# BYOL at bench ssl's budget, one setting changed from its defaults (1024 -> 256, Adam 3e-3, tau_base 0.98)
BYOL_SCREEN: dict[str, dict[str, Any]] = {
    "byol_default": dict(method="byol"),
    "byol_separate_views": dict(method="byol", separate_views=True),  # encoder BatchNorm per view (official)
    "byol_tau0.97": dict(method="byol", momentum=0.97),
    "byol_tau0.95": dict(method="byol", momentum=0.95),
    "byol_wd1e-5": dict(method="byol", weight_decay=1e-5),  # weight decay matters to BYOL (Tian et al. 2021)
    "byol_wd1e-4": dict(method="byol", weight_decay=1e-4),
    "byol_separate_views_tau0.97": dict(method="byol", separate_views=True, momentum=0.97),  # the two best above
    "byol_b128": dict(method="byol", batch_size=128),  # twice the optimiser steps at the same epochs
    "byol_lr5e-3": dict(method="byol", lr=5e-3),
    "byol_proj2048": dict(method="byol", proj_hidden=2048),
}
# MoCo v3 with the 1-D CNN at bench ssl's budget, one setting changed from its defaults (InfoNCE tau 0.1,
# momentum 0.99, projector 256 -> 64, Adam 1e-3)
MOCOV3_SCREEN: dict[str, dict[str, Any]] = {
    "mocov3_default": dict(method="mocov3", objective="infonce"),
    "mocov3_b128": dict(method="mocov3", objective="infonce", batch_size=128),
    "mocov3_t0.2": dict(method="mocov3", objective="infonce", temperature=0.2),  # the paper's ViT value
    "mocov3_t0.5": dict(method="mocov3", objective="infonce", temperature=0.5),
    "mocov3_lr3e-3": dict(method="mocov3", objective="infonce", lr=3e-3),
    "mocov3_lr5e-3": dict(method="mocov3", objective="infonce", lr=5e-3),
    "mocov3_m0.98": dict(method="mocov3", objective="infonce", momentum=0.98),
    "mocov3_b128_lr3e-3": dict(method="mocov3", objective="infonce", batch_size=128, lr=3e-3),  # the two best
}
FASHION_AUG: dict[str, dict[str, Any]] = {
    "crop0.5_noflip": dict(crop_scale=(0.5, 1.0), flip=False, jitter=0.0),
    "crop0.5_flip": dict(crop_scale=(0.5, 1.0), flip=True, jitter=0.0),
    "crop0.2_flip": dict(crop_scale=(0.2, 1.0), flip=True, jitter=0.0),
    "crop0.2_flip_jitter": dict(crop_scale=(0.2, 1.0), flip=True, jitter=0.4),
}


def _quiet() -> None:
    torch.set_num_threads(1)
    for name in ("lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _train(splits: Any, out: Path, epochs: int, seed: int, options: dict[str, Any], encoder: Any = None) -> dict[str, Any]:
    """One run (reused when ``out/metrics.json`` exists), with its process CPU time."""
    from infobound.methods import train_and_evaluate
    from infobound.results import read_json, write_json

    if (out / "metrics.json").exists():
        return read_json(out / "metrics.json")
    opts = dict(options)
    batch = opts.pop("batch_size", 256)
    cpu = time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = train_and_evaluate(splits, out, epochs=epochs, batch_size=batch, seed=seed, few_label_per_class=0,
                               encoder=encoder, **opts)
    m["cpu_seconds"] = time.process_time() - cpu
    write_json(out / "metrics.json", m)
    return m


def _mnist1d_run(job: tuple[str, dict[str, Any], int, int, str]) -> dict[str, Any]:
    from infobound.data import load_dataset

    _quiet()
    name, options, epochs, seed, out = job
    m = _train(load_dataset("mnist1d", num_samples=10000, seed=0), Path(out) / f"{name}_e{epochs}_s{seed}", epochs,
               seed, options)
    row = {"config": name, "epochs": epochs, "seed": seed, "linear": m["linear_acc"], "kNN": m["knn_acc"],
           "wall_s": m["train_seconds"], "cpu_s": m.get("cpu_seconds")}
    print(row, flush=True)
    return row


def _fashion(data_dir: str, train: int | None, test: int | None, num_samples: int | None) -> Any:
    from infobound.data import DatasetSplits, load_dataset, stratified_indices

    if num_samples is not None:
        return load_dataset("fashion_mnist", data_dir=data_dir, num_samples=num_samples, seed=0)
    full = load_dataset("fashion_mnist", data_dir=data_dir)
    tr, te = stratified_indices(full.y_train, train, 0), stratified_indices(full.y_test, test, 0)
    return DatasetSplits(full.x_train[tr], full.y_train[tr], full.x_test[te], full.y_test[te], 10, "fashion_mnist",
                         full.classes)


def probe_baselines(splits: Any, width: int) -> list[dict[str, Any]]:
    """Linear probes on raw pixels and on a randomly initialised SmallCNN, same split."""
    from examples.own_encoder import SmallCNN
    from infobound.eval import extract_features, linear_probe

    flat = lambda x: x.reshape(len(x), -1).float() / 255.0  # noqa: E731
    torch.manual_seed(0)
    enc = SmallCNN(splits.input_shape, width=width)
    return [{"config": "raw pixels", "linear": linear_probe(flat(splits.x_train), splits.y_train, flat(splits.x_test),
                                                             splits.y_test)},
            {"config": "random SmallCNN (no training)",
             "linear": linear_probe(extract_features(enc, splits.x_train), splits.y_train,
                                    extract_features(enc, splits.x_test), splits.y_test)}]


def _fashion_run(splits: Any, name: str, out: Path, epochs: int, width: int, augment: dict[str, Any] | None) -> dict:
    from examples.own_encoder import SmallCNN

    torch.manual_seed(0)
    m = _train(splits, out / f"{name}_e{epochs}", epochs, 0, {"augment_kwargs": augment} if augment else {},
               encoder=SmallCNN(splits.input_shape, width=width))
    return {"config": name, "epochs": epochs, "linear": m["linear_acc"], "kNN": m["knn_acc"],
            "wall_s": m["train_seconds"], "cpu_s": m.get("cpu_seconds")}


def _report(stage: str, rows: list[dict[str, Any]], header: str, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from infobound.results import format_table, save_figure, write_json, write_text

    columns = [c for c in ("config", "epochs", "seed", "linear", "kNN", "wall_s", "cpu_s") if any(c in r for r in rows)]
    text = f"{header}\n\n{format_table(rows, columns, precision=3)}"
    print(text, flush=True)
    write_json(out / f"{stage}.json", {"stage": stage, "header": header, "rows": rows})
    write_text(out / f"{stage}.md", text + "\n")
    fig, ax = plt.subplots(figsize=(max(6, 0.45 * len(rows)), 4))
    labels = [f"{r['config']}" + (f" s{r['seed']}" if "seed" in r else "") for r in rows]
    ax.bar(range(len(rows)), [r["linear"] for r in rows], color="tab:blue", label="linear probe")
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=7)
    ax.set_ylim(min(r["linear"] for r in rows) - 0.05, max(r["linear"] for r in rows) + 0.03)
    ax.set_ylabel("test accuracy")
    ax.set_title(header[:110], fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    save_figure(fig, out / f"{stage}.png")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stage", required=True, choices=("mnist1d-screen", "mnist1d-confirm", "byol-screen", "mocov3-screen",
                                                           "fashion-screen", "fashion-check"))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=None, help="default: 15 / 30 / 8 / 15 by stage")
    parser.add_argument("--configs", nargs="+", default=None, help="a subset of the stage's configs")
    parser.add_argument("--data_dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--width", type=int, default=16, help="SmallCNN width (Fashion-MNIST stages)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("results/ssl_defaults"))
    args = parser.parse_args(argv)
    _quiet()
    if args.stage.startswith("mnist1d") or args.stage in ("byol-screen", "mocov3-screen"):
        table = {"mnist1d-screen": SCREEN, "mnist1d-confirm": CONFIRM, "byol-screen": BYOL_SCREEN,
                 "mocov3-screen": MOCOV3_SCREEN}[args.stage]
        epochs = args.epochs or (15 if args.stage == "mnist1d-screen" else 30)
        names = args.configs or list(table)
        jobs = [(n, table[n], epochs, s, str(args.out / "mnist1d")) for n in names for s in args.seeds]
        import multiprocessing as mp

        with ProcessPoolExecutor(args.workers, mp_context=mp.get_context("spawn")) as pool:
            rows = list(pool.map(_mnist1d_run, jobs))
        what = {"mnist1d-screen": "SimCLR; one setting changed from the old defaults (no shear)",
                "mnist1d-confirm": "SimCLR; current defaults", "byol-screen": "BYOL; one setting changed from its defaults",
                "mocov3-screen": "MoCo v3 (1-D CNN, InfoNCE); one setting changed from its defaults"}
        header = (f"MNIST-1D (8,000 train / 2,000 test), 1-D CNN, batch 256 unless noted, {epochs} epochs; "
                  f"{what[args.stage]}")
    elif args.stage == "fashion-screen":
        splits = _fashion(args.data_dir, 3000, 2000, None)
        epochs = args.epochs or 8
        rows = probe_baselines(splits, args.width) + [
            _fashion_run(splits, n, args.out / "fashion_screen", epochs, args.width, FASHION_AUG[n])
            for n in (args.configs or list(FASHION_AUG))]
        header = (f"Fashion-MNIST, 3,000 train / 2,000 test (stratified), SimCLR-InfoNCE, SmallCNN width {args.width}, "
                  f"{epochs} epochs, batch 256: grayscale augmentations")
    else:
        splits = _fashion(args.data_dir, None, None, 12000)
        epochs = args.epochs or 15
        rows = probe_baselines(splits, args.width) + [
            _fashion_run(splits, "simclr_infonce_default_aug", args.out / "fashion_check", epochs, args.width,
                         None)]
        header = (f"Fashion-MNIST, {len(splits.x_train):,} train / {len(splits.x_test):,} test (num_samples 12,000, "
                  f"stratified), SmallCNN width {args.width}, {epochs} epochs, batch 256; linear probe on the test split")
    _report(args.stage + (f"_e{epochs}" if args.stage == "fashion-check" else ""), rows, header, args.out)


if __name__ == "__main__":
    main()
