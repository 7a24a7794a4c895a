"""VGG with batch norm for CIFAR, as in CRD: vgg8, vgg11, vgg13, vgg16, vgg19.

Five blocks of 3×3 conv + BN + ReLU; 2×2 max pooling after blocks 1–3 (and after block 4 only for
inputs of 64 pixels or more, as in CRD's code, so 32×32 inputs reach the last block at 4×4), global
average pooling after the last, one linear classifier (no fully connected stack). Penultimate
features: 512-d.
"""

from __future__ import annotations

from torch import nn

from .base import ZooModel

VGG_CONFIGS: dict[int, list[list[int]]] = {
    8: [[64], [128], [256], [512], [512]],
    11: [[64], [128], [256, 256], [512, 512], [512, 512]],
    13: [[64, 64], [128, 128], [256, 256], [512, 512], [512, 512]],
    16: [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]],
    19: [[64, 64], [128, 128], [256, 256, 256, 256], [512, 512, 512, 512], [512, 512, 512, 512]],
}


class VGG(ZooModel):
    def __init__(self, depth: int, num_classes: int, in_channels: int = 3, image_size: int = 32) -> None:
        super().__init__()
        if depth not in VGG_CONFIGS:
            raise ValueError(f"VGG depth must be one of {sorted(VGG_CONFIGS)}, got {depth}")
        layers: list[nn.Module] = []
        c = in_channels
        for i, block in enumerate(VGG_CONFIGS[depth]):
            for w in block:
                layers += [nn.Conv2d(c, w, 3, 1, 1), nn.BatchNorm2d(w), nn.ReLU(inplace=True)]
                c = w
            if i < 3 or (i == 3 and image_size >= 64):
                layers.append(nn.MaxPool2d(2))
        self.set_body([*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten()], c, num_classes)
