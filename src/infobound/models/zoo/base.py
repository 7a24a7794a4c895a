"""What every zoo model shares: ``forward(x, return_features=False)`` and ``feature_dim``."""

from __future__ import annotations

from torch import Tensor, nn


class ZooModel(nn.Module):
    """A classifier split into a feature extractor and one linear layer.

    Subclasses set ``self.feature_dim``, build ``self.classifier = nn.Linear(feature_dim, num_classes)``
    and either implement :meth:`features` or, for a plain stack of layers, call :meth:`set_body`.
    ``forward(x, return_features=True)`` returns ``(logits, features)`` where ``features`` is the
    penultimate layer (after global pooling): what CRD embeds.
    """

    feature_dim: int
    classifier: nn.Linear

    def set_body(self, layers: list[nn.Module], feature_dim: int, num_classes: int) -> None:
        """Features = ``nn.Sequential(*layers)`` of width ``feature_dim``, then a linear classifier;
        convolutions and batch norms initialised as in CRD's code (:func:`init_conv_bn`)."""
        self.body = nn.Sequential(*layers)
        self.feature_dim = feature_dim
        self.classifier = nn.Linear(feature_dim, num_classes)
        init_conv_bn(self)

    def features(self, x: Tensor) -> Tensor:
        return self.body(x)

    def forward(self, x: Tensor, return_features: bool = False) -> Tensor | tuple[Tensor, Tensor]:
        feats = self.features(x)
        logits = self.classifier(feats)
        return (logits, feats) if return_features else logits


def init_conv_bn(module: nn.Module) -> None:
    """He-normal convolutions (fan-out), unit/zero batch norms, zero linear biases."""
    for m in module.modules():
        if isinstance(m, (nn.Conv1d, nn.Conv2d)):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)


def conv_bn(c_in: int, c_out: int, kernel: int = 3, stride: int = 1, groups: int = 1, relu: bool = True) -> nn.Sequential:
    """Conv2d (no bias, 'same' padding for odd kernels) + BatchNorm2d (+ ReLU)."""
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(c_out)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)
