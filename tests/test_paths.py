"""Ranked paths, checked by hand and against brute-force enumeration."""

from __future__ import annotations

import math
from collections.abc import Callable

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeymap.errors import JourneyError
from journeymap.graph import flow
from journeymap.model import Journey
from journeymap.paths import Route, count_routes, find_paths, route_key

from .conftest import journey
from .test_analysis import LOOP

Make = Callable[..., Journey]


def test_lost_and_success_paths_of_the_loop_by_hand(make_journey: Make) -> None:
    j = make_journey(LOOP)
    # start -> apply (0.8) -> gave-up (0.3) = 0.24; start leaves by drop-off 0.2.
    # reapply only leads back to apply, so no simple path ends there.
    assert [r.to_dict() for r in find_paths(j)] == [
        {"steps": ["start", "apply", "gave-up"], "end": "outcome", "probability": 0.24},
        {"steps": ["start"], "end": "drop-off", "probability": 0.2},
    ]
    assert find_paths(j, to="success") == [
        Route(("start", "apply", "interview", "placed"), "outcome", pytest.approx(0.24))  # type: ignore[arg-type]
    ]
    assert [r.steps for r in find_paths(j, to="gave-up")] == [("start", "apply", "gave-up")]


DEAD_AND_CLOSED = """\
journey: j
stages: [s]
touchpoints:
  - id: a
    stage: s
    volume: 100
    next:
      - {to: b, volume: 50}
      - {to: c, volume: 30}
  - id: b
    stage: s
  - id: c
    stage: s
    next: [d]
  - id: d
    stage: s
    next: [e]
  - id: e
    stage: s
    next: [d]
outcomes:
  - {id: won, result: success}
"""


def test_dead_ends_closed_loops_and_volumes_by_hand(make_journey: Make) -> None:
    j = make_journey(DEAD_AND_CLOSED)
    # a: b 50/100, c 30/100, drop-off 0.2. b is a dead end. c -> d <-> e is a loop
    # nothing leaves: the path ends at d, the first node of the loop it reaches.
    assert [(r.steps, r.end, r.probability) for r in find_paths(j)] == [
        (("a", "b"), "dead-end", 0.5),
        (("a", "c", "d"), "loop", 0.3),
        (("a",), "drop-off", pytest.approx(0.2)),
    ]
    assert find_paths(j, to="success") == []


def test_ties_go_to_fewer_steps_then_to_the_ids(make_journey: Make) -> None:
    j = make_journey(
        """\
        journey: j
        stages: [s]
        touchpoints:
          - id: e
            stage: s
            next: [z, y, x]
          - id: z
            stage: s
            next: [lost1]
          - id: y
            stage: s
            next: [lost2]
          - id: x
            stage: s
            next: [m]
          - id: m
            stage: s
            next: [lost1]
        outcomes:
          - {id: lost1, result: lost}
          - {id: lost2, result: lost}
        """
    )
    assert [r.steps for r in find_paths(j)] == [
        ("e", "y", "lost2"),
        ("e", "z", "lost1"),
        ("e", "x", "m", "lost1"),
    ]
    assert [r.steps for r in find_paths(j, limit=1)] == [("e", "y", "lost2")]


def test_bad_questions_are_refused_clearly(make_journey: Make) -> None:
    j = make_journey(LOOP)
    with pytest.raises(
        JourneyError, match=r"use lost, success or an outcome id \(did you mean 'gave-up'"
    ):
        find_paths(j, to="gaveup")
    with pytest.raises(JourneyError, match="'apply' is not an entry of loop"):
        find_paths(j, start="apply")
    with pytest.raises(JourneyError, match="at least 1"):
        find_paths(j, limit=0)


def wide(stages: int, width: int) -> str:
    """Every touchpoint of a stage leads to every one of the next: width^stages paths."""
    lines = ["journey: wide", "stages: [" + ", ".join(f"s{k}" for k in range(stages)) + "]"]
    lines.append("touchpoints:")
    for k in range(stages):
        for i in range(width):
            lines.append(f"  - id: t{k}-{i}")
            lines.append(f"    stage: s{k}")
            if k + 1 < stages:
                share = 0.95 / width
                nxt = ", ".join(f"{{to: t{k + 1}-{m}, probability: {share}}}" for m in range(width))
            else:
                nxt = "{to: won, probability: 0.5}, {to: lost, probability: 0.5}"
            lines.append(f"    next: [{nxt}]")
    lines.append("outcomes: [{id: won, result: success}, {id: lost, result: lost}]")
    lines.append("entries: [t0-0]")
    return "\n".join(lines) + "\n"


def test_a_huge_number_of_paths_is_refused_without_limit_and_ranked_with_it() -> None:
    j = journey(wide(16, 10))  # 10^15 paths to each outcome
    with pytest.raises(JourneyError, match=r"at least [\d,]+ paths end there; .*--limit"):
        find_paths(j)
    f = flow(j)
    assert count_routes(f, [0], f.lost) == 10**15
    top = find_paths(j, limit=5)
    assert len(top) == 5
    # the most probable lost path leaves at the first touchpoint (drop-off 0.05)
    assert top[0] == Route(("t0-0",), "drop-off", pytest.approx(0.05))  # type: ignore[arg-type]
    assert [r.probability for r in top] == sorted((r.probability for r in top), reverse=True)


# --- brute force ---------------------------------------------------------------------


def brute_force(j: Journey, to: str) -> list[Route]:
    """Every simple path, enumerated from the definitions without the search's machinery."""
    prob: dict[str, dict[str, float]] = {}
    drop: dict[str, float] = {}
    for tp in j.touchpoints:
        shares, leave = tp.shares()
        prob[tp.id] = {t.to: p for t, p in zip(tp.next, shares, strict=True) if p > 0}
        drop[tp.id] = leave
    g = nx.DiGraph()
    g.add_nodes_from(j.nodes)
    g.add_edges_from((a, b) for a, out in prob.items() for b in out)
    closed: set[str] = set()
    for comp in nx.strongly_connected_components(g):
        looped = len(comp) > 1 or any(g.has_edge(c, c) for c in comp)
        leaves = any(b not in comp for c in comp for b in g.successors(c))
        if looped and not leaves and not any(drop.get(c, 0) > 0 for c in comp):
            closed |= comp
    results: list[Route] = []
    outcomes = {o.id: o.result for o in j.outcomes}

    def ends(v: str) -> list[tuple[str, float]]:
        if v in outcomes:
            ok = outcomes[v] == to if to in ("lost", "success") else v == to
            return [("outcome", 1.0)] if ok else []
        if to != "lost":
            return []
        if v in closed:
            return [("loop", 1.0)]
        if not j.nodes[v].next:  # type: ignore[union-attr]
            return [("dead-end", 1.0)]
        return [("drop-off", drop[v])] if drop[v] > 0 else []

    def walk(path: list[str], p: float) -> None:
        v = path[-1]
        for kind, share in ends(v):
            results.append(Route(tuple(path), kind, p * share))
        if v in outcomes or v in closed:
            return
        for w, q in prob[v].items():
            if w not in path:
                walk([*path, w], p * q)

    for e in j.entry_ids:
        walk([e], 1.0)
    return sorted(results, key=route_key)


@st.composite
def random_journeys(draw: st.DrawFn) -> str:
    n = draw(st.integers(2, 7))
    ids = [f"t{i}" for i in range(n)]
    outs = ["ok", "lost", "lost2"]
    lines = ["journey: r", "stages: [s]", "touchpoints:"]
    for i in ids:
        lines += [f"  - id: {i}", "    stage: s"]
        targets = draw(st.lists(st.sampled_from(ids + outs), unique=True, max_size=4))
        style = draw(st.sampled_from(["none", "prob", "volume"]))
        items = []
        if style == "prob" and targets:
            ps = draw(
                st.lists(
                    st.sampled_from([0.0, 0.1, 0.2, 0.25, 0.3, 0.5]),
                    min_size=len(targets),
                    max_size=len(targets),
                )
            )
            if sum(ps) > 1:
                ps = [p / 2 for p in ps]
            items = [f"{{to: {t}, probability: {p}}}" for t, p in zip(targets, ps, strict=True)]
        elif style == "volume" and targets:
            lines.append("    volume: 100")
            vs = draw(st.lists(st.integers(0, 25), min_size=len(targets), max_size=len(targets)))
            items = [f"{{to: {t}, volume: {v}}}" for t, v in zip(targets, vs, strict=True)]
        else:
            items = targets
        if items:
            lines.append(f"    next: [{', '.join(items)}]")
    lines.append("outcomes: [{id: ok, result: success}, {id: lost, result: lost},")
    lines.append("           {id: lost2, result: lost}]")
    entries = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=2, unique=True))
    lines.append(f"entries: [{', '.join(entries)}]")
    return "\n".join(lines) + "\n"


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_journeys(), st.sampled_from(["lost", "success", "lost2"]))
def test_the_search_returns_exactly_the_brute_force_order(text: str, to: str) -> None:
    j = journey(text)
    expected = brute_force(j, to)
    got = find_paths(j, to=to)
    assert [(r.steps, r.end) for r in got] == [(r.steps, r.end) for r in expected]
    for a, b in zip(got, expected, strict=True):
        assert math.isclose(a.probability, b.probability, rel_tol=1e-9, abs_tol=1e-15)
    # --limit N is exactly the first N of that order
    for k in range(1, len(expected) + 1):
        assert [r.steps for r in find_paths(j, to=to, limit=k)] == [r.steps for r in expected[:k]]
    # the cheap count over the loops is a lower bound on the real number
    f = flow(j)
    assert count_routes(f, sorted(f.entries.tolist()), f.success) <= len(brute_force(j, "success"))
