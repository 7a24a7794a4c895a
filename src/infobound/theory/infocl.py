r"""InfoCL's Theorem 1 (Wang, Guo, Deng & Lu, CVPR 2022), checked exactly on discrete variables.

Contrastive learning between views v1 and v2 approximately yields the *minimal sufficient
representation* z1 of v1: sufficient, I(z1; v2) = I(v1; v2), and minimal, the least I(z1; v1)
among sufficient representations. Theorem 1 says such a representation loses exactly the task
information that is not shared with the other view:

.. math::
    I(v_1; T) - I(z_1^{min}; T) = I(v_1; T \mid v_2).

For a deterministic z1 = f(v1), the minimal sufficient representation is the minimal sufficient
statistic of v1 for v2: v1 values with the same conditional law p(v2 | v1) are merged
(:func:`minimal_sufficient_representation`). For any sufficient z = f(v1) the chain rule gives the
general identity (used by :func:`theorem1`)

.. math::
    I(v_1; T) - I(z; T) = I(v_1; T \mid v_2) - I(z; T \mid v_2) - I(v_1; v_2 \mid T, z),

so Theorem 1 holds exactly when both correction terms vanish. They do in the setting the paper
draws (its information diagrams): the views share a common part S and have private parts,
v1 = (S, N1), v2 = (S, N2), and the task does not couple the two private parts
(:func:`shared_private_example`). They do not when the task is synergistic across the views, e.g.
T = N1 xor N2, where I(v1; T | v2) = log 2 but nothing is lost (:func:`synergy_counterexample`):
the theorem's "exactly" relies on the information-diagram picture.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product
from typing import Iterator, Sequence

from .information import Joint


def minimal_sufficient_representation(joint: Joint, view: str = "v1", other: str = "v2", name: str = "z1",
                                      decimals: int = 12) -> Joint:
    """Add ``name`` = the minimal sufficient statistic of ``view`` for ``other``.

    Two values of ``view`` get the same representation iff their conditional laws p(other | view)
    agree (to ``decimals`` places). The result is sufficient (I(z; other) = I(view; other)) and a
    function of every other sufficient statistic, hence of least entropy among them.
    """
    cond = joint.conditional([other], [view])
    keys: dict[tuple, int] = {}
    label: dict[object, int] = {}
    for (value,), law in sorted(cond.items(), key=lambda kv: repr(kv[0])):
        key = tuple(sorted((repr(k), round(p, decimals)) for k, p in law.items()))
        label[value] = keys.setdefault(key, len(keys))
    return joint.with_variable(name, lambda v: label[v], [view])


@dataclass(frozen=True)
class Theorem1Check:
    """Every quantity of Theorem 1 for one joint distribution (nats).

    Attributes:
        task_info_view: I(v1; T).
        task_info_rep: I(z1; T) of the minimal sufficient representation.
        lost: I(v1; T) − I(z1; T).
        nonshared_task_info: I(v1; T | v2), the theorem's prediction of ``lost``.
        sufficiency_gap: I(v1; v2) − I(z1; v2) (0: z1 is sufficient).
        nonshared_in_rep: I(z1; v1 | v2) (0: z1 holds only shared information).
        correction_rep: I(z1; T | v2).
        correction_synergy: I(v1; v2 | T, z1).
    """

    task_info_view: float
    task_info_rep: float
    lost: float
    nonshared_task_info: float
    sufficiency_gap: float
    nonshared_in_rep: float
    correction_rep: float
    correction_synergy: float

    @property
    def holds(self) -> bool:
        """True when the loss equals I(v1; T | v2) to 1e-10 nats."""
        return abs(self.lost - self.nonshared_task_info) < 1e-10


def theorem1(joint: Joint, v1: str = "v1", v2: str = "v2", task: str = "T") -> Theorem1Check:
    """Compute Theorem 1's two sides (and the general identity's corrections) exactly."""
    j = minimal_sufficient_representation(joint, v1, v2, name="_z1")
    mi = j.mutual_information
    return Theorem1Check(
        task_info_view=mi([v1], [task]),
        task_info_rep=mi(["_z1"], [task]),
        lost=mi([v1], [task]) - mi(["_z1"], [task]),
        nonshared_task_info=mi([v1], [task], given=[v2]),
        sufficiency_gap=mi([v1], [v2]) - mi(["_z1"], [v2]),
        nonshared_in_rep=mi(["_z1"], [v1], given=[v2]),
        correction_rep=mi(["_z1"], [task], given=[v2]),
        correction_synergy=mi([v1], [v2], given=[task, "_z1"]),
    )


def _uniform(values: Sequence[int]) -> dict[int, float]:
    return {v: 1.0 / len(values) for v in values}


def shared_private_example(shared: int = 4, private: int = 2, flip: float = 0.1) -> Joint:
    """Views with a common part: v1 = (S, N1), v2 = (S, N2); the task reads both S and N1.

    S is uniform on ``shared`` values, N1 and N2 uniform on ``private`` values, all independent;
    the label is T = (S mod 2, N1 with probability 1 − ``flip``, else another value of N1's range).
    The minimal sufficient representation of v1 for v2 is S, so the non-shared, task-relevant part
    N1 is lost: I(v1; T) − I(S; T) = I(v1; T | v2) = I(N1; T | S).
    """
    if not 0.0 <= flip < 1.0:
        raise ValueError(f"`flip` must be in [0, 1), got {flip}")
    table = {}
    for s, n1, n2, t_n in product(range(shared), range(private), range(private), range(private)):
        p_t = (1.0 - flip) if t_n == n1 else flip / (private - 1)
        p = (1.0 / shared) * (1.0 / private) ** 2 * p_t
        if p > 0:
            key = ((s, n1), (s, n2), (s % 2, t_n))
            table[key] = table.get(key, 0.0) + p
    return Joint(("v1", "v2", "T"), table)


def synergy_counterexample() -> Joint:
    """v1 = (S, N1), v2 = (S, N2) as above with T = N1 xor N2: I(v1; T | v2) = log 2, yet nothing is lost."""
    j = Joint.independent(s=_uniform(range(2)), n1=_uniform(range(2)), n2=_uniform(range(2)))
    table = {((s, n1), (s, n2), n1 ^ n2): p for (s, n1, n2), p in j.table.items()}
    return Joint(("v1", "v2", "T"), table)


def set_partitions(items: Sequence[object]) -> Iterator[list[list[object]]]:
    """Every partition of ``items`` into non-empty blocks (Bell-number many; for tiny alphabets)."""
    items = list(items)
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in set_partitions(rest):
        for i in range(len(part)):
            yield part[:i] + [[first] + part[i]] + part[i + 1:]
        yield [[first]] + part


def least_sufficient_entropy(joint: Joint, view: str = "v1", other: str = "v2") -> float:
    """min H(f(view)) over every deterministic f with I(f(view); other) = I(view; other), by brute force."""
    values = sorted({v for (v,) in joint.marginal([view])}, key=repr)
    target = joint.mutual_information([view], [other])
    best = math.inf
    for part in set_partitions(values):
        block = {v: b for b, blk in enumerate(part) for v in blk}
        j = joint.with_variable("_f", lambda v: block[v], [view])
        if abs(j.mutual_information(["_f"], [other]) - target) < 1e-10:
            best = min(best, j.entropy(["_f"]))
    return best


__all__ = ["Theorem1Check", "least_sufficient_entropy", "minimal_sufficient_representation", "set_partitions",
           "shared_private_example", "synergy_counterexample", "theorem1"]
