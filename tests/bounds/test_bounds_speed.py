"""The bounds' validation must stay off the hot path (the O(n²) NaN scan runs only on a non-finite result).

Two guards, against the bare expressions of ``benchmarks/bounds_speed.py``:

* exact: the aten operations that read an [n, n] tensor during forward + backward are the bare
  expression's, nothing more (an added ``isfinite``/``isnan``/``any`` over the scores shows up here
  however fast the machine is);
* loose timing: forward + backward within 2× of the bare expression at n = 1024, best of several
  interleaved repetitions in thread CPU time, to catch gross slow-downs without flaking on noise.
  (Measured: a single extra isfinite scan costs 1.4–1.9× at n = 1024, so this guard alone would not
  see it; the exact guard does.)
"""

from __future__ import annotations

import importlib.util
import math
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import pytest
import torch
from torch import Tensor
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

_spec = importlib.util.spec_from_file_location("bounds_speed", Path(__file__).parents[2] / "benchmarks" / "bounds_speed.py")
bounds_speed = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bounds_speed)

# aliasing ops move no data; add_ is the gradient accumulation into a leaf's existing .grad
_FREE = {"as_strided", "view", "_unsafe_view", "diagonal", "detach", "alias", "t", "transpose", "expand",
         "select", "slice", "unsqueeze", "squeeze", "permute", "add_"}


class _FullMatrixReads(TorchDispatchMode):
    """Counts the aten ops that take an [n, n] (or flattened [n²]) tensor argument."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.shapes = {(n, n), (n * n,)}
        self.ops: Counter[str] = Counter()

    def __torch_dispatch__(self, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        name = func.overloadpacket.__name__
        if name not in _FREE and any(isinstance(a, Tensor) and tuple(a.shape) in self.shapes
                                     for a in tree_leaves((args, kwargs or {}))):
            self.ops[name] += 1
        return func(*args, **(kwargs or {}))


def _full_matrix_reads(fn: Callable[[Tensor], Tensor], n: int) -> Counter[str]:
    scores = torch.randn(n, n, requires_grad=True)
    with _FullMatrixReads(n) as recorder:
        fn(scores).backward()
    return recorder.ops


@pytest.mark.parametrize("alpha", [1e-3, 0.5, 1.0])
def test_no_full_matrix_pass_beyond_the_bare_expression(alpha: float) -> None:
    n = 64
    for name, (ours, bare) in bounds_speed.pairs(n, alpha, torch.empty(0)).items():
        extra = _full_matrix_reads(ours, n) - _full_matrix_reads(bare, n)
        assert not extra, f"{name} reads the whole score matrix more often than the bare expression: {dict(extra)}"


def test_the_op_guard_sees_a_scan() -> None:
    # The guard above must be able to fail: the same bound with a NaN scan bolted on.
    def scanning(scores: Tensor) -> Tensor:
        if not bool(torch.isfinite(scores).all()):
            raise ValueError("`scores` contains non-finite values")
        return bounds_speed.bare_infonce(scores)

    extra = _full_matrix_reads(scanning, 32) - _full_matrix_reads(bounds_speed.bare_infonce, 32)
    assert extra, "the guard did not notice an isfinite scan"


def test_forward_backward_within_2x_of_the_bare_expression() -> None:
    n = 1024
    scores = torch.randn(n, n, generator=torch.Generator().manual_seed(0)).requires_grad_(True)
    for name, (ours, bare) in bounds_speed.pairs(n, 0.01, scores).items():
        stats = bounds_speed.time_interleaved(ours, bare, scores, repeats=7, warmup=1, clock="thread")
        assert stats["ratio_of_best"] < 2.0, f"{name}: {stats}"
        assert math.isfinite(stats["ours_ms"]) and stats["ours_ms"] > 0
