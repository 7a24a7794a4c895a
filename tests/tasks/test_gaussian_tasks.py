"""CorrelatedGaussian (plain and cubic) and the staircase schedule."""

from __future__ import annotations

import math

import pytest
import torch

from infobound.tasks import CorrelatedGaussian, Staircase, TaskWithDensityRatio, rho_for_mi


def _diagonal_log_ratio(task: CorrelatedGaussian, n: int, seed: int, chunk: int = 500) -> torch.Tensor:
    """log p(x_i, y_i)/(p(x_i)p(y_i)) for n pairs, through the task's pairwise log_density_ratio."""
    x, y = task.sample(n, seed=seed)
    x, y = x.double(), y.double()
    return torch.cat([task.log_density_ratio(x[k:k + chunk], y[k:k + chunk]).diagonal() for k in range(0, n, chunk)])


@pytest.mark.parametrize("dim, mi", [(1, 0.5), (5, 2.0), (20, 6.0)])
@pytest.mark.parametrize("cubic", [False, True])
def test_monte_carlo_mi_from_the_log_ratio_matches_the_stated_mi(dim: int, mi: float, cubic: bool) -> None:
    # E_p[log p/(p_x p_y)] = I(x; y): the ratio and the sampler must agree with each other and with mi.
    values = _diagonal_log_ratio(CorrelatedGaussian(dim, mi, cubic), 10_000, seed=1)
    se = values.std().item() / math.sqrt(len(values))
    assert abs(values.mean().item() - mi) < 4.0 * se + 1e-3


@pytest.mark.parametrize("dim, mi", [(1, 0.5), (5, 1.0)])
def test_the_log_ratio_is_normalised_under_the_product_of_marginals(dim: int, mi: float) -> None:
    # E_{p_x p_y}[p/(p_x p_y)] = 1; a wrong constant in the ratio would shift this.
    task = CorrelatedGaussian(dim, mi)
    x, _ = task.sample(2000, seed=2)
    _, y = task.sample(2000, seed=3)  # independent draws: pairs (x_i, y_j) follow p(x)p(y)
    ratios = torch.exp(task.log_density_ratio(x.double(), y.double()))
    assert ratios.mean().item() == pytest.approx(1.0, abs=0.05)


def test_cubic_ratio_equals_the_plain_ratio_on_the_transformed_data() -> None:
    plain, cubic = CorrelatedGaussian(4, 3.0), CorrelatedGaussian(4, 3.0, cubic=True)
    x, y = plain.sample(50, seed=4)
    x_c, y_c = cubic.sample(50, seed=4)
    torch.testing.assert_close(x_c, x)
    torch.testing.assert_close(y_c, y**3)
    torch.testing.assert_close(cubic.log_density_ratio(x_c, y_c), plain.log_density_ratio(x, y), rtol=1e-4, atol=1e-4)
    assert cubic.mutual_information == plain.mutual_information


def test_samples_have_the_stated_marginals_and_correlation() -> None:
    task = CorrelatedGaussian(3, 1.5)
    x, y = task.sample(20_000, seed=5)
    assert x.shape == y.shape == (20_000, 3) and x.dtype == torch.float32
    for t in (x, y):
        torch.testing.assert_close(t.mean(0), torch.zeros(3), atol=0.03, rtol=0)
        torch.testing.assert_close(t.var(0), torch.ones(3), atol=0.04, rtol=0)
    correlation = (x * y).mean(0)
    torch.testing.assert_close(correlation, torch.full((3,), task.rho), atol=0.03, rtol=0)
    # dimensions are independent of each other
    assert abs((x[:, 0] * y[:, 1]).mean().item()) < 0.03


@pytest.mark.parametrize("dim, mi", [(1, 0.1), (20, 2.0), (20, 10.0), (3, 30.0)])
def test_rho_gives_the_mi(dim: int, mi: float) -> None:
    rho = rho_for_mi(mi, dim)
    assert 0.0 < rho < 1.0
    assert -0.5 * dim * math.log(1.0 - rho**2) == pytest.approx(mi, abs=1e-6)  # ρ near 1 costs digits
    assert CorrelatedGaussian(dim, mi).rho == rho


def test_zero_mi_is_independent() -> None:
    task = CorrelatedGaussian(4, 0.0)
    x, y = task.sample(10, seed=0)
    assert task.rho == 0.0
    assert torch.equal(task.log_density_ratio(x, y), torch.zeros(10, 10))


def test_seeds_reproduce_and_differ() -> None:
    task = CorrelatedGaussian(5, 2.0)
    a, b, c = task.sample(16, seed=7), task.sample(16, seed=7), task.sample(16, seed=8)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert not torch.equal(a[0], c[0])
    gen = torch.Generator().manual_seed(7)
    d = task.sample(16, seed=gen)  # a generator is used as given
    assert torch.equal(d[0], a[0])
    assert not torch.equal(task.sample(16, seed=gen)[0], a[0])  # and it advances


def test_protocol_and_bad_arguments() -> None:
    task = CorrelatedGaussian(5, 2.0)
    assert isinstance(task, TaskWithDensityRatio)
    assert (task.dim_x, task.dim_y, task.mutual_information) == (5, 5, 2.0)
    with pytest.raises(ValueError, match="`dim`"):
        CorrelatedGaussian(0, 1.0)
    for mi in (-1.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="`mi`"):
            CorrelatedGaussian(3, mi)
    with pytest.raises(ValueError, match="`n`"):
        task.sample(0)
    with pytest.raises(TypeError, match="`seed`"):
        task.sample(4, seed=1.5)


def test_staircase_schedule() -> None:
    stairs = Staircase()
    assert stairs.total_steps == 20_000
    assert [stairs.true_mi(s) for s in (0, 3999, 4000, 8000, 12_000, 19_999)] == [2.0, 2.0, 4.0, 6.0, 8.0, 10.0]
    task = stairs.task_at(16_000)
    assert task == CorrelatedGaussian(20, 10.0, cubic=False)
    assert task.mutual_information == stairs.true_mi(16_000)
    for step in (-1, 20_000):
        with pytest.raises(ValueError, match="`step`"):
            stairs.task_at(step)


def test_custom_staircase_carries_dim_and_cubic() -> None:
    stairs = Staircase(dim=5, levels=(1.0, 3.0), steps_per_level=10, cubic=True)
    assert stairs.total_steps == 20
    assert stairs.task_at(9) == CorrelatedGaussian(5, 1.0, cubic=True)
    assert stairs.task_at(10).mi == 3.0 and stairs.level_at(19) == 1
