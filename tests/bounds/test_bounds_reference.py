"""Every bound against the naive loop references in ``naive_bounds`` (float64): values and gradients."""

from __future__ import annotations

import math
from typing import Callable

import naive_bounds as naive
import pytest
import torch
from torch import Tensor

from infobound import bounds


def _scores(n: int, seed: int, scale: float = 1.5) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    f = scale * torch.randn(n, n, generator=gen, dtype=torch.float64)
    f.diagonal().add_(1.0)  # positives a little higher, like a trained critic
    return f


def _value_and_grad(fn: Callable[[Tensor], Tensor], f: Tensor) -> tuple[float, Tensor]:
    leaf = f.detach().clone().requires_grad_(True)
    out = fn(leaf)
    (grad,) = torch.autograd.grad(out, leaf)
    return out.item(), grad


def _assert_same(ours: Callable[[Tensor], Tensor], reference: Callable[[Tensor], Tensor], f: Tensor) -> None:
    value, grad = _value_and_grad(ours, f)
    ref_value, ref_grad = _value_and_grad(reference, f)
    assert value == pytest.approx(ref_value, rel=1e-10, abs=1e-10)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-9, atol=1e-12)


ALPHAS = [1e-3, 0.3, 1.0, 2.5]
SIZES = [2, 7]

# (name in the registry, our call, naive reference). Each registered bound appears at least once.
CASES: list[tuple[str, Callable[..., Tensor], Callable[..., Tensor]]] = [
    ("infonce", bounds.infonce, naive.infonce),
    ("nwj", bounds.nwj, naive.nwj),
    ("dv", bounds.dv, naive.dv),
    ("tuba", lambda f: bounds.tuba(f, 0.7), lambda f: naive.tuba(f, torch.full((f.shape[0],), 0.7, dtype=f.dtype))),
    ("mine", bounds.mine, naive.dv),  # without a moving average MINE is DV, value and gradient
    ("interpolated", lambda f: bounds.interpolated(f, 0.0, 0.3),
     lambda f: naive.tuba(f, torch.full((f.shape[0],), 0.3, dtype=f.dtype))),
]
for _alpha in ALPHAS:
    CASES += [
        ("ml_cpc", lambda f, a=_alpha: bounds.ml_cpc(f, alpha=min(a, f.shape[0])),
         lambda f, a=_alpha: naive.ml_cpc(f, min(a, f.shape[0]))),
        ("alpha_cpc", lambda f, a=_alpha: bounds.alpha_cpc(f, alpha=min(a, f.shape[0])),
         lambda f, a=_alpha: naive.alpha_cpc(f, min(a, f.shape[0]))),
    ]
for _div in ["kl", "js", "pearson", "sq_hellinger", "vlc"]:
    CASES.append(("f_divergence", lambda f, d=_div: bounds.f_divergence(f, d), lambda f, d=_div: naive.f_divergence(f, d)))
for _a in [0.5, 2.0, 3.0]:
    CASES.append(("f_divergence", lambda f, a=_a: bounds.f_divergence(f, "tsallis", a=a),
                  lambda f, a=_a: naive.f_divergence(f, "tsallis", a=a)))


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_bound_matches_naive_loop(case: int, n: int) -> None:
    _, ours, reference = CASES[case]
    _assert_same(ours, reference, _scores(n, seed=10 * n + case))


def test_every_registered_bound_has_a_reference() -> None:
    # js, smile: value and surrogate gradient are checked separately below.
    covered = {name for name, _, _ in CASES} | {"js", "smile", "gan_dime", "kl_dime", "hd_dime"}  # f-DIME: test_bounds_dime
    assert covered == set(bounds.available())


def test_ml_cpc_at_alpha_n_puts_all_weight_on_positives() -> None:
    f = _scores(5, seed=1)
    _assert_same(lambda s: bounds.ml_cpc(s, alpha=5.0), lambda s: naive.ml_cpc(s, 5.0), f)
    assert bounds.ml_cpc(f, alpha=5.0).item() <= 1e-12  # ceiling log(n/α) = 0


@pytest.mark.parametrize("n", SIZES)
def test_tuba_with_a_baseline_per_column(n: int) -> None:
    f = _scores(n, seed=3)
    a = torch.linspace(-1.0, 2.0, n, dtype=torch.float64)
    _assert_same(lambda s: bounds.tuba(s, a), lambda s: naive.tuba(s, a), f)
    # and the gradient with respect to a learned baseline
    a_leaf = a.clone().requires_grad_(True)
    a_ref = a.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(bounds.tuba(f, a_leaf), a_leaf)
    (g_ref,) = torch.autograd.grad(naive.tuba(f, a_ref), a_ref)
    torch.testing.assert_close(g, g_ref, rtol=1e-9, atol=1e-12)


def test_nwj_is_tuba_with_baseline_e() -> None:
    f = _scores(6, seed=4)
    assert bounds.nwj(f).item() == pytest.approx(bounds.tuba(f, 1.0).item(), abs=1e-12)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("clip", [None, 0.5, 5.0])
def test_smile_value_is_clipped_dv_and_gradient_is_js(n: int, clip: float | None) -> None:
    f = _scores(n, seed=5)
    value, grad = _value_and_grad(lambda s: bounds.smile(s, clip=clip), f)
    assert value == pytest.approx(naive.smile_value(f, clip).item(), rel=1e-10, abs=1e-10)
    _, js_grad = _value_and_grad(naive.js_fgan, f)
    torch.testing.assert_close(grad, js_grad, rtol=1e-9, atol=1e-12)


def test_smile_without_clip_has_the_dv_value() -> None:
    f = _scores(6, seed=6)
    assert bounds.smile(f, clip=None).item() == pytest.approx(bounds.dv(f).item(), abs=1e-12)


@pytest.mark.parametrize("n", SIZES)
def test_js_value_is_nwj_of_critic_plus_one_and_gradient_is_js_fgan(n: int) -> None:
    f = _scores(n, seed=7)
    value, grad = _value_and_grad(bounds.js, f)
    assert value == pytest.approx(naive.js_value(f).item(), rel=1e-10, abs=1e-10)
    _, js_grad = _value_and_grad(naive.js_fgan, f)
    torch.testing.assert_close(grad, js_grad, rtol=1e-9, atol=1e-12)
    _assert_same(bounds.js_fgan, naive.js_fgan, f)


@pytest.mark.parametrize("rate", [0.01, 0.3, 1.0])
def test_mine_value_is_dv_and_gradient_uses_the_moving_average(rate: float) -> None:
    state = bounds.MovingAverage(rate=rate)
    ema = None
    for step in range(4):
        f = _scores(6, seed=20 + step, scale=1.0 + 0.5 * step)
        batch = naive.partition(f)
        ema = batch if ema is None else (1.0 - rate) * ema + rate * batch  # the EMA includes this batch
        value, grad = _value_and_grad(lambda s: bounds.mine(s, state), f)
        assert value == pytest.approx(naive.dv(f).item(), rel=1e-10, abs=1e-10)
        _, ref_grad = _value_and_grad(lambda s: naive.mine_surrogate(s, ema), f)
        torch.testing.assert_close(grad, ref_grad, rtol=1e-9, atol=1e-12)
        assert state.log_value.item() == pytest.approx(math.log(ema), rel=1e-10)


@pytest.mark.parametrize("n", [3, 7])
@pytest.mark.parametrize("alpha", [0.01, 0.5, 0.9, 1.0])
def test_interpolated_matches_leave_one_out_eq_12(n: int, alpha: float) -> None:
    f = _scores(n, seed=8)
    a = torch.linspace(-0.5, 1.5, n, dtype=torch.float64)  # a(y_j): must index the column
    _assert_same(lambda s: bounds.interpolated(s, alpha, a), lambda s: naive.interpolated(s, alpha, a), f)


def test_interpolated_at_zero_is_tuba_with_the_same_baseline() -> None:
    f = _scores(7, seed=9)
    a = torch.linspace(-0.5, 1.5, 7, dtype=torch.float64)
    _assert_same(lambda s: bounds.interpolated(s, 0.0, a), lambda s: bounds.tuba(s, a), f)


def test_interpolated_leave_one_out_where_one_entry_holds_the_mass() -> None:
    # The leave-one-out mean at a row's dominant entry takes the masked path; it must stay exact.
    f = _scores(6, seed=11)
    f[:, 2] += 30.0
    f[4, 4] += 40.0
    _assert_same(lambda s: bounds.interpolated(s, 0.5, 0.2),
                 lambda s: naive.interpolated(s, 0.5, torch.full((6,), 0.2, dtype=s.dtype)), f)


@pytest.mark.parametrize("alpha", [1e-3, 0.5, 1.0, 3.0, 4.0])
def test_ml_cpc_explicit_matches_naive_and_equals_ml_cpc_on_off_diagonal_negatives(alpha: float) -> None:
    n, k = 4, 3
    gen = torch.Generator().manual_seed(12)
    positives = torch.randn(n, generator=gen, dtype=torch.float64) + 1.0
    negatives = torch.randn(n, k, generator=gen, dtype=torch.float64)
    ours = bounds.ml_cpc_explicit(positives, negatives, alpha)
    assert ours.item() == pytest.approx(naive.ml_cpc_explicit(positives, negatives, alpha).item(), rel=1e-10)

    # negatives = each row's off-diagonal entries: the same function as ml_cpc, value and gradient
    off_diagonal = ~torch.eye(n, dtype=torch.bool)
    _assert_same(lambda s: bounds.ml_cpc_explicit(s.diagonal(), s[off_diagonal].view(n, n - 1), alpha),
                 lambda s: bounds.ml_cpc(s, alpha=alpha), _scores(n, seed=13))


def test_ml_cpc_explicit_with_a_queue_larger_than_the_batch() -> None:
    # MoCo-shaped: n anchors, k = K queue negatives each, k > n.
    gen = torch.Generator().manual_seed(14)
    positives = torch.randn(3, generator=gen, dtype=torch.float64) + 2.0
    negatives = torch.randn(3, 9, generator=gen, dtype=torch.float64)
    for alpha in (0.05, 1.0, 10.0):
        _, grad = _value_and_grad(lambda p: bounds.ml_cpc_explicit(p, negatives, alpha), positives)
        _, ref_grad = _value_and_grad(lambda p: naive.ml_cpc_explicit(p, negatives, alpha), positives)
        torch.testing.assert_close(grad, ref_grad, rtol=1e-9, atol=1e-12)
        assert bounds.ml_cpc_explicit(positives, negatives, alpha).item() <= math.log(10 / alpha)


def test_infonce_explicit_matches_naive_and_equals_infonce() -> None:
    gen = torch.Generator().manual_seed(15)
    positives = torch.randn(4, generator=gen, dtype=torch.float64)
    negatives = torch.randn(4, 6, generator=gen, dtype=torch.float64)
    assert bounds.infonce_explicit(positives, negatives).item() == pytest.approx(
        naive.infonce_explicit(positives, negatives).item(), rel=1e-10)
    f = _scores(5, seed=16)
    off = f[~torch.eye(5, dtype=torch.bool)].view(5, 4)
    assert bounds.infonce_explicit(f.diagonal(), off).item() == pytest.approx(bounds.infonce(f).item(), rel=1e-12)


def test_registry_returns_the_functions_and_aliases() -> None:
    assert bounds.get("cpc") is bounds.infonce
    assert bounds.get("ML-CPC") is bounds.ml_cpc
    assert bounds.get("alpha-cpc") is bounds.alpha_cpc
    assert bounds.get("fdiv") is bounds.f_divergence
    for name in bounds.available():
        assert bounds.info(name).name == name
    assert not bounds.info("alpha_cpc").valid_lower_bound
    assert bounds.info("mine").stateful
    assert not bounds.info("f_divergence").in_nats
    # The minibatch DV value (DV, MINE, SMILE) and per-anchor α-CPC overshoot the truth (test_bounds_validity).
    not_bounds = {"alpha_cpc", "dv", "mine", "smile", "gan_dime", "kl_dime", "hd_dime"}
    assert all(not bounds.info(name).valid_lower_bound for name in not_bounds)
    assert all(bounds.info(name).valid_lower_bound for name in bounds.available() if name not in not_bounds)


def test_divergence_table_is_consistent() -> None:
    # f(1) = 0, and the composition is u f'(u) − f(u) (the Fenchel–Young equality at t = f'(u)).
    v = torch.linspace(-3.0, 3.0, 13, dtype=torch.float64)
    for name in bounds.available_divergences():
        div = bounds.get_divergence(name)
        assert div.f(torch.zeros(1, dtype=torch.float64)).item() == pytest.approx(0.0, abs=1e-12), name
        torch.testing.assert_close(div.conjugate_of_f_prime(v), torch.exp(v) * div.f_prime(v) - div.f(v)), name
