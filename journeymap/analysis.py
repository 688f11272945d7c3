"""Where customers get lost: the structural analysis of a journey.

The definitions are the README's "Meaning" section, word for word; tests check
each against values worked out by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .graph import Flow, Solution, flow
from .model import Journey

__all__ = ["Analysis", "analyze"]


@dataclass(frozen=True)
class Analysis:
    """The analysis of one journey; :meth:`to_dict` is the stable JSON form."""

    journey: str
    title: str
    entries: list[str]
    dead_ends: list[str]
    unreachable: list[str]
    traps: list[str]
    loops: list[list[str]]
    drop_off: dict[str, float]
    success_probability: dict[str, float]
    flow: Flow = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "journey": self.journey,
            "title": self.title,
            "entries": self.entries,
            "dead_ends": self.dead_ends,
            "unreachable": self.unreachable,
            "traps": self.traps,
            "loops": self.loops,
            "drop_off": self.drop_off,
            "success_probability": self.success_probability,
        }


def _clean(p: float) -> float:
    """Round away float noise (0.30000000000000004) so JSON and tables read well."""
    return float(round(p, 12)) + 0.0


def success_probability(f: Flow) -> np.ndarray:
    """Per node, the probability of ending in a success outcome from there."""
    return Solution.of(f.chain).solve(f.success.astype(np.float64))


def analyze(journey: Journey) -> Analysis:
    f = flow(journey)
    ids = np.asarray(f.ids, dtype=object)
    t = f.n_touchpoints
    is_tp = np.arange(f.n) < t

    dead = is_tp & (f.out_degree == 0)
    reached = f.reachable(f.entries)
    can_succeed = f.reachable(np.flatnonzero(f.success), reverse=True)
    traps = is_tp & reached & ~can_succeed

    count, labels = f.components
    sizes = np.bincount(labels, minlength=count)
    self_loop = np.zeros(f.n, dtype=bool)
    self_loop[f.src[f.src == f.dst]] = True
    in_loop = (sizes[labels] > 1) | self_loop
    groups: dict[int, list[str]] = {}
    for i in np.flatnonzero(in_loop):
        groups.setdefault(int(labels[i]), []).append(f.ids[i])
    loops = sorted(sorted(g) for g in groups.values())

    x = success_probability(f)
    return Analysis(
        journey=journey.journey,
        title=journey.title,
        entries=sorted(journey.entry_ids),
        dead_ends=sorted(ids[dead]),
        unreachable=sorted(ids[~reached]),
        traps=sorted(ids[traps]),
        loops=loops,
        drop_off={
            f.ids[i]: _clean(f.drop[i])
            for i in sorted(np.flatnonzero(f.drop > 0), key=lambda i: f.ids[i])
        },
        success_probability={e: _clean(x[f.index[e]]) for e in sorted(journey.entry_ids)},
        flow=f,
    )
