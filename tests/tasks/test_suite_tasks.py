"""Ground truth of the suite's tasks: analytic MI against Monte-Carlo, transforms keep the ratio."""

import math

import numpy as np
import pytest
import torch

from infobound.tasks import (
    AdditiveUniformNoise, CorrelatedGaussian, MultivariateNormal, MultivariateStudentT, TRANSFORMS, task_suite,
    transformed,
)


def test_mvn_ratio_matches_correlated_gaussian():
    g = CorrelatedGaussian(3, 1.5)
    cov = np.eye(6)
    for i in range(3):
        cov[i, 3 + i] = cov[3 + i, i] = g.rho
    mvn = MultivariateNormal(cov, 3)
    assert mvn.mutual_information == pytest.approx(1.5, abs=1e-9)
    x, y = g.sample(64, seed=1)
    torch.testing.assert_close(mvn.log_density_ratio(x, y), g.log_density_ratio(x, y), atol=1e-4, rtol=1e-4)


def test_mvn_mc_mi_of_dense_matches_analytic():
    task = MultivariateNormal.dense(2, 3, off_diagonal=0.4)
    x, y = task.sample(20000, seed=0)
    # log_density_ratio scores every (x_i, y_j) pair; only the diagonal (the joint's pairs) enters the
    # Monte-Carlo mean, so score 1,000-row blocks instead of one 20,000² matrix (3.2 GB in float64).
    blocks = [task.log_density_ratio(xb.double(), yb.double()).diagonal() for xb, yb in zip(x.split(1000), y.split(1000))]
    mc = torch.cat(blocks).mean().item()
    assert mc == pytest.approx(task.mutual_information, abs=0.03)


def test_student_t_analytic_mi_matches_monte_carlo():
    task = MultivariateStudentT(MultivariateNormal.sparse(2, 2, 1, 0.6).covariance, 2, dof=4.0)
    x, y = task.sample(100_000, seed=3)
    z = torch.cat([x, y], 1).double().numpy()
    pointwise = task.log_density(z) - task.log_density(z[:, :2], "x") - task.log_density(z[:, 2:], "y")
    se = pointwise.std() / math.sqrt(len(pointwise))
    assert abs(pointwise.mean() - task.mutual_information) < 4 * se + 1e-3
    # the shared χ² scale makes X and Y dependent even with identity dispersion
    assert MultivariateStudentT(np.eye(4), 2, dof=3.0).mutual_information > 0.05


@pytest.mark.parametrize("eps", [0.1, 0.5, 0.75])
def test_uniform_noise_mi_matches_entropy_integral(eps):
    # I = h(Y) − log 2ε with h(Y) integrated numerically from the trapezoidal density of X + N.
    task = AdditiveUniformNoise(eps)
    grid = np.linspace(-eps, 1 + eps, 400_001)
    density = np.clip(np.minimum(grid + eps, 1.0) - np.maximum(grid - eps, 0.0), 0, None) / (2 * eps)
    integrand = np.where(density > 0, -density * np.log(np.where(density > 0, density, 1.0)), 0.0)
    h_y = np.trapezoid(integrand, grid)
    assert task.mutual_information == pytest.approx(h_y - math.log(2 * eps), abs=1e-5)


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transforms_are_inverted_and_keep_the_density_ratio(name):
    base = CorrelatedGaussian(1 if name == "swiss_roll" else 3, 1.0)
    task = transformed(base, name, sides="x" if name == "swiss_roll" else "both")
    x, y = task.sample(128, seed=0)
    x0, y0 = base.sample(128, seed=0)
    assert task.mutual_information == base.mutual_information
    torch.testing.assert_close(task.log_density_ratio(x, y), base.log_density_ratio(x0, y0), atol=5e-3, rtol=1e-3)


def test_suite_tasks_sample_their_declared_dims():
    for name, task in task_suite("full").items():
        x, y = task.sample(7, seed=0)
        assert x.shape == (7, task.dim_x) and y.shape == (7, task.dim_y), name
        assert math.isfinite(task.mutual_information) and task.mutual_information >= 0, name


def test_bad_task_parameters_raise():
    with pytest.raises(ValueError, match="off_diagonal"):
        MultivariateNormal.dense(2, 2, off_diagonal=1.2)
    with pytest.raises(ValueError, match="covariance"):
        MultivariateNormal(np.array([[1.0, 2.0], [2.0, 1.0]]), 1)
    with pytest.raises(ValueError, match="dof"):
        MultivariateStudentT(np.eye(2), 1, dof=0)
    with pytest.raises(ValueError, match="unknown transform"):
        transformed(CorrelatedGaussian(2, 1.0), "nope")
