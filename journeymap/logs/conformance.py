"""A declared journey checked against an event log: where customers leave the map.

A declared journey says where customers go and how many; a log says where they
went. :func:`compare` reads the log through the same SQL as ``discover`` (each
case ordered by ``(ts, seq)``, ignored activities dropped first, a path ending
at its first outcome) and counts, per node of the journey, what the log shows.

The definitions, decided once (the README repeats them):

- **Which node an activity is.** Ignored activities (the mapping's ``ignore``)
  are dropped before anything else. For any other activity of the log, the
  first that applies: the id the mapping gives it (``touchpoints: {activity:
  {id: x}}`` or ``outcomes: {activity: {id: x}}``) when the journey has a node
  of that id; the touchpoint or outcome whose id, then whose title, equals the
  activity ignoring case and runs of spaces (the first in file order where
  titles repeat); for an activity the mapping names, the node whose id is the
  one ``discover`` gives it (the slug of its name) or whose title is the one
  the mapping gives it. An activity none of these finds is *unknown*.
- **Paths.** A case's path is its events in order; it ends at its first
  outcome: an activity the mapping makes an outcome, or one that is an outcome
  node of the journey (events after it are not part of the path, as in
  ``discover``). ``cases`` counts the cases with an event left on their path.
- **Fitness.** A case fits when its first node is one of the journey's entries
  (``Journey.entry_ids``) and each consecutive pair of its path is a declared
  transition: an unknown activity anywhere on the path makes it unfit, and so
  does a start elsewhere. Ending at a touchpoint is allowed (the drop-off says
  whether customers leave there). ``fitness`` = fitting cases / cases.
- **Shares.** Events at a node count every visit on a path, the last one
  included. The observed share of a declared transition a -> b is
  count(a -> b) / events at a; ``declared`` is the journey's derived
  probability (:meth:`Touchpoint.shares`, as every analysis uses it; repeated
  transitions to one node are added up). ``low`` and ``high`` are the 95%
  Wilson score interval of the observed share (z = 1.959963984540054), and
  ``outside`` says whether the declared value falls outside it. Transitions are
  listed when their source has events on some path.
- **Drop-off.** Observed: the share of the events at a touchpoint after which
  the case ends there. Declared: what the touchpoint's numbers leave (1 at a
  dead end, where the analysis loses everyone); listed for touchpoints with
  events.
- **Waits.** For each declared transition with a ``wait``: the declared seconds
  and the median seconds between the two events where the log has the pair
  (the median of an even count averages the two middle values), else null.
- **Undeclared and unknown.** ``observed_not_declared``: pairs of nodes that
  follow each other on a path but are no declared transition, most frequent
  first (pairs with an unknown activity are not transitions of the journey:
  they show under ``unknown_activities``, which counts every event of each
  unknown activity in the log, after outcomes included).

Every list is in a fixed order (the journey's order, or by count then ids), so
the same journey and log give the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import JourneyError
from ..model import Journey, Outcome, slug
from .mapping import Mapping

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

    from .readers import LogOptions

__all__ = [
    "Conformance",
    "Pair",
    "TransitionCheck",
    "WaitCheck",
    "compare",
    "conformance_table",
    "node_of_activities",
    "wilson",
]

#: The normal quantile of a two-sided 95% interval.
Z95 = 1.959963984540054


def wilson(count: int, total: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of ``count`` successes in ``total`` trials.

    Chosen over the plain normal interval because it stays inside [0, 1] and
    keeps its coverage for shares near 0 or 1 and small counts, which is where
    journeys live (a drop-off of 3% at a touchpoint seen 40 times). The bounds
    are exact at the ends: 0 successes give a low of 0, all give a high of 1.
    """
    if total <= 0:
        return 0.0, 1.0
    p = count / total
    z2 = z * z
    scale = 1.0 + z2 / total
    centre = (p + z2 / (2 * total)) / scale
    half = z / scale * math.sqrt(p * (1.0 - p) / total + z2 / (4 * total * total))
    low = 0.0 if count <= 0 else max(0.0, centre - half)
    high = 1.0 if count >= total else min(1.0, centre + half)
    return low, high


@dataclass(frozen=True)
class Pair:
    """Two nodes that follow each other on paths: how often, and the median time between."""

    src: str
    dst: str
    count: int
    median_wait_s: float | None


@dataclass(frozen=True)
class TransitionCheck:
    """A declared transition against the log."""

    src: str
    dst: str
    declared: float
    observed: float
    count: int
    low: float
    high: float

    @property
    def outside(self) -> bool:
        return self.declared < self.low or self.declared > self.high

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.src,
            "to": self.dst,
            "declared": self.declared,
            "observed": self.observed,
            "count": self.count,
            "low": self.low,
            "high": self.high,
            "outside": self.outside,
        }


@dataclass(frozen=True)
class WaitCheck:
    """A declared wait against the median the log shows."""

    src: str
    dst: str
    declared_s: float
    observed_median_s: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "from": self.src,
            "to": self.dst,
            "declared_s": self.declared_s,
            "observed_median_s": self.observed_median_s,
        }


@dataclass(frozen=True)
class Conformance:
    """What the log says of a declared journey.

    Beyond the JSON of :meth:`to_dict`, it keeps what a report needs to draw the
    observed journey: ``pairs`` (every observed pair of nodes, declared or not,
    with its count and median wait), ``events``, ``starts`` and ``ends`` per
    node, and ``activities`` (each log activity's node, None when unknown).
    """

    journey: str
    title: str
    cases: int
    fitting_cases: int
    transitions: list[TransitionCheck]
    drop_off: dict[str, tuple[float, float]]  # touchpoint -> (declared, observed)
    waits: list[WaitCheck]
    pairs: list[Pair]
    declared: list[tuple[str, str]]  # every declared transition, once, in the journey's order
    unknown_activities: list[tuple[str, int]]
    events: dict[str, int] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)
    ends: dict[str, int] = field(default_factory=dict)
    activities: dict[str, str | None] = field(default_factory=dict)

    @property
    def fitness(self) -> float:
        return self.fitting_cases / self.cases if self.cases else 0.0

    @property
    def observed_not_declared(self) -> list[Pair]:
        """Observed pairs the journey does not declare: most frequent first, then by ids."""
        known = set(self.declared)
        found = [p for p in self.pairs if (p.src, p.dst) not in known]
        return sorted(found, key=lambda p: (-p.count, p.src, p.dst))

    @property
    def declared_not_observed(self) -> list[tuple[str, str]]:
        seen = {(p.src, p.dst) for p in self.pairs}
        return [d for d in self.declared if d not in seen]

    def deviations(self) -> list[TransitionCheck]:
        """Declared values outside the observed interval, the largest difference first."""
        found = [t for t in self.transitions if t.outside]
        return sorted(found, key=lambda t: (-abs(t.declared - t.observed), t.src, t.dst))

    def to_dict(self) -> dict[str, Any]:
        """The stable JSON of ``journeymap compare --format json``."""
        return {
            "journey": self.journey,
            "cases": self.cases,
            "fitting_cases": self.fitting_cases,
            "fitness": self.fitness,
            "observed_not_declared": [
                {"from": p.src, "to": p.dst, "count": p.count} for p in self.observed_not_declared
            ],
            "declared_not_observed": [{"from": a, "to": b} for a, b in self.declared_not_observed],
            "transitions": [t.to_dict() for t in self.transitions],
            "drop_off": {
                tp: {"declared": declared, "observed": observed}
                for tp, (declared, observed) in self.drop_off.items()
            },
            "waits": [w.to_dict() for w in self.waits],
            "unknown_activities": [{"activity": a, "count": n} for a, n in self.unknown_activities],
        }


# --- which node an activity is --------------------------------------------------------


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def node_of_activities(
    journey: Journey, activities: Sequence[str], mapping: Mapping | None = None
) -> dict[str, str | None]:
    """Each log activity's node id (None: unknown); ignored activities are left out.

    The rules are the module's (mapping id, id, title, then discover's id or
    the mapping's title); a mapping naming an activity the log lacks is an
    error (:meth:`Mapping.resolve`), as in ``discover``.
    """
    from .discovery import activity_title

    mapping = mapping or Mapping()
    resolved = mapping.resolve(list(activities))
    nodes = journey.nodes
    by_id: dict[str, str] = {}
    by_title: dict[str, str] = {}
    for ident, each in nodes.items():
        by_id.setdefault(_fold(ident), ident)
        by_title.setdefault(_fold(each.title), ident)
    ignored = {resolved[a] for a in mapping.ignore}
    given_id: dict[str, str] = {}
    given_title: dict[str, str] = {}
    named: set[str] = set()
    for names in (mapping.stages, mapping.touchpoints, mapping.outcomes):
        named.update(resolved[a] for a in names)
    for a, fields in mapping.touchpoints.items():
        if fields.get("id"):
            given_id[resolved[a]] = str(fields["id"])
        if fields.get("title"):
            given_title[resolved[a]] = str(fields["title"])
    for a, spec in mapping.outcomes.items():
        if spec.id:
            given_id[resolved[a]] = spec.id
        if spec.title:
            given_title[resolved[a]] = spec.title
    found: dict[str, str | None] = {}
    for a in activities:
        if a in ignored:
            continue
        given = given_id.get(a)
        node: str | None = given if given in nodes else None
        node = node or by_id.get(_fold(a)) or by_title.get(_fold(a))
        if node is None and a in named:
            wanted = slug(activity_title(a))
            node = wanted if wanted in nodes else None
            if node is None and a in given_title:
                node = by_title.get(_fold(given_title[a]))
        found[a] = node
    return found


# --- the declared side ------------------------------------------------------------------


def _declared(journey: Journey) -> tuple[dict[tuple[str, str], float], dict[str, float]]:
    """Each declared transition's probability (repeats added up) and each drop-off."""
    from ..analysis import _clean

    probability: dict[tuple[str, str], float] = {}
    drop: dict[str, float] = {}
    for tp in journey.touchpoints:
        if tp.id in drop:  # a repeated id: the loader refuses it, a journey in memory may not
            continue
        shares, left = tp.shares()
        drop[tp.id] = _clean(left) if tp.next else 1.0
        for t, p in zip(tp.next, shares, strict=True):
            key = (tp.id, t.to)
            probability[key] = probability.get(key, 0.0) + p
    # Not rounded: for a journey discovered from the log, declared is observed exactly.
    return {k: min(1.0, p) for k, p in probability.items()}, drop


def _declared_waits(journey: Journey) -> dict[tuple[str, str], float]:
    """The first declared wait of each transition that has one."""
    found: dict[tuple[str, str], float] = {}
    for tp in journey.touchpoints:
        for t in tp.next:
            wait = t.wait_seconds
            if wait is not None:
                found.setdefault((tp.id, t.to), wait)
    return found


# --- the SQL --------------------------------------------------------------------------


def _table(con: DuckDBPyConnection, name: str, columns: dict[str, list[str]]) -> None:
    """A temporary table of text columns from Python lists (through NumPy, no row loop)."""
    import numpy as np

    spec = ", ".join(f"{c} VARCHAR" for c in columns)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} ({spec})")
    if not next(iter(columns.values()), []):
        return
    batch = {c: np.array(v, dtype=object) for c, v in columns.items()}
    view = f"{name}_batch"
    con.register(view, batch)
    try:
        con.execute(f"INSERT INTO {name} SELECT {', '.join(columns)} FROM {view}")
    finally:
        con.unregister(view)


_STEPS = """\
CREATE OR REPLACE TEMP TABLE jm_steps AS
{steps}
SELECT s.case_id, s.k, s.activity, s.next_activity, a.node, b.node AS next_node,
       EXTRACT(EPOCH FROM s.next_ts - s.ts) AS wait_s
FROM steps s
LEFT JOIN jm_nodes a ON s.activity = a.activity
LEFT JOIN jm_nodes b ON s.next_activity = b.activity"""

_PER_NODE = """\
SELECT node, count(*), count(*) FILTER (WHERE next_activity IS NULL),
       count(*) FILTER (WHERE k = 1)
FROM jm_steps WHERE node IS NOT NULL GROUP BY node ORDER BY node"""

_PAIRS = """\
SELECT node, next_node, count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY wait_s)
FROM jm_steps WHERE node IS NOT NULL AND next_node IS NOT NULL
GROUP BY node, next_node ORDER BY node, next_node"""

# A case fits when every step is known and declared (or its last) and it starts at an entry.
_FITTING = """\
SELECT count(*), count(*) FILTER (WHERE ok) FROM (
    SELECT s.case_id,
           bool_and(s.node IS NOT NULL AND (s.next_activity IS NULL OR d.src IS NOT NULL))
           AND bool_or(s.k = 1 AND e.node IS NOT NULL) AS ok
    FROM jm_steps s
    LEFT JOIN jm_declared d ON s.node = d.src AND s.next_node = d.dst
    LEFT JOIN jm_entries e ON s.node = e.node
    GROUP BY s.case_id
)"""


@dataclass(frozen=True)
class _Observed:
    cases: int
    fitting: int
    events: dict[str, int]
    ends: dict[str, int]
    starts: dict[str, int]
    pairs: list[Pair]


def _observe(
    con: DuckDBPyConnection,
    node_of: dict[str, str | None],
    outcomes: Sequence[str],
    ignore: Sequence[str],
    declared: Sequence[tuple[str, str]],
    entries: Sequence[str],
) -> _Observed:
    from .discovery import steps_sql

    known = {a: n for a, n in node_of.items() if n is not None}
    _table(con, "jm_nodes", {"activity": list(known), "node": list(known.values())})
    _table(con, "jm_declared", {"src": [a for a, _ in declared], "dst": [b for _, b in declared]})
    _table(con, "jm_entries", {"node": list(dict.fromkeys(entries))})
    try:
        con.execute(_STEPS.format(steps=steps_sql(outcomes, ignore)))
        events: dict[str, int] = {}
        ends: dict[str, int] = {}
        starts: dict[str, int] = {}
        for node, n, end, start in con.execute(_PER_NODE).fetchall():
            events[node], ends[node], starts[node] = int(n), int(end), int(start)
        pairs = [
            Pair(a, b, int(n), None if m is None else float(m))
            for a, b, n, m in con.execute(_PAIRS).fetchall()
        ]
        row = con.execute(_FITTING).fetchone() or (0, 0)
    finally:
        for name in ("jm_steps", "jm_nodes", "jm_declared", "jm_entries"):
            con.execute(f"DROP TABLE IF EXISTS {name}")
    return _Observed(int(row[0]), int(row[1] or 0), events, ends, starts, pairs)


# --- compare --------------------------------------------------------------------------


def compare(
    journey: Journey,
    logs: Sequence[str | Path] | DuckDBPyConnection,
    *,
    mapping: Mapping | None = None,
    options: LogOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Conformance:
    """Check ``journey`` against the log: LOG files, or a connection holding ``events``.

    With files, they are read as ``discover`` reads them (``options``; the same
    memory limit and spill folder); a connection must already hold the relation
    ``events(case_id, activity, ts, seq)``, and is left as it was.
    """
    if isinstance(logs, (str, Path)):
        logs = [logs]
    if isinstance(logs, Sequence):
        import tempfile

        from .discovery import MEMORY_LIMIT, engine_error
        from .readers import LogOptions, connect, load_events, require_duckdb

        duckdb = require_duckdb()
        with tempfile.TemporaryDirectory(prefix="journeymap-") as spill:
            con = connect(memory_limit=MEMORY_LIMIT, temp_directory=spill)
            try:
                load_events(con, [str(p) for p in logs], options or LogOptions(), progress)
                found = _compare(journey, con, mapping or Mapping())
            except duckdb.Error as exc:
                raise engine_error(logs, exc) from None
            finally:
                con.close()
        if found.cases == 0:
            raise JourneyError(
                f"{', '.join(str(p) for p in logs)}: no events left to compare with the journey"
            )
        return found
    return _compare(journey, logs, mapping or Mapping())


def _compare(journey: Journey, con: DuckDBPyConnection, mapping: Mapping) -> Conformance:
    counted = con.execute("SELECT activity, count(*) FROM events GROUP BY activity").fetchall()
    activity_counts = {str(a): int(n) for a, n in counted}
    activities = sorted(activity_counts)
    node_of = node_of_activities(journey, activities, mapping)
    resolved = mapping.resolve(activities)
    ignore = sorted({resolved[a] for a in mapping.ignore})
    nodes = journey.nodes
    outcomes = {resolved[a] for a in mapping.outcomes}
    outcomes.update(
        a for a, n in node_of.items() if n is not None and isinstance(nodes[n], Outcome)
    )

    probability, drop = _declared(journey)
    declared = list(probability)
    seen = _observe(con, node_of, sorted(outcomes), ignore, declared, journey.entry_ids)
    counts = {(p.src, p.dst): p for p in seen.pairs}

    transitions = []
    for (a, b), p in probability.items():
        total = seen.events.get(a, 0)
        if not total:
            continue
        n = counts[(a, b)].count if (a, b) in counts else 0
        low, high = wilson(n, total)
        transitions.append(TransitionCheck(a, b, p, n / total, n, low, high))
    drop_off = {
        tp.id: (drop[tp.id], seen.ends.get(tp.id, 0) / seen.events[tp.id])
        for tp in journey.touchpoints
        if seen.events.get(tp.id)
    }
    waits = []
    for (a, b), declared_s in _declared_waits(journey).items():
        pair = counts.get((a, b))
        waits.append(WaitCheck(a, b, declared_s, None if pair is None else pair.median_wait_s))
    unknown = sorted(
        ((a, activity_counts[a]) for a, n in node_of.items() if n is None),
        key=lambda t: (-t[1], t[0]),
    )
    return Conformance(
        journey=journey.journey,
        title=journey.title,
        cases=seen.cases,
        fitting_cases=seen.fitting,
        transitions=transitions,
        drop_off=drop_off,
        waits=waits,
        pairs=seen.pairs,
        declared=declared,
        unknown_activities=unknown,
        events=seen.events,
        starts=seen.starts,
        ends=seen.ends,
        activities=node_of,
    )


# --- the table --------------------------------------------------------------------------


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'s' * (n != 1)}"


def _share(p: float) -> str:
    return f"{100 * p:.1f}%"


def conformance_table(c: Conformance, top: int = 10) -> str:
    """``compare``'s table: fitness, then where the log leaves the map, largest first.

    Names are as the journey and the log write them: the caller escapes the text
    for a terminal.
    """
    lines = [
        f"{c.title} ({c.journey}) against the log: {_count(c.cases, 'case')}",
        f"Fitness: {_share(c.fitness)} ({c.fitting_cases:,} of {c.cases:,} cases follow a"
        " declared path from an entry)",
    ]

    def more(shown: int, total: int) -> None:
        if total > shown:
            lines.append(f"  ... and {total - shown:,} more")

    off = c.deviations()
    lines.append("")
    if off:
        lines.append(
            f"Declared shares outside the log's 95% interval ({len(off):,} of"
            f" {_count(len(c.transitions), 'transition')} with data), largest difference first:"
        )
        rows = [
            (
                f"{t.src} -> {t.dst}",
                _share(t.declared),
                _share(t.observed),
                f"[{_share(t.low)}, {_share(t.high)}]",
                f"{t.count:,}",
            )
            for t in off[:top]
        ]
        head = ("transition", "declared", "observed", "95% interval", "count")
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(5)]
        for r in [head, *rows]:
            lines.append(
                "  "
                + r[0].ljust(widths[0])
                + "".join(f"  {cell:>{w}}" for cell, w in zip(r[1:], widths[1:], strict=True))
            )
        more(len(rows), len(off))
    elif c.transitions:
        lines.append(
            f"Every declared share is inside the log's 95% interval"
            f" ({_count(len(c.transitions), 'transition')} with data)."
        )
    else:
        lines.append("No declared transition starts where the log has events.")

    undeclared = c.observed_not_declared
    lines.append("")
    if undeclared:
        lines.append(f"Observed but not declared ({_count(len(undeclared), 'transition')}):")
        width = max(len(f"{p.count:,}") for p in undeclared[:top])
        lines.extend(f"  {p.count:>{width},}  {p.src} -> {p.dst}" for p in undeclared[:top])
        more(min(top, len(undeclared)), len(undeclared))
    else:
        lines.append("Observed but not declared: none.")

    never = c.declared_not_observed
    lines.append("")
    if never:
        lines.append(f"Declared but never observed ({_count(len(never), 'transition')}):")
        lines.extend(f"  {a} -> {b}" for a, b in never[:top])
        more(min(top, len(never)), len(never))
    else:
        lines.append("Declared but never observed: none.")

    lines.append("")
    if c.unknown_activities:
        n = len(c.unknown_activities)
        lines.append(
            f"Activities the journey and the mapping do not name ({n:,}), with their events:"
        )
        width = max(len(f"{k:,}") for _, k in c.unknown_activities[:top])
        lines.extend(f"  {k:>{width},}  {a}" for a, k in c.unknown_activities[:top])
        more(min(top, n), n)
    else:
        lines.append("Every activity of the log is a touchpoint or outcome of the journey.")
    return "\n".join(lines)
