"""The paths where customers get lost (or succeed), most probable first.

A journey with loops and branches has more simple paths than anyone can read,
often more than can be listed at all (10^15 on a few hundred touchpoints), so
paths come ranked and the search never enumerates them all: it is a best-first
search over partial paths guided by an exact bound, the most probable way to
finish from each touchpoint ignoring the no-repeat rule (one Dijkstra run over
-log p). With that bound the first complete path popped is the most probable
one, and the next ones follow in order, after exploring little more than the
paths that are returned.

Definitions (issue #3): a path is simple (no node twice), starts at an entry,
and follows transitions with a probability above 0. A lost path ends in a
``lost`` outcome (end ``outcome``), at a dead end (``dead-end``), by the
drop-off of its last touchpoint (``drop-off``: the path's probability includes
that share), or where it runs into a loop with no way out, at the first node
of that loop it reaches (``loop``). A success path ends in a ``success``
outcome. Order: most probable first, then fewer steps, then the ids in order.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import JourneyError, did_you_mean
from .graph import Flow, flow

if TYPE_CHECKING:
    from .analysis import Analysis
    from .model import Journey

__all__ = ["MAX_ROUTES", "Route", "count_routes", "find_paths", "route_key"]

#: Without ``limit``, more paths than this are refused: nobody reads them, and
#: listing them can take hours.
MAX_ROUTES = 10_000
#: Partial paths a search may look at before it gives up (a safety net for
#: adversarial journeys; ordinary ones need a few per returned path).
MAX_EXPANSIONS = 3_000_000


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
            "probability": float(round(self.probability, 12)) + 0.0,
        }


def route_key(r: Route) -> tuple[float, int, tuple[str, ...]]:
    """The order of paths: most probable first, then fewer steps, then ids.

    Probabilities equal to 12 significant digits are ties, so that float noise
    (0.1 * 0.2 against 0.2 * 0.1) never decides the order.
    """
    return (-_q(r.probability), len(r.steps), r.steps)


@dataclass(frozen=True)
class _Graph:
    """The chain (p > 0) with each node's way of ending a path of the asked kind."""

    f: Flow
    indptr: list[int]
    indices: list[int]
    cost: list[float]  # -log p per edge
    prob: list[float]
    expand: np.ndarray  # may a path go on from here
    end_kind: list[str | None]  # how a path ends here, if it may
    end_prob: np.ndarray  # the share that ends here (drop-off share, or 1)
    closed: np.ndarray  # in a loop with no way out


def _closed_loops(f: Flow) -> np.ndarray:
    """Nodes in a loop that nothing leaves: no transition out of it, no drop-off."""
    from scipy.sparse.csgraph import connected_components

    chain = f.chain.tocoo()
    count, labels = connected_components(f.chain, directed=True, connection="strong")
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
    chain = f.chain
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
    expand = is_tp & ~closed
    data = chain.data
    return _Graph(
        f=f,
        indptr=chain.indptr.tolist(),
        indices=chain.indices.tolist(),
        cost=(-np.log(data)).tolist(),
        prob=data.tolist(),
        expand=expand,
        end_kind=kinds,
        end_prob=end_prob,
        closed=closed,
    )


def _bound(g: _Graph) -> np.ndarray:
    """Per node, the least -log p of any way (simple or not) to end a path from it."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    n = g.f.n
    ends = np.flatnonzero(g.end_prob > 0)
    coo = g.f.chain.tocoo()
    keep = g.expand[coo.row]
    # Reversed edges, plus a virtual node n that every end leads to.
    rows = np.concatenate([coo.col[keep], np.full(len(ends), n)])
    cols = np.concatenate([coo.row[keep], ends])
    weights = np.concatenate([-np.log(coo.data[keep]), -np.log(g.end_prob[ends])])
    rev = sp.csr_matrix((weights, (rows, cols)), shape=(n + 1, n + 1))
    dist = dijkstra(rev, directed=True, indices=n)
    return np.asarray(dist[:n])


def _check(journey: Journey, f: Flow, to: str, start: str | None) -> None:
    outcomes = {o.id for o in journey.outcomes}
    if to not in ("lost", "success") and to not in outcomes:
        raise JourneyError(
            f"--to {to!r}: use lost, success or an outcome id"
            + did_you_mean(to, [*outcomes, "lost", "success"])
        )
    if start is not None and start not in journey.entry_ids:
        raise JourneyError(
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
        raise JourneyError("--limit must be at least 1")
    g = _graph(f, to)
    starts = [f.index[start]] if start is not None else sorted(f.entries.tolist())
    if limit is None:
        at_least = count_routes(g.f, starts, g.end_prob > 0, g.expand)
        if at_least > MAX_ROUTES:
            raise JourneyError(
                f"{journey.journey}: at least {at_least:,} paths end there; "
                f"ask for the most probable ones with --limit N"
            )
    h = _bound(g)
    return _search(g, h, _steps_bound(g, h), starts, limit, journey.journey)


def _q(p: float) -> float:
    """A probability to 12 significant digits: the precision at which paths tie."""
    return float(f"{p:.12g}")


def _steps_bound(g: _Graph, h: np.ndarray) -> np.ndarray:
    """Per node, the fewest steps of any most probable way to end a path from it.

    Among the edges that lie on a most probable way (c + h(w) = h(v), with a
    tolerance far above the 12 digits at which probabilities tie), a breadth-first
    search back from the ends. With it the search can order equally probable
    partial paths by the length their best completion must at least have.
    """
    import scipy.sparse as sp
    from scipy.sparse.csgraph import dijkstra

    n = g.f.n
    coo = g.f.chain.tocoo()
    keep = g.expand[coo.row] & np.isfinite(h[coo.col]) & np.isfinite(h[coo.row])
    rows, cols = coo.row[keep], coo.col[keep]
    slack = -np.log(coo.data[keep]) + h[cols] - h[rows]
    tight = slack <= 1e-9 * np.maximum(1.0, h[rows])
    ends = np.flatnonzero(g.end_prob > 0)
    end_tight = np.abs(-np.log(g.end_prob[ends]) - h[ends]) <= 1e-9 * np.maximum(1.0, h[ends])
    ends = ends[end_tight]
    # Reversed tight edges (unit weights) plus a virtual end node n.
    r = np.concatenate([cols[tight], np.full(len(ends), n)])
    c = np.concatenate([rows[tight], ends])
    m = sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(n + 1, n + 1))
    dist = dijkstra(m, directed=True, indices=n, unweighted=True)[:n] - 1
    return np.asarray(dist)


def _search(
    g: _Graph,
    h: np.ndarray,
    hs: np.ndarray,
    starts: list[int],
    limit: int | None,
    name: str,
) -> list[Route]:
    """Best-first over partial paths; complete paths come out in exactly route_key order.

    A partial path's key is a bound on every completion's key: (-q(p * e^-h), its
    length plus the fewest steps of a best completion, its ids). Keys never decrease
    along an extension, so the first complete path popped is the first in the order,
    even among millions of equally probable paths, and so on for the next ones.
    """
    ids = g.f.ids
    hb = h.tolist()
    hsteps = hs.tolist()
    end_prob = g.end_prob.tolist()
    expand = g.expand.tolist()
    indptr, indices, prob = g.indptr, g.indices, g.prob
    Key = tuple[float, float, tuple[str, ...]]
    # Heap items: (key, done, probability so far, path as node numbers)
    heap: list[tuple[Key, bool, float, tuple[int, ...]]] = []
    for s in starts:
        if math.isfinite(hb[s]):
            heap.append(((-_q(math.exp(-hb[s])), 1 + hsteps[s], (ids[s],)), False, 1.0, (s,)))
    heapq.heapify(heap)
    found: list[Route] = []
    expansions = 0
    while heap and (limit is None or len(found) < limit):
        key, done, p, path = heapq.heappop(heap)
        v = path[-1]
        if done:
            kind = g.end_kind[v]
            assert kind is not None
            found.append(Route(key[2], kind, p * end_prob[v]))
            if limit is None and len(found) > MAX_ROUTES:
                raise JourneyError(
                    f"{name}: more than {MAX_ROUTES:,} paths end there; "
                    "ask for the most probable ones with --limit N"
                )
            continue
        expansions += 1
        if expansions > MAX_EXPANSIONS:
            raise JourneyError(
                f"{name}: gave up after looking at {MAX_EXPANSIONS:,} partial paths; "
                "ask for fewer with a smaller --limit"
            )
        steps = key[2]
        if end_prob[v] > 0:
            heapq.heappush(heap, ((-_q(p * end_prob[v]), len(path), steps), True, p, path))
        if not expand[v]:
            continue
        for k in range(indptr[v], indptr[v + 1]):
            w = indices[k]
            if hb[w] == math.inf or w in path:
                continue
            p2 = p * prob[k]
            bound = (-_q(p2 * math.exp(-hb[w])), len(path) + 1 + hsteps[w], (*steps, ids[w]))
            heapq.heappush(heap, (bound, False, p2, (*path, w)))
    return found


def count_routes(
    f: Flow, starts: list[int], ends: np.ndarray, expand: np.ndarray | None = None
) -> int:
    """How many paths lead from ``starts`` to ``ends``, each loop counted as one step.

    Counted over the condensation (the DAG of strongly connected components), so
    it is cheap, and a lower bound on the number of simple paths: every route
    through the components is at least one simple path, and a loop can hold many.
    """
    from scipy.sparse.csgraph import connected_components

    m = f.chain if expand is None else f.chain.multiply(expand[:, None]).tocsr()
    count, labels = connected_components(m, directed=True, connection="strong")
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
        routes[comp] = int(is_end[comp]) + sum(routes[d] for d in succ.get(comp, ()))
    return sum(routes[c] for c in {int(labels[s]) for s in starts})


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
