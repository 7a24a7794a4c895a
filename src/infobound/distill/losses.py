"""Distillation objectives: Hinton's KD and three contrastive losses over CRD's memory banks.

Contrastive distillation (Tian et al. 2020) embeds the student's and the teacher's penultimate
features with a linear layer + L2 normalisation (128-d), keeps one memory bank per side over the
whole training set, and for each sample i scores

- the student anchor s_i against the *teacher* bank at i (positive) and at K drawn indices (negatives),
- the teacher anchor t_i against the *student* bank in the same way,

with logits f = v·u / T (T = 0.07). The loss is anchored on both sides: ``loss = L(student side) +
L(teacher side)``, where L is one of

- ``crd``: CRD's NCE loss (their Eq. 18, official code). With P = e^{f}/Z and noise mass K/N,
  ``h = P / (P + K/N)`` and ``L = −(1/n) Σ_i [log h(pos_i) + Σ_j log(1 − h(neg_ij))]``. Z is a
  normalisation constant per side, estimated ONCE from the first batch as ``Z = N · mean(e^{f})`` over
  its positives and negatives and then kept fixed (what the official code does; it is saved with the
  loss's state so a resumed run keeps it).
- ``ml_cpc``: the α-ML-CPC loss (Song & Ermon 2020) over the same positives and negatives,
  ``L = log(m/α) − I_ML`` with m = K + 1 and ``I_ML = bounds.ml_cpc_explicit(pos, neg, α)``: one
  normaliser over all n·m pairs of the batch (log α on positives, log β, β = (m − α)/(m − 1), on
  negatives). This equals the official ML-CPC distillation loss up to a constant; like that code it
  is not divided by α.
- ``infonce``: ``L = log m − bounds.infonce_explicit(pos, neg)``, a per-anchor softmax cross-entropy.
- ``alpha_cpc``: α-CPC (Song & Ermon 2020), ML-CPC's per-anchor sibling and the baseline of the
  official ML-CPC distillation code (its ``CPCLoss``): ``L = log(m/α) − I_α`` with
  ``I_α = log m + (1/n) Σ_i [f_i⁺ − log(α e^{f_i⁺} + β Σ_j e^{f_ij⁻})]``, β = (m − α)/(m − 1), one
  normaliser per anchor. For α < 1 it is not a valid MI bound (``bounds.alpha_cpc``); as a training
  loss it is a re-weighted InfoNCE (α = 1 is InfoNCE).
"""

from __future__ import annotations

import math
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..bounds import infonce_explicit, ml_cpc_explicit
from ..bounds._checks import checked_positives_negatives, upcast
from ..losses.base import ContrastiveOutput
from .memory import MemoryBank, NegativeSampler, SamplingMode, check_indices

ContrastObjective = Literal["crd", "ml_cpc", "infonce", "alpha_cpc"]
CONTRAST_OBJECTIVES: tuple[str, ...] = ("crd", "ml_cpc", "infonce", "alpha_cpc")


class KDLoss(nn.Module):
    """Hinton et al. (2015): ``T² · KL(softmax(teacher/T) ‖ softmax(student/T))``, averaged over the batch."""

    def __init__(self, temperature: float = 4.0) -> None:
        super().__init__()
        if not temperature > 0:
            raise ValueError(f"KD `temperature` must be > 0, got {temperature}")
        self.temperature = float(temperature)

    def forward(self, student_logits: Tensor, teacher_logits: Tensor) -> Tensor:
        if student_logits.shape != teacher_logits.shape:
            raise ValueError(f"student and teacher logits differ in shape: {tuple(student_logits.shape)} vs "
                             f"{tuple(teacher_logits.shape)} (do they predict the same classes?)")
        t = self.temperature
        # at least float32 (the bounds' precision policy): half-precision softmaxes lose ~1e-2 nats
        log_p_s = F.log_softmax(upcast(student_logits) / t, dim=1)
        log_p_t = F.log_softmax(upcast(teacher_logits.detach()) / t, dim=1)
        return F.kl_div(log_p_s, log_p_t, log_target=True, reduction="batchmean") * t * t


class Embed(nn.Module):
    """Linear map to ``dim_out`` followed by L2 normalisation (CRD's embedding head)."""

    def __init__(self, dim_in: int, dim_out: int = 128) -> None:
        super().__init__()
        self.dim_in = int(dim_in)
        self.linear = nn.Linear(dim_in, dim_out)

    def forward(self, x: Tensor) -> Tensor:
        x = x.flatten(1)
        if x.shape[1] != self.dim_in:
            raise ValueError(f"features of size {x.shape[1]} do not fit an embedding built for {self.dim_in}-d features")
        return F.normalize(self.linear(x), dim=1)


def crd_nce_loss(positives: Tensor, negatives: Tensor, num_data: int, log_z: Tensor | float) -> Tensor:
    r"""CRD's NCE loss for one side, from logits f = v·u/T.

    With :math:`P = e^{f}/Z` and :math:`h(f) = P / (P + K/N)`:

    .. math:: L = -\frac{1}{n}\sum_i\Big[\log h(f_i^+) + \sum_{j=1}^{K}\log\big(1 - h(f_{ij}^-)\big)\Big]

    computed in log space (the official code adds ε = 1e-7 to the denominators instead).

    Args:
        positives: [n] positive logits; negatives: [n, K] negative logits.
        num_data: N, the size of the training set (the noise distribution is uniform over it).
        log_z: log of the normalisation constant Z.
    """
    positives, negatives, n, k = checked_positives_negatives(positives, negatives)
    if num_data < 1:
        raise ValueError(f"`num_data` must be >= 1, got {num_data}")
    log_noise = math.log(k / num_data)  # log(K · P_n) with P_n = 1/N
    log_p_pos, log_p_neg = positives - log_z, negatives - log_z
    log_h_pos = log_p_pos - torch.logaddexp(log_p_pos, torch.full_like(log_p_pos, log_noise))
    log_1mh_neg = log_noise - torch.logaddexp(log_p_neg, torch.full_like(log_p_neg, log_noise))
    return -(log_h_pos.sum() + log_1mh_neg.sum()) / n


def ml_cpc_memory_loss(positives: Tensor, negatives: Tensor, alpha: float = 1.0) -> tuple[Tensor, Tensor]:
    """``(log(m/α) − I_ML, I_ML)`` with m = K + 1 and ``I_ML = bounds.ml_cpc_explicit(positives, negatives, α)``."""
    bound = ml_cpc_explicit(positives, negatives, alpha)
    return math.log((negatives.shape[1] + 1) / alpha) - bound, bound


def alpha_cpc_memory_loss(positives: Tensor, negatives: Tensor, alpha: float = 1.0) -> tuple[Tensor, Tensor]:
    r"""``(log(m/α) − I_α, I_α)``: α-CPC with one normaliser per anchor over its positive and K negatives.

    .. math::
        I_\alpha = \log m + \frac1n\sum_i\Big[f_i^+ - \log\big(\alpha e^{f_i^+} + \beta\textstyle\sum_j e^{f_{ij}^-}\big)\Big],
        \quad m = K + 1,\ \beta = \frac{m-\alpha}{m-1}

    (the official ML-CPC distillation code's ``_MultiClassLoss`` is ``−I_α + log m``). Ceiling log(m/α).
    """
    positives, negatives, n, k = checked_positives_negatives(positives, negatives)
    m = k + 1
    if not 0 < alpha <= m:
        raise ValueError(f"α-CPC `alpha` must lie in (0, m = K + 1 = {m}], got {alpha}")
    log_beta = math.log(m - alpha) - math.log(m - 1) if alpha < m else -math.inf
    logits = torch.cat([positives.unsqueeze(1) + math.log(alpha), negatives + log_beta], dim=1)
    bound = math.log(m) + (positives - torch.logsumexp(logits, dim=1)).mean()
    return math.log(m / alpha) - bound, bound


def infonce_memory_loss(positives: Tensor, negatives: Tensor) -> tuple[Tensor, Tensor]:
    """``(log m − I_NCE, I_NCE)`` with m = K + 1: the mean softmax cross-entropy of each anchor's positive."""
    bound = infonce_explicit(positives, negatives)
    return math.log(negatives.shape[1] + 1) - bound, bound


class MemoryContrastLoss(nn.Module):
    """Contrastive distillation over two memory banks, anchored on both sides.

    Args:
        student_dim, teacher_dim: sizes of the penultimate features.
        num_data: N, training-set size (one memory slot per sample).
        objective: ``"crd"``, ``"ml_cpc"``, ``"infonce"`` or ``"alpha_cpc"`` (see the module docstring).
        labels: training labels [N] (required for ``sampling="other_class"``).
        embed_dim: embedding size (128 in CRD).
        k: negatives per sample (16,384 in CRD on CIFAR-100's N = 50,000).
        temperature: T (0.07).
        momentum: memory momentum μ (0.5).
        alpha: ML-CPC's or α-CPC's α (ignored by the other objectives).
        sampling: ``"other_class"`` (official CRD) or ``"uniform"``.
        generator: seeds the initial memory contents.
    """

    log_z: Tensor

    def __init__(self, student_dim: int, teacher_dim: int, num_data: int, objective: ContrastObjective = "crd",
                 labels: Tensor | None = None, embed_dim: int = 128, k: int = 4096, temperature: float = 0.07,
                 momentum: float = 0.5, alpha: float = 1.0, sampling: SamplingMode = "other_class",
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        if objective not in CONTRAST_OBJECTIVES:
            raise ValueError(f"`objective` must be one of {CONTRAST_OBJECTIVES}, got {objective!r}")
        if not temperature > 0:
            raise ValueError(f"`temperature` must be > 0, got {temperature}")
        if int(k) < 1:
            raise ValueError(f"`k` (negatives per sample) must be >= 1, got {k}")
        if objective in ("ml_cpc", "alpha_cpc") and not 0 < alpha <= k + 1:
            raise ValueError(f"{objective} `alpha` must lie in (0, K + 1 = {k + 1}], got {alpha}")
        self.objective, self.num_data, self.k = objective, int(num_data), int(k)
        self.temperature, self.alpha = float(temperature), float(alpha)
        self.embed_s, self.embed_t = Embed(student_dim, embed_dim), Embed(teacher_dim, embed_dim)
        self.memory_s = MemoryBank(num_data, embed_dim, momentum, generator)
        self.memory_t = MemoryBank(num_data, embed_dim, momentum, generator)
        self.sampler = NegativeSampler(labels, sampling, size=num_data)
        self.register_buffer("log_z", torch.full((2,), float("nan")))  # (student side, teacher side); NaN = unset

    def _side(self, logits: Tensor, side: int) -> tuple[Tensor, Tensor]:
        """(loss, MI read-out) of one side from logits [n, 1 + K] (positive first)."""
        pos, neg = logits[:, 0], logits[:, 1:]
        if self.objective == "ml_cpc":
            return ml_cpc_memory_loss(pos, neg, self.alpha)
        if self.objective == "infonce":
            return infonce_memory_loss(pos, neg)
        if self.objective == "alpha_cpc":
            return alpha_cpc_memory_loss(pos, neg, self.alpha)
        if torch.isnan(self.log_z[side]):
            with torch.no_grad():  # Z = N · mean(e^f) over the first batch, then fixed
                self.log_z[side] = torch.logsumexp(logits.detach().flatten(), 0) - math.log(logits.numel()) + math.log(self.num_data)
        loss = crd_nce_loss(pos, neg, self.num_data, self.log_z[side])
        # CRD's Eq. 7 read-out: I ≥ log K + E[log h(pos)] for the optimal h (an estimate for a learned one).
        log_p = pos.detach() - self.log_z[side]
        log_h = log_p - torch.logaddexp(log_p, torch.full_like(log_p, math.log(self.k / self.num_data)))
        return loss, math.log(self.k) + log_h.mean()

    @property
    def ceiling(self) -> float:
        m = self.k + 1
        return {"ml_cpc": math.log(m / self.alpha), "alpha_cpc": math.log(m / self.alpha), "infonce": math.log(m),
                "crd": math.log(self.k)}[self.objective]

    def forward(self, student_features: Tensor, teacher_features: Tensor, index: Tensor,
                negatives: Tensor | None = None, generator: torch.Generator | None = None) -> ContrastiveOutput:
        """Loss for a batch; updates both memory banks at ``index`` afterwards.

        Returns ``ContrastiveOutput(loss, mi_lower_bound, ceiling)``: the summed loss of both sides,
        the mean of the two sides' MI read-outs (detached, nats) and their ceiling (log(m/α) for
        ML-CPC, log m for InfoNCE, log K for CRD's read-out log K + E[log h(pos)]).

        Args:
            student_features: [n, student_dim]; teacher_features: [n, teacher_dim] (detached inside).
            index: [n] positions of the batch's samples in the training set.
            negatives: optional [n, K] negative indices (drawn by the sampler when omitted).
            generator: RNG for the negative draws.
        """
        if student_features.shape[0] != teacher_features.shape[0]:
            raise ValueError(f"student and teacher features differ in batch size: {student_features.shape[0]} vs "
                             f"{teacher_features.shape[0]}")
        index = check_indices(index, self.num_data)
        if index.shape[0] != student_features.shape[0]:
            raise ValueError(f"{index.shape[0]} indices for a batch of {student_features.shape[0]}")
        s = self.embed_s(student_features)
        t = self.embed_t(teacher_features.detach())
        if negatives is None:
            negatives = self.sampler(index.to(s.device), self.k, generator)
        elif negatives.dim() != 2 or negatives.shape[0] != index.shape[0]:
            raise ValueError(f"`negatives` must have shape [n = {index.shape[0]}, K], got {tuple(negatives.shape)}")
        candidates = torch.cat([index.to(negatives.device).unsqueeze(1), negatives], dim=1)  # positive first
        loss_s, mi_s = self._side(self.memory_t.scores(s, candidates) / self.temperature, 0)  # student anchor
        loss_t, mi_t = self._side(self.memory_s.scores(t, candidates) / self.temperature, 1)  # teacher anchor
        self.memory_s.update(index, s)
        self.memory_t.update(index, t)
        return ContrastiveOutput(loss_s + loss_t, ((mi_s + mi_t) / 2).detach(), self.ceiling)
