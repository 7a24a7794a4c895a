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


def test_gcmi_matches_the_closed_form_on_gaussians():
    from infobound.estimate.nonparametric import gcmi
    from infobound.tasks import MultivariateNormal

    task = MultivariateNormal.dense(3, 3, off_diagonal=0.5)  # closed form ½ log det ratio = 0.437 nats
    x, y = task.sample(20000, seed=0)
    assert gcmi(x, y).value == pytest.approx(task.mutual_information, abs=0.015)
    x, y = CorrelatedGaussian(5, 3.0).sample(20000, seed=1)
    assert gcmi(x, y).value == pytest.approx(3.0, abs=0.05)


def test_gcmi_is_invariant_to_per_coordinate_monotone_maps():
    from infobound.estimate.nonparametric import gcmi

    x, y = CorrelatedGaussian(3, 1.0).sample(3000, seed=4)
    warped_x = torch.stack([torch.exp(x[:, 0]), x[:, 1] ** 3, -torch.sigmoid(x[:, 2])], dim=1)  # a decreasing one too
    warped_y = torch.sinh(2 * y) + 5.0
    reference = gcmi(x, y).value
    # Ranks are unchanged by increasing maps; a decreasing map only flips a sign of the normal scores.
    assert gcmi(warped_x, warped_y).value == pytest.approx(reference, abs=1e-10)


def test_gcmi_bias_correction_removes_the_small_sample_bias():
    """Independent 4 + 4-d Gaussians at N = 60: the plug-in reads ≈ dx·dy/(2N) too high, the corrected ≈ 0."""
    import numpy as np

    from infobound.estimate.nonparametric import gcmi

    rng = np.random.default_rng(0)
    raw, corrected = [], []
    for _ in range(300):
        x, y = rng.standard_normal((60, 4)), rng.standard_normal((60, 4))
        raw.append(gcmi(x, y, bias_correct=False).value)
        corrected.append(gcmi(x, y).value)
    assert np.mean(raw) > 0.1
    assert abs(np.mean(corrected)) < 0.02


def test_gcmi_is_selectable_and_rejects_bad_bootstrap():
    from infobound import estimate_mi
    from infobound.estimate.nonparametric import gcmi

    x, y = CorrelatedGaussian(2, 1.0).sample(500, seed=0)
    result = estimate_mi(x, y, method="gcmi", n_bootstrap=20)
    assert result.method == "gcmi" and result.ci[0] <= result.ci[1]
    with pytest.raises(ValueError, match="n_bootstrap"):
        gcmi(x, y, n_bootstrap=-1)
