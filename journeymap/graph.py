"""The journey as a directed graph.

Two forms of one graph: :func:`to_networkx` for people and for rendering (ids,
titles, attributes), and :class:`Flow`, the same nodes numbered 0..n-1 with
the transition probabilities in sparse arrays, for the numerical work, which
must stay fast on journeys of 100,000 touchpoints (networkx alone takes
seconds just to build such a graph).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .model import Journey, Outcome, Touchpoint

if TYPE_CHECKING:
    import networkx as nx
    import scipy.sparse as sp

__all__ = ["Flow", "Solution", "flow", "to_networkx"]

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Flow:
    """Nodes numbered touchpoints first (0..t-1), then outcomes (t..n-1)."""

    ids: list[str]
    n_touchpoints: int
    src: Ints
    dst: Ints
    prob: Floats
    drop: Floats  # per node: the share that leaves at this touchpoint
    success: NDArray[np.bool_]  # per node: a success outcome
    lost: NDArray[np.bool_]  # per node: a lost outcome
    entries: Ints

    @property
    def n(self) -> int:
        return len(self.ids)

    @cached_property
    def index(self) -> dict[str, int]:
        return {ident: i for i, ident in enumerate(self.ids)}

    @cached_property
    def adjacency(self) -> sp.csr_matrix:
        """Every declared transition (1 per edge), whatever its probability."""
        import scipy.sparse as sp

        ones = np.ones(len(self.src), dtype=np.int8)
        m = sp.csr_matrix((ones, (self.src, self.dst)), shape=(self.n, self.n))
        m.sum_duplicates()
        return m

    @cached_property
    def chain(self) -> sp.csr_matrix:
        """The transition matrix of the Markov chain: only transitions with p > 0."""
        import scipy.sparse as sp

        keep = self.prob > 0
        m = sp.csr_matrix(
            (self.prob[keep], (self.src[keep], self.dst[keep])), shape=(self.n, self.n)
        )
        m.sum_duplicates()
        return m

    @cached_property
    def out_degree(self) -> Ints:
        return np.bincount(self.src, minlength=self.n).astype(np.int64)

    def reachable(self, starts: Ints, *, reverse: bool = False) -> NDArray[np.bool_]:
        """Nodes reachable from ``starts`` (or that reach them, with ``reverse``)."""
        from scipy.sparse.csgraph import breadth_first_order

        seen = np.zeros(self.n, dtype=bool)
        if len(starts) == 0:
            return seen
        m = self.adjacency.T.tocsr() if reverse else self.adjacency
        # One search from a virtual node linked to every start.
        import scipy.sparse as sp

        k = self.n
        link = sp.csr_matrix(
            (np.ones(len(starts), dtype=np.int8), (np.full(len(starts), k), starts)),
            shape=(k + 1, k + 1),
        )
        big = sp.bmat([[m, None], [None, sp.csr_matrix((1, 1), dtype=np.int8)]], format="csr")
        order = breadth_first_order(big + link, k, directed=True, return_predecessors=False)
        seen[order[order < k]] = True
        return seen

    @cached_property
    def components(self) -> tuple[int, Ints]:
        """Strongly connected components of all declared transitions."""
        from scipy.sparse.csgraph import connected_components

        count, labels = connected_components(self.adjacency, directed=True, connection="strong")
        return int(count), labels.astype(np.int64)


def flow(journey: Journey) -> Flow:
    tps = journey.touchpoints
    ids = [tp.id for tp in tps] + [o.id for o in journey.outcomes]
    index = {ident: i for i, ident in enumerate(ids)}
    # One pass in comprehensions: this runs over a million transitions on big journeys.
    counts = np.fromiter((len(tp.next) for tp in tps), dtype=np.int64, count=len(tps))
    dst = list(map(index.__getitem__, [t.to for tp in tps for t in tp.next]))
    prob: list[float] = []
    drop = np.zeros(len(ids))
    for i, tp in enumerate(tps):
        if tp.next:
            shares, drop[i] = tp.shares()
            prob.extend(shares)
    success = np.zeros(len(ids), dtype=bool)
    lost = np.zeros(len(ids), dtype=bool)
    for k, o in enumerate(journey.outcomes, start=len(tps)):
        (success if o.result == "success" else lost)[k] = True
    return Flow(
        ids=ids,
        n_touchpoints=len(tps),
        src=np.repeat(np.arange(len(tps), dtype=np.int64), counts),
        dst=np.asarray(dst, dtype=np.int64),
        prob=np.asarray(prob, dtype=np.float64),
        drop=drop,
        success=success,
        lost=lost,
        entries=np.asarray([index[e] for e in journey.entry_ids], dtype=np.int64),
    )


@dataclass(frozen=True, eq=False)
class Solution:
    """The order in which x = b + Q x can be solved exactly, component by component.

    Each level holds strongly connected components whose every dependency is in
    an earlier level. Journeys are mostly forward with small loops, so this is
    linear in practice, where one sparse LU of the whole system fills in badly.
    """

    matrix: sp.csr_matrix
    labels: Ints
    levels: list[Ints]

    @classmethod
    def of(cls, matrix: sp.csr_matrix) -> Solution:
        import scipy.sparse as sp
        from scipy.sparse.csgraph import connected_components

        count, labels = connected_components(matrix, directed=True, connection="strong")
        coo = matrix.tocoo()
        cross = labels[coo.row] != labels[coo.col]
        dependent, dependency = labels[coo.row[cross]], labels[coo.col[cross]]
        dag = sp.csr_matrix(
            (np.ones(len(dependent), dtype=np.int8), (dependency, dependent)), shape=(count, count)
        )
        dag.sum_duplicates()
        pending = np.diff(dag.tocsc().indptr).astype(np.int64)
        frontier = np.flatnonzero(pending == 0)
        levels: list[Ints] = []
        while frontier.size:
            levels.append(frontier)
            freed = dag[frontier].indices
            np.subtract.at(pending, freed, 1)
            frontier = np.unique(freed[pending[freed] == 0])
        return cls(matrix.tocsr(), labels.astype(np.int64), levels)

    def solve(self, b: Floats) -> Floats:
        """x with x = b + Q x; nodes in a closed loop (nothing ever leaves) get 0."""
        import scipy.sparse as sp

        q = self.matrix
        n = q.shape[0]
        x = np.zeros(n)
        sizes = np.bincount(self.labels)
        order = np.argsort(self.labels, kind="stable")
        starts = np.concatenate([[0], np.cumsum(sizes)])
        diag = q.diagonal()
        for level in self.levels:
            single = level[sizes[level] == 1]
            if single.size:
                nodes = order[starts[single]]
                # x[nodes] is still 0, so Q x counts only what the nodes lead to.
                rhs = b[nodes] + q[nodes] @ x
                keep = 1.0 - diag[nodes]
                closed = keep <= 1e-15
                x[nodes] = np.where(closed, 0.0, rhs / np.where(closed, 1.0, keep))
            for comp in level[sizes[level] > 1]:
                nodes = order[starts[comp] : starts[comp + 1]]
                rows = q[nodes]
                sub = rows[:, nodes]
                rhs = b[nodes] + rows @ x
                leak = 1.0 - np.asarray(sub.sum(axis=1)).ravel()
                if np.all(leak <= 1e-15) and not np.any(rhs):
                    continue  # a closed loop: nobody leaves, nobody arrives anywhere
                a = sp.identity(len(nodes), format="csr") - sub.tocsr()
                x[nodes] = _solve_component(a, rhs)
        return x


def _solve_component(a: sp.csr_matrix, rhs: Floats) -> Floats:
    """Solve (I - Q_C) x = rhs for one strongly connected component.

    Small components are solved densely. A large one (a merged or generated journey
    where rework ties thousands of touchpoints together) would fill in under sparse
    LU (seconds at 10,000 touchpoints, minutes at 100,000), while Krylov methods
    converge to machine precision in a few dozen products: customers leave a
    journey at a steady rate, so I - Q_C is well conditioned. BiCGSTAB first (a
    third of GMRES's time on 100,000 touchpoints, with no basis to orthogonalise),
    GMRES for a few restarts if it stalls, then LU: a loop that customers almost
    never leave (a long ring at p = 0.9999) is ill-conditioned, where 2,000 GMRES
    restarts took 30 s and LU, with little fill-in there, milliseconds.
    """
    if a.shape[0] <= 1500:
        return np.asarray(np.linalg.solve(a.toarray(), rhs))
    from scipy.sparse.linalg import bicgstab, gmres, spsolve

    x, info = bicgstab(a, rhs, rtol=1e-13, atol=0.0, maxiter=2000)
    if info == 0:
        return np.asarray(x)
    x, info = gmres(a, rhs, rtol=1e-13, atol=0.0, restart=50, maxiter=20)
    if info == 0:
        return np.asarray(x)
    return np.asarray(spsolve(a.tocsc(), rhs))


def to_networkx(journey: Journey) -> nx.DiGraph:
    """The journey as a networkx graph with every attribute of the file.

    Node attributes: ``kind`` (touchpoint/outcome), ``title``, ``stage``,
    ``result`` and the touchpoint's fields; edge attributes: ``probability``
    (as derived, see :meth:`Touchpoint.shares`), ``wait``, ``label``.
    """
    import networkx as nx

    g = nx.DiGraph(journey=journey.journey, title=journey.title)
    for tp in journey.touchpoints:
        g.add_node(tp.id, kind="touchpoint", **_fields(tp))
    for o in journey.outcomes:
        g.add_node(o.id, kind="outcome", **_fields(o))
    for tp in journey.touchpoints:
        shares, drop = tp.shares()
        g.nodes[tp.id]["drop_off"] = drop
        for t, p in zip(tp.next, shares, strict=True):
            g.add_edge(tp.id, t.to, probability=p, wait=t.wait, label=t.label, volume=t.volume)
    return g


def _fields(node: Touchpoint | Outcome) -> dict[str, Any]:
    data = node.model_dump(exclude={"id", "next"})
    return data
