"""InfoCL's RC and LBE regularisers: values against their equations, shapes, bad inputs."""

import math

import pytest
import torch
from torch import nn

from infobound.losses import LowerBoundRegularizer, ReconstructionRegularizer


def test_reconstruction_sums_the_views_mse_as_the_official_code():
    """λ·(mse(recon(h1), x1) + mse(recon(h2), x2)) — InfoCL's SimCLR/BYOL/BarTwins main.py, not the mean."""
    torch.manual_seed(0)
    decoder = nn.Linear(3, 4)
    rc = ReconstructionRegularizer(decoder, weight=2.0)
    h1, h2, x1, x2 = torch.randn(5, 3), torch.randn(5, 3), torch.randn(5, 4), torch.randn(5, 4)
    naive = 0.0
    for h, x in ((h1, x1), (h2, x2)):
        out = decoder(h).detach()
        naive += sum(float(out[i, k] - x[i, k]) ** 2 for i in range(5) for k in range(4)) / 20
    assert rc([h1, h2], [x1, x2]).item() == pytest.approx(2.0 * naive, rel=1e-5)
    with pytest.raises(ValueError, match="one target view per feature"):
        rc([h1, h2], [x1])


def test_reconstruction_is_weighted_mse_and_trains_the_decoder():
    decoder = nn.Linear(4, 6)
    rc = ReconstructionRegularizer(decoder, weight=0.5)
    features, view = torch.randn(5, 4), torch.randn(5, 6)
    term = rc(features, view)
    expected = 0.5 * ((decoder(features) - view) ** 2).mean()
    assert term.dim() == 0 and term.item() == pytest.approx(expected.item(), rel=1e-6)
    term.backward()
    assert decoder.weight.grad is not None and any(p is decoder.weight for p in rc.parameters())
    with pytest.raises(ValueError, match="reconstruct the view's shape"):
        rc(features, torch.randn(5, 7))
    with pytest.raises(ValueError, match="weight"):
        ReconstructionRegularizer(decoder, weight=-1.0)


def _naive_lbe(blocks, weights, noise_draws, scale):
    total = 0.0
    for w, mu, eps, in zip(weights, blocks, noise_draws):
        h = mu + 0.1 * eps
        n = mu.shape[0]
        rows = [math.log(sum(math.exp(-float(((h[i] - mu[j]) ** 2).sum()) / scale) for j in range(n))) for i in range(n)]
        total += w * sum(rows) / n
    return total


def test_lower_bound_term_matches_its_equation_on_pooled_blocks():
    torch.manual_seed(1)
    maps = [torch.randn(6, 3, 4, 4), torch.randn(6, 5, 7), torch.randn(6, 8)]  # conv map, 1-d map, vector
    lbe = LowerBoundRegularizer(weights=(0.25, 0.5, 1.0), noise=0.1, scale=20.0, lam=2.0)
    torch.manual_seed(7)
    term = lbe(maps)
    pooled = [maps[0].mean(dim=(2, 3)), maps[1].mean(dim=2), maps[2]]
    torch.manual_seed(7)
    draws = [torch.randn_like(p) for p in pooled]
    assert term.dim() == 0
    assert term.item() == pytest.approx(2.0 * _naive_lbe(pooled, (0.25, 0.5, 1.0), draws, 20.0), rel=1e-5)


def test_lower_bound_term_with_given_samples_and_fewer_stages():
    """InfoNCE(μ, h) of the official code: −mean_i logsumexp_j(−‖h_i − μ_j‖²/20), any number of rows;
    with fewer stages than weights the trailing weights apply (h keeps weight 1)."""
    torch.manual_seed(3)
    mu, h = torch.randn(8, 5), torch.randn(8, 5)
    lbe = LowerBoundRegularizer(weights=(0.25, 0.5, 1.0), lam=1.0)
    assert lbe([mu], [h]).item() == pytest.approx(_naive_lbe([mu], (1.0,), [(h - mu) / 0.1], 20.0), rel=1e-5)
    mu2 = torch.randn(8, 3)
    two = lbe([mu2, mu], [mu2, h])
    expected = _naive_lbe([mu2, mu], (0.5, 1.0), [torch.zeros_like(mu2), (h - mu) / 0.1], 20.0)
    assert two.item() == pytest.approx(expected, rel=1e-5)
    with pytest.raises(ValueError, match="shape of its mean"):
        lbe([mu], [torch.randn(8, 4)])


def test_lower_bound_term_pushes_features_apart():
    mu = torch.randn(16, 8, requires_grad=True)
    lbe = LowerBoundRegularizer(weights=(1.0,), noise=0.0, scale=1.0)
    lbe([mu]).backward()
    spread = mu.detach() - 0.5 * mu.grad  # one gradient step on the term
    pairwise = lambda x: torch.cdist(x, x).sum()  # noqa: E731
    assert pairwise(spread) > pairwise(mu.detach())


def test_lower_bound_bad_inputs():
    lbe = LowerBoundRegularizer()
    with pytest.raises(ValueError, match="3 weights"):
        lbe([torch.randn(4, 3)] * 4)
    with pytest.raises(ValueError, match=r"\[n, c, ...\]"):
        LowerBoundRegularizer(weights=(1.0,))([torch.randn(4)])
    with pytest.raises(ValueError, match="weights"):
        LowerBoundRegularizer(weights=())
    with pytest.raises(ValueError, match="scale"):
        LowerBoundRegularizer(scale=0.0)
