"""The flow map's DOT text: pure, no Graphviz needed."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from journeymap.dot import (
    MAX_ANCHORED,
    MAX_ANCHORED_COST,
    MAX_TOOLTIP,
    clean,
    html_escape,
    layout_cost,
    percent,
    to_dot,
    wrap,
)
from journeymap.model import Journey

from .test_analysis import LOOP

Make = Callable[..., Journey]
EXAMPLES = Path(__file__).resolve().parent.parent / "journeys"


def test_stages_are_clusters_in_declared_order(make_journey: Make) -> None:
    dot = to_dot(make_journey(LOOP))
    assert dot.index('subgraph "cluster_0"') < dot.index('subgraph "cluster_1"')
    assert "<b>1. A</b>" in dot and "<b>2. B</b>" in dot
    # anchors keep the columns ordered
    assert '"__stage0" -> "start" [style=invis' in dot
    assert '"start" -> "__stage1" [style=invis' in dot
    assert '{ rank=same; "placed" "gave-up" }' in dot


def test_shares_waits_and_warnings_are_drawn(make_journey: Make) -> None:
    dot = to_dot(make_journey(LOOP))
    assert re.search(r'"apply" -> "interview" \[label="50%"', dot)
    assert "↘ 20% leave here" in dot
    assert "DEAD END" in dot
    assert "UNREACHABLE" in dot
    # a transition back to an earlier stage does not bend the columns
    assert re.search(r'"reapply" -> "apply" \[style=dashed, constraint=false', dot)
    assert "shape=octagon" in dot  # lost outcomes differ by shape, not only colour


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


def test_a_huge_map_keeps_columns_by_the_stage_chain_alone() -> None:
    from .conftest import journey
    from .test_paths import wide

    dot = to_dot(journey(wide(16, 10)))  # 160 touchpoints
    assert '"__stage0" -> "__stage1" [style=invis, weight=10]' in dot
    assert '"__stage0" -> "t0-0"' not in dot
    assert "mclimit=0.1" in dot


def _candidate_dump() -> dict[str, Any]:
    from journeymap import load

    data: dict[str, Any] = load(EXAMPLES / "candidate.yaml").model_dump(exclude_none=True)
    return data


def test_edges_that_do_not_rank_carry_xlabels(make_journey: Make) -> None:
    # A `label` on a constraint=false edge between two stage clusters made
    # Graphviz fail ("trouble in init_rank", "lost edge") and drop the edge.
    dot = to_dot(make_journey(LOOP))
    assert re.search(r'"apply" -> "apply" \[xlabel="20%", style=dashed, constraint=false', dot)
    assert not re.search(r"\[label=[^\]]*constraint=false", dot)


def test_the_layout_is_chosen_by_cost_not_touchpoint_count() -> None:
    # 29 touchpoints but 500 more outcomes: anchored, this took 135 s to lay out.
    data = _candidate_dump()
    tps = data["touchpoints"]
    for k in range(500):
        data["outcomes"].append({"id": f"extra-{k}", "result": "lost"})
        tps[k % len(tps)].setdefault("next", []).append({"to": f"extra-{k}"})
    j = Journey.model_validate(data)
    assert len(j.touchpoints) <= MAX_ANCHORED
    assert layout_cost(j, anchors=True, edge_labels=True) > MAX_ANCHORED_COST
    dot = to_dot(j)
    first = j.touchpoints[0]
    assert f'"__stage0" -> "{first.id}"' not in dot
    assert "mclimit=0.1" in dot
    # the examples themselves keep the anchored layout
    plain = to_dot(Journey.model_validate(_candidate_dump()))
    assert f'"__stage0" -> "{first.id}"' in plain


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
    assert f"{POOR_MARK} = matters to customers" in dot
    # nothing unused in the legend: a journey without such touchpoints has no such line
    plain = j.model_copy(
        update={"touchpoints": [tp.model_copy(update={"quality": None}) for tp in j.touchpoints]}
    )
    assert POOR_MARK not in to_dot(plain, analyze(plain))
