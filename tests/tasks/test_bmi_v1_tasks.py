"""bmi's v1 task list and the high-MI tasks: ids, ground truth against closed forms, transforms invertible."""

import math

import numpy as np
import pytest
import torch

from infobound.tasks import get_transform, task_suite
from infobound.tasks.bmi_v1 import additive_coupling, bmi_v1_tasks, high_mi_tasks


def test_the_forty_bmi_v1_tasks_with_bmi_ids():
    tasks = bmi_v1_tasks()
    assert len(tasks) == 40
    for name in ("1v1-normal-0.75", "normal_cdf-1v1-normal-0.75", "1v1-additive-0.1", "1v1-bimodal-0.75",
                 "wiggly-1v1-normal-0.75", "swissroll_x-normal_cdf-1v1-normal-0.75", "multinormal-dense-50-50-0.5",
                 "multinormal-sparse-25-25-2-2.0", "student-identity-5-5-3", "spiral-normal_cdf-multinormal-sparse-25-25-2-2.0",
                 "asinh-student-identity-5-5-2"):
        assert name in tasks
    assert tasks["swissroll_x-normal_cdf-1v1-normal-0.75"].dim_x == 2
    assert set(task_suite("accuracy")) == set(tasks) | set(high_mi_tasks())


def test_ground_truth_matches_closed_forms():
    tasks = bmi_v1_tasks()
    binormal = -0.5 * math.log(1 - 0.75**2)
    for name in ("1v1-normal-0.75", "1v1-bimodal-0.75", "wiggly-1v1-normal-0.75", "half_cube-1v1-normal-0.75",
                 "swissroll_x-normal_cdf-1v1-normal-0.75"):
        assert tasks[name].mutual_information == pytest.approx(binormal, abs=1e-12)
    two_pair = -math.log(1 - 0.8**2)  # two pairs with correlation λ²/(λ² + 1) = 0.8
    for d in (2, 3, 5, 25):
        assert tasks[f"multinormal-sparse-{d}-{d}-2-2.0"].mutual_information == pytest.approx(two_pair, abs=1e-10)
    for d in (2, 5, 50):
        # Dense: equal correlations 0.5; eigenvalues of a block of size m are 1 + (m−1)/2 and 1/2.
        def logdet(m: int) -> float:
            return math.log(1 + (m - 1) * 0.5) + (m - 1) * math.log(0.5)

        expected = 0.5 * (2 * logdet(d) - logdet(2 * d))
        assert tasks[f"multinormal-dense-{d}-{d}-0.5"].mutual_information == pytest.approx(expected, abs=1e-9)
    assert tasks["1v1-additive-0.1"].mutual_information == pytest.approx(0.1 - math.log(0.2), abs=1e-12)


@pytest.mark.parametrize("name", ["1v1-bimodal-0.75", "wiggly-1v1-normal-0.75", "spiral-multinormal-sparse-5-5-2-2.0",
                                  "swissroll_x-normal_cdf-1v1-normal-0.75",
                                  "spiral-normal_cdf-multinormal-sparse-3-3-2-2.0"])
def test_monte_carlo_mi_of_the_transformed_density_ratio(name):
    """The transformed task's log-ratio (through the inverses) averages to the MI on its own samples."""
    task = bmi_v1_tasks()[name]
    x, y = task.sample(4000, seed=0)
    pointwise = torch.stack([task.log_density_ratio(x[i:i + 200].double(), y[i:i + 200].double()).diagonal()
                             for i in range(0, 4000, 200)]).flatten()
    se = float(pointwise.std()) / math.sqrt(pointwise.numel())
    assert abs(float(pointwise.mean()) - task.mutual_information) < 4 * se + 1e-3


@pytest.mark.parametrize("transform, params, dim", [("wiggly", {"side": "x"}, 1), ("wiggly", {"side": "y"}, 1),
                                                    ("bimodal", {"weights": (0.3, 0.7), "means": (0.0, 5.0)}, 1),
                                                    ("spiral", {"speed": 0.3, "plane": (1, 2)}, 4)])
def test_transforms_invert(transform, params, dim):
    t = get_transform(transform, **params)
    x = 1.5 * torch.randn(300, dim, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    torch.testing.assert_close(t.inverse(t.forward(x)), x, atol=1e-6, rtol=1e-6)


def test_bimodal_margin_has_two_modes():
    t = get_transform("bimodal", weights=(0.3, 0.7), means=(0.0, 5.0))
    v = t.forward(torch.randn(20000, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64))
    counts, _ = np.histogram(v.numpy(), bins=[-3, 1, 2.5, 4, 8])
    assert counts[1] < counts[0] < counts[3]  # a dip between the modes at 0 (30%) and 5 (70%)


def test_additive_coupling_is_invertible_and_volume_preserving():
    flow = additive_coupling(5, seed=3)
    x = torch.randn(50, 5, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    torch.testing.assert_close(flow.inverse(flow.forward(x)), x, atol=1e-10, rtol=1e-10)
    jac = torch.autograd.functional.jacobian(lambda v: flow.forward(v[None])[0], x[0])
    assert float(torch.linalg.det(jac)) == pytest.approx(1.0, abs=1e-9)
    assert not torch.allclose(flow.forward(x), x)


def test_high_mi_tasks_are_not_gaussian_copula():
    from infobound.estimate.nonparametric import gcmi

    tasks = high_mi_tasks()
    assert {t.mutual_information >= 5.0 for t in tasks.values()} == {True}
    x, y = tasks["coupling-gaussian-5x5-5nats"].sample(3000, seed=0)
    assert gcmi(x, y).value < 3.0  # the Gaussian copula reads well below the 5 nats
