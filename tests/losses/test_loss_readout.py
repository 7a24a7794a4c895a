"""α schedule endpoints and the MI read-out's once-only ceiling warning."""

import math
import warnings

import pytest
import torch

from infobound import losses
from infobound.losses import Alpha, CeilingWarning, ContrastiveOutput, GeometricAlphaSchedule, MIReadout


def test_geometric_schedule_endpoints_and_midpoint():
    schedule = GeometricAlphaSchedule()
    assert schedule(0.0) == pytest.approx(10.0)
    assert schedule(1.0) == pytest.approx(0.1)
    assert schedule(0.5) == pytest.approx(1.0)
    # the official code's per-epoch form: log α = (log a − log b)(1 − e/E) + log b
    for epoch, epochs in ((0, 200), (37, 200), (199, 200)):
        official = math.exp((math.log(10) - math.log(0.1)) * (1 - epoch / epochs) + math.log(0.1))
        assert schedule(epoch / epochs) == pytest.approx(official)
    with pytest.raises(ValueError, match="progress"):
        schedule(1.5)
    with pytest.raises(ValueError, match="start"):
        GeometricAlphaSchedule(start=0.0)


def test_alpha_spec_forms():
    assert Alpha(0.3)() == 0.3 and Alpha(0.3)(0.9) == 0.3
    pair = Alpha((4.0, 0.25))
    assert pair() == pytest.approx(4.0)
    assert pair(1.0) == pytest.approx(0.25)
    assert pair() == pytest.approx(0.25)  # remembers the last progress
    assert Alpha(lambda p: 1.0 + p)(0.5) == 1.5
    with pytest.raises(ValueError):
        Alpha("cosine")
    with pytest.raises(ValueError):
        Alpha((1.0, 2.0, 3.0))
    with pytest.raises(ValueError):
        Alpha(float("nan"))


def _out(value, ceiling):
    return ContrastiveOutput(torch.tensor(0.0), torch.tensor(value), ceiling)


def test_readout_warns_once_at_the_ceiling():
    readout = MIReadout("test", margin=0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert readout(_out(1.0, math.log(16))) == pytest.approx(1.0)
        assert not caught
        readout(_out(math.log(16) - 0.05, math.log(16)))
        readout(_out(math.log(16), math.log(16)))
        readout(_out(1.0, float("inf")))
    assert [w.category for w in caught] == [CeilingWarning]
    assert "ceiling" in str(caught[0].message)
    assert readout.warned and readout.last == pytest.approx(1.0)


def test_objective_at_its_ceiling_triggers_the_warning():
    """Identical views at a tiny temperature: every positive wins, InfoNCE reads log(2n − 1)."""
    z = torch.eye(8)
    out = losses.build_objective("infonce", temperature=0.01)(z, z)
    assert out.mi_lower_bound.item() == pytest.approx(math.log(15), abs=1e-6)
    readout = MIReadout("simclr/infonce")
    with pytest.warns(CeilingWarning):
        readout(out)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        readout(out)  # quiet the second time
