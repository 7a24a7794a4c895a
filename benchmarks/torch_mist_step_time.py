"""Time per training step: infobound vs torch-mist, same task, batch, critic sizes and bound.

torch-mist needs numpy < 2, so run this in an environment of its own:

    python -m venv /tmp/venv-mist
    /tmp/venv-mist/bin/pip install -c constraints.txt torch==2.13.0 torch-mist "numpy<2" "pandas<3" -e .
    /tmp/venv-mist/bin/python benchmarks/torch_mist_step_time.py --out results/torch_mist

Both libraries train the same critic (separable: two 20→256→256→256→32 nets; joint: 40→256→256→256→1)
with Adam 5e-4 on a 20-d correlated Gaussian (4 nats), batch 128, all in-batch negatives
(torch-mist: ``neg_samples=0``). Steps are timed in interleaved blocks on one thread; we report the
median time per step and the ratio ours / theirs (< 1 means infobound is faster).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from infobound import bounds, critics
from infobound.results import print_table, write_json
from infobound.tasks import CorrelatedGaussian


def ours(critic_kind: str, bound: str):
    kwargs = dict(hidden=256, layers=3) | (dict(embed_dim=32) if critic_kind == "separable" else {})
    critic = critics.build(critic_kind, 20, 20, **kwargs)
    fn = bounds.get(bound)
    extra = {"clip": 5.0} if bound == "smile" else {}
    optimiser = torch.optim.Adam(critic.parameters(), lr=5e-4)

    def step(x, y):
        loss = -fn(critic(x, y), **extra)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()

    return step


def theirs(critic_kind: str, bound: str):
    from torch_mist.estimators.discriminative.factories import infonce, smile

    hidden = [256, 256, 256, 32] if critic_kind == "separable" else [256, 256, 256]
    factory = {"infonce": infonce, "smile": smile}[bound]
    extra = {"tau": 5.0} if bound == "smile" else {}
    estimator = factory(x_dim=20, y_dim=20, hidden_dims=hidden, critic_type=critic_kind, neg_samples=0, **extra)
    optimiser = torch.optim.Adam(estimator.parameters(), lr=5e-4)

    def step(x, y):
        loss = estimator.loss(x, y)
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps-per-block", type=int, default=20)
    parser.add_argument("--blocks", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--out", type=Path, default=Path("results/torch_mist"))
    args = parser.parse_args()
    torch.set_num_threads(1)
    task = CorrelatedGaussian(20, 4.0)
    rows = []
    for critic_kind in ("separable", "joint"):
        for bound in ("infonce", "smile"):
            steps = {"infobound": ours("concat" if critic_kind == "joint" else critic_kind, bound),
                     "torch-mist": theirs(critic_kind, bound)}
            times: dict[str, list[float]] = {k: [] for k in steps}
            for block in range(args.blocks + 1):
                # Fresh batches each step (torch-mist's proposal keeps the previous batch), drawn before timing.
                batches = [task.sample(args.batch_size, seed=block * 1000 + i) for i in range(args.steps_per_block)]
                for name, step in steps.items():
                    start = time.perf_counter()
                    for x, y in batches:
                        step(x, y)
                    if block > 0:  # block 0 warms up
                        times[name].append((time.perf_counter() - start) / args.steps_per_block * 1e3)
            ms = {k: statistics.median(v) for k, v in times.items()}
            rows.append({"critic": critic_kind, "bound": bound, "infobound ms/step": ms["infobound"],
                         "torch-mist ms/step": ms["torch-mist"], "ratio ours/theirs": ms["infobound"] / ms["torch-mist"]})
            print(rows[-1], flush=True)
    print_table(rows, precision=2, title=f"Time per training step, batch {args.batch_size}, one thread (median of {args.blocks} interleaved blocks)")
    write_json(args.out / "results.json", {"batch_size": args.batch_size, "rows": rows})


if __name__ == "__main__":
    main()
