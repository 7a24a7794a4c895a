"""bmi adapters: a bmi-like task becomes an infobound Task; real bmi is used when it is installed."""

import numpy as np
import pytest
import torch

from infobound.interop.bmi import BmiTask


class FakeBmiTask:
    """Duck-types bmi.Task: sample(n_samples, seed) -> numpy, mutual_information property, dims, name."""

    name = "fake-gaussian"
    dim_x = 2
    dim_y = 2
    mutual_information = 0.5

    def sample(self, n_samples: int, seed: int):
        rng = np.random.default_rng(seed)
        x = rng.standard_normal((n_samples, 2))
        return x, x + rng.standard_normal((n_samples, 2))


def test_bmi_task_adapter_follows_the_task_protocol():
    task = BmiTask(FakeBmiTask())
    x, y = task.sample(16, seed=3)
    assert x.dtype == torch.float32 and x.shape == (16, 2) and y.shape == (16, 2)
    x2, _ = task.sample(16, seed=3)
    torch.testing.assert_close(x, x2)
    assert task.mutual_information == 0.5 and task.dim_x == 2 and task.name == "fake-gaussian"
    gen = torch.Generator().manual_seed(0)
    assert task.sample(4, seed=gen)[0].shape == (4, 2)


def test_not_a_bmi_task_is_a_clear_error():
    with pytest.raises(TypeError, match="not a bmi task"):
        BmiTask(object())


def test_core_does_not_import_bmi_or_jax():
    import subprocess
    import sys

    code = "import sys, infobound, infobound.bounds, infobound.critics, infobound.tasks, infobound.estimate; " \
           "print(any(m.split('.')[0] in ('bmi', 'jax') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"


def test_real_bmi_task_when_installed():
    bmi = pytest.importorskip("bmi")
    task = BmiTask(bmi.benchmark.BENCHMARK_TASKS["1v1-normal-0.75"])
    x, y = task.sample(100, seed=0)
    assert x.shape == (100, 1) and task.mutual_information > 0


def test_bmi_v1_ground_truth_matches_bmi_when_installed():
    """Our 40 re-implemented bmi v1 tasks carry bmi's own ground-truth MI (bmi computes it independently)."""
    bmi = pytest.importorskip("bmi")
    from infobound.tasks import task_suite

    ours = task_suite("bmi-v1")
    theirs = bmi.benchmark.BENCHMARK_TASKS
    assert set(ours) == set(theirs)
    for task_id, task in ours.items():
        assert task.mutual_information == pytest.approx(float(theirs[task_id].mutual_information), rel=1e-6,
                                                        abs=1e-8), task_id


@pytest.mark.parametrize("task_id", ["spiral-multinormal-sparse-3-3-2-2.0", "swissroll_x-normal_cdf-1v1-normal-0.75",
                                     "1v1-bimodal-0.75", "wiggly-1v1-normal-0.75",
                                     "spiral-normal_cdf-multinormal-sparse-5-5-2-2.0",
                                     "half_cube-multinormal-sparse-3-3-2-2.0"])
def test_bmi_samples_fit_our_density_ratio_when_installed(task_id):
    """bmi's own draws, scored by our log density ratio, average to the MI: the distributions are the same.

    A wrong transform (another spiral plane or speed, another mixture) makes our inverse map send bmi's
    points elsewhere, and the average log-ratio misses the MI.
    """
    bmi = pytest.importorskip("bmi")
    from infobound.tasks import task_suite

    ours = task_suite("bmi-v1")[task_id]
    x, y = bmi.benchmark.BENCHMARK_TASKS[task_id].sample(8_000, seed=0)
    x, y = (torch.as_tensor(np.asarray(a), dtype=torch.float64) for a in (x, y))
    # log_density_ratio scores all pairs [n, m]; the joint's points are the diagonal, taken block by block.
    log_ratio = torch.cat([torch.diagonal(ours.log_density_ratio(x[i:i + 500], y[i:i + 500]))
                           for i in range(0, len(x), 500)])
    standard_error = float(log_ratio.std()) / len(log_ratio) ** 0.5
    assert abs(float(log_ratio.mean()) - ours.mutual_information) < 5 * standard_error + 0.01, task_id
