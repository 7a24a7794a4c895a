"""Precision policy of the bounds: half-precision and autocast inputs are computed in float32.

The reference is always the same (already rounded) scores evaluated in float64, so any difference
is the bound's own arithmetic. Before the policy, float16 scores made ``smile`` and ``js`` return
NaN and ML-CPC in bfloat16 was 0.018 nats off on the issue's 256×256 matrix (benchmarks/half_precision.py).
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import torch

from infobound import bounds

N = 256
KWARGS: dict[str, dict[str, Any]] = {"alpha_cpc": {"alpha": 0.01}, "interpolated": {"alpha": 0.5},
                                     "ml_cpc": {"alpha": 0.01}}


def _issue_scores() -> torch.Tensor:
    """The issue's measurement: N(0, 9) entries, diagonal + 6."""
    gen = torch.Generator().manual_seed(0)
    scores = 3.0 * torch.randn(N, N, generator=gen, dtype=torch.float64)
    scores.diagonal().add_(6.0)
    return scores


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", bounds.available())
def test_half_scores_give_a_float32_value_within_1e3_of_float64(name: str, dtype: torch.dtype) -> None:
    rounded = _issue_scores().to(dtype)
    value = bounds.get(name)(rounded, **KWARGS.get(name, {}))
    exact = bounds.get(name)(rounded.double(), **KWARGS.get(name, {}))
    assert value.dtype == torch.float32 and math.isfinite(value.item())
    assert abs(value.item() - exact.item()) <= 1e-3


def test_float64_stays_float64_and_float32_is_not_copied() -> None:
    from infobound.bounds._checks import checked_scores

    f64, f32 = _issue_scores(), _issue_scores().float()
    assert bounds.infonce(f64).dtype == torch.float64
    assert checked_scores(f32)[0] is f32  # no copy on the float32 hot path


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", bounds.available())
def test_gradients_reach_half_inputs_in_their_own_dtype(name: str, dtype: torch.dtype) -> None:
    leaf = (_issue_scores()[:32, :32] / 3.0).to(dtype).requires_grad_(True)
    bounds.get(name)(leaf, **KWARGS.get(name, {})).backward()
    assert leaf.grad is not None and leaf.grad.dtype == dtype and torch.isfinite(leaf.grad).all()
    # and it is the float64 gradient of the same scores, rounded to the dtype
    ref = leaf.detach().double().requires_grad_(True)
    bounds.get(name)(ref, **KWARGS.get(name, {})).backward()
    assert torch.allclose(leaf.grad.double(), ref.grad, atol=2 * torch.finfo(dtype).eps * float(ref.grad.abs().max()))


@pytest.mark.parametrize("name", ["ml_cpc", "infonce", "smile", "nwj"])
def test_autocast_on_cpu_gives_the_float64_value_of_the_same_scores(name: str) -> None:
    # The issue's case: a separable critic's scores come out of a bfloat16 matmul under autocast.
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(N, 32, generator=gen)
    y = x + 0.5 * torch.randn(N, 32, generator=gen)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        scores = x @ y.t() / math.sqrt(32)
        value = bounds.get(name)(scores, **KWARGS.get(name, {}))
    assert scores.dtype == torch.bfloat16  # autocast did lower the critic
    assert value.dtype == torch.float32
    exact = bounds.get(name)(scores.double(), **KWARGS.get(name, {}))
    assert abs(value.item() - exact.item()) <= 1e-3


def test_explicit_bounds_promote_mixed_and_half_inputs() -> None:
    scores = _issue_scores()[:64, :64]
    pos, neg = scores.diagonal().to(torch.bfloat16), scores[:, :16].to(torch.float16)
    for fn in (bounds.infonce_explicit, lambda p, q: bounds.ml_cpc_explicit(p, q, alpha=0.1)):
        value, exact = fn(pos, neg), fn(pos.double(), neg.double())
        assert value.dtype == torch.float32 and abs(value.item() - exact.item()) <= 1e-3


def test_overflow_is_an_error_naming_the_bound_unless_allowed() -> None:
    scores = torch.randn(8, 8, generator=torch.Generator().manual_seed(0))
    scores[0, 1] = 100.0  # e^100 overflows float32
    with pytest.raises(bounds.BoundOverflowError, match=r"^nwj: the result is -inf from finite inputs"):
        bounds.nwj(scores)
    assert bounds.allow_overflow(bounds.nwj)(scores).item() == -math.inf
    assert math.isfinite(bounds.nwj(scores.double()).item())  # float64 holds e^100
    assert math.isfinite(bounds.dv(scores).item())  # log space: no overflow
    scores[2, 3] = math.nan
    with pytest.raises(ValueError, match=r"^nwj: `scores` contains non-finite values \(1 NaN"):
        bounds.allow_overflow(bounds.nwj)(scores)  # bad input is never excused


def test_a_large_surrogate_does_not_round_the_value_away() -> None:
    # SMILE's value is the clipped DV, its gradient the JS objective's; with off-diagonal scores of 1e6 that
    # objective is ~ −1e6, and ``s + (v − s).detach()`` rounded the value to float32's spacing there (0.06).
    gen = torch.Generator().manual_seed(0)
    scores = torch.randn(16, 16, generator=gen) + 1e6 * (1.0 - torch.eye(16))
    value = bounds.smile(scores, clip=5.0)
    assert abs(value.item() - bounds.smile(scores.double(), clip=5.0).item()) <= 1e-5
    leaf = scores.clone().requires_grad_(True)
    bounds.smile(leaf, clip=5.0).backward()
    assert leaf.grad is not None and torch.isfinite(leaf.grad).all()
