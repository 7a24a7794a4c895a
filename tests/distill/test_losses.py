"""KD, CRD's NCE loss and ML-CPC / InfoNCE over memory banks against naive references."""

import math

import pytest
import torch

from infobound.distill import (
    KDLoss,
    MemoryContrastLoss,
    crd_nce_loss,
    infonce_memory_loss,
    ml_cpc_memory_loss,
)


def test_kd_loss_matches_its_definition():
    s, t, temp = torch.randn(5, 7), torch.randn(5, 7), 4.0
    p_t, log_p_s = torch.softmax(t / temp, 1), torch.log_softmax(s / temp, 1)
    naive = temp**2 * (p_t * (p_t.log() - log_p_s)).sum(1).mean()
    assert torch.allclose(KDLoss(temp)(s, t), naive, atol=1e-6)
    with pytest.raises(ValueError, match="differ in shape"):
        KDLoss()(torch.randn(2, 3), torch.randn(2, 4))


def test_crd_loss_matches_its_equation():
    # CRD (Tian et al. 2020, Eq. 18 / official ContrastLoss): P = e^{f}/Z, h = P / (P + K/N),
    # loss = -(1/n) Σ_i [log h(pos_i) + Σ_j log(1 - h(neg_ij))]
    n, k, num_data = 6, 9, 500
    pos, neg = torch.randn(n, dtype=torch.float64) * 3, torch.randn(n, k, dtype=torch.float64) * 3
    log_z = torch.tensor(4.2, dtype=torch.float64)
    total = 0.0
    for i in range(n):
        p = math.exp(pos[i] - log_z)
        total += math.log(p / (p + k / num_data))
        for j in range(k):
            q = math.exp(neg[i, j] - log_z)
            total += math.log(1 - q / (q + k / num_data))
    assert float(crd_nce_loss(pos, neg, num_data, log_z)) == pytest.approx(-total / n, rel=1e-10)


def _naive_ml_cpc(pos, neg, alpha):
    """Song & Ermon 2020, Eq. 10, one normaliser over all n·m pairs, written as loops in float64."""
    n, k = neg.shape
    m = k + 1
    beta = (m - alpha) / (m - 1)
    denom = sum(alpha * math.exp(pos[i]) + beta * sum(math.exp(neg[i, j]) for j in range(k)) for i in range(n))
    bound = sum(math.log(n * m * math.exp(pos[i]) / denom) for i in range(n)) / n
    return math.log(m / alpha) - bound, bound


@pytest.mark.parametrize("alpha", [0.1, 1.0, 5.0])
def test_ml_cpc_memory_loss_matches_a_naive_reference(alpha):
    pos, neg = torch.randn(5, dtype=torch.float64) * 2, torch.randn(5, 11, dtype=torch.float64) * 2
    loss, bound = ml_cpc_memory_loss(pos, neg, alpha)
    ref_loss, ref_bound = _naive_ml_cpc(pos.tolist(), neg, alpha)
    assert float(loss) == pytest.approx(ref_loss, rel=1e-10)
    assert float(bound) == pytest.approx(ref_bound, rel=1e-10)
    assert float(loss) >= 0  # the KL form: I_ML <= log(m/α)
    # The official ML-CPC distillation loss: -mean log P_pos + log(α mean P_pos + β K mean P_neg), P = e^f/Z.
    k = neg.shape[1]
    beta = (k + 1 - alpha) / k
    p_pos, p_neg = (pos - 3.0).exp(), (neg - 3.0).exp()
    official = (-p_pos.log() + torch.log(alpha * p_pos.mean() + beta * p_neg.mean() * k)).mean()
    assert float(loss) == pytest.approx(float(official) - math.log(alpha), rel=1e-9, abs=1e-12)


def test_infonce_memory_loss_is_cross_entropy_on_the_positive():
    pos, neg = torch.randn(4), torch.randn(4, 6)
    loss, bound = infonce_memory_loss(pos, neg)
    ce = torch.nn.functional.cross_entropy(torch.cat([pos[:, None], neg], 1), torch.zeros(4, dtype=torch.long))
    assert torch.allclose(loss, ce, atol=1e-6)
    assert torch.allclose(bound, math.log(7) - ce, atol=1e-6)


@pytest.mark.parametrize("objective", ["crd", "ml_cpc", "infonce"])
def test_memory_contrast_loss_is_both_sided_over_the_banks_and_updates_them(objective):
    torch.manual_seed(0)
    num_data, n, k, temp = 30, 4, 5, 0.07
    labels = torch.arange(num_data) % 3
    loss_fn = MemoryContrastLoss(6, 10, num_data, objective, labels=labels, embed_dim=8, k=k, temperature=temp,
                                 alpha=0.5)
    fs, ft = torch.randn(n, 6, requires_grad=True), torch.randn(n, 10)
    index = torch.tensor([0, 4, 8, 29])
    negatives = loss_fn.sampler(index, k, torch.Generator().manual_seed(0))
    mem_s, mem_t = loss_fn.memory_s.memory.clone(), loss_fn.memory_t.memory.clone()
    out = loss_fn(fs, ft, index, negatives=negatives)

    with torch.no_grad():
        s, t = loss_fn.embed_s(fs), loss_fn.embed_t(ft)
        cand = torch.cat([index[:, None], negatives], 1)
        logit_s = torch.einsum("nd,nkd->nk", s, mem_t[cand]) / temp  # student anchor vs teacher memory
        logit_t = torch.einsum("nd,nkd->nk", t, mem_s[cand]) / temp  # teacher anchor vs student memory
        if objective == "crd":
            z_s = math.log(num_data) + torch.logsumexp(logit_s.flatten(), 0) - math.log(logit_s.numel())
            z_t = math.log(num_data) + torch.logsumexp(logit_t.flatten(), 0) - math.log(logit_t.numel())
            expected = crd_nce_loss(logit_s[:, 0], logit_s[:, 1:], num_data, z_s) + \
                crd_nce_loss(logit_t[:, 0], logit_t[:, 1:], num_data, z_t)
            assert torch.allclose(loss_fn.log_z, torch.stack([z_s, z_t]))
        elif objective == "ml_cpc":
            expected = ml_cpc_memory_loss(logit_s[:, 0], logit_s[:, 1:], 0.5)[0] + \
                ml_cpc_memory_loss(logit_t[:, 0], logit_t[:, 1:], 0.5)[0]
        else:
            expected = infonce_memory_loss(logit_s[:, 0], logit_s[:, 1:])[0] + \
                infonce_memory_loss(logit_t[:, 0], logit_t[:, 1:])[0]
    assert torch.allclose(out.loss, expected, atol=1e-4)
    assert out.mi_lower_bound.dim() == 0 and not out.mi_lower_bound.requires_grad
    assert out.mi_lower_bound <= out.ceiling + 1e-5
    # banks moved at the batch's slots only
    others = torch.tensor([i for i in range(num_data) if i not in index.tolist()])
    assert torch.equal(loss_fn.memory_s.memory[others], mem_s[others])
    assert torch.allclose(loss_fn.memory_s.memory[index], torch.nn.functional.normalize(0.5 * mem_s[index] + 0.5 * s))
    assert torch.allclose(loss_fn.memory_t.memory[index], torch.nn.functional.normalize(0.5 * mem_t[index] + 0.5 * t))
    out.loss.backward()
    assert fs.grad is not None and loss_fn.embed_s.linear.weight.grad is not None
    assert loss_fn.embed_t.linear.weight.grad is not None


def test_crd_normaliser_is_estimated_once():
    loss_fn = MemoryContrastLoss(4, 4, 20, "crd", labels=torch.arange(20) % 2, embed_dim=4, k=3)
    loss_fn(torch.randn(5, 4), torch.randn(5, 4), torch.arange(5))
    z = loss_fn.log_z.clone()
    loss_fn(torch.randn(5, 4) * 10, torch.randn(5, 4), torch.arange(5, 10))
    assert torch.equal(loss_fn.log_z, z) and torch.isfinite(z).all()


def test_memory_contrast_loss_rejects_bad_inputs():
    loss_fn = MemoryContrastLoss(6, 10, 30, "ml_cpc", labels=torch.arange(30) % 3, k=4)
    with pytest.raises(ValueError, match="embedding built for 6-d"):
        loss_fn(torch.randn(4, 7), torch.randn(4, 10), torch.arange(4))
    with pytest.raises(ValueError, match="embedding built for 10-d"):
        loss_fn(torch.randn(4, 6), torch.randn(4, 6), torch.arange(4))
    with pytest.raises(ValueError, match="differ in batch size"):
        loss_fn(torch.randn(4, 6), torch.randn(3, 10), torch.arange(4))
    with pytest.raises(IndexError, match=r"outside \[0, 30\)"):
        loss_fn(torch.randn(2, 6), torch.randn(2, 10), torch.tensor([3, 30]))
    with pytest.raises(ValueError, match="2 indices for a batch of 4"):
        loss_fn(torch.randn(4, 6), torch.randn(4, 10), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="objective"):
        MemoryContrastLoss(6, 10, 30, "nce2", labels=torch.arange(30) % 3)
    with pytest.raises(ValueError, match="alpha"):
        MemoryContrastLoss(6, 10, 30, "ml_cpc", labels=torch.arange(30) % 3, k=4, alpha=6.0)
