"""Exact algebra: InfoNCE ↔ multi-class K-pair loss ↔ triplet loss, and InfoCL's Theorem 1."""

import itertools
import math
import random

import pytest
import torch

from infobound import bounds
from infobound.theory import (Joint, kpair_loss, minimal_sufficient_representation, shared_private_example,
                              soft_triplet_loss, synergy_counterexample, theorem1, triplet_loss)
from infobound.theory.infocl import least_sufficient_entropy, set_partitions


@pytest.mark.parametrize("n", [2, 3, 17, 128])
def test_infonce_is_log_k_minus_kpair_loss(n):
    scores = 3.0 * torch.randn(n, n, dtype=torch.float64)
    assert torch.allclose(bounds.infonce(scores), math.log(n) - kpair_loss(scores), atol=1e-12)
    naive = sum(math.log(1.0 + sum(math.exp(scores[i, j] - scores[i, i]) for j in range(n) if j != i))
                for i in range(n)) / n
    assert math.isclose(float(kpair_loss(scores)), naive, rel_tol=1e-10, abs_tol=1e-12)


def test_kpair_loss_gradient_is_minus_infonce_gradient():
    scores = torch.randn(9, 9, dtype=torch.float64, requires_grad=True)
    (g1,) = torch.autograd.grad(kpair_loss(scores), scores)
    (g2,) = torch.autograd.grad(-bounds.infonce(scores), scores)
    assert torch.allclose(g1, g2, atol=1e-12)


def test_two_pair_kpair_is_the_soft_triplet_loss_on_unit_vectors():
    """K = 2, critic 2·aᵀb on unit vectors: the K-pair loss of anchor a_i, positive p_i, negative p_j."""
    torch.manual_seed(0)
    a = torch.nn.functional.normalize(torch.randn(2, 5, dtype=torch.float64), dim=1)
    p = torch.nn.functional.normalize(torch.randn(2, 5, dtype=torch.float64), dim=1)
    scores = 2.0 * a @ p.T
    q = p.flip(0)  # each anchor's negative is the other pair's positive
    assert torch.allclose(kpair_loss(scores), soft_triplet_loss(a, p, q), atol=1e-12)
    hinge = triplet_loss(a, p, q, margin=0.0)
    assert hinge <= soft_triplet_loss(a, p, q) <= hinge + math.log(2) + 1e-12


def test_triplet_losses_on_known_distances():
    a = torch.zeros(1, 2)
    p, q = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 2.0]])  # d_ap = 1, d_an = 4
    assert float(triplet_loss(a, p, q, margin=1.0)) == 0.0
    assert float(triplet_loss(a, p, q, margin=5.0)) == pytest.approx(2.0)
    assert float(soft_triplet_loss(a, p, q)) == pytest.approx(math.log1p(math.exp(-3.0)))
    with pytest.raises(ValueError, match="shape"):
        triplet_loss(a, p, torch.zeros(2, 2))


@pytest.mark.parametrize("flip", [0.0, 0.1, 0.5])
@pytest.mark.parametrize("shared,private", [(2, 2), (4, 2), (3, 3)])
def test_theorem1_minimal_sufficient_representation_loses_nonshared_task_information(shared, private, flip):
    check = theorem1(shared_private_example(shared, private, flip))
    assert abs(check.sufficiency_gap) < 1e-12  # sufficient
    assert abs(check.nonshared_in_rep) < 1e-12  # holds only shared information
    assert check.holds  # I(v1;T) − I(z1;T) = I(v1;T|v2), to 1e-10 nats
    if flip < 0.5 or private > 2:
        assert check.lost > 0.05  # the non-shared task information really is lost


def test_theorem1_values_of_the_default_example():
    check = theorem1(shared_private_example())
    h_flip = -(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
    assert math.isclose(check.task_info_rep, math.log(2), abs_tol=1e-12)  # z1 = S tells S mod 2
    assert math.isclose(check.lost, math.log(2) - h_flip, abs_tol=1e-12)  # I(N1; noisy N1)


def test_minimal_sufficient_representation_is_minimal_by_brute_force():
    for joint in (shared_private_example(2, 2, 0.1), synergy_counterexample()):
        j = minimal_sufficient_representation(joint)
        assert math.isclose(j.mutual_information(["z1"], ["v2"]), j.mutual_information(["v1"], ["v2"]), abs_tol=1e-12)
        assert math.isclose(j.entropy(["z1"]), least_sufficient_entropy(joint), abs_tol=1e-12)


def _random_joint(rng: random.Random) -> Joint:
    weights = {(v1, v2, t): rng.random() ** 3 for v1, v2, t in itertools.product(range(4), range(3), range(2))}
    total = sum(weights.values())
    return Joint(("v1", "v2", "T"), {k: w / total for k, w in weights.items()})


def test_general_identity_and_where_theorem1_needs_its_assumption():
    """lost = I(v1;T|v2) − I(z1;T|v2) − I(v1;v2|T,z1) for any joint; Theorem 1 drops the corrections."""
    rng = random.Random(0)
    for joint in [synergy_counterexample(), *(_random_joint(rng) for _ in range(20))]:
        c = theorem1(joint)
        assert math.isclose(c.lost, c.nonshared_task_info - c.correction_rep - c.correction_synergy, abs_tol=1e-10)
    c = theorem1(synergy_counterexample())
    assert not c.holds
    assert c.lost == pytest.approx(0.0, abs=1e-12) and c.nonshared_task_info == pytest.approx(math.log(2))


def test_joint_information_measures():
    j = Joint.independent(a={0: 0.5, 1: 0.5}, b={0: 0.25, 1: 0.75})
    assert math.isclose(j.mutual_information(["a"], ["b"]), 0.0, abs_tol=1e-15)
    assert math.isclose(j.entropy(["a"]), math.log(2))
    j = j.with_variable("c", lambda a, b: a ^ b, ["a", "b"])
    assert math.isclose(j.mutual_information(["a"], ["c"], given=["b"]), math.log(2))
    with pytest.raises(ValueError, match="sum to 1"):
        Joint(("x",), {(0,): 0.3})
    with pytest.raises(ValueError, match="unknown variable"):
        j.entropy(["d"])
    assert sum(1 for _ in set_partitions(range(4))) == 15  # Bell number B4
