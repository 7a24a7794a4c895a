"""BYOL's and Barlow Twins' losses against naive loops of their papers' equations."""

import math

import pytest
import torch

from infobound import bounds, losses
from infobound.methods.momentum import cosine_momentum


def test_byol_loss_is_the_mean_normalised_squared_error_and_spares_the_target():
    torch.manual_seed(0)
    p, t = torch.randn(6, 4, dtype=torch.float64, requires_grad=True), torch.randn(6, 4, dtype=torch.float64,
                                                                                     requires_grad=True)
    out = losses.BYOLLoss()(p, t)
    naive = 0.0
    for i in range(6):
        pn, tn = p[i].detach() / p[i].detach().norm(), t[i].detach() / t[i].detach().norm()
        naive += float(((pn - tn) ** 2).sum()) / 6
    assert out.loss.item() == pytest.approx(naive, rel=1e-12)
    out.loss.backward()
    assert p.grad is not None and t.grad is None  # the target branch gets no gradient
    cos = torch.nn.functional.normalize(p.detach(), dim=1) @ torch.nn.functional.normalize(t.detach(), dim=1).t()
    assert out.mi_lower_bound.item() == pytest.approx(bounds.infonce(cos / 0.1).item())
    assert out.ceiling == pytest.approx(math.log(6))


def test_barlow_twins_loss_equals_a_naive_loop():
    torch.manual_seed(1)
    z1, z2 = torch.randn(8, 3, dtype=torch.float64), torch.randn(8, 3, dtype=torch.float64)
    lam = 0.3
    out = losses.BarlowTwinsLoss(lambda_offdiag=lam)(z1, z2)

    def standardise(z, k):
        col = [float(z[i, k]) for i in range(8)]
        mean = sum(col) / 8
        std = math.sqrt(sum((c - mean) ** 2 for c in col) / 8 + 1e-5)
        return [(c - mean) / std for c in col]

    a = [standardise(z1, k) for k in range(3)]
    b = [standardise(z2, k) for k in range(3)]
    c = [[sum(a[k][i] * b[m][i] for i in range(8)) / 8 for m in range(3)] for k in range(3)]
    naive = sum((1 - c[k][k]) ** 2 for k in range(3)) + lam * sum(c[k][m] ** 2 for k in range(3) for m in range(3) if k != m)
    assert out.loss.item() == pytest.approx(naive, rel=1e-9)
    # identical, decorrelated views reach (almost) zero
    q, _ = torch.linalg.qr(torch.randn(64, 3, dtype=torch.float64))
    white = (q - q.mean(0)) / q.std(0, unbiased=False)
    assert losses.BarlowTwinsLoss()(white, white).loss.item() < 0.05
    with pytest.raises(ValueError, match="lambda_offdiag"):
        losses.BarlowTwinsLoss(lambda_offdiag=-1.0)


def test_cosine_momentum_schedule():
    assert cosine_momentum(0.99, 0.0) == pytest.approx(0.99)
    assert cosine_momentum(0.99, 0.5) == pytest.approx(0.995)
    assert cosine_momentum(0.99, 1.0) == pytest.approx(1.0)
