"""Ranked paths, checked by hand and against brute-force enumeration."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeymap.analysis import analyze
from journeymap.errors import JourneyError
from journeymap.graph import flow
from journeymap.model import Journey
from journeymap.paths import ROUTES_CAP, Route, count_routes, find_paths, route_key, routes

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


# --- issue #12: dense journeys, long chains, huge counts ---------------------------------


def dense(n: int, drop: float = 0.0) -> str:
    """Issue #12's reproducer: an entry, then n - 1 touchpoints that all lead to each
    other, each with a 0.02 way back to the entry (and ``drop`` of drop-off)."""
    others = [f"t{i}" for i in range(1, n)]
    each = (0.98 - drop) / (len(others) - 1)
    lines = ["journey: dense", "stages: [s]", "touchpoints:", "  - id: e", "    stage: s"]
    lines.append("    next: [{to: lost, probability: 0.4}, " + ", ".join(others) + "]")
    for o in others:
        nxt = [f"{{to: {t}, probability: {each!r}}}" for t in others if t != o]
        lines += [f"  - id: {o}", "    stage: s", f"    next: [{', '.join(nxt)}, {{to: e, probability: 0.02}}]"]  # fmt: skip
    lines.append("outcomes: [{id: lost, result: lost}, {id: won, result: success}]")
    lines.append("entries: [e]")
    return "\n".join(lines) + "\n"


def short_paths_by_hand(j: Journey, depth: int) -> list[Route]:
    """The lost paths of a dense journey with at most ``depth`` touchpoints, in order."""
    f = flow(j)
    shares = {(f.ids[a], f.ids[b]): p for a, b, p in zip(f.src, f.dst, f.prob, strict=True)}
    drop = {f.ids[i]: float(f.drop[i]) for i in range(f.n_touchpoints)}
    found = [Route(("e", "lost"), "outcome", 0.4)]
    others = [t for t in f.ids[: f.n_touchpoints] if t != "e"]

    def walk(path: tuple[str, ...], p: float) -> None:
        if drop[path[-1]] > 0:
            found.append(Route(path, "drop-off", p * drop[path[-1]]))
        if len(path) < depth:
            for t in others:
                if t not in path:
                    walk((*path, t), p * shares[path[-1], t])

    walk(("e",), 1.0)
    return sorted(found, key=route_key)


@pytest.mark.parametrize("n", [12, 13])
def test_dense_journeys_answer_at_once_with_limit(n: int) -> None:
    # (n - 1)! simple paths; the old best-first search, whose bound goes back to the
    # entry, looked at them all: 34 s and 1.9 GB at 12, a MemoryError at 13.
    j = journey(dense(n))
    for limit in (2, 20):  # the only lost path: every other one loops for ever
        assert find_paths(j, limit=limit) == [Route(("e", "lost"), "outcome", 0.4)]
    assert find_paths(j, to="success", limit=2) == []
    # With a tiny drop-off everywhere every simple path is lost, the deep ones
    # least probable: the first 20 are those of at most 3 touchpoints, by hand.
    j = journey(dense(n, drop=1e-9))
    expected = short_paths_by_hand(j, 3)
    for limit in (2, 20):
        got = find_paths(j, limit=limit)
        assert [(r.steps, r.end) for r in got] == [(r.steps, r.end) for r in expected[:limit]]
        for a, b in zip(got, expected, strict=False):
            assert a.probability == pytest.approx(b.probability, rel=1e-12)


@st.composite
def dense_journeys(draw: st.DrawFn) -> str:
    """Every touchpoint leads to every other (and back to the entry), with ties."""
    n = draw(st.integers(2, 5))
    ids = [f"t{i}" for i in range(n)]
    lines = ["journey: r", "stages: [s]", "touchpoints:"]
    for i in ids:
        targets = [t for t in ids if t != i] + draw(
            st.lists(st.sampled_from(["ok", "lost", "lost2"]), unique=True, max_size=2)
        )
        ps = draw(
            st.lists(
                st.sampled_from([0.0, 0.02, 0.1, 0.2, 0.25]),
                min_size=len(targets),
                max_size=len(targets),
            )
        )
        if sum(ps) > 1:
            ps = [p / 2 for p in ps]
        items = [f"{{to: {t}, probability: {p}}}" for t, p in zip(targets, ps, strict=True)]
        lines += [f"  - id: {i}", "    stage: s", f"    next: [{', '.join(items)}]"]
    lines.append("outcomes: [{id: ok, result: success}, {id: lost, result: lost},")
    lines.append("           {id: lost2, result: lost}]")
    entries = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=2, unique=True))
    lines.append(f"entries: [{', '.join(entries)}]")
    return "\n".join(lines) + "\n"


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dense_journeys(), st.sampled_from(["lost", "success", "lost2"]), st.integers(1, 40))
def test_the_first_k_of_dense_journeys_are_the_first_k_of_brute_force(
    text: str, to: str, k: int
) -> None:
    j = journey(text)
    expected = [r for r in brute_force(j, to) if r.probability > 0][:k]
    got = find_paths(j, to=to, limit=k)
    assert [(r.steps, r.end) for r in got] == [(r.steps, r.end) for r in expected]
    for a, b in zip(got, expected, strict=True):
        assert math.isclose(a.probability, b.probability, rel_tol=1e-9, abs_tol=1e-15)


def diamonds(count: int, p: float = 0.99) -> str:
    """A chain of ``count`` two-way choices (d-b with p, d-c with 1 - p), then 50:50."""
    lines = ["journey: chain", "stages: [s]", "touchpoints:"]
    for i in range(count):
        d, nxt = f"d{i:05d}", f"d{i + 1:05d}" if i + 1 < count else "z"
        lines += [f"  - {{id: {d}, stage: s, next: [{{to: {d}-b, probability: {p}}}, {{to: {d}-c, probability: {1 - p:.10g}}}]}}"]  # fmt: skip
        lines += [f"  - {{id: {d}-b, stage: s, next: [{nxt}]}}", f"  - {{id: {d}-c, stage: s, next: [{nxt}]}}"]  # fmt: skip
    lines.append("  - {id: z, stage: s, next: [{to: won, probability: 0.5}, {to: lost, probability: 0.5}]}")  # fmt: skip
    lines.append("outcomes: [{id: won, result: success}, {id: lost, result: lost}]")
    lines.append("entries: [d00000]")
    return "\n".join(lines) + "\n"


def test_a_long_chain_of_choices_is_linear(monkeypatch: pytest.MonkeyPatch) -> None:
    # The old search copied the path at every step (quadratic: 13.7 s, 625 MB at 8,000).
    # Structurally: no Dijkstra run besides the first two (every way to finish from a
    # deviation rejoins the chain ahead), and each node's best next step found once.
    from journeymap import paths

    calls = {"spur": 0, "step": 0}
    spur, step = paths._Search._spur, paths._Search._step

    def counted_spur(self: Any, *a: Any) -> Any:
        calls["spur"] += 1
        return spur(self, *a)

    def counted_step(self: Any, *a: Any) -> Any:
        calls["step"] += 1
        return step(self, *a)

    monkeypatch.setattr(paths._Search, "_spur", counted_spur)
    monkeypatch.setattr(paths._Search, "_step", counted_step)
    n = 2000
    j = journey(diamonds(n))
    best = (*(x for i in range(n) for x in (f"d{i:05d}", f"d{i:05d}-b")), "z", "won")
    (top,) = find_paths(j, to="success", limit=1)
    assert top.steps == best
    assert top.probability == pytest.approx(0.99**n * 0.5)
    assert calls == {"spur": 0, "step": len(best)}  # once per node of the path
    calls["step"] = 0
    five = find_paths(j, to="lost", limit=5)
    # then the equally probable paths with one d-c: the latest first (ids, b < c)
    assert [r.steps for r in five] == [(*best[:-1], "lost")] + [
        (*best[: 2 * i + 1], f"d{i:05d}-c", *best[2 * i + 2 : -1], "lost")
        for i in range(n - 1, n - 5, -1)
    ]
    assert five[1].probability == pytest.approx(0.99 ** (n - 1) * 0.01 * 0.5)
    assert calls["spur"] == 0
    assert calls["step"] <= len(best) + n  # the chain, then each d-c once


def test_route_counts_saturate_and_paths_underflowing_to_0_are_not_listed() -> None:
    j = journey(diamonds(2000, p=0.5))  # 2^2000 routes, each of probability 0.5^2001 = 0
    f = flow(j)
    assert count_routes(f, [0], f.success | f.lost) == ROUTES_CAP
    metrics = analyze(j).metrics
    assert metrics["routes"] == ROUTES_CAP
    assert metrics["most_probable_success_path"] is None
    with pytest.raises(JourneyError, match="at least 1,000,000,000,000,000,000 paths"):
        find_paths(j)
    assert find_paths(j, to="success", limit=3) == []


def test_shares_outside_0_1_are_clipped_not_trusted(make_journey: Make) -> None:
    # The model keeps shares in [0, 1]; should one slip through, -log p < 0 must not
    # reach Dijkstra, and a path is never more than certain.
    j = make_journey(
        """\
        journey: j
        stages: [s]
        touchpoints:
          - {id: a, stage: s, next: [{to: b, probability: 0.5}, {to: c, probability: 0.5}]}
          - {id: b, stage: s, next: [lost]}
          - {id: c, stage: s, next: [lost]}
        outcomes: [{id: lost, result: lost}]
        """
    )
    f = flow(j)
    bent = dataclasses.replace(f, prob=np.where(f.dst == f.index["b"], 1.5, f.prob) * 1.0)
    bent = dataclasses.replace(bent, prob=np.where(bent.dst == bent.index["c"], -0.5, bent.prob))
    assert routes(j, bent, to="lost") == [Route(("a", "b", "lost"), "outcome", 1.0)]


def test_a_rare_path_never_reads_as_probability_0() -> None:
    # Found by fuzzing: 1 in 10^13 was rounded to 12 decimals, "probability": 0.0 and "0%".
    from journeymap.dot import percent
    from journeymap.loader import loads

    j = loads(
        "journey: tiny\nstages: [s]\ntouchpoints:\n"
        "  - {id: a, stage: s, next: [{to: lost, volume: 10000000000000}, {to: b, volume: 1}]}\n"
        "  - {id: b, stage: s}\n"
        "outcomes: [{id: lost, result: lost}]\n",
        "tiny.yaml",
    )
    rare = [r for r in find_paths(j, limit=5) if r.end == "dead-end"]
    assert [r.steps for r in rare] == [("a", "b")]
    assert 0 < rare[0].to_dict()["probability"] == pytest.approx(1e-13, rel=1e-9)
    assert percent(rare[0].probability) == "<0.1%"
