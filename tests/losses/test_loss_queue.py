"""MoCo queue objectives: MoCo's cross-entropy, ML-CPC = log(k/α) − I_ML = the official KL/α form."""

import math

import pytest
import torch
import torch.nn.functional as F

from infobound import losses


def _batch(n=6, k=20, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    q = F.normalize(torch.randn(n, d, generator=g, dtype=torch.float64), dim=1).requires_grad_()
    key = F.normalize(q.detach() + 0.5 * torch.randn(n, d, generator=g, dtype=torch.float64), dim=1)
    queue = F.normalize(torch.randn(k, d, generator=g, dtype=torch.float64), dim=1)
    return q, key, queue


def _official_ml_cpc(output, alpha):
    """The official MoCo ML-CPC loss (Song & Ermon's code), re-typed: output = [N, K+1] logits, positive first."""
    k = output.size(1)
    beta = (k - alpha) / (k - 1)
    logits = torch.cat([output[:, :1] + math.log(alpha), output[:, 1:] + math.log(beta)], dim=1).view(1, -1)
    labels = torch.zeros_like(output)
    labels[:, 0] += 1.0 / output.size(0)
    kl = torch.nn.KLDivLoss(reduction="batchmean")(F.log_softmax(logits, dim=1), labels.view(1, -1))
    return kl / alpha


def test_queue_infonce_is_moco_cross_entropy():
    q, key, queue = _batch()
    tau = 0.2
    out = losses.build_queue_objective("infonce", temperature=tau)(q, key, queue)
    logits = torch.cat([(q * key).sum(1, keepdim=True), q @ queue.t()], dim=1) / tau
    expected = F.cross_entropy(logits, torch.zeros(q.shape[0], dtype=torch.long))
    assert out.loss.item() == pytest.approx(expected.item(), abs=1e-12)
    assert out.ceiling == pytest.approx(math.log(queue.shape[0] + 1))
    assert out.mi_lower_bound.item() == pytest.approx(out.ceiling - expected.item(), abs=1e-12)


@pytest.mark.parametrize("alpha", [0.01, 0.5, 1.0, 10.0])
def test_queue_ml_cpc_is_kl_and_official_form(alpha):
    q, key, queue = _batch(seed=1)
    tau = 0.2
    # inputs are unit vectors already; normalize=False keeps the gradient comparable with the official code's
    out = losses.build_queue_objective("ml_cpc", alpha=alpha, temperature=tau, normalize=False)(q, key, queue)
    plain = losses.QueueMLCPCLoss(alpha=alpha, temperature=tau, divide_by_alpha=False, normalize=False)(q, key, queue)
    output = torch.cat([(q * key).sum(1, keepdim=True), q @ queue.t()], dim=1) / tau
    n, k = output.shape
    # naive I_ML: one normaliser over all n·k logits
    beta = (k - alpha) / (k - 1)
    normaliser = alpha * output[:, 0].exp().sum() + beta * output[:, 1:].exp().sum()
    i_ml = math.log(n * k) + output[:, 0].mean().item() - math.log(normaliser.item())
    assert out.mi_lower_bound.item() == pytest.approx(i_ml, abs=1e-10)
    assert out.ceiling == pytest.approx(math.log(k / alpha))
    assert plain.loss.item() == pytest.approx(math.log(k / alpha) - i_ml, abs=1e-10)
    official = _official_ml_cpc(output, alpha)
    assert out.loss.item() == pytest.approx(official.item(), abs=1e-10)
    assert plain.loss.item() == pytest.approx(alpha * official.item(), abs=1e-10)
    out.loss.backward()
    official_grad = torch.autograd.grad(_official_ml_cpc(
        torch.cat([(q * key).sum(1, keepdim=True), q @ queue.t()], dim=1) / tau, alpha), q)[0]
    torch.testing.assert_close(q.grad, official_grad)


def test_queue_schedule_and_bad_inputs():
    q, key, queue = _batch()
    objective = losses.build_queue_objective("ml_cpc", alpha="geometric")
    assert objective(q, key, queue, progress=0.0).ceiling == pytest.approx(math.log(21 / 10.0))
    assert objective(q, key, queue, progress=1.0).ceiling == pytest.approx(math.log(21 / 0.1))
    with pytest.raises(ValueError, match="queue"):
        objective(q, key, queue[:, :3])
    with pytest.raises(ValueError, match="queue"):
        objective(q, key, queue[0])
    with pytest.raises(ValueError, match="same shape"):
        objective(q, key[:4], queue)
    with pytest.raises(ValueError, match="alpha"):  # α above m = K + 1
        losses.QueueMLCPCLoss(alpha=50.0)(q, key, queue)
    with pytest.raises(ValueError, match="unknown queue objective"):
        losses.build_queue_objective("fmicl")
