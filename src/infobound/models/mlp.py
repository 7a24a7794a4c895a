"""Multi-layer perceptrons."""

from __future__ import annotations

from torch import nn


def mlp(in_dim: int, hidden: int, out_dim: int, layers: int = 2, activation: type[nn.Module] = nn.ReLU) -> nn.Sequential:
    """An MLP with ``layers`` hidden layers of width ``hidden`` and a linear output.

    ``mlp(20, 256, 32, layers=3)`` is the staircase's separable embedding 20 → 256 → 256 → 256 → 32.
    """
    if layers < 0:
        raise ValueError(f"`layers` must be >= 0, got {layers}")
    dims = [in_dim] + [hidden] * layers
    modules: list[nn.Module] = []
    for a, b in zip(dims[:-1], dims[1:]):
        modules += [nn.Linear(a, b), activation()]
    modules.append(nn.Linear(dims[-1], out_dim))
    return nn.Sequential(*modules)
