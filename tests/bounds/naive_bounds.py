"""Naive references for every bound, written straight from the equations (PAPERS.md §1 and §3).

Python loops over i and j, one 0-dim float64 tensor operation at a time, no logsumexp and no
masking tricks, so they share nothing with the vectorised code under test. They build an autograd
graph, so the same loops also give the reference gradients. Use them on small n and moderate scores
(they exponentiate directly).

Convention: ``f[i, j] = log g(x_i, y_j)``, positives on the diagonal; a baseline ``a`` is indexed by
the y sample, i.e. by the column j.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def _mean(terms: list[Tensor]) -> Tensor:
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total / len(terms)


def _diag_mean(f: Tensor) -> Tensor:
    return _mean([f[i, i] for i in range(f.shape[0])])


def _offdiag_mean(f: Tensor, fn) -> Tensor:
    n = f.shape[0]
    return _mean([fn(f[i, j], i, j) for i in range(n) for j in range(n) if i != j])


def infonce(f: Tensor) -> Tensor:
    """I_CPC = log n + (1/n) Σ_i [f_ii − log Σ_j e^{f_ij}]."""
    n = f.shape[0]
    rows = []
    for i in range(n):
        row_sum = sum(torch.exp(f[i, j]) for j in range(n))
        rows.append(f[i, i] - torch.log(row_sum))
    return math.log(n) + _mean(rows)


def ml_cpc(f: Tensor, alpha: float) -> Tensor:
    """I_ML = mean f_ii − log[(α/n²) Σ_i e^{f_ii} + ((n−α)/(n²(n−1))) Σ_{i≠j} e^{f_ij}]."""
    n = f.shape[0]
    normaliser = 0.0
    for i in range(n):
        for j in range(n):
            weight = alpha / n**2 if i == j else (n - alpha) / (n**2 * (n - 1))
            normaliser = normaliser + weight * torch.exp(f[i, j])
    return _diag_mean(f) - torch.log(normaliser)


def alpha_cpc(f: Tensor, alpha: float) -> Tensor:
    """(1/n) Σ_i log[ n e^{f_ii} / (α e^{f_ii} + (n−α)/(n−1) Σ_{j≠i} e^{f_ij}) ] (single anchor, m = n)."""
    n = f.shape[0]
    rows = []
    for i in range(n):
        negatives = sum(torch.exp(f[i, j]) for j in range(n) if j != i)
        denominator = alpha * torch.exp(f[i, i]) + (n - alpha) / (n - 1) * negatives
        rows.append(torch.log(n * torch.exp(f[i, i]) / denominator))
    return _mean(rows)


def ml_cpc_explicit(positives: Tensor, negatives: Tensor, alpha: float) -> Tensor:
    """(1/n) Σ_i log[ n m e^{f_i+} / (α Σ_k e^{f_k+} + (m−α)/(m−1) Σ_k Σ_j e^{f_kj−}) ], m = k + 1."""
    n, k = negatives.shape
    m = k + 1
    denominator = alpha * sum(torch.exp(positives[i]) for i in range(n))
    denominator = denominator + (m - alpha) / (m - 1) * sum(torch.exp(negatives[i, j]) for i in range(n) for j in range(k))
    return _mean([torch.log(n * m * torch.exp(positives[i]) / denominator) for i in range(n)])


def infonce_explicit(positives: Tensor, negatives: Tensor) -> Tensor:
    """log(k+1) + (1/n) Σ_i [f_i+ − log(e^{f_i+} + Σ_j e^{f_ij−})]."""
    n, k = negatives.shape
    rows = []
    for i in range(n):
        total = torch.exp(positives[i]) + sum(torch.exp(negatives[i, j]) for j in range(k))
        rows.append(positives[i] - torch.log(total))
    return math.log(k + 1) + _mean(rows)


def tuba(f: Tensor, log_baseline: Tensor) -> Tensor:
    """1 + (1/n) Σ_i (f_ii − a_i) − (1/(n(n−1))) Σ_{i≠j} e^{f_ij − a_j}; ``log_baseline`` is a [n] tensor a."""
    n = f.shape[0]
    joint = _mean([f[i, i] - log_baseline[i] for i in range(n)])
    marginal = _offdiag_mean(f, lambda v, i, j: torch.exp(v - log_baseline[j]))
    return 1.0 + joint - marginal


def nwj(f: Tensor) -> Tensor:
    """mean f_ii − e^{−1} mean_{i≠j} e^{f_ij}."""
    return _diag_mean(f) - math.exp(-1.0) * _offdiag_mean(f, lambda v, i, j: torch.exp(v))


def dv(f: Tensor) -> Tensor:
    """mean f_ii − log mean_{i≠j} e^{f_ij}."""
    return _diag_mean(f) - torch.log(_offdiag_mean(f, lambda v, i, j: torch.exp(v)))


def mine_surrogate(f: Tensor, ema_of_partition: float) -> Tensor:
    """MINE's gradient surrogate: mean f_ii − mean_{i≠j} e^{f_ij} / EMA (the EMA is a constant)."""
    return _diag_mean(f) - _offdiag_mean(f, lambda v, i, j: torch.exp(v)) / ema_of_partition


def partition(f: Tensor) -> float:
    """mean_{i≠j} e^{f_ij} as a float (what MINE averages over steps)."""
    return float(_offdiag_mean(f.detach(), lambda v, i, j: torch.exp(v)))


def softplus(t: Tensor) -> Tensor:
    return torch.log(1.0 + torch.exp(t))


def js_fgan(f: Tensor) -> Tensor:
    """mean_i −softplus(−f_ii) − mean_{i≠j} softplus(f_ij)."""
    n = f.shape[0]
    positive = _mean([-softplus(-f[i, i]) for i in range(n)])
    return positive - _offdiag_mean(f, lambda v, i, j: softplus(v))


def js_value(f: Tensor) -> Tensor:
    """The reported JS estimate: I_NWJ(f + 1) = 1 + mean f_ii − mean_{i≠j} e^{f_ij}."""
    return nwj(f + 1.0)


def smile_value(f: Tensor, clip: float | None) -> Tensor:
    """mean f_ii − log mean_{i≠j} e^{clip(f_ij, −τ, τ)}."""
    def clipped(v: Tensor, i: int, j: int) -> Tensor:
        return torch.exp(v if clip is None else torch.clamp(v, -clip, clip))

    return _diag_mean(f) - torch.log(_offdiag_mean(f, clipped))


def interpolated(f: Tensor, alpha: float, log_baseline: Tensor) -> Tensor:
    """Poole et al. 2019, Eq. 12, with leave-one-out baselines as in their reference code.

    For y_j the baseline against x_i is b(j, i) = log(α m_j(x_{−i}) + (1 − α) e^{a_j}) with
    m_j(x_{−i}) = (1/(n−1)) Σ_{k≠i} e^{f_kj}, the mean over the batch leaving x_i out.

    * joint term, x_j is y_j's positive; averaged over the n−1 held-out x_i:
      (1/(n(n−1))) Σ_j Σ_{i≠j} [f_jj − b(j, i)]
    * marginal term, x_i (i ≠ j) is independent of y_j; its baseline leaves out y_j's positive x_j:
      (1/(n(n−1))) Σ_j Σ_{i≠j} e^{f_ij − b(j, j)}

    I_α = 1 + joint − marginal.
    """
    n = f.shape[0]

    def baseline(j: int, i: int) -> Tensor:
        loo_mean = sum(torch.exp(f[k, j]) for k in range(n) if k != i) / (n - 1)
        return torch.log(alpha * loo_mean + (1.0 - alpha) * torch.exp(log_baseline[j]))

    joint = _mean([f[j, j] - baseline(j, i) for j in range(n) for i in range(n) if i != j])
    marginal = _mean([torch.exp(f[i, j] - baseline(j, j)) for j in range(n) for i in range(n) if i != j])
    return 1.0 + joint - marginal


# f-MICL Table 1 (PAPERS.md §3), columns f'(u) and f*(t), applied one after the other; the library
# instead uses the closed-form composition f*(f'(u)), so this also checks those compositions.
# Tsallis: the library normalises f(u) = (u^a − 1)/(a − 1) so that f(1) = 0; shifting f by the
# constant −1/(a−1) shifts f* by +1/(a−1), hence the extra term below (the table's f has no −1).
def _tsallis_conjugate(t: Tensor, a: float) -> Tensor:
    return ((a - 1.0) * t / a) ** (a / (a - 1.0)) + 1.0 / (a - 1.0)


F_DIVERGENCE_TABLE = {
    "kl": (lambda u: torch.log(u) + 1.0, lambda t: torch.exp(t - 1.0)),
    "js": (lambda u: math.log(2.0) + torch.log(u / (1.0 + u)), lambda t: -torch.log(2.0 - torch.exp(t))),
    "pearson": (lambda u: 2.0 * (u - 1.0), lambda t: t**2 / 4.0 + t),
    "sq_hellinger": (lambda u: 1.0 - u ** (-0.5), lambda t: t / (1.0 - t)),
    "vlc": (lambda u: 1.0 - 4.0 / (u + 1.0) ** 2, lambda t: 4.0 - t - 4.0 * torch.sqrt(1.0 - t)),
}


def f_divergence(f: Tensor, divergence: str, a: float = 2.0) -> Tensor:
    """(1/n) Σ_i f'(u_ii) − (1/(n(n−1))) Σ_{i≠j} f*(f'(u_ij)), u = e^{score}."""
    if divergence == "tsallis":
        f_prime = lambda u: a * u ** (a - 1.0) / (a - 1.0)  # noqa: E731
        conjugate = lambda t: _tsallis_conjugate(t, a)  # noqa: E731
    else:
        f_prime, conjugate = F_DIVERGENCE_TABLE[divergence]
    n = f.shape[0]
    positive = _mean([f_prime(torch.exp(f[i, i])) for i in range(n)])
    return positive - _offdiag_mean(f, lambda v, i, j: conjugate(f_prime(torch.exp(v))))


def _official_discriminator(v: Tensor, variant: str) -> Tensor:
    """The official fDIME code's discriminator output D for a log-ratio v (its utils.py losses)."""
    if variant == "gan":
        return 1.0 / (1.0 + torch.exp(v))  # R = (1 − D)/D = e^v
    if variant == "kl":
        return torch.exp(v)  # R = D
    return torch.exp(-0.5 * v)  # HD: R = 1/D²


def fdime_objective(f: Tensor, variant: str) -> Tensor:
    """f-DIME objectives in the official parameterisation (Letizia et al. 2024), negatives = off-diagonal.

    GAN: E_p[log(1 − D)] + E_q[log D];  KL: E_p[log D] − E_q[D] + 1;  HD: 2 − E_p[D] − E_q[1/D].
    """
    n = f.shape[0]
    pos = [_official_discriminator(f[i, i], variant) for i in range(n)]
    neg = [_official_discriminator(f[i, j], variant) for i in range(n) for j in range(n) if i != j]
    if variant == "gan":
        return _mean([torch.log(1.0 - d) for d in pos]) + _mean([torch.log(d) for d in neg])
    if variant == "kl":
        return _mean([torch.log(d) for d in pos]) - _mean(neg) + 1.0
    return 2.0 - _mean(pos) - _mean([1.0 / d for d in neg])


def fdime_estimate(f: Tensor, variant: str) -> Tensor:
    """(1/n) Σ_i log R̂(x_i, y_i) with R̂ recovered from the official D (GAN (1−D)/D, KL D, HD 1/D²)."""
    n = f.shape[0]
    ratios = []
    for i in range(n):
        d = _official_discriminator(f[i, i], variant)
        ratios.append({"gan": (1.0 - d) / d, "kl": d, "hd": 1.0 / d**2}[variant])
    return _mean([torch.log(r) for r in ratios])
