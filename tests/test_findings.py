"""Findings (the journey lint), leaks and metrics, checked by hand and by brute force."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeymap import load
from journeymap.analysis import analyze
from journeymap.errors import JourneyError
from journeymap.findings import RULES, SEVERITIES, Config, dominators, load_config
from journeymap.graph import flow
from journeymap.model import Journey, Touchpoint

from .conftest import journey
from .test_analysis import LOOP
from .test_examples import EXAMPLES
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
        # the last two stages, and nobody at the firm reaches out first in either
        "no-proactive-touch": ["second", "third"],
        # the only time written is form's 2w wait, so all of it is spent in form's stage
        "slow-stage": ["second"],
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


# --- service and success, overlooked touchpoints, redundancy (issue #14) -------------------


def messages(j: Journey, rule: str, config: Config | None = None) -> list[tuple[str, str, str]]:
    """(severity, subject, message) of one rule's findings, in the order they come."""
    return [
        (f.severity, f.subject, f.message) for f in analyze(j, config).findings if f.rule == rule
    ]


STAGES = """\
journey: j
stages: [a, b, c, d]
touchpoints:
  - {id: t1, stage: a, next: [t2]}
  - {id: t2, stage: b, initiative: firm, next: [t3]}
  - {id: t3, stage: c, title: Weekly invoice, next: [t4]}
  - {id: t4, stage: c, next: [won]}
  - {id: t5, stage: a}
outcomes: [{id: won, result: success}]
entries: [t1]
"""


def test_no_proactive_touch_checks_the_last_two_stages_by_default(make_journey: Make) -> None:
    # c has two touchpoints, none started by the firm; d has none (empty-stage says so)
    assert messages(make_journey(STAGES), "no-proactive-touch") == [
        (
            "info",
            "c",
            "the firm never reaches out first in stage “C”: none of its 2 is marked"
            " initiative: firm",
        )
    ]


def test_no_proactive_touch_checks_the_configured_stages(
    make_journey: Make, tmp_path: Path
) -> None:
    cfg = tmp_path / "lint.yaml"
    # b has a firm touchpoint; "zz" is a stage of some other journey
    cfg.write_text("proactive_stages: [a, b, zz]\n")
    config = load_config(cfg)
    assert config.proactive_stages == ("a", "b", "zz")
    assert messages(make_journey(STAGES), "no-proactive-touch", config) == [
        (
            "info",
            "a",
            "the firm never reaches out first in stage “A”: none of its 2 is marked"
            " initiative: firm",
        )
    ]
    j = make_journey(STAGES.replace("  - {id: t5, stage: a}\n", ""))
    assert messages(j, "no-proactive-touch", config)[0][2].endswith(
        "stage “A”: its one touchpoint is not marked initiative: firm"
    )
    cfg.write_text("proactive_stages: []\n")
    assert messages(make_journey(STAGES), "no-proactive-touch", load_config(cfg)) == []


def test_overlooked_names_each_missing_item_and_the_words_looked_for(make_journey: Make) -> None:
    j = make_journey(STAGES.replace("journey: j\n", "journey: j\nkind: client\n"))
    found = messages(j, "overlooked")
    # only billing is covered, by “Weekly invoice”; the findings sort by message
    assert [m for _, _, m in found] == sorted(m for _, _, m in found)
    assert {s for _, s, _ in found} == {"j"}
    assert {sev for sev, _, _ in found} == {"warning"}
    assert len(found) == 6
    assert (
        "warning",
        "j",
        "no touchpoint of this client journey covers “site-visit” (looked for site-visit,"
        " field visit, site walk, site tour, site assessment, workplace visit, plant visit,"
        " walkthrough in tags, titles and channels)",
    ) in found
    assert not any("“billing”" in m for _, _, m in found)
    # a journey of kind other has no checklist
    assert messages(make_journey(STAGES), "overlooked") == []


def test_overlooked_follows_the_config_checklists(make_journey: Make, tmp_path: Path) -> None:
    j = make_journey(STAGES.replace("journey: j\n", "journey: j\nkind: client\n"))
    cfg = tmp_path / "lint.yaml"
    cfg.write_text(
        "checklists:\n"
        "  client:\n"
        "    billing: [statement]\n"  # the invoice no longer counts
        "    references: off\n"
        "    site-visit: false\n"
        "    quote: 'off'\n"
        "    order: off\n"
        "    problem-resolution: off\n"
        "    follow-up: off\n"
        "    audit: [Safety audit, T1]\n"  # a new item, matched by the title T1
        "rules:\n"
        "  overlooked: info\n"
    )
    config = load_config(cfg)
    assert config.checklists["client"]["audit"] == ("Safety audit", "T1")
    assert config.checklists["client"]["references"] is None
    assert messages(j, "overlooked", config) == [
        (
            "info",
            "j",
            "no touchpoint of this client journey covers “billing”"
            " (looked for billing, statement in tags, titles and channels)",
        )
    ]


ASKS = """\
journey: j
stages: [s]
touchpoints:
  - id: apply
    stage: s
    asks: [Work  history, ID]
    next: [register]
  - id: register
    stage: s
    asks: [work history, id, references]
    next: [interview, won]
  - id: interview
    stage: s
    asks: [WORK HISTORY, references, references]
    next: [register, won]
  - id: side
    stage: s
    asks: [ID]
    next: [won]
  - id: stray
    stage: s
    asks: [work history]
    next: [apply]
outcomes: [{id: won, result: success}]
entries: [apply, side]
"""


def test_asked_again_names_both_touchpoints_and_the_thing_once_per_pair(
    make_journey: Make,
) -> None:
    found = messages(make_journey(ASKS), "asked-again")
    assert found == [
        # apply -> interview: asked at apply, again at the interview (one of two hops away)
        (
            "warning",
            "interview",
            "“Interview” asks for “WORK HISTORY” again: “Apply” already asked for it",
        ),
        # register and interview are a loop: either can come first, so the finding is
        # on the one later in the file
        (
            "warning",
            "interview",
            "“Interview” asks for “WORK HISTORY” again: “Register” already asked for it",
        ),
        # "references" twice at one touchpoint is one ask
        (
            "warning",
            "interview",
            "“Interview” asks for “references” again: “Register” already asked for it",
        ),
        # case and runs of spaces do not make a different thing
        ("warning", "register", "“Register” asks for “id” again: “Apply” already asked for it"),
        (
            "warning",
            "register",
            "“Register” asks for “work history” again: “Apply” already asked for it",
        ),
        # side asks for ID too, but no path joins it to apply or register; stray leads
        # to apply, but no entry reaches stray
    ]


def test_asked_again_follows_declared_transitions_of_probability_zero(make_journey: Make) -> None:
    j = make_journey(
        """\
        journey: j
        stages: [s]
        touchpoints:
          - {id: a, stage: s, asks: [x], next: [{to: b, probability: 0}, {to: won, probability: 1}]}
          - {id: b, stage: s, asks: [x], next: [won]}
        outcomes: [{id: won, result: success}]
        entries: [a]
        """
    )
    assert [s for _, s, _ in messages(j, "asked-again")] == ["b"]


def brute_asked_again(j: Journey) -> list[tuple[str, str]]:
    """Every pair by the definition: networkx paths between every two touchpoints."""
    g = nx.DiGraph()
    g.add_nodes_from(tp.id for tp in j.touchpoints)
    g.add_edges_from((tp.id, t.to) for tp in j.touchpoints for t in tp.next)

    def asks(tp: Touchpoint) -> dict[str, str]:  # normalised -> as first written
        found: dict[str, str] = {}
        for x in tp.asks:
            found.setdefault(" ".join(x.lower().split()), x)
        return found

    reached = set().union(*(nx.descendants(g, e) | {e} for e in j.entry_ids))
    out = []
    tps = j.touchpoints
    for a, b in itertools.combinations(range(len(tps)), 2):  # a before b in the file
        ta, tb = tps[a], tps[b]
        if ta.id not in reached or tb.id not in reached:
            continue
        for key, text in asks(tb).items():
            if key not in asks(ta):
                continue
            forward, back = nx.has_path(g, ta.id, tb.id), nx.has_path(g, tb.id, ta.id)
            if forward:  # later: b (in a loop, the one later in the file)
                out.append((tb.id, f"“{tb.title}” asks for “{text}” again: “{ta.title}”"))
            elif back:
                out.append((ta.id, f"“{ta.title}” asks for “{asks(ta)[key]}” again: “{tb.title}”"))
    return sorted(out)


@st.composite
def asking_journeys(draw: st.DrawFn) -> str:
    n = draw(st.integers(2, 9))
    ids = [f"t{i}" for i in range(n)]
    lines = ["journey: r", "stages: [s]", "touchpoints:"]
    for i in ids:
        targets = draw(st.lists(st.sampled_from([*ids, "ok"]), unique=True, max_size=3))
        asks = draw(st.lists(st.sampled_from(["a", "A", "b", "b  c", "B c"]), max_size=3))
        lines.append(f"  - {{id: {i}, stage: s, asks: {asks!r}, next: [{', '.join(targets)}]}}")
    lines.append("outcomes: [{id: ok, result: success}]")
    entries = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=2, unique=True))
    lines.append(f"entries: [{', '.join(entries)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("searches", [32, 0], ids=["one-search-each", "one-pass"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=asking_journeys())
def test_asked_again_matches_brute_force_both_ways(searches: int, text: str) -> None:
    from unittest import mock

    from journeymap import findings

    j = journey(text)
    with mock.patch.object(findings, "_SEARCHES", searches):
        found = sorted(
            (s, m.removesuffix(" already asked for it")) for _, s, m in messages(j, "asked-again")
        )
    assert found == brute_asked_again(j)


def test_asked_again_caps_its_work_and_says_so(make_journey: Make) -> None:
    from unittest import mock

    from journeymap import findings

    lines = ["journey: chain", "stages: [s]", "touchpoints:"]
    for i in range(6):
        lines.append(f"  - {{id: t{i}, stage: s, asks: [x], next: [t{i + 1}]}}")
    lines.append("  - {id: t6, stage: s, next: [won]}")
    lines.append("outcomes: [{id: won, result: success}]")
    j = make_journey("\n".join(lines) + "\n")
    # six askers in a chain: every one of the 15 pairs is on one path
    assert len(messages(j, "asked-again")) == 15
    with (
        mock.patch.object(findings, "MAX_ASKERS", 4),
        mock.patch.object(findings, "MAX_ASKED_AGAIN", 5),
    ):
        found = messages(j, "asked-again")
    # the first four askers give 6 pairs: 5 listed, 1 counted
    assert (
        "warning",
        "chain",
        "1 more pairs of touchpoints ask for the same thing (only the first 5 are listed)",
    ) in found
    assert (
        "warning",
        "chain",
        "6 touchpoints ask for something another one asks for: only the first 4 were compared",
    ) in found
    assert len(found) == 7
    assert {s for _, s, _ in found} <= {"t1", "t2", "t3", "chain"}
    # five askers in one loop: 10 pairs, each found from both ends and counted once
    ring = make_journey(
        "journey: ring\nstages: [s]\ntouchpoints:\n"
        + "".join(
            f"  - {{id: r{i}, stage: s, asks: [x], next: [r{(i + 1) % 5}]}}\n" for i in range(5)
        )
        + "entries: [r0]\n"
    )
    assert len(messages(ring, "asked-again")) == 10
    with mock.patch.object(findings, "MAX_ASKED_AGAIN", 3):
        found = messages(ring, "asked-again")
    assert len(found) == 4
    assert (
        "warning",
        "ring",
        "7 more pairs of touchpoints ask for the same thing (only the first 3 are listed)",
    ) in found


KNOWS = """\
journey: j
stages: [s]
touchpoints:
  - id: ad
    stage: s
    owner: Marketing
    next: [call, form, help]
  - id: call
    stage: s
    owner: Sales
    knows: [ad]
    next: [form]
  - id: form
    stage: s
    owner: Sales
    next: [won]
  - id: help
    stage: s
    owner: Support
    next: [won]
outcomes: [{id: won, result: success}]
"""


def test_handoffs_to_touchpoints_that_do_not_know_what_came_before_are_warnings(
    make_journey: Make,
) -> None:
    j = make_journey(KNOWS)
    assert messages(j, "handoff") == [
        (
            "warning",
            "ad",
            "Marketing hands customers from “Ad” to Sales (“Form”); Support (“Help”),"
            " who do not know what came before",
        ),
        (
            "info",
            "ad",
            "Marketing hands customers from “Ad” to Sales (“Call”), who know what came before",
        ),
    ]
    # call -> form stays within Sales: no handoff. Without any knows, today's finding:
    plain = make_journey(KNOWS.replace("    knows: [ad]\n", ""))
    assert messages(plain, "handoff") == [
        (
            "info",
            "ad",
            "Marketing hands customers from “Ad” to Sales (“Call”, “Form”); Support (“Help”)",
        )
    ]
    # a knows elsewhere in the journey is enough to make the cold handoffs warnings
    elsewhere = make_journey(KNOWS.replace("knows: [ad]", "knows: [form]"))
    assert [sev for sev, _, _ in messages(elsewhere, "handoff")] == ["warning"]


def test_a_configured_handoff_severity_holds_for_every_handoff(
    make_journey: Make, tmp_path: Path
) -> None:
    cfg = tmp_path / "lint.yaml"
    cfg.write_text("rules: {handoff: error}\n")
    found = messages(make_journey(KNOWS), "handoff", load_config(cfg))
    assert [sev for sev, _, _ in found] == ["error", "error"]
    cfg.write_text("rules: {handoff: off}\n")
    assert messages(make_journey(KNOWS), "handoff", load_config(cfg)) == []
    # errors first: a graded rule's findings sort with the rest by severity, then rule
    severities = [f.severity for f in analyze(make_journey(KNOWS)).findings]
    assert severities == sorted(severities, key=SEVERITIES.index)


def test_slow_stage_is_a_known_rule_with_a_threshold(tmp_path: Path) -> None:
    assert RULES["slow-stage"][0] == "info"
    assert Config().thresholds.slow_stage == 0.5
    cfg = tmp_path / "lint.yaml"
    cfg.write_text("thresholds: {slow_stage: 0.25}\nrules: {slow-stage: warning}\n")
    config = load_config(cfg)
    assert config.thresholds.slow_stage == 0.25
    assert config.severity_of("slow-stage") == "warning"


def test_new_config_mistakes_are_reported_with_positions(tmp_path: Path) -> None:
    cfg = tmp_path / "lint.yaml"
    cfg.write_text(
        "thresholds:\n"
        "  slow_stage: 0\n"
        "checklists:\n"
        "  clinet:\n"
        "    billing: off\n"
        "  client:\n"
        "    biling: off\n"
        "    quote: [price list, 3]\n"
        "    order: purchase order\n"
        "    '--': [x]\n"
        "    audit: ['--']\n"
        "  other: [a]\n"
        "proactive_stages: [growth, 'no id', 4]\n"
        "proactive: [x]\n"
    )
    with pytest.raises(JourneyError) as info:
        load_config(cfg)
    assert [str(p) for p in info.value.problems] == [
        f"{cfg}:2:15: slow_stage: a share of the time to success, above 0 and at most 1",
        f"{cfg}:4:3: unknown journey kind 'clinet' (did you mean 'client'?)",
        f"{cfg}:7:5: the client checklist has no item 'biling' to turn off"
        " (did you mean 'billing'?)",
        f"{cfg}:8:25: quote: a word or phrase, got 3",
        f"{cfg}:9:12: order: a list of words such as [invoice, credit note], or off",
        f"{cfg}:10:5: tag '--' has no letters or digits",
        f"{cfg}:11:13: audit: '--' has no letters or digits to match",
        f"{cfg}:12:10: other: a mapping of tags to their words ([invoice, ...]) or off",
        f"{cfg}:13:28: proactive_stages: 'no id' is not a stage id",
        f"{cfg}:13:37: proactive_stages: 4 is not a stage id",
        f"{cfg}:14:1: unknown key 'proactive' (did you mean 'proactive_stages'?)",
    ]
    cfg.write_text("checklists: [client]\nproactive_stages: growth\n")
    with pytest.raises(JourneyError) as info:
        load_config(cfg)
    assert [str(p) for p in info.value.problems] == [
        f"{cfg}:1:13: checklists: a mapping of journey kinds (candidate, client, other)"
        " to {tag: [words] or off}",
        f"{cfg}:2:19: proactive_stages: a list of stage ids",
    ]


def test_a_config_mistake_stops_the_command_with_its_position(tmp_path: Path) -> None:
    from .conftest import run_cli

    cfg = tmp_path / "lint.yaml"
    cfg.write_text("checklists:\n  client:\n    refrences: off\n")
    r = run_cli("analyze", EXAMPLES / "client.yaml", "--config", cfg)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert r.stderr.startswith(
        f"{cfg}:3:5: the client checklist has no item 'refrences' to turn off"
        " (did you mean 'references'?)"
    )


def test_the_examples_show_the_new_findings() -> None:
    candidate = analyze(load(EXAMPLES / "candidate.yaml")).findings
    asked = {(f.subject, f.message) for f in candidate if f.rule == "asked-again"}
    assert (
        "registration",
        "“Registration at the branch” asks for “work history” again:"
        " “Online application” already asked for it",
    ) in asked
    handoffs = {(f.subject, f.severity) for f in candidate if f.rule == "handoff"}
    # the pain point "nobody at the gate knows the associate is coming"
    assert ("orientation", "warning") in handoffs
    assert ("registration", "info") in handoffs  # the interview knows the registration
    client = analyze(load(EXAMPLES / "client.yaml")).findings
    by_rule: dict[str, list[str]] = {}
    for f in client:
        by_rule.setdefault(f.rule, []).append(f.subject)
    assert by_rule["overlooked"] == ["client", "client"]
    assert by_rule["no-proactive-touch"] == ["billing"]
    assert "asked-again" in by_rule


SLOW = """
journey: slow
stages: [apply, wait, start]
touchpoints:
  - {id: a, stage: apply, duration: 1d, next: [{to: b, probability: 1, wait: 1d}]}
  - {id: b, stage: wait, next: [{to: c, probability: 1, wait: 6w}]}
  - {id: c, stage: start, duration: 1w, next: [placed]}
outcomes: [{id: placed, result: success}]
"""


def test_slow_stage_names_the_stage_that_takes_most_of_the_time() -> None:
    from journeymap.findings import Thresholds
    from journeymap.loader import loads

    j = loads(SLOW, "slow.yaml")
    # By hand: apply 1d + 1d, wait 6 weeks, start 1 week: 51 days (7.3 weeks) in all.
    slow = [f for f in analyze(j).findings if f.rule == "slow-stage"]
    assert [(f.subject, f.severity) for f in slow] == [("wait", "info")]
    assert "82% of their expected time to success" in slow[0].message
    assert "“Wait” (6 weeks of 7.3 weeks)" in slow[0].message
    # 42 / 51 days = 82%: over a threshold of 0.9 nothing is slow.
    strict = Config(Thresholds(slow_stage=0.9))
    assert not [f for f in analyze(j, strict).findings if f.rule == "slow-stage"]
