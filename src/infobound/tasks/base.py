"""The Task protocol: a distribution that carries its ground-truth mutual information."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import torch
from torch import Tensor

Seed = int | torch.Generator


@runtime_checkable
class Task(Protocol):
    """A joint distribution p(x, y) with known mutual information (in nats).

    Modelled on bmi's tasks: the object carries its ground truth, sampling is seeded.
    """

    @property
    def mutual_information(self) -> float: ...

    @property
    def dim_x(self) -> int: ...

    @property
    def dim_y(self) -> int: ...

    def sample(self, n: int, seed: Seed = 0, device: torch.device | str | None = None) -> tuple[Tensor, Tensor]:
        """n i.i.d. pairs: x [n, dim_x], y [n, dim_y], float32."""
        ...


@runtime_checkable
class TaskWithDensityRatio(Task, Protocol):
    """A task that also knows log p(x, y)/(p(x)p(y)), which gives the optimal critic."""

    def log_density_ratio(self, x: Tensor, y: Tensor) -> Tensor:
        """[n, dx], [m, dy] → [n, m] with entry (i, j) = log p(x_i, y_j)/(p(x_i)p(y_j))."""
        ...


def make_generator(seed: Seed, device: torch.device | str | None = None) -> torch.Generator:
    """A torch generator on ``device`` from an int seed (a generator is passed through)."""
    if isinstance(seed, torch.Generator):
        return seed
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"`seed` must be an int or a torch.Generator, got {type(seed).__name__}")
    gen = torch.Generator(device=device or "cpu")
    gen.manual_seed(seed)
    return gen


def check_sample_size(n: int) -> int:
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"`n` must be a positive int, got {n!r}")
    return n
