"""Bad inputs raise ValueError/TypeError naming the argument; never a silent NaN."""

from __future__ import annotations

import math
from typing import Any, Callable

import pytest
import torch
from torch import Tensor

from infobound import bounds


def _call(name: str) -> Callable[[Tensor], Tensor]:
    """Each registered bound with the hyper-parameters it needs."""
    extra: dict[str, Any] = {"alpha_cpc": {"alpha": 0.1}, "interpolated": {"alpha": 0.5}, "ml_cpc": {"alpha": 0.1}}
    fn = bounds.get(name)
    kwargs = extra.get(name, {})
    if name == "mine":
        return lambda f: fn(f, bounds.MovingAverage())
    return lambda f: fn(f, **kwargs)


ALL = bounds.available()
N = 6


def _poisoned(value: float, diagonal: bool) -> Tensor:
    f = torch.randn(N, N)
    f[2, 2 if diagonal else 4] = value
    return f


@pytest.mark.parametrize("where", ["diagonal", "off-diagonal"])
@pytest.mark.parametrize("bad", [math.nan, math.inf])
@pytest.mark.parametrize("name", ALL)
def test_nan_and_inf_scores_raise(name: str, bad: float, where: str) -> None:
    with pytest.raises(ValueError, match="`scores` contains non-finite values"):
        _call(name)(_poisoned(bad, diagonal=where == "diagonal"))


@pytest.mark.parametrize("name", ALL)
def test_minus_inf_positive_raises(name: str) -> None:
    with pytest.raises(ValueError, match="`scores` contains non-finite values"):
        _call(name)(_poisoned(-math.inf, diagonal=True))


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("shape", [(1, 1), (3, 4), (5,), (2, 3, 3), (0, 0)])
def test_bad_shapes_raise(name: str, shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="`scores`"):
        _call(name)(torch.zeros(shape))


@pytest.mark.parametrize("name", ALL)
def test_non_float_scores_raise_type_error(name: str) -> None:
    with pytest.raises(TypeError, match="`scores`"):
        _call(name)(torch.zeros(4, 4, dtype=torch.long))
    with pytest.raises(TypeError, match="`scores`"):
        _call(name)([[1.0, 0.0], [0.0, 1.0]])


@pytest.mark.parametrize("fn", [bounds.ml_cpc, bounds.alpha_cpc])
@pytest.mark.parametrize("alpha", [0.0, -0.5, math.nan, math.inf, N + 0.5])
def test_alpha_out_of_range_raises(fn: Callable[..., Tensor], alpha: float) -> None:
    with pytest.raises(ValueError, match="`alpha`"):
        fn(torch.randn(N, N), alpha=alpha)


@pytest.mark.parametrize("alpha", [-0.1, 1.5, math.nan])
def test_interpolated_alpha_outside_unit_interval_raises(alpha: float) -> None:
    with pytest.raises(ValueError, match="`alpha`"):
        bounds.interpolated(torch.randn(N, N), alpha)


@pytest.mark.parametrize("fn", [bounds.tuba, lambda f, a: bounds.interpolated(f, 0.5, a)])
def test_bad_log_baseline_raises(fn: Callable[..., Tensor]) -> None:
    with pytest.raises(ValueError, match="`log_baseline`"):
        fn(torch.randn(N, N), torch.zeros(N + 1))
    with pytest.raises(ValueError, match="`log_baseline`"):
        fn(torch.randn(N, N), torch.zeros(N, N))
    nan_baseline = torch.zeros(N)
    nan_baseline[1] = math.nan
    with pytest.raises(ValueError, match="`log_baseline` contains non-finite"):
        fn(torch.randn(N, N), nan_baseline)


@pytest.mark.parametrize("clip", [0.0, -1.0])
def test_smile_bad_clip_raises(clip: float) -> None:
    with pytest.raises(ValueError, match="`clip`"):
        bounds.smile(torch.randn(N, N), clip=clip)


@pytest.mark.parametrize("rate", [0.0, -0.1, 1.5])
def test_mine_bad_rate_raises(rate: float) -> None:
    with pytest.raises(ValueError, match="`rate`"):
        bounds.mine(torch.randn(N, N), bounds.MovingAverage(rate=rate))


@pytest.mark.parametrize("name", ["no_such_bound", "", "infonce2"])
def test_unknown_bound_name_raises(name: str) -> None:
    with pytest.raises(ValueError, match="unknown bound"):
        bounds.get(name)
    with pytest.raises(ValueError, match="unknown bound"):
        bounds.info(name)


def test_registering_twice_needs_overwrite() -> None:
    with pytest.raises(ValueError, match="already registered"):
        bounds.register("infonce", bounds.infonce)


def test_unknown_divergence_and_bad_parameters_raise() -> None:
    with pytest.raises(ValueError, match="`divergence`"):
        bounds.f_divergence(torch.randn(N, N), "no_such_divergence")
    with pytest.raises(ValueError, match="takes no parameters"):
        bounds.f_divergence(torch.randn(N, N), "kl", a=2.0)
    for a in (1.0, 0.0, -2.0):
        with pytest.raises(ValueError, match="`a`"):
            bounds.f_divergence(torch.randn(N, N), "tsallis", a=a)


@pytest.mark.parametrize("fn", [bounds.ml_cpc_explicit, bounds.infonce_explicit])
def test_explicit_bounds_check_positives_and_negatives(fn: Callable[..., Tensor]) -> None:
    with pytest.raises(ValueError, match="`negatives`"):
        fn(torch.randn(4), torch.randn(5, 3))  # n mismatch
    with pytest.raises(ValueError, match="`negatives`"):
        fn(torch.randn(4), torch.randn(4))  # not [n, k]
    with pytest.raises(ValueError, match="`positives`"):
        fn(torch.randn(4, 1), torch.randn(4, 3))
    with pytest.raises(ValueError):
        fn(torch.randn(4), torch.randn(4, 0))  # no negatives
    with pytest.raises(TypeError, match="`positives`"):
        fn(torch.arange(4), torch.randn(4, 3))
    with pytest.raises(TypeError, match="`negatives`"):
        fn(torch.randn(4), torch.zeros(4, 3, dtype=torch.long))
    bad = torch.randn(4, 3)
    bad[1, 1] = math.nan
    with pytest.raises(ValueError, match="`negatives` contains non-finite"):
        fn(torch.randn(4), bad)
    bad_positives = torch.randn(4)
    bad_positives[0] = math.inf
    with pytest.raises(ValueError, match="`positives` contains non-finite"):
        fn(bad_positives, torch.randn(4, 3))


@pytest.mark.parametrize("alpha", [0.0, -1.0, 4.5])
def test_ml_cpc_explicit_alpha_range_is_up_to_m(alpha: float) -> None:
    with pytest.raises(ValueError, match="`alpha`"):
        bounds.ml_cpc_explicit(torch.randn(4), torch.randn(4, 3), alpha)  # m = 4
    assert torch.isfinite(bounds.ml_cpc_explicit(torch.randn(4), torch.randn(4, 3), 4.0))


@pytest.mark.parametrize("divergence", bounds.available_divergences())
@pytest.mark.parametrize("diagonal", [True, False])
def test_nan_scores_raise_for_every_divergence(divergence: str, diagonal: bool) -> None:
    # NaN always reaches the result; ±inf may not where f* is bounded (VLC saturates at +inf), which
    # is the limit of the bound, not an error (see docs/bounds.md, "Input checks").
    with pytest.raises(ValueError, match="`scores` contains non-finite values"):
        bounds.f_divergence(_poisoned(math.nan, diagonal), divergence)


@pytest.mark.parametrize("name", ALL)
def test_minus_inf_negative_is_a_zero_critic_not_an_error(name: str) -> None:
    # By design (docs/bounds.md): only a non-finite result triggers the input scan, and a −inf
    # off-diagonal score is g = 0, a masked negative, with a finite limit for every bound.
    assert torch.isfinite(_call(name)(_poisoned(-math.inf, diagonal=False)))
