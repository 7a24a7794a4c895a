"""Property-based tests over every registered bound: any n ≥ 2, scales up to 1e4, four dtypes, odd layouts.

Properties (issue 13):
  * the value is finite, or a ``ValueError`` whose message starts with the bound's name;
  * half-precision inputs give a float32 result, float32 stays float32, float64 stays float64;
  * the value never exceeds the bound's ceiling (``bounds.ceiling``: log n, log(n/α), ...);
  * permuting rows and columns together leaves it unchanged (up to the summation order's rounding);
  * adding a constant to every score leaves the normalised bounds unchanged;
  * float16/bfloat16 scores give the float64 value of the same rounded scores: within 1e-3 nats for
    moderate scores (|score| ≤ 30, |value| ≤ 100, where trained critics live and the issue measured),
    and within float32's own rounding of the magnitudes involved beyond that (at |score| = 1e4 float32
    resolves 1e-3, so no float32 computation can promise 1e-3 there).

The bounds are iterated from the registry, so a newly registered bound is covered; hyper-parameters
are drawn for the ones we know and for a required ``alpha``. Examples are few and derandomised (a
fixed, reproducible sequence), so the file runs in seconds and CI is deterministic.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import Tensor

from infobound import bounds

DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
HALF = [torch.float16, torch.bfloat16]
EPS32 = torch.finfo(torch.float32).eps
# Bounds computed in log space (a logsumexp, no bare e^score): their rounding error scales with the
# magnitudes, not with e^score. Others (NWJ, TUBA, JS, f-divergences, I_α, new ones) get an error
# relative to their value as well, as e^{logsumexp} amplifies the logsumexp's absolute error.
LOG_SPACE = {"infonce", "ml_cpc", "alpha_cpc", "dv", "mine", "smile"}
PROPERTY = settings(max_examples=25, derandomize=True, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _drawable(name: str) -> bool:
    """Whether we know how to draw every required hyper-parameter of a bound."""
    params = list(inspect.signature(bounds.get(name)).parameters.values())[1:]
    required = [p.name for p in params if p.default is inspect.Parameter.empty and p.kind != p.VAR_KEYWORD]
    return all(p == "alpha" for p in required)


NAMES = [name for name in bounds.available() if _drawable(name)]


def _log_uniform(draw: Any, low: float, high: float) -> float:
    return 10.0 ** draw(st.floats(math.log10(low), math.log10(high)))


def _draw_kwargs(draw: Any, name: str, n: int) -> dict[str, Any]:
    if name in ("ml_cpc", "alpha_cpc"):
        return {"alpha": _log_uniform(draw, 1e-3, float(n))}
    if name == "interpolated":
        return {"alpha": draw(st.sampled_from([0.0, 1.0]) | st.floats(0.0, 1.0))}
    if name == "smile":
        return {"clip": draw(st.sampled_from([None, 1.0, 5.0, 20.0]))}
    if name == "f_divergence":
        return {"divergence": draw(st.sampled_from(bounds.available_divergences()))}
    params = list(inspect.signature(bounds.get(name)).parameters.values())[1:]
    return {"alpha": _log_uniform(draw, 1e-3, 1.0)} if any(p.name == "alpha" and p.default is inspect.Parameter.empty
                                                           for p in params) else {}


def _layout(base: Tensor, layout: str) -> Tensor:
    """The same values as ``base`` in a contiguous, transposed-storage or strided tensor."""
    if layout == "transposed":
        return base.t().contiguous().t()
    if layout == "strided":
        n = base.shape[0]
        wide = torch.zeros(n, 2 * n, dtype=base.dtype)
        wide[:, ::2] = base
        return wide[:, ::2]
    return base


@st.composite
def cases(draw: Any, name: str, dtypes: list[torch.dtype] = DTYPES, max_scale: float = 1e4) -> tuple[Tensor, dict]:
    """(scores, kwargs): N(0, scale²) entries with the diagonal moved by up to ±2 scale, rounded to the dtype."""
    n = draw(st.integers(2, 24))
    dtype = draw(st.sampled_from(dtypes))
    scale = _log_uniform(draw, 1e-3, max_scale)
    gen = torch.Generator().manual_seed(draw(st.integers(0, 2**31 - 1)))
    base = scale * torch.randn(n, n, generator=gen, dtype=torch.float64)
    base.diagonal().add_(draw(st.floats(-2.0, 2.0)) * scale)
    scores = _layout(base.to(dtype), draw(st.sampled_from(["contiguous", "transposed", "strided"])))
    return scores, _draw_kwargs(draw, name, n)


def _value(name: str, scores: Tensor, kwargs: dict[str, Any]) -> float | None:
    """The bound's value; None after checking that a non-finite result is an error naming the bound."""
    try:
        result = bounds.get(name)(scores, **kwargs)
    except ValueError as err:
        message = str(err)
        assert message.startswith(name) and "from finite inputs" in message and "\n" not in message, message
        return None
    expected = torch.float64 if scores.dtype == torch.float64 else torch.float32
    assert result.dim() == 0 and result.dtype == expected, (result.shape, result.dtype)
    value = result.item()
    assert math.isfinite(value)
    return value


def _rounding(name: str, scores: Tensor, value: float, dtype: torch.dtype = torch.float32) -> float:
    """What rounding in ``dtype`` may move the value by: eps · (magnitudes), times |value| off log space."""
    eps = torch.finfo(torch.float64 if dtype == torch.float64 else torch.float32).eps
    magnitude = float(scores.double().abs().max()) + abs(value) + 1.0
    return 16 * eps * magnitude * (1.0 if name in LOG_SPACE else 1.0 + abs(value))


@pytest.mark.parametrize("name", NAMES)
@PROPERTY
@given(data=st.data())
def test_value_is_finite_or_a_clear_error_and_under_the_ceiling(name: str, data: st.DataObject) -> None:
    scores, kwargs = data.draw(cases(name))
    value = _value(name, scores, kwargs)
    if value is None:
        return
    ceiling = bounds.ceiling(name, scores.shape[0], **kwargs)
    assert value <= ceiling + 1e-6 + _rounding(name, scores, ceiling, scores.dtype), (value, ceiling)


@pytest.mark.parametrize("name", NAMES)
@PROPERTY
@given(data=st.data())
def test_permuting_rows_and_columns_together_changes_nothing(name: str, data: st.DataObject) -> None:
    scores, kwargs = data.draw(cases(name))
    perm = torch.tensor(data.draw(st.permutations(range(scores.shape[0]))))
    value = _value(name, scores, kwargs)
    permuted = _value(name, scores[perm][:, perm], kwargs)
    if value is None or permuted is None:
        return  # an overflow error (checked in _value); at its threshold rounding may decide which side errs
    assert permuted == pytest.approx(value, abs=1e-9 + _rounding(name, scores, value, scores.dtype))


def _shift_invariant(name: str, kwargs: dict[str, Any]) -> bool:
    """The normalised bounds: every score enters against a log-normaliser of the same scores."""
    if name == "interpolated":
        return kwargs["alpha"] == 1.0  # the leave-one-out baseline alone; α < 1 mixes in a fixed a(y)
    if name == "smile":
        return kwargs["clip"] is None  # clipping at ±τ is not shift invariant
    return name in ("infonce", "ml_cpc", "alpha_cpc", "dv", "mine")


@pytest.mark.parametrize("name", [n for n in NAMES if _shift_invariant(n, {"alpha": 1.0, "clip": None})])
@PROPERTY
@given(data=st.data())
def test_a_constant_added_to_every_score_changes_no_normalised_bound(name: str, data: st.DataObject) -> None:
    scores, kwargs = data.draw(cases(name, dtypes=[torch.float32, torch.float64], max_scale=1e3))
    if name == "interpolated":
        kwargs["alpha"] = 1.0
    if name == "smile":
        kwargs["clip"] = None
    shift = data.draw(st.floats(-1e3, 1e3))
    value = _value(name, scores, kwargs)
    shifted_scores = (scores.double() + shift).to(scores.dtype)
    shifted = _value(name, shifted_scores, kwargs)
    assert value is not None and shifted is not None  # log-space bounds never overflow
    # Both inputs are rounded to the dtype: the shifted one carries |shift| · eps of rounding per entry.
    tol = 1e-9 + _rounding(name, shifted_scores, value, scores.dtype)
    assert shifted == pytest.approx(value, abs=tol)


@pytest.mark.parametrize("name", NAMES)
@PROPERTY
@given(data=st.data())
def test_half_precision_scores_give_the_float64_value_of_the_same_rounded_scores(name: str,
                                                                                  data: st.DataObject) -> None:
    scores, kwargs = data.draw(cases(name, dtypes=HALF))
    value = _value(name, scores, kwargs)
    exact = _value(name, scores.double(), kwargs)
    if value is None:
        return  # a clear error (checked above); float32 overflows where float64 may not
    assert exact is not None
    assert value == bounds.get(name)(scores.float(), **kwargs).item()  # computed in float32, nothing lower
    if float(scores.double().abs().max()) <= 30.0 and abs(exact) <= 100.0:
        assert abs(value - exact) <= 1e-3, (value, exact)
    else:
        assert abs(value - exact) <= 1e-3 + _rounding(name, scores, exact), (value, exact)
