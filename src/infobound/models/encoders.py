"""Encoders for representation learning: MLP, 1-D CNN (MNIST-1D), CIFAR ResNet-18.

Every encoder maps a batch to features ``h`` of width ``.output_dim`` (the representation that is
probed; projection heads sit on top of it) and can also return its intermediate *block features*:
``encoder(x, return_blocks=True) -> (h, [b_1, ..., b_S])``, one ``[n, c_s]`` tensor per stage,
spatially average-pooled, shallowest first. InfoCL's LBE regulariser uses the last stages.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import Tensor, nn


class Encoder(nn.Module):
    """Base: subclasses set ``output_dim`` and implement ``blocks(x) -> (h, [block features])``."""

    output_dim: int

    def blocks(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        raise NotImplementedError

    def forward(self, x: Tensor, return_blocks: bool = False) -> Tensor | tuple[Tensor, list[Tensor]]:
        h, blocks = self.blocks(x)
        return (h, blocks) if return_blocks else h


class MLPEncoder(Encoder):
    """Flatten, then ``layers`` × (Linear → BatchNorm → ReLU) of width ``hidden``, then Linear to ``output_dim``.

    Block features: the output of each hidden layer.
    """

    def __init__(self, input_shape: Sequence[int], hidden: int = 256, layers: int = 2, output_dim: int = 128) -> None:
        super().__init__()
        if layers < 1:
            raise ValueError(f"`layers` must be >= 1, got {layers}")
        dims = [math.prod(input_shape)] + [hidden] * layers
        self.hidden = nn.ModuleList(
            nn.Sequential(nn.Linear(a, b), nn.BatchNorm1d(b), nn.ReLU()) for a, b in zip(dims[:-1], dims[1:]))
        self.out = nn.Linear(hidden, output_dim)
        self.output_dim = output_dim

    def blocks(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        z, feats = x.flatten(1), []
        for layer in self.hidden:
            z = layer(z)
            feats.append(z)
        return self.out(z), feats


class CNN1DEncoder(Encoder):
    """1-D CNN for signals ``[N, L]`` or ``[N, C, L]``: conv stages (kernel 5, stride 2, BatchNorm, ReLU) of
    ``channels`` widths, then flatten → Linear → ReLU to ``output_dim``.

    With the defaults on MNIST-1D (L = 40): 40 → 20 → 10 → 5 steps, 32 / 32 / 64 channels, 320 → 128.
    Block features: each stage's output averaged over the length.
    """

    def __init__(self, input_shape: Sequence[int], channels: Sequence[int] = (32, 32, 64), kernel_size: int = 5,
                 output_dim: int = 128) -> None:
        super().__init__()
        if len(input_shape) not in (1, 2):
            raise ValueError(f"CNN1DEncoder expects input_shape (L,) or (C, L), got {tuple(input_shape)}")
        in_ch, length = (1, input_shape[0]) if len(input_shape) == 1 else (input_shape[0], input_shape[1])
        stages = []
        for ch in channels:
            stages.append(nn.Sequential(nn.Conv1d(in_ch, ch, kernel_size, stride=2, padding=kernel_size // 2),
                                        nn.BatchNorm1d(ch), nn.ReLU()))
            in_ch, length = ch, (length - 1) // 2 + 1
        self.stages = nn.ModuleList(stages)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(in_ch * length, output_dim), nn.ReLU())
        self.output_dim = output_dim

    def blocks(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        z = x.unsqueeze(1) if x.dim() == 2 else x
        feats = []
        for stage in self.stages:
            z = stage(z)
            feats.append(z.mean(-1))
        return self.head(z), feats


class _BasicBlock(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_ch != out_ch:
            self.shortcut = nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch))

    def forward(self, x: Tensor) -> Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18Cifar(Encoder):
    """ResNet-18 in its CIFAR form (3×3 stem, no max-pool; He et al. 2016 / SimCLR's CIFAR variant).

    ``width`` scales the channels (64 → 64·width/64 ...); features are the 512-d (at width 64) global
    average pool. Block features: the pooled outputs of the four stages (64, 128, 256, 512 channels).
    """

    def __init__(self, input_shape: Sequence[int] = (3, 32, 32), width: int = 64) -> None:
        super().__init__()
        if len(input_shape) != 3:
            raise ValueError(f"ResNet18Cifar expects input_shape (C, H, W), got {tuple(input_shape)}")
        self.stem = nn.Sequential(nn.Conv2d(input_shape[0], width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        stages, in_ch = [], width
        for i, stride in enumerate((1, 2, 2, 2)):
            out_ch = width * 2**i
            stages.append(nn.Sequential(_BasicBlock(in_ch, out_ch, stride), _BasicBlock(out_ch, out_ch, 1)))
            in_ch = out_ch
        self.stages = nn.ModuleList(stages)
        self.output_dim = in_ch

    def blocks(self, x: Tensor) -> tuple[Tensor, list[Tensor]]:
        z, feats = self.stem(x), []
        for stage in self.stages:
            z = stage(z)
            feats.append(z.mean((-2, -1)))
        return feats[-1], feats


def _text_encoder(name: str) -> Callable[..., Encoder]:
    """The text encoders live in :mod:`.text` (which imports :class:`Encoder` from here): load on use."""
    def build(input_shape: Sequence[int], **kwargs: object) -> Encoder:
        from . import text

        return getattr(text, name)(input_shape, **kwargs)
    return build


ENCODERS: dict[str, Callable[..., Encoder]] = {
    "mlp": MLPEncoder,
    "cnn1d": CNN1DEncoder,
    "resnet18_cifar": ResNet18Cifar,
    "text_transformer": _text_encoder("TextTransformer"),  # token ids [N, L] or [N, 2, L]; needs vocab_size
    "text_cnn": _text_encoder("TextCNN"),
}


def available_encoders() -> list[str]:
    return sorted(ENCODERS)


def build_encoder(name: str, input_shape: Sequence[int], **kwargs: object) -> Encoder:
    """An encoder by name (``mlp``, ``cnn1d``, ``resnet18_cifar``, ``text_transformer``, ``text_cnn``) for
    inputs of ``input_shape`` (one example)."""
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; expected one of {available_encoders()}")
    return ENCODERS[name](tuple(input_shape), **kwargs)


def default_encoder(input_shape: Sequence[int]) -> str:
    """``cnn1d`` for signals, ``resnet18_cifar`` for 3-channel images of side ≥ 32, else ``mlp``."""
    shape = tuple(input_shape)
    if len(shape) in (1, 2):
        return "cnn1d"
    if len(shape) == 3 and shape[0] == 3 and min(shape[1:]) >= 32:
        return "resnet18_cifar"
    return "mlp"
