"""The journey as a directed graph.

Two forms of one graph: :func:`to_networkx` for people and for rendering (ids,
titles, attributes), and :class:`Flow`, the same nodes numbered 0..n-1 with
the transition probabilities in sparse arrays, for the numerical work, which
must stay fast on journeys of 100,000 touchpoints (networkx alone takes
seconds just to build such a graph).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .model import TOLERANCE, Journey, Outcome, Touchpoint

if TYPE_CHECKING:
    import networkx as nx
    import scipy.sparse as sp

__all__ = ["Flow", "Solution", "backend", "backend_of", "distinct", "flow", "to_networkx"]

#: Graphs of at most this many nodes use :mod:`journeymap.lite`, not scipy. Importing
#: scipy's sparse matrices, graph searches and linear algebra takes a quarter of a
#: second, more than all the work on a journey of a few hundred touchpoints; past a
#: few thousand nodes scipy's compiled loops win. At most 1,500 (the largest loop
#: :func:`_solve_sparse` solves densely), so a small graph never needs scipy's
#: iterative solvers.
SMALL = 1000


def distinct(values: Ints) -> tuple[Ints, Ints]:
    """``np.unique(values, return_inverse=True)`` for 1-D integers.

    np.unique imports numpy.ma (4 ms of the start-up of every command that
    analyses); a stable sort does the same.
    """
    values = np.asarray(values, dtype=np.int64).reshape(-1)
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(first) - 1
    return ordered[first], inverse


def backend(n: int) -> Any:
    """What builds and searches sparse graphs of ``n`` nodes: :mod:`journeymap.lite`
    for small ones, scipy for the others, under the same names (``csr_matrix``,
    ``bmat``, ``diags``, ``connected_components``, ``breadth_first_order``,
    ``dijkstra``, ``solve_triangular``) with the same results, to the bit but
    for ``solve_triangular``'s last place."""
    if n <= SMALL:
        from . import lite

        return lite
    return _scipy()


def backend_of(matrix: Any) -> Any:
    """The backend a matrix was built with, for the matrices made from it."""
    from . import lite

    return lite if isinstance(matrix, lite.csr_matrix) else _scipy()


@cache
def _scipy() -> Any:
    import scipy.sparse as sp
    from scipy.linalg import solve_triangular
    from scipy.sparse.csgraph import breadth_first_order, connected_components, dijkstra

    return SimpleNamespace(
        csr_matrix=sp.csr_matrix,
        bmat=sp.bmat,
        diags=sp.diags,
        connected_components=connected_components,
        breadth_first_order=breadth_first_order,
        dijkstra=dijkstra,
        solve_triangular=solve_triangular,
    )


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
        sp = backend(self.n)
        ones = np.ones(len(self.src), dtype=np.int8)
        m = sp.csr_matrix((ones, (self.src, self.dst)), shape=(self.n, self.n))
        m.sum_duplicates()
        return m

    @cached_property
    def chain(self) -> sp.csr_matrix:
        """The transition matrix of the Markov chain: only transitions with p > 0."""
        sp = backend(self.n)
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
        sp = backend(self.n)
        seen = np.zeros(self.n, dtype=bool)
        if len(starts) == 0:
            return seen
        m = self.adjacency.T.tocsr() if reverse else self.adjacency
        # One search from a virtual node linked to every start.
        k = self.n
        link = sp.csr_matrix(
            (np.ones(len(starts), dtype=np.int8), (np.full(len(starts), k), starts)),
            shape=(k + 1, k + 1),
        )
        big = sp.bmat([[m, None], [None, sp.csr_matrix((1, 1), dtype=np.int8)]], format="csr")
        order = sp.breadth_first_order(big + link, k, directed=True, return_predecessors=False)
        seen[order[order < k]] = True
        return seen

    @cached_property
    def components(self) -> tuple[int, Ints]:
        """Strongly connected components of all declared transitions."""
        sp = backend(self.n)
        count, labels = sp.connected_components(self.adjacency, directed=True, connection="strong")
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

    Nothing is subtracted from 1: the diagonal of I - Q at a node is the sum of
    what leaves it (its other transitions and its drop-off), and a loop is
    reduced state by state as in GTH (Grassmann, Taksar and Heyman), keeping
    each diagonal as such a sum. A loop left only through 1e-9 (or 1e-300) is
    then solved to full relative precision, where 1 - 0.999999999 is off in its
    eighth digit and 1 - (1 - 1e-300) is 0, a singular matrix.
    """

    matrix: sp.csr_matrix
    labels: Ints
    levels: list[Ints]
    exits: Floats  # per node: drop-off plus every transition but to itself
    escape: Floats  # per node: drop-off plus transitions out of its component

    @classmethod
    def of(cls, matrix: sp.csr_matrix, drop: Floats | None = None) -> Solution:
        """``drop`` is each node's drop-off; by default what its row leaves of 1."""
        sp = backend_of(matrix)
        q = sp.csr_matrix(matrix)
        q.sum_duplicates()
        n = q.shape[0]
        count, labels = sp.connected_components(q, directed=True, connection="strong")
        coo = q.tocoo()
        if drop is None:  # what a row leaves of 1, snapped like Touchpoint.shares
            rest = 1.0 - np.bincount(coo.row, weights=coo.data, minlength=n)
            drop = np.where(rest > TOLERANCE, rest, 0.0)
        off = coo.row != coo.col
        exits = drop + np.bincount(coo.row[off], weights=coo.data[off], minlength=n)
        cross = labels[coo.row] != labels[coo.col]
        escape = drop + np.bincount(coo.row[cross], weights=coo.data[cross], minlength=n)
        # Each dependency between two components once: two loops tied by 100,000s of
        # transitions would otherwise be a matrix of as many repeated entries to sort
        # and add up (4.5x the whole analysis with journeymap.lite).
        # Sorted and deduplicated by hand: np.unique imports numpy.ma (4 ms of start-up).
        pairs = np.sort(labels[coo.col[cross]].astype(np.int64) * count + labels[coo.row[cross]])
        pairs = pairs[np.concatenate([[True], pairs[1:] != pairs[:-1]])] if len(pairs) else pairs
        dag = sp.csr_matrix(
            (np.ones(len(pairs), dtype=np.int8), (pairs // count, pairs % count)),
            shape=(count, count),
        )
        dag.sum_duplicates()
        pending = np.diff(dag.tocsc().indptr).astype(np.int64)
        frontier = np.flatnonzero(pending == 0)
        levels: list[Ints] = []
        # Raw CSR arrays, not scipy's row slicing: that costs ~50 µs a call, and a
        # long chain of choices has tens of thousands of narrow levels (8,000 diamonds:
        # 3 s for the levels alone).
        indptr, indices = dag.indptr, dag.indices
        pointers, targets = indptr.tolist(), indices.tolist()
        while frontier.size:
            levels.append(frontier)
            if frontier.size <= NARROW:
                ready = []
                for c in frontier.tolist():
                    for d in targets[pointers[c] : pointers[c + 1]]:
                        pending[d] -= 1
                        if pending[d] == 0:
                            ready.append(d)
                # Each component comes free once: a sort, no need to deduplicate.
                frontier = np.asarray(sorted(ready), dtype=np.int64)
            else:
                freed = indices[_rows(indptr, frontier)[0]]
                np.subtract.at(pending, freed, 1)
                frontier = distinct(freed[pending[freed] == 0])[0]
        return cls(q, labels.astype(np.int64), levels, exits, escape)

    def solve(self, b: Floats, *, transposed: bool = False) -> Floats:
        """x with x = b + Q x (or x = b + Q^T x, for expected visits).

        Nodes in a closed loop (nothing ever leaves) get 0. A node with no way
        out at all (an outcome, a dead end) keeps b.

        ``b`` may also be an (n, k) array: k right-hand sides solved together
        (see :meth:`_solve_columns`), each column as if alone, to rounding.
        """
        if b.ndim == 2:
            return self._solve_columns(b, transposed)
        q = self._transposed if transposed else self.matrix
        x = np.zeros(q.shape[0])
        sizes, order, starts, keep = self._layout
        indptr, indices, data = q.indptr, q.indices, q.data
        pointers, targets, shares = indptr.tolist(), indices.tolist(), data.tolist()
        keeps = keep.tolist()
        for level in reversed(self.levels) if transposed else self.levels:
            single = level[sizes[level] == 1]
            # x[nodes] is still 0, so Q x counts only what the nodes lead to. Narrow
            # levels (a long chain has tens of thousands) are summed in plain Python,
            # wide ones with a gather over the CSR arrays; scipy's row slicing costs
            # ~50 µs a call, which made a chain of 8,000 diamonds take seconds.
            if 0 < single.size <= NARROW:
                for v in order[starts[single]].tolist():
                    d = keeps[v]
                    if d > 0:
                        total = float(b[v])
                        for k in range(pointers[v], pointers[v + 1]):
                            total += shares[k] * x[targets[k]]
                        x[v] = total / d
            elif single.size:
                nodes = order[starts[single]]
                idx, lens = _rows(indptr, nodes)
                owner = np.repeat(np.arange(len(nodes)), lens)
                flows = np.bincount(
                    owner, weights=data[idx] * x[indices[idx]], minlength=len(nodes)
                )
                rhs = b[nodes] + flows
                d = keep[nodes]
                x[nodes] = np.where(d > 0, rhs / np.where(d > 0, d, 1.0), 0.0)
            for comp in level[sizes[level] > 1]:
                nodes = order[starts[comp] : starts[comp + 1]]
                escape = self.escape[nodes]
                if not escape.any():
                    continue  # a closed loop: nobody leaves it
                rhs = b[nodes] + q[nodes] @ x
                sub = self.matrix[nodes][:, nodes]
                x[nodes] = _solve_component(sub, self.exits[nodes], escape, rhs, transposed)
        return x

    @cached_property
    def _layout(self) -> tuple[Ints, Ints, Ints, Floats]:
        """Component sizes, nodes grouped by component, where each group starts, and
        each node's 1 - q_ii as :meth:`solve` takes it: kept for repeated solves.

        1 - q_ii of a node alone is what leaves it, or 1 where nothing does and there
        is no self-loop either; 0 marks a closed self-loop."""
        sizes = np.bincount(self.labels).astype(np.int64)
        order = np.argsort(self.labels, kind="stable").astype(np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        loops = self.matrix.diagonal() > 0
        keep = np.where(self.exits > 0, self.exits, np.where(loops, 0.0, 1.0))
        return sizes, order, starts, keep

    @cached_property
    def _chained(self) -> bool:
        """Are most nodes alone in narrow levels (see :meth:`_solve_columns`)?"""
        if not self.levels:
            return False
        sizes = self._layout[0]
        which = np.repeat(np.arange(len(self.levels)), [len(level) for level in self.levels])
        alone = sizes[np.concatenate(self.levels)] == 1
        single = np.bincount(which, weights=alone, minlength=len(self.levels))
        return bool(2 * single[single <= NARROW].sum() > len(self.labels))

    @cached_property
    def _transposed(self) -> sp.csr_matrix:
        return self.matrix.T.tocsr()

    def _solve_columns(self, b: Floats, transposed: bool) -> Floats:
        """:meth:`solve` for an (n, k) array of right-hand sides.

        The same order and the same method per column (additions only, each loop
        by GTH or as in :func:`_solve_component`), with the work that does not
        depend on b done once for all k columns (the order, the elimination of
        each small loop) or kept for the next call (each large loop cut out of
        the matrix, its system): :mod:`journeymap.timing` solves a few columns at
        a time, again and again, on journeys of 100,000 touchpoints. Sums are
        taken in another order than :meth:`solve`'s, so results agree to rounding.
        """
        sp = backend_of(self.matrix)
        q = self._transposed if transposed else self.matrix
        n, k = b.shape
        x = np.zeros((n, k))
        if k == 0:
            return x
        sizes, order, starts, keep = self._layout
        if k <= 4 and self._chained:
            # Mostly narrow levels (a long chain of choices): for a few columns, the
            # plain-Python walk of the one-column solve, column by column, beats a few
            # numpy calls a node (half the time on a chain of 30,000 diamonds).
            for c in range(k):
                x[:, c] = self.solve(np.ascontiguousarray(b[:, c]), transposed=transposed)
            return x
        indptr, indices, data = q.indptr, q.indices, q.data
        for level in reversed(self.levels) if transposed else self.levels:
            single = level[sizes[level] == 1]
            if 0 < single.size <= NARROW:
                # A long chain has tens of thousands of narrow levels: a few numpy
                # calls a node, never a sparse matrix built per level.
                for v in order[starts[single]].tolist():
                    d = keep[v]
                    if d > 0:
                        lo, hi = indptr[v], indptr[v + 1]
                        x[v] = (b[v] + data[lo:hi] @ x[indices[lo:hi]]) / d
            elif single.size:
                nodes = order[starts[single]]
                idx, lens = _rows(indptr, nodes)
                pointers = np.concatenate([[0], np.cumsum(lens)])
                rows = sp.csr_matrix((data[idx], indices[idx], pointers), shape=(len(nodes), n))
                rhs = b[nodes] + rows @ x
                d = keep[nodes][:, None]
                x[nodes] = np.where(d > 0, rhs / np.where(d > 0, d, 1.0), 0.0)
            for comp in level[sizes[level] > 1]:
                nodes = order[starts[comp] : starts[comp + 1]]
                escape = self.escape[nodes]
                if not escape.any():
                    continue  # a closed loop: nobody leaves it
                # The slices of a loop (and its system, see _solve_component) are kept
                # for the next call: cutting a loop of 100,000 nodes out of the matrix
                # costs as much as a few products with it.
                cache = self._blocks.setdefault(int(comp), {})
                rows = cache.get(transposed)
                if rows is None:
                    rows = cache[transposed] = q[nodes]
                sub = cache.get("sub")
                if sub is None:
                    sub = cache["sub"] = self.matrix[nodes][:, nodes]
                rhs = b[nodes] + rows @ x
                x[nodes] = _solve_component(
                    sub, self.exits[nodes], escape, rhs, transposed, cache=cache
                )
        return x

    @cached_property
    def _blocks(self) -> dict[int, dict[Any, Any]]:
        """Per loop, what :meth:`_solve_columns` cut out of the matrix, for later calls."""
        return {}


GTH_LIMIT = 400
#: Levels of at most this many components are walked in plain Python (see Solution).
NARROW = 16


def _rows(indptr: Ints, rows: Ints) -> tuple[Ints, Ints]:
    """The positions of the entries of ``rows`` in a CSR matrix, and each row's count."""
    begin = indptr[rows]
    lens = indptr[rows + 1] - begin
    offsets = np.repeat(begin - (np.cumsum(lens) - lens), lens)
    return offsets + np.arange(int(lens.sum())), lens


def _solve_component(
    sub: sp.csr_matrix,
    exits: Floats,
    escape: Floats,
    rhs: Floats,
    transposed: bool,
    cache: dict[Any, Any] | None = None,
) -> Floats:
    """Solve (I - Q_C) x = rhs (or its transpose) for one strongly connected component.

    Up to :data:`GTH_LIMIT` nodes, by GTH state reduction (:func:`_gth`): exact
    to rounding however rarely customers leave. Larger ones (a merged or
    generated journey where rework ties thousands of touchpoints together) with
    the diagonal of I - Q_C as the sum of each node's exits: densely up to 1500
    nodes, then iteratively, since sparse LU would fill in (seconds at 10,000
    touchpoints, minutes at 100,000), while Krylov methods converge to machine
    precision in a few dozen products: customers leave a journey at a steady
    rate, so I - Q_C is well conditioned. BiCGSTAB first (a third of GMRES's
    time on 100,000 touchpoints, with no basis to orthogonalise), GMRES for a
    few restarts if it stalls, then LU.

    Those subtract, so a large loop that customers almost never leave (less
    than :data:`NEARLY_CLOSED` of what flows through it escapes) is reduced
    state by state on the sparse matrix instead (:func:`_gth_sparse`: a long
    ring does not fill in); one too tangled for that within its budget is
    refused with a message rather than answered with numbers that do not add
    up (a 450-node ring left through 1e-300 was a singular matrix, through
    1e-14 its success and loss added up to 1.0008).

    ``rhs`` may be (m, k). ``cache`` (a dict kept per loop by
    :meth:`Solution._solve_columns`) keeps the system I - Q_C of an iterative
    solve for the next call.
    """
    import warnings

    from .errors import JourneyError

    sp = backend_of(sub)
    m = sub.shape[0]
    if m <= GTH_LIMIT:
        off = sub.toarray()
        np.fill_diagonal(off, 0.0)
        x = _gth(off, escape, rhs, transposed, sp)
        if not np.all(np.isfinite(x)):
            # Expected visits of a loop left at 1e-300 x 4e-24 a visit overflow a float,
            # and the dense triangular solves then multiply stored zeros by infinity:
            # NaN everywhere. The sparse reduction touches real entries only, so only
            # the visits that truly overflow are infinite (where there is no drop-off:
            # a drop-off of at least 1e-9 bounds a node's visits to 1e9).
            exact = _gth_sparse(sub, escape, rhs, transposed)
            if exact is None:  # pragma: no cover - 400 nodes fill in within the budget
                raise JourneyError(f"a loop of {m:,} touchpoints could not be solved")
            return exact
        return x
    if escape.sum() <= NEARLY_CLOSED * exits.sum():
        found = _gth_sparse(sub, escape, rhs, transposed)
        if found is None:
            raise JourneyError(
                f"a loop of {m:,} touchpoints that customers almost never leave"
                f" (a share of {escape.sum() / exits.sum():.1e} of what flows through it)"
                " is too tangled to solve exactly; give its touchpoints more ways out"
            )
        return found
    key = ("system", transposed)
    a = None if cache is None else cache.get(key)
    if a is None and cache is not None:
        # The same matrix, built in sparse form without COO (a tenth of the time on
        # a loop of 100,000 nodes): each diagonal entry is exits, each other -q_ij,
        # and x - x = 0 exactly removes the self-loops.
        loops = sp.diags(sub.diagonal(), format="csr")
        off_diagonal = sub - loops
        off_diagonal.eliminate_zeros()
        a = (sp.diags(exits, format="csr") - off_diagonal).tocsr()
        if transposed:
            a = a.T.tocsr()
        cache[key] = a
    if a is None:
        c = sub.tocoo()
        off = c.row != c.col
        a = sp.csr_matrix(
            (
                np.concatenate([-c.data[off], exits]),
                (
                    np.concatenate([c.row[off], np.arange(m)]),
                    np.concatenate([c.col[off], np.arange(m)]),
                ),
            ),
            shape=(m, m),
        )
        if transposed:
            a = a.T.tocsr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a singular matrix is a failure, never a printed warning
        try:
            x = _solve_sparse(a, rhs)
        except (np.linalg.LinAlgError, RuntimeWarning, UserWarning) as exc:
            raise JourneyError(f"a loop of {m:,} touchpoints could not be solved: {exc}") from None
    if not np.all(np.isfinite(x)):
        raise JourneyError(f"a loop of {m:,} touchpoints could not be solved (no finite answer)")
    return np.maximum(x, 0.0)


#: Large loops that keep more than all but this share of what flows through them are
#: solved by sparse state reduction: iterative solvers lose about 1e-13 / share.
NEARLY_CLOSED = 1e-4
#: Fill-in operations sparse state reduction may spend on one loop.
GTH_SPARSE_BUDGET = 3_000_000


def _gth_sparse(sub: sp.csr_matrix, escape: Floats, rhs: Floats, transposed: bool) -> Floats | None:
    """:func:`_gth` on a sparse loop, eliminating nodes of few neighbours first.

    Eliminating node k adds k's way through (in-neighbour i to out-neighbour j,
    N_ik N_kj / d_k) and its escape (N_ik e_k / d_k), and d_k is always the
    escape plus what is left of the row: only additions, exact to rounding
    however rarely the loop is left. A ring fills in by one entry a node; a
    loop whose fill-in would pass :data:`GTH_SPARSE_BUDGET` gives None.
    """
    m = sub.shape[0]
    c = sub.tocoo()
    out: list[dict[int, float]] = [{} for _ in range(m)]
    into: list[dict[int, float]] = [{} for _ in range(m)]
    for i, j, v in zip(c.row.tolist(), c.col.tolist(), c.data.tolist(), strict=True):
        if i != j and v > 0:
            out[i][j] = out[i].get(j, 0.0) + v
            into[j][i] = out[i][j]
    e = [float(v) for v in escape]
    order = sorted(range(m), key=lambda k: (len(out[k]) * len(into[k]), k))
    pivots = [0.0] * m
    rows: list[dict[int, float]] = [{} for _ in range(m)]
    cols: list[dict[int, float]] = [{} for _ in range(m)]
    spent = 0
    for k in order:
        row, col = out[k], into[k]
        for j in row:
            del into[j][k]
        for i in col:
            del out[i][k]
        rows[k], cols[k] = row, col
        pivot = e[k] + sum(row.values())
        if pivot > 0:
            spent += len(row) * len(col)
            if spent > GTH_SPARSE_BUDGET:
                return None
            for i, n_ik in col.items():
                f = n_ik / pivot
                reach = out[i]
                for j, n_kj in row.items():
                    if j != i:  # i -> k -> i stays at i: in GTH it is no exit of i
                        v = reach.get(j, 0.0) + f * n_kj
                        reach[j] = v
                        into[j][i] = v
                e[i] += f * e[k]
        else:
            pivot = np.inf  # underflowed to a dead loop: nobody gets through
        pivots[k] = pivot
    if rhs.ndim == 2:  # the elimination once, the triangular solves per column
        columns = [_gth_sparse_apply(order, pivots, rows, cols, c, transposed) for c in rhs.T]
        return np.stack(columns, axis=1) if columns else np.zeros(rhs.shape)
    return _gth_sparse_apply(order, pivots, rows, cols, rhs, transposed)


def _gth_sparse_apply(
    order: list[int],
    pivots: list[float],
    rows: list[dict[int, float]],
    cols: list[dict[int, float]],
    rhs: Floats,
    transposed: bool,
) -> Floats:
    """The triangular solves of :func:`_gth_sparse` for one right-hand side."""
    m = len(order)
    acc = [float(v) for v in rhs]
    x = [0.0] * m
    if transposed:  # (L U)^T z = c: U^T w = c forward, then L^T z = w back
        for k in order:
            w = acc[k]
            x[k] = w
            for j, n_kj in rows[k].items():
                acc[j] += n_kj / pivots[k] * w
        for k in reversed(order):
            x[k] = (x[k] + sum(n_ik * x[i] for i, n_ik in cols[k].items())) / pivots[k]
    else:  # L y = b forward, then U x = y back
        for k in order:
            y = acc[k] / pivots[k]
            x[k] = y
            for i, n_ik in cols[k].items():
                acc[i] += n_ik * y
        for k in reversed(order):
            x[k] += sum(n_kj * x[j] for j, n_kj in rows[k].items()) / pivots[k]
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


def _gth(
    off: Floats, escape: Floats, rhs: Floats, transposed: bool, backend_: Any = None
) -> Floats:
    """(D - N) x = rhs, or its transpose, without one subtraction.

    N is the component's transitions between distinct nodes (>= 0) and D the
    sum of each row of N plus its escape (drop-off and transitions out of the
    component), so every row of D - N sums to its escape. Gaussian elimination
    in node order, keeping the multipliers and the eliminated row scaled by the
    pivot (both in [0, 1], so nothing overflows), and each new pivot taken as
    the escape plus the off-diagonal of its reduced row, never as d - n*n/d.
    The triangular solves then only add non-negative terms (minus a negative
    stored entry), so every result has full relative precision.
    """
    solve_triangular = (backend_ or backend(len(escape))).solve_triangular
    lower, upper = _gth_factors(off, escape)
    if transposed:
        w = solve_triangular(upper, rhs, trans="T", unit_diagonal=True, check_finite=False)
        x = solve_triangular(lower, w, lower=True, trans="T", check_finite=False)
    else:
        y = solve_triangular(lower, rhs, lower=True, check_finite=False)
        x = solve_triangular(upper, y, unit_diagonal=True, check_finite=False)
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


def _gth_factors(off: Floats, escape: Floats) -> tuple[Floats, Floats]:
    """The lower (pivots on its diagonal) and unit upper factors of :func:`_gth`."""
    a = off.copy()
    e = np.asarray(escape, dtype=np.float64).copy()
    m = len(e)
    pivots = np.empty(m)
    for k in range(m):
        row = a[k, k + 1 :]
        pivot = e[k] + row.sum()
        if pivot > 0:
            row /= pivot  # in place: U's row k
            col = a[k + 1 :, k]
            a[k + 1 :, k + 1 :] += np.outer(col, row)
            e[k + 1 :] += col * (e[k] / pivot)
        else:
            pivot = np.inf  # underflowed to a dead loop: nobody gets through
        pivots[k] = pivot
    lower = -np.tril(a, -1)
    np.fill_diagonal(lower, pivots)
    upper = -np.triu(a, 1)
    np.fill_diagonal(upper, 1.0)
    return lower, upper


def _solve_sparse(a: sp.csr_matrix, rhs: Floats) -> Floats:
    """a x = rhs for a large component: dense, then BiCGSTAB, GMRES, LU (see above).

    ``rhs`` may be (m, k): one factorisation for all columns when dense, the
    iterations per column otherwise (a sparse product with k columns costs as
    much as k products with one, so batching the Krylov iterations saves nothing).
    """
    if a.shape[0] <= 1500:
        return np.asarray(np.linalg.solve(a.toarray(), rhs))
    if rhs.ndim == 2:
        columns = [_solve_sparse(a, np.ascontiguousarray(c)) for c in rhs.T]
        return np.stack(columns, axis=1) if columns else np.zeros(rhs.shape)
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
