"""Exact information measures of small discrete joint distributions (nats, float64).

A :class:`Joint` is a probability table over named variables: ``{outcome tuple: probability}``.
Entropies, (conditional) mutual information and deterministic functions of variables are computed
exactly from the table — no sampling — so identities can be checked to rounding error.

Example:
    >>> j = Joint.independent(a={0: 0.5, 1: 0.5}, b={0: 0.5, 1: 0.5})
    >>> j = j.with_variable("c", lambda a, b: a ^ b, ("a", "b"))
    >>> round(j.mutual_information(("a",), ("c",)), 12), round(j.mutual_information(("a",), ("c",), given=("b",)), 6)
    (0.0, 0.693147)
"""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Callable, Iterable, Mapping, Sequence


class Joint:
    """A finite joint distribution over named discrete variables.

    Args:
        names: variable names, one per position of the outcome tuples.
        table: ``{outcome: probability}``; probabilities must be ≥ 0 and sum to 1 (±1e-9).
    """

    def __init__(self, names: Sequence[str], table: Mapping[tuple, float]) -> None:
        self.names = tuple(names)
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"variable names must be distinct, got {self.names}")
        clean: dict[tuple, float] = defaultdict(float)
        for outcome, p in table.items():
            outcome = tuple(outcome)
            if len(outcome) != len(self.names):
                raise ValueError(f"outcome {outcome} does not have one value per variable {self.names}")
            if p < 0 or not math.isfinite(p):
                raise ValueError(f"probability of {outcome} must be finite and >= 0, got {p}")
            if p > 0:
                clean[outcome] += float(p)
        total = sum(clean.values())
        if abs(total - 1.0) > 1e-9:
            raise ValueError(f"probabilities must sum to 1, got {total}")
        self.table = dict(clean)

    @classmethod
    def independent(cls, **marginals: Mapping[Any, float]) -> "Joint":
        """Independent variables from their marginals: ``Joint.independent(s={0: .5, 1: .5}, n={...})``."""
        names = tuple(marginals)
        table: dict[tuple, float] = {(): 1.0}
        for name in names:
            table = {o + (v,): p * q for o, p in table.items() for v, q in marginals[name].items()}
        return cls(names, table)

    def _index(self, names: Iterable[str]) -> list[int]:
        idx = []
        for n in names:
            if n not in self.names:
                raise ValueError(f"unknown variable {n!r}; the joint has {self.names}")
            idx.append(self.names.index(n))
        return idx

    def marginal(self, names: Sequence[str]) -> dict[tuple, float]:
        """The marginal table of ``names`` (in that order)."""
        idx = self._index(names)
        out: dict[tuple, float] = defaultdict(float)
        for outcome, p in self.table.items():
            out[tuple(outcome[i] for i in idx)] += p
        return dict(out)

    def entropy(self, names: Sequence[str]) -> float:
        """H(names) in nats (0 for the empty set)."""
        if not names:
            return 0.0
        return -sum(p * math.log(p) for p in self.marginal(names).values() if p > 0)

    def mutual_information(self, a: Sequence[str], b: Sequence[str], given: Sequence[str] = ()) -> float:
        """I(a; b | given) = H(a, g) + H(b, g) − H(a, b, g) − H(g), in nats."""
        a, b, g = tuple(a), tuple(b), tuple(given)
        ag, bg = tuple(dict.fromkeys(a + g)), tuple(dict.fromkeys(b + g))
        abg = tuple(dict.fromkeys(a + b + g))
        return self.entropy(ag) + self.entropy(bg) - self.entropy(abg) - self.entropy(g)

    def with_variable(self, name: str, fn: Callable[..., Any], inputs: Sequence[str]) -> "Joint":
        """The joint with a new variable ``name = fn(*inputs)`` (a deterministic function)."""
        if name in self.names:
            raise ValueError(f"variable {name!r} already exists")
        idx = self._index(inputs)
        table = {o + (fn(*(o[i] for i in idx)),): p for o, p in self.table.items()}
        return Joint(self.names + (name,), table)

    def conditional(self, target: Sequence[str], given: Sequence[str]) -> dict[tuple, dict[tuple, float]]:
        """p(target | given) as ``{given value: {target value: probability}}``."""
        gi, ti = self._index(given), self._index(target)
        joint: dict[tuple, dict[tuple, float]] = defaultdict(lambda: defaultdict(float))
        for outcome, p in self.table.items():
            joint[tuple(outcome[i] for i in gi)][tuple(outcome[i] for i in ti)] += p
        out = {}
        for g, row in joint.items():
            total = sum(row.values())
            out[g] = {t: p / total for t, p in row.items()}
        return out


__all__ = ["Joint"]
