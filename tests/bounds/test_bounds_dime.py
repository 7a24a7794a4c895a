"""f-DIME (GAN/KL/HD) against naive float64 loops in the official code's discriminator parameterisation."""

from __future__ import annotations

import math

import naive_bounds as naive
import pytest
import torch
from torch import Tensor

from infobound import bounds
from infobound.bounds.dime import DIME_DIVERGENCES

VARIANTS = ["gan", "kl", "hd"]


def _scores(n: int, seed: int) -> Tensor:
    gen = torch.Generator().manual_seed(seed)
    f = 1.5 * torch.randn(n, n, generator=gen, dtype=torch.float64)
    f.diagonal().add_(1.0)
    return f


def _grad(fn, f: Tensor) -> tuple[float, Tensor]:
    leaf = f.detach().clone().requires_grad_(True)
    out = fn(leaf)
    (grad,) = torch.autograd.grad(out, leaf)
    return out.item(), grad


@pytest.mark.parametrize("n", [2, 7])
@pytest.mark.parametrize("variant", VARIANTS)
def test_value_is_the_mean_log_ratio_and_gradient_is_the_official_objective(variant: str, n: int) -> None:
    f = _scores(n, seed=n)
    value, grad = _grad(bounds.get(f"{variant}_dime"), f)
    assert value == pytest.approx(naive.fdime_estimate(f, variant).item(), rel=1e-10, abs=1e-12)
    _, ref_grad = _grad(lambda s: naive.fdime_objective(s, variant), f)
    torch.testing.assert_close(grad, ref_grad, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("variant", VARIANTS)
def test_objective_value_matches_the_official_loss(variant: str) -> None:
    f = _scores(6, seed=3)
    ours = bounds.fdime_objective(f, variant).item()
    reference = naive.fdime_objective(f, variant).item()
    # Our GAN objective is the JS f-divergence bound, J_GAN + 2 log 2; KL and HD are equal as written.
    assert ours == pytest.approx(reference + (2 * math.log(2) if variant == "gan" else 0.0), rel=1e-10)


@pytest.mark.parametrize("variant", VARIANTS)
def test_explicit_form_with_one_derangement(variant: str) -> None:
    """The official 'deranged' architecture: n positives and one deranged partner each (k = 1)."""
    gen = torch.Generator().manual_seed(0)
    pos = torch.randn(9, generator=gen, dtype=torch.float64)
    neg = torch.randn(9, 1, generator=gen, dtype=torch.float64)
    d = naive._official_discriminator
    if variant == "gan":
        ref = naive._mean([torch.log(1 - d(p, "gan")) for p in pos]) + naive._mean([torch.log(d(q, "gan")) for q in neg[:, 0]])
    elif variant == "kl":
        ref = naive._mean([torch.log(d(p, "kl")) for p in pos]) - naive._mean([d(q, "kl") for q in neg[:, 0]]) + 1.0
    else:
        ref = 2.0 - naive._mean([d(p, "hd") for p in pos]) - naive._mean([1.0 / d(q, "hd") for q in neg[:, 0]])
    shift = 2 * math.log(2) if variant == "gan" else 0.0
    assert bounds.fdime_objective_explicit(pos, neg, variant).item() == pytest.approx(ref.item() + shift, rel=1e-10)
    assert bounds.fdime_explicit(pos, neg, variant).item() == pytest.approx(pos.mean().item(), rel=1e-12)


@pytest.mark.parametrize("variant", VARIANTS)
def test_optimum_is_the_log_density_ratio(variant: str) -> None:
    """Maximising the objective over a free table of scores recovers log p/q of a discrete pair (X, Y).

    X, Y ∈ {0, 1} with P(X = Y) = 0.9: positives are drawn from p, the negatives' distribution is
    p(x)p(y) = 1/4 per cell; the maximiser of E_p[f'(e^v)] − E_q[f*(f'(e^v))] over v(x, y) is
    log p(x, y)/(p(x)p(y)) and the mean log-ratio under p is the MI.
    """
    p = torch.tensor([[0.45, 0.05], [0.05, 0.45]], dtype=torch.float64)
    q = torch.full((2, 2), 0.25, dtype=torch.float64)
    v = torch.zeros(2, 2, dtype=torch.float64, requires_grad=True)
    div = bounds.get_divergence(DIME_DIVERGENCES[variant])
    opt = torch.optim.LBFGS([v], max_iter=500, tolerance_grad=1e-12, tolerance_change=1e-14, line_search_fn="strong_wolfe")

    def closure() -> Tensor:
        opt.zero_grad()
        loss = -((p * div.f_prime(v)).sum() - (q * div.conjugate_of_f_prime(v)).sum())
        loss.backward()
        return loss

    opt.step(closure)
    truth = torch.log(p / q)
    torch.testing.assert_close(v.detach(), truth, atol=1e-4, rtol=0)
    mi = float((p * truth).sum())
    assert float((p * v.detach()).sum()) == pytest.approx(mi, abs=1e-4)


def test_unknown_variant_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="`variant`"):
        bounds.fdime(torch.zeros(3, 3), "rkl")


def test_registered_as_estimates_not_bounds() -> None:
    for name in ("gan_dime", "kl_dime", "hd_dime"):
        assert not bounds.info(name).valid_lower_bound and bounds.info(name).in_nats
