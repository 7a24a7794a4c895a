"""Encoders for representation learning: MLP, 1-D CNN (MNIST-1D), CIFAR ResNet-18, a small ViT.

The stage interface (what every encoder of the library offers, and what a user-supplied encoder
implements to get InfoCL's LBE on more than h):

* ``encoder.output_dim``: the width of the representation h;
* ``encoder(x) -> h`` of shape ``[n, output_dim]``: the representation that is probed (projection
  heads sit on top of it);
* ``encoder.forward_stages(x) -> [s_1, ..., s_S]``: the output of every stage, shallowest first,
  each ``[n, c_s]`` (spatial / temporal positions averaged), and **the last one is h itself**
  (``forward_stages(x)[-1]`` equals ``encoder(x)``, same tensor, same graph).

InfoCL's LBE regularises the last three stages (weights 0.25, 0.5, 1), so the stage that makes h is
always among them (Wang et al., CVPR 2022: ResNet layer2, layer3 and layer4 = h). :func:`encoder_stages`
reads the stages of any ``nn.Module``: one without ``forward_stages`` has the single stage ``[h]``
(LBE then regularises h only, as the official ImageNet runs do).
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
from torch import Tensor, nn


class Encoder(nn.Module):
    """Base of the encoders: subclasses set ``output_dim`` and implement :meth:`forward_stages`."""

    output_dim: int

    def forward_stages(self, x: Tensor) -> list[Tensor]:
        """Every stage's ``[n, c_s]`` output, shallowest first; the last is the representation h ``[n, output_dim]``."""
        raise NotImplementedError

    def forward(self, x: Tensor) -> Tensor:
        """The representation h ``[n, output_dim]`` (the last stage)."""
        return self.forward_stages(x)[-1]


def encoder_stages(encoder: nn.Module, x: Tensor) -> list[Tensor]:
    """The stages of any encoder on ``x``, shallowest first, the last being h = ``encoder(x)``.

    Uses ``encoder.forward_stages`` when the module has one (checked: a list of ``[n, c]`` tensors
    ending with h of width ``output_dim`` when the module declares one); a module without it has
    the single stage ``[encoder(x)]``.
    """
    if not hasattr(encoder, "forward_stages"):
        h = encoder(x)
        if not isinstance(h, Tensor) or h.dim() != 2:
            raise ValueError(f"{type(encoder).__name__}(x) must return h of shape [n, d], got "
                             f"{tuple(h.shape) if isinstance(h, Tensor) else type(h).__name__}")
        return [h]
    stages = list(encoder.forward_stages(x))
    if not stages or any(not isinstance(s, Tensor) or s.dim() != 2 or s.shape[0] != x.shape[0] for s in stages):
        raise ValueError(f"{type(encoder).__name__}.forward_stages(x) must return a non-empty list of [n, c] tensors "
                         f"(n = {x.shape[0]}), got {[tuple(s.shape) if isinstance(s, Tensor) else type(s).__name__ for s in stages]}")
    width = getattr(encoder, "output_dim", None)
    if width is not None and stages[-1].shape[1] != width:
        raise ValueError(f"{type(encoder).__name__}.forward_stages(x)[-1] must be h of width output_dim = {width}, "
                         f"got {tuple(stages[-1].shape)}")
    return stages


class MLPEncoder(Encoder):
    """Flatten, then ``layers`` × (Linear → BatchNorm → ReLU) of width ``hidden``, then Linear to ``output_dim``.

    Stages: each hidden layer's output, then h (the output layer).
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

    def forward_stages(self, x: Tensor) -> list[Tensor]:
        z, stages = x.flatten(1), []
        for layer in self.hidden:
            z = layer(z)
            stages.append(z)
        stages.append(self.out(z))
        return stages


class CNN1DEncoder(Encoder):
    """1-D CNN for signals ``[N, L]`` or ``[N, C, L]``: conv stages (kernel 5, stride 2, BatchNorm, ReLU) of
    ``channels`` widths, then flatten → Linear → ReLU to ``output_dim``.

    With the defaults on MNIST-1D (L = 40): 40 → 20 → 10 → 5 steps, 32 / 32 / 64 channels, 320 → 128.
    Stages: each conv stage's output averaged over the length, then h (the head's output).
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

    def forward_stages(self, x: Tensor) -> list[Tensor]:
        z = x.unsqueeze(1) if x.dim() == 2 else x
        stages = []
        for stage in self.stages:
            z = stage(z)
            stages.append(z.mean(-1))
        stages.append(self.head(z))
        return stages


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
    average pool. Stages: the pooled outputs of the four residual stages (64, 128, 256, 512 channels); the
    last is h.
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

    def forward_stages(self, x: Tensor) -> list[Tensor]:
        z, stages = self.stem(x), []
        for stage in self.stages:
            z = stage(z)
            stages.append(z.mean((-2, -1)))
        return stages


class ViTEncoder(Encoder):
    """A small Vision Transformer (Dosovitskiy et al. 2021) for signals ``(L,)`` / ``(C, L)`` and images ``(C, H, W)``.

    Non-overlapping patches (length ``patch_size`` for signals, ``patch_size``² for images) are
    embedded linearly, a class token and learned position embeddings are added, then ``depth``
    pre-norm Transformer blocks (multi-head self-attention and a GELU MLP of width
    ``mlp_ratio · dim``) and a final LayerNorm; h is the class token's output (MoCo v3's ViT
    recipe, scaled down: the defaults have 4 blocks of width 64, ~0.14 M parameters).

    Stages: the class token after each block, the last one after the final LayerNorm (= h).
    """

    def __init__(self, input_shape: Sequence[int], patch_size: int = 4, dim: int = 64, depth: int = 4, heads: int = 4,
                 mlp_ratio: float = 2.0, dropout: float = 0.0) -> None:
        super().__init__()
        shape = tuple(input_shape)
        if len(shape) not in (1, 2, 3):
            raise ValueError(f"ViTEncoder expects input_shape (L,), (C, L) or (C, H, W), got {shape}")
        if depth < 1 or dim % heads:
            raise ValueError(f"need depth >= 1 and dim divisible by heads, got depth={depth}, dim={dim}, heads={heads}")
        spatial = shape[-1:] if len(shape) <= 2 else shape[1:]
        if any(side % patch_size for side in spatial):
            raise ValueError(f"`patch_size` {patch_size} must divide the input's length/sides {spatial}")
        channels = 1 if len(shape) == 1 else shape[0]
        conv = nn.Conv1d if len(shape) <= 2 else nn.Conv2d
        self.signal = len(shape) == 1
        self.embed = conv(channels, dim, patch_size, stride=patch_size)  # the linear patch embedding
        tokens = math.prod(side // patch_size for side in spatial)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.02)
        self.blocks = nn.ModuleList(
            nn.TransformerEncoderLayer(dim, heads, int(mlp_ratio * dim), dropout, activation="gelu", batch_first=True,
                                       norm_first=True) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.output_dim = dim

    def forward_stages(self, x: Tensor) -> list[Tensor]:
        z = self.embed(x.unsqueeze(1) if self.signal else x).flatten(2).transpose(1, 2)  # [n, tokens, dim]
        z = torch.cat([self.cls.expand(len(z), -1, -1), z], dim=1) + self.pos
        stages = []
        for block in self.blocks:
            z = block(z)
            stages.append(z[:, 0])
        stages[-1] = self.norm(z)[:, 0]
        return stages


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
    "vit": ViTEncoder,
    "text_transformer": _text_encoder("TextTransformer"),  # token ids [N, L] or [N, 3, L]; needs vocab_size
    "text_cnn": _text_encoder("TextCNN"),
}


def available_encoders() -> list[str]:
    return sorted(ENCODERS)


def build_encoder(name: str, input_shape: Sequence[int], **kwargs: object) -> Encoder:
    """An encoder by name (``mlp``, ``cnn1d``, ``resnet18_cifar``, ``vit``, ``text_transformer``, ``text_cnn``)
    for inputs of ``input_shape`` (one example)."""
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
