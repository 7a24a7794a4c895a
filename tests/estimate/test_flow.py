"""The flow-Gaussianisation estimator (method="flow"): the product bijection, accuracy, invariance, validity, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from infobound.estimate import estimate_mi
from infobound.estimate.flow import FlowConfig, GaussianisingFlow, estimate_flow
from infobound.estimate.nonparametric import gcmi
from infobound.models.flows import ProductFlow

FAST = {"num_couplings": 4, "hidden": 32, "max_steps": 600, "eval_interval": 50, "lr": 3e-3,
        "correction": False, "progress": False}


def _randomise(module: torch.nn.Module, scale: float = 0.3, seed: int = 0) -> None:
    """Move every parameter away from the identity initialisation, so the map is a non-trivial bijection."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=gen))


def _gaussian_pair(n: int, rho: float, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """x, y with corr(x_i, y_i) = rho (independent pairs); MI = −dim/2·log(1 − rho²) in closed form."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim))
    y = rho * x + math.sqrt(1 - rho ** 2) * rng.standard_normal((n, dim))
    return x, y, -0.5 * dim * math.log(1 - rho ** 2)


def _fold(a: np.ndarray) -> np.ndarray:
    """A non-coordinatewise bijection of R²: (a1, a2) ↦ (a1, a2 + a1²) (its inverse subtracts a1²).

    It is not monotone per coordinate in a1, so a Gaussian copula cannot undo it.
    """
    return np.stack([a[:, 0], a[:, 1] + a[:, 0] ** 2], axis=1)


def test_product_flow_is_a_bijection_with_the_autograd_log_det() -> None:
    torch.manual_seed(0)
    flow = ProductFlow(3, 2, num_couplings=3, hidden=(8,), coupling="affine", seed=1)
    _randomise(flow)
    x, y = torch.randn(5, 3, dtype=torch.float64), torch.randn(5, 2, dtype=torch.float64)
    flow = flow.double()
    u, v, log_det = flow.forward_and_log_det(x, y)
    x_back, y_back = flow.inverse(u, v)
    assert torch.allclose(x_back, x, atol=1e-9) and torch.allclose(y_back, y, atol=1e-9)
    for i in range(5):
        def joint(z: torch.Tensor) -> torch.Tensor:
            a, b, _ = flow.forward_and_log_det(z[None, :3], z[None, 3:])
            return torch.cat([a, b], dim=1)[0]

        jac = torch.autograd.functional.jacobian(joint, torch.cat([x[i], y[i]]))
        assert jac[:3, 3:].abs().max() == 0 and jac[3:, :3].abs().max() == 0  # a product map: no cross terms
        assert float(log_det[i].detach()) == pytest.approx(float(torch.linalg.slogdet(jac)[1]), abs=1e-8)


def test_one_dimensional_side_is_the_identity_and_the_density_integrates_like_a_gaussian() -> None:
    flow = ProductFlow(1, 2, num_couplings=2, hidden=(8,), seed=0)
    _randomise(flow, seed=3)
    x, y = torch.randn(4, 1), torch.randn(4, 2)
    u, _, _ = flow.forward_and_log_det(x, y)
    assert torch.equal(u, x)
    # With the identity flow, the model is exactly the Gaussian N(0, Σ): compare with torch.distributions.
    cov = torch.tensor([[1.0, 0.3, 0.2], [0.3, 1.0, 0.1], [0.2, 0.1, 1.0]])
    model = GaussianisingFlow(ProductFlow(1, 2, num_couplings=1, hidden=(4,)), torch.zeros(3), cov)
    reference = torch.distributions.MultivariateNormal(torch.zeros(3), cov).log_prob(torch.cat([x, y], dim=1))
    assert torch.allclose(model.log_likelihood(x, y), reference, atol=1e-5)


def test_flow_recovers_the_closed_form_where_gcmi_is_off() -> None:
    x, y, truth = _gaussian_pair(4000, 0.9, 2, seed=1)
    xf = _fold(x)
    copula = gcmi(xf, y).value
    result = estimate_flow(xf, y, seed=0, **FAST)
    assert abs(copula - truth) > 0.3, "the fold should put GCMI off, else the test proves nothing"
    assert abs(result.value - truth) < 0.15, (result.value, truth, copula)


def test_invariant_under_a_bijection_of_one_variable() -> None:
    x, y, truth = _gaussian_pair(4000, 0.8, 2, seed=2)
    short = dict(FAST, max_steps=150)
    plain = estimate_flow(x, y, seed=0, **short).value
    # A per-coordinate monotone map (invisible after the rank standardisation but for test rows
    # beyond the training range) ...
    monotone = estimate_flow(np.sinh(2 * x) ** 3, y, seed=0, **short).value
    assert monotone == pytest.approx(plain, abs=0.02)
    assert plain == pytest.approx(truth, abs=0.1)
    # ... and a non-coordinatewise one (mixing, then the fold) that the flow has to undo.
    mixed = _fold(x @ np.array([[1.0, 0.5], [-0.4, 1.0]]))
    assert abs(gcmi(mixed, y).value - truth) > 0.2, "the map should put GCMI off, else the test proves nothing"
    assert estimate_flow(mixed, y, seed=0, **FAST).value == pytest.approx(truth, abs=0.15)


@pytest.mark.parametrize("rho,dim,seed", [(0.5, 2, 0), (0.9, 2, 1), (0.99, 3, 2), (0.0, 2, 3)])
def test_certified_lower_limit_stays_below_the_truth(rho: float, dim: int, seed: int) -> None:
    x, y, truth = _gaussian_pair(1500, rho, dim, seed)
    result = estimate_mi(_fold(x) if dim == 2 else x, y, method="flow", seed=seed,
                         **dict(FAST, max_steps=200, correction=True, correction_max_steps=200))
    assert result.lower is not None and result.lower <= truth + 1e-9
    assert result.details["certificate"]["alpha"] is not None


def test_bad_inputs_raise_clear_errors() -> None:
    x, y, _ = _gaussian_pair(500, 0.5, 2, 0)
    with pytest.raises(ValueError, match="same number of samples"):
        estimate_flow(x, y[:-1])
    bad = x.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        estimate_flow(bad, y)
    with pytest.raises(ValueError, match="too few samples"):
        estimate_flow(x[:40], y[:40])
    with pytest.raises(TypeError, match="unknown option"):
        estimate_flow(x, y, couplings=3)
    with pytest.raises(ValueError, match="readout"):
        FlowConfig(readout="train")
    with pytest.raises(ValueError, match="coupling"):
        FlowConfig(coupling="spline")
    with pytest.raises(ValueError, match="num_couplings"):
        FlowConfig(num_couplings=0)
    with pytest.raises(ValueError, match="lr"):
        FlowConfig(lr=float("nan"))
    with pytest.raises(ValueError, match="validation_fraction"):
        FlowConfig(validation_fraction=0.5, test_fraction=0.45)
    with pytest.raises(TypeError, match="seed"):
        estimate_flow(x, y, seed=1.5)
