"""Heads on top of an encoder: the contrastive projection head and InfoCL's reconstruction decoder."""

from __future__ import annotations

import math
from typing import Sequence

from torch import Tensor, nn


class ProjectionHead(nn.Module):
    """SimCLR / MoCo v2 projection MLP: ``layers − 1`` × (Linear → BatchNorm → ReLU), then Linear to ``out_dim``.

    The contrastive loss sees its output ``z``; probes use the encoder's features before it.
    """

    def __init__(self, in_dim: int, hidden_dim: int = 256, out_dim: int = 64, layers: int = 2,
                 batch_norm: bool = True, bias: bool = True) -> None:
        super().__init__()
        if layers < 1:
            raise ValueError(f"`layers` must be >= 1, got {layers}")
        modules: list[nn.Module] = []
        dim = in_dim
        for _ in range(layers - 1):
            modules += [nn.Linear(dim, hidden_dim, bias=bias), *([nn.BatchNorm1d(hidden_dim)] if batch_norm else []),
                        nn.ReLU()]
            dim = hidden_dim
        modules.append(nn.Linear(dim, out_dim, bias=bias))
        self.net = nn.Sequential(*modules)
        self.out_dim = out_dim

    def forward(self, h: Tensor) -> Tensor:
        return self.net(h)


class ReconstructionDecoder(nn.Module):
    """InfoCL's RC decoder: an MLP from the backbone feature ``h`` back to an input of ``output_shape``
    (the augmented view it was computed from), trained with MSE."""

    def __init__(self, in_dim: int, output_shape: Sequence[int], hidden_dim: int = 256) -> None:
        super().__init__()
        self.output_shape = tuple(output_shape)
        self.net = nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, math.prod(output_shape)))

    def forward(self, h: Tensor) -> Tensor:
        return self.net(h).view(len(h), *self.output_shape)
