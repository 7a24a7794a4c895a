"""Knowledge distillation: KD, CRD, and ML-CPC / InfoNCE over CRD's memory banks.

- :mod:`.memory`: :class:`MemoryBank` (momentum-updated unit vectors, one per training sample) and
  :class:`NegativeSampler` (K negatives per sample in one tensor op, positives excluded).
- :mod:`.losses`: :class:`KDLoss`, :class:`MemoryContrastLoss` (objective ``crd`` | ``ml_cpc`` |
  ``infonce``, anchored on both sides) and the per-side loss functions.
- :mod:`.train`: :func:`train_teacher`, :func:`distill_student` — a seeded torch loop with per-epoch
  checkpoints and exact resume.
"""

from .losses import (
    CONTRAST_OBJECTIVES,
    Embed,
    KDLoss,
    MemoryContrastLoss,
    crd_nce_loss,
    alpha_cpc_memory_loss,
    infonce_memory_loss,
    ml_cpc_memory_loss,
)
from .memory import MemoryBank, NegativeSampler, check_indices
from .train import (
    METHOD_WEIGHTS,
    DistillConfig,
    DistillObjective,
    InputPipeline,
    TrainConfig,
    TrainResult,
    available_methods,
    canonical_method,
    distill_student,
    evaluate,
    fit,
    load_teacher,
    random_crop_flip,
    save_teacher,
    train_teacher,
)

__all__ = [
    "CONTRAST_OBJECTIVES", "DistillConfig", "DistillObjective", "Embed", "InputPipeline", "KDLoss", "METHOD_WEIGHTS",
    "MemoryBank", "MemoryContrastLoss", "NegativeSampler", "TrainConfig", "TrainResult",
    "available_methods", "canonical_method", "check_indices", "crd_nce_loss", "distill_student", "evaluate", "fit",
    "alpha_cpc_memory_loss", "infonce_memory_loss", "load_teacher", "ml_cpc_memory_loss", "random_crop_flip", "save_teacher", "train_teacher",
]
