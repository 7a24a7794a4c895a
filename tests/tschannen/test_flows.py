"""Coupling flows and residual MLPs: exact inverses, log-determinants, identity initialisation."""

import math

import numpy as np
import pytest
import torch

from infobound.models.flows import (AdditiveCoupling, AffineCoupling, CouplingFlow, Permutation, ResidualMLP,
                                    jacobian_log_condition)


def _perturb(module: torch.nn.Module, scale: float = 0.3) -> None:
    """Move every weight far from its near-identity initialisation."""
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn_like(p))


@pytest.mark.parametrize("coupling", ["additive", "affine"])
@pytest.mark.parametrize("dim", [2, 7, 12])
def test_flow_inverse_is_exact(coupling, dim):
    flow = CouplingFlow(dim, num_couplings=4, hidden=(16, 16), coupling=coupling, seed=3).double()
    _perturb(flow)
    x = torch.randn(32, dim, dtype=torch.float64)
    y = flow(x)
    assert not torch.allclose(y, x)  # a real transformation, not the identity
    assert torch.allclose(flow.inverse(y), x, atol=1e-10)
    assert torch.allclose(flow(flow.inverse(x)), x, atol=1e-10)


@pytest.mark.parametrize("coupling", ["additive", "affine"])
def test_log_det_matches_autograd_jacobian(coupling):
    dim = 6
    flow = CouplingFlow(dim, num_couplings=3, hidden=(8,), coupling=coupling, seed=1).double()
    _perturb(flow, 0.5)
    x = torch.randn(5, dim, dtype=torch.float64)
    with torch.no_grad():
        _, log_det = flow.forward_and_log_det(x)
    for i in range(len(x)):
        jac = torch.autograd.functional.jacobian(lambda v: flow(v[None])[0], x[i])
        _, logabs = torch.linalg.slogdet(jac)  # permutations only flip the sign
        assert math.isclose(float(log_det[i]), float(logabs), abs_tol=1e-9)
    if coupling == "additive":
        assert torch.all(log_det == 0)  # NICE couplings are volume preserving


def test_single_couplings_and_permutation_invert():
    x = torch.randn(10, 9, dtype=torch.float64)
    for layer in (AdditiveCoupling(9, (8,)), AffineCoupling(9, (8,)), Permutation(9, seed=0)):
        layer = layer.double()
        _perturb(layer)
        y, log_det = layer.forward_and_log_det(x)
        assert torch.allclose(layer.inverse(y), x, atol=1e-12)
        assert log_det.shape == (10,)
    perm = Permutation(9, seed=0)
    assert sorted(perm.perm.tolist()) == list(range(9)) and perm.perm.tolist() != list(range(9))
    assert torch.equal(Permutation(9, seed=0).perm, perm.perm)  # fixed by the seed


@pytest.mark.parametrize("coupling", ["additive", "affine"])
def test_identity_initialisation(coupling):
    x = torch.randn(16, 10, dtype=torch.float64)
    exact = CouplingFlow(10, 5, (32, 32), coupling=coupling, init_std=None, seed=0).double()
    # Exactly the identity up to the fixed permutations: undo them and compare.
    y = exact(x)
    perm = torch.arange(10)
    for layer in exact.layers:
        if isinstance(layer, Permutation):
            perm = perm[layer.perm]
    assert torch.allclose(y, x[:, perm], atol=1e-12)
    paper = CouplingFlow(10, 5, (32, 32), coupling=coupling, init_std=1e-4, seed=0).double()
    assert torch.allclose(paper(x), x[:, perm], atol=1e-6)  # the paper's near-identity init
    _, log_det = paper.forward_and_log_det(x)
    assert log_det.abs().max() < 1e-5


def test_flow_rejects_bad_arguments():
    with pytest.raises(ValueError, match="coupling"):
        CouplingFlow(4, 2, coupling="spline")
    with pytest.raises(ValueError, match="num_couplings"):
        CouplingFlow(4, 0)
    with pytest.raises(ValueError, match=r"\[n, 4\]"):
        CouplingFlow(4, 1)(torch.randn(3, 5))


def test_residual_mlp_identity_at_init_and_condition_numbers():
    torch.manual_seed(0)
    net = ResidualMLP(8, num_layers=5, init_std=1e-4).double()
    x = torch.randn(6, 8, dtype=torch.float64)
    assert torch.allclose(net(x), x, atol=1e-2)  # five layers x + W x with |W_ij| <= 2e-4
    assert jacobian_log_condition(net, x).abs().max() < 1e-2  # Jacobian ≈ I: condition number ≈ 1
    _perturb(net, 0.4)
    got = jacobian_log_condition(net, x)
    for i in range(len(x)):
        jac = torch.autograd.functional.jacobian(lambda v: net(v[None])[0], x[i]).numpy()
        s = np.linalg.svd(jac, compute_uv=False)
        assert math.isclose(float(got[i]), math.log(s[0] / s[-1]), rel_tol=1e-8)
    assert not got.requires_grad
