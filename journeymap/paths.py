"""The paths where customers get lost (or succeed), most probable first.

A journey with loops and branches has more simple paths than anyone can read,
often more than can be listed at all (10^15 on a few hundred touchpoints, 11!
on twelve touchpoints that all lead to each other), so paths come ranked and the
search never enumerates them: it is Lawler's form of Yen's algorithm for the k
most probable simple paths. The work is polynomial in k and the journey's size
whatever its shape; a best-first search over partial paths (the previous
version) is exponential as soon as its bound, which ignores the no-repeat rule,
is far from what simple paths can reach.

How: -log p per transition, and a virtual END node that every node where a path
may end leads to, at -log of the share that ends there. One reverse Dijkstra
from END gives each node's best way to finish (ignoring the no-repeat rule);
among equally probable ways the fewest steps, then the smallest ids, so each
node has one best next node and these form a tree into END. The paths not yet
returned are kept partitioned into parts "this prefix, then any next node but
these", each with the best path in it. A part's best path is usually the prefix
then the tree's path from its best next node, found without any Dijkstra: it is
exact when that tree path avoids the prefix (always so on acyclic stretches),
because removing nodes never makes a way to finish better. Only otherwise is
one Dijkstra run on the journey without the prefix, and only for the parts that
come to the front. Returning a path splits its part into one part per node of
the path after the prefix (Lawler), so nothing is listed twice or skipped.

Definitions (issue #3): a path is simple (no node twice), starts at an entry,
and follows transitions with a probability above 0. A lost path ends in a
``lost`` outcome (end ``outcome``), at a dead end (``dead-end``), by the
drop-off of its last touchpoint (``drop-off``: the path's probability includes
that share), or where it runs into a loop with no way out, at the first node
of that loop it reaches (``loop``). A success path ends in a ``success``
outcome. Order: most probable first, then fewer steps, then the ids in order.
A path whose probability is 0 (an underflow: a product of thousands of shares)
is never listed.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import JourneyError, UsageError, did_you_mean
from .graph import Flow, backend, flow

if TYPE_CHECKING:
    from .analysis import Analysis
    from .model import Journey

__all__ = [
    "MAX_ROUTES",
    "ROUTES_CAP",
    "Route",
    "count_routes",
    "find_paths",
    "route_key",
    "routes_text",
]

#: Without ``limit``, more paths than this are refused: nobody reads them, and
#: listing them can take hours.
MAX_ROUTES = 10_000
#: :func:`count_routes` stops counting here: a count equal to it means "at least
#: this many". Real counts run to thousands of digits (2^8000 through a chain of
#: 8,000 two-way choices), which Python refuses to print past 4,300 digits and
#: which cost time to add up, while no reader needs more than "at least 10^18".
ROUTES_CAP = 10**18
#: Two ways to finish whose -log p differ by less than this (relative, at least
#: absolute) are equally probable. Far above the rounding of a sum of thousands of
#: logarithms, and about the 12 significant digits at which route_key ties paths.
TIE = 1e-11


@dataclass(frozen=True)
class Route:
    """One path: the ids from the entry to the last node, how it ends, how likely."""

    steps: tuple[str, ...]
    end: str  # "outcome" | "dead-end" | "drop-off" | "loop"
    probability: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "steps": list(self.steps),
            "end": self.end,
            # 12 significant digits, not decimals: a path of probability 4e-13 is
            # rare, not impossible, and must not read as 0.
            "probability": float(f"{self.probability:.12g}") + 0.0,
        }


def route_key(r: Route) -> tuple[float, int, tuple[str, ...]]:
    """The order of paths: most probable first, then fewer steps, then ids.

    Probabilities equal to 12 significant digits are ties, so that float noise
    (0.1 * 0.2 against 0.2 * 0.1) never decides the order.
    """
    return (-_q(r.probability), len(r.steps), r.steps)


@dataclass(frozen=True)
class _Graph:
    """The chain (0 < p <= 1, only from nodes a path may go on from) with END.

    Edges twice: as CSR lists for the walks in Python, and reversed with the
    edges into END (node n) as arrays for the Dijkstra runs in C.
    """

    f: Flow
    indptr: list[int]
    indices: list[int]
    cost: list[float]  # -log p per edge
    prob: list[float]
    expand: np.ndarray  # may a path go on from here
    end_kind: list[str | None]  # how a path ends here, if it may
    end_prob: list[float]  # the share that ends here (drop-off share, or 1), else 0
    end_cost: list[float]  # -log end_prob
    rrow: np.ndarray  # reversed edges: to (or END) ...
    rcol: np.ndarray  # ... from
    rweight: np.ndarray  # -log p


def _closed_loops(f: Flow) -> np.ndarray:
    """Nodes in a loop that nothing leaves: no transition out of it, no drop-off."""
    chain = f.chain.tocoo()
    count, labels = backend(f.n).connected_components(f.chain, directed=True, connection="strong")
    sizes = np.bincount(labels, minlength=count)
    self_loop = np.zeros(f.n, dtype=bool)
    self_loop[chain.row[chain.row == chain.col]] = True
    looped = np.zeros(count, dtype=bool)
    looped[labels[(sizes[labels] > 1) | self_loop]] = True
    leaves = np.zeros(count, dtype=bool)
    leaves[labels[chain.row[labels[chain.row] != labels[chain.col]]]] = True
    leaves[labels[f.drop > 0]] = True
    closed_component = looped & ~leaves
    return np.asarray(closed_component[labels])


def _graph(f: Flow, to: str) -> _Graph:
    n = f.n
    closed = _closed_loops(f)
    is_tp = np.arange(n) < f.n_touchpoints
    dead = is_tp & (f.out_degree == 0)
    kinds: list[str | None] = [None] * n
    end_prob = np.zeros(n)

    def mark(mask: np.ndarray, kind: str, share: np.ndarray | float = 1.0) -> None:
        end_prob[mask] = share if np.isscalar(share) else np.asarray(share)[mask]
        for i in np.flatnonzero(mask):
            kinds[i] = kind

    if to == "lost":
        mark(f.lost, "outcome")
        mark(dead, "dead-end")
        mark(is_tp & (f.drop > 0) & ~closed, "drop-off", f.drop)
        mark(closed, "loop")
    elif to == "success":
        mark(f.success, "outcome")
    else:
        one = np.zeros(n, dtype=bool)
        one[f.index[to]] = True
        mark(one, "outcome")
    # The model keeps shares in [0, 1]; a share outside would make -log p negative
    # and the search wrong, so clip, and a share of 0 is no way on or out at all.
    np.clip(end_prob, 0.0, 1.0, out=end_prob)
    expand = is_tp & ~closed  # may a path go on from here
    chain = f.chain.tocsr(copy=True)
    chain.data = np.clip(chain.data, 0.0, 1.0)
    chain.data[~expand[np.repeat(np.arange(n), np.diff(chain.indptr))]] = 0.0
    chain.eliminate_zeros()
    coo = chain.tocoo()
    with np.errstate(divide="ignore"):
        cost = -np.log(chain.data)
        end_cost = -np.log(end_prob)
    ends = np.flatnonzero(end_prob > 0)
    return _Graph(
        f=f,
        indptr=chain.indptr.tolist(),
        indices=chain.indices.tolist(),
        cost=cost.tolist(),
        prob=chain.data.tolist(),
        expand=expand,
        end_kind=kinds,
        end_prob=end_prob.tolist(),
        end_cost=end_cost.tolist(),
        rrow=np.concatenate([coo.col, np.full(len(ends), n)]).astype(np.int64),
        rcol=np.concatenate([coo.row, ends]).astype(np.int64),
        rweight=np.concatenate([cost, end_cost[ends]]),
    )


def _check(journey: Journey, f: Flow, to: str, start: str | None) -> None:
    outcomes = {o.id for o in journey.outcomes}
    if to not in ("lost", "success") and to not in outcomes:
        raise UsageError(
            f"--to {to!r}: use lost, success or an outcome id"
            + did_you_mean(to, [*outcomes, "lost", "success"])
            + (
                f"; the outcomes of {journey.journey}: {', '.join(sorted(outcomes))}"
                if outcomes
                else f"; {journey.journey} has no outcomes"
            )
        )
    if start is not None and start not in journey.entry_ids:
        raise UsageError(
            f"--from {start!r} is not an entry of {journey.journey}"
            + did_you_mean(start, journey.entry_ids)
            + f"; its entries: {', '.join(sorted(journey.entry_ids))}"
        )


def find_paths(
    journey: Journey,
    *,
    to: str = "lost",
    start: str | None = None,
    limit: int | None = None,
    analysis: Analysis | None = None,
) -> list[Route]:
    """The paths from the entries (or ``start``) ending as ``to`` asks, in order.

    ``to`` is ``lost``, ``success`` or an outcome id. With ``limit``, exactly
    the first ``limit`` paths of the full order; without, every path, or a
    :class:`JourneyError` when there are more than :data:`MAX_ROUTES`.
    """
    f = analysis.flow if analysis is not None else flow(journey)
    return routes(journey, f, to=to, start=start, limit=limit)


def routes(
    journey: Journey, f: Flow, *, to: str, start: str | None = None, limit: int | None = None
) -> list[Route]:
    """:func:`find_paths` on a journey's :class:`Flow` already built."""
    _check(journey, f, to, start)
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1")
    g = _graph(f, to)
    starts = [f.index[start]] if start is not None else sorted(f.entries.tolist())
    if limit is None:
        at_least = count_routes(g.f, starts, np.asarray(g.end_prob) > 0, g.expand)
        if at_least > MAX_ROUTES:
            raise JourneyError(
                f"{journey.journey}: at least {at_least:,} paths end there; "
                f"ask for the most probable ones with --limit N"
            )
    found = _Search(g, starts).run(MAX_ROUTES + 1 if limit is None else limit)
    if limit is None and len(found) > MAX_ROUTES:
        raise JourneyError(
            f"{journey.journey}: more than {MAX_ROUTES:,} paths end there; "
            "ask for the most probable ones with --limit N"
        )
    return found


def _q(p: float) -> float:
    """A probability to 12 significant digits: the precision at which paths tie."""
    return float(f"{p:.12g}")


@dataclass(eq=False, slots=True)
class _Part:
    """The paths that follow a batch's path up to position ``j``, then go to a node
    other than the banned ones (or end there); and its best path, or a bound.

    ``first``/``first_p`` is the best next node (END to end at ``j``) and its
    transition's probability. Until ``steps`` is set the rest of the path is only
    a guess, the tree's way to finish from ``first``, and the probability a bound.
    """

    j: int
    first: int
    first_p: float
    nodes: list[int] = field(default_factory=list)  # after position j
    probs: list[float] = field(default_factory=list)  # of the transitions to them
    p: float = 0.0
    steps: tuple[str, ...] | None = None


#: A part in its batch's heap: (-q(p), steps, 0 or 1, j or -j, part), see _Search._ordered.
_Item = tuple[float, int, int, int, _Part]


@dataclass(eq=False, slots=True)
class _Batch:
    """The parts split from one returned path: one per position from ``j0`` on.

    ``nodes`` starts with the virtual source (whose next nodes are the entries).
    """

    nodes: list[int]
    cum: list[float]  # probability of nodes[: j + 1], multiplied from the entry on
    pos: dict[int, int]
    j0: int
    banned0: frozenset[int]  # next nodes banned at j0; at j > j0 only the path's own
    heap: list[_Item]


class _Search:
    """Lawler's partition over the tree of best ways to finish; see the module."""

    def __init__(self, g: _Graph, starts: list[int]) -> None:
        n = g.f.n
        self.g = g
        self.n = n
        self.end = n
        self.source = n + 1
        self.ids = g.f.ids
        d = self._distances(None)
        self.d: list[float] = d[:n].tolist()
        self.s: list[float] = self._fewest_steps(d, None)[:n].tolist()
        self.starts = [v for v in starts if self.d[v] < math.inf]
        self._next: dict[int, tuple[int, float]] = {}
        self._finish: dict[int, float] = {}
        self.spurs = 0  # Dijkstra runs on the journey without a prefix

    # --- the way to finish from each node -------------------------------------------

    def _distances(self, keep: np.ndarray | None) -> np.ndarray:
        """Least -log p from each node to END (END itself last), over the kept edges."""
        sp = backend(self.n)
        g, size = self.g, self.n + 1
        rows, cols, w = g.rrow, g.rcol, g.rweight
        if keep is not None:
            rows, cols, w = rows[keep], cols[keep], w[keep]
        m = sp.csr_matrix((w, (rows, cols)), shape=(size, size))
        return np.asarray(sp.dijkstra(m, directed=True, indices=self.n))

    def _fewest_steps(self, d: np.ndarray, keep: np.ndarray | None) -> np.ndarray:
        """Per node, the fewest steps of its most probable ways to finish.

        A breadth-first search back from END over the tight edges (on a most
        probable way: the test is the one :meth:`_step` makes, operation for
        operation, so that both agree on every edge).
        """
        sp = backend(self.n)
        g, size = self.g, self.n + 1
        rows, cols, w = g.rrow, g.rcol, g.rweight
        if keep is not None:
            rows, cols, w = rows[keep], cols[keep], w[keep]
        dc = d[cols]
        with np.errstate(invalid="ignore"):
            tight = w + d[rows] <= dc + TIE * np.maximum(1.0, dc)
        m = sp.csr_matrix(
            (np.ones(int(tight.sum())), (rows[tight], cols[tight])), shape=(size, size)
        )
        return np.asarray(sp.dijkstra(m, directed=True, indices=self.n, unweighted=True)) - 1

    def _step(self, y: int, d: list[float], s: list[float]) -> tuple[int, float]:
        """The best next node from ``y`` (END to end there) and its probability.

        Most probable, then fewest steps, then the smallest id: following it from
        any node gives the first of its ways to finish in route_key order.
        """
        g = self.g
        dy = d[y]
        lim = dy + TIE * (dy if dy > 1.0 else 1.0)
        ep = g.end_prob[y]
        if ep > 0.0 and g.end_cost[y] <= lim:
            return self.end, ep
        ids, indices, cost = self.ids, g.indices, g.cost
        best, best_p, best_s, best_id = -1, 0.0, math.inf, ""
        for k in range(g.indptr[y], g.indptr[y + 1]):
            w = indices[k]
            if cost[k] + d[w] <= lim:
                sw = s[w]
                if sw < best_s or (sw == best_s and ids[w] < best_id):
                    best, best_p, best_s, best_id = w, g.prob[k], sw, ids[w]
        if best < 0:  # d[y] is finite, so the edge that set it is tight
            raise AssertionError(f"no way to finish from {self.ids[y]}")
        return best, best_p

    def _tree_next(self, y: int) -> tuple[int, float]:
        found = self._next.get(y)
        if found is None:
            found = self._next[y] = self._step(y, self.d, self.s)
        return found

    def _finish_p(self, y: int) -> float:
        """The probability of the tree's way to finish from ``y`` (a part's bound)."""
        chain: list[tuple[int, float]] = []
        while y not in self._finish:
            z, p = self._tree_next(y)
            chain.append((y, p))
            if z == self.end:
                self._finish[y] = 1.0
                break
            y = z
        value = self._finish[y]
        for node, p in reversed(chain):
            value = self._finish[node] = p * value
        return value

    # --- parts ------------------------------------------------------------------------

    def _banned(self, b: _Batch, j: int) -> Collection[int]:
        if j == b.j0:
            return b.banned0
        return (b.nodes[j + 1] if j + 1 < len(b.nodes) else self.end,)

    def _options(
        self, b: _Batch, j: int, d: list[float], s: list[float]
    ) -> tuple[int, float] | None:
        """The best next node at position ``j`` given ways to finish ``d``, ``s``."""
        g, ids = self.g, self.ids
        x = b.nodes[j]
        banned = self._banned(b, j)
        pos = b.pos
        options: list[tuple[float, float, str, int, float]] = []  # -log p, steps, id, node, p
        if x == self.source:
            options = [(d[w], s[w], ids[w], w, 1.0) for w in self.starts if w not in banned]
        else:
            if g.end_prob[x] > 0.0 and self.end not in banned:
                options.append((g.end_cost[x], -1.0, "", self.end, g.end_prob[x]))
            indices, cost = g.indices, g.cost
            for k in range(g.indptr[x], g.indptr[x + 1]):
                w = indices[k]
                dw = d[w]
                if dw == math.inf or w in banned or pos.get(w, j + 1) <= j:
                    continue
                options.append((cost[k] + dw, s[w], ids[w], w, g.prob[k]))
        if not options:
            return None
        least = min(o[0] for o in options)
        lim = least + TIE * (least if least > 1.0 else 1.0)
        choice = min((o for o in options if o[0] <= lim), key=lambda o: (o[1], o[2]))
        return choice[3], choice[4]

    def _ordered(self, b: _Batch, part: _Part, p: float, steps: int) -> _Item:
        """The heap item of a part: in its batch, exactly route_key order.

        Two parts of one batch at positions i < j follow the batch's path to i;
        at i + 1 the first goes to its own next node, the second on along the
        path. So among equally probable, equally long paths the first comes
        first when its next node's id is below the path's ("down"): downs by
        position, then "ups" by position from the end.
        """
        j = part.j
        on = b.nodes[j + 1] if j + 1 < len(b.nodes) else self.end
        up = part.first != self.end and on != self.end and self.ids[part.first] > self.ids[on]
        return (-_q(p), steps, int(up), -j if up else j, part)

    def _batch(
        self, nodes: list[int], cum: list[float], j0: int, banned0: frozenset[int]
    ) -> _Batch:
        b = _Batch(nodes, cum, {v: i for i, v in enumerate(nodes)}, j0, banned0, [])
        for j in range(j0, len(nodes)):
            option = self._options(b, j, self.d, self.s)
            if option is None:
                continue
            w, p = option
            part = _Part(j, w, p)
            if w == self.end:
                b.heap.append(self._ordered(b, part, cum[j] * p, j))
            else:
                bound = cum[j] * p * self._finish_p(w)
                b.heap.append(self._ordered(b, part, bound, j + 1 + int(self.s[w])))
        heapq.heapify(b.heap)
        return b

    def _resolve(self, b: _Batch, part: _Part) -> bool:
        """Settle a part's best path: the tree's, or a Dijkstra run's; False if none."""
        j = part.j
        x = b.nodes[j]
        nodes: list[int] = []
        probs = [part.first_p]
        if part.first != self.end:
            y = part.first
            while y != self.end:
                if b.pos.get(y, j + 1) <= j:  # the tree's way runs into the prefix
                    spur = self._spur(b, j)
                    if spur is None:
                        return False
                    nodes, probs = spur
                    break
                nodes.append(y)
                y, p = self._tree_next(y)
                if y != self.end:
                    probs.append(p)
        last = nodes[-1] if nodes else x
        p = b.cum[j]
        for share in probs[: len(nodes)]:
            p *= share
        p *= self.g.end_prob[last]
        part.first = nodes[0] if nodes else self.end
        part.nodes, part.probs, part.p = nodes, probs[: len(nodes)], p
        ids = self.ids
        part.steps = tuple([ids[v] for v in b.nodes[1 : j + 1]] + [ids[v] for v in nodes])
        return True

    def _spur(self, b: _Batch, j: int) -> tuple[list[int], list[float]] | None:
        """The best way on from position ``j`` on the journey without the prefix."""
        self.spurs += 1
        n = self.n
        removed = np.zeros(n + 1, dtype=bool)
        removed[b.nodes[1 : j + 1]] = True
        keep = ~(removed[self.g.rrow] | removed[self.g.rcol])
        dist = self._distances(keep)
        d: list[float] = dist.tolist()
        s: list[float] = self._fewest_steps(dist, keep).tolist()
        option = self._options(b, j, d, s)
        if option is None:
            return None
        y, p = option
        nodes: list[int] = []
        probs = [p]
        while y != self.end:
            nodes.append(y)
            y, p = self._step(y, d, s)
            if y != self.end:
                probs.append(p)
        return nodes, probs

    # --- the ranking --------------------------------------------------------------------

    def run(self, limit: int) -> list[Route]:
        """The first ``limit`` paths in route_key order (fewer if there are fewer)."""
        order = itertools.count()
        front: list[tuple[tuple[float, int, tuple[str, ...]], int, _Batch]] = []

        def enter(b: _Batch) -> None:
            """Queue a batch by its best part: exact key, or a bound below all its paths."""
            if b.heap:
                top = b.heap[0]
                part = top[-1]
                key = (top[0], 0, ()) if part.steps is None else (top[0], top[1], part.steps)
                heapq.heappush(front, (key, next(order), b))

        enter(self._batch([self.source], [1.0], 0, frozenset()))
        found: list[Route] = []
        while front and len(found) < limit:
            key, _, b = heapq.heappop(front)
            if key[0] == 0.0:
                break  # the rest has probability 0
            part = heapq.heappop(b.heap)[-1]
            if part.steps is None:
                if self._resolve(b, part):
                    heapq.heappush(b.heap, self._ordered(b, part, part.p, len(part.steps or ())))
                enter(b)
                continue
            last = part.nodes[-1] if part.nodes else b.nodes[part.j]
            kind = self.g.end_kind[last]
            assert kind is not None
            found.append(Route(part.steps, kind, part.p))
            if len(found) < limit:
                j = part.j
                cum = b.cum[: j + 1]
                for share in part.probs:
                    cum.append(cum[-1] * share)
                banned = frozenset(self._banned(b, j)) | {part.first}
                enter(self._batch(b.nodes[: j + 1] + part.nodes, cum, j, banned))
            enter(b)
        return found


def routes_text(count: int) -> str:
    """A route count for people: a count at :data:`ROUTES_CAP` means "at least"."""
    return f"{count:,}" if count < ROUTES_CAP else f"at least {ROUTES_CAP:,}"


def count_routes(
    f: Flow, starts: list[int], ends: np.ndarray, expand: np.ndarray | None = None
) -> int:
    """How many paths lead from ``starts`` to ``ends``, each loop counted as one step.

    Counted over the condensation (the DAG of strongly connected components), so
    it is cheap, and a lower bound on the number of simple paths: every route
    through the components is at least one simple path, and a loop can hold many.
    The count saturates at :data:`ROUTES_CAP`: a result equal to it means "at
    least that many" (a chain of 8,000 two-way choices has 2^8000 routes, which
    take long to add up and which Python will not print).
    """
    m = f.chain if expand is None else f.chain.multiply(expand[:, None]).tocsr()
    count, labels = backend(f.n).connected_components(m, directed=True, connection="strong")
    coo = m.tocoo()
    cross = labels[coo.row] != labels[coo.col]
    succ: dict[int, set[int]] = {}
    for a, b in zip(labels[coo.row[cross]].tolist(), labels[coo.col[cross]].tolist(), strict=True):
        succ.setdefault(a, set()).add(b)
    is_end = np.zeros(count, dtype=bool)
    is_end[labels[np.flatnonzero(ends)]] = True
    # Number of routes from each component, in reverse topological order.
    order = _topological(count, succ)
    routes = [0] * count
    for comp in reversed(order):
        routes[comp] = min(
            ROUTES_CAP, int(is_end[comp]) + sum(routes[d] for d in succ.get(comp, ()))
        )
    return min(ROUTES_CAP, sum(routes[c] for c in {int(labels[s]) for s in starts}))


def _topological(count: int, succ: dict[int, set[int]]) -> list[int]:
    indeg = [0] * count
    for targets in succ.values():
        for t in targets:
            indeg[t] += 1
    order = [c for c in range(count) if indeg[c] == 0]
    for c in order:  # the list grows while it is walked
        for t in succ.get(c, ()):
            indeg[t] -= 1
            if indeg[t] == 0:
                order.append(t)
    return order
