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

import csv
import inspect
import io
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn
from torch.utils.data import DataLoader, Sampler, TensorDataset

from infobound.data import DatasetSplits, load_dataset
from infobound.eval import evaluate_features, extract_features
from infobound.runs import SETTINGS_FILE, check_settings, prepare_out
from infobound.safe_load import load_torch

from .barlow_twins import BarlowTwins
from .base import ContrastiveMethod
from .byol import BYOL
from .moco import MoCo
from .mocov3 import MoCoV3
from .simclr import SimCLR

METHODS: dict[str, type[ContrastiveMethod]] = {"simclr": SimCLR, "moco": MoCo, "mocov3": MoCoV3, "byol": BYOL,
                                               "barlow_twins": BarlowTwins}
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
    """A LightningModule by name (``simclr``, ``moco``, ``mocov3``, ``byol``, ``barlow_twins``); ``options`` as
    :class:`~infobound.methods.base.ContrastiveMethod` (plus ``queue_size`` / ``momentum`` for MoCo, ``momentum``
    for MoCo v3 and BYOL, ``lambda_offdiag`` for Barlow Twins)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {available_methods()}")
    return METHODS[method](input_shape, num_classes, **options)


def evaluate(encoder: nn.Module, splits: DatasetSplits, *, knn_k: int = 20, knn_temperature: float = 0.1,
             few_label_per_class: int = 5, few_label_repeats: int = 5, seed: int = 0,
             probe_head: nn.Module | None = None) -> dict[str, float]:
    """Frozen-encoder metrics on the test split: ``linear_acc``, ``knn_acc``, ``few_label_acc`` ± ``few_label_std``
    (when ``few_label_per_class > 0``) and, given the online probe's head, ``online_probe_acc``; on text
    (wordnet) also ``relatedness`` and its TF-IDF / random-initialisation baselines (:func:`infobound.eval.text.text_metrics`)."""
    x_train, y_train = splits.labelled_train()  # the semi-supervised protocol probes on the labelled rows only
    train_feats, test_feats = extract_features(encoder, x_train), extract_features(encoder, splits.x_test)
    metrics = evaluate_features(train_feats, y_train, test_feats, splits.y_test, k=knn_k,
                                temperature=knn_temperature, few_label_per_class=few_label_per_class,
                                few_label_repeats=few_label_repeats, seed=seed, probe_C=splits.probe_C)
    if probe_head is not None:
        with torch.no_grad():
            logits = probe_head(test_feats.to(next(probe_head.parameters()).device)).cpu()
        metrics["online_probe_acc"] = float((logits.argmax(1) == splits.y_test).float().mean())
    if splits.name == "wordnet":  # text: relatedness, and the TF-IDF / random-initialisation baselines
        from infobound.eval.text import text_metrics

        metrics.update(text_metrics(encoder, splits, train_feats, test_feats, seed=seed))
    return metrics


def _jsonable(value: Any) -> bool:
    if isinstance(value, (int, float, str, bool, type(None))):
        return True
    if isinstance(value, (list, tuple)):
        return all(_jsonable(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _jsonable(v) for k, v in value.items())
    return False


def _plain(options: dict[str, Any]) -> dict[str, Any]:
    """The options as metrics.json and settings.json record them: JSON-able values as they are (nested
    ones such as ``encoder_kwargs`` included, so a resume with other encoder settings is refused), any
    other object (a module passed from Python) by its class name."""
    return {k: v if _jsonable(v) else f"<{type(v).__module__}.{type(v).__qualname__}>" for k, v in options.items()}


def _read_json_or_none(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _read_rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        return []
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _restore_earlier_rows(path: Path, earlier: list[dict[str, str]]) -> None:
    """Put back the log rows written before a resume: Lightning's CSVLogger deletes an existing
    ``metrics.csv`` when it starts, so a resumed run's log would begin at the resumed epoch."""
    from infobound.results import write_text

    new = _read_rows(path)
    first = min((int(r["step"]) for r in new if r.get("step")), default=None)
    rows = [r for r in earlier if first is None or (r.get("step") and int(r["step"]) < first)] + new
    columns = list(dict.fromkeys(k for r in [*earlier, *new] for k in r))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, text.getvalue())


def quiet_lightning() -> None:
    """Keep Lightning to warnings: no accelerator banner, cloud-logging tip or "stopped" notes."""
    import logging

    import lightning  # noqa: F401 — it sets its loggers to INFO on import; set them after

    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _write_json(path: Path, obj: Any) -> None:
    from infobound.results import write_json

    write_json(path, obj)


# train_and_evaluate's arguments that do not change the trained weights, so settings.json leaves them out.
_NOT_SETTINGS = ("resume", "overwrite", "accelerator", "devices", "num_nodes", "strategy", "progress", "knn_k",
                 "few_label_per_class", "callbacks")


def _run_settings(module: nn.Module, method: str, epochs: int, batch_size: int, seed: int, n_train: int,
                  options: dict[str, Any], augment: nn.Module | None) -> dict[str, Any]:
    """What ``settings.json`` records: the call's options *and* the module's resolved hyper-parameters
    (its defaults included), so a run made before a default changed is not resumed or reused as if
    it were made with the new one."""
    return {"method": method, "epochs": epochs, "batch_size": batch_size, "seed": seed,
            "data": module.data_options, "n_train": n_train, "options": _plain(options),
            "hparams": _plain(dict(getattr(module, "hparams", {}))),
            "augment": None if augment is None else type(augment).__name__}


def check_finished_run(splits: DatasetSplits, out: str | Path, *, method: str = "simclr", epochs: int = 30,
                       batch_size: int = 128, seed: int = 0, augment: nn.Module | None = None,
                       data_options: dict[str, Any] | None = None, **options: Any) -> None:
    """Refuse to reuse the finished run in ``out`` when :func:`train_and_evaluate` with these
    arguments would record other settings (a changed default included); a bench calls this before
    it reads an earlier ``metrics.json`` instead of training. Takes :func:`train_and_evaluate`'s
    keyword arguments; those that do not change the trained model (evaluation, devices,
    progress, callbacks) are ignored.

    Raises:
        ValueError: the saved ``settings.json`` differs; the message lists the differences.
    """
    for key in _NOT_SETTINGS:
        options.pop(key, None)
    module = build_method(method, splits.input_shape, splits.num_classes, dataset=splits.name, seed=seed, **options)
    module.data_options = dict(data_options or {"name": splits.name})
    current = _run_settings(module, method, epochs, batch_size, seed, len(splits.x_train), options, augment)
    saved = _read_json_or_none(Path(out) / SETTINGS_FILE)
    check_settings(saved, json.loads(json.dumps(current, default=str)), out)


def train_and_evaluate(splits: DatasetSplits, out: str | Path, *, method: str = "simclr", epochs: int = 30,
                       batch_size: int = 128, seed: int = 0, resume: bool = False, overwrite: bool = False,
                       accelerator: str = "cpu",
                       devices: int | str = 1, num_nodes: int = 1, strategy: str = "auto", progress: bool = False,
                       knn_k: int = 20, few_label_per_class: int = 5, augment: nn.Module | None = None,
                       data_options: dict[str, Any] | None = None, callbacks: list[Any] | None = None,
                       **options: Any) -> dict[str, Any]:
    """Pre-train ``method`` on ``splits.x_train`` and evaluate on the test split; write ``out/metrics.json``.

    Args:
        splits: train/test data (labels are used by the online probe and the evaluation only).
        out: run directory: ``checkpoints/`` (every epoch, ``last.ckpt``), ``model.ckpt``, ``metrics.json``,
            ``logs/metrics.csv`` (the MI bound every step; loss, MI bound, probe accuracy per epoch).
        resume: continue from ``out/checkpoints/last.ckpt`` when it exists (a finished run is only re-evaluated);
            refused when ``out/settings.json`` records other settings (:func:`infobound.runs.prepare_out`).
        overwrite: delete a non-empty ``out`` first (without it or ``resume`` a non-empty ``out`` is refused).
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
    settings = _run_settings(module, method, epochs, batch_size, seed, len(splits.x_train), options, augment)
    prepare_out(out, settings, resume=resume, overwrite=overwrite)
    if augment is not None:
        module.augment = augment
    dataset = TensorDataset(splits.x_train, splits.training_labels())  # -1: a label the online probe may not see
    loader = DataLoader(dataset, batch_size=batch_size, sampler=EpochSeededSampler(len(dataset), seed), drop_last=True)
    trainer = L.Trainer(
        max_epochs=epochs, accelerator=accelerator, devices=devices, num_nodes=num_nodes, strategy=strategy,
        callbacks=[ModelCheckpoint(dirpath=out / "checkpoints", filename="epoch{epoch:03d}", auto_insert_metric_name=False,
                                   save_last=True, save_top_k=1, every_n_epochs=1), *(callbacks or [])],
        logger=CSVLogger(out, name="logs", version=""), enable_progress_bar=progress, enable_model_summary=False,
        log_every_n_steps=1, num_sanity_val_steps=0)
    ckpt = out / LAST_CHECKPOINT
    log_file = out / "logs" / "metrics.csv"
    earlier_log = _read_rows(log_file) if resume and ckpt.exists() else []
    earlier_metrics = _read_json_or_none(out / "metrics.json") if resume else None
    started = time.perf_counter()
    resume_from = str(ckpt) if resume and ckpt.exists() else None
    if resume_from is not None:
        load_torch(resume_from, "resume checkpoint")  # refuse a file that would run code, with our one-line error
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
        warnings.filterwarnings("ignore", message=r".*is deprecated.*")  # Lightning's own use of torch internals
        warnings.filterwarnings("ignore", message=r"Checkpoint directory .* exists and is not empty")  # resuming
        warnings.filterwarnings("ignore", message=r"Experiment logs directory .* exists")  # rows restored below
        # weights_only=True explicitly: Lightning passes None on, which TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD turns unsafe
        trainer.fit(module, loader, ckpt_path=resume_from, weights_only=True)
    train_seconds = time.perf_counter() - started
    trainer.save_checkpoint(out / "model.ckpt")  # collective under DDP: every rank calls it
    if not trainer.is_global_zero:
        return {}
    if earlier_log:
        _restore_earlier_rows(log_file, earlier_log)
    logged = {k: float(v) for k, v in trainer.callback_metrics.items() if k.startswith("train/")}
    if not logged and earlier_metrics:  # a finished run only re-evaluated: no step ran, keep what training logged
        logged = {f"train/{name}": earlier_metrics.get(key) for name, key in
                  (("mi_nats", "mi_lower_bound"), ("mi_ceiling", "mi_ceiling"), ("loss", "final_loss"))}
        train_seconds = earlier_metrics.get("train_seconds", train_seconds)
    metrics: dict[str, Any] = evaluate(module.encoder, splits, knn_k=knn_k, few_label_per_class=few_label_per_class,
                                       seed=seed, probe_head=module.probe)
    metrics.update({
        "mi_lower_bound": logged.get("train/mi_nats"), "mi_ceiling": logged.get("train/mi_ceiling"),
        "final_loss": logged.get("train/loss"), "epochs": epochs, "train_seconds": train_seconds,
        "method": method, "dataset": splits.name, "seed": seed, "batch_size": batch_size,
        "options": _plain(options),
        "checkpoint": str(out / "model.ckpt"),
    })
    _write_json(out / "metrics.json", metrics)
    return metrics


def pretrain(method: str = "simclr", objective: str | None = None, alpha: float | None = None,
             alpha_end: float | None = None, divergence: str | None = None, temperature: float | None = None,
             regularizer: str = "none", lam: float = 1.0, dataset: str = "mnist1d", data_dir: str | None = None,
             num_samples: int | None = None, data_seed: int = 0, encoder: str | None = None,
             encoder_kwargs: dict[str, Any] | None = None, image_size: int | None = None, proj_dim: int | None = None,
             proj_hidden: int | None = None, queue_size: int = 2048, momentum: float | None = None, batch_size: int = 128,
             epochs: int = 30, lr: float | None = None, weight_decay: float = 1e-6, lr_schedule: str = "cosine",
             seed: int = 0, knn_k: int = 20, few_label_per_class: int = 5, out: str = "runs/pretrain",
             resume: bool = True, overwrite: bool = False, device: str = "cpu", devices: int | str | None = None,
             num_nodes: int = 1, strategy: str = "auto", accelerator: str | None = None, threads: int | None = 1,
             progress: bool | None = None, data_kwargs: dict[str, Any] | None = None,
             views: str | None = None, augment_kwargs: dict[str, Any] | None = None) -> dict[str, Any]:
    """Contrastive pre-training of an encoder, then linear / kNN / few-label probes on the test split.

    Writes OUT/metrics.json (linear_acc, knn_acc, few_label_acc, online_probe_acc, the final MI lower
    bound in nats, ...), OUT/model.ckpt and a checkpoint per epoch under OUT/checkpoints/.

    Args:
        method: the self-supervised method (which LightningModule): simclr, moco, mocov3, byol or barlow_twins;
            the loss is --objective.
        objective: infonce, ml_cpc, fmicl or au (MoCo: infonce or ml_cpc; MoCo v3: infonce, ml_cpc or fmicl;
            BYOL and Barlow Twins have their own); default: the method's own (infonce for the contrastive ones).
        alpha: ML-CPC's α (fixed), or the start of the geometric schedule when alpha_end is given.
        alpha_end: end of the geometric α schedule (e.g. --alpha 10 --alpha_end 0.1).
        divergence: f-MICL's f-divergence (kl, js, pearson, sq_hellinger, tsallis, vlc).
        temperature: the objective's temperature (its own default if omitted).
        regularizer: InfoCL regulariser: none, rc or lbe.
        lam: the regulariser's weight λ.
        dataset: mnist1d, digits, mnist, fashion_mnist, image_folder, cifar10, cifar100, stl10, npy or wordnet
            (WordNet glosses as token ids; docs/text.md).
        data_dir: directory of the local-file datasets (mnist, fashion_mnist, image_folder, cifar10/100, stl10, npy;
            wordnet: /usr/share/wordnet).
        num_samples: examples in total (train + test): MNIST-1D generates that many (default 10,000, split
            80/20); any other dataset is subsampled to it, stratified by class (default: all).
        data_seed: seed of data generation / train-test split / subsample.
        encoder: mlp, cnn1d, resnet18_cifar, vit, text_transformer or text_cnn (default: by input shape;
            text_transformer for wordnet), or your own as
            package.module:Class or path/to/file.py:Class.
        encoder_kwargs: the encoder's constructor arguments, e.g. '{"width": 32}'.
        image_size: image_folder only: resize and centre-crop every image to this side.
        proj_dim: projection head output width (default: the method's own; 64, BYOL 256, Barlow Twins 512).
        proj_hidden: projection head hidden width (default: the method's own; 256, BYOL 1024, Barlow Twins 512).
        queue_size: MoCo's K.
        momentum: the key / target encoder's (base) momentum (MoCo, MoCo v3, BYOL; default: the method's own;
            0.99, BYOL 0.98).
        batch_size: batch size per process (128: on MNIST-1D every method reaches a 0.70 linear probe
            at 30 epochs with it, BYOL and MoCo v3 not at 256; docs/ssl.md "The bench at batch 128").
        epochs: training epochs.
        lr: Adam learning rate (default: the method's own; 1e-3, BYOL 3e-3, Barlow Twins 1e-2).
        weight_decay: Adam weight decay.
        lr_schedule: cosine or constant.
        seed: training seed (weights, batches, views).
        knn_k: neighbours of the weighted kNN.
        few_label_per_class: labelled examples per class of the few-label probe (0: skip it).
        out: run directory (a non-empty one needs --resume true or --overwrite true).
        resume: continue the run in OUT (from OUT/checkpoints/last.ckpt; a finished run is only
            re-evaluated); refused when OUT holds a run with other settings.
        overwrite: delete a non-empty OUT first and start over.
        device: cpu, cuda, cuda:1, mps or auto.
        devices: processes per node for multi-GPU training (with --strategy ddp; default 1).
        num_nodes: nodes for multi-node DDP.
        strategy: Lightning strategy, e.g. ddp (negatives are gathered across ranks).
        accelerator: Lightning's accelerator name (gpu, tpu, ...), for those used to it; overrides --device.
        threads: torch threads per process (None: leave as is).
        progress: show a progress bar (default: on a terminal).
        data_kwargs: further loader options, e.g. wordnet ``{"num_train": 20000, "max_length": 32}``
            (:func:`infobound.data.wordnet.load_wordnet`).
        views: text only: dropout (SimCSE's two dropout passes, default), definition_example or
            lemma_definition (:class:`infobound.data.wordnet.TextViews`).
        augment_kwargs: overrides of the default augmentation, which depends on the kind of input
            (images: grayscale / colour, small / large; :func:`infobound.data.build_augmentation`), e.g.
            '{"grayscale_prob": 0, "blur_prob": 0.5}' or, for MNIST-1D, '{"shear": 2}'.
    """
    if epochs < 1:
        raise ValueError(f"--epochs must be >= 1, got {epochs}")
    accelerator, devices = lightning_device(device, devices, accelerator)
    if threads is not None:
        torch.set_num_threads(threads)
    quiet_lightning()
    data_options: dict[str, Any] = {"name": dataset, "data_dir": data_dir, "seed": data_seed}
    if num_samples is not None:
        data_options["num_samples"] = num_samples
    if image_size is not None:
        data_options["image_size"] = image_size
    if dataset == "wordnet" and num_samples is not None:
        raise ValueError("wordnet: size it with --data_kwargs '{\"num_train\": N, \"num_test\": M}', not --num_samples")
    data_options.update(data_kwargs or {})
    splits = load_dataset(**data_options)
    if objective is None and method in METHODS:  # the method's own, named, so run settings record it
        objective = METHODS[method].default_objective
    if views is not None and splits.name != "wordnet":
        raise ValueError(f"`views` is an option of text datasets (wordnet), not of {dataset!r}")
    if splits.name == "wordnet":  # token ids: the text encoder needs the trained tokenizer's vocabulary
        encoder = encoder or splits.default_encoder
        if encoder.startswith("text_"):
            encoder_kwargs = {"vocab_size": splits.vocab_size, **(encoder_kwargs or {})}
    options = dict(objective=objective, alpha=alpha, alpha_end=alpha_end, divergence=divergence, temperature=temperature,
                   regularizer=regularizer, lam=lam, encoder=encoder, encoder_kwargs=encoder_kwargs,
                   weight_decay=weight_decay, lr_schedule=lr_schedule,
                   augment_kwargs={**(augment_kwargs or {}), **({"views": views} if views is not None else {})} or None)
    # not given: the method's own default (Barlow Twins: a wider projector, a larger lr), named so run settings record it
    options.update({k: method_default(method, k) if v is None else v
                    for k, v in {"proj_dim": proj_dim, "proj_hidden": proj_hidden, "lr": lr}.items()})
    if method in ("moco", "mocov3", "byol"):
        options["momentum"] = method_default(method, "momentum") if momentum is None else momentum
    if method == "moco":
        options["queue_size"] = queue_size
    metrics = train_and_evaluate(splits, out, method=method, epochs=epochs, batch_size=batch_size, seed=seed,
                                 resume=resume, overwrite=overwrite, accelerator=accelerator, devices=devices,
                                 num_nodes=num_nodes, strategy=strategy,
                                 progress=sys.stderr.isatty() if progress is None else progress, knn_k=knn_k,
                                 few_label_per_class=few_label_per_class, data_options=data_options, **options)
    if metrics:
        print(json.dumps({k: metrics[k] for k in ("linear_acc", "knn_acc", "few_label_acc", "online_probe_acc",
                                                  "mi_lower_bound", "train_seconds") if k in metrics}, indent=2))
        if splits.name == "wordnet":
            from infobound.eval.text import text_table

            print(text_table(metrics))
        print(f"wrote {Path(out) / 'metrics.json'}, model.ckpt, checkpoints/ and logs/metrics.csv", flush=True)
    return metrics


def method_default(method: str, option: str) -> Any:
    """The default of ``option`` in the constructor of ``method``'s LightningModule (its own, else its base's)."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {available_methods()}")
    for cls in METHODS[method].__mro__:
        if "__init__" in vars(cls):
            param = inspect.signature(cls.__init__).parameters.get(option)
            if param is not None and param.default is not inspect.Parameter.empty:
                return param.default
    raise ValueError(f"{method} has no default for {option!r}")


def lightning_device(device: str, devices: int | str | None = None,
                     accelerator: str | None = None) -> tuple[str, int | str | list[int]]:
    """``--device`` (cpu, cuda, cuda:1, mps, auto) as Lightning's (accelerator, devices).

    ``cuda:K`` pins GPU K; ``--devices N`` asks for N processes (DDP); an explicit ``accelerator``
    (Lightning's own name) wins over ``device``.
    """
    name = device.strip().lower()
    kind, _, index = name.partition(":")
    if accelerator is None:
        table = {"cpu": "cpu", "cuda": "gpu", "gpu": "gpu", "mps": "mps", "auto": "auto", "tpu": "tpu"}
        if kind not in table:
            raise ValueError(f"unknown --device {device!r}; expected cpu, cuda, cuda:K, mps or auto")
        accelerator = table[kind]
    if index:
        if not index.isdigit() or kind not in ("cuda", "gpu"):
            raise ValueError(f"--device {device!r}: only cuda takes an index (cuda:0, cuda:1, ...)")
        if devices not in (None, 1):
            raise ValueError(f"--device {device} names one GPU; for several use --device cuda --devices N")
        return accelerator, [int(index)]
    return accelerator, 1 if devices is None else devices


def load_method(checkpoint: str | Path) -> ContrastiveMethod:
    """Rebuild a trained module (encoder, heads, hyper-parameters) from a checkpoint written by :func:`train_and_evaluate`."""
    state = load_torch(checkpoint, "checkpoint")
    info = state.get("infobound") if isinstance(state, dict) else None
    if not info or info.get("method") not in METHODS:
        raise ValueError(f"{checkpoint}: not an infobound pre-training checkpoint (no 'infobound' entry naming a method)")
    module = METHODS[info["method"]].load_from_checkpoint(checkpoint, map_location="cpu", weights_only=True)
    module.data_options = info["data"]
    return module


def probe(checkpoint: str | None = None, data_dir: str | None = None, knn_k: int = 20, few_label_per_class: int = 5,
          seed: int = 0, output: str | None = None, threads: int | None = 1) -> dict[str, Any]:
    """Evaluate a saved encoder on its dataset's test split: linear probe, weighted kNN, few-label probe.

    Args:
        checkpoint: a model.ckpt or per-epoch checkpoint written by ``infobound pretrain``.
        data_dir: overrides the data directory stored in the checkpoint (local-file datasets).
        knn_k: neighbours of the weighted kNN.
        few_label_per_class: labelled examples per class of the few-label probe (0: skip it).
        seed: seed of the few-label draws.
        output: also write the metrics to this JSON file (``-``: print only the JSON, to stdout).
        threads: torch threads (None: leave as is).
    """
    if checkpoint is None:
        raise ValueError("give the saved encoder: --checkpoint PATH (a model.ckpt written by `infobound pretrain`)")
    if not Path(checkpoint).is_file():
        raise ValueError(f"--checkpoint {checkpoint!r}: no such file")
    if threads is not None:
        torch.set_num_threads(threads)
    module = load_method(checkpoint)
    data = dict(module.data_options)
    if data_dir is not None:
        data["data_dir"] = data_dir
    metrics: dict[str, Any] = evaluate(module.encoder, load_dataset(**data), knn_k=knn_k,
                                       few_label_per_class=few_label_per_class, seed=seed, probe_head=module.probe)
    metrics["checkpoint"] = str(checkpoint)
    print(json.dumps(metrics, indent=2))
    if output not in (None, "-"):
        _write_json(Path(output), metrics)
        print(f"wrote {output}", flush=True)
    return metrics
