"""How far can an estimator get on the coupling tasks at N = 5,000 if it is handed part of the answer?

The ``coupling-gaussian`` tasks of :func:`infobound.tasks.high_mi_tasks` push a correlated Gaussian
(Z_x, Z_y) through a fixed random additive-coupling flow on each side: X = f_X(Z_x), Y = f_Y(Z_y).
Every row below uses the same draw (``task.sample(5000, seed=0)``), trains on the first rows and
reads the MI on 750 held-out rows with the Gaussian MI of their covariance:

- ``oracle both``: the true latents (Z_x, Z_y) themselves, regressed Z_y on Z_x with an MLP (the
  read-out's own noise floor: with both bijections known the task is a Gaussian);
- ``oracle Y-bijection``: the true Z_y = f_Y⁻¹(Y) regressed on X with an MLP (two hidden layers of
  256, SiLU, 3,000 Adam steps of 256): what a difference-of-entropies estimator would read if its
  Y-side flow were perfect, I ≈ ½ log det Cov(Z_y) − ½ log det Cov(Z_y − m(X));
- ``task's own flow family``: MIENF (Butakov et al. 2024) with flows of *exactly* the task's family
  (4 NICE layers, alternating halves, tanh hidden 16, zero-initialised) on both sides and a full
  Gaussian latent, trained by maximum likelihood (Adam, lr 3e-3, 20,000 steps of 256): a flow that
  can represent f_X⁻¹ × f_Y⁻¹ exactly.

    nice -n 10 python benchmarks/coupling_oracles.py --out results/coupling_oracles
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch
from torch import Tensor, nn

from infobound.estimate.flow import gaussian_mi
from infobound.results import print_table, write_json
from infobound.tasks.bmi_v1 import high_mi_tasks

N_SAMPLES, N_TEST = 5000, 750


def regression_mi(inputs: Tensor, target: Tensor, steps: int = 3000, hidden: int = 256) -> float:
    """Gaussian MI between ``target`` and an MLP's prediction from ``inputs``: ½ log det Cov(t) / Cov(t − m(x))."""
    n_train = len(inputs) - N_TEST
    mean, std = inputs[:n_train].mean(0), inputs[:n_train].std(0)
    inputs = (inputs - mean) / std
    net = nn.Sequential(nn.Linear(inputs.shape[1], hidden), nn.SiLU(), nn.Linear(hidden, hidden), nn.SiLU(),
                        nn.Linear(hidden, target.shape[1]))
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    for _ in range(steps):
        idx = torch.randint(0, n_train, (256,))
        loss = ((net(inputs[idx]) - target[idx]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    with torch.no_grad():
        residual = target[n_train:] - net(inputs[n_train:])
    return 0.5 * float(torch.logdet(torch.cov(target[n_train:].T).double()) - torch.logdet(torch.cov(residual.T).double()))


class NiceInverse(nn.Module):
    """The inverse of a NICE flow of the task's family: subtract tanh-MLP shifts of alternating halves."""

    def __init__(self, dim: int, layers: int = 4, hidden: int = 16) -> None:
        super().__init__()
        half = dim // 2
        self.splits = []
        self.shifts = nn.ModuleList()
        for k in range(layers):
            a_idx = list(range(half)) if k % 2 == 0 else list(range(half, dim))
            self.splits.append((a_idx, [i for i in range(dim) if i not in a_idx]))
            net = nn.Sequential(nn.Linear(len(a_idx), hidden), nn.Tanh(), nn.Linear(hidden, dim - len(a_idx)))
            nn.init.zeros_(net[2].weight)
            nn.init.zeros_(net[2].bias)
            self.shifts.append(net)

    def forward(self, v: Tensor) -> Tensor:
        out = v
        for (a_idx, b_idx), net in zip(reversed(self.splits), reversed(self.shifts)):
            out = out.clone()
            out[:, b_idx] = out[:, b_idx] - net(out[:, a_idx])
        return out


def own_family_mienf(x: Tensor, y: Tensor, steps: int = 20000, lr: float = 3e-3) -> float:
    """MIENF with NICE flows of the task's own family; Gaussian MI of the held-out latents."""
    n_train, dim = len(x) - N_TEST, x.shape[1]
    gx, gy = NiceInverse(dim), NiceInverse(dim)
    joint = torch.cat([x[:n_train], y[:n_train]], 1)
    mean = nn.Parameter(joint.mean(0))
    scale = nn.Parameter(torch.linalg.cholesky(torch.cov(joint.T)))
    opt = torch.optim.Adam([*gx.parameters(), *gy.parameters(), mean, scale], lr)
    for _ in range(steps):
        idx = torch.randint(0, n_train, (256,))
        z = torch.cat([gx(x[idx]), gy(y[idx])], 1)
        # volume preserving on both sides: the log-likelihood has no Jacobian term
        nll = -torch.distributions.MultivariateNormal(mean, scale_tril=torch.tril(scale)).log_prob(z).mean()
        opt.zero_grad()
        nll.backward()
        opt.step()
    with torch.no_grad():
        return gaussian_mi(torch.cov(torch.cat([gx(x[n_train:]), gy(y[n_train:])], 1).T), dim)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/coupling_oracles"))
    parser.add_argument("--levels", type=float, nargs="+", default=[5.0, 10.0])
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = []
    for mi in args.levels:
        task = high_mi_tasks((mi,))[f"coupling-gaussian-5x5-{mi:g}nats"]
        x, y = task.sample(N_SAMPLES, seed=0)
        zx, zy = task.transform_x.inverse(x), task.transform_y.inverse(y)
        for name, run in (("oracle both", lambda: regression_mi(zx, zy)),
                          ("oracle Y-bijection", lambda: regression_mi(x, zy)),
                          ("task's own flow family", lambda: own_family_mienf(x, y))):
            torch.manual_seed(0)
            start = time.process_time()
            estimate = run()
            rows.append({"task": task.name, "truth": mi, "reader": name, "estimate": estimate,
                         "cpu_s": time.process_time() - start})
            print_table(rows[-1:], precision=2)
    print_table(rows, precision=2)
    write_json(args.out / "results.json", rows)


if __name__ == "__main__":
    main()
