"""float32 scores of magnitude up to 1e4: finite values and gradients, or an error naming the bound — never NaN/−inf."""

from __future__ import annotations

from typing import Callable

import pytest
import torch
from torch import Tensor

from infobound import bounds

N = 64
BIG = 1e4


def _extreme(kind: str) -> Tensor:
    gen = torch.Generator().manual_seed(0)
    if kind == "uniform ±1e4":
        return (torch.rand(N, N, generator=gen) * 2.0 - 1.0) * BIG
    if kind == "large diagonal":
        return torch.randn(N, N, generator=gen) + BIG * torch.eye(N)
    if kind == "large off-diagonal":
        return torch.randn(N, N, generator=gen) + BIG * (1.0 - torch.eye(N))
    if kind == "all equal 1e4":
        return torch.full((N, N), BIG)
    if kind == "very negative diagonal":
        return torch.randn(N, N, generator=gen) - BIG * torch.eye(N)
    raise KeyError(kind)


KINDS = ["uniform ±1e4", "large diagonal", "large off-diagonal", "all equal 1e4", "very negative diagonal"]


def _value_and_grad(fn: Callable[[Tensor], Tensor], scores: Tensor) -> tuple[Tensor, Tensor]:
    leaf = scores.clone().requires_grad_(True)
    value = fn(leaf)
    (grad,) = torch.autograd.grad(value, leaf)
    return value.detach(), grad


FINITE: dict[str, Callable[[Tensor], Tensor]] = {
    "infonce": bounds.infonce,
    **{f"ml_cpc({a:g})": (lambda a: lambda f: bounds.ml_cpc(f, alpha=a))(a) for a in (1e-4, 1e-2, 0.5, 1.0, 10.0, float(N))},
    **{f"alpha_cpc({a:g})": (lambda a: lambda f: bounds.alpha_cpc(f, alpha=a))(a) for a in (1e-3, 1.0, float(N))},
    "dv": bounds.dv,
    "mine(no state)": bounds.mine,
    "smile(5)": bounds.smile,
    "smile(None)": lambda f: bounds.smile(f, clip=None),
    **{f"interpolated({a:g})": (lambda a: lambda f: bounds.interpolated(f, a))(a) for a in (1e-3, 0.5, 1.0)},
    "ml_cpc_explicit": lambda f: bounds.ml_cpc_explicit(f.diagonal(), f[:, :8], alpha=1e-3),
    "infonce_explicit": lambda f: bounds.infonce_explicit(f.diagonal(), f[:, :8]),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", list(FINITE))
def test_finite_value_and_gradient(name: str, kind: str) -> None:
    value, grad = _value_and_grad(FINITE[name], _extreme(kind))
    assert torch.isfinite(value), value
    assert torch.isfinite(grad).all()


@pytest.mark.parametrize("kind", KINDS)
def test_mine_with_a_moving_average_stays_finite(kind: str) -> None:
    # The EMA includes the current batch, so exp(log partition − log EMA) <= 1/rate: no overflow
    # even when the scores jump by 1e4 between steps.
    state = bounds.MovingAverage(rate=0.01)
    bounds.mine(torch.randn(N, N), state)
    value, grad = _value_and_grad(lambda f: bounds.mine(f, state), _extreme(kind))
    assert torch.isfinite(value) and torch.isfinite(grad).all()


def _overflows(scores: Tensor) -> bool:
    """Whether e^{score} of some off-diagonal entry exceeds the float32 range (the exponential bounds' terms)."""
    return bool(scores[~torch.eye(scores.shape[0], dtype=torch.bool)].max() > 88.0)


@pytest.mark.parametrize("kind", KINDS)
def test_js_value_is_finite_or_a_clear_error(kind: str) -> None:
    # The JS value is NWJ(f + 1): e^{f} of an off-diagonal score above ~88 leaves float32. That is an
    # error naming the bound, never a silent −inf/NaN; where it fits, value and gradient are finite.
    scores = _extreme(kind)
    if _overflows(scores):
        with pytest.raises(ValueError, match=r"^js: the result is -inf from finite inputs"):
            bounds.js(scores)
        return
    value, grad = _value_and_grad(bounds.js, scores)
    assert torch.isfinite(value) and torch.isfinite(grad).all()


EXPONENTIAL: dict[str, tuple[str, Callable[[Tensor], Tensor]]] = {
    "nwj": ("nwj", bounds.nwj),
    "tuba": ("tuba", bounds.tuba),
    "interpolated(0)": ("interpolated", lambda f: bounds.interpolated(f, 0.0)),
    "f_divergence(kl)": ("f_divergence(kl)", bounds.f_divergence),
    "f_divergence(js)": ("f_divergence(js)", lambda f: bounds.f_divergence(f, "js")),
    "f_divergence(vlc)": ("f_divergence(vlc)", lambda f: bounds.f_divergence(f, "vlc")),
    "f_divergence(sq_hellinger)": ("f_divergence(sq_hellinger)", lambda f: bounds.f_divergence(f, "sq_hellinger")),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", list(EXPONENTIAL))
def test_exponential_bounds_are_finite_or_a_clear_error(name: str, kind: str) -> None:
    label, fn = EXPONENTIAL[name]
    try:
        value = fn(_extreme(kind))
    except ValueError as err:
        message = str(err)
        assert message.startswith(f"{label}: the result is ") and "from finite inputs" in message, message
        assert "\n" not in message
    else:
        assert torch.isfinite(value), value


def test_f_divergence_with_an_overflowing_diagonal_is_not_nan() -> None:
    # Regression: the negative term used to be (sum of all f* − sum of the diagonal f*), which is
    # inf − inf once e^{f_ii} overflows, although the diagonal plays no part in it.
    scores = torch.randn(N, N) + 200.0 * torch.eye(N)
    value, grad = _value_and_grad(bounds.f_divergence, scores)
    assert torch.isfinite(value)
    assert torch.isfinite(grad).all()
    expected = (scores.diagonal() + 1.0).mean() - torch.exp(scores[~torch.eye(N, dtype=torch.bool)]).mean()
    assert value.item() == pytest.approx(expected.item(), rel=1e-6)


@pytest.mark.parametrize("alpha", [1e-4, 1.0, float(N)])
def test_ml_cpc_float32_agrees_with_float64_at_large_magnitude(alpha: float) -> None:
    # Log-space all the way: shifting moderate scores by 1e4 changes nothing but rounding.
    gen = torch.Generator().manual_seed(3)
    f64 = 3.0 * torch.randn(N, N, generator=gen, dtype=torch.float64)
    reference = bounds.ml_cpc(f64, alpha=alpha).item()
    assert bounds.ml_cpc((f64 + BIG).float(), alpha=alpha).item() == pytest.approx(reference, abs=5e-3)
    assert bounds.infonce((f64 - BIG).float()).item() == pytest.approx(bounds.infonce(f64).item(), abs=5e-3)
