"""Teacher/student model zoo for distillation: ``build_model(name, num_classes, input_shape)``.

Every model is a :class:`ZooModel`: ``forward(x)`` returns logits, ``forward(x, return_features=True)``
returns ``(logits, penultimate features)``, and ``model.feature_dim`` is the feature size.

- Small pairs for MNIST-1D and digits (any input shape): ``mlp_large``, ``mlp_small``, ``cnn1d_large``,
  ``cnn1d_small``.
- CRD's CIFAR architectures (inputs ``[C, H, W]``, built for 32×32): ``resnet8`` … ``resnet110``,
  ``resnet8x4``, ``resnet32x4``, ``resnet50``, ``wrn_16_1``, ``wrn_16_2``, ``wrn_40_1``, ``wrn_40_2``,
  ``vgg8`` … ``vgg19`` (with BN), ``mobilenetv2`` (CRD's ``mobile_half``), ``shufflev1``, ``shufflev2``.

Names are case-insensitive and ``-`` equals ``_``; CRD's spellings (``MobileNetV2``, ``ShuffleV1``,
``ResNet50``, ``wrn-40-2``) work too.
"""

from __future__ import annotations

from functools import partial
from typing import Callable, Sequence

from ..._names import canonical
from .base import ZooModel
from .mobile import MobileNetV2, ShuffleNetV1, ShuffleNetV2
from .resnet import cifar_resnet, resnet50
from .small import cnn1d_large, cnn1d_small, mlp_large, mlp_small
from .vgg import VGG
from .wrn import WideResNet

Builder = Callable[[int, tuple[int, ...]], ZooModel]


def _image(fn: Callable[..., ZooModel], sized: bool = False) -> Builder:
    """Wrap a CIFAR architecture: it needs ``[C, H, W]`` inputs and takes C (and, if ``sized``, H) from the shape."""

    def build(num_classes: int, input_shape: tuple[int, ...]) -> ZooModel:
        if len(input_shape) != 3:
            raise ValueError(f"this architecture takes images [C, H, W]; got input shape {tuple(input_shape)} "
                             "(use mlp_* or cnn1d_* for signals and flat inputs)")
        extra = {"image_size": input_shape[1]} if sized else {}
        return fn(num_classes=num_classes, in_channels=input_shape[0], **extra)

    return build


MODELS: dict[str, Builder] = {
    "mlp_large": mlp_large,
    "mlp_small": mlp_small,
    "cnn1d_large": cnn1d_large,
    "cnn1d_small": cnn1d_small,
    **{f"resnet{d}": _image(partial(cifar_resnet, d)) for d in (8, 14, 20, 32, 44, 56, 110)},
    "resnet8x4": _image(partial(cifar_resnet, 8, width=4)),
    "resnet32x4": _image(partial(cifar_resnet, 32, width=4)),
    "resnet50": _image(resnet50),
    **{f"wrn_{d}_{k}": _image(partial(WideResNet, d, k)) for d in (16, 40) for k in (1, 2)},
    **{f"vgg{d}": _image(partial(VGG, d), sized=True) for d in (8, 11, 13, 16, 19)},
    "mobilenetv2": _image(MobileNetV2),
    "shufflev1": _image(ShuffleNetV1),
    "shufflev2": _image(ShuffleNetV2),
}
"""Zoo builders by canonical name: ``fn(num_classes, input_shape) -> ZooModel``."""

_ALIASES = {"mobile_half": "mobilenetv2", "shufflenetv1": "shufflev1", "shufflenetv2": "shufflev2"}

CRD_PAIRS: list[tuple[str, str]] = [
    ("wrn_40_2", "wrn_16_2"), ("wrn_40_2", "wrn_40_1"), ("resnet56", "resnet20"), ("resnet110", "resnet20"),
    ("resnet110", "resnet32"), ("resnet32x4", "resnet8x4"), ("vgg13", "vgg8"),
    ("vgg13", "mobilenetv2"), ("resnet50", "mobilenetv2"), ("resnet50", "vgg8"), ("resnet32x4", "shufflev1"),
    ("resnet32x4", "shufflev2"), ("wrn_40_2", "shufflev1"),
]
"""The 13 teacher → student pairs of CRD's CIFAR-100 tables (7 same-family, 6 cross-family)."""


def canonical_name(name: str) -> str:
    """The zoo's key for ``name`` (case, ``-``/``_`` and CRD's spellings accepted)."""
    return canonical(name, MODELS, "model", _ALIASES)


def available_models() -> list[str]:
    return sorted(MODELS)


def build_model(name: str, num_classes: int, input_shape: Sequence[int]) -> ZooModel:
    """Build a zoo model by name for ``num_classes`` classes and inputs of ``input_shape`` (one example)."""
    if int(num_classes) < 2:
        raise ValueError(f"`num_classes` must be >= 2, got {num_classes}")
    shape = tuple(int(s) for s in input_shape)
    if not shape or min(shape) < 1:
        raise ValueError(f"`input_shape` must be a non-empty shape of positive sizes, got {tuple(input_shape)}")
    return MODELS[canonical_name(name)](int(num_classes), shape)


__all__ = ["CRD_PAIRS", "MODELS", "ZooModel", "available_models", "build_model", "canonical_name"]
