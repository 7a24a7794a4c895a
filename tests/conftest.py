import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread_and_seed():
    # One thread per process: on 2 shared cores two threads are several times slower (reference §7).
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
