"""Event logs simulated from a declared journey: customers who do what it says.

A case starts at an entry drawn as :func:`journeymap.analysis.entry_weights`
spreads customers, then at each touchpoint follows a transition with its
derived probability (:meth:`Touchpoint.shares`) or leaves with the drop-off (a
dead end ends it); reaching an outcome ends it with an event of the outcome.
Each step is an event whose time is the previous one's plus the transition's
wait (``default_wait`` where none is declared). Plain Python and a seeded
``random.Random``: the same seed gives the same log.
"""

from __future__ import annotations

import csv
import itertools
import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from journeymap.analysis import entry_weights
from journeymap.graph import flow
from journeymap.model import Journey, Outcome, Touchpoint, Transition

#: A simulated case: its nodes in order, with the seconds since the case started.
Path_ = list[tuple[str, float]]

START = datetime(2024, 1, 1)


def simulate(
    journey: Journey,
    cases: int,
    seed: int,
    *,
    default_wait: float = 3600.0,
    max_steps: int = 500,
) -> list[Path_]:
    """``cases`` walks through ``journey``; each a list of (node id, seconds)."""
    rng = random.Random(seed)
    f = flow(journey)
    weights = entry_weights(journey, f)
    entries = [i for i in journey.entry_ids if weights[f.index[i]] > 0]
    chances = [float(weights[f.index[i]]) for i in entries]
    nodes = journey.nodes
    walks: list[Path_] = []
    for _ in range(cases):
        at = rng.choices(entries, chances)[0]
        t = 0.0
        walk: Path_ = [(at, t)]
        for _ in range(max_steps):
            node = nodes[at]
            if isinstance(node, Outcome) or not node.next:
                break
            step = _pick(node, rng.random())
            if step is None:  # the drop-off
                break
            at = step.to
            t += step.wait_seconds if step.wait_seconds is not None else default_wait
            walk.append((at, t))
        walks.append(walk)
    return walks


def _pick(tp: Touchpoint, r: float) -> Transition | None:
    shares, _ = tp.shares()
    total = 0.0
    for t, p in zip(tp.next, shares, strict=True):
        total += p
        if r < total:
            return t
    return None


def write_csv(
    path: Path,
    walks: list[Path_],
    name: Callable[[str], str],
    *,
    seed: int = 0,
    extra: dict[int, list[tuple[str, float]]] | None = None,
) -> Path:
    """The walks as a CSV log (case_id, activity, timestamp), rows shuffled.

    ``name`` gives each node's activity name; ``extra`` adds events (activity,
    seconds) to cases by index. Case i starts i minutes after :data:`START`.
    """
    rows = []
    for i, walk in enumerate(walks):
        begin = START + timedelta(minutes=i)
        events = [(name(node), t) for node, t in walk] + list((extra or {}).get(i, []))
        for activity, t in events:
            stamp = (begin + timedelta(seconds=t)).isoformat(sep=" ")
            rows.append((f"case-{i}", activity, stamp))
    random.Random(seed).shuffle(rows)
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["case_id", "activity", "timestamp"])
        out.writerows(rows)
    return path


def tally(walks: list[Path_]) -> tuple[Counter[str], Counter[tuple[str, str]], Counter[str]]:
    """Events per node, pairs and ends of the walks, counted in plain Python."""
    events: Counter[str] = Counter()
    pairs: Counter[tuple[str, str]] = Counter()
    ends: Counter[str] = Counter()
    for walk in walks:
        ids = [node for node, _ in walk]
        events.update(ids)
        pairs.update(itertools.pairwise(ids))
        ends[ids[-1]] += 1
    return events, pairs, ends
