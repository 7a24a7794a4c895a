"""Non-neural MI estimators with the same result type as the neural ones.

- KSG (Kraskov, Stögbauer & Grassberger 2004, estimator 1): k-nearest neighbours in the joint
  space under the max-norm, counts in the marginals via KD-trees.
- Gaussian / CCA: the MI of a Gaussian with the sample covariance, −½ Σ_k log(1 − ρ_k²) over the
  canonical correlations ρ_k; exact for Gaussians, a lower-is-typical approximation otherwise.
- GCMI (Ince et al. 2017): Gaussian-copula MI — each coordinate ranked to normal scores, then the
  Gaussian MI of their covariance with the exact bias correction of the Gaussian entropies.
- Histogram: plug-in estimate on equal-frequency bins with the Miller–Madow bias correction; for
  low dimension only.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable

import numpy as np
from scipy.spatial import cKDTree
from scipy.special import digamma, ndtri
from scipy.stats import rankdata

from .result import EstimateResult


def _bootstrap_interval(value_of: Callable[[np.ndarray, np.ndarray], float], x: np.ndarray, y: np.ndarray,
                        n_bootstrap: int, seed: int) -> tuple[float, float] | None:
    """Percentile 95% interval of ``value_of`` over ``n_bootstrap`` resamples of the rows (None for 0)."""
    if n_bootstrap <= 0:
        return None
    rng = np.random.default_rng(seed)
    n = x.shape[0]
    draws = [value_of(x[idx], y[idx]) for idx in (rng.integers(0, n, n) for _ in range(n_bootstrap))]
    return float(np.percentile(draws, 2.5)), float(np.percentile(draws, 97.5))


def as_2d_float_array(a: Any, name: str) -> np.ndarray:
    """numpy/torch/list → float64 array [N, d] (a 1-d input becomes [N, 1]); rejects NaN/Inf."""
    if hasattr(a, "detach"):
        a = a.detach().cpu().numpy()
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(f"`{name}` must have shape [N, d] (or [N]), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError(f"`{name}` contains NaN or Inf values")
    return arr


def check_pair(x: Any, y: Any, min_samples: int = 2) -> tuple[np.ndarray, np.ndarray]:
    x_arr, y_arr = as_2d_float_array(x, "x"), as_2d_float_array(y, "y")
    if x_arr.shape[0] != y_arr.shape[0]:
        raise ValueError(f"`x` and `y` must have the same number of samples, got {x_arr.shape[0]} and {y_arr.shape[0]}")
    if x_arr.shape[0] < min_samples:
        raise ValueError(f"need at least {min_samples} samples, got {x_arr.shape[0]}")
    return x_arr, y_arr


def _standardise(a: np.ndarray) -> np.ndarray:
    std = a.std(axis=0)
    return (a - a.mean(axis=0)) / np.where(std > 0, std, 1.0)


def ksg(x: Any, y: Any, k: int = 5, noise: float = 1e-10, seed: int = 0) -> EstimateResult:
    r"""KSG estimator 1 (Kraskov et al. 2004, Eq. 8):

    .. math::
        \hat I = \psi(k) + \psi(N) - \langle \psi(n_x + 1) + \psi(n_y + 1) \rangle

    ε_i is the max-norm distance from sample i to its k-th neighbour in the joint space; n_x, n_y
    count marginal neighbours strictly closer than ε_i. Inputs are standardised and jittered by
    ``noise`` to break ties (as in scikit-learn and bmi).

    Args:
        x, y: [N, dx], [N, dy].
        k: neighbours (3–10 typical; larger k: less variance, more bias).
        noise: relative jitter against duplicate points.
        seed: seed of the jitter.
    """
    start = time.perf_counter()
    x_arr, y_arr = check_pair(x, y, min_samples=k + 2)
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"`k` must be a positive int, got {k!r}")
    rng = np.random.default_rng(seed)
    x_arr = _standardise(x_arr) + noise * rng.standard_normal(x_arr.shape)
    y_arr = _standardise(y_arr) + noise * rng.standard_normal(y_arr.shape)
    n = x_arr.shape[0]
    joint = np.hstack([x_arr, y_arr])
    radius = cKDTree(joint).query(joint, k=k + 1, p=np.inf)[0][:, -1]
    # "strictly closer than ε": shrink the radius by one ulp.
    shrunk = np.nextafter(radius, 0)
    n_x = cKDTree(x_arr).query_ball_point(x_arr, shrunk, p=np.inf, return_length=True) - 1
    n_y = cKDTree(y_arr).query_ball_point(y_arr, shrunk, p=np.inf, return_length=True) - 1
    value = digamma(k) + digamma(n) - np.mean(digamma(n_x + 1) + digamma(n_y + 1))
    return EstimateResult(float(value), None, method="ksg", n_samples=n, seconds=time.perf_counter() - start,
                          details={"k": k})


def gaussian(x: Any, y: Any, n_bootstrap: int = 0, seed: int = 0) -> EstimateResult:
    r"""MI of the Gaussian with the sample covariance (canonical correlation analysis):

    .. math::
        \hat I = -\tfrac12 \sum_k \log(1 - \rho_k^2) = \tfrac12\big[\log\det\hat\Sigma_{xx} + \log\det\hat\Sigma_{yy} - \log\det\hat\Sigma\big]

    Exact in the limit for Gaussian data; a lower bound on the MI of any distribution with the
    same covariance. ``n_bootstrap`` > 0 adds a percentile bootstrap interval.
    """
    start = time.perf_counter()
    x_arr, y_arr = check_pair(x, y, min_samples=_total_dim(x, y) + 2)

    def value_of(xa: np.ndarray, ya: np.ndarray) -> float:
        dx = xa.shape[1]
        cov = np.cov(np.hstack([xa, ya]), rowvar=False)
        _, logdet = np.linalg.slogdet(cov)
        _, logdet_x = np.linalg.slogdet(cov[:dx, :dx])
        _, logdet_y = np.linalg.slogdet(cov[dx:, dx:])
        return float(max(0.5 * (logdet_x + logdet_y - logdet), 0.0))

    value = value_of(x_arr, y_arr)
    ci = _bootstrap_interval(value_of, x_arr, y_arr, n_bootstrap, seed)
    return EstimateResult(value, ci, method="gaussian", n_samples=x_arr.shape[0],
                          seconds=time.perf_counter() - start, details={"n_bootstrap": n_bootstrap})


def copula_normal_scores(a: np.ndarray) -> np.ndarray:
    """Each column to normal scores Φ⁻¹(rank / (N + 1)) (ties share their average rank), Ince et al.'s copnorm."""
    return ndtri(rankdata(a, axis=0) / (a.shape[0] + 1.0))


def _gaussian_entropy_bias(dims: int, n: int) -> float:
    """β(d, N) with H ≈ Ĥ − β: the bias of the plug-in Gaussian entropy (N − 1 covariance), Ince et al. 2017.

    β = Σ_{k=1..d} ψ((N − k)/2)/2 + d·(log 2 − log(N − 1))/2, the terms of gcmi's ``ent_g``/``mi_gg``.
    """
    k = np.arange(1, dims + 1)
    return float(np.sum(digamma((n - k) / 2.0)) / 2.0 + dims * (math.log(2.0) - math.log(n - 1.0)) / 2.0)


def gcmi(x: Any, y: Any, bias_correct: bool = True, n_bootstrap: int = 0, seed: int = 0) -> EstimateResult:
    r"""Gaussian-copula MI (Ince, Giordano, Kayser, Rousselet, Gross & Schyns, Hum. Brain Mapp. 2017).

    Every coordinate is mapped to normal scores z = Φ⁻¹(rank/(N + 1)) (a per-coordinate monotone map,
    which leaves I(X; Y) unchanged), then

    .. math::
        \hat I = 	frac12ig[\log\det\hat\Sigma_{xx} + \log\det\hat\Sigma_{yy} - \log\det\hat\Sigmaig]
                 - \sum_{k \le d_x} b_k - \sum_{k \le d_y} b_k + \sum_{k \le d_x + d_y} b_k,
        \quad b_k = 	frac12\psiig(	frac{N-k}{2}ig)

    with the bias terms of the Gaussian entropy estimate (the log 2 − log(N − 1) terms cancel in the
    MI), as in the authors' ``gcmi.mi_gg(..., biascorrect=True)``. It is exact (up to sampling noise)
    when the dependence is a Gaussian copula — any per-coordinate monotone transform of a joint
    Gaussian — and reads the Gaussian part only otherwise: it misses tail dependence (Student-t),
    non-monotone structure (spirals, rings) and all dependence of zero rank-correlation.

    Args:
        x, y: [N, dx], [N, dy].
        bias_correct: subtract the small-sample bias of the three Gaussian entropies.
        n_bootstrap: > 0 adds a percentile bootstrap interval over resampled rows.
        seed: seed of the bootstrap.
    """
    start = time.perf_counter()
    x_arr, y_arr = check_pair(x, y, min_samples=_total_dim(x, y) + 3)
    if not isinstance(n_bootstrap, int) or n_bootstrap < 0:
        raise ValueError(f"`n_bootstrap` must be an int >= 0, got {n_bootstrap!r}")
    dx, dy = x_arr.shape[1], y_arr.shape[1]

    def value_of(xa: np.ndarray, ya: np.ndarray) -> float:
        n = xa.shape[0]
        z = np.hstack([copula_normal_scores(xa), copula_normal_scores(ya)])
        cov = np.cov(z, rowvar=False)
        _, logdet = np.linalg.slogdet(cov)
        _, logdet_x = np.linalg.slogdet(cov[:dx, :dx])
        _, logdet_y = np.linalg.slogdet(cov[dx:, dx:])
        value = 0.5 * (logdet_x + logdet_y - logdet)
        if bias_correct:
            # H_corrected = Ĥ − bias(d); the MI is H_x + H_y − H_xy.
            value -= (_gaussian_entropy_bias(dx, n) + _gaussian_entropy_bias(dy, n)
                      - _gaussian_entropy_bias(dx + dy, n))
        return float(value)

    value = value_of(x_arr, y_arr)
    ci = _bootstrap_interval(value_of, x_arr, y_arr, n_bootstrap, seed)
    return EstimateResult(value, ci, method="gcmi", n_samples=x_arr.shape[0], seconds=time.perf_counter() - start,
                          details={"bias_correct": bias_correct, "n_bootstrap": n_bootstrap})


def _total_dim(x: Any, y: Any) -> int:
    """dx + dy of raw inputs (for the covariance estimator's minimum sample size)."""
    dx = 1 if np.ndim(x) == 1 else np.shape(x)[1]
    dy = 1 if np.ndim(y) == 1 else np.shape(y)[1]
    return int(dx + dy)


def _quantile_codes(a: np.ndarray, bins: int) -> np.ndarray:
    """Equal-frequency bin index of every coordinate, combined into one code per sample."""
    codes = np.zeros(a.shape[0], dtype=np.int64)
    for j in range(a.shape[1]):
        edges = np.quantile(a[:, j], np.linspace(0, 1, bins + 1)[1:-1])
        codes = codes * bins + np.searchsorted(edges, a[:, j], side="right")
    return codes


def _entropy_miller_madow(codes: np.ndarray) -> float:
    _, counts = np.unique(codes, return_counts=True)
    n = counts.sum()
    p = counts / n
    return float(-(p * np.log(p)).sum() + (len(counts) - 1) / (2 * n))


def histogram(x: Any, y: Any, bins: int | None = None, max_dim: int = 4) -> EstimateResult:
    r"""Plug-in MI on equal-frequency bins, Ĥ(X) + Ĥ(Y) − Ĥ(X, Y), each with Miller–Madow's (m − 1)/(2N).

    Args:
        x, y: [N, dx], [N, dy] with dx + dy ≤ ``max_dim`` (the number of cells grows as bins^(dx+dy)).
        bins: bins per coordinate; default ⌊(N/10)^{1/(dx+dy)}⌋, at least 2, so cells hold ~10 samples.
    """
    start = time.perf_counter()
    x_arr, y_arr = check_pair(x, y, min_samples=10)
    d = x_arr.shape[1] + y_arr.shape[1]
    if d > max_dim:
        raise ValueError(f"the histogram estimator is for low dimension: dx + dy = {d} > max_dim = {max_dim}")
    n = x_arr.shape[0]
    bins = bins or max(2, int((n / 10) ** (1.0 / d)))
    if bins < 2:
        raise ValueError(f"`bins` must be >= 2, got {bins}")
    cx, cy = _quantile_codes(x_arr, bins), _quantile_codes(y_arr, bins)
    joint = cx * bins ** y_arr.shape[1] + cy
    value = _entropy_miller_madow(cx) + _entropy_miller_madow(cy) - _entropy_miller_madow(joint)
    return EstimateResult(float(value), None, method="histogram", n_samples=n, seconds=time.perf_counter() - start,
                          details={"bins": bins})


NONPARAMETRIC_METHODS = {"ksg": ksg, "gaussian": gaussian, "cca": gaussian, "gcmi": gcmi, "histogram": histogram}
__all__ = ["NONPARAMETRIC_METHODS", "copula_normal_scores", "gaussian", "gcmi", "histogram", "ksg"]
