"""The encoders of Tschannen et al.'s experiments, all reading flat views ``[n, D]``.

- ``mlp``: the paper's MLP encoder D → 300 → 300 → 100 (ReLU), §3.2–3.3;
- ``convnet``: the paper's ConvNet, two stride-2 5×5 convolutions (64 and 128 channels, ReLU),
  layer normalisation over (C, H, W) with a per-channel scale and bias, global average pooling and
  a linear layer to 100 (§3.3); 1-D signals get the same network with 1-D convolutions;
- ``flow``: a coupling flow (:class:`~infobound.models.flows.CouplingFlow`), §3.1;
- ``resmlp``: the residual MLP of the condition-number study (:class:`~infobound.models.flows.ResidualMLP`).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from torch import Tensor, nn

from ...models.flows import CouplingFlow, ResidualMLP
from ...models.mlp import mlp


class ConvNetEncoder(nn.Module):
    """Tschannen et al.'s ConvNet on a flat view reshaped to ``view_shape`` ((C, H, W) or (L,)).

    ``GroupNorm(1, ·)`` is exactly the paper's LayerNorm: statistics over (C, H, W) of each example,
    one learned scale and bias per channel.
    """

    def __init__(self, view_shape: Sequence[int], channels: int = 64, kernel_size: int = 5, output_dim: int = 100) -> None:
        super().__init__()
        shape = tuple(int(s) for s in view_shape)
        if len(shape) == 1:
            shape = (1, shape[0])
        if len(shape) not in (2, 3):
            raise ValueError(f"ConvNet views must be (L,), (C, L) or (C, H, W), got {tuple(view_shape)}")
        conv = nn.Conv1d if len(shape) == 2 else nn.Conv2d
        pad = kernel_size // 2
        self.view_shape = shape
        self.net = nn.Sequential(
            conv(shape[0], channels, kernel_size, stride=2, padding=pad), nn.ReLU(),
            conv(channels, 2 * channels, kernel_size, stride=2, padding=pad), nn.ReLU(),
            nn.GroupNorm(1, 2 * channels),
        )
        self.head = nn.Linear(2 * channels, output_dim)
        self.output_dim = output_dim

    def forward(self, x: Tensor) -> Tensor:
        h = self.net(x.reshape(len(x), *self.view_shape))
        return self.head(h.flatten(2).mean(dim=2))


class MLPEncoder(nn.Module):
    """The paper's MLP encoder: D → hidden → hidden → output (ReLU), ``output_dim`` attribute for critics."""

    def __init__(self, input_dim: int, hidden: int = 300, output_dim: int = 100, layers: int = 2) -> None:
        super().__init__()
        self.net = mlp(input_dim, hidden, output_dim, layers)
        self.output_dim = output_dim

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


def build_encoder(kind: str, view_shape: Sequence[int], **kwargs: Any) -> nn.Module:
    """One encoder by name (``mlp``, ``convnet``, ``flow``, ``resmlp``) for flat views of ``view_shape``."""
    dim = int(math.prod(view_shape))
    if kind == "mlp":
        return MLPEncoder(dim, **kwargs)
    if kind == "convnet":
        return ConvNetEncoder(view_shape, **kwargs)
    if kind == "flow":
        return CouplingFlow(dim, **kwargs)
    if kind == "resmlp":
        return ResidualMLP(dim, **kwargs)
    raise ValueError(f"unknown encoder {kind!r}; expected mlp, convnet, flow or resmlp")


__all__ = ["ConvNetEncoder", "MLPEncoder", "build_encoder"]
