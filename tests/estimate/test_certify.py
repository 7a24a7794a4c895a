"""The certified lower limit: calibrated, below the closed-form truth, and only for estimators that earn it."""

import math

import numpy as np
import pytest
import torch

from infobound.estimate import estimate_mi
from infobound.estimate.certify import certified_lower_limit
from infobound.estimate.safe_alpha import min_safe_alpha
from infobound.tasks import AdditiveUniformNoise, CorrelatedGaussian

FAST = dict(hidden=64, batch_size=64, max_steps=300, eval_interval=25, patience=4, progress=False)


def _gaussian_log_ratio(rho: float):
    """log p(x, y)/(p(x)p(y)) of a 1-d correlated Gaussian, written out (not the task's own method)."""

    def score(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x, y = x.double(), y.double().T
        return -0.5 * math.log(1 - rho**2) - (rho**2 * (x**2 + y**2) - 2 * rho * x * y) / (2 * (1 - rho**2))

    return score


def _ml_cpc_naive(scores: torch.Tensor, alpha: float) -> torch.Tensor:
    """[B] ML-CPC of score matrices [B, n, n] from the paper's batched equation (PAPERS.md §1)."""
    n = scores.shape[-1]
    shift = scores.amax(dim=(1, 2), keepdim=True)
    e = torch.exp(scores - shift)
    on = e.diagonal(dim1=1, dim2=2).sum(1)
    normaliser = alpha / n**2 * on + (n - alpha) / (n**2 * (n - 1)) * (e.sum((1, 2)) - on)
    return scores.diagonal(dim1=1, dim2=2).mean(1) - torch.log(normaliser) - shift.flatten()


def test_the_limit_covers_the_mean_of_the_bound_at_the_nominal_rate():
    # The limit is a 95% one-sided limit on E[V], V the bound on one batch: over many independent
    # certification sets it must exceed E[V] about 5% of the time (not 0%, not 30%).
    n, k, repeats = 32, 8, 400
    task = CorrelatedGaussian(1, 1.0)
    score = _gaussian_log_ratio(task.rho)
    alpha = min_safe_alpha(n)
    x, y = task.sample(20000 * n, seed=1)
    xb, yb = x.double().view(20000, n, 1), y.double().view(20000, n, 1)
    expected = float(_ml_cpc_naive(torch.vmap(score)(xb, yb), alpha).mean())  # E[V], SE ≈ 0.001
    misses = 0
    gen = torch.Generator().manual_seed(3)
    for r in range(repeats):
        xc, yc = task.sample(k * n, seed=100 + r)
        limit = certified_lower_limit(score, xc, yc, batch_size=n, generator=gen)
        assert limit.batches == k and limit.alpha == pytest.approx(alpha)
        misses += limit.lower > expected
    # Binomial(400, 0.05): mean 20, sd 4.4.
    assert 6 <= misses <= 36, f"{misses}/{repeats} limits above E[V] = {expected:.4f}"


def test_the_counterexample_critic_is_certified_below_the_truth_and_unsafe_alpha_is_refused():
    task = CorrelatedGaussian(1, 2.0)

    def quadratic(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        x, y = x.double(), y.double().T
        return 54.22 * x * y - 26.78 * (x**2 + y**2) - 0.0357 * (x * y) ** 2

    x, y = task.sample(8 * 6000, seed=5)
    limit = certified_lower_limit(quadratic, x, y, batch_size=8, generator=torch.Generator().manual_seed(0))
    assert limit.lower < limit.mean < 2.0
    with pytest.raises(ValueError, match="min_safe_alpha"):
        certified_lower_limit(quadratic, x, y, batch_size=8, alpha=0.0631)


@pytest.mark.parametrize("kwargs, match", [
    (dict(bound="alpha_cpc"), "bound"), (dict(bound="infonce", alpha=0.5), "alpha"), (dict(level=1.0), "level"),
    (dict(batch_size=600), "two certification batches"), (dict(batch_size=1), "batch_size"),
])
def test_bad_arguments_are_rejected(kwargs, match):
    x, y = torch.randn(1000, 2), torch.randn(1000, 2)
    options = {"batch_size": 64, **kwargs}
    with pytest.raises(ValueError, match=match):
        certified_lower_limit(lambda a, b: a @ b.T, x, y, **options)
    with pytest.raises(ValueError, match="score_fn"):
        certified_lower_limit(lambda a, b: a @ b.T[:, :3], x, y, batch_size=64)


@pytest.mark.parametrize("task", [CorrelatedGaussian(2, 0.5), CorrelatedGaussian(2, 2.0), AdditiveUniformNoise(0.1)],
                         ids=["gaussian-0.5", "gaussian-2", "uniform-noise-1.7"])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("method", ["neural", "fdime"])
def test_estimate_mi_lower_is_below_the_closed_form_truth(task, seed, method):
    x, y = task.sample(1500, seed=10 + seed)
    fast = FAST if method == "neural" else dict(max_steps=300, eval_interval=50, hidden=32, certify_batch_size=64)
    result = estimate_mi(x, y, seed=seed, method=method, **fast)
    assert result.lower is not None
    assert result.lower <= task.mutual_information, (result.lower, task.mutual_information)
    cert = result.details["certificate"]
    assert cert["batches"] >= 3 and cert["alpha"] == pytest.approx(min_safe_alpha(cert["batch_size"]))
    assert "certified I ≥" in str(result) and "sampling interval" in str(result)


def test_lower_is_none_without_a_guarantee_or_when_switched_off():
    x, y = CorrelatedGaussian(2, 1.0).sample(1000, seed=0)
    for method in ("ksg", "gaussian"):
        result = estimate_mi(x.numpy(), y.numpy(), method=method)
        assert result.lower is None and "certified" not in str(result)
    off = estimate_mi(np.asarray(x), np.asarray(y), method="neural", certify_fraction=0.0, **{**FAST, "max_steps": 50})
    assert off.lower is None and off.details["n_certify"] == 0
    with pytest.raises(ValueError, match="certify_fraction"):
        estimate_mi(x, y, method="neural", certify_fraction=0.85, **FAST)
