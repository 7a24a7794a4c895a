r"""In-batch contrastive objectives over two views: InfoNCE (NT-Xent), ML-CPC, f-MICL, alignment–uniformity.

Each objective is a small ``nn.Module``: ``forward(z1 [n, d], z2 [n, d], progress=None)`` returns a
:class:`~infobound.losses.base.ContrastiveOutput` (loss to minimise, the MI lower bound it implies
in nats, and that bound's ceiling). The maths is the pure bounds of :mod:`infobound.bounds` applied
to a score matrix made by a critic of :mod:`infobound.critics`.

Which pairs are negatives (``negatives=``):

* ``"cross"``: the cross-view matrix ``S[i, j] = s(z1_i, z2_j)``, n positives on the diagonal and
  the n(n−1) cross-view pairs as negatives. This is the clean MI reading I(z1; z2): every
  negative z2_j is independent of the anchor z1_i. Ceiling log n (InfoNCE) or log(n/α) (ML-CPC).
* ``"simclr"``: SimCLR's NT-Xent over the 2n views. Each of the 2n views is an anchor; its
  partner view is the positive and the other 2n − 2 views (both views of every other sample) are
  negatives. We build the [2n, 2n] matrix ``S[i, j] = s(v_i, partner_j)`` (``v = [z1; z2]``,
  ``partner = [z2; z1]``) so the positives sit on the diagonal, and mask each anchor's own view.
  Every negative is drawn from the same marginal and is independent of the anchor, but the
  negatives come in correlated pairs, so ``log(2n − 1) − loss`` is the conventional reading of
  NT-Xent rather than a proven bound; its ceiling is log(2n − 1).

f-MICL's default is the paper's own choice, ``"same"``: pairs of different samples within one view
(see :class:`FMICLLoss`).

Under DDP both views are gathered from all ranks (:func:`infobound.distributed.gather_with_grad`)
and every rank computes the global objective on the gathered batch, so ML-CPC's single normaliser
covers all pairs of all ranks and the update equals the single-process one on the concatenated
batch (the score matrix is computed once per rank: O(n_global²·d), small next to an encoder).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from .. import bounds, distributed
from ..bounds._checks import upcast
from ..bounds.divergences import FDivergence, get_divergence
from ..bounds.variational import log_mean_exp_offdiag
from ..critics import FGaussianCritic, InnerProductCritic
from .base import Alpha, AlphaSpec, ContrastiveOutput

Negatives = Literal["simclr", "cross"]


def check_pair(a: Tensor, b: Tensor, names: tuple[str, str] = ("z1", "z2")) -> None:
    """Two floating-point [n, d] tensors of the same shape with finite entries (O(n·d) scan)."""
    for name, t in zip(names, (a, b)):
        if not isinstance(t, Tensor) or not t.is_floating_point():
            raise TypeError(f"`{name}` must be a floating-point torch.Tensor")
        if t.dim() != 2:
            raise ValueError(f"`{name}` must have shape [n, d], got {tuple(t.shape)}")
    if a.shape != b.shape:
        raise ValueError(f"`{names[0]}` and `{names[1]}` must have the same shape [n, d], "
                         f"got {tuple(a.shape)} and {tuple(b.shape)}")
    for name, t in zip(names, (a, b)):
        if not bool(torch.isfinite(t).all()):
            raise ValueError(f"`{name}` contains non-finite values (NaN or ±Inf)")


def gather_pair(a: Tensor, b: Tensor, names: tuple[str, str] = ("z1", "z2")) -> tuple[Tensor, Tensor]:
    """Check a pair of [n, d] batches and gather both from all ranks in one collective."""
    check_pair(a, b, names)
    if distributed.is_distributed():
        a, b = distributed.gather_with_grad(torch.cat([a, b], dim=1)).split(a.shape[1], dim=1)
    if a.shape[0] < 2:
        raise ValueError(f"need at least 2 pairs in the (global) batch to have negatives, got n = {a.shape[0]}")
    return a, b


def _check_negatives(negatives: str) -> Negatives:
    if negatives not in ("simclr", "cross"):
        raise ValueError(f"`negatives` must be 'simclr' or 'cross', got {negatives!r}")
    return negatives  # type: ignore[return-value]


def _paired_scores(critic: nn.Module, z1: Tensor, z2: Tensor, negatives: Negatives) -> tuple[Tensor, Tensor | None]:
    """[N, N] scores with the positive pairs on the diagonal, and for ``simclr`` each anchor's own column.

    cross: N = n, ``S = critic(z1, z2)``. simclr: N = 2n, ``S = critic([z1; z2], [z2; z1])``; the
    anchor v_i itself sits at column (i + n) mod 2n. Scores come back in at least float32 (the bounds'
    precision policy), so the f-MICL sums below do not run in half precision under autocast.
    """
    if negatives == "cross":
        return upcast(critic(z1, z2)), None
    n = z1.shape[0]
    scores = upcast(critic(torch.cat([z1, z2]), torch.cat([z2, z1])))
    own = (torch.arange(2 * n, device=scores.device) + n) % (2 * n)
    return scores, own


def _mask_own(scores: Tensor, own: Tensor) -> Tensor:
    """Scores with each anchor's own view set to −inf (out of place: no gradient reaches those entries)."""
    return scores.scatter(1, own[:, None], -math.inf)


def _negatives_mask(n: int, own: Tensor | None, device: torch.device) -> Tensor:
    """Boolean [n, n]: True on negative pairs (off the diagonal and, for simclr, off the anchor's own view)."""
    mask = ~torch.eye(n, dtype=torch.bool, device=device)
    if own is not None:
        mask[torch.arange(n, device=device), own] = False
    return mask


def _candidates(n: int, own: Tensor | None) -> int:
    """Positive + negatives per anchor: N for cross, N − 1 for simclr (the anchor itself is out)."""
    return n - 1 if own is not None else n


class InfoNCELoss(nn.Module):
    r"""InfoNCE / NT-Xent on cosine similarities divided by a temperature (Oord et al. 2018; Chen et al. 2020).

    ``loss = log m − I_NCE`` where m is the number of candidates per anchor, i.e. the mean
    cross-entropy of picking the positive among the m candidates; ``mi_lower_bound = I_NCE``
    (≤ log m). With ``negatives="simclr"`` (default) it is SimCLR's NT-Xent over 2n views, equal to
    pytorch-metric-learning's ``SelfSupervisedLoss(NTXentLoss(temperature))``, m = 2n − 1. With
    ``negatives="cross"`` it is the cross-view InfoNCE, m = n, averaged over both directions
    (z1 → z2 and z2 → z1) when ``symmetric``.

    Args:
        temperature: τ, the cosine similarity is divided by it.
        negatives: ``"simclr"`` or ``"cross"`` (see the module docstring).
        symmetric: cross only: average the two directions.
        normalize: L2-normalise the features first (cosine similarity); False uses the dot product.
    """

    def __init__(self, temperature: float = 0.1, negatives: Negatives = "simclr", symmetric: bool = True,
                 normalize: bool = True) -> None:
        super().__init__()
        self.critic = InnerProductCritic(temperature=temperature, normalize=normalize)
        self.negatives, self.symmetric = _check_negatives(negatives), symmetric

    def forward(self, z1: Tensor, z2: Tensor, progress: float | None = None) -> ContrastiveOutput:
        z1, z2 = gather_pair(z1, z2)
        scores, own = _paired_scores(self.critic, z1, z2, self.negatives)
        n = scores.shape[0]
        m = _candidates(n, own)
        if own is not None:
            bound = bounds.infonce(_mask_own(scores, own)) + math.log(m / n)
        elif self.symmetric:
            bound = 0.5 * (bounds.infonce(scores) + bounds.infonce(scores.t()))
        else:
            bound = bounds.infonce(scores)
        return ContrastiveOutput(math.log(m) - bound, bound.detach(), math.log(m))


class MLCPCLoss(nn.Module):
    r"""Multi-label CPC with one normaliser over all pairs of the batch (Song & Ermon, NeurIPS 2020).

    ``mi_lower_bound = I_ML`` (ceiling log(m/α)) and

    .. math::
        \text{loss} = \big(\log(m/\alpha) - I_{ML}\big) / \alpha \quad(\text{or without } /\alpha)

    ``log(m/α) − I_ML ≥ 0`` is the KL divergence between the softmax over all pairs (log α added
    to positive logits, log β, β = (m−α)/(m−1), to negative logits) and a target with mass 1/N on
    each positive; the official code divides it by α (``divide_by_alpha=True``, default).

    With ``negatives="cross"`` (default) the bound is ``bounds.ml_cpc`` on the n×n cross-view
    score matrix (m = n, symmetric by construction: the normaliser covers all n² pairs). With
    ``"simclr"`` it is ``bounds.ml_cpc_explicit`` over the 2n anchors, each with its partner as
    positive and the other 2n − 2 views as negatives (m = 2n − 1).

    Args:
        alpha: a number, ``(start, end)`` or ``"geometric"`` (10 → 0.1) for the geometric schedule
            driven by ``progress``, or a callable ``progress -> α``. Needs 0 < α ≤ m.
        temperature: τ of the cosine similarity.
        negatives: ``"cross"`` or ``"simclr"``.
        normalize: L2-normalise the features first.
        divide_by_alpha: divide the KL by α as the official code does.
    """

    def __init__(self, alpha: AlphaSpec = 1.0, temperature: float = 0.1, negatives: Negatives = "cross",
                 normalize: bool = True, divide_by_alpha: bool = True) -> None:
        super().__init__()
        self.alpha = Alpha(alpha)
        self.critic = InnerProductCritic(temperature=temperature, normalize=normalize)
        self.negatives, self.divide_by_alpha = _check_negatives(negatives), divide_by_alpha

    def forward(self, z1: Tensor, z2: Tensor, progress: float | None = None) -> ContrastiveOutput:
        alpha = self.alpha(progress)
        z1, z2 = gather_pair(z1, z2)
        scores, own = _paired_scores(self.critic, z1, z2, self.negatives)
        n = scores.shape[0]
        m = _candidates(n, own)
        if own is None:
            bound = bounds.ml_cpc(scores, alpha=alpha)
        else:
            negatives = scores.masked_select(_negatives_mask(n, own, scores.device)).view(n, n - 2)
            bound = bounds.ml_cpc_explicit(scores.diagonal(), negatives, alpha=alpha)
        ceiling = math.log(m / alpha)
        loss = ceiling - bound
        return ContrastiveOutput(loss / alpha if self.divide_by_alpha else loss, bound.detach(), ceiling)


def _f_objective(v: Tensor, negatives: Tensor, div: FDivergence, weight: float) -> Tensor:
    """mean over positives of f'(e^v) − weight · mean over negative pairs of f*(f'(e^v))."""
    conj = div.conjugate_of_f_prime(v)
    negative = torch.where(negatives, conj, torch.zeros_like(conj)).sum() / negatives.sum()
    return div.f_prime(v.diagonal()).mean() - weight * negative


def _offdiag_mean(values: Tensor) -> Tensor:
    """Mean of the off-diagonal entries of a square matrix."""
    n = values.shape[0]
    return (values.sum() - values.diagonal().sum()) / (n * (n - 1))


FMICLNegatives = Literal["same", "cross", "simclr"]
SIMILARITIES = ("gaussian", "cosine")


class FMICLLoss(nn.Module):
    r"""f-MICL: f-divergence contrastive objective with the f-Gaussian (or cosine) similarity (Lu et al., TMLR 2023).

    With scores v = log G, G = μ exp(−w‖ẑ1 − ẑ2‖²) on L2-normalised features (w = 1/(2σ²)),

    .. math::
        \text{loss} = -\Big[\frac1N\sum_i f'(G(z1_i, z2_i)) - \frac{\alpha}{|\mathcal N|}\sum_{(a,b)\in\mathcal N} f^*(f'(G(a, b)))\Big]

    over the N positives and the negative pairs 𝒩, chosen by ``negatives``:

    * ``"same"`` (default, the paper's minibatch objective ``(α/(N(N−1))) Σ_{i≠j} f*(s(x_i, x_j))``):
      pairs of different samples *within* a view, (z1_i, z1_j) and (z2_i, z2_j), i ≠ j; the two
      views' negative terms are averaged (the paper writes view 1 only; both views have the same
      marginal, so the average is the same objective with half the variance).
    * ``"cross"``: (z1_i, z2_j), i ≠ j, of the cross-view matrix (this library's default before issue 11).
    * ``"simclr"``: the 2n views, each against its partner (positive) and the other 2n − 2 views.

    ``similarity="cosine"`` replaces G by the paper's ablation baseline exp(cos(z1, z2)/τ), the
    cosine similarity of InfoNCE (v = cos/τ, τ = ``temperature``).

    ``mi_lower_bound`` is the KL (NWJ) bound on the cross-view scores, ``mean(v_ii + 1) − mean_{i≠j} e^{v_ij}``:
    valid in nats for every divergence, because every f's optimal score is the same log density
    ratio, and because cross-view pairs are samples of p(z1)p(z2) whatever pairs train. The
    f-Gaussian similarity caps it: G ≤ μ gives a ceiling of 1 + log μ nats (cosine: 1 + 1/τ).

    KL with the Gaussian similarity and ``"same"`` negatives is alignment–uniformity: its loss
    equals ``w·align − 1 − log μ + α μ ½(exp U(ẑ1) + exp U(ẑ2))`` with align = mean ‖ẑ1_i − ẑ2_i‖²
    and U(x) = log mean_{i≠j} exp(−w‖x_i − x_j‖²), the uniformity of :class:`AlignmentUniformityLoss`
    (which takes the log of the negative term).

    Args:
        divergence: ``kl``, ``js``, ``pearson``, ``sq_hellinger``, ``tsallis``, ``vlc``, and
            ``reverse_kl``, ``neyman``, ``jeffrey`` (outside the paper's assumptions: their negative
            term does not favour uniform features; see docs/losses.md).
        weight: α, the weight of the negative term (40 in the paper).
        inverse_width: w = 1/(2σ²) of the Gaussian similarity (1 in the paper).
        mu: μ of the Gaussian similarity (1 in the paper).
        negatives: ``"same"`` (default, the paper's), ``"cross"`` or ``"simclr"``.
        similarity: ``"gaussian"`` (default, the f-Gaussian) or ``"cosine"``.
        temperature: τ of the cosine similarity (0.5).
        **divergence_params: ``a`` for Tsallis.
    """

    def __init__(self, divergence: str = "kl", weight: float = 40.0, inverse_width: float = 1.0, mu: float = 1.0,
                 negatives: FMICLNegatives = "same", similarity: str = "gaussian", temperature: float = 0.5,
                 **divergence_params: float) -> None:
        super().__init__()
        if not (weight > 0 and math.isfinite(weight)):
            raise ValueError(f"`weight` must be a finite number > 0, got {weight}")
        if negatives not in ("same", "cross", "simclr"):
            raise ValueError(f"`negatives` must be 'same', 'cross' or 'simclr', got {negatives!r}")
        if similarity not in SIMILARITIES:
            raise ValueError(f"`similarity` must be one of {SIMILARITIES}, got {similarity!r}")
        get_divergence(divergence, **divergence_params)  # fail early on an unknown name
        # kept by name and looked up per call: the divergences are lambdas, which would make the module unpicklable
        self.divergence, self.divergence_params = divergence, dict(divergence_params)
        self.weight = float(weight)
        self.similarity = similarity
        if similarity == "gaussian":
            self.critic: nn.Module = FGaussianCritic(inverse_width=inverse_width, mu=mu)
            self.ceiling = 1.0 + math.log(mu)
        else:
            self.critic = InnerProductCritic(temperature=temperature, normalize=True)
            self.ceiling = 1.0 + 1.0 / temperature
        self.negatives = negatives

    def forward(self, z1: Tensor, z2: Tensor, progress: float | None = None) -> ContrastiveOutput:
        z1, z2 = gather_pair(z1, z2)
        div = get_divergence(self.divergence, **self.divergence_params)
        if self.negatives == "same":
            cross = upcast(self.critic(z1, z2))  # the bounds' precision policy: no half-precision sums
            negative = 0.5 * (_offdiag_mean(div.conjugate_of_f_prime(upcast(self.critic(z1, z1))))
                              + _offdiag_mean(div.conjugate_of_f_prime(upcast(self.critic(z2, z2)))))
            loss = -(div.f_prime(cross.diagonal()).mean() - self.weight * negative)
            with torch.no_grad():
                bound = _f_objective(cross, _negatives_mask(cross.shape[0], None, cross.device), get_divergence("kl"), 1.0)
            return ContrastiveOutput(loss, bound, self.ceiling)
        scores, own = _paired_scores(self.critic, z1, z2, self.negatives)
        negatives = _negatives_mask(scores.shape[0], own, scores.device)
        loss = -_f_objective(scores, negatives, div, self.weight)
        with torch.no_grad():
            bound = _f_objective(scores, negatives, get_divergence("kl"), 1.0)
        return ContrastiveOutput(loss, bound, self.ceiling)


class AlignmentUniformityLoss(nn.Module):
    r"""Alignment and uniformity on the hypersphere (Wang & Isola, ICML 2020).

    .. math::
        \text{loss} = \underbrace{\tfrac1n\textstyle\sum_i \lVert\hat z_{1i} - \hat z_{2i}\rVert^{a}}_{\text{align}}
        + \lambda\,\tfrac12\big(U(\hat z_1) + U(\hat z_2)\big),\quad
        U(x) = \log \operatorname{mean}_{i\ne j} e^{-t\lVert x_i - x_j\rVert^2}

    AU is not a bound. ``mi_lower_bound`` is the InfoNCE bound of its Gaussian kernel scores
    −t‖ẑ1_i − ẑ2_j‖² on the cross-view matrix (valid for any scores; ceiling log n), the bound whose
    large-n limit AU is.

    Args:
        t: uniformity kernel scale (2 in the paper).
        align_alpha: exponent a of the alignment distance (2 in the paper).
        uniformity_weight: λ (1 in the paper).
    """

    def __init__(self, t: float = 2.0, align_alpha: float = 2.0, uniformity_weight: float = 1.0) -> None:
        super().__init__()
        if not (t > 0 and align_alpha > 0 and uniformity_weight >= 0):
            raise ValueError(f"need t > 0, align_alpha > 0, uniformity_weight >= 0; got {t}, {align_alpha}, {uniformity_weight}")
        self.t, self.align_alpha, self.uniformity_weight = float(t), float(align_alpha), float(uniformity_weight)

    def _uniformity(self, x: Tensor) -> Tensor:
        sq_dist = (2.0 - 2.0 * (x @ x.t())).clamp_min(0.0)
        return log_mean_exp_offdiag(-self.t * sq_dist)

    def forward(self, z1: Tensor, z2: Tensor, progress: float | None = None) -> ContrastiveOutput:
        z1, z2 = gather_pair(z1, z2)
        z1, z2 = F.normalize(upcast(z1), dim=1), F.normalize(upcast(z2), dim=1)
        sq_align = (z1 - z2).pow(2).sum(dim=1)
        align = (sq_align if self.align_alpha == 2.0 else sq_align.clamp_min(1e-12).pow(self.align_alpha / 2)).mean()
        uniformity = 0.5 * (self._uniformity(z1) + self._uniformity(z2))
        loss = align + self.uniformity_weight * uniformity
        with torch.no_grad():
            bound = bounds.infonce(-self.t * (2.0 - 2.0 * (z1 @ z2.t())))
        return ContrastiveOutput(loss, bound, math.log(z1.shape[0]))


__all__ = ["AlignmentUniformityLoss", "FMICLLoss", "FMICLNegatives", "InfoNCELoss", "MLCPCLoss", "Negatives", "check_pair", "gather_pair"]
