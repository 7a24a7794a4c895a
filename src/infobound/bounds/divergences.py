r"""f-divergences in the log-ratio parametrisation used by f-MICL (Lu et al., TMLR 2023).

A variational f-divergence bound reads ``sup_T E_p[T] − E_q[f*(T)]`` and is tight at
T* = f'(p/q). We parametrise T = f'(u) with u = e^v, v a log-critic value (a score), so every
score maps into the domain of f* automatically and the optimum is v* = log p/q for *every* f.
The two terms then only need ``f'(u)`` and the composition ``f*(f'(u)) = u f'(u) − f(u)``,
which we write in closed form in terms of v for numerical stability (f-MICL, Table 1; the
paper's printed VLC composition ``3 − 4/(u+1)`` is wrong, the correct one is used here).

Each generator is normalised so that f(1) = 0, hence the divergence is 0 when p = q.

Reverse KL, Neyman χ² and Jeffrey are the paper's examples of generators outside its assumptions
(all three have f(u) → ∞ as u → 0); with the f-Gaussian similarity their negative term does not
single out the uniform distribution on the sphere (see docs/losses.md, "f-MICL: uniformity").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class FDivergence:
    """One f-divergence, expressed through the log-ratio v = log u.

    Attributes:
        name: registry name.
        f: the generator f(u) as a function of v (f(1) = 0).
        f_prime: T(v) = f'(e^v), the critic output used on positive pairs.
        conjugate_of_f_prime: f*(f'(e^v)) = u f'(u) − f(u), used on negative pairs.
        description: a one-line formula, for docs and CLI help.
    """

    name: str
    f: Callable[[Tensor], Tensor]
    f_prime: Callable[[Tensor], Tensor]
    conjugate_of_f_prime: Callable[[Tensor], Tensor]
    description: str


_LOG2 = math.log(2.0)


def _tsallis(a: float) -> FDivergence:
    if a <= 0 or a == 1:
        raise ValueError(f"Tsallis order `a` must be > 0 and != 1, got {a}")
    return FDivergence(
        name="tsallis",
        f=lambda v: (torch.exp(a * v) - 1.0) / (a - 1.0),
        f_prime=lambda v: a * torch.exp((a - 1.0) * v) / (a - 1.0),
        # u f'(u) − f(u) = u^a + 1/(a − 1)
        conjugate_of_f_prime=lambda v: torch.exp(a * v) + 1.0 / (a - 1.0),
        description=f"Tsallis-{a:g}: f(u) = (u^a − 1)/(a − 1)",
    )


DIVERGENCES: dict[str, FDivergence] = {
    "kl": FDivergence(
        "kl",
        f=lambda v: v * torch.exp(v),
        f_prime=lambda v: v + 1.0,
        conjugate_of_f_prime=torch.exp,
        description="KL: f(u) = u log u",
    ),
    "js": FDivergence(
        "js",
        # u log u − (u+1) log((1+u)/2), written with softplus(v) = log(1 + u)
        f=lambda v: v * torch.exp(v) - (torch.exp(v) + 1.0) * (F.softplus(v) - _LOG2),
        f_prime=lambda v: _LOG2 - F.softplus(-v),
        conjugate_of_f_prime=lambda v: F.softplus(v) - _LOG2,
        description="Jensen–Shannon: f(u) = u log u − (u+1) log((1+u)/2)",
    ),
    "pearson": FDivergence(
        "pearson",
        f=lambda v: torch.expm1(v) ** 2,
        f_prime=lambda v: 2.0 * torch.expm1(v),
        conjugate_of_f_prime=lambda v: torch.expm1(2.0 * v),
        description="Pearson χ²: f(u) = (u − 1)²",
    ),
    "sq_hellinger": FDivergence(
        "sq_hellinger",
        f=lambda v: torch.expm1(0.5 * v) ** 2,
        f_prime=lambda v: -torch.expm1(-0.5 * v),
        conjugate_of_f_prime=lambda v: torch.expm1(0.5 * v),
        description="squared Hellinger: f(u) = (√u − 1)²",
    ),
    "vlc": FDivergence(
        "vlc",
        # with σ = 1/(u+1) = sigmoid(−v): f = (u−1)²/(u+1), f' = 1 − 4σ², f*∘f' = (3 − 2σ)(1 − 2σ)
        f=lambda v: torch.expm1(v) ** 2 * torch.sigmoid(-v),
        f_prime=lambda v: 1.0 - 4.0 * torch.sigmoid(-v) ** 2,
        conjugate_of_f_prime=lambda v: (3.0 - 2.0 * torch.sigmoid(-v)) * (1.0 - 2.0 * torch.sigmoid(-v)),
        description="Vincze–Le Cam: f(u) = (u − 1)²/(u + 1)",
    ),
    "reverse_kl": FDivergence(
        "reverse_kl",
        f=lambda v: -v,
        f_prime=lambda v: -torch.exp(-v),
        conjugate_of_f_prime=lambda v: v - 1.0,  # u·(−1/u) − (−log u) = log u − 1
        description="reverse KL: f(u) = −log u",
    ),
    "neyman": FDivergence(
        "neyman",
        f=lambda v: torch.expm1(-v) ** 2 * torch.exp(v),  # (1 − u)²/u
        f_prime=lambda v: -torch.expm1(-2.0 * v),  # 1 − 1/u²
        conjugate_of_f_prime=lambda v: -2.0 * torch.expm1(-v),  # 2 − 2/u
        description="Neyman χ²: f(u) = (1 − u)²/u",
    ),
    "jeffrey": FDivergence(
        "jeffrey",
        f=lambda v: torch.expm1(v) * v,  # (u − 1) log u
        f_prime=lambda v: v - torch.expm1(-v),  # log u + 1 − 1/u
        conjugate_of_f_prime=lambda v: v + torch.expm1(v),  # log u + u − 1
        description="Jeffrey: f(u) = (u − 1) log u",
    ),
}


def get_divergence(name: str, **params: float) -> FDivergence:
    """Look up an f-divergence by name; ``tsallis`` takes its order ``a`` (default 2)."""
    key = name.lower().replace("-", "_")
    aliases = {"hellinger": "sq_hellinger", "squared_hellinger": "sq_hellinger", "chi2": "pearson",
               "rkl": "reverse_kl", "neyman_chi2": "neyman", "jeffreys": "jeffrey"}
    key = aliases.get(key, key)
    if key == "tsallis":
        return _tsallis(float(params.get("a", 2.0)))
    if params:
        raise ValueError(f"divergence {name!r} takes no parameters, got {sorted(params)}")
    if key not in DIVERGENCES:
        raise ValueError(f"unknown `divergence` {name!r}; expected one of {sorted([*DIVERGENCES, 'tsallis'])}")
    return DIVERGENCES[key]


def available_divergences() -> list[str]:
    return sorted([*DIVERGENCES, "tsallis"])
