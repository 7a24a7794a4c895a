"""The shared-latent non-i.i.d. sampler of Tschannen et al. §4: its true MI and its batch structure."""

import math

import torch

from infobound.bench.tschannen.noniid import SharedLatentGaussian


def test_true_mi_closed_form():
    # Σ = Σ_Z + Σ_ε = [[2, 0.4], [0.4, 2]] → ρ = 0.2 → I = −½ log(1 − 0.04).
    for iid in (False, True):
        task = SharedLatentGaussian(iid=iid)
        assert task.cov == ((2.0, 0.4), (0.4, 2.0))
        assert math.isclose(task.rho, 0.2)
        assert math.isclose(task.mutual_information, -0.5 * math.log(0.96), rel_tol=1e-12)
        assert math.isclose(task.mutual_information, 0.020411, abs_tol=5e-7)


def _batches(task, batches: int, n: int, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.stack([torch.cat(task.sample(n, seed=gen), dim=1) for _ in range(batches)]).double()  # [B, n, 2]


def test_pair_law_is_the_same_and_mi_is_the_truth_by_monte_carlo():
    """Each pair (x_i, y_i) has covariance Σ in both modes; the mean log density ratio is the MI."""
    for iid in (False, True):
        task = SharedLatentGaussian(iid=iid)
        pairs = _batches(task, 1000, 32).reshape(-1, 2)  # 32,000 pairs
        cov = torch.cov(pairs.T)
        assert torch.allclose(cov, torch.tensor([[2.0, 0.4], [0.4, 2.0]], dtype=torch.float64), atol=0.1)
        if iid:  # i.i.d. pairs: the sample mean of the pointwise MI converges to the MI
            diag = torch.cat([task.log_density_ratio(pairs[i:i + 1000, :1], pairs[i:i + 1000, 1:]).diagonal()
                              for i in range(0, len(pairs), 1000)])
            se = float(diag.std()) / math.sqrt(len(diag))
            assert abs(float(diag.mean()) - task.mutual_information) < 4 * se


def test_log_density_ratio_matches_gaussian_densities():
    task = SharedLatentGaussian()
    x, y = torch.randn(5, 1, dtype=torch.float64), torch.randn(7, 1, dtype=torch.float64)
    cov = torch.tensor(task.cov, dtype=torch.float64)
    joint = torch.distributions.MultivariateNormal(torch.zeros(2, dtype=torch.float64), cov)
    px = torch.distributions.Normal(0.0, math.sqrt(cov[0, 0]))
    py = torch.distributions.Normal(0.0, math.sqrt(cov[1, 1]))
    pairs = torch.stack(torch.broadcast_tensors(x, y.T), dim=-1)  # [5, 7, 2]
    expected = joint.log_prob(pairs) - px.log_prob(x) - py.log_prob(y.T)
    assert torch.allclose(task.log_density_ratio(x, y), expected, atol=1e-12)


def test_negatives_are_dependent_only_in_non_iid_batches():
    """Cov(x_i, y_j), j ≠ i, within a batch: Cov(Z_x, Z_y) = −0.5 non-i.i.d., 0 i.i.d."""
    for iid, expected in ((False, -0.5), (True, 0.0)):
        xy = _batches(SharedLatentGaussian(iid=iid), 2000, 16, seed=1)
        x, y = xy[..., 0], xy[..., 1]  # [batches, n]
        prod = x[:, :, None] * y[:, None, :]  # x_i y_j, zero-mean variables
        off = ~torch.eye(16, dtype=torch.bool)
        cross = prod[:, off].mean()
        assert abs(float(cross) - expected) < 0.1  # ≈ 4 standard errors over 2,000 batch latents


def test_sampling_is_seeded():
    task = SharedLatentGaussian()
    a, b = task.sample(16, seed=3), task.sample(16, seed=3)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert a[0].shape == (16, 1) and a[0].dtype == torch.float32
