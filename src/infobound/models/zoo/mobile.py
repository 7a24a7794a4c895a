"""Mobile architectures of CRD's cross-family pairs: MobileNetV2 (width 0.5), ShuffleNetV1, ShuffleNetV2.

- ``mobilenetv2``: CRD's ``mobile_half``: MobileNetV2 (Sandler et al. 2018) with width multiplier 0.5,
  expansion 6, a stride-2 stem and the CIFAR stride pattern (second stage at stride 1); a 1×1 conv to
  1280 channels, global pooling. Penultimate features: 1280-d.
- ``shufflev1``: ShuffleNet (Zhang et al. 2018), 3 groups, stages of 4/8/4 units with 240/480/960
  channels, 1×1 stem with 24 channels. Penultimate features: 960-d.
- ``shufflev2``: ShuffleNetV2 (Ma et al. 2018), size 1×: stages of 3/7/3 units with 116/232/464
  channels, then a 1×1 conv to 1024. Penultimate features: 1024-d.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from .base import ZooModel, conv_bn


def channel_shuffle(x: Tensor, groups: int) -> Tensor:
    n, c, h, w = x.shape
    return x.view(n, groups, c // groups, h, w).transpose(1, 2).reshape(n, c, h, w)


# ----------------------------------------------------------------------------------------- MobileNetV2


class InvertedResidual(nn.Module):
    """1×1 expand → 3×3 depthwise (stride) → 1×1 linear projection, residual when shapes match."""

    def __init__(self, c_in: int, c_out: int, stride: int, expansion: int) -> None:
        super().__init__()
        hidden = c_in * expansion
        self.body = nn.Sequential(conv_bn(c_in, hidden, 1), conv_bn(hidden, hidden, 3, stride, groups=hidden),
                                  conv_bn(hidden, c_out, 1, relu=False))
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: Tensor) -> Tensor:
        out = self.body(x)
        return x + out if self.residual else out


class MobileNetV2(ZooModel):
    # (expansion, channels, units, stride); the second stage keeps stride 1 for 32×32 inputs.
    SETTINGS = [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, num_classes: int, width: float = 0.5, in_channels: int = 3, last_channels: int = 1280) -> None:
        super().__init__()
        c = int(32 * width)
        layers: list[nn.Module] = [conv_bn(in_channels, c, 3, 2)]
        for t, channels, units, stride in self.SETTINGS:
            out = int(channels * width)
            for i in range(units):
                layers.append(InvertedResidual(c, out, stride if i == 0 else 1, t))
                c = out
        layers += [conv_bn(c, last_channels, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.set_body(layers, last_channels, num_classes)


# ---------------------------------------------------------------------------------------- ShuffleNetV1


class ShuffleUnitV1(nn.Module):
    """Grouped 1×1 → shuffle → 3×3 depthwise (stride) → grouped 1×1; add (stride 1) or concatenate with
    a 3×3 average-pooled shortcut (stride 2)."""

    def __init__(self, c_in: int, c_out: int, stride: int, groups: int) -> None:
        super().__init__()
        self.stride = stride
        branch_out = c_out - c_in if stride == 2 else c_out
        mid = branch_out // 4
        first_groups = 1 if c_in == 24 else groups  # the stem's 24 channels are not grouped
        self.groups = first_groups
        self.reduce = conv_bn(c_in, mid, 1, groups=first_groups)
        self.depthwise = conv_bn(mid, mid, 3, stride, groups=mid)
        self.expand = conv_bn(mid, branch_out, 1, groups=groups, relu=False)
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.AvgPool2d(3, 2, 1) if stride == 2 else None

    def forward(self, x: Tensor) -> Tensor:
        out = channel_shuffle(self.reduce(x), self.groups)
        out = self.expand(self.depthwise(out))
        if self.pool is not None:
            return self.relu(torch.cat([out, self.pool(x)], 1))
        return self.relu(out + x)


class ShuffleNetV1(ZooModel):
    def __init__(self, num_classes: int, in_channels: int = 3, widths: tuple[int, ...] = (240, 480, 960),
                 units: tuple[int, ...] = (4, 8, 4), groups: int = 3) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv_bn(in_channels, 24, 1)]
        c = 24
        for w, n in zip(widths, units):
            for i in range(n):
                layers.append(ShuffleUnitV1(c, w, 2 if i == 0 else 1, groups))
                c = w
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.set_body(layers, c, num_classes)


# ---------------------------------------------------------------------------------------- ShuffleNetV2


class ShuffleUnitV2(nn.Module):
    """Split channels in half; the right half goes 1×1 → 3×3 depthwise → 1×1; concatenate, shuffle."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        half = channels // 2
        self.branch = nn.Sequential(conv_bn(half, half, 1), conv_bn(half, half, 3, groups=half, relu=False),
                                    conv_bn(half, half, 1))

    def forward(self, x: Tensor) -> Tensor:
        left, right = x.chunk(2, dim=1)
        return channel_shuffle(torch.cat([left, self.branch(right)], 1), 2)


class DownUnitV2(nn.Module):
    """Both branches downsample (3×3 depthwise, stride 2) and each produces half the output channels."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        half = c_out // 2
        self.left = nn.Sequential(conv_bn(c_in, c_in, 3, 2, groups=c_in, relu=False), conv_bn(c_in, half, 1))
        self.right = nn.Sequential(conv_bn(c_in, half, 1), conv_bn(half, half, 3, 2, groups=half, relu=False),
                                   conv_bn(half, half, 1))

    def forward(self, x: Tensor) -> Tensor:
        return channel_shuffle(torch.cat([self.left(x), self.right(x)], 1), 2)


class ShuffleNetV2(ZooModel):
    def __init__(self, num_classes: int, in_channels: int = 3, widths: tuple[int, ...] = (116, 232, 464),
                 units: tuple[int, ...] = (3, 7, 3), last_channels: int = 1024) -> None:
        super().__init__()
        layers: list[nn.Module] = [conv_bn(in_channels, 24, 1)]
        c = 24
        for w, n in zip(widths, units):
            layers.append(DownUnitV2(c, w))
            layers += [ShuffleUnitV2(w) for _ in range(n)]
            c = w
        layers += [conv_bn(c, last_channels, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.set_body(layers, last_channels, num_classes)
