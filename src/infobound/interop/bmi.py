"""Interoperability with bmi (Czyż et al., "Beyond Normal", NeurIPS 2023; cbg-ethz/bmi).

Two adapters, so that each toolkit's workflows can run the other's pieces:

- :class:`BmiTask` turns any bmi task (``bmi.benchmark.BENCHMARK_TASKS[...]``) into an infobound
  :class:`~infobound.tasks.Task` (torch tensors, ``sample(n, seed)``, ``mutual_information``).
- :class:`BmiEstimator` wraps any infobound estimator so it satisfies bmi's
  ``IMutualInformationPointEstimator`` protocol (``estimate``, ``estimate_with_info``,
  ``parameters``), e.g. for ``bmi``'s benchmark scripts.

Install with ``pip install -c constraints.txt -e ".[bmi]"``. bmi imports only with
``jax==0.4.33 jaxlib==0.4.33`` (newer JAX removed an internal it uses) and brings pydantic 1;
keep it in its own environment if other tools there need pydantic 2. Nothing in this module
imports bmi until an adapter needs bmi's own types.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..tasks.base import Seed


class BmiTask:
    """A bmi task seen through infobound's :class:`~infobound.tasks.Task` protocol.

    Args:
        task: a ``bmi.Task`` (anything with ``sample(n_samples, seed)``, ``mutual_information``,
            ``dim_x``, ``dim_y``; bmi's samplers with ``mutual_information()`` work too).
    """

    def __init__(self, task: Any) -> None:
        for attr in ("sample", "dim_x", "dim_y", "mutual_information"):
            if not hasattr(task, attr):
                raise TypeError(f"{type(task).__name__} is not a bmi task: it has no `{attr}`")
        self.task = task
        self.name = str(getattr(task, "name", type(task).__name__))

    @property
    def mutual_information(self) -> float:
        mi = self.task.mutual_information
        return float(mi() if callable(mi) else mi)

    @property
    def dim_x(self) -> int:
        return int(self.task.dim_x)

    @property
    def dim_y(self) -> int:
        return int(self.task.dim_y)

    def sample(self, n: int, seed: Seed = 0, device: torch.device | str | None = None) -> tuple[Tensor, Tensor]:
        if isinstance(seed, torch.Generator):
            seed = int(torch.randint(0, 2**31 - 1, (1,), generator=seed).item())
        x, y = self.task.sample(n, seed)
        to = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32, device=device)  # noqa: E731
        return to(x), to(y)


class BmiEstimator:
    """Any infobound estimator behind bmi's ``IMutualInformationPointEstimator`` protocol.

    ``BmiEstimator(method="ksg", k=5)`` or ``BmiEstimator(bound="smile", critic="separable")``:
    the keyword arguments are passed to :func:`infobound.estimate_mi` with every call.

    Args:
        seed: the seed of every estimate (bmi's estimators are deterministic given their params).
        **options: arguments of ``estimate_mi`` (``method``, ``bound``, ``critic``, hyper-parameters).
    """

    def __init__(self, seed: int = 0, **options: Any) -> None:
        self.seed = seed
        self.options = {"progress": False, **options}

    def _run(self, x: Any, y: Any) -> Any:
        from ..estimate import estimate_mi

        return estimate_mi(np.asarray(x), np.asarray(y), seed=self.seed, **self.options)

    def estimate(self, x: Any, y: Any) -> float:
        return float(self._run(x, y).value)

    def estimate_with_info(self, x: Any, y: Any) -> Any:
        """A ``bmi.interface.EstimateResult`` with our interval and history in ``additional_information``."""
        from bmi.interface import EstimateResult as BmiEstimateResult

        start = time.perf_counter()
        result = self._run(x, y)
        info = {"ci": list(result.ci) if result.ci else None, "method": result.method, "bound": result.bound,
                "history": result.history, "details": {k: v for k, v in result.details.items() if _plain(v)}}
        return BmiEstimateResult(mi_estimate=float(result.value), time_in_seconds=time.perf_counter() - start,
                                 additional_information=info)

    def parameters(self) -> Any:
        """The estimator's parameters as a bmi ``BaseModel`` (pydantic 1 or 2)."""
        import pydantic
        from bmi.interface import BaseModel

        fields = {k: (type(v), v) for k, v in {"seed": self.seed, **self.options}.items() if _plain(v)}
        model = pydantic.create_model("InfoboundEstimatorParams", __base__=BaseModel, **fields)
        return model()


def _plain(value: Any) -> bool:
    return isinstance(value, (int, float, str, bool, type(None)))


__all__ = ["BmiEstimator", "BmiTask"]
