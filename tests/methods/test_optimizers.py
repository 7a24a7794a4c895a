"""DenseSparseAdam against torch's dense Adam, lazy updates, one scheduler for both, state round trip."""

from __future__ import annotations

import copy

import pytest
import torch
from torch import nn

from infobound.methods.optimizers import DenseSparseAdam, adam_for, sparse_parameters


def _model(sparse: bool) -> nn.Module:
    torch.manual_seed(0)
    return nn.ModuleDict({"table": nn.Embedding(12, 4, sparse=sparse), "head": nn.Linear(4, 3)})


def _loss(model: nn.Module, ids: torch.Tensor) -> torch.Tensor:
    return (model["head"](model["table"](ids).mean(1)) ** 2).sum() + model["table"](ids).pow(3).sum()


def _train(model: nn.Module, opt: torch.optim.Optimizer, batches: list[torch.Tensor]) -> None:
    for ids in batches:
        opt.zero_grad()
        _loss(model, ids).backward()
        opt.step()


def test_equals_dense_adam_when_every_row_is_in_every_batch():
    # lazy Adam is Adam when each step touches every row: the independent reference is torch's Adam
    batches = [torch.randperm(12).reshape(3, 4) for _ in range(5)]
    sparse, dense = _model(True), _model(False)
    opt = adam_for(sparse, lr=0.05)
    assert isinstance(opt, DenseSparseAdam) and [p.shape for p in sparse_parameters(sparse)] == [(12, 4)]
    _train(sparse, opt, batches)
    _train(dense, torch.optim.Adam(dense.parameters(), lr=0.05), batches)
    for (name, a), b in zip(sparse.named_parameters(), dense.parameters()):
        assert torch.allclose(a, b, atol=1e-4), name  # SparseAdam adds eps after the bias correction: ~1e-5 apart


def test_rows_outside_the_batches_do_not_move_and_dense_models_get_plain_adam():
    model = _model(True)
    before = model["table"].weight.detach().clone()
    _train(model, adam_for(model, lr=0.05), [torch.tensor([[0, 1, 2], [2, 3, 3]])] * 3)
    moved = (model["table"].weight != before).any(1)
    assert moved[:4].all() and not moved[4:].any()
    assert type(adam_for(_model(False), lr=0.1)) is torch.optim.Adam
    assert adam_for(model, lr=0.1).dense.defaults["fused"] is True


def test_one_scheduler_drives_both_learning_rates():
    model = _model(True)
    opt = adam_for(model, lr=0.1)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    for _ in range(2):
        _train(model, opt, [torch.tensor([[1, 2]])])
        sched.step()
    expected = 0.1 * 0.5 * (1 + torch.cos(torch.tensor(torch.pi * 2 / 4))).item()
    assert opt.dense.param_groups[0]["lr"] == pytest.approx(expected)
    assert opt.sparse.param_groups[0]["lr"] == pytest.approx(expected)


def test_state_dict_round_trip_continues_exactly():
    batches = [torch.randint(0, 12, (2, 5)) for _ in range(6)]
    whole = _model(True)
    _train(whole, adam_for(whole, lr=0.05), batches)
    first = _model(True)
    opt = adam_for(first, lr=0.05)
    _train(first, opt, batches[:3])
    state, weights = copy.deepcopy(opt.state_dict()), copy.deepcopy(first.state_dict())
    second = _model(True)
    second.load_state_dict(weights)
    opt2 = adam_for(second, lr=0.05)
    opt2.load_state_dict(state)
    _train(second, opt2, batches[3:])
    for a, b in zip(whole.parameters(), second.parameters()):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="dense"):
        opt2.load_state_dict(torch.optim.Adam(whole.parameters()).state_dict())
    with pytest.raises(ValueError, match="sparse parameter"):
        DenseSparseAdam(whole.parameters(), [], lr=0.1)


def test_dense_models_get_the_fused_kernel_with_adams_trajectory():
    batches = [torch.randint(0, 12, (3, 4)) for _ in range(5)]
    fused, reference = _model(False), _model(False)
    opt = adam_for(fused, lr=0.05, weight_decay=1e-3)
    assert opt.defaults["fused"] is True
    _train(fused, opt, batches)
    _train(reference, torch.optim.Adam(reference.parameters(), lr=0.05, weight_decay=1e-3, foreach=False), batches)
    for a, b in zip(fused.parameters(), reference.parameters()):
        assert torch.allclose(a, b, atol=1e-6)
