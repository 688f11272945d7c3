"""How long customers take: time to each outcome, and where the time goes.

A customer's time is the sum, over the touchpoints visited, of their
``duration``, plus the ``wait`` of every transition taken; a missing duration
or wait counts as 0. Each transition i -> j therefore takes
tau_ij = duration(i) + wait(i -> j). Customers who drop off reach no outcome
and have no time to one.

**Probability and mean, exactly.** Over the absorbing chain (every transition
with its probability, loops included), with a_o the probability of ending in
outcome o, the expected time of the customers who end there, counted as
E[T 1{end at o}], solves m_o = Q m_o + sum_j p_ij tau_ij a_o[j]: one linear
solve after the one for a_o, both by :class:`~journeymap.graph.Solution`
(component by component, without subtraction, so loops and loops left only
rarely are exact). The mean given that one ends at o is m_o / a_o. When there
are fewer entries than outcomes the same is done on the transposed chain
(expected visits from each entry, then their time-weighted sum). All right-hand
sides are solved together as one (n, k) array.

**Median and 90th percentile, on a time grid.** The distribution of T given
the outcome is computed on a grid of step h, twice: every transition time
rounded *down* to a multiple of h, then *up*. Probability mass is carried step
by step: within a step, the transitions that take 0 steps (loops included)
are resolved by one linear solve; mass that takes d steps is scheduled d
steps ahead; the mass absorbed by each outcome at each step is recorded.
Pathwise, the rounded-down time of every walk is at most its true time and
the rounded-up time at least, so the quantiles of the two passes bracket the
true quantile (the walks and their probabilities are the same in all
three). Where the two bounds of both quantiles are within 1% of the mean
(:data:`RESOLUTION`), their midpoint is given: within 0.5% of the mean of the
true value. Other pairs are computed again on a finer grid.

The grids are multiples of the exact unit g, the largest duration that
divides every transition time (computed exactly from the decimal text of each
duration and wait: ``2w`` alone gives g = 2 weeks, ``5m`` and ``3d`` give
5 minutes). On the grid of step g nothing is rounded: one pass, exact
quantiles. Steps where no mass arrives are skipped, so a journey whose only
times are ``2w`` takes a few steps whatever its means. When g is coarser than
a pair needs (about 1% of its mean divided by the expected number of timed
transitions on its way, from one more exact solve), the exact grid is all
that is used. Otherwise it is tried first on a small share of the budget
(:data:`EXACT_TRIAL`: few distinct times make it cheap) and keeps what it
settles; the pairs left go through grids of g times a power of two, from the
coarsest one some pending pair may settle on, halving, down to g itself.

A pass stops as soon as every quantile asked for is *determined*: the mass
absorbed at the outcome has reached q times its probability. Mass still
travelling can only arrive later, so it cannot move a quantile already
reached: nothing is cut off (no tail of 1e-6 or any size is dropped) and the
quantiles are those of the whole distribution on the grid. The quantile of a
discrete distribution is the smallest grid time t with P(T <= t | outcome)
>= q, where a cumulative share within a relative 1e-9 (:data:`TIE`) of q
counts as q (float noise, as in :data:`~journeymap.model.TOLERANCE`: a
geometric number of rounds whose CDF is exactly 0.5 at one round must give
that round).

**Carrying the mass.** On small chains (a step map of up to 250,000
numbers) the steps go by blocks of up to :data:`BLOCKS` (:class:`_Blocks`:
what arrives from before the block, plus one triangular solve for the
transitions shorter than a block), following the same steps, work and looks
as a step at a time, so the figures are the same (tested against it, budget
included): a step at a time costs a dozen numpy calls on tiny arrays, 0.3 s
of the analysis of an example journey (0.1 s by blocks).

**Budget.** The passes run within a fixed amount of work
(:data:`WORK_BUDGET`, counted from the sizes of the solves and steps, not
timed, so the same journey always gives the same answer on any machine;
about two seconds here at most). Quantiles not settled within it, for
instance on a journey of 100,000 touchpoints with many distinct waits, or a
loop of waits that customers almost never leave, are given as None and
:attr:`Timing.notes` says which and why: never a hang, never a number outside
its stated accuracy. Means and probabilities are always given (unless a time
is too long for a float, which the notes also say).

Figures: probabilities are rounded to 12 digits (as everywhere in the
analysis), times to 0.1 s. An outcome is listed for an entry when its
probability, so rounded, is above 0; ``success`` is any success outcome, with
``known_wait_share``: the share of the success probability that travels only
over transitions with a written ``wait`` (a transition into an outcome counts
as known: reaching the outcome is where the time ends; ``wait: 0s`` writes "no
wait" elsewhere). Per stage, for the customers who
succeed (starting over the entries as in :func:`~journeymap.analysis.entry_weights`),
:attr:`Timing.stage_shares` is the share of their expected time to success
spent in each stage: the time of a transition i -> j counts for i's stage.

Only the nodes that an entry reaches and that lead to an outcome take part:
the others change no probability and no time of any outcome, and leaving
them out leaves out every loop that nobody leaves (mass would circle there
for ever). A transition into such a node is an exit, like a drop-off.
"""

from __future__ import annotations

import heapq
import math
import re
from contextlib import suppress
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import compress
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .analysis import _clean, entry_weights
from .errors import JourneyError
from .graph import Flow, Solution, backend, backend_of, distinct
from .model import DURATION, DURATION_PART, DURATION_UNITS, Journey

if TYPE_CHECKING:
    import scipy.sparse as sp

__all__ = [
    "RESOLUTION",
    "SUCCESS",
    "TIE",
    "WORK_BUDGET",
    "OutcomeTime",
    "Timing",
    "human_duration",
    "time_to_outcomes",
]

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]

#: The key of the record for "any success outcome".
SUCCESS = "success"
#: A quantile is settled when its lower and upper bounds are this share of the mean apart.
RESOLUTION = 0.01
#: A cumulative share within this relative tolerance of q has reached q (float noise).
TIE = 1e-9
#: Work the distribution may take, in units of about one multiply-add (see _Work).
WORK_BUDGET = 1_500_000_000
#: The most numbers a precomputed step map (rows x state nodes) may hold.
STEP_MAP_LIMIT = 20_000_000
#: Delays up to this many steps wait in a ring of slots (of at most RING_NUMBERS
#: numbers in all); longer ones in a dict by step.
RING_LIMIT = 4096
RING_NUMBERS = 4_000_000
#: Steps read between two looks for the quantiles, when a step is a matrix product.
BATCH = 32
#: Steps carried at once on small chains (at most; see _Blocks); 0: a step at a time.
BLOCKS = 32
#: The most numbers a block of steps read between two looks may hold.
LOOK_NUMBERS = 2_000_000
#: Work the exact grid may take first, before rounded grids are tried (see _quantiles).
EXACT_TRIAL = 30_000_000
#: Less mass than this (the smallest normal float) leaving a step is no mass: a loop's
#: last subnormal crumb, times a share over 0.5, rounds back to itself and would keep
#: a pass going (and counting work) for ever; products of several shares at once round
#: it to 0 instead, so without this the two ways of carrying the mass would differ.
TINY = float(np.finfo(np.float64).tiny)


@dataclass(frozen=True)
class OutcomeTime:
    """The time to one outcome (or to any success) from one entry.

    ``probability`` of ending there; ``mean_s``, ``p50_s``, ``p90_s`` of the
    time, in seconds, given that one ends there (None when they cannot be
    computed: :attr:`Timing.notes` says why); ``known_wait_share`` only for
    ``success`` (``success`` is True), the share of its probability that
    travels only over transitions with a written ``wait``.
    """

    probability: float
    mean_s: float | None
    p50_s: float | None
    p90_s: float | None
    known_wait_share: float | None = None
    success: bool = False  # the record of any success outcome

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "probability": self.probability,
            "mean_s": self.mean_s,
            "p50_s": self.p50_s,
            "p90_s": self.p90_s,
        }
        if self.success:
            found["known_wait_share"] = self.known_wait_share
        return found


@dataclass(frozen=True)
class Timing:
    """Time to the outcomes of one journey; :meth:`to_dict` is the JSON form.

    ``entries``: entry id (sorted) -> outcome id (sorted, then ``success``)
    -> :class:`OutcomeTime`. ``stage_shares``: stage id (journey order) -> the
    share of the expected time to success of the customers who succeed spent
    there; empty when nobody succeeds or success takes no time.
    ``success_mean_s``: their expected time to success (None when nobody
    succeeds). ``grid_s``: the finest grid step the quantiles were computed on
    (None when none was needed). ``notes``: what could not be computed and why.
    """

    entries: dict[str, dict[str, OutcomeTime]]
    stage_shares: dict[str, float]
    success_mean_s: float | None
    grid_s: float | None
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            entry: {target: record.to_dict() for target, record in records.items()}
            for entry, records in self.entries.items()
        }


def human_duration(seconds: float) -> str:
    """A time for people, two significant figures: ``45 s``, ``12 min``, ``3.5 h``, ``2.1 weeks``."""
    for unit, size, limit in (
        ("s", 1, 60),
        ("min", 60, 3600),
        ("h", 3600, 2 * 86400),
        ("days", 86400, 14 * 86400),
        ("weeks", 604800, math.inf),
    ):
        if seconds < limit:
            value = seconds / size
            text = f"{value:.1f}" if value < 10 else f"{value:.0f}"
            return f"{text.removesuffix('.0')} {unit}"
    return f"{seconds:.0f} s"  # pragma: no cover - inf and NaN only


def _share(p: float) -> float | None:
    return _clean(p) if math.isfinite(p) else None


def _seconds(t: float | None) -> float | None:
    return None if t is None or not math.isfinite(t) else float(round(t, 1)) + 0.0


def _exact(text: str | None) -> Fraction:
    """The seconds in a duration, exactly (``1.5h`` is 5400, ``0.1s`` is 1/10)."""
    if text is None:
        return Fraction(0)
    if re.match(DURATION, text) is None:  # pragma: no cover - the model holds valid ones
        raise ValueError(f"not a duration: {text!r}")
    return sum(
        (Fraction(n) * DURATION_UNITS[unit] for n, unit in DURATION_PART.findall(text)),
        Fraction(0),
    )


def _float(x: Fraction) -> float:
    try:
        return float(x)
    except OverflowError:
        return math.inf


@dataclass(frozen=True, eq=False)
class _Chain:
    """The chain on the nodes that matter: reached from an entry, leading to an outcome.

    Other nodes change no probability and no time of any outcome; leaving them
    out also leaves out every loop that nobody leaves, which would otherwise
    keep mass travelling for ever. A transition into a node left out is an
    exit, like a drop-off.
    """

    nodes: Ints  # flow index of each local node
    src: Ints
    dst: Ints
    prob: Floats
    tau: Floats  # seconds of each transition, duration of its source plus its wait
    combo: Ints  # each transition's index into ``times``
    times: list[Fraction]  # the distinct transition times, exactly
    known: Bools  # the transition has a written wait
    drop: Floats

    @property
    def n(self) -> int:
        return len(self.nodes)

    def matrix(self, keep: Bools, values: Floats | None = None) -> sp.csr_matrix:
        """The kept transitions' probabilities (or ``values``), duplicates added up.

        Transitions come sorted by source (as in the flow), so the rows are built
        directly, without the sort of a COO matrix (a million transitions).
        """
        sp = backend(self.n)
        data = self.prob[keep] if values is None else values[keep]
        counts = np.bincount(self.src[keep], minlength=self.n)
        indptr = np.concatenate([[0], np.cumsum(counts)])
        m = sp.csr_matrix((data, self.dst[keep], indptr), shape=(self.n, self.n))
        m.sum_duplicates()
        return m

    def solution(self, keep: Bools) -> Solution:
        """Solution of the chain with only the ``keep`` transitions; the others exit."""
        out = ~keep
        drop = self.drop + np.bincount(self.src[out], weights=self.prob[out], minlength=self.n)
        return Solution.of(self.matrix(keep), drop)


def _reach(m: sp.csr_matrix, starts: Ints) -> Bools:
    """Nodes reachable from ``starts`` along the entries of ``m``."""
    sp = backend_of(m)
    n = m.shape[0]
    seen = np.zeros(n, dtype=bool)
    if len(starts) == 0:
        return seen
    link = sp.csr_matrix(
        (np.ones(len(starts)), (np.full(len(starts), n), starts)), shape=(n + 1, n + 1)
    )
    big = sp.bmat([[m, None], [None, sp.csr_matrix((1, 1))]], format="csr") + link
    order = sp.breadth_first_order(big, n, directed=True, return_predecessors=False)
    seen[order[order < n]] = True
    return seen


def _chain(journey: Journey, f: Flow) -> _Chain:
    tps = journey.touchpoints
    ends = np.flatnonzero(f.success | f.lost)
    useful = _reach(f.chain, f.entries) & _reach(f.chain.T.tocsr(), ends)
    local = np.full(f.n, -1, dtype=np.int64)
    nodes = np.flatnonzero(useful).astype(np.int64)
    local[nodes] = np.arange(len(nodes))
    go = f.prob > 0
    inside = go & useful[f.src] & useful[f.dst]
    leave = go & useful[f.src] & ~useful[f.dst]
    drop = f.drop[nodes] + np.bincount(
        local[f.src[leave]], weights=f.prob[leave], minlength=len(nodes)
    )
    # Times: few distinct texts over a million transitions, most without any: each
    # text is parsed once, and only the transitions that take time are looked at.
    # (A duration's text is never empty, so ``compress`` finds the written ones in C.)
    waits = [t.wait for tp in tps for t in tp.next]
    texts: dict[str | None, int] = {None: 0}
    wait_code = np.zeros(len(waits), dtype=np.int64)
    written = list(compress(range(len(waits)), waits))
    wait_code[written] = [texts.setdefault(waits[k], len(texts)) for k in written]
    durations = [tp.duration for tp in tps]
    dur_code = np.zeros(len(tps), dtype=np.int64)
    lasting = list(compress(range(len(tps)), durations))
    dur_code[lasting] = [texts.setdefault(durations[i], len(texts)) for i in lasting]
    exact = [_exact(text) for text in texts]  # dicts keep insertion order
    where = np.flatnonzero(inside)
    pair = dur_code[f.src[where]] * len(texts) + wait_code[where]
    timed = np.flatnonzero(pair)
    found, inverse = distinct(pair[timed])
    combo = np.zeros(len(where), dtype=np.int64)
    combo[timed] = inverse.reshape(-1) + 1
    times = [Fraction(0)] + [exact[p // len(texts)] + exact[p % len(texts)] for p in found.tolist()]
    seconds = np.asarray([_float(t) for t in times], dtype=np.float64)
    return _Chain(
        nodes=nodes,
        src=local[f.src[where]],
        dst=local[f.dst[where]],
        prob=f.prob[where],
        tau=seconds[combo],
        combo=combo,
        times=times,
        # A transition into an outcome ends the clock: without a wait it has none to
        # know (else no journey would ever have a known way to success).
        known=(wait_code[where] > 0) | (f.success | f.lost)[f.dst[where]],
        drop=drop,
    )


def time_to_outcomes(
    journey: Journey,
    f: Flow,
    *,
    success: Floats | None = None,
    visits: Floats | None = None,
    quantiles: bool = True,
) -> Timing:
    """Time to each outcome from each entry, and the share of each stage in it.

    ``f`` is ``flow(journey)``. Two optional per-node arrays the analysis has
    already solved for, each saving a solve over the whole chain (a tenth of a
    second on 100,000 touchpoints): ``success``, each node's success
    probability as :func:`journeymap.analysis.success_probability` gives it
    (the ``success`` records then carry exactly those probabilities, the same
    numbers the analysis reports); ``visits``, each node's expected visits by
    customers started over the entries by
    :func:`~journeymap.analysis.entry_weights` (as :func:`~journeymap.analysis.leaks`
    solves them, closed loops cut open or not: no time to success is spent
    there). Without ``quantiles`` the medians and 90th percentiles are left out
    (None): a map needs only the means, and the quantiles are most of the time.
    See the module docstring for the method and its guarantees.
    """
    chain = _chain(journey, f)
    local = np.full(f.n, -1, dtype=np.int64)
    local[chain.nodes] = np.arange(chain.n)
    entry_ids = sorted(journey.entry_ids)
    entries = [e for e in entry_ids if local[f.index[e]] >= 0]
    entry_nodes = np.asarray([local[f.index[e]] for e in entries], dtype=np.int64)
    ends = np.flatnonzero((f.success | f.lost)[chain.nodes])
    outcome_ids = sorted(f.ids[i] for i in chain.nodes[ends].tolist())
    outcome_nodes = np.asarray([local[f.index[o]] for o in outcome_ids], dtype=np.int64)
    is_success = f.success[chain.nodes[outcome_nodes]]
    targets = [*outcome_ids, SUCCESS]
    ne, nout = len(entries), len(outcome_nodes)
    notes: list[str] = []
    finite = bool(np.all(np.isfinite(chain.tau)))
    if not finite:
        notes.append(
            "times are not given: a duration or wait is too long to count in seconds"
            " (more than about 10^308)"
        )
    weights = entry_weights(journey, f)[chain.nodes]
    given = None if success is None else np.asarray(success, dtype=np.float64)[chain.nodes]

    seen = None if visits is None else np.asarray(visits, dtype=np.float64)[chain.nodes]
    moments = (
        _Moments(chain, entry_nodes, outcome_nodes, weights, given, seen) if ne and nout else None
    )
    # Per entry and target (each outcome, then any success in column nout).
    prob = np.zeros((ne, nout + 1))
    means = np.zeros((ne, nout + 1))
    if moments is not None:
        prob = moments.with_success(moments.probability, is_success)
        if given is not None:
            prob[:, nout] = given[entry_nodes]
        prob = np.clip(prob, 0.0, 1.0)
        means[:] = np.nan
        if finite and not chain.tau.any():
            means[:] = 0.0  # nothing takes time: no solve needed
        elif finite:
            # A large loop whose expected time overflows a float cannot be solved: its
            # means stay NaN (not given, with a note below).
            with suppress(JourneyError):
                means = moments.per_customer(moments.weighted(chain.tau), prob, is_success)
    listed = np.round(prob, 12) > 0
    if finite and not np.all(np.isfinite(means[listed])):
        notes.append(
            "some mean times are not given: customers circle a loop so long that the"
            " expected time is too long to count in seconds"
        )

    p50 = np.full(prob.shape, np.nan)
    p90 = np.full(prob.shape, np.nan)
    grid: float | None = None
    ask = listed & np.isfinite(means)
    # No time at all on any way there: every quantile is 0.
    p50[ask & (means == 0)] = 0.0
    p90[ask & (means == 0)] = 0.0
    pending = ask & (means > 0)
    if quantiles and moments is not None and pending.any():
        grid = _quantiles(
            moments, is_success, prob, means, pending, (p50, p90), notes, targets, entries
        )

    known_share = np.zeros(ne)
    if ne and is_success.any():
        try:
            b = f.success[chain.nodes].astype(np.float64)
            alone = chain.solution(chain.known).solve(b)[entry_nodes]
        except JourneyError as exc:  # the loops of the written waits alone, too tangled
            alone = np.full(ne, np.nan)
            notes.append(f"known_wait_share is not given: {exc}")
        of = np.where(prob[:, nout] > 0, prob[:, nout], 1.0)
        with np.errstate(invalid="ignore"):
            known_share = np.clip(alone / of, 0.0, 1.0)

    records: dict[str, dict[str, OutcomeTime]] = {e: {} for e in entry_ids}
    # An outcome may be named 'success': alone among the success outcomes, its
    # record is the success record; otherwise it is only part of it.
    named = outcome_ids.index(SUCCESS) if SUCCESS in outcome_ids else -1
    if named >= 0 and (not is_success[named] or int(is_success.sum()) > 1):
        notes.append(
            f"the outcome named '{SUCCESS}' has no record of its own: '{SUCCESS}' is the"
            " record of every success outcome together"
        )
    for r, e in enumerate(entries):
        row = records[e]
        for c, target in enumerate(targets):
            if listed[r, c] and c != named:
                row[target] = OutcomeTime(
                    probability=_clean(float(prob[r, c])),
                    mean_s=_seconds(float(means[r, c])),
                    p50_s=_seconds(float(p50[r, c])),
                    p90_s=_seconds(float(p90[r, c])),
                    known_wait_share=_share(float(known_share[r])) if c == nout else None,
                    success=c == nout,
                )
    shares: dict[str, float] = {}
    success_mean: float | None = None
    if moments is not None and finite:
        shares, success_mean = _stages(journey, chain, moments, is_success)
        if success_mean is not None and not math.isfinite(success_mean):
            notes.append(
                "stage_shares and success_mean_s are not given: customers circle a loop so"
                " long that the expected time to success is too long to count in seconds"
            )
    return Timing(
        entries=records,
        stage_shares=shares,
        success_mean_s=_seconds(success_mean),
        grid_s=grid,
        notes=notes,
    )


def _forward(entries: int, outcomes: int) -> bool:
    """Solve with a column per outcome (True) or per entry: whichever are fewer."""
    return outcomes <= entries


class _Moments:
    """The exact linear solves: probabilities, and sums of a value over the transitions taken.

    Forward (no more outcomes than entries), the columns are the outcomes: a_o
    = Q a_o + 1_o, then for a value v per transition, E[sum of v 1{end at o}]
    solves m = Q m + sum_j p_ij v_ij a_o[j]. Otherwise the columns are the
    entries: expected visits x = s + Q^T x, then y = Q^T y + sum_i x_i p_ij v_ij,
    read at the outcomes (an outcome is visited at most once). Either way k
    columns in one (n, k) solve.
    """

    def __init__(
        self,
        chain: _Chain,
        entry_nodes: Ints,
        outcome_nodes: Ints,
        weights: Floats,
        given: Floats | None,
        seen: Floats | None,
    ) -> None:
        self.chain = chain
        self.entry_nodes = entry_nodes
        self.outcome_nodes = outcome_nodes
        self.weights = weights
        self.given = given
        self.seen = seen
        self.forward = _forward(len(entry_nodes), len(outcome_nodes))
        self.solution = chain.solution(np.ones(len(chain.src), dtype=bool))
        n = chain.n
        if self.forward:
            b = np.zeros((n, len(outcome_nodes)))
            b[outcome_nodes, np.arange(len(outcome_nodes))] = 1.0
            self.base = self.solution.solve(b)
            self.probability = self.base[entry_nodes]
        else:
            b = np.zeros((n, len(entry_nodes)))
            b[entry_nodes, np.arange(len(entry_nodes))] = 1.0
            self.base = self.solution.solve(b, transposed=True)
            self.probability = self.base[outcome_nodes].T

    def weighted(self, values: Floats) -> Floats:
        """E[sum of ``values`` over the transitions taken, 1{end at o}]: entries x outcomes."""
        c = self.chain
        some = values != 0  # often a few transitions of a million
        with np.errstate(invalid="ignore", over="ignore"):
            if self.forward:
                m = c.matrix(some, c.prob * values)
                return self.solution.solve(m @ self.base)[self.entry_nodes]
            m = c.matrix(some, c.prob * values).T.tocsr()
            return self.solution.solve(m @ self.base, transposed=True)[self.outcome_nodes].T

    @staticmethod
    def with_success(per_outcome: Floats, is_success: Bools) -> Floats:
        """Append the column of any success outcome (the sum of theirs)."""
        total = per_outcome[:, is_success].sum(axis=1, keepdims=True)
        return np.concatenate([per_outcome, total], axis=1)

    def per_customer(self, weighted: Floats, prob: Floats, is_success: Bools) -> Floats:
        """Divide E[V 1{end at o}] by P(end at o): the mean given the outcome."""
        total = self.with_success(weighted, is_success)
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            return np.where(prob > 0, total / np.where(prob > 0, prob, 1.0), 0.0)

    def success(self, is_success: Bools) -> Floats:
        """Per node, the probability of ending in a success outcome."""
        if self.given is not None:
            return self.given
        if self.forward:
            return np.asarray(self.base[:, is_success].sum(axis=1))
        c = self.chain
        b = np.zeros(c.n)
        b[self.outcome_nodes[is_success]] = 1.0
        return self.solution.solve(b)

    def visits(self) -> Floats:
        """Per node, its expected visits by customers spread over the entries by weight."""
        if self.seen is not None:
            return self.seen
        if self.forward:
            return self.solution.solve(self.weights[:, None], transposed=True)[:, 0]
        return np.asarray(self.base @ self.weights[self.entry_nodes])


def _stages(
    journey: Journey, chain: _Chain, moments: _Moments, is_success: Bools
) -> tuple[dict[str, float], float | None]:
    """Each stage's share of the expected time to success, and that time.

    For customers spread over the entries by weight: the expected time of those
    who succeed, counted as E[T 1{success}], is the sum over transitions i -> j
    of the expected visits to i, times p_ij tau_ij, times the probability of
    succeeding from j; each term counts for i's stage.
    """
    a = moments.success(is_success)
    p = float(np.dot(moments.weights, a))
    if p <= 0:
        return {}, None
    if not chain.tau.any():
        return {}, 0.0
    try:
        visits = moments.visits()
    except JourneyError:  # a large loop whose visits overflow a float
        return {}, math.inf
    with np.errstate(invalid="ignore", over="ignore"):
        part = visits[chain.src] * chain.prob * chain.tau * a[chain.dst]
    counted = np.flatnonzero(part)  # only transitions that take time
    tps = journey.touchpoints
    stages = [journey.stage_index[tps[i].stage] for i in chain.nodes[chain.src[counted]].tolist()]
    per_stage = np.bincount(
        np.asarray(stages, dtype=np.int64), weights=part[counted], minlength=len(journey.stages)
    )
    total = float(per_stage.sum())
    if not math.isfinite(total):  # NaN too: visits that overflow, times 0
        return {}, math.inf
    if total <= 0:
        return {}, 0.0
    shares = {
        s.id: _clean(float(v) / total) for s, v in zip(journey.stages, per_stage, strict=True)
    }
    return shares, total / p


def _quantiles(
    moments: _Moments,
    is_success: Bools,
    prob: Floats,
    means: Floats,
    pending: Bools,
    found: tuple[Floats, Floats],
    notes: list[str],
    target_ids: list[str],
    entry_ids: list[str],
) -> float | None:
    """Fill ``found`` (p50, p90 per entry and target) where ``pending``; the finest grid step.

    Coarse to fine (see the module docstring): each grid gives every pending
    quantile a lower and an upper bound; a pair whose bounds are within
    :data:`RESOLUTION` of its mean is settled at their midpoint, the others are
    computed again on a finer grid, down to the exact unit. Rounding moves a
    walk's time by less than a step per transition that takes time, so a pair
    needs a step of about RESOLUTION x mean / (the expected number of such
    transitions on its way, one more exact solve): each grid is the coarsest
    that some pair still pending may settle on, and at most half the last.
    """
    chain = moments.chain
    positive = [t for t in chain.times if t > 0]
    unit = positive[0]
    for t in positive[1:]:
        unit = Fraction(
            math.gcd(unit.numerator, t.numerator), math.lcm(unit.denominator, t.denominator)
        )
    steps = [int(t / unit) for t in chain.times]  # exact: unit divides every time
    width = _float(unit)
    need = RESOLUTION * means  # the step each pair may settle on
    if 2 * width <= float(need[pending].max()):  # the exact unit is fine: count the ways
        timed = (chain.tau > 0).astype(np.float64)
        with suppress(JourneyError):  # only a first guess: without it, the mean alone
            count = moments.per_customer(moments.weighted(timed), prob, is_success)
            need = need / np.where(np.isfinite(count), np.maximum(count, 1.0), 1.0)

    def multiple(active: Bools) -> int:
        """The largest power of two m with m x unit at most what some active pair needs."""
        ratio = float(need[active].max()) / width
        return 1 << math.floor(math.log2(ratio)) if ratio >= 2 else 1

    stepper = _Stepper(
        chain, moments.entry_nodes, moments.outcome_nodes, is_success, moments.forward
    )
    budget = _Work(WORK_BUDGET)
    active = pending.copy()
    finest: float | None = None  # the finest grid that settled a quantile
    tried = width  # the last grid tried
    p50, p90 = found
    m = multiple(active)

    def settle(m: int, work: _Work) -> bool:
        """Run the passes of grid step m x unit; settle what they pin down. Exact?"""
        nonlocal finest, tried
        h = unit * m
        tried = _float(h)
        down = [k // m for k in steps]
        up = [-(-k // m) for k in steps]
        passes = [
            stepper.run(d, h, active, prob, work) for d in ([down] if down == up else [down, up])
        ]
        (low50, low90), (high50, high90) = passes[0], passes[-1]
        with np.errstate(invalid="ignore"):
            tight = np.isfinite(low50 + high50 + low90 + high90) & (
                np.maximum(high50 - low50, high90 - low90) <= RESOLUTION * means
            )
        done = active & tight
        if done.any():
            finest = _float(h) if finest is None else min(finest, _float(h))
        p50[done] = (low50[done] + high50[done]) / 2
        p90[done] = (low90[done] + high90[done]) / 2
        active[done] = False
        return down == up

    if m > 1:
        # The exact grid first, on a small share of the budget: when the times take
        # few distinct values it is cheap, and exact; the pairs it pins down (often
        # those of short times, which would need the finest rounded grids) are done.
        trial = _Work(min(EXACT_TRIAL, budget.left))
        settle(1, trial)
        budget.take(min(EXACT_TRIAL, budget.left) - max(trial.left, 0.0))
        if active.any():
            m = multiple(active)
    while active.any() and not budget.spent:
        if settle(m, budget) or not active.any():
            break
        m = min(m // 2, multiple(active))
    if active.any():
        pairs = [
            f"{entry_ids[r]} -> {target_ids[c]}" for r, c in zip(*np.nonzero(active), strict=True)
        ]
        shown = ", ".join(pairs[:5]) + (f" and {len(pairs) - 5} more" if len(pairs) > 5 else "")
        why = (
            f"their distribution needs more work than the budget ({WORK_BUDGET:.2g} units)"
            f" allows, on a grid of {tried:g} s"
            if budget.spent
            else "their distribution could not be carried far enough"
        )
        notes.append(
            f"p50_s and p90_s are not given for {len(pairs)} of {int(pending.sum())}"
            f" entry-outcome pairs ({shown}): {why}"
        )
    return finest


class _Work:
    """A budget of work, counted from the sizes of what is done (deterministic)."""

    def __init__(self, limit: float) -> None:
        self.left = float(limit)
        self.spent = False

    def take(self, amount: float) -> bool:
        """Count ``amount``; False (and spent) once the budget is gone."""
        self.left -= amount
        if self.left < 0:
            self.spent = True
        return not self.spent


@dataclass(eq=False)
class _Zero:
    """What one set of zero-delay transitions fixes: the solve within a step, and how
    mass moves between steps (the nodes it arrives at, the nodes it leaves from)."""

    solution: Solution
    delayed: Ints  # the transitions that take at least one step
    rows: Ints  # nodes read after a step: the readout nodes, then the feed nodes
    readout: int  # how many of ``rows`` are readout nodes
    state: Ints  # nodes that delayed mass arrives at (forward: leaves from)
    feed_pos: Ints  # per delayed transition, its position among the feed rows
    state_pos: Ints  # per delayed transition, its position among the state nodes
    column_cost: float
    call_cost: float
    step_map: Floats | None = None  # (rows, state): a step without a solve
    unbilled: Floats | None = None  # the same, made for _Blocks before the work counts it
    direct: float = 0.0  # work spent on steps by solves, to decide when to build step_map
    first: dict[tuple[int, ...], Floats] = field(default_factory=dict)

    def move_work(self, k: int) -> float:
        """The work of scheduling what leaves a step by the delayed transitions, k columns."""
        return (5_000.0 + 5.0 * len(self.delayed)) * k

    def map_work(self, k: int) -> float:
        """The work of a step by the step map (a BLAS product), k columns."""
        return 20_000.0 + 0.25 * (len(self.rows) * len(self.state)) * k


class _Stepper:
    """Carries probability mass over the grid steps of one rounding of the times.

    Forward (fewer outcomes than entries), column c is "ending at outcome c at
    this step" from every node, G_t = N0 (sum_d Q_d G_{t-d}); otherwise column c
    is the mass that started at entry c, X_t = N0^T (sum_d Q_d^T X_{t-d}). N0 is
    the solve of the zero-delay transitions, Q_d the transitions that take d
    steps. A step by a solve costs a solve; once the steps have cost as much as
    the solves for every node that delayed mass arrives at, those are made
    once (``step_map``) and each later step is a small matrix product.
    """

    def __init__(
        self,
        chain: _Chain,
        entry_nodes: Ints,
        outcome_nodes: Ints,
        is_success: Bools,
        forward: bool,
    ) -> None:
        self.chain = chain
        self.entry_nodes = entry_nodes
        self.outcome_nodes = outcome_nodes
        self.is_success = is_success
        self.forward = forward
        self.zeros: dict[bytes, _Zero] = {}

    def _zero(self, zero: Bools) -> _Zero:
        key = np.packbits(zero).tobytes()
        found = self.zeros.get(key)
        if found is not None:
            return found
        c = self.chain
        solution = c.solution(zero)
        delayed = np.flatnonzero(~zero).astype(np.int64)
        into, out_of = c.dst[delayed], c.src[delayed]
        # Forward, mass enters a step at the source of a delayed transition and is
        # read at its target; transposed, the other way round.
        state_nodes, feed_nodes = (out_of, into) if self.forward else (into, out_of)
        state, state_pos = distinct(state_nodes)
        feed, feed_pos = distinct(feed_nodes)
        readout = self.entry_nodes if self.forward else self.outcome_nodes
        # Work a column and a call takes, in units of about a nanosecond here: a few
        # passes over the matrix; ~100 products (and the vector work of BiCGSTAB) for a
        # loop of more than 1,500 nodes; m^2 a column and m^3/3 a call for a dense one;
        # ~2 ms a call, ~20 us a level and ~5 us a node of a narrow level in Python.
        sizes = np.bincount(solution.labels)
        q = solution.matrix
        in_big = (sizes > 1500)[solution.labels]
        dense = sizes[(sizes > 1) & (sizes <= 1500)].astype(np.float64)
        big_nnz = float(np.diff(q.indptr)[in_big].sum() + in_big.sum())
        column_cost = 4.0 * (q.nnz + c.n) + 150.0 * big_nnz + float((dense**2).sum())
        call_cost = (
            2_000_000.0
            + 20_000.0 * len(solution.levels)
            + 5_000.0 * float(min(c.n, len(solution.levels) * 16))
            + float((dense**3).sum()) / 3
        )
        found = _Zero(
            solution=solution,
            delayed=delayed,
            rows=np.concatenate([readout, feed]).astype(np.int64),
            readout=len(readout),
            state=state.astype(np.int64),
            feed_pos=feed_pos.astype(np.int64).reshape(-1),
            state_pos=state_pos.astype(np.int64).reshape(-1),
            column_cost=column_cost,
            call_cost=call_cost,
        )
        self.zeros[key] = found
        return found

    def _solve(self, z: _Zero, b: Floats, budget: _Work) -> Floats | None:
        if not budget.take(z.call_cost + z.column_cost * b.shape[1]):
            return None
        return z.solution.solve(b, transposed=not self.forward)

    def _starts(self, z: _Zero, cols: Ints, budget: _Work) -> Floats | None:
        """The rows after step 0, when mass starts at the columns' nodes."""
        key = tuple(cols.tolist())
        found = z.first.get(key)
        if found is None:
            n = self.chain.n
            b = np.zeros((n, len(cols)))
            nodes = self.outcome_nodes if self.forward else self.entry_nodes
            b[nodes[cols], np.arange(len(cols))] = 1.0
            x = self._solve(z, b, budget)
            if x is None:
                return None
            found = z.first[key] = x[z.rows]
        return found

    def _step(self, z: _Zero, arrived: Floats, budget: _Work) -> Floats | None:
        """The rows after a step that starts with ``arrived`` at the state nodes."""
        if not self.charge(z, arrived.shape[1], budget):
            return None
        if z.step_map is not None:
            return z.step_map @ arrived
        b = np.zeros((self.chain.n, arrived.shape[1]))
        b[z.state] = arrived
        return z.solution.solve(b, transposed=not self.forward)[z.rows]

    def charge(self, z: _Zero, k: int, budget: _Work) -> bool:
        """Count the work of a step of k columns; False once the budget is spent.

        A step by a solve until those steps have cost as much as the step map;
        then the map is made (and counted), and each step is a product with it.
        :class:`_Blocks` counts its steps here too, to spend the same work.
        """
        if z.step_map is None and len(z.rows) * len(z.state) <= STEP_MAP_LIMIT:
            build = z.column_cost * len(z.state) + z.call_cost
            if z.direct >= build:
                if not budget.take(build):
                    return False
                z.step_map = z.unbilled if z.unbilled is not None else self._map(z)
        if z.step_map is not None:
            return budget.take(z.map_work(k))
        z.direct += z.call_cost + z.column_cost * k
        return budget.take(z.call_cost + z.column_cost * k)

    def _map(self, z: _Zero) -> Floats:
        n, width = self.chain.n, len(z.state)
        found = np.zeros((len(z.rows), width))
        chunk = max(1, 20_000_000 // max(n, 1))
        for lo in range(0, width, chunk):
            cols = np.arange(lo, min(width, lo + chunk))
            b = np.zeros((n, len(cols)))
            b[z.state[cols], np.arange(len(cols))] = 1.0
            found[:, cols] = z.solution.solve(b, transposed=not self.forward)[z.rows]
        return found

    def _columns(self, undetermined: Bools) -> Ints:
        """The columns that undetermined pairs need (forward: outcomes; else entries)."""
        if not self.forward:
            return np.flatnonzero(undetermined.any(axis=1)).astype(np.int64)
        nout = undetermined.shape[1] - 1
        wanted = undetermined[:, :nout].any(axis=0)
        if undetermined[:, nout].any():  # any success needs every success outcome
            wanted = wanted | self.is_success
        return np.flatnonzero(wanted).astype(np.int64)

    def run(
        self, delays: list[int], h: Fraction, active: Bools, prob: Floats, budget: _Work
    ) -> tuple[Floats, Floats]:
        """The grid time of the 0.5 and 0.9 quantiles of each active pair (NaN if not found).

        ``delays`` is the number of steps of each distinct transition time. The
        pass stops when every active pair has both quantiles, when no mass is
        left travelling, or when the budget is spent. Two ways of carrying the
        mass give the same figures (see :class:`_Blocks`): small chains by
        blocks of steps, the others a step at a time.
        """
        c = self.chain
        is_zero = np.asarray([d == 0 for d in delays], dtype=bool)
        z = self._zero(is_zero[c.combo])
        lengths = [delays[i] for i in c.combo[z.delayed].tolist()]
        cols = self._columns(active)
        reader = _Reader(prob, active, self.forward, self.is_success, h)
        # Steps between looks: BATCH, or fewer where many pairs make the block large.
        batched = max(1, min(BATCH, LOOK_NUMBERS // max(1, prob.size)))
        if _Blocks.fits(z, lengths, len(cols)):
            _Blocks(self, z, lengths, cols, reader, budget, batched).run()
        else:
            self._one_by_one(z, lengths, cols, reader, budget, batched)
        return reader.found

    def _one_by_one(
        self,
        z: _Zero,
        lengths: list[int],
        cols: Ints,
        reader: _Reader,
        budget: _Work,
        batched: int,
    ) -> None:
        """Carry the mass a step at a time.

        Mass waiting to arrive d steps ahead sits in a ring of slots (one
        scatter a step for every delayed transition), or, for delays longer
        than the ring, in a dict by step; steps where nothing arrives are
        skipped. Quantiles are looked for in batches of steps (one step at a
        time when a step costs a solve).
        """
        c = self.chain
        size = len(z.state)
        # The ring holds at most RING_NUMBERS numbers: longer delays go to the dict.
        limit = max(1, min(RING_LIMIT, RING_NUMBERS // max(1, size * len(cols)) - 1))
        longest = max((d for d in lengths if d <= limit), default=0)
        ring_width = longest + 1
        near = np.asarray([d <= limit for d in lengths], dtype=bool)
        near_delay = np.asarray([d for d in lengths if d <= limit], dtype=np.int64)
        near_steps = distinct(near_delay)[0]
        near_pos = z.state_pos[near]
        far = [
            (d, np.flatnonzero(np.asarray(lengths, dtype=object) == d))
            for d in sorted({d for d in lengths if d > limit})
        ]
        p = c.prob[z.delayed][:, None]
        ring = np.zeros((ring_width * size, len(cols)))
        occupied = np.zeros(ring_width, dtype=bool)
        later: dict[int, Floats] = {}  # arrivals beyond the ring, by step
        heap: list[int] = []
        reads: list[Floats] = []
        times: list[int] = []  # the step of each read

        def look() -> bool:
            done = reader.look(np.stack(reads) if reads else None, times, cols)
            reads.clear()
            times.clear()
            return done

        rows = self._starts(z, cols, budget)
        step = 0
        batch = 1 if z.step_map is None else batched
        while rows is not None:
            reads.append(rows[: z.readout])
            times.append(step)
            if len(reads) >= batch:
                if look():
                    break
                keep = self._columns(reader.undetermined())
                if len(keep) < len(cols):  # carry only the columns still needed
                    mine = np.isin(cols, keep)
                    rows, ring, cols = rows[:, mine], ring[:, mine], keep
                    for key in later:
                        later[key] = later[key][:, mine]
            if not budget.take(z.move_work(len(cols))):
                break
            # Schedule what leaves this step by delayed transitions.
            feed = rows[z.readout :]
            slot = step % ring_width
            if (feed >= TINY).any():  # see TINY
                moved = p * feed[z.feed_pos]
                if len(near_delay):
                    where = (slot + near_delay) % ring_width
                    np.add.at(ring, where * size + near_pos, moved[near])
                    occupied[(slot + near_steps) % ring_width] = True
                for d, idx in far:
                    into = later.get(step + d)
                    if into is None:
                        into = later[step + d] = np.zeros((size, len(cols)))
                        heapq.heappush(heap, step + d)
                    np.add.at(into, z.state_pos[idx], moved[idx])
            # The next step where something arrives.
            ahead = np.concatenate([occupied[slot + 1 :], occupied[: slot + 1]])
            nxt = step + 1 + int(np.argmax(ahead)) if ahead.any() else None
            if heap and (nxt is None or heap[0] <= nxt):
                nxt = heapq.heappop(heap)
            if nxt is None:
                break
            at = nxt % ring_width
            arrived = ring[at * size : (at + 1) * size].copy()
            ring[at * size : (at + 1) * size] = 0.0
            occupied[at] = False
            extra = later.pop(nxt, None)
            if extra is not None:
                arrived += extra
            step = nxt
            rows = self._step(z, arrived, budget)
            if z.step_map is not None:
                batch = batched
        look()


class _Reader:
    """The quantiles, looked for in the mass each outcome absorbs step by step."""

    def __init__(
        self, prob: Floats, active: Bools, forward: bool, is_success: Bools, h: Fraction
    ) -> None:
        self.prob = prob
        self.forward = forward
        self.is_success = is_success
        self.h = h
        self.found = (np.full(prob.shape, np.nan), np.full(prob.shape, np.nan))
        self.lows = (0.5 * prob * (1 - TIE), 0.9 * prob * (1 - TIE))
        self.open = (active.copy(), active.copy())
        self.cum = np.zeros(prob.shape)

    def undetermined(self) -> Bools:
        return self.open[0] | self.open[1]

    def look(self, block: Floats | None, times: list[int], cols: Ints) -> bool:
        """Take the quantiles in the steps read since the last look.

        ``block`` holds, per step at ``times``, the mass read at the readout rows
        (entries forward, outcomes otherwise), a column per item of ``cols``:
        steps x rows x columns. True when every quantile asked for is found.
        """
        if block is not None and len(block):
            prob, success = self.prob, self.is_success
            nout = prob.shape[1] - 1
            mass = np.zeros((len(block), *prob.shape))
            if self.forward:
                mass[:, :, cols] = block
                mass[:, :, nout] = block[:, :, success[cols]].sum(axis=2)
            else:
                mass[:, cols, :nout] = block.transpose(0, 2, 1)
                mass[:, cols, nout] = block[:, success, :].sum(axis=1)
            running = self.cum + np.cumsum(mass, axis=0)
            for q, low, undetermined in zip(self.found, self.lows, self.open, strict=True):
                crossed = running >= low
                hit = undetermined & crossed[-1]
                if hit.any():
                    first = np.argmax(crossed, axis=0)
                    at = {k: _float(self.h * times[k]) for k in set(first[hit].tolist())}
                    q[hit] = [at[k] for k in first[hit].tolist()]
                    undetermined &= ~hit
            self.cum = running[-1]
        return not self.undetermined().any()


class _Blocks:
    """Carries the mass over blocks of steps at once, with the same figures as a step at a time.

    A step at a time costs a dozen numpy calls on tiny arrays whatever the
    chain's size: on the example journeys, 14,000 steps and 0.3 s. Here the
    mass arriving at the state nodes at step j of a block is what the delayed
    transitions bring from before the block (read from a ring of the past
    steps' feed rows) plus what the short ones (fewer steps than a block)
    bring from within it. The latter is a triangular system on the short
    transitions alone, the same in every block: solved once as the block's
    impulse response (:meth:`_inverse`), then one product a block. Values come
    from the step map, never from a solve a step.

    Which steps the other way visits, the work it counts, when it looks for
    the quantiles and which columns it carries are followed exactly, step by
    step (a few Python operations each), so the budget runs out at the same
    step and the same quantiles come out: only the order of the additions
    differs, which moves the mass by an ulp, far below :data:`TIE`.
    """

    #: The most numbers the block's triangular solve may hold.
    SOLVE_NUMBERS = 262_144
    #: The largest step map (rows x state nodes) worth making before any step: on
    #: larger chains a step's numpy calls are no longer what a step costs.
    MAP_NUMBERS = 250_000
    #: The most work (as counted) a step map not made yet may cost to make: making it
    #: takes a solve over the whole chain per state node (5 s on 10,000 touchpoints,
    #: where a step at a time needs a few solves); an example's costs 2.3e6.
    MAP_WORK = 10_000_000.0
    #: The most numbers the dense scatter of the delayed transitions may hold.
    SCATTER_NUMBERS = 4_000_000

    @staticmethod
    def fits(z: _Zero, lengths: list[int], columns: int) -> bool:
        """Small enough: a step map, a ring of the past feed rows, a dense scatter."""
        if BLOCKS < 1 or not lengths:
            return False
        feed = len(z.rows) - z.readout
        return (
            len(z.rows) * len(z.state) <= min(STEP_MAP_LIMIT, _Blocks.MAP_NUMBERS)
            and max(lengths) <= RING_LIMIT
            and (max(lengths) + BLOCKS) * feed * columns <= RING_NUMBERS
            and len(z.state) * len(lengths) <= _Blocks.SCATTER_NUMBERS
            and (
                z.step_map is not None
                or z.unbilled is not None
                or z.column_cost * len(z.state) + z.call_cost <= _Blocks.MAP_WORK
            )
        )

    def __init__(
        self,
        stepper: _Stepper,
        z: _Zero,
        lengths: list[int],
        cols: Ints,
        reader: _Reader,
        budget: _Work,
        batched: int,
    ) -> None:
        self.stepper = stepper
        self.z = z
        self.cols = cols
        self.reader = reader
        self.budget = budget
        self.batched = batched
        delay = np.asarray(lengths, dtype=np.int64)
        p = stepper.chain.prob[z.delayed]
        self.delay, self.p = delay, p
        self.longest = int(delay.max())
        # The longest block (up to BLOCKS) whose short transitions keep the
        # triangular solve within SOLVE_NUMBERS.
        size = BLOCKS
        while size > 1 and (size * int((delay < size).sum())) ** 2 > self.SOLVE_NUMBERS:
            size //= 2
        self.size = size
        if z.step_map is None and z.unbilled is None:
            z.unbilled = stepper._map(z)
        step_map = z.step_map if z.step_map is not None else z.unbilled
        assert step_map is not None
        self.read_map = step_map[: z.readout]
        self.feed_map = step_map[z.readout :]
        nfeed, k = len(self.feed_map), len(cols)
        self.span = max(self.longest, size)  # ring slots: the past steps a block reads
        self.ring = np.zeros((self.span * nfeed, k))  # slot x feed row, column
        j = np.arange(size)
        self.offsets = j[None, :] - delay[:, None]  # source step - block start
        self.weight = (p[:, None] * (delay[:, None] > j[None, :]))[:, :, None]  # from before
        self.scatter = _scatter(z.state_pos, len(z.state))
        short = np.flatnonzero(delay < size)
        self.short = short
        if len(short):
            self.short_feed = self.feed_map[z.feed_pos[short]] * p[short][:, None]
            self.short_scatter = _scatter(z.state_pos[short], len(z.state))
            within = j[None, :] - delay[short][:, None]  # the source's step in the block
            self.within = (np.maximum(within, 0), np.arange(len(short))[:, None])
            self.inside = (within >= 0)[:, :, None]
            self.inverse = self._inverse()

    def _inverse(self) -> Floats:
        """(I - T)^-1 for the short transitions' feed within a block (T strictly lower).

        With u_e[j] = p_e F_j[f_e], what short transition e carries from step j,
        u[j] = c[j] + sum_e' H[:, e'] u_e'[j - L_e'] where H[e, e'] = p_e
        M[f_e, s_e']: the response v_m to a unit m steps earlier is v_0 = I,
        v_m = sum over the delays d <= m of H_d v_{m-d}: sums of non-negative terms.
        """
        short, size = self.short, self.size
        k = len(short)
        delay = self.delay[short]
        h = self.short_feed[:, self.z.state_pos[short]]
        v = np.zeros((size, k, k))
        v[0] = np.eye(k)
        groups = [(d, delay == d) for d in distinct(delay)[0].tolist()]
        for m in range(1, size):
            for d, sel in groups:
                if d <= m:
                    v[m] += h[:, sel] @ v[m - d][sel, :]
        lag = np.arange(size)[:, None] - np.arange(size)[None, :]
        blocks = v[np.maximum(lag, 0)] * (lag >= 0)[:, :, None, None]  # j, j', e, e'
        inverse: Floats = blocks.transpose(0, 2, 1, 3).reshape(size * k, size * k)
        return inverse

    def block(self, t0: int) -> tuple[Floats, Floats]:
        """Steps t0 .. t0 + size - 1: their readout rows and feed rows (step, row, column)."""
        z, size, span = self.z, self.size, self.span
        ring = self.ring
        k = ring.shape[1]
        nfeed = len(self.feed_map)
        src = t0 + self.offsets
        weight = self.weight if t0 >= self.longest else self.weight * (src >= 0)[:, :, None]
        brought = ring.take((src % span) * nfeed + z.feed_pos[:, None], axis=0)
        brought *= weight
        arrived = self.scatter @ brought.reshape(len(self.delay), size * k)
        short = self.short
        if len(short):
            c = (self.short_feed @ arrived).reshape(len(short), size, k).transpose(1, 0, 2)
            u = (self.inverse @ c.reshape(size * len(short), k)).reshape(size, len(short), k)
            inner = u[self.within]
            inner *= self.inside
            arrived += self.short_scatter @ inner.reshape(len(short), size * k)
        feeds = (self.feed_map @ arrived).reshape(nfeed, size, k).transpose(1, 0, 2)
        reads = (self.read_map @ arrived).reshape(-1, size, k).transpose(1, 0, 2)
        first = t0 % span
        if first + size <= span:
            ring[first * nfeed : (first + size) * nfeed] = feeds.reshape(size * nfeed, k)
        else:
            slots = np.arange(t0, t0 + size) % span
            ring.reshape(span, nfeed, k)[slots] = feeds
        return reads, feeds

    def run(self) -> None:
        z, budget, reader, stepper = self.z, self.budget, self.reader, self.stepper
        rows = stepper._starts(z, self.cols, budget)
        if rows is None:
            return
        cols = self.cols
        where = np.arange(len(cols))  # the columns still needed among those carried
        wanted = (1 << len(cols)) - 1  # the same, as bits
        arrivals = 0  # bit d: a delay of d steps
        for d in distinct(self.delay)[0].tolist():
            arrivals |= 1 << d
        nfeed = len(self.feed_map)
        self.ring[:nfeed] = rows[z.readout :]
        reads_now = rows[None, : z.readout]
        any_now = _bits(rows[None, z.readout :] >= TINY)
        t0, end = 0, 1  # the steps of the block at hand
        pending = 0  # bit i: something arrives i steps after this one
        step = 0
        mapped = z.step_map is not None
        batch = self.batched if mapped else 1
        # The steps read since the last look, as (block, offsets) pieces.
        offsets: list[int] = []
        pieces: list[tuple[Floats, list[int]]] = [(reads_now, offsets)]
        times: list[int] = []
        count = 0
        move, stay = z.move_work(len(cols)), z.map_work(len(cols))

        def look() -> bool:
            parts = [r[o] for r, o in pieces if o]
            block = parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else None
            return reader.look(None if block is None else block[:, :, where], times, cols)

        while True:
            offsets.append(step - t0)
            times.append(step)
            count += 1
            if count >= batch:
                if look():
                    return
                count = 0
                offsets = []
                pieces[:] = [(reads_now, offsets)]
                times.clear()
                keep = stepper._columns(reader.undetermined())
                if len(keep) < len(cols):
                    where = where[np.isin(cols, keep)]
                    cols = keep
                    wanted = sum(1 << i for i in where.tolist())
                    move, stay = z.move_work(len(cols)), z.map_work(len(cols))
            if not budget.take(move):
                break
            if any_now[step - t0] & wanted:
                pending |= arrivals
            pending >>= 1
            if not pending:
                break
            gap = (pending & -pending).bit_length() - 1
            pending >>= gap
            step += 1 + gap
            # The work of the step, counted as _Stepper._step counts it.
            if mapped:
                if not budget.take(stay):
                    break
            else:
                if not stepper.charge(z, len(cols), budget):
                    break
                mapped = z.step_map is not None
                batch = self.batched if mapped else 1
            if step >= end:
                if step > end:  # nothing arrived in between: no feed to remember
                    gone = np.arange(end, min(step, end + self.span)) % self.span
                    self.ring.reshape(self.span, nfeed, -1)[gone] = 0.0
                t0, end = step, step + self.size
                reads_now, feeds = self.block(t0)
                any_now = _bits(feeds >= TINY)
                offsets = []
                pieces.append((reads_now, offsets))
        look()


def _scatter(rows: Ints, n: int) -> Floats:
    """The (n, len(rows)) matrix that adds item i into row rows[i]."""
    m = np.zeros((n, len(rows)))
    m[rows, np.arange(len(rows))] = 1.0
    return m


def _bits(some: Bools) -> list[int]:
    """Per step, the columns with mass in some feed row, as the bits of an int."""
    carried = some.any(axis=1)  # step x column
    if carried.shape[1] <= 62:
        weights = 1 << np.arange(carried.shape[1], dtype=np.int64)
        return [int(x) for x in (carried @ weights).tolist()]
    packed = np.packbits(carried, axis=1, bitorder="little")
    return [int.from_bytes(row.tobytes(), "little") for row in packed]
