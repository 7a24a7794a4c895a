"""Two CPU processes (gloo) give the same losses and gradients as one process on the concatenated batch.

Each rank holds its slice of the batch (rank 0 gets 5 rows, rank 1 gets 7: uneven on purpose),
encodes it with the same linear encoder and calls the objective; the parameter gradients averaged
over ranks (what DistributedDataParallel's all-reduce does; DDP itself is not constructed because
its first use imports torch._dynamo, ~10 s) must equal the single-process gradients of the
objective on the concatenated batch, for in-batch objectives (ML-CPC's single normaliser over all
ranks included) and the MoCo queue objectives.
"""

import socket
import time

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from torch import nn

from infobound import distributed, losses

N, D_IN, D_OUT, K, WORLD = 12, 6, 4, 10, 2
SPLIT = (5, 7)
IN_BATCH = [("infonce", {}), ("infonce", {"negatives": "cross"}), ("ml_cpc", {"alpha": 0.5}),
            ("ml_cpc", {"alpha": 0.3, "negatives": "simclr"}), ("fmicl", {"divergence": "js"}), ("au", {})]
QUEUE = [("infonce", {}), ("ml_cpc", {"alpha": 0.2})]


def _data():
    g = torch.Generator().manual_seed(0)
    x1 = torch.randn(N, D_IN, generator=g, dtype=torch.float64)
    x2 = x1 + 0.3 * torch.randn(N, D_IN, generator=g, dtype=torch.float64)
    queue = torch.randn(K, D_OUT, generator=g, dtype=torch.float64)
    return x1, x2, queue


def _encoder():
    torch.manual_seed(1)
    return nn.Linear(D_IN, D_OUT).double()


def _run(model, objective, x1, x2, queue=None):
    """Loss, bound and parameter gradients of one objective call (averaged over ranks under DDP)."""
    model.zero_grad()
    if queue is None:
        out = objective(model(x1), model(x2))
    else:
        out = objective(model(x1), model(x2).detach(), queue)  # the key side has no gradient, as in MoCo
    out.loss.backward()
    grads = [p.grad.clone() for p in model.parameters()]
    if distributed.is_distributed():
        for g in grads:  # DDP's gradient all-reduce, written out
            dist.all_reduce(g)
            g /= dist.get_world_size()
    return out.loss.item(), out.mi_lower_bound.item(), grads


def _cases():
    yield from ((name, kw, None) for name, kw in IN_BATCH)
    yield from ((name, kw, "queue") for name, kw in QUEUE)


def _build(name, kwargs, kind):
    return losses.build_queue_objective(name, **kwargs) if kind else losses.build_objective(name, **kwargs)


def _worker(rank, port, folder):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=WORLD)
    try:
        torch.set_num_threads(1)
        x1, x2, queue = _data()
        start = sum(SPLIT[:rank])
        rows = slice(start, start + SPLIT[rank])
        model = _encoder()
        out = {}
        for name, kwargs, kind in _cases():
            out[(name, str(kwargs), kind)] = _run(model, _build(name, kwargs, kind), x1[rows], x2[rows],
                                                 queue if kind else None)
        # gather_with_grad alone: rank-dependent weights, each rank's rows get the sum over ranks
        t = torch.full((SPLIT[rank], 2), float(rank + 1), dtype=torch.float64, requires_grad=True)
        gathered = distributed.gather_with_grad(t)
        weights = torch.arange(N * 2, dtype=torch.float64).view(N, 2) * (rank + 1)
        (gathered * weights).sum().backward()
        out["gather"] = (gathered.detach(), t.grad.clone(), distributed.world_size(), distributed.rank())
        torch.save(out, f"{folder}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ddp_results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ddp")
    # fork where there is one: the children reuse this process's imports (a spawned child re-imports torch)
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    context = mp.start_processes(_worker, args=(_free_port(), str(folder)), nprocs=WORLD, join=False,
                                 start_method=method)
    deadline = time.monotonic() + 120
    while not context.join(timeout=1):
        if time.monotonic() > deadline:
            for process in context.processes:
                process.kill()
            pytest.fail("the 2-process gloo run did not finish within 120 s")
    return [torch.load(folder / f"rank{rank}.pt", weights_only=False) for rank in range(WORLD)]


@pytest.mark.parametrize("name,kwargs,kind", list(_cases()))
def test_ddp_equals_single_process_on_concatenated_batch(ddp_results, name, kwargs, kind):
    x1, x2, queue = _data()
    loss, bound, grads = _run(_encoder(), _build(name, kwargs, kind), x1, x2, queue if kind else None)
    for rank in range(WORLD):
        r_loss, r_bound, r_grads = ddp_results[rank][(name, str(kwargs), kind)]
        assert r_loss == pytest.approx(loss, abs=1e-10)
        assert r_bound == pytest.approx(bound, abs=1e-10)
        for ours, reference in zip(r_grads, grads):
            torch.testing.assert_close(ours, reference, atol=1e-10, rtol=1e-9)


def test_gather_with_grad_concatenates_and_sums_gradients(ddp_results):
    weights = torch.arange(N * 2, dtype=torch.float64).view(N, 2)
    expected = torch.cat([torch.full((SPLIT[r], 2), float(r + 1), dtype=torch.float64) for r in range(WORLD)])
    for rank in range(WORLD):
        gathered, grad, size, who = ddp_results[rank]["gather"]
        assert (size, who) == (WORLD, rank)
        torch.testing.assert_close(gathered, expected)
        start = sum(SPLIT[:rank])
        # Σ over ranks r' of weights·(r' + 1), on this rank's rows
        torch.testing.assert_close(grad, 3.0 * weights[start:start + SPLIT[rank]])


def test_single_process_is_identity():
    t = torch.randn(3, 2, requires_grad=True)
    assert distributed.gather_with_grad(t) is t
    assert distributed.world_size() == 1 and distributed.rank() == 0 and not distributed.is_distributed()
