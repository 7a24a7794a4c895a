"""Multi-sample contrastive bounds: InfoNCE/CPC, ML-CPC and α-CPC.

Convention: ``scores[i, j] = log g(x_i, y_j)``; the diagonal holds the n positive pairs and the
off-diagonal entries stand for samples of p(x)p(y). Every function returns a 0-dim tensor in nats.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor

from ._checks import check_alpha, checked_positives_negatives, checked_scores, ensure_finite_inputs


def infonce(scores: Tensor) -> Tensor:
    r"""InfoNCE / CPC lower bound (van den Oord et al. 2018; Poole et al. 2019).

    .. math::
        I_{CPC} = \log n + \frac{1}{n}\sum_i \Big[f_{ii} - \log\sum_j e^{f_{ij}}\Big] \le \log n

    Computed with ``cross_entropy`` (one fused log-softmax), so it costs what the bare loss costs.

    Args:
        scores: [n, n] log-critic values, positives on the diagonal.

    Returns:
        0-dim tensor, the estimate in nats (at most log n).
    """
    scores, n = checked_scores(scores)
    target = torch.arange(n, device=scores.device)
    result = math.log(n) - F.cross_entropy(scores, target)
    return ensure_finite_inputs(result, "infonce", scores=scores)


def _ml_cpc_log_weights(n: int, alpha: float, like: Tensor) -> Tensor:
    """Log-weights of the single ML-CPC normaliser: α/n² on positives, (n−α)/(n²(n−1)) elsewhere."""
    log_pos = math.log(alpha) - 2.0 * math.log(n)
    log_neg = math.log(n - alpha) - 2.0 * math.log(n) - math.log(n - 1) if alpha < n else -math.inf
    weights = torch.full((n, n), log_neg, dtype=like.dtype, device=like.device)
    weights.fill_diagonal_(log_pos)
    return weights


def ml_cpc(scores: Tensor, alpha: float = 1.0) -> Tensor:
    r"""Multi-label CPC lower bound, batched form (Song & Ermon, NeurIPS 2020, Eq. 11).

    All n² pairs share ONE normaliser, which is what makes α < 1 legitimate:

    .. math::
        I_{ML} = \frac{1}{n}\sum_i f_{ii} - \log\Big[\frac{\alpha}{n^2}\sum_i e^{f_{ii}}
                 + \frac{n-\alpha}{n^2(n-1)}\sum_{i\ne j} e^{f_{ij}}\Big]

    The ceiling is log(n/α): α = 1 is capped at log n like CPC, smaller α lifts the cap while the
    estimate stays a lower bound for α in a range that depends on n (measure it with
    ``infobound bench validity``; the paper proves a sufficient range).

    Args:
        scores: [n, n] log-critic values, positives on the diagonal.
        alpha: weight of the positive pairs in the normaliser, 0 < α ≤ n.

    Returns:
        0-dim tensor, the estimate in nats.
    """
    scores, n = checked_scores(scores)
    alpha = check_alpha(alpha, upper=float(n))
    log_normaliser = torch.logsumexp((scores + _ml_cpc_log_weights(n, alpha, scores)).flatten(), dim=0)
    result = scores.diagonal().mean() - log_normaliser
    return ensure_finite_inputs(result, "ml_cpc", scores=scores)


def alpha_cpc(scores: Tensor, alpha: float) -> Tensor:
    r"""α-CPC with one normaliser per anchor (Song & Ermon 2020, the *invalid* variant).

    .. math::
        I_{\alpha} = \frac{1}{n}\sum_i \log\frac{n\, e^{f_{ii}}}
                 {\alpha e^{f_{ii}} + \frac{n-\alpha}{n-1}\sum_{j\ne i} e^{f_{ij}}}

    Warning:
        This is **not** a valid lower bound for α < 1: with per-anchor normalisers the critic can
        push every row to the ceiling log(n/α) and the estimate overshoots the true MI (the paper
        reads 10.4 nats at a true MI of 8 with α = 1e-3). It is provided to reproduce that figure
        and as a counter-example; use :func:`ml_cpc` for estimation.

    Args:
        scores: [n, n] log-critic values, positives on the diagonal.
        alpha: weight of the positive in each row's normaliser, 0 < α ≤ n.
    """
    scores, n = checked_scores(scores)
    alpha = check_alpha(alpha, upper=float(n))
    weights = _ml_cpc_log_weights(n, alpha, scores)  # per row these are the same ratios α : (n−α)/(n−1)
    row_lse = torch.logsumexp(scores + weights, dim=1) + 2.0 * math.log(n)
    result = math.log(n) + (scores.diagonal() - row_lse).mean()
    return ensure_finite_inputs(result, "alpha_cpc", scores=scores)


def ml_cpc_fresh(scores: Tensor, fresh_scores: Tensor, alpha: float = 1.0) -> Tensor:
    r"""ML-CPC's "g" variant (Song & Ermon 2020, official ``multilabel_infonce_lower_bound(f, alpha, g)``).

    The normaliser mixes the batch's own n² pairs (weight α) with scores ``g_ij = log g(x_i, y'_j)``
    against an *independent fresh batch* y' ~ p(y) (weight 1 − α):

    .. math::
        I = \frac1n\sum_i f_{ii} - \log\Big[\frac{1}{n^2}\sum_i\Big(\alpha\sum_j e^{f_{ij}}
            + (1-\alpha)\sum_j e^{g_{ij}}\Big)\Big],\qquad 0 \le \alpha \le 1

    α = 1 is :func:`ml_cpc` with α = 1 (the fresh batch is unused, ceiling log n); α = 0 is the
    minibatch Donsker–Varadhan value with independent negatives (no ceiling, biased upwards by
    Jensen's inequality). The official code offers no validity guarantee for 0 < α < 1 and neither
    do we: it is not in the bound registry; measure it before trusting it as a lower bound.

    Args:
        scores: [n, n] log-critic values of the batch, positives on the diagonal.
        fresh_scores: [n, n'] log-critic values of the batch's x against a fresh, independent y' batch.
        alpha: the weight of the batch's own pairs in the normaliser, in [0, 1].
    """
    scores, n = checked_scores(scores)
    if not isinstance(fresh_scores, Tensor) or fresh_scores.dim() != 2 or fresh_scores.shape[0] != n:
        raise ValueError(f"`fresh_scores` must have shape [n = {n}, n'], got "
                         f"{tuple(fresh_scores.shape) if isinstance(fresh_scores, Tensor) else type(fresh_scores).__name__}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"`alpha` of the fresh-batch ML-CPC must lie in [0, 1], got {alpha}")
    fresh_scores = fresh_scores.to(scores.dtype)
    parts = []
    if alpha > 0:
        parts.append((scores + math.log(alpha)).flatten())
    if alpha < 1:
        # the official code sums e^g over j and divides by n² like the batch term: kept, so α mixes like for like
        parts.append((fresh_scores + math.log(1.0 - alpha)).flatten() + math.log(n / fresh_scores.shape[1]))
    result = scores.diagonal().mean() - (torch.logsumexp(torch.cat(parts), 0) - 2.0 * math.log(n))
    return ensure_finite_inputs(result, "ml_cpc_fresh", scores=scores, fresh_scores=fresh_scores)


def ml_cpc_explicit(positives: Tensor, negatives: Tensor, alpha: float = 1.0) -> Tensor:
    r"""ML-CPC over explicit positives and negatives (queues, memory banks).

    For n anchors with one positive score each and k = m − 1 negatives each (Song & Ermon 2020,
    Eq. 10), with one normaliser over all n·m pairs:

    .. math::
        I_{ML} = \log(nm) + \frac{1}{n}\sum_i f_i^+ - \log\Big[\alpha\sum_i e^{f_i^+}
                 + \frac{m-\alpha}{m-1}\sum_{i}\sum_{j} e^{f_{ij}^-}\Big]

    With negatives = the off-diagonal rows of a score matrix this equals :func:`ml_cpc`.
    As a training loss, ``log(m/α) − I_ML`` is the KL divergence between the softmax over all
    n·m logits (log α added to positives, log β, β = (m−α)/(m−1), to negatives) and a target
    with mass 1/n on each positive, divided by α — the form the official MoCo/CRD code uses.

    Args:
        positives: [n] log-critic values of the positive pairs.
        negatives: [n, k] log-critic values of each anchor's negatives.
        alpha: positive weight, 0 < α ≤ m = k + 1.
    """
    positives, negatives, n, k = checked_positives_negatives(positives, negatives)
    m = k + 1
    alpha = check_alpha(alpha, upper=float(m))
    log_beta = math.log((m - alpha) / (m - 1)) if alpha < m else -math.inf
    log_normaliser = torch.logaddexp(
        torch.logsumexp(positives, dim=0) + math.log(alpha),
        torch.logsumexp(negatives.flatten(), dim=0) + log_beta,
    )
    result = math.log(n * m) + positives.mean() - log_normaliser
    return ensure_finite_inputs(result, "ml_cpc_explicit", positives=positives, negatives=negatives)


def infonce_explicit(positives: Tensor, negatives: Tensor) -> Tensor:
    r"""InfoNCE over explicit positives [n] and negatives [n, k] (MoCo's queue form).

    .. math::
        I_{NCE} = \log(k+1) + \frac{1}{n}\sum_i\Big[f_i^+ - \log\big(e^{f_i^+} + \sum_j e^{f_{ij}^-}\big)\Big]
    """
    positives, negatives, n, k = checked_positives_negatives(positives, negatives)
    logits = torch.cat([positives[:, None], negatives], dim=1)
    result = math.log(k + 1) + (positives - torch.logsumexp(logits, dim=1)).mean()
    return ensure_finite_inputs(result, "infonce_explicit", positives=positives, negatives=negatives)
