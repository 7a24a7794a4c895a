r"""f-DIME: MI from an f-divergence discriminator trained on derangements (Letizia, Novello & Tonello, NeurIPS 2024).

"Mutual information estimation via f-divergence and data derangements": a discriminator is trained
with the variational f-divergence objective between the joint p(x, y) (positive pairs) and the
product of marginals p(x)p(y), whose samples are the pairs (x_i, y_σ(i)) of a *derangement* σ (a
permutation without fixed points, so no positive pair leaks into the negatives). At the optimum the
discriminator gives the density ratio R = p(x,y)/(p(x)p(y)), and the estimate is

.. math::
    \hat I_{f\text{-DIME}} = \frac1n \sum_i \log \hat R(x_i, y_i),

the mean log-ratio over the positive pairs — **not** the objective's value, so the estimate does not
saturate at log n (unlike InfoNCE) and carries no e^{f} variance term (unlike NWJ/MINE).

Convention here: the critic outputs the log-ratio v = log R directly (``scores[i, j] = v(x_i, y_j)``,
positives on the diagonal). The official code (github.com/nicolaNovello/fDIME, ``utils.py``)
parameterises a discriminator D instead; the maps between the two are

=======  ===================================  ==========================  ==================
name     official D and loss (minimised)      here (v = log R)            objective f
=======  ===================================  ==========================  ==================
GAN      D = σ(t); BCE(D⁺, 0) + BCE(D⁻, 1)    D = σ(−v), R = (1 − D)/D    Jensen–Shannon
KL       D = softplus(t); −E⁺log D + E⁻D      D = e^{v}, R = D            Kullback–Leibler
HD       D = softplus(t); E⁺D + E⁻1/D         D = e^{−v/2}, R = 1/D²      squared Hellinger
=======  ===================================  ==========================  ==================

so the objectives are the f-divergence bounds of :func:`infobound.bounds.f_divergence` in v:

.. math::
    J_{GAN} &= \mathbb E_p[\log\sigma(v)] + \mathbb E_q[\log(1-\sigma(v))]
             = J_{JS}(v) - 2\log 2,\\
    J_{KL}  &= \mathbb E_p[v] - \mathbb E_q[e^{v}] + 1 = J_{KL}(v),\\
    J_{HD}  &= 2 - \mathbb E_p[e^{-v/2}] - \mathbb E_q[e^{v/2}] = J_{H^2}(v),

each maximised at v = log p(x,y)/(p(x)p(y)). The official KL loss has no "+1" (a constant) and an
optional weight α on the positive term (default 1, used here).

With a score matrix the negatives are all n(n−1) off-diagonal pairs: their mean is the expectation
over a uniformly random derangement of the batch. :func:`fdime_explicit` takes positives [n] and
negatives [n, k], e.g. k = 1 for the official "deranged" architecture (one derangement per batch,
a joint critic evaluated on 2n pairs).

Like ``js`` and ``smile`` in :mod:`.variational`, the registered functions return a tensor whose
*value* is the estimate and whose *gradient* is the objective's: one call serves both.
"""

from __future__ import annotations

from torch import Tensor

from ._checks import checked_positives_negatives, checked_scores, ensure_finite_inputs
from .divergences import get_divergence
from .variational import _offdiag_mask, _value_with_gradient_of

DIME_DIVERGENCES: dict[str, str] = {"gan": "js", "kl": "kl", "hd": "sq_hellinger"}
"""f-DIME's variant → the f-divergence (:mod:`.divergences`) whose variational objective trains it."""


def _divergence(variant: str):
    key = variant.strip().lower() if isinstance(variant, str) else variant
    if key not in DIME_DIVERGENCES:
        raise ValueError(f"`variant` must be one of {sorted(DIME_DIVERGENCES)}, got {variant!r}")
    return get_divergence(DIME_DIVERGENCES[key])


def _objective(positives: Tensor, negatives: Tensor, variant: str) -> Tensor:
    div = _divergence(variant)
    return div.f_prime(positives).mean() - div.conjugate_of_f_prime(negatives).mean()


def _estimate(pos: Tensor, neg: Tensor, variant: str, name: str, /, **inputs: Tensor) -> Tensor:
    # The objective's finiteness is checked first: the value (the positives' mean) can be finite while
    # e^{v} overflowed in the objective, which would hand back a finite value with a NaN gradient.
    objective = ensure_finite_inputs(_objective(pos, neg, variant), name, **inputs)
    return ensure_finite_inputs(_value_with_gradient_of(pos.mean(), objective), name, **inputs)


def fdime_objective_explicit(positives: Tensor, negatives: Tensor, variant: str = "gan") -> Tensor:
    r"""The f-divergence objective J_f(v) = E_p[f'(e^{v})] − E_q[f*(f'(e^{v}))] on explicit pairs.

    Args:
        positives: [n] log-ratio scores of the joint pairs (x_i, y_i).
        negatives: [n, k] log-ratio scores of deranged pairs (x_i, y_σ(i)).
        variant: ``gan`` (Jensen–Shannon; J_GAN + 2 log 2), ``kl`` or ``hd`` (squared Hellinger).

    Returns:
        0-dim tensor; in nats (a lower bound on MI) for ``kl`` only.
    """
    positives, negatives, _, _ = checked_positives_negatives(positives, negatives)
    return ensure_finite_inputs(_objective(positives, negatives, variant), "fdime_objective_explicit",
                                positives=positives, negatives=negatives)


def fdime_explicit(positives: Tensor, negatives: Tensor, variant: str = "gan") -> Tensor:
    r"""f-DIME estimate (1/n) Σ_i v_i⁺ with the gradient of :func:`fdime_objective_explicit`.

    Args:
        positives: [n] log-ratio scores of the joint pairs.
        negatives: [n, k] log-ratio scores of deranged pairs.
        variant: ``gan``, ``kl`` or ``hd``.
    """
    positives, negatives, _, _ = checked_positives_negatives(positives, negatives)
    return _estimate(positives, negatives, variant, "fdime_explicit", positives=positives, negatives=negatives)


def _split(scores: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    scores, n = checked_scores(scores)
    return scores.diagonal(), scores[_offdiag_mask(n, scores.device)].reshape(n, n - 1), scores


def fdime_objective(scores: Tensor, variant: str = "gan") -> Tensor:
    """:func:`fdime_objective_explicit` with the off-diagonal entries of ``scores`` as negatives."""
    positives, negatives, scores = _split(scores)
    return ensure_finite_inputs(_objective(positives, negatives, variant), f"fdime_objective[{variant}]", scores=scores)


def fdime(scores: Tensor, variant: str = "gan") -> Tensor:
    """:func:`fdime_explicit` with the off-diagonal entries of ``scores`` as negatives (all derangements)."""
    positives, negatives, scores = _split(scores)
    return _estimate(positives, negatives, variant, f"{variant}_dime", scores=scores)


def gan_dime(scores: Tensor) -> Tensor:
    r"""GAN-DIME: value (1/n) Σ_i f_ii, gradient of E_p[log σ(f)] + E_q[log(1 − σ(f))] (the paper's J_GAN)."""
    return fdime(scores, "gan")


def kl_dime(scores: Tensor) -> Tensor:
    r"""KL-DIME: value (1/n) Σ_i f_ii, gradient of E_p[f] − E_q[e^{f}] + 1 (the paper's J_KL, = NWJ(f + 1))."""
    return fdime(scores, "kl")


def hd_dime(scores: Tensor) -> Tensor:
    r"""HD-DIME: value (1/n) Σ_i f_ii, gradient of 2 − E_p[e^{−f/2}] − E_q[e^{f/2}] (the paper's J_HD)."""
    return fdime(scores, "hd")


__all__ = ["DIME_DIVERGENCES", "fdime", "fdime_explicit", "fdime_objective", "fdime_objective_explicit", "gan_dime",
           "hd_dime", "kl_dime"]
