"""method='fdime': derangements, the Gaussian-copula critic, the certified lower limit, bad options."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from infobound import estimate_mi
from infobound.estimate.dime import GaussianLogRatio, HybridCritic, random_derangement
from infobound.tasks import CorrelatedGaussian, MultivariateNormal, task_suite

FAST = {"max_steps": 300, "eval_interval": 50, "patience": 3, "hidden": 32}


def test_random_derangement_is_a_permutation_without_fixed_points():
    gen = torch.Generator().manual_seed(0)
    for n in (2, 3, 17, 128):
        perm = random_derangement(n, gen)
        assert sorted(perm.tolist()) == list(range(n))
        assert not bool((perm == torch.arange(n)).any())
    with pytest.raises(ValueError, match="n >= 2"):
        random_derangement(1, gen)


def test_gaussian_log_ratio_matches_the_task_closed_form():
    """Fitted on many samples, g is the task's analytic log-ratio (an independent formula in tasks)."""
    task = MultivariateNormal.dense(2, 3, off_diagonal=0.4)
    x, y = task.sample(200_000, seed=0)
    g = GaussianLogRatio(x, y)
    xs, ys = task.sample(50, seed=1)
    torch.testing.assert_close(g(xs, ys), task.log_density_ratio(xs, ys), atol=0.03, rtol=0.02)
    torch.testing.assert_close(g.pairs(xs, ys), g(xs, ys).diagonal(), atol=1e-5, rtol=1e-5)
    assert g.gaussian_mi == pytest.approx(task.mutual_information, abs=0.01)


def test_hybrid_critic_starts_at_the_gaussian_critic_and_pairs_match_the_matrix():
    x, y = CorrelatedGaussian(3, 1.0).sample(500, seed=2)
    g = GaussianLogRatio(x, y)
    critic = HybridCritic(3, 3, hidden=16, layers=2, baseline=g, square_features=True)
    torch.testing.assert_close(critic(x[:20], y[:20]), g(x[:20], y[:20]))
    torch.nn.init.normal_(critic.residual.rest[-1].weight)  # a non-zero correction
    torch.testing.assert_close(critic.pairs(x[:20], y[:20]), critic(x[:20], y[:20]).diagonal(), atol=1e-5, rtol=1e-5)


def test_estimate_is_close_and_the_certified_limit_sits_below_it():
    x, y = CorrelatedGaussian(2, 1.0).sample(3000, seed=3)
    result = estimate_mi(x, y, method="fdime", seed=0, **FAST)
    assert result.method == "fdime" and result.bound == "gan_dime"
    assert result.value == pytest.approx(1.0, abs=0.15)
    assert result.lower is not None and result.lower < result.value
    assert result.ci[0] < result.value < result.ci[1]
    assert "certified I ≥" in str(result) and "sampling interval" in str(result)
    assert result.details["certificate"]["bound"] == "ml_cpc"


@pytest.mark.parametrize("task_name", ["student-identity-2-2-1", "spiral-multinormal-sparse-3-3-2-2.0",
                                       "1v1-additive-0.1"])
@pytest.mark.parametrize("seed", [0, 1])
def test_certified_lower_limit_is_below_the_truth(task_name: str, seed: int):
    task = task_suite("bmi-v1")[task_name]
    x, y = task.sample(2000, seed=100 + seed)
    result = estimate_mi(x, y, method="fdime", seed=seed, **FAST)
    assert result.lower <= task.mutual_information


def test_variants_and_options():
    x, y = CorrelatedGaussian(2, 0.5).sample(800, seed=4)
    for variant in ("kl", "hd"):
        r = estimate_mi(x, y, method="fdime", variant=variant, certify=False, **{**FAST, "max_steps": 50})
        assert r.bound == f"{variant}_dime" and r.lower is None and np.isfinite(r.value)
    with pytest.raises(ValueError, match="`variant`"):
        estimate_mi(x, y, method="fdime", variant="rkl")
    with pytest.raises(TypeError, match="unknown option"):
        estimate_mi(x, y, method="fdime", smoothing_window=3)
    with pytest.raises(ValueError, match="too few samples"):
        estimate_mi(x[:60], y[:60], method="fdime")
    with pytest.raises(ValueError, match="at least 10%"):
        estimate_mi(x, y, method="fdime", validation_fraction=0.5, test_fraction=0.45)
