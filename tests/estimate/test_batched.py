"""The batched trainer reproduces the sequential runs (same seeds → same numbers)."""

import numpy as np
import pytest
import torch

from infobound.estimate.batched import RunConfig, StackedCritics, gaussian_stream, train_batched, train_sequential
from infobound import critics
from infobound.tasks import Staircase


def test_batched_equals_sequential_for_every_bound_and_two_architectures():
    stream = gaussian_stream(Staircase(dim=6, steps_per_level=8).task_at, batch_size=32, seed=1)
    small = dict(hidden=16, layers=2, embed_dim=8)
    runs = [RunConfig(bound, kwargs, "separable", small, seed=seed, lr=1e-3)
            for seed in (0, 1)
            for bound, kwargs in [("infonce", {}), ("ml_cpc", {"alpha": 0.01}), ("alpha_cpc", {"alpha": 0.01}),
                                  ("smile", {"clip": 5.0}), ("mine", {}), ("nwj", {}), ("js", {})]]
    runs.append(RunConfig("infonce", {}, "concat", dict(hidden=16, layers=2), seed=2, lr=1e-3))
    sequential = train_sequential(runs, stream, steps=25, dim_x=6, dim_y=6)
    batched = train_batched(runs, stream, steps=25, dim_x=6, dim_y=6)
    np.testing.assert_allclose(batched, sequential, atol=1e-5, rtol=1e-5)
    assert not np.allclose(sequential[0], sequential[1])  # the runs really differ


def test_stacked_critics_match_members():
    members = [critics.build("separable", 4, 3, hidden=8, layers=1, embed_dim=5) for _ in range(3)]
    x, y = torch.randn(10, 4), torch.randn(10, 3)
    stacked = StackedCritics(members)(x, y)
    assert stacked.shape == (3, 10, 10)
    for e, member in enumerate(members):
        torch.testing.assert_close(stacked[e], member(x, y))


def test_stacking_different_architectures_is_an_error():
    with pytest.raises(ValueError, match="one architecture"):
        StackedCritics([critics.build("separable", 2, 2), critics.build("bilinear", 2, 2)])
