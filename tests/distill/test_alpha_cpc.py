"""α-CPC as a distillation objective: the official ML-CPC distillation code's per-anchor loss, by a naive loop."""

import math

import pytest
import torch

from infobound.distill import MemoryContrastLoss, alpha_cpc_memory_loss, infonce_memory_loss


def _official_multiclass_loss(pos, neg, alpha):
    """ML-CPC repo, knowledge-distillation/crd/criterion.py `_MultiClassLoss` on P = e^f, re-derived as a loop."""
    n, k = neg.shape
    beta = (k + 1 - alpha) / k
    total = 0.0
    for i in range(n):
        p_pos = math.exp(float(pos[i]))
        denominator = (alpha * p_pos + beta * sum(math.exp(float(v)) for v in neg[i])) / (k + 1)
        total += -math.log(p_pos) + math.log(denominator)
    return total / n


@pytest.mark.parametrize("alpha", [0.01, 0.5, 1.0, 3.0])
def test_alpha_cpc_memory_loss_equals_the_official_loss_up_to_its_constant(alpha):
    torch.manual_seed(0)
    pos, neg = torch.randn(5, dtype=torch.float64), torch.randn(5, 7, dtype=torch.float64)
    loss, bound = alpha_cpc_memory_loss(pos, neg, alpha)
    official = _official_multiclass_loss(pos, neg, alpha)
    assert bound.item() == pytest.approx(-official, rel=1e-10, abs=1e-12)
    assert loss.item() == pytest.approx(math.log(8 / alpha) + official, rel=1e-10)


def test_alpha_one_is_infonce_and_bad_alpha_raises():
    torch.manual_seed(1)
    pos, neg = torch.randn(4), torch.randn(4, 9)
    assert alpha_cpc_memory_loss(pos, neg, 1.0)[1].item() == pytest.approx(infonce_memory_loss(pos, neg)[1].item(), abs=1e-6)
    with pytest.raises(ValueError, match="alpha"):
        alpha_cpc_memory_loss(pos, neg, 11.0)
    with pytest.raises(ValueError, match="alpha"):
        MemoryContrastLoss(8, 8, 50, objective="alpha_cpc", k=10, alpha=0.0, sampling="uniform")


def test_memory_contrast_with_alpha_cpc_runs_and_reports_its_ceiling():
    torch.manual_seed(2)
    loss = MemoryContrastLoss(6, 5, 40, objective="alpha_cpc", k=10, alpha=0.1, sampling="uniform")
    out = loss(torch.randn(8, 6), torch.randn(8, 5), torch.arange(8), generator=torch.Generator().manual_seed(0))
    assert out.ceiling == pytest.approx(math.log(11 / 0.1))
    out.loss.backward()
    assert loss.embed_s.linear.weight.grad is not None and math.isfinite(out.mi_lower_bound.item())
