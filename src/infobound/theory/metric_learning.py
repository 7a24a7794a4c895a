r"""InfoNCE as deep metric learning (Tschannen et al., ICLR 2020, §4).

With a critic f(x, y) = φ(x)ᵀψ(y) and a batch of K pairs, the InfoNCE estimate is an affine
function of the multi-class K-pair loss of Sohn (NeurIPS 2016):

.. math::
    I_{NCE} = \log K - L_{K\text{-pair}},\qquad
    L_{K\text{-pair}} = \frac{1}{K}\sum_{i} \log\Big(1 + \sum_{j \ne i} e^{f_{ij} - f_{ii}}\Big),

an exact identity (:func:`kpair_loss`; tested against :func:`infobound.bounds.infonce`). With one
negative (K = 2) and unit-norm embeddings, f_ij − f_ii = (‖a − p‖² − ‖a − q‖²)/2 for anchor a,
positive p and negative q, so the K-pair loss with critic 2·aᵀb is the soft-margin triplet loss
softplus(‖a − p‖² − ‖a − q‖²) (:func:`soft_triplet_loss`), which lies between the hinge triplet
loss with margin 0 (:func:`triplet_loss`) and that plus log 2.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..bounds import check_scores


def kpair_loss(scores: Tensor) -> Tensor:
    r"""Multi-class K-pair loss of a score matrix (positives on the diagonal), in nats.

    ``mean_i log(1 + Σ_{j≠i} exp(scores[i, j] − scores[i, i]))``, computed as a logsumexp over the
    row's margins with the positive's own term e⁰ = 1.
    """
    n = check_scores(scores)
    margins = scores - scores.diagonal()[:, None]  # zero on the diagonal: the "1 +" term
    return torch.logsumexp(margins, dim=1).mean() if n > 1 else margins.sum()


def _sq_dists(anchor: Tensor, positive: Tensor, negative: Tensor) -> tuple[Tensor, Tensor]:
    if not (anchor.shape == positive.shape == negative.shape) or anchor.dim() != 2:
        raise ValueError(f"anchor, positive and negative must share a shape [n, d], got "
                         f"{tuple(anchor.shape)}, {tuple(positive.shape)}, {tuple(negative.shape)}")
    return (anchor - positive).pow(2).sum(1), (anchor - negative).pow(2).sum(1)


def triplet_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0) -> Tensor:
    """Hinge triplet loss ``mean max(0, ‖a − p‖² − ‖a − q‖² + margin)`` (Schroff et al. 2015)."""
    d_ap, d_an = _sq_dists(anchor, positive, negative)
    return F.relu(d_ap - d_an + margin).mean()


def soft_triplet_loss(anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
    """Soft-margin triplet loss ``mean softplus(‖a − p‖² − ‖a − q‖²)`` (Hermans et al. 2017)."""
    d_ap, d_an = _sq_dists(anchor, positive, negative)
    return F.softplus(d_ap - d_an).mean()


__all__ = ["kpair_loss", "soft_triplet_loss", "triplet_loss"]
