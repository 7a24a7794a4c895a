"""Wide ResNets (Zagoruyko & Komodakis 2016) in CRD's sizes: wrn_16_1, wrn_16_2, wrn_40_1, wrn_40_2.

Depth d = 6n + 4, widen factor k: a 16-channel stem conv, three stages of n pre-activation blocks with
16k / 32k / 64k channels (stride 1, 2, 2), a final BN + ReLU, global average pooling. Penultimate
features: 64k-d. No dropout (CRD's setting).
"""

from __future__ import annotations

from torch import Tensor, nn

from .base import ZooModel, init_conv_bn


class PreActBlock(nn.Module):
    """BN → ReLU → conv3×3(stride) → BN → ReLU → conv3×3, plus the identity or a 1×1 conv shortcut.

    When the shape changes, the shortcut also reads the pre-activated input (as in the WRN paper).
    """

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.pre = nn.Sequential(nn.BatchNorm2d(c_in), nn.ReLU(inplace=True))
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True),
            nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False))
        self.project = None if (c_in == c_out and stride == 1) else nn.Conv2d(c_in, c_out, 1, stride, 0, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        pre = self.pre(x)
        return self.body(pre) + (x if self.project is None else self.project(pre))


class WideResNet(ZooModel):
    def __init__(self, depth: int, widen: int, num_classes: int, in_channels: int = 3) -> None:
        super().__init__()
        if depth < 10 or (depth - 4) % 6:
            raise ValueError(f"WRN depth must be 6n + 4 >= 10, got {depth}")
        n = (depth - 4) // 6
        widths = [16 * widen, 32 * widen, 64 * widen]
        self.stem = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        blocks, c = [], 16
        for i, w in enumerate(widths):
            for j in range(n):
                blocks.append(PreActBlock(c, w, (1 if i == 0 else 2) if j == 0 else 1))
                c = w
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.feature_dim = c
        self.classifier = nn.Linear(c, num_classes)
        init_conv_bn(self)

    def features(self, x: Tensor) -> Tensor:
        return self.head(self.blocks(self.stem(x)))
