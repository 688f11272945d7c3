"""Findings (the journey lint), leaks and metrics, checked by hand and by brute force."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from journeymap.analysis import analyze
from journeymap.errors import JourneyError
from journeymap.findings import RULES, Config, dominators, load_config
from journeymap.graph import flow
from journeymap.model import Journey

from .conftest import journey
from .test_analysis import LOOP
from .test_paths import random_journeys

Make = Callable[..., Journey]

SHOP = """\
journey: shop
stages: [first, second, third]
touchpoints:
  - id: ad
    stage: first
    owner: Marketing
    volume: 100
    next:
      - {to: call, volume: 60}
      - {to: form, volume: 20}
  - id: call
    stage: first
    owner: Sales
    emotion: -1
    next: [form]
  - id: form
    stage: second
    owner: Sales
    emotion: -2
    importance: {customer: 5}
    quality: 1
    next:
      - {to: offer, probability: 0.5, wait: 2w}
      - {to: call, probability: 0.2}
  - id: offer
    stage: third
    next:
      - {to: won, probability: 0.9}
  - id: survey
    stage: third
    owner: Marketing
outcomes:
  - {id: won, result: success}
entries: [ad]
"""


def rules(j: Journey, config: Config | None = None) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for f in analyze(j, config).findings:
        found.setdefault(f.rule, []).append(f.subject)
    return found


def test_each_rule_finds_what_it_names(make_journey: Make) -> None:
    found = rules(make_journey(SHOP))
    assert found == {
        "unreachable": ["survey"],
        "dead-end": ["survey"],
        "no-owner": ["offer"],
        "important-but-poor": ["form"],
        "long-wait": ["form"],
        # ad -> call (Marketing -> Sales), ad -> form (Marketing -> Sales)
        "handoff": ["ad"],
        # call (-1) -> form (-2) -> call: a loop of two negative touchpoints
        "negative-stretch": ["call"],
        # every success passes through form and offer (ad is the entry itself)
        "single-point-of-failure": ["form", "offer"],
        "rework": ["form"],  # form (second stage) -> call (first stage)
    }


def test_severities_order_and_messages(make_journey: Make) -> None:
    a = analyze(make_journey(SHOP))
    assert [f.severity for f in a.findings] == sorted(
        (f.severity for f in a.findings), key=("error", "warning", "info").index
    )
    by_rule = {f.rule: f for f in a.findings}
    assert by_rule["long-wait"].message == "customers wait 2w between “Form” and “Offer”"
    assert by_rule["handoff"].message == (
        "Marketing hands customers from “Ad” to Sales (“Call”, “Form”)"
    )
    assert by_rule["important-but-poor"].severity == "warning"
    assert {r: s for r, (s, _) in RULES.items()}["trap"] == "error"


def test_traps_closed_loops_and_empty_stages(make_journey: Make) -> None:
    j = make_journey(
        """\
        journey: j
        stages: [a, b, empty]
        touchpoints:
          - id: start
            stage: a
            owner: X
            next: [spin, won]
          - id: spin
            stage: b
            owner: X
            next: [spin2]
          - id: spin2
            stage: b
            owner: X
            next: [spin]
        outcomes:
          - {id: won, result: success}
        """
    )
    found = rules(j)
    assert found["trap"] == ["spin", "spin2"]
    assert found["closed-loop"] == ["spin"]
    assert found["empty-stage"] == ["empty"]
    assert "dead-end" not in found


def test_thresholds_and_severities_come_from_a_config_file(
    make_journey: Make, tmp_path: Path
) -> None:
    cfg = tmp_path / "lint.yaml"
    cfg.write_text(
        "thresholds:\n  long_wait: 3w\n  poor: 0\n  negative_stretch: 3\n"
        "rules:\n  handoff: off\n  rework: error\n"
    )
    with pytest.raises(JourneyError) as info:
        load_config(cfg)  # poor: 0 is not a score
    assert [str(p) for p in info.value.problems] == [f"{cfg}:3:9: poor: a score from 1 to 5"]
    cfg.write_text(
        "thresholds:\n  long_wait: 3w\n  poor: 1\n  negative_stretch: 3\n"
        "rules:\n  handoff: off\n  rework: error\n"
    )
    found = analyze(make_journey(SHOP), load_config(cfg)).findings
    rules_found = {f.rule: f.severity for f in found}
    assert "handoff" not in rules_found
    assert "long-wait" not in rules_found  # 2w < 3w
    assert "important-but-poor" in rules_found  # quality 1 <= 1
    assert "negative-stretch" not in rules_found  # 2 in a row < 3
    assert rules_found["rework"] == "error"


def test_config_mistakes_are_reported_with_positions(tmp_path: Path) -> None:
    cfg = tmp_path / "lint.yaml"
    cfg.write_text("thresholds:\n  longwait: 1w\nrules:\n  handof: off\n  trap: fatal\nextra: 1\n")
    with pytest.raises(JourneyError) as info:
        load_config(cfg)
    assert [str(p) for p in info.value.problems] == [
        f"{cfg}:2:3: unknown threshold 'longwait' (did you mean 'long_wait'?)",
        f"{cfg}:4:3: unknown rule 'handof' (did you mean 'handoff'?)",
        f"{cfg}:5:9: trap: use error, warning, info or off",
        f"{cfg}:6:1: unknown key 'extra'",
    ]


# --- leaks ---------------------------------------------------------------------------------


def test_leaks_of_the_loop_by_hand(make_journey: Make) -> None:
    a = analyze(make_journey(LOOP))
    # Visits: start 1; apply a = 0.8 + 0.2 a + 0.4 i, interview i = 0.5 a
    # => a = 0.8 + 0.2 a + 0.2 a => a = 4/3; i = 2/3; reapply 4/15.
    # Lost: start's drop-off 0.2; gave-up 0.3 * 4/3 = 0.4. Placed 0.6 * 2/3 = 0.4.
    assert [(x.node, x.kind) for x in a.leaks] == [("gave-up", "outcome"), ("start", "drop-off")]
    assert [x.share for x in a.leaks] == pytest.approx([0.4, 0.2])
    assert a.success_share == pytest.approx(0.4)


def test_entries_are_weighted_by_their_volumes(make_journey: Make) -> None:
    text = """\
        journey: j
        stages: [s]
        touchpoints:
          - {id: a, stage: s, volume: 300, next: [won]}
          - {id: b, stage: s, volume: 100, next: [gone]}
        outcomes:
          - {id: won, result: success}
          - {id: gone, result: lost}
        """
    a = analyze(make_journey(text))
    assert a.success_share == pytest.approx(0.75)
    assert [(x.node, x.share) for x in a.leaks] == [("gone", pytest.approx(0.25))]
    # without a volume on every entry, entries count equally
    b = analyze(make_journey(text.replace(", volume: 100", "")))
    assert b.success_share == pytest.approx(0.5)


def test_a_closed_loop_leaks_what_enters_it(make_journey: Make) -> None:
    a = analyze(
        make_journey(
            """\
            journey: j
            stages: [s]
            touchpoints:
              - id: start
                stage: s
                next:
                  - {to: spin, probability: 0.25}
                  - {to: won, probability: 0.75}
              - {id: spin, stage: s, next: [spin2]}
              - {id: spin2, stage: s, next: [spin]}
            outcomes: [{id: won, result: success}]
            """
        )
    )
    assert [(x.node, x.kind, x.share) for x in a.leaks] == [("spin", "loop", 0.25)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_journeys())
def test_every_customer_ends_somewhere(text: str) -> None:
    """Success plus all the leaks is everyone who started: nothing is counted twice."""
    a = analyze(journey(text))
    assert a.success_share + sum(x.share for x in a.leaks) == pytest.approx(1.0, abs=1e-9)
    assert all(x.share > 0 for x in a.leaks)


# --- dominators ----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_journeys())
def test_single_points_of_failure_match_brute_force(text: str) -> None:
    j = journey(text)
    f = flow(j)
    g = nx.DiGraph()
    g.add_nodes_from(range(f.n + 2))
    keep = f.prob > 0
    g.add_edges_from(zip(f.src[keep].tolist(), f.dst[keep].tolist(), strict=True))
    g.add_edges_from((f.n, int(e)) for e in f.entries)
    g.add_edges_from((int(s), f.n + 1) for s in np.flatnonzero(f.success))
    if not nx.has_path(g, f.n, f.n + 1):
        assert dominators(f) == []
        return
    # a node is on every path exactly when removing it cuts the start from the end
    expected = set()
    for v in range(f.n):
        h = g.copy()
        h.remove_node(v)
        if not nx.has_path(h, f.n, f.n + 1):
            expected.add(v)
    assert set(dominators(f)) == expected


# --- metrics -------------------------------------------------------------------------------


def test_metrics_of_the_loop_by_hand(make_journey: Make) -> None:
    m = analyze(make_journey(LOOP)).metrics
    assert m["breadth"] == {"a": 2, "b": 6}
    assert m["fewest_steps_to_success"] == 3  # start -> apply -> interview -> placed
    assert m["most_probable_success_path"] == {
        "steps": ["start", "apply", "interview", "placed"],
        "end": "outcome",
        "probability": 0.24,
    }
    # start -> [apply, interview, reapply] (one step) -> placed | gave-up: 2 routes
    assert m["routes"] == 2
    assert m["loops"] == 2


def test_route_count_over_the_condensation_by_brute_force() -> None:
    """On a loop-free journey the count is exact: compare with every path listed."""
    text = "journey: d\nstages: [s]\ntouchpoints:\n"
    edges = {0: [1, 2, 3], 1: [3, 4], 2: [3, 4], 3: [4, 5], 4: [5], 5: []}
    for i, out in edges.items():
        targets = [f"t{k}" for k in out] + (["won", "gone"] if i >= 3 else [])
        text += f"  - {{id: t{i}, stage: s, next: [{', '.join(targets)}]}}\n"
    text += "outcomes: [{id: won, result: success}, {id: gone, result: lost}]\n"
    j = journey(text)
    g = nx.DiGraph((a, b) for a, out in edges.items() for b in out)
    paths = 0
    for end, _outcome in itertools.product([3, 4, 5], ["won", "gone"]):
        paths += len(list(nx.all_simple_paths(g, 0, end)))
    assert analyze(j).metrics["routes"] == paths
