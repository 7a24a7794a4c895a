"""Single-normaliser variational bounds: NWJ, TUBA, DV, MINE, JS, SMILE and Poole's I_α.

References: Poole et al., "On Variational Bounds of Mutual Information", ICML 2019; Song & Ermon,
"Understanding the Limitations of Variational MI Estimators" (SMILE), ICLR 2020; Belghazi et al.,
"MINE", ICML 2018. Convention: ``scores[i, j] = log g(x_i, y_j)``, positives on the diagonal.

Where the training surrogate differs from the reported estimate (JS, SMILE, MINE) the returned
tensor carries the estimate's *value* and the surrogate's *gradient*:
``estimate.detach() + (surrogate − surrogate.detach())``, so one call serves estimation and training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor

from ._checks import checked_scores, ensure_finite_inputs, upcast


def _offdiag_mask(n: int, device: torch.device) -> Tensor:
    return ~torch.eye(n, dtype=torch.bool, device=device)


def log_mean_exp_offdiag(scores: Tensor) -> Tensor:
    """log of the mean of exp(scores) over the n(n−1) off-diagonal entries (in at least float32)."""
    scores = upcast(scores)
    n = scores.shape[0]
    masked = scores.masked_fill(~_offdiag_mask(n, scores.device), -math.inf)
    return torch.logsumexp(masked.flatten(), dim=0) - math.log(n * (n - 1))


def _value_with_gradient_of(value: Tensor, surrogate: Tensor) -> Tensor:
    """``value`` exactly, with the gradient of ``surrogate``.

    ``s − s.detach()`` is exactly 0 in any precision, so the value keeps every bit; the textbook
    ``s + (v − s).detach()`` rounds v to the spacing of s, which loses it entirely once s is large
    (a KL-type surrogate at scores ~20 is ~e^20: float32 then returns 0 for a value of −3.8).
    """
    return value.detach() + (surrogate - surrogate.detach())


def tuba(scores: Tensor, log_baseline: float | Tensor = 0.0) -> Tensor:
    r"""TUBA lower bound with baseline a(y) (Poole et al. 2019, Eq. 7).

    .. math::
        I_{TUBA} = 1 + \frac{1}{n}\sum_i (f_{ii} - a_i) - \frac{1}{n(n-1)}\sum_{i\ne j} e^{f_{ij} - a_j}

    Args:
        scores: [n, n] log-critic values.
        log_baseline: log a(y): a float, or a tensor [n] indexed by the y sample (column).

    Returns:
        0-dim tensor in nats.

    Raises:
        ValueError: the value is not finite (e^{f} overflowed: off-diagonal scores above ~88 in float32).
    """
    scores, n = checked_scores(scores)
    a = torch.as_tensor(log_baseline, dtype=scores.dtype, device=scores.device)
    if a.dim() > 1 or (a.dim() == 1 and a.shape[0] != n):
        raise ValueError(f"`log_baseline` must be a float or a tensor of shape [{n}], got {tuple(a.shape)}")
    a_cols = a.expand(n)
    joint = (scores.diagonal() - a_cols).mean()
    marginal = torch.exp(log_mean_exp_offdiag(scores - a_cols[None, :]))
    result = 1.0 + joint - marginal
    return ensure_finite_inputs(result, "tuba", scores=scores, log_baseline=a)


def nwj(scores: Tensor) -> Tensor:
    r"""NWJ / f-GAN KL lower bound (Nguyen, Wainwright & Jordan 2010): TUBA with a = e.

    .. math::
        I_{NWJ} = \frac{1}{n}\sum_i f_{ii} - e^{-1}\frac{1}{n(n-1)}\sum_{i\ne j} e^{f_{ij}}

    Tight at f = 1 + log p(x,y)/(p(x)p(y)). Raises ``ValueError`` when e^{f} overflows.
    """
    scores, _ = checked_scores(scores)
    result = scores.diagonal().mean() - torch.exp(log_mean_exp_offdiag(scores) - 1.0)
    return ensure_finite_inputs(result, "nwj", scores=scores)


def dv(scores: Tensor) -> Tensor:
    r"""Donsker–Varadhan bound (biased in minibatches: the log is outside the expectation).

    .. math::
        I_{DV} = \frac{1}{n}\sum_i f_{ii} - \log\frac{1}{n(n-1)}\sum_{i\ne j} e^{f_{ij}}
    """
    scores, _ = checked_scores(scores)
    result = scores.diagonal().mean() - log_mean_exp_offdiag(scores)
    return ensure_finite_inputs(result, "dv", scores=scores)


@dataclass
class MovingAverage:
    """Exponential moving average of the MINE partition term, kept in log space.

    The caller keeps one instance per training run and passes it to :func:`mine` every step.

    Attributes:
        rate: weight of the newest batch. 0.1 is the official SMILE/ML-CPC code's
            ``mine_lower_bound(f, buffer, momentum=0.9)`` (ermongroup/smile-mi-estimator), the reference
            implementation our staircase is compared with. Two differences from it, both deliberate:
            our average starts at the first batch's value (theirs at 1.0, which biases the first
            ~1/rate steps) and needs no clamp (theirs clamps the buffer at 1e-4) because it lives in
            log space.
        log_value: log of the running average of mean_{i≠j} e^{f_ij}; None before the first step.
    """

    rate: float = 0.1
    log_value: Tensor | None = field(default=None)

    def update(self, log_batch_value: Tensor) -> Tensor:
        """Fold in a batch's log-partition (detached) and return the new log-average."""
        if not 0.0 < self.rate <= 1.0:
            raise ValueError(f"`rate` must be in (0, 1], got {self.rate}")
        new = log_batch_value.detach()
        if self.log_value is None or self.rate == 1.0:
            self.log_value = new
        else:
            self.log_value = torch.logaddexp(
                self.log_value.to(new) + math.log1p(-self.rate), new + math.log(self.rate)
            )
        return self.log_value


def mine(scores: Tensor, state: MovingAverage | None = None) -> Tensor:
    r"""MINE (Belghazi et al. 2018): the DV value with a bias-corrected gradient.

    The gradient of log E_q[e^f] is E_q[∇f e^f] / E_q[e^f]; MINE replaces the minibatch
    denominator by a moving average kept in ``state``:

    .. math::
        \text{surrogate} = \frac{1}{n}\sum_i f_{ii} - \frac{\frac{1}{n(n-1)}\sum_{i\ne j} e^{f_{ij}}}{\overline{e^{f}}_{EMA}}

    Args:
        scores: [n, n] log-critic values.
        state: the moving average the caller keeps across steps; updated in place. Without it
            the gradient is the plain (biased) DV gradient.

    Returns:
        0-dim tensor with the DV value and the MINE gradient.
    """
    scores, _ = checked_scores(scores)
    log_partition = log_mean_exp_offdiag(scores)
    value = scores.diagonal().mean() - log_partition
    if state is None:
        return ensure_finite_inputs(value, "mine", scores=scores)
    log_ema = state.update(log_partition)
    surrogate = scores.diagonal().mean() - torch.exp(log_partition - log_ema)
    return ensure_finite_inputs(_value_with_gradient_of(value, surrogate), "mine", scores=scores)


def js_fgan(scores: Tensor) -> Tensor:
    r"""The Jensen–Shannon f-GAN objective (a lower bound on 2·JSD − log 4, not on MI).

    .. math::
        \frac{1}{n}\sum_i -\mathrm{softplus}(-f_{ii}) - \frac{1}{n(n-1)}\sum_{i\ne j}\mathrm{softplus}(f_{ij})
    """
    scores, n = checked_scores(scores)
    positive = -F.softplus(-scores.diagonal()).mean()
    soft = F.softplus(scores)
    negative = (soft.sum() - soft.diagonal().sum()) / (n * (n - 1))
    return positive - negative


def js(scores: Tensor) -> Tensor:
    r"""JS-trained MI estimate (Poole et al. 2019; Hjelm et al. 2019).

    Trains the critic with the JS f-GAN objective (:func:`js_fgan`), whose optimum is
    f* = log p(x,y)/(p(x)p(y)), and reports the NWJ value of f + 1, which is tight at that optimum:

    .. math::
        \hat I = I_{NWJ}(f + 1) = 1 + \frac{1}{n}\sum_i f_{ii} - \frac{1}{n(n-1)}\sum_{i\ne j} e^{f_{ij}}

    Difference from the official SMILE/ML-CPC code: its ``js_lower_bound`` reports NWJ(f) =
    mean f_ii − e⁻¹ mean_{i≠j} e^{f_ij} (``nwj_lower_bound(f)`` = TUBA of f − 1). Both are valid lower
    bounds for every f; they differ by NWJ(f + 1) − NWJ(f) = 1 − (1 − e⁻¹)·mean_{i≠j} e^{f_ij}, which is
    e⁻¹ ≈ 0.37 nats at the JS optimum (where NWJ(f) = I − e⁻¹ and ours = I). Subtract that when
    comparing our JS curves with the official figures.
    """
    scores, _ = checked_scores(scores)
    surrogate = js_fgan(scores)
    value = scores.diagonal().mean() + 1.0 - torch.exp(log_mean_exp_offdiag(scores))
    return ensure_finite_inputs(_value_with_gradient_of(value, surrogate), "js", scores=scores)


def smile(scores: Tensor, clip: float | None = 5.0) -> Tensor:
    r"""SMILE (Song & Ermon, ICLR 2020): DV with the partition term's ratios clipped to [e^{−τ}, e^{τ}].

    .. math::
        \hat I_{SMILE} = \frac{1}{n}\sum_i f_{ii} - \log\frac{1}{n(n-1)}\sum_{i\ne j} e^{\mathrm{clip}(f_{ij}, -\tau, \tau)}

    Gradient from the JS objective, value from the clipped DV (``js + (dv − js).detach()``), as in
    the official code.

    Args:
        scores: [n, n] log-critic values.
        clip: τ; None means no clipping (τ = ∞, then the value is DV).
    """
    scores, _ = checked_scores(scores)
    if clip is not None and not clip > 0:
        raise ValueError(f"`clip` must be > 0 or None, got {clip}")
    clipped = scores if clip is None else scores.clamp(-clip, clip)
    value = scores.diagonal().mean() - log_mean_exp_offdiag(clipped)
    return ensure_finite_inputs(_value_with_gradient_of(value, js_fgan(scores)), "smile", scores=scores)


def _log_leave_one_out_mean(rows: Tensor) -> Tensor:
    """[n, n] → entry (i, j) = log mean_{k≠j} exp(rows[i, k]), stable also where rows[i, j] dominates."""
    n = rows.shape[0]
    lse = torch.logsumexp(rows, dim=1, keepdim=True)
    # log(S − e^{s_ij}) = lse + log1p(−e^{s_ij − lse}); exact except where s_ij holds nearly all
    # the mass (the row maximum), which we recompute with that entry masked out.
    loo = lse + torch.log1p(-torch.exp(rows - lse).clamp(max=1.0 - 1e-7))
    argmax = rows.argmax(dim=1)
    masked = rows.scatter(1, argmax[:, None], -math.inf)
    loo_at_max = torch.logsumexp(masked, dim=1)
    loo = loo.scatter(1, argmax[:, None], loo_at_max[:, None])
    return loo - math.log(n - 1)


def interpolated(scores: Tensor, alpha: float, log_baseline: float | Tensor = 0.0) -> Tensor:
    r"""Poole et al.'s interpolated bound I_α between InfoNCE (α = 1) and TUBA (α = 0).

    The baseline of y_j is the mixture log(α · m_j(x_{-}) + (1 − α) · a(y_j)) of InfoNCE's
    leave-one-out mean m and a baseline a(y) (Poole et al. 2019, Eq. 12); the result is a lower
    bound for every α in [0, 1] with variance that shrinks as α grows. For α > 0 it is capped: the
    baseline is at least α e^{f_jj}/(n − 1), so I_α ≤ 1 + log((n − 1)/α) for 0 < α < 1, and at α = 1
    the marginal term is exactly 1, so I_1 ≤ log(n − 1) (see :func:`infobound.bounds.ceiling`).

    Args:
        scores: [n, n] log-critic values.
        alpha: interpolation weight in [0, 1].
        log_baseline: log a(y): a float or a tensor [n] indexed by the y sample (column).
    """
    scores, n = checked_scores(scores)
    alpha = float(alpha)
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"`alpha` must lie in [0, 1] for the interpolated bound, got {alpha}")
    # Poole's code indexes rows by y; transpose so each row is one y_j against all x.
    by_y = scores.t()
    a = torch.as_tensor(log_baseline, dtype=scores.dtype, device=scores.device)
    if a.dim() > 1 or (a.dim() == 1 and a.shape[0] != n):
        raise ValueError(f"`log_baseline` must be a float or a tensor of shape [{n}], got {tuple(a.shape)}")
    a = a.expand(n)[:, None].expand(n, n)
    if alpha == 0.0:
        baseline = a
    elif alpha == 1.0:
        baseline = _log_leave_one_out_mean(by_y)
    else:
        baseline = torch.logaddexp(math.log(alpha) + _log_leave_one_out_mean(by_y), math.log1p(-alpha) + a)
    off = _offdiag_mask(n, scores.device)
    marginal = torch.exp(log_mean_exp_offdiag(by_y - baseline.diagonal()[:, None]))
    joint = (by_y.diagonal()[:, None] - baseline)[off].mean()
    result = 1.0 + joint - marginal
    return ensure_finite_inputs(result, "interpolated", scores=scores, log_baseline=a)
