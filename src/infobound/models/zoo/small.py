"""Small teacher/student pairs for MNIST-1D (40-sample signals) and sklearn digits (8×8).

They accept any input shape: the MLPs flatten it; the 1-D CNNs read ``[C, L]`` (a signal ``[L]`` is
one channel; an image ``[C, H, W]`` is read row by row as ``[C, H·W]``).

============  ====================================================  ======  ========
name          layers                                                 feats   params*
============  ====================================================  ======  ========
mlp_large     3 × 512 ReLU                                           512     ~550k
mlp_small     2 × 64 ReLU                                            64      ~7k
cnn1d_large   conv 64-64-128-128 (k 5/5/5/3, BN), dense 256          256     ~240k
cnn1d_small   conv 8-16-16 (k 5/5/3, stride 2, BN), dense 32         32      ~4k
============  ====================================================  ======  ========

(*) for MNIST-1D, 10 classes.
"""

from __future__ import annotations

import math
from typing import Sequence

from torch import Tensor, nn

from ..mlp import mlp
from .base import ZooModel, init_conv_bn


class MLPNet(ZooModel):
    """``layers`` hidden layers of width ``hidden`` (ReLU) on the flattened input; features = last hidden layer."""

    def __init__(self, input_shape: Sequence[int], num_classes: int, hidden: int, layers: int) -> None:
        super().__init__()
        in_dim = math.prod(input_shape)
        self.body = nn.Sequential(nn.Flatten(), mlp(in_dim, hidden, hidden, layers=layers - 1), nn.ReLU())
        self.feature_dim = hidden
        self.classifier = nn.Linear(hidden, num_classes)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)


def _signal_shape(input_shape: Sequence[int]) -> tuple[int, int]:
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 1:
        return 1, shape[0]
    if len(shape) in (2, 3):
        return shape[0], math.prod(shape[1:])
    raise ValueError(f"1-D CNNs take inputs of shape [L], [C, L] or [C, H, W], got {shape}")


class CNN1d(ZooModel):
    """Strided 1-D conv + BN + ReLU stages, flattened (MNIST-1D's class depends on position) into a dense layer."""

    def __init__(self, input_shape: Sequence[int], num_classes: int, channels: Sequence[int], kernels: Sequence[int],
                 strides: Sequence[int], dense: int) -> None:
        super().__init__()
        self.in_channels, length = _signal_shape(input_shape)
        layers: list[nn.Module] = []
        c = self.in_channels
        for w, k, s in zip(channels, kernels, strides):
            layers += [nn.Conv1d(c, w, k, s, k // 2, bias=False), nn.BatchNorm1d(w), nn.ReLU(inplace=True)]
            c = w
            length = (length + 2 * (k // 2) - k) // s + 1
        self.conv = nn.Sequential(*layers)
        self.dense = nn.Sequential(nn.Flatten(), nn.Linear(c * length, dense), nn.ReLU(inplace=True))
        self.feature_dim = dense
        self.classifier = nn.Linear(dense, num_classes)
        init_conv_bn(self)

    def features(self, x: Tensor) -> Tensor:
        return self.dense(self.conv(x.reshape(x.shape[0], self.in_channels, -1)))


def mlp_large(num_classes: int, input_shape: Sequence[int]) -> MLPNet:
    return MLPNet(input_shape, num_classes, hidden=512, layers=3)


def mlp_small(num_classes: int, input_shape: Sequence[int]) -> MLPNet:
    return MLPNet(input_shape, num_classes, hidden=64, layers=2)


def cnn1d_large(num_classes: int, input_shape: Sequence[int]) -> CNN1d:
    return CNN1d(input_shape, num_classes, channels=(64, 64, 128, 128), kernels=(5, 5, 5, 3), strides=(1, 2, 2, 2),
                 dense=256)


def cnn1d_small(num_classes: int, input_shape: Sequence[int]) -> CNN1d:
    return CNN1d(input_shape, num_classes, channels=(8, 16, 16), kernels=(5, 5, 3), strides=(2, 2, 2), dense=32)
