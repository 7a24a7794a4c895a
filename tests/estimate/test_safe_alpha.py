"""min_safe_alpha must be safe for *every* critic: the issue-10 counterexample critic must not overshoot.

The critic f = 54.22·xy − 26.78·(x² + y²) − 0.0357·(xy)² on a 1-d Gaussian with I = 2 nats at n = 8
overshoots the truth at the α the analytic critic alone suggested (0.0631). The truth is the closed
form I = −½ log(1 − ρ²); ML-CPC is written out here from the paper's batched equation (PAPERS.md §1)
and checked against ``bounds.ml_cpc`` on a few matrices, so nothing is compared with itself.
"""

import math

import pytest
import torch

from infobound import bounds
from infobound.estimate.safe_alpha import min_safe_alpha, reference_alpha

TRUE_MI = 2.0
N = 8
BATCHES = 200_000


def _quadratic_scores(batches: int, seed: int) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    rho = math.sqrt(1.0 - math.exp(-2.0 * TRUE_MI))  # I = −½ log(1 − ρ²) for one coordinate
    x = torch.randn(batches, N, 1, generator=gen, dtype=torch.float64)
    y = rho * x + math.sqrt(1.0 - rho**2) * torch.randn(batches, N, 1, generator=gen, dtype=torch.float64)
    xy = x @ y.transpose(1, 2)
    return 54.22 * xy - 26.78 * (x**2 + y.transpose(1, 2) ** 2) - 0.0357 * xy**2


def _ml_cpc_naive(scores: torch.Tensor, alpha: float) -> torch.Tensor:
    """[B] I_ML = mean f_ii − log[(α/n²) Σ_i e^{f_ii} + ((n − α)/(n²(n − 1))) Σ_{i≠j} e^{f_ij}], per batch."""
    n = scores.shape[-1]
    diag = scores.diagonal(dim1=1, dim2=2)
    shift = scores.amax(dim=(1, 2), keepdim=True)
    e = torch.exp(scores - shift)
    on = e.diagonal(dim1=1, dim2=2).sum(1)
    off = e.sum((1, 2)) - on
    normaliser = alpha / n**2 * on + (n - alpha) / (n**2 * (n - 1)) * off
    return diag.mean(1) - torch.log(normaliser) - shift.flatten()


@pytest.fixture(scope="module")
def scores() -> torch.Tensor:
    return _quadratic_scores(BATCHES, seed=2026)


def _mean_and_se(scores: torch.Tensor, alpha: float) -> tuple[float, float]:
    values = _ml_cpc_naive(scores, alpha)
    head = torch.stack([bounds.ml_cpc(s, alpha=alpha) for s in scores[:3]])
    assert torch.allclose(values[:3], head, atol=1e-9)  # the naive form is the library's bound
    return float(values.mean()), float(values.std()) / math.sqrt(values.numel())


def test_the_old_analytic_critic_alpha_does_overshoot(scores):
    # α = 0.0631 was measured with the analytic critic only; this critic breaks it (issue 10: +15 SE).
    mean, se = _mean_and_se(scores, 0.0631)
    assert mean - TRUE_MI > 5.0 * se
    assert mean == pytest.approx(2.0197, abs=6 * se)


def test_the_shipped_alpha_holds_against_the_counterexample_critic(scores):
    alpha = min_safe_alpha(N)
    mean, se = _mean_and_se(scores, alpha)
    assert se < 0.005
    assert mean < TRUE_MI - 3.0 * se, f"ML-CPC at α = {alpha:.4g} reads {mean:.4f} ± {se:.4f} > I = {TRUE_MI}"


def test_min_safe_alpha_is_the_reference_rule_and_monotone():
    for n in (2, 3, 8, 64, 256, 4096):
        assert min_safe_alpha(n) == pytest.approx(n / (n * (n - 1) + 1))
        assert min_safe_alpha(n) == reference_alpha(n)
    values = [min_safe_alpha(n) for n in range(2, 2049)]
    assert all(a > b for a, b in zip(values, values[1:]))
    with pytest.raises(ValueError, match="batch_size"):
        min_safe_alpha(1)
