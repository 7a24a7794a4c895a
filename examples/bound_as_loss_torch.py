"""A bound as the loss of your own PyTorch training loop, with your own encoder and augmentation.

Two noisy views of each input go through one encoder; ML-CPC on the pair of embeddings is the
loss, and ``out.mi_lower_bound`` is the lower bound on I(z1; z2) in nats that it implies on the
batch (never above ``out.ceiling`` = log(n/α)). Any bound of ``infobound.bounds`` works the same
way on a score matrix: see the end of the script.

    python examples/bound_as_loss_torch.py          # INFOBOUND_EXAMPLE_TINY=1: a few steps
"""

import os

import torch
from torch import nn

from infobound import bounds
from infobound.losses import build_objective

TINY = os.environ.get("INFOBOUND_EXAMPLE_TINY") == "1"
torch.manual_seed(0)

# Your data and your encoder (anything that maps a batch to [n, d] embeddings).
data = torch.randn(2048, 32)
encoder = nn.Sequential(nn.Linear(32, 128), nn.ReLU(), nn.Linear(128, 64))


def augment(x: torch.Tensor) -> torch.Tensor:
    """Your augmentation: here Gaussian noise and random masking of 10% of the coordinates."""
    return (x + 0.3 * torch.randn_like(x)) * (torch.rand_like(x) > 0.1)


# ML-CPC (Song & Ermon 2020) with a geometric α schedule 10 → 0.1 over training; also "infonce",
# "fmicl" (divergence="js", ...), "au".
objective = build_objective("ml_cpc", alpha=(10.0, 0.1), temperature=0.1)
optimiser = torch.optim.Adam(encoder.parameters(), lr=1e-3)
steps, batch = (5, 64) if TINY else (300, 256)

for step in range(steps):
    x = data[torch.randint(len(data), (batch,))]
    out = objective(encoder(augment(x)), encoder(augment(x)), progress=step / steps)  # progress drives α
    optimiser.zero_grad()
    out.loss.backward()
    optimiser.step()
    if step % max(1, steps // 5) == 0 or step == steps - 1:
        print(f"step {step:4d}  loss {out.loss.item():.3f}  MI ≥ {out.mi_lower_bound.item():.3f} nats "
              f"(ceiling {out.ceiling:.2f})")

# The bounds themselves are pure functions of a score matrix scores[i, j] = f(x_i, y_j), positives on
# the diagonal: build the matrix however you like (here cosine similarity / τ) and read the bound in nats.
with torch.no_grad():
    z1 = nn.functional.normalize(encoder(augment(data[:batch])), dim=1)
    z2 = nn.functional.normalize(encoder(augment(data[:batch])), dim=1)
    scores = z1 @ z2.T / 0.1
    print(f"InfoNCE {bounds.infonce(scores).item():.3f} nats (≤ log n = {torch.tensor(batch).log().item():.2f}), "
          f"ML-CPC α=0.1 {bounds.ml_cpc(scores, alpha=0.1).item():.3f} nats")
