"""The estimators' shared start: seed check, input reading and the row split sizes."""

import numpy as np
import pytest

from infobound.estimate import estimate_mi
from infobound.estimate.inputs import pair_and_split_sizes


def test_split_sizes_take_their_fractions_and_training_the_rest():
    x, y = np.zeros((1001, 2)), np.ones((1001, 3))
    xt, yt, sizes = pair_and_split_sizes(x, y, 0, (0.15, 0.15))
    assert tuple(xt.shape) == (1001, 2) and tuple(yt.shape) == (1001, 3)
    assert sizes == [701, 150, 150] and sum(sizes) == 1001  # round(150.15) = 150 each, the rest trains


@pytest.mark.parametrize("method", ["fdime", "flow", "doe", "neural"])
def test_every_trained_estimator_rejects_a_non_int_seed(method):
    x = np.random.default_rng(0).normal(size=(200, 1))
    with pytest.raises(TypeError, match="seed"):
        estimate_mi(x, x, method=method, seed=1.5)


@pytest.mark.parametrize("method, option", [("flow", "certify"), ("doe", "symmetric")])
def test_a_truthy_string_is_not_a_bool(method, option):
    x = np.random.default_rng(0).normal(size=(200, 1))
    with pytest.raises(TypeError, match=f"`{option}` must be a bool"):
        estimate_mi(x, x, method=method, **{option: "no"})
