"""The flow map's DOT text: pure, no Graphviz needed."""

from __future__ import annotations

import re
from collections.abc import Callable

from journeymap.dot import html_escape, percent, to_dot, wrap
from journeymap.model import Journey

from .test_analysis import LOOP

Make = Callable[..., Journey]


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
