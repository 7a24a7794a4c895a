"""Memory banks (momentum updates, scores) and negative sampling (shapes, exclusions, uniformity)."""

import pytest
import torch

from infobound.distill import MemoryBank, NegativeSampler


def test_bank_update_applies_momentum_and_renormalises():
    bank = MemoryBank(10, 4, momentum=0.5, generator=torch.Generator().manual_seed(0))
    before = bank.memory.clone()
    index = torch.tensor([2, 7])
    feats = torch.nn.functional.normalize(torch.randn(2, 4), dim=1)
    bank.update(index, feats)
    expected = 0.5 * before[index] + 0.5 * feats
    expected = expected / expected.norm(dim=1, keepdim=True)
    assert torch.allclose(bank.memory[index], expected, atol=1e-6)
    assert torch.allclose(bank.memory[index].norm(dim=1), torch.ones(2), atol=1e-6)
    untouched = torch.tensor([i for i in range(10) if i not in (2, 7)])
    assert torch.equal(bank.memory[untouched], before[untouched])


def test_bank_momentum_zero_replaces_and_one_freezes():
    feats = torch.nn.functional.normalize(torch.randn(3, 5), dim=1)
    bank = MemoryBank(6, 5, momentum=0.0)
    bank.update(torch.tensor([0, 1, 2]), feats * 3.0)
    assert torch.allclose(bank.memory[:3], feats, atol=1e-6)
    frozen = MemoryBank(6, 5, momentum=1.0)
    before = frozen.memory.clone()
    frozen.update(torch.tensor([0, 1, 2]), feats)
    assert torch.allclose(frozen.memory[:3], before[:3] / before[:3].norm(dim=1, keepdim=True), atol=1e-6)


@pytest.mark.parametrize("size,k", [(1000, 4), (40, 30)])  # the row-gather path and the whole-bank matmul path
def test_bank_scores_match_naive_dot_products_and_flow_to_anchors_only(size, k):
    bank = MemoryBank(size, 8)
    anchors = torch.randn(3, 8, requires_grad=True)
    index = torch.randint(0, size, (3, k))
    scores = bank.scores(anchors, index)
    naive = torch.stack([torch.stack([anchors[a] @ bank.memory[index[a, j]] for j in range(k)]) for a in range(3)])
    assert scores.shape == (3, k)
    assert torch.allclose(scores, naive, atol=1e-5)
    scores.sum().backward()
    assert anchors.grad is not None and not bank.memory.requires_grad
    assert torch.allclose(anchors.grad, bank.memory[index].sum(1), atol=1e-5)


def test_uniform_sampler_excludes_the_anchor_and_covers_the_rest_uniformly():
    n_data, k = 50, 20_000
    sampler = NegativeSampler(mode="uniform", size=n_data)
    index = torch.tensor([0, 17, 49])
    neg = sampler(index, k, torch.Generator().manual_seed(0))
    assert neg.shape == (3, k) and neg.dtype == torch.int64
    assert int(neg.min()) >= 0 and int(neg.max()) < n_data
    assert not (neg == index[:, None]).any()
    for row, anchor in zip(neg, index.tolist()):
        counts = torch.bincount(row, minlength=n_data).float()
        others = torch.cat([counts[:anchor], counts[anchor + 1:]])
        assert counts[anchor] == 0
        assert (others > 0).all()
        # each of the 49 others expects k/49 ≈ 408 draws (sd ≈ 20)
        assert (others - k / 49).abs().max() < 120


def test_other_class_sampler_never_draws_the_anchors_class():
    labels = torch.tensor([0, 0, 1, 1, 1, 2, 2, 0, 2, 1])
    sampler = NegativeSampler(labels, mode="other_class")
    index = torch.arange(10)
    neg = sampler(index, 500, torch.Generator().manual_seed(1))
    assert neg.shape == (10, 500)
    assert not (labels[neg] == labels[index][:, None]).any()
    for i in range(10):  # every sample of another class is reachable
        assert set(neg[i].tolist()) == set(torch.nonzero(labels != labels[i]).flatten().tolist())


def test_sampling_is_reproducible_from_the_generator():
    sampler = NegativeSampler(torch.randint(0, 5, (100,)), mode="other_class")
    index = torch.arange(8)
    a = sampler(index, 16, torch.Generator().manual_seed(3))
    b = sampler(index, 16, torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_bad_indices_and_features_raise_clear_errors():
    bank = MemoryBank(10, 4)
    with pytest.raises(IndexError, match=r"outside \[0, 10\)"):
        bank.update(torch.tensor([3, 10]), torch.randn(2, 4))
    with pytest.raises(IndexError, match="outside"):
        bank.scores(torch.randn(2, 4), torch.tensor([[0, 1], [2, -1]]))
    with pytest.raises(TypeError, match="integer tensor"):
        bank.update(torch.tensor([1.0, 2.0]), torch.randn(2, 4))
    with pytest.raises(ValueError, match=r"shape \[n, 4\]"):
        bank.update(torch.tensor([1, 2]), torch.randn(2, 5))
    with pytest.raises(ValueError, match="2 feature rows but 3 indices"):
        bank.update(torch.tensor([1, 2, 3]), torch.randn(2, 4))
    with pytest.raises(ValueError, match="momentum"):
        MemoryBank(10, 4, momentum=1.5)
    sampler = NegativeSampler(mode="uniform", size=10)
    with pytest.raises(IndexError):
        sampler(torch.tensor([11]), 3)
    with pytest.raises(ValueError, match="k"):
        sampler(torch.tensor([1]), 0)
    with pytest.raises(ValueError, match="labels"):
        NegativeSampler(mode="other_class", size=10)
    with pytest.raises(ValueError, match="two classes"):
        NegativeSampler(torch.zeros(10, dtype=torch.long), mode="other_class")
