"""Adam over dense parameters and lazy (sparse) Adam over embedding tables, as one optimiser.

A bag-of-embeddings text encoder with a 30,000-word vocabulary touches a few thousand table rows per
batch, yet dense Adam updates (and keeps moments for) every row at every step: at width 768 that is
23 M parameters a step, most of the CPU time of a run. An embedding built with ``sparse=True`` yields
a sparse gradient; :class:`DenseSparseAdam` sends those tables to :class:`torch.optim.SparseAdam`
(moments updated only for the rows a batch touched, "lazy Adam") and every other parameter to
:class:`torch.optim.Adam`. It is one :class:`torch.optim.Optimizer` whose ``param_groups`` are the two
inner optimisers' groups, so one learning-rate scheduler and Lightning's checkpointing drive both.

SparseAdam has no weight decay: the sparse tables get none (the methods' default decay is 1e-6).
Sparse gradients and DDP: gloo all-reduces them, NCCL does not — use dense tables for multi-GPU runs.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Sequence

import torch
from torch import Tensor, nn


def sparse_parameters(module: nn.Module) -> list[nn.Parameter]:
    """The trainable weights of the ``nn.Embedding`` / ``nn.EmbeddingBag`` tables built with ``sparse=True``."""
    return [m.weight for m in module.modules()
            if isinstance(m, (nn.Embedding, nn.EmbeddingBag)) and m.sparse and m.weight.requires_grad]


class DenseSparseAdam(torch.optim.Optimizer):
    """:class:`torch.optim.Adam` on ``dense`` parameters and :class:`torch.optim.SparseAdam` on ``sparse`` ones.

    Args:
        dense: parameters with dense gradients.
        sparse: parameters with sparse gradients (embedding tables with ``sparse=True``).
        lr: learning rate of both (a scheduler changes both: they share ``param_groups``).
        weight_decay: Adam's L2 decay of the dense parameters (SparseAdam has none).
    """

    def __init__(self, dense: Iterable[nn.Parameter], sparse: Iterable[nn.Parameter], lr: float = 1e-3,
                 weight_decay: float = 0.0) -> None:
        dense, sparse = list(dense), list(sparse)
        if not sparse:
            raise ValueError("DenseSparseAdam needs at least one sparse parameter; use torch.optim.Adam otherwise")
        super().__init__(dense + sparse, {"lr": lr})
        self.dense = torch.optim.Adam(dense, lr=lr, weight_decay=weight_decay, fused=fusable(dense) or None) if dense else None
        self.sparse = torch.optim.SparseAdam(sparse, lr=lr)
        self._share_groups()

    def _share_groups(self) -> None:
        # the scheduler writes group["lr"] into these very dicts, so the inner optimisers see it
        self.param_groups = (self.dense.param_groups if self.dense else []) + self.sparse.param_groups

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        if self.dense is not None:
            self.dense.step()
        self.sparse.step()
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        if self.dense is not None:
            self.dense.zero_grad(set_to_none)
        self.sparse.zero_grad(set_to_none)

    def state_dict(self) -> dict[str, Any]:
        return {"dense": self.dense.state_dict() if self.dense else None, "sparse": self.sparse.state_dict()}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        if set(state_dict) != {"dense", "sparse"}:
            raise ValueError("DenseSparseAdam.load_state_dict expects the {'dense', 'sparse'} dict of its own "
                             f"state_dict(), got keys {sorted(state_dict)}")
        if self.dense is not None:
            self.dense.load_state_dict(state_dict["dense"])
        self.sparse.load_state_dict(state_dict["sparse"])
        self._share_groups()


def fusable(params: Sequence[Tensor]) -> bool:
    """Whether torch's fused Adam kernel takes these parameters: floating point, all on the CPU or all on one CUDA device."""
    devices = {p.device for p in params}
    return (len(devices) == 1 and next(iter(devices)).type in ("cpu", "cuda")
            and all(p.is_floating_point() for p in params))


def adam_for(module: nn.Module, lr: float, weight_decay: float = 0.0) -> torch.optim.Optimizer:
    """Adam over the trainable parameters of ``module``; :class:`DenseSparseAdam` when some tables are sparse.

    Dense Adam runs torch's fused kernel where it can (:func:`fusable`): the same update in one pass
    over each tensor instead of several; measured 3.2× faster a step of the text bench's bag of
    embeddings (30k × 128 table, one CPU thread; ``benchmarks/text_step_speed.py``), equal up to rounding.
    """
    params = [p for p in module.parameters() if p.requires_grad]
    sparse_ids = {id(p) for p in sparse_parameters(module)}
    if not sparse_ids:
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=fusable(params) or None)
    return DenseSparseAdam([p for p in params if id(p) not in sparse_ids], [p for p in params if id(p) in sparse_ids],
                           lr=lr, weight_decay=weight_decay)


__all__ = ["DenseSparseAdam", "adam_for", "fusable", "sparse_parameters"]
