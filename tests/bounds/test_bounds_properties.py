"""Properties of the bounds: ceilings, the ML-CPC/CPC relation, shift invariance, gradcheck."""

from __future__ import annotations

import math
from typing import Callable

import pytest
import torch
from torch import Tensor

from infobound import bounds


def _scores(n: int, seed: int, dtype: torch.dtype = torch.float64, diagonal: float = 1.0) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    f = 2.0 * torch.randn(n, n, generator=gen, dtype=dtype)
    f.diagonal().add_(diagonal)
    return f


def _separated(n: int, margin: float, dtype: torch.dtype = torch.float64) -> Tensor:
    """Scores of a perfect critic: positives ``margin`` above every negative."""
    return margin * torch.eye(n, dtype=dtype)


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("n", [2, 16, 128])
def test_infonce_never_exceeds_log_n(n: int, seed: int) -> None:
    for diagonal in (0.0, 5.0, 50.0):
        assert bounds.infonce(_scores(n, seed, diagonal=diagonal)).item() <= math.log(n) + 1e-12


@pytest.mark.parametrize("n", [4, 64])
def test_infonce_approaches_log_n_for_a_perfect_critic(n: int) -> None:
    assert bounds.infonce(_separated(n, 40.0)).item() == pytest.approx(math.log(n), abs=1e-9)


@pytest.mark.parametrize("n", [4, 64])
@pytest.mark.parametrize("alpha", [1e-4, 0.01, 0.5, 1.0, 3.0])
def test_ml_cpc_never_exceeds_log_n_over_alpha_and_approaches_it(n: int, alpha: float) -> None:
    ceiling = math.log(n / alpha)
    for seed in range(5):
        for diagonal in (0.0, 5.0, 50.0):
            assert bounds.ml_cpc(_scores(n, seed, diagonal=diagonal), alpha=alpha).item() <= ceiling + 1e-12
    # The gap to the ceiling is log(1 + (n−α)/α · e^{−margin}): closes as the margin grows.
    assert bounds.ml_cpc(_separated(n, 60.0), alpha=alpha).item() == pytest.approx(ceiling, abs=1e-9)
    assert bounds.ml_cpc(_separated(n, 10.0), alpha=alpha).item() == pytest.approx(
        ceiling - math.log1p((n - alpha) / alpha * math.exp(-10.0)), abs=1e-9)


@pytest.mark.parametrize("n", [4, 64])
@pytest.mark.parametrize("alpha", [1e-3, 0.5, 1.0])
def test_alpha_cpc_never_exceeds_log_n_over_alpha(n: int, alpha: float) -> None:
    for seed in range(3):
        assert bounds.alpha_cpc(_scores(n, seed, diagonal=30.0), alpha=alpha).item() <= math.log(n / alpha) + 1e-12
    assert bounds.alpha_cpc(_separated(n, 60.0), alpha=alpha).item() == pytest.approx(math.log(n / alpha), abs=1e-9)


@pytest.mark.parametrize("n", [2, 8, 64])
def test_alpha_one_ml_cpc_is_at_most_cpc(n: int) -> None:
    # Jensen: log of the mean of the row normalisers >= the mean of their logs.
    for seed in range(5):
        f = _scores(n, seed)
        assert bounds.ml_cpc(f, alpha=1.0).item() <= bounds.infonce(f).item() + 1e-12
    # A critic with a larger normaliser on some rows than others leaves a strict gap.
    f = _scores(n, 0)
    f[0] += 5.0
    assert bounds.ml_cpc(f, alpha=1.0).item() < bounds.infonce(f).item() - 1e-3


@pytest.mark.parametrize("n", [2, 8, 64])
def test_alpha_one_ml_cpc_equals_cpc_when_row_normalisers_are_equal(n: int) -> None:
    # Every row a permutation of the same entries: equal row logsumexps, while the diagonal
    # (entry −i mod n of the first row) still differs from row to row.
    gen = torch.Generator().manual_seed(1)
    first_row = torch.randn(n, generator=gen, dtype=torch.float64)
    f = torch.stack([torch.roll(first_row, 2 * i) for i in range(n)])
    assert torch.allclose(torch.logsumexp(f, 1), torch.logsumexp(f, 1)[0])
    assert f.diagonal().std() > 0
    assert bounds.ml_cpc(f, alpha=1.0).item() == pytest.approx(bounds.infonce(f).item(), abs=1e-12)


SHIFT_INVARIANT: dict[str, Callable[[Tensor], Tensor]] = {
    "infonce": bounds.infonce,
    "ml_cpc(0.01)": lambda f: bounds.ml_cpc(f, alpha=0.01),
    "ml_cpc(1)": lambda f: bounds.ml_cpc(f, alpha=1.0),
    "ml_cpc(n)": lambda f: bounds.ml_cpc(f, alpha=float(f.shape[0])),
    "alpha_cpc(0.01)": lambda f: bounds.alpha_cpc(f, alpha=0.01),
    "dv": bounds.dv,
    "mine": bounds.mine,
    "smile(None)": lambda f: bounds.smile(f, clip=None),
}


@pytest.mark.parametrize("name", list(SHIFT_INVARIANT))
@pytest.mark.parametrize("shift", [-7.5, 3.0, 300.0])
def test_shift_invariance(name: str, shift: float) -> None:
    f = _scores(9, seed=2)
    fn = SHIFT_INVARIANT[name]
    assert fn(f + shift).item() == pytest.approx(fn(f).item(), abs=1e-9)


@pytest.mark.parametrize("name", ["nwj", "tuba", "js", "smile", "interpolated", "f_divergence"])
def test_bounds_that_are_not_shift_invariant(name: str) -> None:
    f = _scores(9, seed=2)
    fn = {"interpolated": lambda s: bounds.interpolated(s, 0.5)}.get(name, bounds.get(name))
    assert abs(fn(f + 3.0).item() - fn(f).item()) > 1e-3


GRADCHECK: dict[str, Callable[[Tensor], Tensor]] = {
    "infonce": bounds.infonce,
    "ml_cpc(1e-3)": lambda f: bounds.ml_cpc(f, alpha=1e-3),
    "ml_cpc(1)": lambda f: bounds.ml_cpc(f, alpha=1.0),
    "ml_cpc(n)": lambda f: bounds.ml_cpc(f, alpha=float(f.shape[0])),
    "alpha_cpc": lambda f: bounds.alpha_cpc(f, alpha=0.1),
    "nwj": bounds.nwj,
    "tuba": lambda f: bounds.tuba(f, 0.5),
    "dv": bounds.dv,
    "mine(no state)": bounds.mine,
    "js_fgan (js and smile gradient)": bounds.js_fgan,
    "interpolated(0)": lambda f: bounds.interpolated(f, 0.0, 0.2),
    "interpolated(0.5)": lambda f: bounds.interpolated(f, 0.5, 0.2),
    "interpolated(1)": lambda f: bounds.interpolated(f, 1.0),
    **{f"f_divergence({d})": (lambda d: lambda f: bounds.f_divergence(f, d))(d) for d in bounds.available_divergences()},
    "ml_cpc_explicit": lambda f: bounds.ml_cpc_explicit(f[:, 0], f[:, 1:], alpha=0.2),
    "infonce_explicit": lambda f: bounds.infonce_explicit(f[:, 0], f[:, 1:]),
}


@pytest.mark.parametrize("name", list(GRADCHECK))
def test_gradcheck_float64(name: str) -> None:
    f = _scores(5, seed=3).div(2.0).requires_grad_(True)
    assert torch.autograd.gradcheck(GRADCHECK[name], (f,), eps=1e-6, atol=1e-6)


def test_gradcheck_of_a_learned_tuba_baseline() -> None:
    f = _scores(5, seed=4).div(2.0)
    a = torch.linspace(-1.0, 1.0, 5, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda s, b: bounds.tuba(s, b), (f.requires_grad_(True), a))
    assert torch.autograd.gradcheck(lambda s, b: bounds.interpolated(s, 0.5, b), (f, a))


@pytest.mark.parametrize("n", [2, 128, 2048])
def test_ceiling(n: int) -> None:
    assert bounds.ceiling("infonce", n) == pytest.approx(math.log(n))
    assert bounds.ceiling("cpc", n) == pytest.approx(math.log(n))
    assert bounds.ceiling("ml_cpc", n) == pytest.approx(math.log(n))
    assert bounds.ceiling("ml_cpc", n, alpha=0.01) == pytest.approx(math.log(n / 0.01))
    assert bounds.ceiling("alpha_cpc", n, alpha=1e-3) == pytest.approx(math.log(n / 1e-3))
    for name in ("nwj", "tuba", "dv", "mine", "js", "smile", "interpolated", "f_divergence"):
        assert bounds.ceiling(name, n) == math.inf
    with pytest.raises(ValueError, match="unknown bound"):
        bounds.ceiling("no-such-bound", n)


@pytest.mark.parametrize("alpha", [1e-3, 0.1, 1.0])
def test_ceiling_is_what_ml_cpc_reaches(alpha: float) -> None:
    n = 32
    assert bounds.ml_cpc(_separated(n, 80.0), alpha=alpha).item() == pytest.approx(
        bounds.ceiling("ml_cpc", n, alpha=alpha), abs=1e-9)


@pytest.mark.parametrize("alpha", [1e-2, 0.5, 1.0])
def test_interpolated_ceiling_holds_and_is_reached(alpha: float) -> None:
    n = 16
    ceiling = bounds.ceiling("interpolated", n, alpha=alpha)
    assert ceiling == pytest.approx(math.log(n - 1) if alpha == 1.0 else 1.0 + math.log((n - 1) / alpha))
    for seed in range(5):
        for diagonal in (0.0, 10.0, 60.0):
            assert bounds.interpolated(_scores(n, seed, diagonal=diagonal), alpha).item() <= ceiling + 1e-12
    # positives far above the baseline, negatives far below it: the joint term saturates and the
    # marginal term vanishes (for α < 1; at α = 1 it is exactly 1)
    perfect = torch.full((n, n), -60.0, dtype=torch.float64)
    perfect.diagonal().fill_(60.0)
    assert bounds.interpolated(perfect, alpha).item() == pytest.approx(ceiling, abs=1e-9)
    assert bounds.ceiling("interpolated", n, alpha=0.0) == math.inf


def test_negative_infinity_off_the_diagonal_is_a_zero_critic() -> None:
    # Documented design: a −inf log-score is g = 0 (e.g. a masked negative); the contrastive bounds
    # treat it exactly so instead of raising (only a non-finite *result* triggers the input scan).
    f = _scores(5, seed=5)
    masked = f.clone()
    masked[0, 3] = -math.inf
    expected = math.log(5) + torch.mean(torch.stack([
        f[i, i] - torch.log(sum(torch.exp(masked[i, j]) for j in range(5))) for i in range(5)])).item()
    assert bounds.infonce(masked).item() == pytest.approx(expected, abs=1e-12)
