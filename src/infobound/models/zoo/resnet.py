"""CIFAR ResNets as used by CRD (Tian et al. 2020): resnet8 … resnet110, resnet8x4, resnet32x4, ResNet50.

- ``resnet{d}``: He et al.'s CIFAR ResNet, depth d = 6n + 2, three stages of n basic blocks with
  16/32/64 channels (``x4``: 64/128/256 after a 32-channel stem), a 1×1 conv + BN shortcut where the
  shape changes, global average pooling. Penultimate features: 64-d (256-d for ``x4``).
- ``resnet50``: the ImageNet-style bottleneck ResNet-50 (3, 4, 6, 3 blocks; 64…512 planes ×4) with a
  3×3 stride-1 stem for 32×32 inputs. Penultimate features: 2048-d.

Written from the architecture descriptions; layer names differ from the official checkpoints.
"""

from __future__ import annotations

from torch import Tensor, nn

from .base import ZooModel, conv_bn, init_conv_bn


def _shortcut(c_in: int, c_out: int, stride: int) -> nn.Module:
    if stride == 1 and c_in == c_out:
        return nn.Identity()
    return conv_bn(c_in, c_out, kernel=1, stride=stride, relu=False)


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, c_in: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.body = nn.Sequential(conv_bn(c_in, planes, 3, stride), conv_bn(planes, planes, 3, relu=False))
        self.shortcut = _shortcut(c_in, planes, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, c_in: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        out = planes * self.expansion
        self.body = nn.Sequential(conv_bn(c_in, planes, 1), conv_bn(planes, planes, 3, stride),
                                  conv_bn(planes, out, 1, relu=False))
        self.shortcut = _shortcut(c_in, out, stride)
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


def _stage(block: type[BasicBlock] | type[Bottleneck], c_in: int, planes: int, blocks: int, stride: int) -> tuple[nn.Sequential, int]:
    layers = []
    for i in range(blocks):
        layers.append(block(c_in, planes, stride if i == 0 else 1))
        c_in = planes * block.expansion
    return nn.Sequential(*layers), c_in


class CifarResNet(ZooModel):
    """Stem conv → stages → global average pool → linear classifier."""

    def __init__(self, block: type[BasicBlock] | type[Bottleneck], blocks: list[int], widths: list[int], stem: int,
                 num_classes: int, in_channels: int = 3) -> None:
        super().__init__()
        self.stem = conv_bn(in_channels, stem, 3)
        stages, c = [], stem
        for i, (n, w) in enumerate(zip(blocks, widths)):
            stage, c = _stage(block, c, w, n, 1 if i == 0 else 2)
            stages.append(stage)
        self.stages = nn.Sequential(*stages)
        self.pool = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.feature_dim = c
        self.classifier = nn.Linear(c, num_classes)
        init_conv_bn(self)

    def features(self, x: Tensor) -> Tensor:
        return self.pool(self.stages(self.stem(x)))


def cifar_resnet(depth: int, num_classes: int, in_channels: int = 3, width: int = 1) -> CifarResNet:
    """``resnet{depth}`` (depth = 6n + 2); ``width=4`` gives CRD's resnet8x4 / resnet32x4."""
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"CIFAR ResNet depth must be 6n + 2 >= 8, got {depth}")
    n = (depth - 2) // 6
    if width == 1:
        return CifarResNet(BasicBlock, [n] * 3, [16, 32, 64], 16, num_classes, in_channels)
    return CifarResNet(BasicBlock, [n] * 3, [16 * width, 32 * width, 64 * width], 8 * width, num_classes, in_channels)


def resnet50(num_classes: int, in_channels: int = 3) -> CifarResNet:
    """Bottleneck ResNet-50 with a 3×3 stride-1 stem (CRD's ``ResNet50`` teacher)."""
    return CifarResNet(Bottleneck, [3, 4, 6, 3], [64, 128, 256, 512], 64, num_classes, in_channels)
