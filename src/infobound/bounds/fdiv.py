"""The variational f-divergence lower bound on f-mutual information (f-GAN; f-MICL)."""

from __future__ import annotations

from torch import Tensor

from ._checks import checked_scores, ensure_finite_inputs
from .divergences import FDivergence, get_divergence
from .variational import _offdiag_mask


def f_divergence(scores: Tensor, divergence: str | FDivergence = "kl", **params: float) -> Tensor:
    r"""Lower bound on the f-mutual information D_f(p(x,y) ‖ p(x)p(y)) (Nguyen et al. 2010; Lu et al. 2023).

    .. math::
        \hat I_f = \frac{1}{n}\sum_i f'(e^{f_{ii}}) - \frac{1}{n(n-1)}\sum_{i\ne j} f^*\big(f'(e^{f_{ij}})\big)

    Scores are log-ratios v (see :mod:`infobound.bounds.divergences`): the bound is tight at
    v = log p(x,y)/(p(x)p(y)) for every f. With ``divergence="kl"`` it is NWJ(v + 1) and lower-bounds
    the Shannon MI in nats; for other f it bounds that f's information, which is not in nats.
    With the f-Gaussian similarity (v = log G) it is the f-MICL objective with α = 1.

    Args:
        scores: [n, n] log-critic values, positives on the diagonal.
        divergence: ``kl``, ``js``, ``pearson``, ``sq_hellinger``, ``tsallis`` (order ``a``), ``vlc``,
            or an :class:`FDivergence`.
        **params: parameters of the divergence (``a`` for Tsallis).
    """
    scores, n = checked_scores(scores)
    div = divergence if isinstance(divergence, FDivergence) else get_divergence(divergence, **params)
    positive = div.f_prime(scores.diagonal()).mean()
    # Evaluate f* on the off-diagonal entries only: subtracting the diagonal from a full sum gives
    # inf − inf = NaN (value and gradient) once e^{score} overflows on the diagonal.
    negative = div.conjugate_of_f_prime(scores[_offdiag_mask(n, scores.device)]).mean()
    return ensure_finite_inputs(positive - negative, f"f_divergence({div.name})", scores=scores)
