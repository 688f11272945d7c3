"""Time to outcomes: hand-worked journeys, closed forms, Monte Carlo, invariants.

Monte Carlo checks are deterministic (seeded) and statistically sound: a mean
within three standard errors, a probability within four binomial standard
errors, and each quantile checked through the empirical CDF of the walks that
end there with the Dvoretzky-Kiefer-Wolfowitz band (the empirical CDF is
within eps of the true one everywhere with probability 1 - 1e-6), widened by
the grid's stated accuracy (half a percent of the mean either way).
"""

from __future__ import annotations

import importlib.util
import json
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeymap.timing as timing
from journeymap.analysis import analyze, entry_weights, success_probability
from journeymap.errors import JourneyError
from journeymap.graph import Flow, Solution, flow
from journeymap.loader import loads
from journeymap.model import Journey
from journeymap.timing import Timing, time_to_outcomes

from .conftest import ROOT
from .strategies import dumps, journey_dicts

Make = Callable[..., Journey]

H, D = 3600.0, 86400.0


def timed(journey: Journey, **kw: Any) -> tuple[Timing, dict[str, Any]]:
    t = time_to_outcomes(journey, flow(journey), **kw)
    return t, t.to_dict()


@contextmanager
def patched(name: str, value: Any) -> Iterator[None]:
    """A constant of journeymap.timing set for a while (hypothesis tests cannot use
    the monkeypatch fixture)."""
    old = getattr(timing, name)
    setattr(timing, name, value)
    try:
        yield
    finally:
        setattr(timing, name, old)


def budget(units: float) -> Any:
    return patched("WORK_BUDGET", units)


def columns(forward: bool) -> Any:
    """Force the solves to run with a column per outcome (forward) or per entry."""
    return patched("_forward", lambda entries, outcomes: forward)


# ---------------------------------------------------------------- worked by hand


def test_a_chain_adds_up_durations_and_waits(make_journey: Make) -> None:
    j = make_journey(
        """
        journey: chain
        stages: [s]
        touchpoints:
          - {id: a, stage: s, duration: 1h, next: [{to: b, wait: 2d}]}
          - {id: b, stage: s, duration: 30m, next: [{to: done, wait: 1d}]}
        outcomes: [{id: done, result: success}]
        """
    )
    t, d = timed(j)
    total = 1 * H + 2 * D + 0.5 * H + 1 * D
    record = {"probability": 1.0, "mean_s": total, "p50_s": total, "p90_s": total}
    assert d == {"a": {"done": record, "success": {**record, "known_wait_share": 1.0}}}
    assert t.notes == []
    assert t.success_mean_s == total


def test_a_branch_conditions_on_the_outcome(make_journey: Make) -> None:
    # a -> b (0.3, 1d) -> won, a -> c (0.5, 3d) -> won, a -> lost (0.2 by drop-off).
    j = make_journey(
        """
        journey: branch
        stages: [s]
        touchpoints:
          - id: a
            stage: s
            next: [{to: b, probability: 0.3, wait: 1d}, {to: c, probability: 0.5, wait: 3d}]
          - {id: b, stage: s, next: [{to: won, wait: 0s}]}
          - {id: c, stage: s, next: [{to: won, wait: 0s}]}
        outcomes: [{id: won, result: success}]
        """
    )
    _, d = timed(j)
    won = d["a"]["won"]
    assert won["probability"] == 0.8
    # Given success: 1d with 3/8, 3d with 5/8. CDF(1d) = 0.375 < 0.5.
    assert won["mean_s"] == round((0.3 * 1 * D + 0.5 * 3 * D) / 0.8, 1)
    assert won["p50_s"] == 3 * D
    assert won["p90_s"] == 3 * D
    assert d["a"]["success"]["known_wait_share"] == 1.0


def test_each_outcome_gets_its_own_time(make_journey: Make) -> None:
    j = make_journey(
        """
        journey: split
        stages: [s]
        touchpoints:
          - id: a
            stage: s
            duration: 10m
            next: [{to: won, probability: 0.25, wait: 2d}, {to: gone, probability: 0.75, wait: 5d}]
        outcomes: [{id: won, result: success}, {id: gone, result: lost}]
        """
    )
    _, d = timed(j)
    assert list(d["a"]) == ["gone", "won", "success"]
    assert d["a"]["gone"] == {
        "probability": 0.75,
        "mean_s": 600 + 5 * D,
        "p50_s": 600 + 5 * D,
        "p90_s": 600 + 5 * D,
    }
    assert d["a"]["won"]["mean_s"] == 600 + 2 * D
    assert d["a"]["success"]["probability"] == 0.25


def test_a_self_loop_gives_a_geometric_number_of_rounds(make_journey: Make) -> None:
    # Each visit of a takes 1h; half the time it loops back after 1d. With N rounds,
    # P(N = k) = 2^-(k+1), T = (N + 1) h + N d: mean 2h + 1d; CDF(N = 0) is exactly
    # 0.5 (so the median is 1 h: the float-noise tie must count as reaching 0.5);
    # CDF(2) = 0.875 < 0.9 <= CDF(3) = 0.9375, so p90 is 4h + 3d.
    j = make_journey(
        """
        journey: loop
        stages: [s]
        touchpoints:
          - id: a
            stage: s
            duration: 1h
            next: [{to: a, probability: 0.5, wait: 1d}, {to: done, probability: 0.5}]
        outcomes: [{id: done, result: success}]
        entries: [a]
        """
    )
    t, d = timed(j)
    done = d["a"]["done"]
    assert done == {
        "probability": 1.0,
        "mean_s": 2 * H + 1 * D,
        "p50_s": 1 * H,
        "p90_s": 4 * H + 3 * D,
    }
    assert t.grid_s == H  # every time is a multiple of an hour: the exact grid


def test_a_cdf_that_reaches_q_in_decimal_reaches_it_in_floats(make_journey: Make) -> None:
    # CDF(2d) = 0.6 + 0.3, which is 0.9 in the file and 0.8999999999999999 in
    # binary, while the probability adds up to exactly 1.0: the 90th percentile
    # is 2 days, not 3.
    j = make_journey(
        """
        journey: tie
        stages: [s]
        touchpoints:
          - id: a
            stage: s
            next:
              - {to: b, probability: 0.3, wait: 1d}
              - {to: c, probability: 0.1, wait: 1d}
              - {to: won, probability: 0.6, wait: 1d}
          - {id: b, stage: s, next: [{to: won, wait: 1d}]}
          - {id: c, stage: s, next: [{to: won, wait: 2d}]}
        outcomes: [{id: won, result: success}]
        """
    )
    assert 0.6 + 0.3 < 0.9
    _, d = timed(j)
    assert d["a"]["won"]["probability"] == 1.0
    assert d["a"]["won"]["p50_s"] == 1 * D
    assert d["a"]["won"]["p90_s"] == 2 * D


def test_a_self_loop_off_the_exact_grid_is_within_its_bounds(make_journey: Make) -> None:
    # As above with 7 minutes a visit. The exact unit (1 minute) is far finer than
    # the mean needs; with no work allowed for the exact grid first, the quantiles
    # come from rounded grids, and each must be within half a percent of the mean
    # of the closed form. (With it, the exact grid answers: few distinct times.)
    j = make_journey(
        """
        journey: loop
        stages: [s]
        touchpoints:
          - id: a
            stage: s
            duration: 7m
            next: [{to: a, probability: 0.5, wait: 1d}, {to: done, probability: 0.5}]
        outcomes: [{id: done, result: success}]
        entries: [a]
        """
    )
    mean = 2 * 420 + D
    exact = {"probability": 1.0, "mean_s": mean, "p50_s": 420.0, "p90_s": 4 * 420 + 3 * D}
    t, d = timed(j)
    assert d["a"]["done"] == exact and t.grid_s == 60
    with patched("EXACT_TRIAL", 0):
        t, d = timed(j)
    done = d["a"]["done"]
    assert done["mean_s"] == mean
    assert t.grid_s is not None and t.grid_s > 60  # rounded, not the exact unit
    assert abs(done["p50_s"] - 420) <= 0.005 * mean + 0.05
    assert abs(done["p90_s"] - (4 * 420 + 3 * D)) <= 0.005 * mean + 0.05


def test_missing_waits_and_durations_count_as_zero(make_journey: Make) -> None:
    text = """
        journey: gaps
        stages: [s]
        touchpoints:
          - id: a
            stage: s
            next: [{to: b, probability: 0.6, wait: 2d}, {to: c, probability: 0.4WAIT}]
          - {id: b, stage: s, duration: 1h, next: [{to: won WAIT}]}
          - {id: c, stage: s, next: [{to: won WAIT}]}
        outcomes: [{id: won, result: success}]
        """
    _, bare = timed(make_journey(text.replace("WAIT", "")))
    _, zero = timed(make_journey(text.replace("WAIT", ", wait: 0s")))
    assert bare["a"]["won"] == zero["a"]["won"]
    assert bare["a"]["won"]["mean_s"] == 0.6 * (2 * D + H)
    assert bare["a"]["won"]["p50_s"] == 2 * D + H
    assert bare["a"]["won"]["p90_s"] == 2 * D + H
    # Written waits count as known, and so does the last step into an outcome (where the
    # time ends): a -> b (2d) -> won is known, a -> c -> won is not.
    assert bare["a"]["success"]["known_wait_share"] == 0.6
    assert zero["a"]["success"]["known_wait_share"] == 1.0


def test_known_wait_share_is_the_share_over_written_waits_only(make_journey: Make) -> None:
    j = make_journey(
        """
        journey: known
        stages: [s]
        touchpoints:
          - id: a
            stage: s
            next: [{to: b, probability: 0.2, wait: 1d}, {to: c, probability: 0.6, wait: 1d}]
          - {id: b, stage: s, next: [{to: won, wait: 0s}]}
          - {id: c, stage: s, next: [{to: d}]}
          - {id: d, stage: s, next: [{to: won}]}
        outcomes: [{id: won, result: success}]
        """
    )
    _, d = timed(j)
    assert d["a"]["success"]["probability"] == 0.8
    # a -> c -> d has no written wait; the steps into the outcome count as known.
    assert d["a"]["success"]["known_wait_share"] == 0.25


def test_unreachable_outcomes_and_entries_that_reach_nothing(make_journey: Make) -> None:
    j = make_journey(
        """
        journey: partial
        stages: [s]
        touchpoints:
          - {id: a, stage: s, next: [{to: won, wait: 1d}]}
          - {id: stuck, stage: s}
          - {id: never, stage: s, next: [gone]}
        outcomes: [{id: won, result: success}, {id: gone, result: lost}]
        entries: [a, stuck]
        """
    )
    _, d = timed(j)
    assert d == {
        "a": {
            "won": {"probability": 1.0, "mean_s": D, "p50_s": D, "p90_s": D},
            "success": {
                "probability": 1.0,
                "mean_s": D,
                "p50_s": D,
                "p90_s": D,
                "known_wait_share": 1.0,
            },
        },
        "stuck": {},
    }


def test_closed_loops_neither_hang_nor_give_nan(make_journey: Make) -> None:
    # Half the customers enter a loop nobody leaves (one with a wait on it, where
    # mass would otherwise travel for ever), a quarter a self-loop nobody leaves.
    j = make_journey(
        """
        journey: closed
        stages: [s]
        touchpoints:
          - id: a
            stage: s
            next:
              - {to: b, probability: 0.5}
              - {to: self, probability: 0.25}
              - {to: won, probability: 0.25, wait: 1d}
          - {id: b, stage: s, next: [{to: c, wait: 1w}]}
          - {id: c, stage: s, next: [{to: b, wait: 1d}]}
          - {id: self, stage: s, next: [{to: self, wait: 1h}]}
        outcomes: [{id: won, result: success}]
        """
    )
    t, d = timed(j)
    json.dumps(t.to_dict(), allow_nan=False)
    assert d["a"]["won"] == {"probability": 0.25, "mean_s": D, "p50_s": D, "p90_s": D}
    assert t.notes == []


def test_a_zero_time_loop_left_rarely_is_solved_within_its_step(make_journey: Make) -> None:
    j = make_journey(
        """
        journey: rare
        stages: [s]
        touchpoints:
          - {id: a, stage: s, next: [b]}
          - id: b
            stage: s
            next: [{to: a, probability: 0.999999999}, {to: won, probability: 1e-9, wait: 3d}]
        outcomes: [{id: won, result: success}]
        entries: [a]
        """
    )
    _, d = timed(j)
    assert d["a"]["won"] == {"probability": 1.0, "mean_s": 3 * D, "p50_s": 3 * D, "p90_s": 3 * D}


def test_stage_shares_count_the_time_of_those_who_succeed(make_journey: Make) -> None:
    # Who succeeds spends 1h + 3h in s1 (a's duration and the wait after it) and 2h
    # in s2; the lost branch (10 days) counts for nobody's time to success.
    j = make_journey(
        """
        journey: stages
        stages: [s1, s2, s3]
        touchpoints:
          - id: a
            stage: s1
            duration: 1h
            next: [{to: b, probability: 0.5, wait: 3h}, {to: gone, probability: 0.5, wait: 10d}]
          - {id: b, stage: s2, duration: 2h, next: [won]}
        outcomes: [{id: won, result: success}, {id: gone, result: lost}]
        """
    )
    t, _ = timed(j)
    assert t.stage_shares == {"s1": pytest.approx(4 / 6), "s2": pytest.approx(2 / 6), "s3": 0.0}
    assert t.success_mean_s == 6 * H


def test_stage_shares_weigh_entries_by_volume(make_journey: Make) -> None:
    # 3 of 4 customers start at x (1h in s1), 1 at y (5h in s2): 3h + 5h over 8h.
    j = make_journey(
        """
        journey: mix
        stages: [s1, s2]
        touchpoints:
          - {id: x, stage: s1, volume: 300, duration: 1h, next: [won]}
          - {id: y, stage: s2, volume: 100, duration: 5h, next: [won]}
        outcomes: [{id: won, result: success}]
        """
    )
    t, d = timed(j)
    assert t.stage_shares == {"s1": pytest.approx(3 / 8), "s2": pytest.approx(5 / 8)}
    assert t.success_mean_s == 2 * H
    assert d["x"]["success"]["mean_s"] == H and d["y"]["success"]["mean_s"] == 5 * H


def test_nothing_timed_gives_zero_times_and_no_stage_shares(make_journey: Make) -> None:
    j = make_journey(
        """
        journey: untimed
        stages: [s]
        touchpoints:
          - {id: a, stage: s, next: [a, won]}
        outcomes: [{id: won, result: success}]
        entries: [a]
        """
    )
    t, d = timed(j)
    assert d["a"]["won"] == {"probability": 1.0, "mean_s": 0.0, "p50_s": 0.0, "p90_s": 0.0}
    assert t.stage_shares == {} and t.success_mean_s == 0.0 and t.grid_s is None


def test_no_success_outcome_means_no_success_record(make_journey: Make) -> None:
    j = make_journey(
        """
        journey: lost
        stages: [s]
        touchpoints:
          - {id: a, stage: s, next: [{to: gone, wait: 1d}]}
        outcomes: [{id: gone, result: lost}]
        """
    )
    t, d = timed(j)
    assert list(d["a"]) == ["gone"]
    assert t.stage_shares == {} and t.success_mean_s is None


def test_the_budget_gives_none_with_a_note(make_journey: Make) -> None:
    j = make_journey(
        """
        journey: slow
        stages: [s]
        touchpoints:
          - id: a
            stage: s
            duration: 7m
            next: [{to: a, probability: 0.9, wait: 1d}, {to: won, probability: 0.1}]
        outcomes: [{id: won, result: success}]
        entries: [a]
        """
    )
    with budget(1_000):
        t, d = timed(j)
    won = d["a"]["won"]
    assert won["probability"] == 1.0 and won["mean_s"] == 10 * 420 + 9 * D  # exact
    assert won["p50_s"] is None and won["p90_s"] is None
    assert len(t.notes) == 1 and "budget" in t.notes[0] and "a -> won" in t.notes[0]
    # With the normal budget the same journey is answered.
    _, d = timed(j)
    assert d["a"]["won"]["p50_s"] is not None


def test_a_time_too_long_for_a_float_is_not_given(make_journey: Make) -> None:
    j = make_journey(
        f"""
        journey: long
        stages: [s]
        touchpoints:
          - {{id: a, stage: s, next: [{{to: won, wait: {"9" * 400}w}}]}}
        outcomes: [{{id: won, result: success}}]
        """
    )
    t, d = timed(j)
    assert d["a"]["won"] == {"probability": 1.0, "mean_s": None, "p50_s": None, "p90_s": None}
    assert any("too long" in note for note in t.notes)
    json.dumps(t.to_dict(), allow_nan=False)


def test_an_outcome_named_success_beside_others(make_journey: Make) -> None:
    j = make_journey(
        """
        journey: named
        stages: [s]
        touchpoints:
          - id: a
            stage: s
            next: [{to: success, probability: 0.5, wait: 1d}, {to: won, probability: 0.5}]
        outcomes: [{id: success, result: success}, {id: won, result: success}]
        """
    )
    t, d = timed(j)
    assert list(d["a"]) == ["won", "success"]
    assert d["a"]["success"]["probability"] == 1.0
    assert d["a"]["success"]["mean_s"] == 0.5 * D
    assert any("named 'success'" in note for note in t.notes)


def test_success_probability_is_the_analysis_one() -> None:
    for name in ("candidate", "client"):
        j = _example(name)
        f = flow(j)
        a = analyze(j)
        for passed in (None, success_probability(f)):
            d = time_to_outcomes(j, f, success=passed).to_dict()
            for entry, p in a.success_probability.items():
                assert p > 0
                got = d[entry]["success"]["probability"]
                assert got == p if passed is not None else abs(got - p) <= 1e-12


def _visits(j: Journey, f: Flow) -> Any:
    """Expected visits as analysis.leaks solves them: closed loops cut open."""
    import scipy.sparse as sp

    from journeymap.paths import _closed_loops

    closed = _closed_loops(f)
    keep = ~closed[f.src] & (f.prob > 0)
    q = sp.csr_matrix((f.prob[keep], (f.src[keep], f.dst[keep])), shape=(f.n, f.n))
    return Solution.of(q, f.drop).solve(entry_weights(j, f), transposed=True)


def test_the_analysis_arrays_give_the_same_numbers(make_journey: Make) -> None:
    closed = make_journey(
        """
        journey: closed
        stages: [s1, s2]
        touchpoints:
          - id: a
            stage: s1
            duration: 1h
            next: [{to: b, probability: 0.5, wait: 1d}, {to: c, probability: 0.5, wait: 2h}]
          - {id: b, stage: s2, next: [{to: won, wait: 3h}]}
          - {id: c, stage: s2, next: [{to: d, wait: 1d}]}
          - {id: d, stage: s2, next: [{to: c, wait: 1d}]}
        outcomes: [{id: won, result: success}]
        """
    )
    for j in (_example("candidate"), _example("client"), closed):
        f = flow(j)
        alone = time_to_outcomes(j, f)
        given = time_to_outcomes(j, f, success=success_probability(f), visits=_visits(j, f))
        assert given.stage_shares == pytest.approx(alone.stage_shares, abs=1e-9)
        assert given.success_mean_s == pytest.approx(alone.success_mean_s, abs=0.1)
        assert given.notes == alone.notes == []


def test_both_orientations_give_the_same_numbers() -> None:
    for name in ("candidate", "client"):
        j = _example(name)
        f = flow(j)
        with columns(True):
            forward = time_to_outcomes(j, f)
        with columns(False):
            backward = time_to_outcomes(j, f)
        a, b = forward.to_dict(), backward.to_dict()
        assert a.keys() == b.keys()
        for entry in a:
            assert a[entry].keys() == b[entry].keys()
            for target in a[entry]:
                x, y = a[entry][target], b[entry][target]
                assert x["probability"] == pytest.approx(y["probability"], abs=1e-12)
                assert x["mean_s"] == pytest.approx(y["mean_s"], rel=1e-9, abs=0.1)
                assert x["p50_s"] == y["p50_s"] and x["p90_s"] == y["p90_s"]
        assert forward.stage_shares == pytest.approx(backward.stage_shares, abs=1e-9)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RING_LIMIT", 1),  # every delay of more than a step waits in the dict, not the ring
        ("BATCH", 1),  # look for the quantiles after every step
        ("STEP_MAP_LIMIT", 0),  # every step by a solve, never by the precomputed map
        ("BLOCKS", 0),  # a step at a time, not in blocks
        ("BLOCKS", 1),  # blocks of one step: no transition within a block
        ("BLOCKS", 5),  # blocks of 5, 2 or 1 steps, with transitions inside them
    ],
)
def test_each_way_of_carrying_the_mass_gives_the_same_quantiles(name: str, value: int) -> None:
    # Without the exact grid first (whose reach depends on what a step costs), every
    # way of carrying the mass over the steps must give the same figures.
    # (A step by a solve counts for much more work: the budget is lifted.)
    j = _example("client")
    f = flow(j)
    with patched("EXACT_TRIAL", 0), budget(1e12):
        want = time_to_outcomes(j, f)
        with patched(name, value):
            got = time_to_outcomes(j, f)
    assert got.to_dict() == want.to_dict()
    assert got.notes == want.notes == []


@contextmanager
def counted(cls: type, name: str) -> Iterator[list[int]]:
    """Count the calls of a method for a while."""
    calls = [0]
    original = getattr(cls, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    setattr(cls, name, spy)
    try:
        yield calls
    finally:
        setattr(cls, name, original)


@contextmanager
def work_left() -> Iterator[list[float]]:
    """The work left in the budget after each pass, as counted."""
    left: list[float] = []
    original = timing._Stepper.run

    def spy(self: Any, delays: Any, h: Any, active: Any, prob: Any, budget: Any) -> Any:
        found = original(self, delays, h, active, prob, budget)
        left.append(budget.left)
        return found

    timing._Stepper.run = spy  # type: ignore[method-assign]
    try:
        yield left
    finally:
        timing._Stepper.run = original  # type: ignore[method-assign]


def _same_either_way(j: Journey) -> tuple[int, int]:
    """Blocks and a step at a time give the same figures, notes and grid, budget and
    exact trial included: the blocks follow the other way's work step by step, to
    the same float of work left after every pass. Returns how many passes went by
    blocks and a step at a time."""
    f = flow(j)
    with patched("BLOCKS", 0), counted(timing._Stepper, "_one_by_one") as one, work_left() as w:
        want = time_to_outcomes(j, f)
    with (
        counted(timing._Blocks, "run") as blocks,
        counted(timing._Stepper, "_one_by_one") as rest,
        work_left() as g,
    ):
        got = time_to_outcomes(j, f)
    assert got.to_dict() == want.to_dict()
    assert (got.notes, got.grid_s, got.stage_shares) == (want.notes, want.grid_s, want.stage_shares)
    assert blocks[0] + rest[0] == one[0]
    assert g == w  # the same work, to the last bit
    return blocks[0], rest[0]


@pytest.mark.parametrize("name", ["candidate", "client", "recruiting-observed"])
def test_blocks_give_the_example_figures_of_a_step_at_a_time(name: str) -> None:
    by_blocks, _ = _same_either_way(_example(name))
    assert by_blocks >= 1  # the blocks were used, not only allowed


@pytest.mark.parametrize("units", [1_000, 3_000_000, 30_000_000, 150_000_000])
def test_blocks_run_out_of_budget_at_the_same_step(units: float) -> None:
    # The budget ends passes part way (in the exact trial, in a rounded grid, or
    # at the first step): the same quantiles are found, the same are not.
    with budget(units):
        _same_either_way(_example("client"))


def test_blocks_skip_steps_where_nothing_arrives(make_journey: Make) -> None:
    # Times of whole weeks on a grid of a day: most steps see no arrival; a loop
    # of 2 weeks and one of 9 days wrap around the ring of past steps many times.
    j = make_journey(
        """
        journey: weeks
        stages: [s]
        touchpoints:
          - id: a
            stage: s
            duration: 1d
            next: [{to: b, probability: 0.7, wait: 2w}, {to: c, probability: 0.3, wait: 3w}]
          - id: b
            stage: s
            next: [{to: a, probability: 0.4, wait: 1w}, {to: won, probability: 0.6}]
          - id: c
            stage: s
            next: [{to: c, probability: 0.5, wait: 8d}, {to: lost, probability: 0.5}]
        outcomes: [{id: won, result: success}, {id: lost, result: lost}]
        entries: [a]
        """
    )
    by_blocks, _ = _same_either_way(j)
    assert by_blocks >= 1


def test_rounded_grids_agree_with_the_exact_grid_first() -> None:
    for example in ("candidate", "client"):
        j = _example(example)
        f = flow(j)
        want = time_to_outcomes(j, f).to_dict()
        with patched("EXACT_TRIAL", 0):
            got = time_to_outcomes(j, f).to_dict()
        for entry, records in want.items():  # each within half a percent of the mean
            for target, w in records.items():
                g = got[entry][target]
                assert g["mean_s"] == w["mean_s"]
                for key in ("p50_s", "p90_s"):
                    assert abs(g[key] - w[key]) <= 0.01 * w["mean_s"] + 0.1, (entry, target)


def test_the_examples_agree_with_their_mix() -> None:
    # The mean time to success of the mix is the mix of the entries' means,
    # weighted by how many start there and how many of them succeed.
    j = _example("candidate")
    f = flow(j)
    t = time_to_outcomes(j, f)
    w = entry_weights(j, f)
    x = success_probability(f)
    d = t.to_dict()
    num = sum(w[f.index[e]] * x[f.index[e]] * d[e]["success"]["mean_s"] for e in d)
    den = sum(w[f.index[e]] * x[f.index[e]] for e in d)
    assert t.success_mean_s == pytest.approx(num / den, rel=1e-6)
    assert sum(t.stage_shares.values()) == pytest.approx(1.0, abs=1e-9)
    assert t.notes == []


def _example(name: str) -> Journey:
    path = ROOT / "journeys" / f"{name}.yaml"
    return loads(path.read_text(encoding="utf-8"), str(path))


# ----------------------------------------------------------------- Monte Carlo


def simulate(j: Journey, f: Flow, entry: str, walks: int, rng: np.random.Generator) -> Any:
    """Each walk's outcome (node index, -1 for none) and time, following the chain."""
    n, tps = f.n, j.touchpoints
    duration = np.zeros(n)
    duration[: f.n_touchpoints] = [tp.duration_seconds or 0.0 for tp in tps]
    wait = np.asarray([t.wait_seconds or 0.0 for tp in tps for t in tp.next])
    start = np.searchsorted(f.src, np.arange(n + 1))  # f.src is sorted by touchpoint
    cum = np.zeros(len(f.src))
    for i in range(f.n_touchpoints):
        cum[start[i] : start[i + 1]] = np.cumsum(f.prob[start[i] : start[i + 1]])
    node = np.full(walks, f.index[entry])
    time = np.zeros(walks)
    end = np.full(walks, -1)
    alive = np.ones(walks, dtype=bool)
    for _ in range(100_000):
        idx = np.flatnonzero(alive)
        if not len(idx):
            break
        at = node[idx]
        out = at >= f.n_touchpoints
        end[idx[out]] = at[out]
        alive[idx[out]] = False
        idx, at = idx[~out], at[~out]
        u = rng.random(len(idx))
        lo, hi = start[at], start[at + 1]
        pick = np.full(len(idx), -1)
        for k in range(int((hi - lo).max()) if len(idx) else 0):
            where = lo + k
            ok = (where < hi) & (pick < 0)
            ok[ok] &= cum[where[ok]] > u[ok]
            pick[ok] = where[ok]
        leave = pick < 0  # drop-off or a dead end
        alive[idx[leave]] = False
        idx, at, pick = idx[~leave], at[~leave], pick[~leave]
        time[idx] += duration[at] + wait[pick]
        node[idx] = f.dst[pick]
    assert not alive.any()
    return end, time


def _random_journey(rng: np.random.Generator, size: int) -> dict[str, Any]:
    """A small journey with loops (self-loops and rework), drop-offs, mixed times."""
    waits = ["30m", "2h", "1d", "2d", "3d", "1w", None, None]
    durations = ["5m", "7m", "20m", "1.1h", "90m", None]
    tps = [f"t{i}" for i in range(size)]
    outcomes = [("won", "success"), ("hired", "success"), ("gone", "lost")]
    touchpoints = []
    for i, ident in enumerate(tps):
        forward = tps[i + 1 : i + 3] or []
        choices = [*forward, *[o for o, _ in outcomes]]
        targets = list(rng.choice(choices, size=min(len(choices), 2), replace=False))
        if rng.random() < 0.5 and i > 0:
            targets.append(tps[int(rng.integers(0, i))])  # rework: back to an earlier one
        if rng.random() < 0.3:
            targets.append(ident)  # a self-loop
        weights = rng.random(len(targets)) + 0.2
        keep = rng.uniform(0.75, 1.0)
        nxt = []
        for to, w in zip(targets, weights / weights.sum() * keep, strict=True):
            t: dict[str, Any] = {"to": str(to), "probability": round(float(w), 4)}
            wait = waits[int(rng.integers(len(waits)))]
            if wait:
                t["wait"] = wait
            nxt.append(t)
        tp: dict[str, Any] = {"id": ident, "stage": f"s{i % 2}", "next": nxt}
        duration = durations[int(rng.integers(len(durations)))]
        if duration:
            tp["duration"] = duration
        touchpoints.append(tp)
    return {
        "journey": "random",
        "stages": ["s0", "s1"],
        "touchpoints": touchpoints,
        "outcomes": [{"id": o, "result": r} for o, r in outcomes],
        "entries": ["t0"],
    }


@pytest.mark.parametrize("exact_first", [True, False])
@pytest.mark.parametrize("seed", [1, 2, 5, 8, 17, 19])
def test_monte_carlo_agrees(seed: int, exact_first: bool) -> None:
    # Journeys of 4 to 7 touchpoints with loops; times in minutes and days, so
    # that most quantiles come from rounded grids (and without the exact grid
    # first, all that can).
    rng = np.random.default_rng(seed)
    j = loads(json.dumps(_random_journey(rng, int(rng.integers(4, 8)))), "random.json")
    f = flow(j)
    with patched("EXACT_TRIAL", timing.EXACT_TRIAL if exact_first else 0):
        t = time_to_outcomes(j, f)
    assert t.notes == []
    count, labels = f.components
    assert np.bincount(labels).max() > 1 or bool((f.src == f.dst).any())  # loops
    end, time = simulate(j, f, "t0", 200_000, rng)
    records = t.to_dict()["t0"]
    checked = 0
    for target, record in records.items():
        if target == "success":
            mask = (end >= 0) & f.success[np.maximum(end, 0)]
        else:
            mask = end == f.index[target]
        p, count = record["probability"], int(mask.sum())
        assert abs(count / len(end) - p) <= 4 * math.sqrt(p * (1 - p) / len(end)) + 1e-12
        if count < 200:
            continue  # too few walks to say anything about their times
        sample = np.sort(time[mask])
        se = sample.std() / math.sqrt(count)
        assert abs(sample.mean() - record["mean_s"]) <= 3 * se + 0.05, (target, record)
        eps = math.sqrt(math.log(2 / 1e-6) / (2 * count))
        tol = 0.005 * record["mean_s"] + 0.05
        for key, q in (("p50_s", 0.5), ("p90_s", 0.9)):
            x = record[key]
            at_or_below = np.searchsorted(sample, x + tol, side="right") / count
            below = np.searchsorted(sample, x - tol, side="left") / count
            assert at_or_below >= q - eps and below <= q + eps, (target, key, record)
        checked += 1
    assert checked >= 1


# ------------------------------------------------------- Solution, k columns


@settings(max_examples=150, deadline=None, derandomize=True)
@given(journey_dicts(max_touchpoints=9), st.integers(1, 5), st.booleans())
def test_several_columns_solve_as_each_alone(d: dict[str, Any], k: int, transposed: bool) -> None:
    try:
        j = loads(dumps(d, "json"), "x.json")
    except JourneyError:
        return
    f = flow(j)
    solution = Solution.of(f.chain, f.drop)
    b = np.random.default_rng(k).random((f.n, k)) * (np.arange(f.n) % 3 != 0)[:, None]
    together = solution.solve(b, transposed=transposed)
    again = solution.solve(b, transposed=transposed)  # from what the first call kept
    for c in range(k):
        alone = solution.solve(np.ascontiguousarray(b[:, c]), transposed=transposed)
        np.testing.assert_allclose(together[:, c], alone, rtol=1e-12, atol=0)
    np.testing.assert_array_equal(together, again)


def _generated(touchpoints: int, transitions: int) -> dict[str, Any]:
    """A journey from benchmarks/generate.py (stages, rework loops, numbers)."""
    spec = importlib.util.spec_from_file_location("generate", ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    made: dict[str, Any] = generate.journey(touchpoints, transitions)
    return made


def test_several_columns_through_large_loops() -> None:
    # The iterative (over 1,500 nodes) and dense paths of a loop, with k columns.
    j = loads(json.dumps(_generated(2500, 9000)), "generated.json")
    f = flow(j)
    solution = Solution.of(f.chain, f.drop)
    assert np.bincount(solution.labels).max() > 1500
    b = np.random.default_rng(0).random((f.n, 3))
    for transposed in (False, True):
        together = solution.solve(b, transposed=transposed)
        for c in range(3):
            alone = solution.solve(np.ascontiguousarray(b[:, c]), transposed=transposed)
            np.testing.assert_allclose(together[:, c], alone, rtol=1e-10)


# ------------------------------------------------------------------ invariants


TIMES = ("0s", "1s", "7m", "1h", "1.5h", "1d", "2w", "0.1s")


@st.composite
def timed_journey_dicts(draw: st.DrawFn, texts: tuple[str, ...] = TIMES) -> dict[str, Any]:
    """journey_dicts with durations and waits on some touchpoints and transitions."""
    d = draw(journey_dicts())
    times = st.sampled_from(texts)
    for tp in d["touchpoints"]:
        if draw(st.booleans()):
            tp["duration"] = draw(times)
        nxt = []
        for t in tp.get("next", []):
            t = {"to": t} if isinstance(t, str) else dict(t)
            if draw(st.booleans()):
                t["wait"] = draw(times)
            nxt.append(t)
        if nxt:
            tp["next"] = nxt
    return d


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(timed_journey_dicts())
def test_invariants(d: dict[str, Any]) -> None:
    try:
        j = loads(dumps(d, "json"), "x.json")
    except JourneyError:
        return
    f = flow(j)
    with budget(20_000_000):  # a loop left at 1e-9 a round: the budget, quickly
        t = time_to_outcomes(j, f)
    json.dumps(t.to_dict(), allow_nan=False)
    a = analyze(j)
    assert list(t.to_dict()) == sorted(j.entry_ids)
    for entry, records in t.to_dict().items():
        outcomes = [r["probability"] for k, r in records.items() if k != "success"]
        assert math.fsum(outcomes) <= 1 + 1e-9
        for target, r in records.items():
            assert 0 < r["probability"] <= 1
            for key in ("mean_s", "p50_s", "p90_s"):
                assert r[key] is None or (math.isfinite(r[key]) and r[key] >= 0)
            if r["p50_s"] is not None and r["p90_s"] is not None:
                assert r["p50_s"] <= r["p90_s"]
            if r["p50_s"] is None or r["mean_s"] is None:
                assert t.notes
            if target == "success":
                assert 0 <= r["known_wait_share"] <= 1
                assert abs(r["probability"] - a.success_probability[entry]) <= 1e-9
    if t.stage_shares:
        assert abs(math.fsum(t.stage_shares.values()) - 1) <= 1e-9
        assert all(0 <= v <= 1 for v in t.stage_shares.values())


def test_a_subnormal_crumb_of_mass_ends_a_pass_either_way(make_journey: Make) -> None:
    # 1e-300 of the customers circle b, staying with 0.6 a minute: their mass goes
    # subnormal, and 4.9e-324 x 0.6 rounds back to 4.9e-324 a step at a time (a crumb
    # that never drains, each step counted as work) while a block's 0.6^j rounds it
    # to 0. Less than the smallest normal float is no mass, either way.
    j = make_journey(
        """
        journey: crumb
        stages: [s]
        touchpoints:
          - id: a
            stage: s
            next: [{to: b, probability: 1.0e-300, wait: 1m}, {to: late, probability: 1.0, wait: 1001m}]
          - id: b
            stage: s
            next: [{to: b, probability: 0.6, wait: 1m}, {to: won, probability: 0.4}]
        outcomes: [{id: won, result: success}, {id: late, result: lost}]
        entries: [a]
        """
    )
    by_blocks, _ = _same_either_way(j)
    assert by_blocks >= 1


def test_blocks_are_not_worth_a_costly_step_map() -> None:
    # On 2,000 touchpoints a step map costs a solve over the whole chain per state
    # node (0.5 s) where a step at a time needs a few solves: no blocks there.
    j = loads(json.dumps(_generated(2000, 6000)), "generated.json")
    f = flow(j)
    with patched("BLOCKS", 0), counted(timing._Stepper, "_map") as step_maps:
        want = time_to_outcomes(j, f)
    with counted(timing._Stepper, "_map") as block_maps:
        got = time_to_outcomes(j, f)
    assert got.to_dict() == want.to_dict()
    assert block_maps[0] == step_maps[0]


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(
    st.one_of(timed_journey_dicts(), timed_journey_dicts(("0s", "7m", "1h", "2.5h", "1d", "3d"))),
    st.sampled_from([5_000_000, 60_000_000]),
    st.sampled_from([2, 32]),
)
def test_blocks_agree_with_a_step_at_a_time(d: dict[str, Any], units: int, size: int) -> None:
    try:
        j = loads(dumps(d, "json"), "x.json")
    except JourneyError:
        return
    with budget(units), patched("BLOCKS", size):
        _same_either_way(j)


@pytest.mark.parametrize("name", ["candidate", "client"])
def test_an_analysis_for_a_map_leaves_out_only_the_quantiles(name: str) -> None:
    """Maps analyse without the medians and 90th percentiles (most of the time on
    small journeys); every other figure, findings included, is the same."""
    from dataclasses import replace

    from journeymap import load

    from .test_examples import EXAMPLES

    j = load(EXAMPLES / f"{name}.yaml")
    full, quick = analyze(j), analyze(j, quantiles=False)
    assert quick.findings == full.findings and quick.leaks == full.leaks
    assert quick.success_probability == full.success_probability
    assert quick.fix_first == full.fix_first and quick.drop_off == full.drop_off
    assert quick.time.stage_shares == full.time.stage_shares
    assert any(r.p50_s is not None for rs in full.time.entries.values() for r in rs.values())
    for e, records in full.time.entries.items():
        for o, r in records.items():
            q = quick.time.entries[e][o]
            assert q.p50_s is None and q.p90_s is None
            assert replace(q, p50_s=r.p50_s, p90_s=r.p90_s) == r
