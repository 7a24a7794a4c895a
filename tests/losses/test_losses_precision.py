"""The losses follow the bounds' precision policy: half-precision inputs and autocast give float32 results
that match float64 on the same rounded inputs (the reductions never run in float16/bfloat16)."""

from __future__ import annotations

import math

import pytest
import torch

from infobound import bounds, losses
from infobound.bounds import get_divergence
from infobound.distill.losses import KDLoss, crd_nce_loss
from infobound.losses.contrastive import _f_objective, _negatives_mask
from infobound.losses.infocl import _log_kernel_mean


def _features(n: int = 128, d: int = 32, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    z1 = torch.randn(n, d, generator=gen)
    return z1, z1 + 0.3 * torch.randn(n, d, generator=gen)


@pytest.mark.parametrize("divergence", ["kl", "js", "pearson"])
def test_fmicl_under_autocast_sums_in_float32(divergence: str) -> None:
    loss_fn = losses.FMICLLoss(divergence=divergence, weight=1.0, negatives="cross")
    z1, z2 = _features()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = loss_fn(z1, z2)
        scores = loss_fn.critic(z1, z2)  # the same bfloat16 scores the loss saw
    assert out.loss.dtype == torch.float32 and out.mi_lower_bound.dtype == torch.float32
    mask = _negatives_mask(scores.shape[0], None, scores.device)
    exact = -_f_objective(scores.double(), mask, get_divergence(divergence), 1.0)
    assert abs(out.loss.item() - exact.item()) <= 1e-3


@pytest.mark.parametrize("make", [lambda: losses.InfoNCELoss(), lambda: losses.MLCPCLoss(alpha=0.1),
                                  lambda: losses.AlignmentUniformityLoss(), lambda: losses.FMICLLoss("js"),
                                  lambda: losses.BarlowTwinsLoss()])
def test_contrastive_losses_return_float32_for_half_features(make) -> None:
    # The critic's matmul runs in the features' dtype (the caller's choice, as under autocast), so the
    # scores themselves carry bfloat16 rounding; what follows them is float32.
    z1, z2 = _features()
    out = make()(z1.to(torch.bfloat16), z2.to(torch.bfloat16))
    assert out.loss.dtype == torch.float32 and out.mi_lower_bound.dtype == torch.float32
    assert math.isfinite(out.loss.item())


def test_ml_cpc_loss_under_autocast_matches_float64_on_the_same_scores() -> None:
    alpha = 0.1
    loss_fn = losses.MLCPCLoss(alpha=alpha)
    z1, z2 = _features()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = loss_fn(z1, z2)
        scores = loss_fn.critic(z1, z2)
    n = scores.shape[0]
    exact = (math.log(n / alpha) - bounds.ml_cpc(scores.double(), alpha=alpha)) / alpha
    assert out.loss.dtype == torch.float32 and abs(out.loss.item() - exact.item()) <= 1e-3


def test_kd_and_crd_losses_in_half_precision_match_float64() -> None:
    gen = torch.Generator().manual_seed(0)
    student, teacher = (8.0 * torch.randn(64, 100, generator=gen)).half(), (8.0 * torch.randn(64, 100, generator=gen)).half()
    kd = KDLoss(4.0)
    value = kd(student, teacher)
    assert value.dtype == torch.float32
    assert abs(value.item() - kd(student.double(), teacher.double()).item()) <= 1e-3
    pos, neg = (torch.randn(64, generator=gen) / 0.07).bfloat16(), (torch.randn(64, 256, generator=gen) / 0.07).bfloat16()
    nce = crd_nce_loss(pos, neg, num_data=5000, log_z=10.0)
    assert nce.dtype == torch.float32
    assert abs(nce.item() - crd_nce_loss(pos.double(), neg.double(), 5000, 10.0).item()) <= 1e-3


def test_infocl_kernel_term_in_half_precision() -> None:
    h, mu = _features(64, 16)
    value = _log_kernel_mean(h.half(), mu.half(), 16.0)
    assert value.dtype == torch.float32
    assert abs(value.item() - _log_kernel_mean(h.half().double(), mu.half().double(), 16.0).item()) <= 1e-3
