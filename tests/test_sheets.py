"""A flow map cut into printed sheets: whole stages, in order, nothing lost, nothing twice."""

from __future__ import annotations

import itertools
import re

import pytest

from journeymap import load
from journeymap.analysis import analyze
from journeymap.errors import JourneyError
from journeymap.rendering import _laid_out
from journeymap.sheets import PT_MM, _pack, plan_flow_sheets
from journeymap.themes import get_theme

from .test_examples import EXAMPLES

A3 = (396.0, 272.0)  # landscape, inside the margins
SCALE = 8 / 9 * PT_MM  # 9 pt body text printed at 8 pt


def flow_svg(name: str, legend_width: float | None = None) -> str:
    j = load(EXAMPLES / f"{name}.yaml")
    return _laid_out(
        j, analyze(j), get_theme(None), "svg", dpi=None, links=None, legend_width=legend_width
    ).decode("utf-8")


def texts(svg: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r"<text[^>]*>.*?</text>", svg, re.S)]


def viewbox(svg: str) -> tuple[float, float, float, float]:
    found = re.search(r'viewBox="([-\d.]+) ([-\d.]+) ([-\d.]+) ([-\d.]+)"', svg)
    assert found
    x, y, w, h = (float(v) for v in found.groups())
    return x, y, w, h


def test_pack_prefers_whole_stages_then_fewest_then_even_pieces() -> None:
    # four stages of 100 between 0 and 400, room for two and a half
    assert _pack(0, 400, 250, [100, 200, 300], [150, 250]) == [0, 200, 400]
    # a stage wider than the room is cut at its inner place
    assert _pack(0, 400, 150, [100, 300], [200]) == [0, 100, 200, 300, 400]
    # as even as can be: not 300 + 100 but 200 + 200
    assert _pack(0, 400, 300, [100, 200, 300], []) == [0, 200, 400]
    # nowhere to cut: impossible
    assert _pack(0, 400, 150, [], []) == []


@pytest.mark.parametrize("name", ["candidate", "client"])
def test_every_stage_and_touchpoint_is_on_a_sheet_in_order(name: str) -> None:
    svg = flow_svg(name, legend_width=A3[0] / SCALE - 16)
    plan = plan_flow_sheets(svg, A3, scale=SCALE, most=SCALE * 2.5, header=20)
    j = load(EXAMPLES / f"{name}.yaml")
    assert plan.scale >= SCALE and len(plan.sheets) > 1
    shown = [t for s in plan.sheets for strip in s.strips for t in texts(strip.svg)]
    for tp in j.touchpoints:
        assert any(tp.title.split()[0] in t for t in shown), tp.title
    # stage titles: each on exactly one sheet, in the declared order
    where = []
    for k, st in enumerate(j.stages):
        title = f"{k + 1}. {st.title}"
        holding = [
            s.number
            for s in plan.sheets
            for strip in s.strips
            if any(t and title.startswith(t) for t in texts(strip.svg))
        ]
        assert len(holding) == 1, (title, holding)
        where.append(holding[0])
    assert where == sorted(where)
    # sheets side by side: each starts where the one before it ends
    boxes = [viewbox(strip.svg) for s in plan.sheets for strip in s.strips]
    for (x0, _, w0, _), (x1, _, _, _) in itertools.pairwise(boxes):
        assert x1 == pytest.approx(x0 + w0, abs=0.02)
    # every sheet within the paper, at the plan's scale
    for s in plan.sheets:
        for strip in s.strips:
            assert strip.width_mm <= A3[0] + 1e-6 and strip.height_mm <= A3[1] - 20 + 1e-6
    captions = [s.caption for s in plan.sheets]
    assert captions[0].startswith(f"Sheet 1 of {len(plan.sheets)}: stage")
    assert "continues on sheet 2" in captions[0]
    assert "continued from sheet 1" in captions[1]


def test_a_small_map_is_set_larger_on_big_paper() -> None:
    from .test_rendering import _straight

    j = _straight()
    a0 = (1165.0, 817.0)
    svg = _laid_out(
        j, analyze(j), get_theme(None), "svg", dpi=None, links=None, legend_width=400 / SCALE
    ).decode()
    plan = plan_flow_sheets(svg, a0, scale=SCALE, most=SCALE * 2.5, header=20)
    assert len(plan.sheets) == 1 and plan.sheets[0].caption == ""
    assert plan.scale > SCALE * 1.2
    # and fills the sheet's width or height
    s = plan.sheets[0]
    wide = max(strip.width_mm for strip in s.strips)
    tall = sum(strip.height_mm for strip in s.strips) + s.legend_mm[1]
    at_most = plan.scale > SCALE * 2.5 * 0.99  # as large as it is ever set
    assert at_most or wide > a0[0] * 0.9 or tall > (a0[1] - 20) * 0.8


def test_text_outside_a_sheet_is_left_out_of_it() -> None:
    svg = flow_svg("candidate", legend_width=A3[0] / SCALE - 16)
    plan = plan_flow_sheets(svg, A3, scale=SCALE, header=20)
    first, last = plan.sheets[0].strips[0].svg, plan.sheets[-1]
    shown_last = [t for strip in last.strips for t in texts(strip.svg)]
    assert "Job posting on a job" in " ".join(texts(first))
    assert "Job posting on a job" not in " ".join(shown_last + texts(last.legend or ""))
    assert "Hired permanently" not in " ".join(texts(first))


def test_a_column_wider_than_the_sheet_is_refused_with_a_message() -> None:
    svg = flow_svg("client")
    with pytest.raises(JourneyError, match="too wide"):
        plan_flow_sheets(svg, (40.0, 272.0), scale=SCALE, header=20)


def test_big_paper_holds_strips_of_stages_one_under_the_other() -> None:
    svg = flow_svg("client", legend_width=800.0)
    a1 = (817.0, 570.0)
    plan = plan_flow_sheets(svg, a1, scale=SCALE * 1.4, header=30)
    assert any(len(s.strips) > 1 for s in plan.sheets)
    for s in plan.sheets:
        used = sum(strip.height_mm for strip in s.strips) + s.gap_mm * (len(s.strips) - 1)
        assert used <= a1[1] - 30 + 1e-6
    # a stage split over two pieces says so where it goes on
    continued = [
        t for s in plan.sheets for strip in s.strips for t in texts(strip.svg) if "(continued)" in t
    ]
    pieces = [c for s in plan.sheets for c in s.caption.split("; ") if "(part 2 of" in c]
    assert len(continued) == len(pieces)


def test_lines_crossing_a_sheet_edge_say_which_sheet_they_go_on_to() -> None:
    svg = flow_svg("candidate", legend_width=A3[0] / SCALE - 16)
    plan = plan_flow_sheets(svg, A3, scale=SCALE, header=20)
    marks = [
        [t for strip in s.strips for t in texts(strip.svg) if re.fullmatch(r"\S+ [→←]|[→←] \S+", t)]
        for s in plan.sheets
    ]
    assert "→ 2" in marks[0] and "1 →" in marks[1]
    # a rework line runs back: it leaves sheet 3 to the left, coming in on sheet 2's right
    assert any(m.endswith("←") for m in marks[2]) and any(m.startswith("←") for m in marks[1])
    # nothing leaves the last sheet of the map for a sheet after it
    last = [m for s, m in zip(plan.sheets, marks, strict=True) if s.strips][-1]
    assert not any(m.startswith("→") for m in last)
