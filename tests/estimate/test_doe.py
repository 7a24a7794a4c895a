"""The difference-of-entropies estimator (method="doe"): density model, accuracy, invariance, errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from infobound.estimate import available_methods, estimate_mi
from infobound.estimate.doe import ConditionalGaussianFlow, DoeConfig, estimate_doe
from infobound.estimate.nonparametric import gcmi

FAST = {"max_steps": 400, "num_couplings": 2, "coupling_hidden": 16, "hidden": 64, "progress": False}


def _gaussian_pair(n: int, rho: float, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray, float]:
    """x, y with corr(x_i, y_i) = rho (independent pairs); MI = −dim/2·log(1 − rho²) in closed form."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, dim))
    y = rho * x + math.sqrt(1 - rho ** 2) * rng.standard_normal((n, dim))
    return x, y, -0.5 * dim * math.log(1 - rho ** 2)


def _spiral(a: np.ndarray, speed: float) -> np.ndarray:
    """Rotate each row by the angle speed·‖a‖² (a volume-preserving bijection of R²; MI unchanged)."""
    angle = speed * (a ** 2).sum(axis=1)
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([c * a[:, 0] - s * a[:, 1], s * a[:, 0] + c * a[:, 1]], axis=1)


def test_conditional_density_is_the_gaussian_at_the_start_and_a_density_after_the_flow() -> None:
    torch.manual_seed(0)
    x, y = torch.randn(300, 2), torch.randn(300, 3)
    y = y + x @ torch.tensor([[1.0, 0.0, 0.5], [0.0, -1.0, 0.2]])
    model = ConditionalGaussianFlow(2, 3, hidden=16, num_couplings=0)
    model.start_at_linear_fit(x, y)
    # At the start the model is the least-squares linear-Gaussian fit: compare with numpy's regression.
    design = np.hstack([x.numpy(), np.ones((300, 1))])
    coef, *_ = np.linalg.lstsq(design, y.numpy(), rcond=None)
    residual = y.numpy() - design @ coef
    cov = np.cov(residual, rowvar=False) + 1e-4 * np.eye(3)
    mean = torch.from_numpy(design @ coef).float()
    reference = torch.distributions.MultivariateNormal(mean, torch.from_numpy(cov).float()).log_prob(y)
    assert torch.allclose(model.log_likelihood(x, y), reference, atol=1e-4)
    # With a non-trivial flow and MLP, q(·|x) must still integrate to 1: Monte Carlo over a box, 1-d x.
    flowed = ConditionalGaussianFlow(1, 2, hidden=8, num_couplings=2, coupling_hidden=8)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in flowed.parameters():
            p.add_(0.2 * torch.randn(p.shape, generator=gen))
        grid = torch.linspace(-12, 12, 601)
        points = torch.cartesian_prod(grid, grid)
        density = flowed.log_likelihood(torch.full((points.shape[0], 1), 0.7), points).exp()
    assert float(density.sum() * (grid[1] - grid[0]) ** 2) == pytest.approx(1.0, abs=0.02)


def test_correlated_gaussian_matches_the_closed_form() -> None:
    x, y, truth = _gaussian_pair(2000, 0.9, 3, seed=0)
    result = estimate_mi(x, y, method="doe", seed=0, **FAST)
    assert result.value == pytest.approx(truth, abs=0.12), (result.value, truth)
    assert result.method == "doe" and result.lower is None and result.bound is None
    # The interval is the test rows' sampling noise of the whole log-ratio (not of the small correction alone).
    assert result.ci[0] < result.value < result.ci[1] and result.ci[1] - result.ci[0] > 0.05
    assert result.details["n_test"] == 300


def test_symmetric_and_the_other_marginals_agree_with_the_closed_form() -> None:
    x, y, truth = _gaussian_pair(2000, 0.8, 2, seed=1)
    both = estimate_doe(x, y, seed=0, symmetric=True, gaussian_baseline=False, **FAST)
    parts = both.details["value_parts"]
    # Without the Gaussian baseline the value is the plain DoE: the mean of the two directions'
    # entropy differences (each recorded from its own entropies).
    assert both.value == pytest.approx(0.5 * (parts["y_given_x_mi"] + parts["x_given_y_mi"]), abs=1e-6)
    assert both.value == pytest.approx(truth, abs=0.15)
    for marginal in ("gaussian", "knn"):
        assert estimate_doe(x, y, seed=0, marginal=marginal, **FAST).value == pytest.approx(truth, abs=0.15)


def test_invariant_under_monotone_maps_of_single_coordinates() -> None:
    x, y, truth = _gaussian_pair(2000, 0.8, 2, seed=2)
    plain = estimate_doe(x, y, seed=0, **FAST).value
    # Strictly increasing per coordinate: after the rank standardisation only test rows between
    # training values (linear interpolation of the map) see a difference.
    warped = estimate_doe(np.sinh(2 * x) ** 3, np.exp(y) + y, seed=0, **FAST).value
    assert warped == pytest.approx(plain, abs=0.05)
    assert plain == pytest.approx(truth, abs=0.12)


def test_nonlinear_dependence_where_gcmi_is_off() -> None:
    # y depends on a spiral of x: a volume-preserving bijection of a correlated Gaussian, so the MI
    # is the Gaussian's closed form; the Gaussian copula cannot see through the rotation.
    x, y, truth = _gaussian_pair(3000, 0.95, 2, seed=3)
    xs = _spiral(x, 0.5)
    copula = gcmi(xs, y).value
    result = estimate_doe(xs, y, seed=0, num_couplings=0, progress=False)
    assert abs(copula - truth) > 0.8, "the spiral should put GCMI off, else the test proves nothing"
    assert result.value == pytest.approx(truth, abs=0.25), (result.value, truth, copula)


def test_registered_and_bad_options_raise_clear_errors() -> None:
    assert "doe" in available_methods()
    x, y, _ = _gaussian_pair(300, 0.5, 2, 0)
    with pytest.raises(ValueError, match="`marginal`"):
        DoeConfig(marginal="kde")
    with pytest.raises(ValueError, match="`standardise`"):
        DoeConfig(standardise="none")
    with pytest.raises(ValueError, match="`hidden`"):
        DoeConfig(hidden=0)
    with pytest.raises(ValueError, match="`num_couplings`"):
        DoeConfig(num_couplings=-1)
    with pytest.raises(ValueError, match="`lr`"):
        DoeConfig(lr=float("nan"))
    with pytest.raises(ValueError, match="`validation_fraction`"):
        DoeConfig(validation_fraction=0.5, test_fraction=0.45)
    with pytest.raises(TypeError, match="`symmetric`"):
        DoeConfig(symmetric="yes")
    with pytest.raises(TypeError, match="unknown option"):
        estimate_doe(x, y, couplings=3)
    with pytest.raises(ValueError, match="too few samples"):
        estimate_doe(x[:40], y[:40])
    with pytest.raises(ValueError, match="same number of samples"):
        estimate_doe(x, y[:-1])
    with pytest.raises(ValueError, match="`k`"):
        estimate_doe(x, y, marginal="knn", k=5000)
    with pytest.raises(TypeError, match="`seed`"):
        estimate_doe(x, y, seed=1.5)


def test_doe_through_the_cli(tmp_path, capsys) -> None:
    import json

    from infobound.cli import main

    x, y, _ = _gaussian_pair(400, 0.8, 2, seed=4)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    main(["estimate", str(tmp_path / "x.npy"), str(tmp_path / "y.npy"), "--method", "doe", "--max_steps", "30",
          "--eval_interval", "10", "--hidden", "16", "--layers", "1", "--progress", "false",
          "--output", str(tmp_path / "doe.json")])
    out = capsys.readouterr().out
    assert "difference of entropies" in out and "certified" not in out
    saved = json.loads((tmp_path / "doe.json").read_text())
    assert saved["method"] == "doe" and saved["lower"] is None
    assert saved["details"]["config"]["hidden"] == 16 and saved["details"]["config"]["hidden_layers"] == 1
    with pytest.raises(SystemExit, match="--bound"):
        main(["estimate", str(tmp_path / "x.npy"), str(tmp_path / "y.npy"), "--method", "doe", "--bound", "nwj"])
