"""Pre-training and probing: the loop around the LightningModules, and the ``pretrain`` / ``probe`` commands.

:func:`train_and_evaluate` fits a method on a :class:`~infobound.data.DatasetSplits` with Lightning
(checkpoints every epoch, resumable), then evaluates the frozen encoder on the test split (linear
probe, weighted kNN, few-label probe, the online probe's test accuracy) and writes
``metrics.json`` and ``model.ckpt``. :func:`pretrain` is the same from a dataset name (the CLI);
:func:`probe` re-evaluates a saved checkpoint.

Reproducibility: weights are initialised after ``seed_everything(seed)``; batches come from a
sampler seeded by (seed, epoch); views from a generator seeded by (seed, step, rank). A run killed
after any epoch and resumed with ``resume=True`` therefore ends with the same weights and metrics as
an uninterrupted one (CPU; GPU kernels may differ in the last bits).
"""

from __future__ import annotations

import json
import time
import warnings
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler, TensorDataset

from infobound.data import DatasetSplits, load_dataset
from infobound.eval import evaluate_features, extract_features

from .base import ContrastiveMethod
from .moco import MoCo
from .simclr import SimCLR

METHODS: dict[str, type[ContrastiveMethod]] = {"simclr": SimCLR, "moco": MoCo}
LAST_CHECKPOINT = "checkpoints/last.ckpt"


def available_methods() -> list[str]:
    return sorted(METHODS)


class EpochSeededSampler(Sampler[int]):
    """A random permutation per epoch, seeded by (seed, epoch): Lightning calls :meth:`set_epoch`, so a
    resumed run draws the same batches as an uninterrupted one without restoring any global RNG."""

    def __init__(self, num_samples: int, seed: int = 0) -> None:
        self.num_samples, self.seed, self.epoch = num_samples, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        return iter(torch.randperm(self.num_samples, generator=g).tolist())

    def __len__(self) -> int:
        return self.num_samples


def build_method(method: str, input_shape: tuple[int, ...], num_classes: int, **options: Any) -> ContrastiveMethod:
    """A LightningModule by name (``simclr``, ``moco``); ``options`` as :class:`~infobound.methods.base.ContrastiveMethod`
    (plus ``queue_size`` / ``momentum`` for MoCo)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {available_methods()}")
    return METHODS[method](input_shape, num_classes, **options)


def evaluate(encoder: nn.Module, splits: DatasetSplits, *, knn_k: int = 20, knn_temperature: float = 0.1,
             few_label_per_class: int = 5, few_label_repeats: int = 5, seed: int = 0,
             probe_head: nn.Module | None = None) -> dict[str, float]:
    """Frozen-encoder metrics on the test split: ``linear_acc``, ``knn_acc``, ``few_label_acc`` ± ``few_label_std``
    (when ``few_label_per_class > 0``) and, given the online probe's head, ``online_probe_acc``; on text
    (wordnet) also ``relatedness`` and its TF-IDF / random-initialisation baselines (:func:`infobound.eval.text.text_metrics`)."""
    train_feats, test_feats = extract_features(encoder, splits.x_train), extract_features(encoder, splits.x_test)
    metrics = evaluate_features(train_feats, splits.y_train, test_feats, splits.y_test, k=knn_k,
                                temperature=knn_temperature, few_label_per_class=few_label_per_class,
                                few_label_repeats=few_label_repeats, seed=seed)
    if probe_head is not None:
        with torch.no_grad():
            logits = probe_head(test_feats.to(next(probe_head.parameters()).device)).cpu()
        metrics["online_probe_acc"] = float((logits.argmax(1) == splits.y_test).float().mean())
    if splits.name == "wordnet":  # text: relatedness, and the TF-IDF / random-initialisation baselines
        from infobound.eval.text import text_metrics

        metrics.update(text_metrics(encoder, splits, train_feats, test_feats, seed=seed))
    return metrics


def _write_json(path: Path, obj: Any) -> None:
    from infobound.results import write_json

    write_json(path, obj)


def train_and_evaluate(splits: DatasetSplits, out: str | Path, *, method: str = "simclr", epochs: int = 30,
                       batch_size: int = 256, seed: int = 0, resume: bool = False, accelerator: str = "cpu",
                       devices: int | str = 1, num_nodes: int = 1, strategy: str = "auto", progress: bool = False,
                       knn_k: int = 20, few_label_per_class: int = 5, augment: nn.Module | None = None,
                       data_options: dict[str, Any] | None = None, callbacks: list[Any] | None = None,
                       **options: Any) -> dict[str, Any]:
    """Pre-train ``method`` on ``splits.x_train`` and evaluate on the test split; write ``out/metrics.json``.

    Args:
        splits: train/test data (labels are used by the online probe and the evaluation only).
        out: run directory: ``checkpoints/`` (every epoch, ``last.ckpt``), ``model.ckpt``, ``metrics.json``,
            ``logs/metrics.csv`` (the MI bound every step; loss, MI bound, probe accuracy per epoch).
        resume: continue from ``out/checkpoints/last.ckpt`` when it exists (a finished run is only re-evaluated).
        augment: replaces the dataset's default augmentation (a module ``(x, generator) -> view``).
        data_options: how to reload the data (``load_dataset`` arguments), stored in the checkpoint for ``probe``.
        callbacks: extra Lightning callbacks.
        options: the module's options (objective, alpha, regularizer, lam, lr, ...; see :func:`build_method`).
    """
    import lightning as L
    from lightning.pytorch.callbacks import ModelCheckpoint
    from lightning.pytorch.loggers import CSVLogger

    if epochs < 1 or batch_size < 2:
        raise ValueError(f"need epochs >= 1 and batch_size >= 2, got {epochs}, {batch_size}")
    if batch_size > len(splits.x_train):
        raise ValueError(f"batch_size {batch_size} exceeds the {len(splits.x_train)} training examples")
    out = Path(out)
    L.seed_everything(seed, workers=True, verbose=False)
    module = build_method(method, splits.input_shape, splits.num_classes, dataset=splits.name, seed=seed, **options)
    module.data_options = dict(data_options or {"name": splits.name})
    if augment is not None:
        module.augment = augment
    dataset = TensorDataset(splits.x_train, splits.y_train)
    loader = DataLoader(dataset, batch_size=batch_size, sampler=EpochSeededSampler(len(dataset), seed), drop_last=True)
    trainer = L.Trainer(
        max_epochs=epochs, accelerator=accelerator, devices=devices, num_nodes=num_nodes, strategy=strategy,
        callbacks=[ModelCheckpoint(dirpath=out / "checkpoints", filename="epoch{epoch:03d}", auto_insert_metric_name=False,
                                   save_last=True, save_top_k=1, every_n_epochs=1), *(callbacks or [])],
        logger=CSVLogger(out, name="logs", version=""), enable_progress_bar=progress, enable_model_summary=False,
        log_every_n_steps=1, num_sanity_val_steps=0)
    ckpt = out / LAST_CHECKPOINT
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
        trainer.fit(module, loader, ckpt_path=str(ckpt) if resume and ckpt.exists() else None)
    train_seconds = time.perf_counter() - started
    trainer.save_checkpoint(out / "model.ckpt")  # collective under DDP: every rank calls it
    if not trainer.is_global_zero:
        return {}
    logged = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("train/")}
    metrics: dict[str, Any] = evaluate(module.encoder, splits, knn_k=knn_k, few_label_per_class=few_label_per_class,
                                       seed=seed, probe_head=module.probe)
    metrics.update({
        "mi_lower_bound": logged.get("train/mi_nats"), "mi_ceiling": logged.get("train/mi_ceiling"),
        "final_loss": logged.get("train/loss"), "epochs": epochs, "train_seconds": train_seconds,
        "method": method, "dataset": splits.name, "seed": seed, "batch_size": batch_size,
        "options": {k: v for k, v in options.items() if isinstance(v, (int, float, str, bool, type(None)))},
        "checkpoint": str(out / "model.ckpt"),
    })
    _write_json(out / "metrics.json", metrics)
    return metrics


def pretrain(method: str = "simclr", objective: str = "infonce", alpha: float | None = None,
             alpha_end: float | None = None, divergence: str | None = None, temperature: float | None = None,
             regularizer: str = "none", lam: float = 1.0, dataset: str = "mnist1d", data_dir: str | None = None,
             num_samples: int = 10000, data_seed: int = 0, encoder: str | None = None, proj_dim: int = 64,
             proj_hidden: int = 256, queue_size: int = 2048, momentum: float = 0.99, batch_size: int = 256,
             epochs: int = 30, lr: float = 1e-3, weight_decay: float = 1e-6, lr_schedule: str = "cosine",
             seed: int = 0, knn_k: int = 20, few_label_per_class: int = 5, out: str = "runs/pretrain",
             resume: bool = False, accelerator: str = "cpu", devices: int | str = 1, num_nodes: int = 1,
             strategy: str = "auto", threads: int | None = 1, progress: bool = False,
             data_kwargs: dict[str, Any] | None = None, encoder_kwargs: dict[str, Any] | None = None,
             views: str | None = None) -> dict[str, Any]:
    """Contrastive pre-training of an encoder, then linear / kNN / few-label probes on the test split.

    Writes OUT/metrics.json (linear_acc, knn_acc, few_label_acc, online_probe_acc, the final MI lower
    bound in nats, ...), OUT/model.ckpt and a checkpoint per epoch under OUT/checkpoints/.

    Args:
        method: simclr or moco.
        objective: infonce, ml_cpc, fmicl or au (MoCo: infonce or ml_cpc).
        alpha: ML-CPC's α (fixed), or the start of the geometric schedule when alpha_end is given.
        alpha_end: end of the geometric α schedule (e.g. --alpha 10 --alpha_end 0.1).
        divergence: f-MICL's f-divergence (kl, js, pearson, sq_hellinger, tsallis, vlc).
        temperature: the objective's temperature (its own default if omitted).
        regularizer: InfoCL regulariser: none, rc or lbe.
        lam: the regulariser's weight λ.
        dataset: mnist1d, digits, cifar10, cifar100, stl10, npy or wordnet (glosses as token ids).
        data_dir: directory of the local-file datasets (cifar10/100, stl10, npy; wordnet: /usr/share/wordnet).
        num_samples: MNIST-1D size (train + test, split 80/20).
        data_seed: seed of data generation / train-test split.
        encoder: mlp, cnn1d, resnet18_cifar, text_transformer or text_cnn (default: by input shape;
            text_transformer for wordnet).
        proj_dim: projection head output width.
        proj_hidden: projection head hidden width.
        queue_size: MoCo's K.
        momentum: MoCo's key-encoder momentum.
        batch_size: batch size per process.
        epochs: training epochs.
        lr: Adam learning rate.
        weight_decay: Adam weight decay.
        lr_schedule: cosine or constant.
        seed: training seed (weights, batches, views).
        knn_k: neighbours of the weighted kNN.
        few_label_per_class: labelled examples per class of the few-label probe (0: skip it).
        out: run directory.
        resume: continue from OUT/checkpoints/last.ckpt if it exists.
        accelerator: cpu, gpu, auto, ...
        devices: devices (processes) per node.
        num_nodes: nodes for multi-node DDP.
        strategy: Lightning strategy, e.g. ddp.
        threads: torch threads per process (None: leave as is).
        progress: show a progress bar.
        data_kwargs: further loader options, e.g. wordnet ``{"num_train": 20000, "max_length": 32}``
            (:func:`infobound.data.wordnet.load_wordnet`).
        encoder_kwargs: encoder options, e.g. ``{"dim": 64, "layers": 1, "dropout": 0.1}``.
        views: text only: dropout (SimCSE's two dropout passes, default) or definition_example.
    """
    if threads is not None:
        torch.set_num_threads(threads)
    data_options: dict[str, Any] = {"name": dataset, "data_dir": data_dir, "seed": data_seed}
    if dataset == "mnist1d":
        data_options["num_samples"] = num_samples
    data_options.update(data_kwargs or {})
    splits = load_dataset(**data_options)
    if views is not None and splits.name != "wordnet":
        raise ValueError(f"`views` is an option of text datasets (wordnet), not of {dataset!r}")
    if splits.name == "wordnet":  # token ids: the text encoder needs the trained tokenizer's vocabulary
        encoder = encoder or splits.default_encoder
        if encoder.startswith("text_"):
            encoder_kwargs = {"vocab_size": splits.vocab_size, **(encoder_kwargs or {})}
    options = dict(objective=objective, alpha=alpha, alpha_end=alpha_end, divergence=divergence, temperature=temperature,
                   regularizer=regularizer, lam=lam, encoder=encoder, proj_dim=proj_dim, proj_hidden=proj_hidden,
                   lr=lr, weight_decay=weight_decay, lr_schedule=lr_schedule, encoder_kwargs=encoder_kwargs,
                   augment_kwargs={"views": views} if views is not None else None)
    if method == "moco":
        options.update(queue_size=queue_size, momentum=momentum)
    metrics = train_and_evaluate(splits, out, method=method, epochs=epochs, batch_size=batch_size, seed=seed,
                                 resume=resume, accelerator=accelerator, devices=devices, num_nodes=num_nodes,
                                 strategy=strategy, progress=progress, knn_k=knn_k,
                                 few_label_per_class=few_label_per_class, data_options=data_options, **options)
    if metrics:
        print(json.dumps({k: metrics[k] for k in ("linear_acc", "knn_acc", "few_label_acc", "online_probe_acc",
                                                  "mi_lower_bound", "train_seconds") if k in metrics}, indent=2))
        if splits.name == "wordnet":
            from infobound.eval.text import text_table

            print(text_table(metrics))
    return metrics


def load_method(checkpoint: str | Path) -> ContrastiveMethod:
    """Rebuild a trained module (encoder, heads, hyper-parameters) from a checkpoint written by :func:`train_and_evaluate`."""
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)
    info = state.get("infobound")
    if not info:
        raise ValueError(f"{checkpoint}: not an infobound pre-training checkpoint (no 'infobound' entry)")
    module = METHODS[info["method"]].load_from_checkpoint(checkpoint, map_location="cpu", weights_only=False)
    module.data_options = info["data"]
    return module


def probe(checkpoint: str | None = None, data_dir: str | None = None, knn_k: int = 20, few_label_per_class: int = 5,
          seed: int = 0, out: str | None = None, threads: int | None = 1) -> dict[str, Any]:
    """Evaluate a saved encoder on its dataset's test split: linear probe, weighted kNN, few-label probe.

    Args:
        checkpoint: a model.ckpt or per-epoch checkpoint written by ``infobound pretrain``.
        data_dir: overrides the data directory stored in the checkpoint (local-file datasets).
        knn_k: neighbours of the weighted kNN.
        few_label_per_class: labelled examples per class of the few-label probe (0: skip it).
        seed: seed of the few-label draws.
        out: also write the metrics to this JSON file.
        threads: torch threads (None: leave as is).
    """
    if checkpoint is None:
        raise ValueError("probe: pass --checkpoint PATH (a model.ckpt written by `infobound pretrain`)")
    if threads is not None:
        torch.set_num_threads(threads)
    module = load_method(checkpoint)
    data = dict(module.data_options)
    if data_dir is not None:
        data["data_dir"] = data_dir
    metrics: dict[str, Any] = evaluate(module.encoder, load_dataset(**data), knn_k=knn_k,
                                       few_label_per_class=few_label_per_class, seed=seed, probe_head=module.probe)
    metrics["checkpoint"] = str(checkpoint)
    if out is not None:
        _write_json(Path(out), metrics)
    print(json.dumps(metrics, indent=2))
    return metrics
