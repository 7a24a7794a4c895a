"""Teacher training and student distillation: a plain, seeded torch loop with per-epoch checkpoints.

The whole training set lives in memory as tensors (MNIST-1D, digits, CIFAR as uint8), so a batch is
an index slice: every batch knows its samples' positions in the training set, which is what the
memory banks need, and there is no DataLoader, worker or per-sample Python code on the hot path.

Randomness: ``torch.manual_seed(seed)`` fixes the initial weights; one ``torch.Generator`` seeded
from ``seed`` drives shuffling, augmentation and negative draws. Both RNG states go into every
checkpoint, so an interrupted run resumed from ``last.pt`` continues exactly as if uninterrupted.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from tqdm.auto import tqdm

from ..data import to_float
from ..models.zoo import ZooModel, build_model, canonical_name
from ..runs import check_settings
from ..safe_load import load_torch
from .losses import CONTRAST_OBJECTIVES, KDLoss, MemoryContrastLoss

# (cross-entropy, KD, contrastive) weights per method: CRD's settings (KD: γ = 0.1, α = 0.9;
# CRD: γ = 1, β = 0.8; CRD+KD: γ = 1, α = 1, β = 0.8); ML-CPC and InfoNCE reuse CRD's.
METHOD_WEIGHTS: dict[str, tuple[float, float, float]] = {
    "student": (1.0, 0.0, 0.0),
    "kd": (0.1, 0.9, 0.0),
    **{c: (1.0, 0.0, 0.8) for c in CONTRAST_OBJECTIVES},
    **{f"{c}+kd": (1.0, 1.0, 0.8) for c in CONTRAST_OBJECTIVES},
}
_METHOD_ALIASES = {"none": "student", "ce": "student", "mlcpc": "ml_cpc", "nce": "crd",
                   "kd+ml_cpc": "ml_cpc+kd", "kd+crd": "crd+kd", "kd+infonce": "infonce+kd"}


def available_methods() -> list[str]:
    return list(METHOD_WEIGHTS)


def canonical_method(method: str) -> str:
    key = method.strip().lower().replace("ml-cpc", "ml_cpc").replace(" ", "")
    key = _METHOD_ALIASES.get(key, key)
    if key not in METHOD_WEIGHTS:
        raise ValueError(f"unknown distillation method {method!r}; expected one of {available_methods()}")
    return key


@dataclass
class TrainConfig:
    """Optimisation settings shared by teacher and student training.

    ``schedule="step"`` divides the learning rate by 10 at 5/8, 3/4 and 7/8 of the epochs (CRD's
    150/180/210 of 240); ``"cosine"`` anneals it to zero. ``augment=None`` means: random crop (pad 4)
    + horizontal flip for colour images, nothing for signals and digits.
    """

    epochs: int = 20
    batch_size: int = 64
    lr: float = 0.05
    optimizer: Literal["sgd", "adam"] = "sgd"
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: Literal["step", "cosine", "constant"] = "step"
    augment: bool | None = None
    seed: int = 0
    device: str = "cpu"
    progress: bool = False  # a tqdm bar over the training steps (on stderr)

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 2:
            raise ValueError(f"need epochs >= 1 and batch_size >= 2, got {self.epochs} and {self.batch_size}")
        if not self.lr > 0:
            raise ValueError(f"`lr` must be > 0, got {self.lr}")
        if self.optimizer not in ("sgd", "adam") or self.schedule not in ("step", "cosine", "constant"):
            raise ValueError(f"unknown optimizer {self.optimizer!r} or schedule {self.schedule!r}")


@dataclass
class DistillConfig:
    """What the student learns from: method, loss weights and the contrastive memory's settings.

    Weights left as ``None`` take the method's defaults (:data:`METHOD_WEIGHTS`).
    """

    method: str = "crd"
    ce_weight: float | None = None
    kd_weight: float | None = None
    contrast_weight: float | None = None
    kd_temperature: float = 4.0
    alpha: float = 1.0
    nce_k: int = 4096
    nce_temperature: float = 0.07
    memory_momentum: float = 0.5
    embed_dim: int = 128
    negatives: Literal["other_class", "uniform"] = "other_class"

    def __post_init__(self) -> None:
        self.method = canonical_method(self.method)

    @property
    def weights(self) -> tuple[float, float, float]:
        ce, kd, con = METHOD_WEIGHTS[self.method]
        return (ce if self.ce_weight is None else self.ce_weight, kd if self.kd_weight is None else self.kd_weight,
                con if self.contrast_weight is None else self.contrast_weight)

    @property
    def contrast(self) -> str | None:
        name = self.method.removesuffix("+kd")
        return name if name in CONTRAST_OBJECTIVES else None


# ------------------------------------------------------------------------------------------- inputs


def random_crop_flip(x: Tensor, pad: int = 4, generator: torch.Generator | None = None) -> Tensor:
    """Per-sample random crop of a zero-padded image batch [n, c, h, w] and horizontal flip, batched."""
    n, c, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    gen_device = generator.device if generator is not None else x.device
    top = torch.randint(0, 2 * pad + 1, (n, 1), generator=generator, device=gen_device).to(x.device)
    left = torch.randint(0, 2 * pad + 1, (n, 1), generator=generator, device=gen_device).to(x.device)
    flip = (torch.rand(n, 1, generator=generator, device=gen_device) < 0.5).to(x.device)
    rows = top + torch.arange(h, device=x.device)
    cols = left + torch.arange(w, device=x.device)
    cols = torch.where(flip, cols.flip(1), cols)
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    chan = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, chan, rows[:, None, :, None], cols[:, None, None, :]]


class InputPipeline(nn.Module):
    """uint8 images → float, per-channel standardised with the training set's statistics; optional
    crop + flip during training. Float inputs (MNIST-1D, digits) pass through unchanged."""

    def __init__(self, x_train: Tensor, augment: bool | None = None) -> None:
        super().__init__()
        self.images = x_train.dim() == 4
        self.scale_uint8 = x_train.dtype == torch.uint8
        self.augment = bool(self.images and x_train.shape[1] == 3) if augment is None else bool(augment and self.images)
        mean = torch.zeros(1)
        std = torch.ones(1)
        if self.scale_uint8 and self.images:
            stats = torch.zeros(2, x_train.shape[1], dtype=torch.float64)
            for chunk in x_train.split(4096):
                v = chunk.double().div_(255.0)
                stats[0] += v.sum(dim=(0, 2, 3))
                stats[1] += v.pow(2).sum(dim=(0, 2, 3))
            count = x_train.shape[0] * x_train.shape[2] * x_train.shape[3]
            mean = stats[0] / count
            std = (stats[1] / count - mean**2).clamp_min(1e-12).sqrt()
            mean, std = mean.float().view(1, -1, 1, 1), std.float().view(1, -1, 1, 1)
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def forward(self, x: Tensor, train: bool = False, generator: torch.Generator | None = None) -> Tensor:
        if self.scale_uint8:
            x = to_float(x)
            if self.images:
                x = (x - self.mean) / self.std
        if train and self.augment:
            x = random_crop_flip(x, 4, generator)
        return x


# ---------------------------------------------------------------------------------------- objectives


class Objective(nn.Module):
    """``forward(x, y, index, logits, features, generator) -> (loss, logs)`` for one batch."""

    def forward(self, x: Tensor, y: Tensor, index: Tensor, logits: Tensor, features: Tensor,
                generator: torch.Generator | None) -> tuple[Tensor, dict[str, float]]:
        loss = F.cross_entropy(logits, y)
        return loss, {"ce": float(loss.detach())}


class DistillObjective(Objective):
    """``γ·CE + α·KD + β·contrastive`` with a frozen teacher (kept in eval mode)."""

    def __init__(self, teacher: ZooModel, student_dim: int, config: DistillConfig, labels: Tensor,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.teacher = teacher.eval().requires_grad_(False)
        self.weights = config.weights
        self.kd = KDLoss(config.kd_temperature)
        self._cache: tuple[Tensor, Tensor] | None = None
        self.contrast: MemoryContrastLoss | None = None
        if config.contrast is not None and self.weights[2] != 0:
            self.contrast = MemoryContrastLoss(
                student_dim, teacher.feature_dim, labels.shape[0], config.contrast, labels=labels,  # type: ignore[arg-type]
                embed_dim=config.embed_dim, k=config.nce_k, temperature=config.nce_temperature,
                momentum=config.memory_momentum, alpha=config.alpha, sampling=config.negatives, generator=generator)

    def train(self, mode: bool = True) -> "DistillObjective":
        super().train(mode)
        self.teacher.eval()
        return self

    @torch.no_grad()
    def cache_teacher(self, inputs: Tensor, batch_size: int = 1024) -> None:
        """Run the frozen teacher once over the whole (un-augmented, preprocessed) training set; later
        steps look its outputs up by sample index instead of running it again."""
        outs = [self.teacher(inputs[i:i + batch_size], return_features=True) for i in range(0, len(inputs), batch_size)]
        self._cache = (torch.cat([o[0] for o in outs]), torch.cat([o[1] for o in outs]))

    def forward(self, x: Tensor, y: Tensor, index: Tensor, logits: Tensor, features: Tensor,
                generator: torch.Generator | None) -> tuple[Tensor, dict[str, float]]:
        ce_w, kd_w, con_w = self.weights
        if self._cache is not None:
            t_logits, t_features = self._cache[0][index], self._cache[1][index]
        else:
            with torch.no_grad():
                t_logits, t_features = self.teacher(x, return_features=True)
        ce = F.cross_entropy(logits, y)
        loss, logs = ce_w * ce, {"ce": float(ce.detach())}
        if kd_w:
            kd = self.kd(logits, t_logits)
            loss = loss + kd_w * kd
            logs["kd"] = float(kd.detach())
        if self.contrast is not None:
            out = self.contrast(features, t_features, index, generator=generator)
            loss = loss + con_w * out.loss
            logs["contrast"] = float(out.loss.detach())
            logs["mi_nats"] = float(out.mi_lower_bound)
        return loss, logs

    def saved_state(self) -> dict[str, Tensor]:
        """State to checkpoint: embeddings, memory banks, Z (the frozen teacher is saved elsewhere)."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("teacher.")}


# -------------------------------------------------------------------------------------------- loop


@torch.no_grad()
def evaluate(model: nn.Module, inputs: InputPipeline, x: Tensor, y: Tensor, batch_size: int = 1024) -> float:
    """Top-1 accuracy of ``model`` on (x, y), in eval mode."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    correct = 0
    for start in range(0, len(x), batch_size):
        xb = inputs(x[start:start + batch_size].to(device))
        correct += int((model(xb).argmax(1).cpu() == y[start:start + batch_size]).sum())
    model.train(was_training)
    return correct / max(len(x), 1)


def _optimizer(params: list[nn.Parameter], cfg: TrainConfig) -> torch.optim.Optimizer:
    if cfg.optimizer == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


def _scheduler(opt: torch.optim.Optimizer, cfg: TrainConfig) -> torch.optim.lr_scheduler.LRScheduler:
    if cfg.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=cfg.epochs)
    if cfg.schedule == "step":
        milestones = sorted({max(1, round(cfg.epochs * f)) for f in (0.625, 0.75, 0.875)})
        return torch.optim.lr_scheduler.MultiStepLR(opt, milestones=milestones, gamma=0.1)
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda _: 1.0)


def _settings(cfg: TrainConfig) -> dict[str, Any]:
    """The settings a checkpoint must match to be resumed (the device and the display may change)."""
    return {k: v for k, v in asdict(cfg).items() if k not in ("device", "progress")}


@dataclass
class TrainResult:
    model: ZooModel
    test_acc: float
    best_test_acc: float
    history: list[dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    resumed_from_epoch: int = 0


def fit(model: ZooModel, objective: Objective, data: Any, cfg: TrainConfig, checkpoint: str | Path | None = None,
        resume: bool = True, signature: dict[str, Any] | None = None,
        log: Callable[[str], None] | None = print) -> TrainResult:
    """Train ``model`` on ``data`` (a :class:`~infobound.data.DatasetSplits`) with ``objective``.

    Writes ``checkpoint`` after every epoch (atomically); with ``resume`` and an existing checkpoint
    whose ``signature`` matches, training continues where it stopped.
    """
    device = torch.device(cfg.device)
    generator = torch.Generator().manual_seed(cfg.seed + 1_000_003)
    inputs = InputPipeline(data.x_train, cfg.augment).to(device)
    model.to(device).train()
    objective.to(device).train()
    params = [p for p in list(model.parameters()) + list(objective.parameters()) if p.requires_grad]
    opt = _optimizer(params, cfg)
    sched = _scheduler(opt, cfg)
    x_train, y_train = data.x_train, data.y_train
    n = len(x_train)
    if isinstance(objective, DistillObjective) and not inputs.augment:
        objective.cache_teacher(inputs(x_train.to(device)))  # deterministic inputs: one teacher pass suffices
    signature = dict(signature or {}, train=_settings(cfg))
    history: list[dict[str, float]] = []
    start_epoch, seconds = 0, 0.0
    path = Path(checkpoint) if checkpoint is not None else None
    if path is not None and resume and path.exists():
        state = load_torch(path, "resume checkpoint")
        check_settings(state.get("signature", {}), signature, path)
        model.load_state_dict(state["model"])
        if isinstance(objective, DistillObjective):
            objective.load_state_dict(state["objective"], strict=False)
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        history, start_epoch, seconds = state["history"], state["epoch"], state["seconds"]
        if log:
            log(f"resumed from {path} at epoch {start_epoch}/{cfg.epochs}")
    steps = n // cfg.batch_size if n >= cfg.batch_size else 1
    bar = tqdm(total=cfg.epochs * steps, initial=start_epoch * steps, disable=not cfg.progress, file=sys.stderr,
               unit="step", leave=False, dynamic_ncols=True)
    if log and cfg.progress:
        log = bar.write  # epoch lines above the bar instead of through it
    for epoch in range(start_epoch, cfg.epochs):
        t0 = time.perf_counter()
        order = torch.randperm(n, generator=generator)
        sums: dict[str, float] = {}
        for step in range(steps):
            index = order[step * cfg.batch_size:(step + 1) * cfg.batch_size]
            xb = inputs(x_train[index].to(device), train=True, generator=generator)
            yb = y_train[index].to(device)
            logits, features = model(xb, return_features=True)
            loss, logs = objective(xb, yb, index.to(device), logits, features, generator)
            if not torch.isfinite(loss):
                raise FloatingPointError(f"loss became {float(loss)} at epoch {epoch + 1}, step {step + 1}")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            logs["loss"] = float(loss.detach())
            for k, v in logs.items():
                sums[k] = sums.get(k, 0.0) + v
            bar.update()
        sched.step()
        acc = evaluate(model, inputs, data.x_test, data.y_test)
        seconds += time.perf_counter() - t0
        row = {"epoch": epoch + 1, "test_acc": acc, **{k: v / steps for k, v in sums.items()},
               "lr": opt.param_groups[0]["lr"], "seconds": seconds}
        history.append(row)
        if path is not None:
            _save(path, {"signature": signature, "epoch": epoch + 1, "model": model.state_dict(),
                         "objective": objective.saved_state() if isinstance(objective, DistillObjective) else {},
                         "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                         "generator": generator.get_state(), "torch_rng": torch.get_rng_state(),
                         "history": history, "seconds": seconds})
        if log:
            extras = " ".join(f"{k} {v:.4f}" for k, v in row.items() if k not in ("epoch", "test_acc", "seconds", "lr"))
            log(f"epoch {epoch + 1}/{cfg.epochs}  test_acc {acc:.4f}  {extras}  ({seconds:.1f}s)")
    bar.close()
    accs = [h["test_acc"] for h in history]
    return TrainResult(model, accs[-1], max(accs), history, seconds, start_epoch)


def _save(path: Path, obj: Any) -> None:
    """torch.save to a temporary file in the same folder, then an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.save(obj, tmp)
    tmp.replace(path)


# ------------------------------------------------------------------------------------ teacher files


TEACHER_KIND = "infobound.distill.teacher/1"


def save_teacher(path: str | Path, model: ZooModel, arch: str, data: Any, test_acc: float,
                 extra: dict[str, Any] | None = None) -> Path:
    path = Path(path)
    _save(path, {"kind": TEACHER_KIND, "arch": canonical_name(arch), "num_classes": data.num_classes,
                 "input_shape": list(data.input_shape), "dataset": data.name, "test_acc": test_acc,
                 "state_dict": model.state_dict(), **(extra or {})})
    return path


def load_teacher(path: str | Path, data: Any | None = None) -> tuple[ZooModel, dict[str, Any]]:
    """A teacher saved by :func:`save_teacher`; checks that it fits ``data`` when given."""
    state = load_torch(path, "teacher checkpoint")
    if not isinstance(state, dict) or state.get("kind") != TEACHER_KIND:
        raise ValueError(f"{str(path)!r} is not a teacher checkpoint written by infobound distill "
                         "(train one with --train_teacher ARCH)")
    if data is not None and (state["num_classes"] != data.num_classes or tuple(state["input_shape"]) != data.input_shape):
        raise ValueError(f"teacher {str(path)!r} was trained for {state['num_classes']} classes and inputs "
                         f"{tuple(state['input_shape'])}, but dataset {data.name!r} has {data.num_classes} classes "
                         f"and inputs {data.input_shape}")
    model = build_model(state["arch"], state["num_classes"], state["input_shape"])
    model.load_state_dict(state["state_dict"])
    meta = {k: v for k, v in state.items() if k != "state_dict"}
    return model.eval(), meta


def train_teacher(arch: str, data: Any, cfg: TrainConfig, out_dir: str | Path | None = None, resume: bool = True,
                  log: Callable[[str], None] | None = print) -> tuple[ZooModel, dict[str, Any]]:
    """Train ``arch`` with cross-entropy; with ``out_dir``, checkpoint under it and save ``out_dir/teacher.pt``.

    An existing ``teacher.pt`` for the same architecture, data and settings is reused when ``resume``.
    """
    arch = canonical_name(arch)
    signature = {"role": "teacher", "arch": arch, "dataset": data.name, "n_train": len(data.x_train)}
    final = Path(out_dir) / "teacher.pt" if out_dir is not None else None
    if final is not None and resume and final.exists():
        model, meta = load_teacher(final, data)
        if meta.get("signature") == {**signature, "train": _settings(cfg)}:
            if log:
                log(f"reusing teacher {final} (test_acc {meta['test_acc']:.4f})")
            return model, meta
    torch.manual_seed(cfg.seed)
    model = build_model(arch, data.num_classes, data.input_shape)
    ckpt = Path(out_dir) / "checkpoints" / "teacher_last.pt" if out_dir is not None else None
    result = fit(model, Objective(), data, cfg, ckpt, resume, signature, log)
    meta = {"arch": arch, "test_acc": result.test_acc, "history": result.history, "seconds": result.seconds,
            "signature": {**signature, "train": _settings(cfg)}}
    if final is not None:
        save_teacher(final, model, arch, data, result.test_acc, {"history": result.history,
                                                                  "signature": meta["signature"]})
    return model.eval(), meta


def distill_student(student_arch: str, teacher: ZooModel, data: Any, cfg: TrainConfig, config: DistillConfig,
                    out_dir: str | Path | None = None, resume: bool = True,
                    log: Callable[[str], None] | None = print, teacher_id: str = "") -> TrainResult:
    """Train a fresh ``student_arch`` on ``data`` with the distillation ``config`` from a frozen ``teacher``.

    ``teacher_id`` (e.g. the teacher file's name) goes into the checkpoint signature, so resuming with
    another teacher is refused.
    """
    arch = canonical_name(student_arch)
    torch.manual_seed(cfg.seed)
    student = build_model(arch, data.num_classes, data.input_shape)
    if teacher.classifier.out_features != data.num_classes:
        raise ValueError(f"the teacher predicts {teacher.classifier.out_features} classes but dataset {data.name!r} "
                         f"has {data.num_classes}")
    generator = torch.Generator().manual_seed(cfg.seed + 7)
    objective = DistillObjective(teacher, student.feature_dim, config, data.y_train, generator)
    signature = {"role": "student", "arch": arch, "dataset": data.name, "n_train": len(data.x_train),
                 "teacher": teacher_id, "distill": asdict(config)}
    ckpt = Path(out_dir) / "checkpoints" / "last.pt" if out_dir is not None else None
    return fit(student, objective, data, cfg, ckpt, resume, signature, log)


__all__ = ["DistillConfig", "DistillObjective", "InputPipeline", "METHOD_WEIGHTS", "Objective", "TrainConfig",
           "TrainResult", "available_methods", "canonical_method", "distill_student",
           "evaluate", "fit", "load_teacher", "random_crop_flip", "save_teacher", "train_teacher"]
