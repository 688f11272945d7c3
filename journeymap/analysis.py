"""Where customers get lost: the structural analysis of a journey.

The definitions are the README's "Meaning" section, word for word; tests check
each against values worked out by hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from .graph import Flow, Solution, backend, flow
from .model import Journey
from .parallel import beside

if TYPE_CHECKING:
    from .findings import Config, Finding
    from .fixes import Fix
    from .timing import Timing

__all__ = ["Analysis", "Leak", "analyze", "fixes_of"]


@dataclass(frozen=True)
class Leak:
    """Where a share of the customers who start at the entries is lost.

    ``kind`` is ``drop-off`` (they leave at this touchpoint), ``dead-end``,
    ``outcome`` (a lost outcome) or ``loop`` (they enter a loop with no way out
    here and never leave it).
    """

    node: str
    kind: str
    share: float

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "kind": self.kind, "share": self.share}


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
    success_share: float
    leaks: list[Leak]
    flow: Flow = field(repr=False, compare=False)
    # Per node of ``flow``, the expected visits of a customer who starts (the leaks'
    # solve): the reach the inventory shows. Not part of the JSON.
    visits: np.ndarray = field(repr=False, compare=False, default_factory=lambda: np.zeros(0))
    # How to compute the findings, metrics, fix first and time (see _Later).
    later: _Later | None = field(default=None, repr=False, compare=False)

    # What a map does not draw is computed when first read, and kept: a map reads
    # none of it but one rule's subjects (:attr:`poor`), and drawing the example
    # journeys took twice as long with it (``journeymap analyze`` reads it all).

    @cached_property
    def findings(self) -> list[Finding]:
        return self._later.findings()

    @cached_property
    def metrics(self) -> dict[str, Any]:
        return self._later.metrics()

    @cached_property
    def fix_first(self) -> list[Fix]:
        return self._later.fix_first()

    @cached_property
    def time(self) -> Timing:
        return self._later.time()

    @cached_property
    def poor(self) -> frozenset[str]:
        """The touchpoints found important but poor, as every map marks them: read
        from the findings when they are known, else by that one rule alone."""
        if "findings" in self.__dict__:
            return frozenset(f.subject for f in self.findings if f.rule == "important-but-poor")
        return frozenset(self._later.poor())

    @property
    def _later(self) -> _Later:
        if self.later is None:  # pragma: no cover - analyze always gives one
            raise ValueError("this analysis was made without its findings")
        return self.later

    def ends(self) -> dict[str, float]:
        """Per outcome, the share of all customers who end there (the entries weighted as
        in :func:`leaks`): what a map prints on each outcome, success and lost alike."""
        lost = {leak.node: leak.share for leak in self.leaks if leak.kind == "outcome"}
        out = dict(lost)
        for ident, i in self.flow.index.items():
            if i >= self.flow.n_touchpoints and ident not in lost and i < len(self.visits):
                out[ident] = _clean(float(self.visits[i]))
        return out

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
            "success_share": self.success_share,
            "leaks": [leak.to_dict() for leak in self.leaks],
            "findings": [finding.to_dict() for finding in self.findings],
            "metrics": self.metrics,
            "fix_first": [fix.to_dict() for fix in self.fix_first],
            "time": self.time.to_dict(),
        }


@dataclass(frozen=True)
class _Later:
    """The parts of an :class:`Analysis` computed when first read."""

    findings: Callable[[], list[Finding]]
    metrics: Callable[[], dict[str, Any]]
    fix_first: Callable[[], list[Fix]]
    time: Callable[[], Timing]
    poor: Callable[[], list[str]]


def _clean(p: float) -> float:
    """Round away float noise (0.30000000000000004) so JSON and tables read well."""
    return float(round(p, 12)) + 0.0


def _by_id(f: Flow, values: np.ndarray) -> dict[str, float]:
    """The non-zero values by node id, ids sorted, rounded like :func:`_clean`."""
    where = np.flatnonzero(values > 0)
    rounded = (np.round(values[where], 12) + 0.0).tolist()
    return dict(sorted(zip((f.ids[i] for i in where), rounded, strict=True)))


def success_probability(f: Flow, solution: Solution | None = None) -> np.ndarray:
    """Per node, the probability of ending in a success outcome from there.

    In [0, 1] by construction (each node's value is a weighted mean of its
    successors' with weights that add up to at most 1, solved without
    subtracting); clipped only against the last rounding. ``solution`` is
    ``Solution.of(f.chain, f.drop)``, passed in where it is reused.
    """
    solution = solution or Solution.of(f.chain, f.drop)
    x = solution.solve(f.success.astype(np.float64))
    return np.clip(x, 0.0, 1.0)


def entry_weights(journey: Journey, f: Flow) -> np.ndarray:
    """How the customers who start are spread over the entries.

    When every entry has a volume, in proportion to the volumes (that is how
    many start there), so an entry of volume 0 gets nobody; when every volume is
    0, or some entry has none, equally: without numbers for all of them no entry
    is more likely than another. An entry's volume is the one ``entries`` gives
    it (``{id: apply, volume: 916}``: the customers who start there), else its
    touchpoint's (everyone who passes, a fair stand-in where nobody comes back).
    Volumes are scaled by the largest before they are added up, so volumes near
    1e308 do not overflow to infinity.
    """
    s = np.zeros(f.n)
    entries = journey.entry_ids
    if not entries:
        return s
    starts = journey.entry_volumes
    volumes = [starts.get(e, journey.nodes[e].volume) for e in entries]  # type: ignore[union-attr]
    top = max((v for v in volumes if v is not None), default=0.0)
    if top > 0 and all(v is not None for v in volumes):
        scaled = [float(v) / top for v in volumes]  # type: ignore[arg-type]
        total = math.fsum(scaled)
        for e, v in zip(entries, scaled, strict=True):
            s[f.index[e]] += v / total
    else:
        for e in entries:
            s[f.index[e]] += 1.0 / len(entries)
    return s


def leaks(
    journey: Journey, f: Flow, closed: np.ndarray, weights: np.ndarray | None = None
) -> tuple[list[Leak], float, np.ndarray]:
    """The expected share lost at each place, the share that succeeds, and the visits.

    ``weights`` is where customers start (by default :func:`entry_weights`).

    Expected visits v solve v = s + Q^T v over the absorbing chain, with the loops
    that nobody leaves cut open (their nodes absorb what enters them). What is lost
    at a touchpoint is its visits times its drop-off (all of them at a dead end);
    at an outcome, its visits. The solve keeps what enters each node equal to
    what leaves it (see :class:`~journeymap.graph.Solution`), so the shares and
    the success add up to 1 to rounding, however long customers circle in a loop.
    """
    sp = backend(f.n)
    keep = ~closed[f.src] & (f.prob > 0)
    q = sp.csr_matrix((f.prob[keep], (f.src[keep], f.dst[keep])), shape=(f.n, f.n))
    start = entry_weights(journey, f) if weights is None else weights
    visits = Solution.of(q, f.drop).solve(start, transposed=True)
    is_tp = np.arange(f.n) < f.n_touchpoints
    dead = is_tp & (f.out_degree == 0)
    lost = np.zeros(f.n)
    kind = np.full(f.n, "", dtype=object)
    # Visits overflow only where a loop is left at less than 1e-308 a visit, and such
    # a node has no drop-off (one of at least 1e-9 bounds its visits): no loss there.
    with np.errstate(invalid="ignore"):
        lost[is_tp] = np.where(f.drop > 0, visits * f.drop, 0.0)[is_tp]
    kind[is_tp & (f.drop > 0)] = "drop-off"
    lost[dead] = visits[dead]
    kind[dead] = "dead-end"
    lost[f.lost] = visits[f.lost]
    kind[f.lost] = "outcome"
    lost[closed] = visits[closed]
    kind[closed] = "loop"
    # Shares are reported to 12 digits: a place whose share rounds to 0 is no leak.
    rounded = np.round(np.minimum(lost, 1.0), 12)
    places = np.flatnonzero((rounded > 0) & (kind != ""))
    # Rank as plain tuples, largest share first, then by id: a journey of 100,000
    # touchpoints has about as many leaks, and a key function per item costs seconds.
    shares = (-rounded[places] + 0.0).tolist()
    ids = [f.ids[i] for i in places.tolist()]
    ranked = sorted(zip(shares, ids, kind[places].tolist(), strict=True))
    found = [Leak(node, how, -share + 0.0) for share, node, how in ranked]
    return found, _clean(min(1.0, float(visits[f.success].sum()))), visits


def analyze(journey: Journey, config: Config | None = None, *, quantiles: bool = True) -> Analysis:
    """Everything ``journeymap analyze`` reports; ``config`` tunes the findings.

    ``quantiles=False`` is for maps: it leaves out the medians and 90th percentiles
    of the time to each outcome (None), which are most of the time on small
    journeys (the means, and so every finding, are the same), and leaves the
    findings, metrics, fix first and time to be computed when first read (a map
    reads none of them; a journey whose fix first cannot be solved still draws).
    With ``quantiles`` all is computed here, and any error raised here.

    The cyclic collector is paused meanwhile: a journey of 100,000 touchpoints
    gives 100,000s of findings, fixes and leaks, none in a cycle, and the
    collector's passes over them while they are made took a second of its 7.
    Paused by hand, not with ``loader.gc_paused``: leaving a generator's context
    raises StopIteration, an object, and that allocation alone starts a pass
    over everything made meanwhile (0.1 s).
    """
    import gc

    was = gc.isenabled()
    gc.disable()
    try:
        return _analyze(journey, config, quantiles)
    finally:
        if was:
            gc.enable()


def _analyze(journey: Journey, config: Config | None, quantiles: bool = True) -> Analysis:
    from .findings import _Facts, find, subjects
    from .fixes import fix_first
    from .paths import _closed_loops
    from .timing import time_to_outcomes

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

    closed = _closed_loops(f)
    closed_groups: dict[int, list[str]] = {}
    for i in np.flatnonzero(closed & reached):
        closed_groups.setdefault(int(labels[i]), []).append(f.ids[i])
    closed_loops = sorted(sorted(g) for g in closed_groups.values())

    solution = Solution.of(f.chain, f.drop)
    x = success_probability(f, solution)
    lost_at, success_share, visits = leaks(journey, f, closed)
    dead_ends = sorted(ids[dead])
    unreachable = sorted(ids[~reached])
    trap_ids = sorted(ids[traps])
    # The time analysis beside the rest on big journeys (see journeymap.parallel):
    # only the slow-stage rule, asked last, waits for it.
    timing = beside(
        lambda: time_to_outcomes(journey, f, success=x, visits=visits, quantiles=quantiles),
        worth=quantiles and len(f.src) >= PARALLEL_TRANSITIONS,
    )
    facts = _Facts(journey, f, dead_ends, unreachable, trap_ids, closed_loops, timing.result)
    result = Analysis(
        journey=journey.journey,
        title=journey.title,
        entries=sorted(journey.entry_ids),
        dead_ends=dead_ends,
        unreachable=unreachable,
        traps=trap_ids,
        loops=loops,
        drop_off=_by_id(f, f.drop),
        success_probability={e: _clean(x[f.index[e]]) for e in sorted(journey.entry_ids)},
        success_share=success_share,
        leaks=lost_at,
        flow=f,
        visits=visits,
        later=_Later(
            findings=lambda: find(facts, config),
            metrics=lambda: metrics(journey, f, len(loops)),
            fix_first=lambda: fix_first(f, solution, x, visits),
            time=timing.result,
            poor=lambda: subjects(facts, config, "important-but-poor"),
        ),
    )
    if quantiles:
        try:
            # Fix first, the metrics and the findings while a second process (if
            # any) computes the time; the slow-stage rule, last, waits for it.
            for part in ("fix_first", "metrics", "findings", "time"):
                getattr(result, part)
        finally:
            timing.cancel()
        # All known: let the solved chain and the facts go (analyze over many journeys).
        object.__setattr__(result, "later", None)
    return result


#: Journeys with at least this many transitions compute their time analysis in a
#: second process beside the rest (1.5 to 2 s of 10 on 100,000 touchpoints with a
#: million transitions; a fork costs a few milliseconds).
PARALLEL_TRANSITIONS = 200_000


def fixes_of(journey: Journey, start: str | None = None) -> list[Fix]:
    """The fix-first ranking alone (as in :func:`analyze`), for ``journeymap paths``.

    With ``start``, for the customers who start at that entry only (``--from``).
    """
    from .fixes import fix_first
    from .paths import _closed_loops

    f = flow(journey)
    solution = Solution.of(f.chain, f.drop)
    weights = None
    if start is not None:
        weights = np.zeros(f.n)
        weights[f.index[start]] = 1.0
    _, _, visits = leaks(journey, f, _closed_loops(f), weights)
    return fix_first(f, solution, success_probability(f, solution), visits)


def metrics(journey: Journey, f: Flow, loops: int) -> dict[str, Any]:
    """Breadth, depth and complexity of the journey, and who and where it happens.

    ``initiative`` counts, per stage, the touchpoints the customer starts (service)
    and those the firm starts (success, proactive).

    Routes are counted over the condensation, each loop as one step: the number of
    distinct ways through the journey, without the endless variants loops add.
    """
    from .coverage import initiative_by_stage
    from .paths import count_routes, routes

    breadth = {s.id: len(journey.touchpoints_in(s.id)) for s in journey.stages}
    steps = None
    if len(f.entries) and f.success.any():
        hops = f.chain.copy()
        hops.data[:] = 1.0
        dist = backend(f.n).dijkstra(hops, directed=True, indices=f.entries, min_only=True)
        best = dist[f.success].min()
        steps = None if not np.isfinite(best) else int(best)
    top = routes(journey, f, to="success", limit=1) if f.success.any() else []
    channels: dict[str, int] = {}
    owners: dict[str, int] = {}
    for tp in journey.touchpoints:
        if tp.channel:
            channels[tp.channel] = channels.get(tp.channel, 0) + 1
        if tp.owner:
            owners[tp.owner] = owners.get(tp.owner, 0) + 1
    ends = f.success | f.lost
    return {
        "stages": len(journey.stages),
        "touchpoints": f.n_touchpoints,
        "outcomes": f.n - f.n_touchpoints,
        "transitions": len(f.src),
        "breadth": breadth,
        "fewest_steps_to_success": steps,
        "most_probable_success_path": top[0].to_dict() if top else None,
        "routes": count_routes(f, sorted(f.entries.tolist()), ends),
        "loops": loops,
        "channels": dict(sorted(channels.items())),
        "owners": dict(sorted(owners.items())),
        "initiative": initiative_by_stage(journey),
    }
