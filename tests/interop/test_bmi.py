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
