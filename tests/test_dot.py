"""The flow map's DOT text: pure, no Graphviz needed."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from journeymap.dot import (
    MAX_TOOLTIP,
    clean,
    html_escape,
    percent,
    to_dot,
    wrap,
)
from journeymap.model import Journey

from .test_analysis import LOOP

Make = Callable[..., Journey]
EXAMPLES = Path(__file__).resolve().parent.parent / "journeys"


def test_stages_are_clusters_in_declared_order_with_every_position_given(
    make_journey: Make,
) -> None:
    dot = to_dot(make_journey(LOOP))
    assert dot.index('subgraph "cluster_0"') < dot.index('subgraph "cluster_1"')
    assert dot.index('subgraph "cluster_1"') < dot.index('subgraph "cluster_outcomes"')
    assert "<b>1. A<br" in dot and "<b>2. B<br" in dot
    # Graphviz only draws: every node and edge has its position
    assert "layout=nop2" in dot
    for line in dot.splitlines():
        if re.match(r'\s*"[^"]+" \[', line) and "style=invis" not in line:
            assert "pos=" in line, line
        if " -> " in line:
            assert 'pos="' in line, line


def test_shares_waits_and_warnings_are_drawn(make_journey: Make) -> None:
    dot = to_dot(make_journey(LOOP))
    assert re.search(r'"apply" -> "interview" \[pos="[^"]*", label="50%\\l"', dot)
    assert "↘ 20% leave" in dot  # drop-off: a tag beside its touchpoint
    assert "DEAD END" in dot
    assert "UNREACHABLE" in dot
    # a transition back to an earlier stage is rework: dashed
    assert re.search(r'"reapply" -> "apply" \[pos="[^"]*", style=dashed', dot)
    assert "shape=octagon" in dot  # lost outcomes differ by shape, not only colour


def test_a_transition_to_a_lost_outcome_is_a_tag_at_its_source(make_journey: Make) -> None:
    dot = to_dot(make_journey(LOOP))
    # no edge into the lost outcome's node; the stub keeps the transition's id
    assert not re.search(r'-> "gave-up"', dot)
    stub = re.search(r'"apply" -> "(__tag/apply/\d+)" \[[^\n]*id="edge-apply--gave-up"', dot)
    assert stub is not None
    tag = re.search(rf'"{re.escape(stub.group(1))}" \[[^\n]*', dot)
    assert tag is not None and "✖ 30% → Gave up" in tag.group(0)
    # the outcome keeps its total: the share of all who start that end there
    node = re.search(r'^\s*"gave-up" \[.*$', dot, re.M)
    assert node is not None and re.search(r"\d+% of customers end here", node.group(0))


def test_text_from_the_journey_is_escaped(make_journey: Make) -> None:
    j = make_journey(
        LOOP.replace("  - id: start\n", '  - id: start\n    title: <b>"Hi" & bye</b>\n')
    )
    dot = to_dot(j)
    assert "&lt;b&gt;&quot;Hi&quot; &amp; bye&lt;/b&gt;" in dot
    assert '<b>"Hi"' not in dot


def test_the_same_journey_gives_the_same_text(make_journey: Make) -> None:
    assert to_dot(make_journey(LOOP)) == to_dot(make_journey(LOOP))


def test_helpers() -> None:
    assert html_escape('<a href="x">&</a>') == "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;"
    assert percent(0.3) == "30%"
    assert percent(0.055) == "5.5%"
    assert percent(1 / 3) == "33%"
    assert percent(0.0) == "0%"
    assert wrap("", 10) == [""]
    assert max(len(x) for x in wrap("Registration at the branch office with documents", 12)) <= 12


def test_a_big_stage_stands_its_alternatives_side_by_side() -> None:
    from journeymap.flowlayout import MIN_STACK

    from .conftest import journey
    from .test_paths import wide

    j = journey(wide(4, 40))  # 4 stages of 40 touchpoints, each a column of alternatives
    dot = to_dot(j)
    xs: dict[str, float] = {}
    for m in re.finditer(r'^\s*"(t\d+-\d+)" \[.*?pos="([\d.]+),', dot, re.M):
        xs[m.group(1)] = float(m.group(2))
    first = {x for ident, x in xs.items() if ident.startswith("t0-")}
    assert 1 < len(first) <= 40 // MIN_STACK + 1


def _candidate_dump() -> dict[str, Any]:
    from journeymap import load

    data: dict[str, Any] = load(EXAMPLES / "candidate.yaml").model_dump(exclude_none=True)
    return data


def test_many_outcomes_are_laid_out_in_their_column() -> None:
    # 29 touchpoints and 500 more outcomes took Graphviz's dot 135 s; positions are computed
    data = _candidate_dump()
    tps = data["touchpoints"]
    for k in range(500):
        data["outcomes"].append({"id": f"extra-{k}", "result": "success"})
        tps[k % len(tps)].setdefault("next", []).append({"to": f"extra-{k}"})
    j = Journey.model_validate(data)
    dot = to_dot(j)
    found = re.findall(
        r'"extra-\d+" \[id="map-tp-[^"]+", pos="([\d.]+),[^"]*", width=([\d.]+)', dot
    )
    lefts = {round(float(x) - float(w) * 36, 0) for x, w in found}
    assert len(found) == 500 and len(lefts) == 1  # one column, left-aligned


def _html_labels(dot: str) -> list[str]:
    """Every HTML-like label in DOT text (they nest <...>, so count brackets)."""
    found, start, depth = [], -1, 0
    for i, ch in enumerate(dot):
        if ch == "<":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ">" and depth:
            depth -= 1
            if depth == 0:
                found.append(dot[start : i + 1])
    return found


def test_labels_and_tooltips_stay_under_graphvizs_limit() -> None:
    data = _candidate_dump()
    data["title"] = "&" * 4000
    data["persona"] = {"name": "<" * 5000, "description": '"' * 9000}
    data["stages"][0]["title"] = "&" * 9000
    tp = data["touchpoints"][0]
    tp["title"] = "&" * 9000
    tp["description"] = '"\\' * 5000
    tp["channel"] = "&" * 9000
    tp["next"][0]["label"] = '"' * 9000
    j = Journey.model_validate(data)
    dot = to_dot(j)
    labels = _html_labels(dot)
    assert max(len(x) for x in labels) < 4000
    assert "&amp;" * 50 in dot and "…" in dot
    quoted = re.findall(r'"(?:[^"\\]|\\.)*"', dot)
    assert max(len(q) for q in quoted) <= MAX_TOOLTIP + 2
    assert not re.search(r"&[a-z]*…", dot)  # never cut inside an escape


def test_control_characters_and_lone_surrogates_never_reach_dot() -> None:
    bad = "A\x00B\x0cC\x1bD\x85EF\x7fG\tH"
    data = _candidate_dump()
    data["title"] = bad
    data["stages"][0]["title"] = bad
    tp = data["touchpoints"][0]
    tp["title"] = tp["channel"] = tp["description"] = bad
    tp["next"][0]["label"] = bad
    data["outcomes"][0]["title"] = bad
    j = Journey.model_validate(data)
    # pydantic refuses lone surrogates, but a copy with updates is not validated
    j = j.model_copy(update={"title": "X\ud800Y"})
    dot = to_dot(j)
    dot.encode("utf-8")  # no lone surrogate
    assert "XY" in dot
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f]", dot)
    assert "ABCDEFG H" in dot
    assert clean(bad) == "ABCDEFG H"
    assert clean("a\udfffb\nc") == "ab\nc"


def test_theme_values_forced_past_validation_stay_inside_their_attributes(
    make_journey: Make,
) -> None:
    # Theme files are validated; a theme built around the checks must still not break out.
    from journeymap.themes import Theme

    t = Theme()
    hostile = '#000"><b>X</b><font color="'
    for name in ("muted", "dead_border", "lost_border", "touchpoint_fill", "lost_fill"):
        object.__setattr__(t, name, hostile)
    dot = to_dot(make_journey(LOOP), theme=t)
    # In DOT's quoted strings the quote is escaped; in HTML-like labels it is an entity.
    outside_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', dot)
    assert "<b>X</b>" not in outside_strings
    assert "&quot;&gt;&lt;b&gt;X&lt;/b&gt;" in dot


def test_percent_never_rounds_a_share_to_0_or_100() -> None:
    assert [percent(p) for p in (0, 1e-13, 0.0004, 0.0006, 0.35, 0.996, 0.99999, 1)] == [
        "0%",
        "<0.1%",
        "<0.1%",
        "0.1%",
        "35%",
        ">99%",
        ">99%",
        "100%",
    ]


def test_important_but_poor_touchpoints_are_marked_in_words_and_in_the_legend() -> None:
    from journeymap import analyze, load
    from journeymap.dot import POOR_MARK, to_dot

    from .conftest import EXAMPLES

    j = load(next(p for p in EXAMPLES if p.stem == "candidate"))
    a = analyze(j)
    poor = {f.subject for f in a.findings if f.rule == "important-but-poor"}
    assert poor
    dot = to_dot(j, a)
    marked = {
        line.strip().split(" ", 1)[0].strip('"'): POOR_MARK in line
        for line in dot.splitlines()
        if 'id="map-tp-' in line
    }
    assert marked == {
        **{tp.id: tp.id in poor for tp in j.touchpoints},
        **{o.id: False for o in j.outcomes},
    }
    legend = dot[dot.index('subgraph "cluster_legend"') :]
    assert f"<b>{POOR_MARK}<br" in legend and "matters to customers" in legend
    # nothing unused in the legend: a journey without such touchpoints has no such line
    plain = j.model_copy(
        update={"touchpoints": [tp.model_copy(update={"quality": None}) for tp in j.touchpoints]}
    )
    assert POOR_MARK not in to_dot(plain, analyze(plain))


def _edge_line(dot: str, source: str, target: str) -> str:
    found = re.search(rf'\s*"{source}" -> "{target}" \[[^\n]*', dot)
    assert found is not None, (source, target)
    return found.group(0)


def test_an_event_log_s_steps_set_widths_and_undeclared_steps_are_drawn(
    make_journey: Make,
) -> None:
    from journeymap.dot import Observed
    from journeymap.themes import get_theme

    j = make_journey(LOOP)
    plain = to_dot(j)
    assert to_dot(j, observed=None) == plain
    steps = {
        ("start", "apply"): 400,
        ("apply", "interview"): 100,
        ("apply", "gave-up"): 60,
        ("interview", "placed"): 90,
        # not declared: a shortcut, and a loss the journey does not draw
        ("start", "interview"): 37,
        ("reapply", "gave-up"): 5,
    }
    dot = to_dot(j, observed=Observed(steps))

    def width(line: str) -> float:
        found = re.search(r"penwidth=([\d.]+)", line)
        assert found is not None
        return float(found.group(1))

    busy, quiet = _edge_line(dot, "start", "apply"), _edge_line(dot, "interview", "placed")
    assert width(busy) > width(quiet) > width(_edge_line(dot, "interview", "reapply"))
    assert "seen 400" in busy and "seen 90" in quiet
    shortcut = _edge_line(dot, "start", "interview")
    assert "style=dashed" in shortcut and get_theme(None).undeclared_edge in shortcut
    assert 'id="edge-start--interview"' in shortcut
    assert "NOT DECLARED" in shortcut and "seen 37" in shortcut
    # An undeclared loss is a tag at its source, like a declared one, saying so.
    assert "✖ NOT DECLARED, seen 5 → Gave up" in dot
    assert "✖ 30% → Gave up · seen 60" in dot
    legend = re.sub(r'<br align="left"/>', " ", dot)
    assert "NOT DECLARED (dashed): a step the log shows" in legend
    assert "thicker line = more steps seen in the log" in legend
    assert "NOT DECLARED" not in plain and "seen " not in plain


def test_an_undeclared_step_back_keeps_its_own_colour(make_journey: Make) -> None:
    from journeymap.dot import Observed
    from journeymap.themes import get_theme

    dot = to_dot(make_journey(LOOP), observed=Observed({("interview", "start"): 3}))
    back = _edge_line(dot, "interview", "start")
    assert get_theme(None).undeclared_edge in back
    assert get_theme(None).rework_edge not in back


def test_emotion_keeps_its_sign_and_the_legend_names_only_what_is_drawn(
    make_journey: Make,
) -> None:
    from journeymap.dot import _emotion

    assert [_emotion(e) for e in (0, 0.5, -0.5, 2)] == ["○ 0", "☺ +0.5", "☹ −0.5", "☺ +2"]
    # A trap that is no dead end (a loop that never reaches success) is drawn and
    # explained as a trap; a journey whose only trap is a dead end explains none.
    looping = make_journey(
        "journey: t\nstages: [a]\ntouchpoints:\n  - {id: x, stage: a, next: [z, ok]}\n"
        "  - {id: z, stage: a, next: [z2]}\n  - {id: z2, stage: a, next: [z]}\n"
        "outcomes: [{id: ok, result: success}]\n"
    )
    assert "⚠ TRAP" in to_dot(looping)
    only_dead_end = make_journey(
        "journey: d\nstages: [a]\ntouchpoints:\n  - {id: x, stage: a, next: [y, ok]}\n"
        "  - {id: y, stage: a}\noutcomes: [{id: ok, result: success}]\n"
    )
    dot = to_dot(only_dead_end)
    assert "DEAD END" in dot and "TRAP" not in dot
