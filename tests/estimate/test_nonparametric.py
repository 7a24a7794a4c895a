"""Non-neural estimators against known Gaussian MI (loose tolerances, fixed seeds)."""

import pytest
import torch

from infobound.estimate.nonparametric import gaussian, histogram, ksg
from infobound.tasks import CorrelatedGaussian, transformed


@pytest.mark.parametrize("mi", [0.5, 2.0])
@pytest.mark.parametrize("k", [3, 5, 10])
def test_ksg_recovers_gaussian_mi(mi, k):
    x, y = CorrelatedGaussian(2, mi).sample(4000, seed=0)
    assert ksg(x, y, k=k).value == pytest.approx(mi, abs=0.1)


def test_ksg_is_invariant_to_monotone_transforms():
    base = CorrelatedGaussian(2, 1.0)
    x, y = transformed(base, "asinh").sample(4000, seed=1)
    assert ksg(x, y).value == pytest.approx(1.0, abs=0.1)


def test_ksg_independent_is_near_zero():
    x = torch.randn(3000, 3)
    y = torch.randn(3000, 2)
    assert abs(ksg(x, y).value) < 0.05


def test_gaussian_estimator_and_interval():
    x, y = CorrelatedGaussian(5, 1.5).sample(5000, seed=2)
    result = gaussian(x, y, n_bootstrap=100)
    assert result.value == pytest.approx(1.5, abs=0.08)
    assert result.ci[0] <= result.value <= result.ci[1]


def test_histogram_low_dim():
    x, y = CorrelatedGaussian(1, 1.0).sample(20000, seed=3)
    assert histogram(x, y).value == pytest.approx(1.0, abs=0.15)
    with pytest.raises(ValueError, match="low dimension"):
        histogram(torch.randn(100, 3), torch.randn(100, 3))


def test_bad_inputs():
    with pytest.raises(ValueError, match="same number of samples"):
        ksg(torch.randn(10, 2), torch.randn(11, 2))
    bad = torch.randn(50, 2)
    bad[3, 1] = float("nan")
    with pytest.raises(ValueError, match="`x` contains NaN"):
        ksg(bad, torch.randn(50, 2))
    with pytest.raises(ValueError, match="`k`"):
        ksg(torch.randn(50, 2), torch.randn(50, 2), k=0)
