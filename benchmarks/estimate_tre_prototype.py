"""Exploration prototype: telescoping density-ratio estimation (TRE) for MI on the high-MI tasks.

Not part of the package (docs/estimate.md, "Is the high-MI gap a matter of sample size?", reports
what it measured). TRE (Rhodes, Xu & Gutmann, NeurIPS 2020) writes log p(x,y)/p(x)p(y) as a sum of
K ratios between waymark distributions p_k of (x, y_k), y_k = cos θ_k · y + sin θ_k · y' (y' a
derangement of the batch's y, θ_k = k π / 2K, so p_0 is the joint and p_K the product of marginals);
head k of one MLP on [x, y, x², y²] (2 × 256 ReLU) is a logistic classifier of p_k against p_{k+1}
on coupled samples, its logit the log-ratio. The estimate is the test-row mean of the sum of the K
logits at the original pairs. K = 1 is a plain logistic (GAN-DIME) critic with the same network.
Same split and rank standardisation as ``estimate_mi``; task draws as ``bench suite``'s.

    nice -n 10 python benchmarks/estimate_tre_prototype.py coupling-gaussian-5x5-5nats,spiral-x-gaussian-5x5-5nats,coupling-gaussian-5x5-10nats 1,5,10
"""
import sys, time, math, json, torch
from torch import nn
import torch.nn.functional as F
torch.set_num_threads(1)
from infobound.tasks import task_suite
from infobound.estimate.inputs import split_and_standardise, as_pair
from infobound.estimate.dime import random_derangement
from infobound.estimate.nonparametric import gcmi

def run(name, K=5, steps=4000, batch=256, hidden=256, lr=1e-3, seed=0, N=5000):
    task = task_suite("accuracy")[name]
    x, y = task.sample(N, seed=10_000 + seed)
    x, y = as_pair(x, y)
    g = torch.Generator().manual_seed(seed)
    n = x.shape[0]; ntr = int(0.7 * n); nval = int(0.15 * n)
    (xtr, ytr), (xv, yv), (xte, yte) = split_and_standardise(x, y, (ntr, nval), g)
    dx, dy = x.shape[1], y.shape[1]
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(2 * (dx + dy), hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, K))
    theta = torch.linspace(0, math.pi / 2, K + 1)
    c, s = torch.cos(theta), torch.sin(theta)
    def logits(a, b):
        return net(torch.cat([a, b, a * a, b * b], 1))
    def loss_on(a, b, perm):
        b2 = b[perm]
        yk = c.view(-1, 1, 1) * b.unsqueeze(0) + s.view(-1, 1, 1) * b2.unsqueeze(0)  # [K+1, B, dy]
        total = 0.0
        for k in range(K):
            pos = logits(a, yk[k])[:, k]; neg = logits(a, yk[k + 1])[:, k]
            total = total + F.softplus(-pos).mean() + F.softplus(neg).mean()
        return total
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    vperm = random_derangement(xv.shape[0], g)
    best, best_state, bad, t0 = float("inf"), None, 0, time.process_time()
    for step in range(1, steps + 1):
        idx = torch.randint(0, ntr, (batch,), generator=g)
        l = loss_on(xtr[idx], ytr[idx], random_derangement(batch, g))
        opt.zero_grad(); l.backward(); opt.step()
        if step % 100 == 0:
            with torch.no_grad():
                lv = float(loss_on(xv, yv, vperm))
            if lv < best - 1e-4:
                best, best_state, bad = lv, {k: v.clone() for k, v in net.state_dict().items()}, 0
            else:
                bad += 1
                if bad >= 8:
                    break
    net.load_state_dict(best_state)
    with torch.no_grad():
        est = float(logits(xte, yte).sum(1).mean())
    return {"task": name, "truth": round(task.mutual_information, 3), "K": K, "est": round(est, 3), "gcmi": round(gcmi(x.numpy(), y.numpy()).value, 3), "steps": step, "cpu": round(time.process_time() - t0, 1)}

if __name__ == "__main__":
    names = sys.argv[1].split(",")
    Ks = [int(k) for k in sys.argv[2].split(",")]
    rows = []
    for name in names:
        for K in Ks:
            rows.append(run(name, K=K))
            print(json.dumps(rows[-1]), flush=True)
    from pathlib import Path
    from infobound.results import print_table, write_json
    print_table(rows, ["task", "truth", "gcmi", "K", "est", "steps", "cpu"])
    write_json(Path("results/estimate_tre_prototype.json"), rows)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from infobound.results import save_figure

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for i, K in enumerate(Ks):
        sel = [r for r in rows if r["K"] == K]
        ax.bar([j + 0.8 * i / len(Ks) for j in range(len(sel))], [r["est"] - r["truth"] for r in sel],
               width=0.8 / len(Ks), label=f"K = {K}")
    ax.set_xticks(range(len(names)), [n.replace("-gaussian-5x5", "") for n in names], fontsize=7)
    ax.set(ylabel="estimate − truth (nats)", title="TRE prototype: waymarks K")
    ax.legend()
    save_figure(fig, Path("results/estimate_tre_prototype.png"))
