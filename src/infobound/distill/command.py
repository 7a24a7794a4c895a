"""``infobound distill``: train (or load) a teacher, distil a student, write ``OUT/metrics.json``."""

from __future__ import annotations

import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from ..models.zoo import canonical_name
from ..results import write_json
from ..runs import prepare_out
from .train import (DistillConfig, InputPipeline, TrainConfig, canonical_method, distill_student, evaluate,
                    load_teacher)
from .train import train_teacher as fit_teacher


def _check_arch(flag: str, arch: str) -> None:
    """An unknown architecture as a message naming the flag (the zoo's own message names no flag)."""
    try:
        canonical_name(arch)
    except ValueError as err:
        raise ValueError(f"{flag}: {err}") from None


def distill_command(
    student: str | None = None,
    method: str = "crd",
    teacher: Path | None = None,
    train_teacher: str | None = None,
    dataset: str = "mnist1d",
    data_dir: Path | None = None,
    num_samples: int | None = None,
    data_seed: int = 0,
    epochs: int = 10,
    teacher_epochs: int | None = None,
    seed: int = 0,
    out: Path = Path("runs/distill"),
    batch_size: int = 64,
    lr: float = 0.05,
    optimizer: Literal["sgd", "adam"] = "sgd",
    weight_decay: float = 5e-4,
    schedule: Literal["step", "cosine", "constant"] = "step",
    augment: bool | None = None,
    ce_weight: float | None = None,
    kd_weight: float | None = None,
    contrast_weight: float | None = None,
    kd_temperature: float = 4.0,
    alpha: float = 1.0,
    nce_k: int = 4096,
    nce_temperature: float = 0.07,
    memory_momentum: float = 0.5,
    embed_dim: int = 128,
    negatives: Literal["other_class", "uniform"] = "other_class",
    device: str = "cpu",
    resume: bool = True,
    overwrite: bool = False,
    progress: bool | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Distil a teacher into a student and write OUT/metrics.json (student_acc, teacher_acc, history).

    Give --student ARCH and either --teacher CKPT (a teacher.pt written by an earlier run) or
    --train-teacher ARCH. Every epoch checkpoints to OUT/checkpoints/; rerunning the same command
    resumes where it stopped; a non-empty OUT with other settings is refused (--overwrite true
    deletes it and starts over).

    Args:
        student: student architecture: mlp_small, cnn1d_small, resnet8x4, wrn_16_2, vgg8, mobilenetv2, ... (an
            unknown name lists them all); --train_teacher takes the same names.
        method: the distillation loss: student (cross-entropy alone), kd, crd, ml_cpc, infonce,
            crd+kd, ml_cpc+kd or infonce+kd.
        teacher: path of a saved teacher (OUT/teacher.pt of an earlier run).
        train_teacher: train this teacher architecture first (saved to OUT/teacher.pt).
        dataset: mnist1d, digits, npy, cifar10, cifar100 or stl10.
        data_dir: folder with the dataset files (cifar10/100, stl10, npy).
        num_samples: examples in total: MNIST-1D generates that many (default 10,000 → 8,000 train /
            2,000 test); any other dataset is subsampled, stratified by class.
        data_seed: seed of the data (MNIST-1D generation, digits/npy split).
        epochs: student epochs.
        teacher_epochs: teacher epochs (default: same as epochs).
        seed: seed of weights, batch order, augmentation and negative draws.
        out: output folder.
        batch_size: batch size (64 in CRD).
        lr: learning rate (0.05 in CRD; 0.01 for MobileNetV2/ShuffleNet students there).
        optimizer: sgd (momentum 0.9) or adam.
        weight_decay: weight decay (5e-4 in CRD).
        schedule: step (÷10 at 5/8, 3/4, 7/8 of training, as CRD's 150/180/210 of 240), cosine or constant.
        augment: random crop + flip (default: on for colour images, off otherwise).
        ce_weight: weight of cross-entropy (default per method; see docs/distill.md).
        kd_weight: weight of the KD term.
        contrast_weight: weight of the contrastive term.
        kd_temperature: KD temperature T.
        alpha: ML-CPC's α.
        nce_k: negatives per sample drawn from the memory bank.
        nce_temperature: temperature of the contrastive logits.
        memory_momentum: momentum of the memory banks.
        embed_dim: size of the contrastive embeddings.
        negatives: other_class (official CRD) or uniform.
        device: cpu, cuda, cuda:1, ...
        resume: continue the run in OUT (refused when OUT holds a run with other settings).
        overwrite: delete a non-empty OUT first and start over.
        progress: show a progress bar (default: on a terminal).
        quiet: print nothing but the final line.
    """
    # Everything but where and how it runs must match for OUT to be resumed (read before any local is made).
    settings = {k: v for k, v in locals().items() if k not in ("out", "resume", "overwrite", "device", "progress",
                                                                "quiet")}
    from ..data import load_dataset

    if student is None:
        raise ValueError("give the student architecture: --student ARCH (e.g. mlp_small, resnet8x4)")
    if (teacher is None) == (train_teacher is None):
        raise ValueError("give exactly one of --teacher CKPT and --train_teacher ARCH")
    for flag, arch in (("--student", student), ("--train_teacher", train_teacher)):
        if arch is not None:
            _check_arch(flag, arch)
    canonical_method(method)
    if teacher is not None and not Path(teacher).is_file():
        raise ValueError(f"--teacher {str(teacher)!r}: no such file (a teacher.pt written by an earlier "
                         "`infobound distill --train_teacher ARCH` run)")
    if epochs < 1 or (teacher_epochs is not None and teacher_epochs < 1):
        raise ValueError(f"--epochs and --teacher_epochs must be >= 1, got {epochs} and {teacher_epochs}")
    log = None if quiet else (lambda s: print(s, flush=True))
    kw: dict[str, Any] = {"num_samples": num_samples} if num_samples is not None else {}
    data = load_dataset(dataset, data_dir=data_dir, seed=data_seed, **kw)
    out = Path(out)
    if overwrite and teacher is not None and out.resolve() in Path(teacher).resolve().parents:
        raise ValueError(f"--teacher {str(teacher)!r} lies inside --out {str(out)!r}, which --overwrite true would "
                         "delete; give another --out")
    prepare_out(out, settings, resume=resume, overwrite=overwrite)
    common = dict(batch_size=batch_size, lr=lr, optimizer=optimizer, weight_decay=weight_decay, schedule=schedule,
                  augment=augment, seed=seed, device=device,
                  progress=sys.stderr.isatty() and not quiet if progress is None else progress)
    config = DistillConfig(method=method, ce_weight=ce_weight, kd_weight=kd_weight, contrast_weight=contrast_weight,
                           kd_temperature=kd_temperature, alpha=alpha, nce_k=nce_k, nce_temperature=nce_temperature,
                           memory_momentum=memory_momentum, embed_dim=embed_dim, negatives=negatives)
    start = time.perf_counter()
    if train_teacher is not None:
        if log:
            log(f"training teacher {train_teacher} on {data.name} ...")
        teacher_model, meta = fit_teacher(train_teacher, data, TrainConfig(epochs=teacher_epochs or epochs, **common),
                                            out, resume, log)
        teacher_path = out / "teacher.pt"
    else:
        teacher_path = Path(teacher)  # type: ignore[arg-type]
        teacher_model, meta = load_teacher(teacher_path, data)
    teacher_acc = evaluate(teacher_model, InputPipeline(data.x_train), data.x_test, data.y_test)
    if log:
        log(f"teacher {meta['arch']}: test_acc {teacher_acc:.4f}; distilling {student} with {config.method} ...")
    result = distill_student(student, teacher_model, data, TrainConfig(epochs=epochs, **common), config, out, resume, log,
                             teacher_id=f"{meta['arch']}:{teacher_path.name}:{teacher_acc:.6f}")
    metrics = {
        "student_acc": result.test_acc, "teacher_acc": teacher_acc, "best_student_acc": result.best_test_acc,
        "student": student, "teacher": meta["arch"], "teacher_path": str(teacher_path), "method": config.method,
        "dataset": data.name, "seed": seed, "epochs": epochs, "weights": dict(zip(("ce", "kd", "contrast"), config.weights)),
        "distill": asdict(config), "history": result.history, "train_seconds": result.seconds,
        "wall_seconds": time.perf_counter() - start,
    }
    write_json(out / "metrics.json", metrics)
    print(f"student {student} ({config.method}) test_acc {result.test_acc:.4f} | teacher {meta['arch']} "
          f"{teacher_acc:.4f} -> {out / 'metrics.json'}", flush=True)
    return metrics
