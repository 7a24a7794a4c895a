"""Critics: shapes, input errors, and equality with naive pairwise definitions."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from infobound import critics, tasks

DX, DY = 5, 3


def _data(n: int, m: int, dx: int = DX, dy: int = DY, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(n, dx, generator=gen), torch.randn(m, dy, generator=gen)


def _built(name: str, dx: int = DX, dy: int = DY) -> nn.Module:
    kwargs = {"separable": dict(hidden=16, layers=2, embed_dim=4), "concat": dict(hidden=16, layers=2)}.get(name, {})
    return critics.build(name, dx, dy, **kwargs)


@pytest.mark.parametrize("name", critics.available())
@pytest.mark.parametrize("n, m", [(7, 7), (2, 5), (6, 1)])
def test_every_critic_maps_a_batch_to_an_n_by_m_score_matrix(name: str, n: int, m: int) -> None:
    dy = DX if name in ("inner", "fgaussian") else DY  # those compare x and y directly
    x, y = _data(n, m, DX, dy)
    scores = _built(name, DX, dy)(x, y)
    assert scores.shape == (n, m)
    assert scores.dtype == torch.float32
    assert torch.isfinite(scores).all()


def test_analytic_critic_shape() -> None:
    task = tasks.CorrelatedGaussian(4, 1.0)
    x, _ = task.sample(6, seed=0)
    _, y = task.sample(3, seed=1)
    assert critics.AnalyticCritic(task)(x, y).shape == (6, 3)


@pytest.mark.parametrize("name", ["separable", "bilinear", "concat"])
def test_wrong_feature_sizes_raise_naming_the_input(name: str) -> None:
    critic = _built(name)
    with pytest.raises(ValueError, match=f"`x` must have {DX} features"):
        critic(*_data(4, 4, DX + 1, DY))
    with pytest.raises(ValueError, match=f"`y` must have {DY} features"):
        critic(*_data(4, 4, DX, DY + 2))


@pytest.mark.parametrize("name", critics.available())
def test_inputs_must_be_two_dimensional(name: str) -> None:
    with pytest.raises(ValueError, match="2-d"):
        _built(name)(torch.randn(4), torch.randn(4, DY))
    with pytest.raises(ValueError, match="2-d"):
        _built(name)(torch.randn(4, DX), torch.randn(2, 4, DY))


@pytest.mark.parametrize("name", ["inner", "fgaussian"])
def test_direct_similarity_critics_need_equal_sizes(name: str) -> None:
    with pytest.raises(ValueError, match="`x` and `y` of equal size"):
        _built(name)(*_data(4, 4, 5, 3))


def test_unknown_critic_and_bad_hyper_parameters_raise() -> None:
    with pytest.raises(ValueError, match="unknown critic"):
        critics.build("transformer", DX, DY)
    with pytest.raises(ValueError, match="`temperature`"):
        critics.build("separable", DX, DY, cosine=True, temperature=0.0)
    with pytest.raises(ValueError, match="`temperature`"):
        critics.build("inner", DX, DX, temperature=-1.0)
    with pytest.raises(ValueError, match="`layers`"):
        critics.build("concat", DX, DY, layers=0)
    with pytest.raises(ValueError, match="`inverse_width`"):
        critics.build("fgaussian", DX, DX, inverse_width=0.0)
    with pytest.raises(TypeError, match="log_density_ratio"):
        critics.AnalyticCritic(object())


def test_aliases_build_the_same_kind() -> None:
    assert isinstance(critics.build("joint", DX, DY), critics.ConcatCritic)
    assert isinstance(critics.build("dot", DX, DX), critics.InnerProductCritic)
    assert isinstance(critics.build("f_gaussian", DX, DX), critics.FGaussianCritic)


@pytest.mark.parametrize("layers", [1, 3])
def test_concat_critic_equals_the_naive_mlp_on_all_concatenated_pairs(layers: int) -> None:
    torch.manual_seed(1)
    critic = critics.ConcatCritic(DX, DY, hidden=8, layers=layers)
    # the same weights as one plain MLP over [x; y]: first layer, ReLU, then the rest
    naive = nn.Sequential(critic.first, nn.ReLU(), *critic.rest)
    x, y = _data(4, 6, seed=2)
    expected = torch.empty(4, 6)
    for i in range(4):
        for j in range(6):
            expected[i, j] = naive(torch.cat([x[i], y[j]])[None, :]).squeeze()
    torch.testing.assert_close(critic(x, y), expected, rtol=1e-5, atol=1e-6)

    # and the gradients with respect to the weights agree
    critic(x, y).sum().backward()
    fast_grads = [p.grad.clone() for p in critic.parameters()]
    critic.zero_grad()
    pairs = torch.cat([x[:, None, :].expand(4, 6, DX), y[None, :, :].expand(4, 6, DY)], dim=-1).reshape(-1, DX + DY)
    naive(pairs).sum().backward()
    for fast, slow in zip(fast_grads, [p.grad for p in critic.parameters()]):
        torch.testing.assert_close(fast, slow, rtol=1e-4, atol=1e-5)


def test_separable_critic_is_a_dot_product_of_embeddings() -> None:
    torch.manual_seed(3)
    critic = critics.SeparableCritic(DX, DY, hidden=8, layers=2, embed_dim=4)
    x, y = _data(5, 4, seed=3)
    expected = torch.tensor([[(critic.g(x[i]) @ critic.h(y[j])).item() for j in range(4)] for i in range(5)])
    torch.testing.assert_close(critic(x, y), expected, rtol=1e-5, atol=1e-6)

    cosine = critics.SeparableCritic(DX, DY, hidden=8, layers=2, embed_dim=4, cosine=True, temperature=0.2)
    cosine.load_state_dict(critic.state_dict())
    expected_cos = torch.tensor([[F.cosine_similarity(critic.g(x[i]), critic.h(y[j]), dim=0).item() / 0.2
                                  for j in range(4)] for i in range(5)])
    torch.testing.assert_close(cosine(x, y), expected_cos, rtol=1e-5, atol=1e-5)


def test_bilinear_critic_is_x_w_y() -> None:
    critic = critics.BilinearCritic(DX, DY)
    x, y = _data(3, 4, seed=4)
    assert torch.equal(critic(x, y), torch.zeros(3, 4))  # starts at zero: every bound starts uninformed
    with torch.no_grad():
        critic.weight.copy_(torch.randn(DX, DY))
        expected = torch.tensor([[(x[i] @ critic.weight @ y[j]).item() for j in range(4)] for i in range(3)])
    torch.testing.assert_close(critic(x, y), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("normalize", [False, True])
def test_inner_product_critic(normalize: bool) -> None:
    critic = critics.InnerProductCritic(temperature=0.5, normalize=normalize)
    x, y = _data(3, 4, DX, DX, seed=5)
    for i in range(3):
        for j in range(4):
            a, b = (F.normalize(x[i], dim=0), F.normalize(y[j], dim=0)) if normalize else (x[i], y[j])
            assert critic(x, y)[i, j].item() == pytest.approx(float(a @ b) / 0.5, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("inverse_width, mu", [(1.0, 1.0), (2.5, 0.3)])
def test_f_gaussian_critic_is_log_mu_minus_scaled_squared_distance(inverse_width: float, mu: float) -> None:
    # log G = log μ − ‖x̂ − ŷ‖²/(2σ²) on L2-normalised inputs, inverse_width = 1/(2σ²) (f-MICL).
    critic = critics.FGaussianCritic(inverse_width=inverse_width, mu=mu)
    x, y = _data(4, 5, DX, DX, seed=6)
    x[0] *= 100.0  # the normalisation makes the scale irrelevant
    for i in range(4):
        for j in range(5):
            distance = (x[i] / x[i].norm() - y[j] / y[j].norm()).pow(2).sum()
            expected = math.log(mu) - inverse_width * distance.item()
            assert critic(x, y)[i, j].item() == pytest.approx(expected, abs=1e-5)
    # identical directions give the maximum log μ
    assert critic(x[:1], 3.0 * x[:1]).item() == pytest.approx(math.log(mu), abs=1e-6)


@pytest.mark.parametrize("cubic", [False, True])
def test_analytic_critic_is_the_task_log_density_ratio(cubic: bool) -> None:
    task = tasks.CorrelatedGaussian(3, 1.2, cubic=cubic)
    x, y = task.sample(8, seed=7)
    torch.testing.assert_close(critics.AnalyticCritic(task)(x, y), task.log_density_ratio(x, y))
    # log p(x_i, y_j) − log p(x_i) − log p(y_j) from the bivariate normal densities, pair by pair
    rho = task.rho
    y_plain = torch.sign(y) * y.abs() ** (1 / 3) if cubic else y
    cov = torch.tensor([[1.0, rho], [rho, 1.0]], dtype=torch.float64)
    joint = torch.distributions.MultivariateNormal(torch.zeros(2, dtype=torch.float64), cov)
    marginal = torch.distributions.Normal(0.0, 1.0)
    for i in range(8):
        for j in range(8):
            xi, yj = x[i].double(), y_plain[j].double()
            expected = sum(joint.log_prob(torch.stack([xi[k], yj[k]])) - marginal.log_prob(xi[k]) - marginal.log_prob(yj[k])
                           for k in range(3))
            assert critics.AnalyticCritic(task)(x, y)[i, j].item() == pytest.approx(expected.item(), abs=2e-4)
