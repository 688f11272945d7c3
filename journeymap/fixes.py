"""What to fix first: the gain in success from each single improvement.

Two kinds of improvement are ranked, each a change to one touchpoint's row of
the chain:

- ``drop-off``: a touchpoint's drop-off d is halved; the freed d/2 goes to its
  transitions in proportion to their probabilities (each p becomes p(1 + a),
  a = (d/2) / (1 - d)).
- ``lost-transition``: a transition into a lost outcome (probability p) is
  halved; the freed p/2 goes to the touchpoint's other transitions in
  proportion (each becomes q(1 + a), a = (p/2) / (their sum)). Skipped where
  the touchpoint has no other transition to take it.

Both move a share of row i onto i's own transitions, so with x the success
probabilities, v the expected visits from the entries and N the fundamental
matrix (I - Q)^-1, Sherman and Morrison give the gain in success share in
closed form::

    gain = v_i * a * x_i / (1 - a * (N_ii - 1))

since the changed row's product with x is a * x_i (the freed share lands
where x_i's own mix goes; a lost outcome has x = 0) and with N's column i is
a * (N_ii - 1), the expected returns to i. Everything but N_ii is already known
from the analysis. N_ii is 1 (or 1 / (1 - q_ii) with a self-loop) outside
loops, and within a loop it is the diagonal of the inverse of that loop's
I - Q_C (returns never leave the loop): one dense inverse per loop, by GTH
state reduction up to :data:`~journeymap.graph.GTH_LIMIT` touchpoints, by
LAPACK up to :data:`DENSE_LIMIT`.

Larger loops (a generated journey whose rework ties thousands of touchpoints
together) would need the diagonal of a big inverse, which no cheap method gives
exactly. There each gain is first bracketed: N_ii - 1 is at least 0 and at
most (what stays in the loop) / (what leaves it), so the gain lies between the
value with no returns and at most twice that. The brackets are then resolved
exactly, one sparse solve each, from the largest upper bound down, until the
top :data:`CERTAIN` are exact and known to be the top ones (or
:data:`REFINE_MAX` solves are spent); what is left is reported with
``exact: false`` and its bracket (``gain`` the lower bound, ``gain_max`` the
upper).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from .graph import Flow, Solution

__all__ = ["CERTAIN", "DENSE_LIMIT", "REFINE_MAX", "Fix", "describe", "fix_first", "gain_text"]

#: Loops up to this many touchpoints get their returns from one dense inverse.
DENSE_LIMIT = 1500
#: In larger loops, brackets are resolved until this many top items are exact and certain...
CERTAIN = 5
#: ... or this many sparse solves are spent.
REFINE_MAX = 20

Floats = NDArray[np.float64]


class Fix(NamedTuple):
    """One improvement and what it gains, as a share of the customers who start.

    ``subject`` is a touchpoint id (``drop-off``) or ``SOURCE -> OUTCOME``
    (``lost-transition``); ``now`` is the drop-off or the transition's
    probability as it is. Where ``exact`` is false, ``gain`` is a lower bound
    and ``gain_max`` an upper one (see the module docstring). A named tuple: a
    journey of 100,000 touchpoints has as many items.
    """

    subject: str
    kind: str
    now: float
    gain: float
    exact: bool = True
    gain_max: float | None = None

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "subject": self.subject,
            "kind": self.kind,
            "now": self.now,
            "gain": self.gain,
        }
        if not self.exact:
            found["exact"] = False
            found["gain_max"] = self.gain_max
        return found

    @property
    def per_thousand(self) -> float:
        """Customers kept per 1,000 who start: how the CLI and report show the gain."""
        return self.gain * 1000


def describe(fix: Fix, titles: Mapping[str, str]) -> str:
    """The improvement in words, for people: what to halve, and where it stands now."""
    if fix.kind == "drop-off":
        return (
            f"halve the drop-off at “{titles.get(fix.subject, fix.subject)}” (now {_pct(fix.now)})"
        )
    source, _, target = fix.subject.partition(" -> ")
    return (
        f"halve the way from “{titles.get(source, source)}” to"
        f" “{titles.get(target, target)}” (now {_pct(fix.now)})"
    )


def gain_text(fix: Fix) -> str:
    """The gain in customers per 1,000 who start: ``+11.1``, or a range where not exact."""
    if fix.exact or fix.gain_max is None:
        return f"+{_num(fix.gain * 1000)}"
    return f"+{_num(fix.gain * 1000)} to {_num(fix.gain_max * 1000)}"


def _num(x: float) -> str:
    return f"{x:.1f}" if x >= 0.05 or x == 0 else f"{x:.2g}"


def _pct(p: float) -> str:
    from .dot import percent

    return percent(p)


def _round(values: Floats) -> list[float]:
    """12 digits, like the rest of the analysis; -0.0 becomes 0.0."""
    rounded: list[float] = (np.round(values, 12) + 0.0).tolist()
    return rounded


def fix_first(f: Flow, solution: Solution, success: Floats, visits: Floats) -> list[Fix]:
    """Every improvement and its exact gain, largest first, then by subject.

    ``solution`` is ``Solution.of(f.chain, f.drop)``, ``success`` the success
    probability per node and ``visits`` the expected visits per node of the
    customers who start (as :func:`journeymap.analysis.leaks` computes them).
    """
    from .graph import distinct

    t = f.n_touchpoints
    row_sum = np.bincount(f.src, weights=f.prob, minlength=f.n)

    # The candidates: (node, a, now, subject, kind), as parallel arrays.
    drop_nodes = np.flatnonzero((f.drop[:t] > 0) & (f.drop[:t] < 1) & (row_sum[:t] > 0))
    drop_a = (f.drop[drop_nodes] / 2) / row_sum[drop_nodes]
    lost_edges = np.flatnonzero(f.lost[f.dst] & (f.prob > 0))
    others = row_sum[f.src[lost_edges]] - f.prob[lost_edges]
    keep = others > 0
    lost_edges, others = lost_edges[keep], others[keep]
    lost_a = (f.prob[lost_edges] / 2) / others

    nodes = np.concatenate([drop_nodes, f.src[lost_edges]]).astype(np.int64)
    a = np.concatenate([drop_a, lost_a])
    now = np.concatenate([f.drop[drop_nodes], f.prob[lost_edges]])
    subjects = [f.ids[i] for i in drop_nodes.tolist()] + [
        f"{f.ids[s]} -> {f.ids[d]}"
        for s, d in zip(f.src[lost_edges].tolist(), f.dst[lost_edges].tolist(), strict=True)
    ]
    kinds = ["drop-off"] * len(drop_nodes) + ["lost-transition"] * len(lost_edges)
    if not len(nodes):
        return []

    first = visits[nodes] * a * success[nodes]  # the gain if nobody came back
    returns, upper_returns = _returns(solution, distinct(nodes)[0])
    low = np.zeros(len(nodes))
    high = np.zeros(len(nodes))
    known = ~np.isnan(returns[nodes])
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        exact_gain = first / (1 - a * np.where(known, returns[nodes], 0.0))
        high_gain = first / (1 - a * upper_returns[nodes])
    low[known] = exact_gain[known]
    high[known] = exact_gain[known]
    low[~known] = first[~known]
    high[~known] = high_gain[~known]
    # Returns need what the change does not free (a customer who comes back did not
    # leave), so the denominator is at least 1/2: never more than twice the first order.
    high[~known] = np.minimum(high[~known], 2 * first[~known])

    if (~known).any():
        _refine(solution, nodes, a, first, returns, low, high, known)

    low = np.clip(np.nan_to_num(low, nan=0.0, posinf=1.0), 0.0, 1.0)
    high = np.clip(np.nan_to_num(high, nan=0.0, posinf=1.0), 0.0, 1.0)
    gains = _round(low)
    tops = _round(high)
    nows = _round(now)
    # A bracket narrower than the 12 digits reported is an exact answer.
    exact = [k or g == h for k, g, h in zip(known.tolist(), gains, tops, strict=True)]
    # Plain tuples sort in C (a key function per item costs seconds at 100,000).
    ranked = sorted(zip([-g for g in gains], subjects, kinds, range(len(gains)), strict=True))
    return [
        Fix(subject, kind, nows[k], -neg + 0.0, exact[k], None if exact[k] else tops[k])
        for neg, subject, kind, k in ranked
    ]


def _returns(solution: Solution, wanted: NDArray[np.int64]) -> tuple[Floats, Floats]:
    """N_ii - 1, the expected returns to each wanted node, and an upper bound of it.

    NaN where only the bound is known (a loop larger than :data:`DENSE_LIMIT`).
    """
    from .graph import GTH_LIMIT, NEARLY_CLOSED, _gth, backend_of, distinct

    q = solution.matrix
    n = q.shape[0]
    returns = np.zeros(n)
    upper = np.zeros(n)
    diagonal = q.diagonal()
    labels = solution.labels
    sizes = np.bincount(labels)
    alone = wanted[sizes[labels[wanted]] == 1]
    # A node alone: it comes back only through its self-loop, q/(1-q) times.
    with np.errstate(divide="ignore", invalid="ignore"):
        own = np.where(diagonal[alone] > 0, diagonal[alone] / solution.exits[alone], 0.0)
    returns[alone] = own
    upper[alone] = own
    in_loops = wanted[sizes[labels[wanted]] > 1]
    if not len(in_loops):
        return returns, upper
    order = np.argsort(labels, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    for comp in distinct(labels[in_loops])[0].tolist():
        members = order[starts[comp] : starts[comp + 1]]
        m = len(members)
        escape = solution.escape[members]
        exits = solution.exits[members]
        # What stays in the loop a step, over what leaves it: the returns if every
        # step that stays came back.
        with np.errstate(divide="ignore", invalid="ignore"):
            stay = np.where(escape > 0, (exits - escape + diagonal[members]) / escape, np.inf)
        upper[members] = stay
        if m > DENSE_LIMIT:
            returns[members] = np.nan
            continue
        sub = q[members][:, members].toarray()
        if m <= GTH_LIMIT or escape.sum() <= NEARLY_CLOSED * exits.sum():
            np.fill_diagonal(sub, 0.0)
            inverse = _gth(sub, escape, np.eye(m), False, backend_of(q))
        else:
            dense = -sub
            np.fill_diagonal(dense, exits)
            inverse = np.linalg.inv(dense)
        returns[members] = np.maximum(np.diagonal(inverse) - 1.0, 0.0)
    return returns, upper


def _refine(
    solution: Solution,
    nodes: NDArray[np.int64],
    a: Floats,
    first: Floats,
    returns: Floats,
    low: Floats,
    high: Floats,
    known: NDArray[np.bool_],
) -> None:
    """Resolve brackets in large loops, largest upper bound first (in place).

    Stops when :data:`CERTAIN` exact gains are at least every open upper bound,
    so the top ones are exact and known to be the top, or after
    :data:`REFINE_MAX` solves. Deterministic: the order depends on the numbers only.
    """
    labels = solution.labels
    order = np.argsort(labels, kind="stable")
    sizes = np.bincount(labels)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    from .graph import NEARLY_CLOSED

    systems: dict[int, tuple[Any, dict[int, int]]] = {}
    # Loops an iterative solve cannot answer to full precision (nearly closed, or
    # failing): their brackets stay open rather than hold a wrong number.
    hopeless = np.zeros(len(nodes), dtype=bool)
    solves = 0
    while True:
        open_items = np.flatnonzero(~known & ~hopeless)
        if not len(open_items):
            return
        best_open = _largest_first(open_items, high[open_items])
        bound = high[best_open]
        settled = np.count_nonzero(known & (low >= bound))
        if settled >= CERTAIN or bound <= 0 or solves >= REFINE_MAX:
            return
        node = int(nodes[best_open])
        comp = int(labels[node])
        same = np.flatnonzero((nodes == node) & ~known)
        members = order[starts[comp] : starts[comp + 1]]
        if solution.escape[members].sum() <= NEARLY_CLOSED * solution.exits[members].sum():
            hopeless[labels[nodes] == comp] = True
            continue
        if comp not in systems:
            systems[comp] = (_system(solution, members), {int(v): k for k, v in enumerate(members)})
        matrix, position = systems[comp]
        # N = I + N Q, so N_ii - 1 is entry i of N times what flows into i: solved for
        # directly, nothing is subtracted from N_ii (which is 1.000001 here).
        into = solution.matrix[members, node].toarray().ravel()
        solves += 1
        found = _solve(matrix, into)
        if found is None:
            hopeless[same] = True
            continue
        returns[node] = max(float(found[position[node]]), 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            gain = first[same] / (1 - a[same] * returns[node])
        low[same] = gain
        high[same] = gain
        known[same] = True


def _largest_first(items: NDArray[np.int64], values: Floats) -> int:
    """The first of ``items`` (ascending) whose value is the largest, NaN counted last.

    What ``items[np.lexsort((items, -values))[0]]`` gives, in a few passes instead
    of a sort: :func:`_refine` picks one this way per solve, among the 100,000s of
    items of a big journey (the sorts took 0.15 s in all, on 100,000 touchpoints).
    """
    negated = -values
    known = ~np.isnan(negated)
    if not known.any():
        return int(items[0])
    return int(items[np.flatnonzero(known & (negated == negated[known].min()))[0]])


def _system(solution: Solution, members: NDArray[np.int64]) -> Any:
    """I - Q_C of one loop, with each diagonal as the sum of the node's exits."""
    from .graph import backend_of

    sp = backend_of(solution.matrix)
    sub = solution.matrix[members][:, members].tocoo()
    off = sub.row != sub.col
    m = len(members)
    return sp.csr_matrix(
        (
            np.concatenate([-sub.data[off], solution.exits[members]]),
            (
                np.concatenate([sub.row[off], np.arange(m)]),
                np.concatenate([sub.col[off], np.arange(m)]),
            ),
        ),
        shape=(m, m),
    )


def _solve(matrix: Any, rhs: Floats) -> Floats | None:
    """The solve of :func:`journeymap.graph._solve_sparse`, or None where it fails."""
    import warnings

    from .graph import _solve_sparse

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            x = _solve_sparse(matrix, rhs)
        except (np.linalg.LinAlgError, RuntimeWarning, UserWarning):
            return None
    return x if np.all(np.isfinite(x)) else None
