"""The journey canvas: structure, wrapping, and no text box over another."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymap import load
from journeymap.canvas import COLUMN, PAD, canvas_svg, layout, text_width, worksheet_svg, wrap
from journeymap.model import Journey, Stage

from .conftest import journey
from .test_examples import EXAMPLES

Make = Callable[..., Journey]
SVG = "{http://www.w3.org/2000/svg}"


def words_in(svg: str) -> str:
    root = ET.fromstring(svg)
    return " ".join(" ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text")).split())


def test_the_canvas_shows_every_stage_and_touchpoint_and_is_web_ready() -> None:
    j = load(EXAMPLES / "candidate.yaml")
    svg = canvas_svg(j)
    root = ET.fromstring(svg)
    assert root.get("viewBox", "").startswith("0 0 ")
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}desc") is not None
    text = words_in(svg)
    for s in j.stages:
        assert all(w in text for w in s.title.split())
    for tp in j.touchpoints:
        assert all(w in text for w in tp.title.split()), tp.title
    for label in ("Backstage", "Channels", "Owners", "Emotion", "Pain points", "Opportunities"):
        assert label in text
    assert "✕ LOST" in text and "DEAD END" in text  # not colour alone
    assert "href" not in svg and "http://" not in svg.replace("http://www.w3.org/2000/svg", "")
    assert svg == canvas_svg(load(EXAMPLES / "candidate.yaml"))  # same bytes


def test_rows_without_data_are_left_out(make_journey: Make) -> None:
    j = make_journey(
        "journey: j\nstages: [a]\ntouchpoints:\n  - {id: t, stage: a, next: [won]}\n"
        "outcomes: [{id: won, result: success}]\n"
    )
    text = words_in(canvas_svg(j))
    assert "Touchpoints" in text
    for label in ("Backstage", "Channels", "Owners", "Emotion", "Pain points", "Opportunities"):
        assert label not in text


def no_overlaps(boxes: list) -> None:  # type: ignore[type-arg]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)


def test_forty_touchpoints_in_one_stage_do_not_overlap() -> None:
    lines = ["journey: crowd", "stages: [one, two]", "touchpoints:"]
    for i in range(40):
        lines.append(
            f"  - {{id: t{i}, stage: one, title: 'Touchpoint number {i} with a rather long"
            f" title that must wrap', channel: phone, owner: Team {i % 3},"
            f" pain_points: ['Waits {i} days'], emotion: {i % 5 - 2}}}"
        )
    lines.append("  - {id: last, stage: two}")
    c = layout(journey("\n".join(lines) + "\n"))
    cards = [b for b in c.boxes if b.kind == "card"]
    assert len(cards) == 41
    no_overlaps(cards)
    no_overlaps([b for b in c.boxes if b.kind in ("pain", "channels", "owners")])
    for b in cards:
        assert b.y + b.h <= c.height and b.x + b.w <= c.width


LONG = [
    "求职者在注册后等待数周才收到第一份工作的通知并且没有任何更新",
    "يبحث المرشح عن عمل مؤقت بالقرب من منزله ويدفع أسبوعيا",
    "🎉 Offer accepted 🎉 — erste Schicht beginnt Montag früh um sechs Uhr",
    "Supercalifragilisticexpialidociousregistrationformwithoutanyspaces",
]


def test_long_non_latin_titles_wrap_inside_their_cards(make_journey: Make) -> None:
    tps = "".join(
        f"  - {{id: t{i}, stage: s{i % 2}, title: '{title}', channel: 网站, owner: فريق}}\n"
        for i, title in enumerate(LONG)
    )
    j = make_journey(f"journey: j\nstages: [s0, s1]\ntouchpoints:\n{tps}")
    c = layout(j)
    cards = [b for b in c.boxes if b.kind == "card"]
    no_overlaps(cards)
    inner = COLUMN - 2 * PAD - 16
    for title in LONG:
        for line in wrap(title, inner, 12, bold=True):
            assert text_width(line, 12, bold=True) <= inner
        assert "".join(wrap(title, inner, 12, bold=True)).replace(" ", "") == title.replace(" ", "")
    text = words_in(canvas_svg(j)).replace(" ", "")
    for title in LONG:
        assert title.replace(" ", "") in text


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=0, max_size=80), st.floats(min_value=30, max_value=300))
def test_wrapping_never_loses_text_and_keeps_within_the_width(text: str, width: float) -> None:
    text = " ".join(text.split())  # wrapping works on words
    lines = wrap(text, width, 12)
    assert " ".join(lines).replace(" ", "") == text.replace(" ", "")
    for line in lines:
        assert text_width(line, 12) <= width or len(line) == 1


def test_the_worksheet_is_blank_or_prefilled() -> None:
    j = load(EXAMPLES / "client.yaml")
    blank = words_in(worksheet_svg(j))
    assert "Sales and consideration" in blank and "Pain points" in blank
    assert j.touchpoints[0].title not in blank
    filled = words_in(worksheet_svg(j, prefill=True))
    assert all(w in filled for w in j.touchpoints[0].title.split())
    bare = words_in(
        worksheet_svg(None, [Stage(id="a", title="Arrive"), Stage(id="b", title="Leave")])
    )
    assert "1. Arrive" in bare and "2. Leave" in bare


def test_a_theme_file_brings_its_title_colours_and_logo(tmp_path: Path) -> None:
    from journeymap.themes import Theme

    logo = tmp_path / "logo.svg"
    logo.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>')
    f = tmp_path / "acme.yaml"
    f.write_text("base: colorblind\ntitle: Acme Staffing\naccent: '#123456'\nlogo: logo.svg\n")
    svg = canvas_svg(load(EXAMPLES / "client.yaml"), theme=Theme.from_file(f))
    assert "Acme Staffing" in words_in(svg)
    assert 'fill="#123456"' in svg  # stage headers
    assert 'href="data:image/svg+xml;base64,' in svg  # embedded, no external file
    c = layout(load(EXAMPLES / "client.yaml"), theme=Theme.from_file(f))
    no_overlaps([b for b in c.boxes if b.kind in ("logo", "heading")])


HOSTILE = "x</style><script>alert(1)</script>"
TERMINAL = "\x1b[31mred\x1b[0m\x07 title"


def test_hostile_titles_and_theme_values_stay_text(tmp_path: Path) -> None:
    """Titles with markup or a terminal escape, and theme values that slipped past the
    theme's checks (set behind its back here), cannot add an element, an attribute
    or a CSS rule to the canvas; and the SVG stays well-formed XML."""
    from dataclasses import replace

    from journeymap.themes import Theme

    # built past the loader, which refuses control characters: the canvas must not rely on it
    j = Journey.model_validate(
        {
            "journey": "hostile",
            "title": HOSTILE,
            "stages": [{"id": "s", "title": "\x1b[1mStage"}],
            "touchpoints": [
                {"id": "a", "stage": "s", "title": TERMINAL, "next": ["won"], "emotion": 1},
                {"id": "b", "stage": "s", "next": ["won"], "emotion": -1},
            ],
            "outcomes": [{"id": "won", "result": "success"}],
        }
    )
    assert j.touchpoints[0].title == TERMINAL
    t = replace(Theme(), title=None)
    object.__setattr__(t, "accent", '#000"/><script>alert(2)</script><rect x="')
    object.__setattr__(t, "font", "x; } .jm-canvas { display:none } .y {")
    object.__setattr__(t, "text", "red; } svg { display:none")
    object.__setattr__(t, "emotion_positive", 'red" onload="alert(3)')
    svg = canvas_svg(j, theme=t)
    root = ET.fromstring(svg)  # a control character would make this raise
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    assert not [e for e in root.iter() for k in e.attrib if k.startswith("on")]
    assert HOSTILE in words_in(svg)
    assert "␛[31mred␛[0m␇ title" in words_in(svg) and "\x1b" not in svg
    style = "".join(e.text or "" for e in root.iter(f"{SVG}style"))
    # every rule is ours: the hostile values became escaped text inside one
    assert re.findall(r"([^{}]+)\{", style) == [
        ".jm-canvas text ",
        " .jm-canvas .cv-stage ",
        " .jm-canvas .cv-sub, .jm-canvas .cv-tick, .jm-canvas .cv-visibility ",
        " .jm-canvas .cv-tag ",
        " .jm-canvas .cv-tag-bad ",
    ]
    assert "display:none" not in style
    fills = [e.get("fill") for e in root.iter(f"{SVG}rect")]
    assert '#000"/><script>alert(2)</script><rect x="' in fills  # an attribute value, whole


def test_cards_the_firm_starts_carry_a_marker_inside_the_card(make_journey: Make) -> None:
    j = make_journey(
        """\
        journey: j
        stages: [a]
        touchpoints:
          - {id: call, stage: a, initiative: firm, title: '<b>Call</b> & "x"'}
          - {id: wait, stage: a, title: Waits for a call}
          - {id: back, stage: a, initiative: firm, layer: backstage, title: A very long title that wraps over several lines of the card}
        """
    )
    svg = canvas_svg(j)
    root = ET.fromstring(svg)  # escaped: still well-formed, the title stays text
    cards = {g.get("id"): g for g in root.iter(f"{SVG}g") if g.get("class") == "cv-card"}
    marked = {
        ident
        for ident, g in cards.items()
        if "↗ firm reaches out" in " ".join("".join(t.itertext()) for t in g.iter(f"{SVG}text"))
    }
    assert marked == {"canvas-tp-call", "canvas-tp-back"}
    assert '<b>Call</b> & "x"' in words_in(svg)
    for ident in marked:
        outline, badge = cards[ident].findall(f"{SVG}rect")
        assert badge.get("class") == "cv-badge"
        x, y, w, h = (float(outline.get(k) or 0) for k in ("x", "y", "width", "height"))
        bx, by, bw, bh = (float(badge.get(k) or 0) for k in ("x", "y", "width", "height"))
        assert x < bx and bx + bw < x + w and y < by and by + bh < y + h
    c = layout(j)
    no_overlaps([b for b in c.boxes if b.kind == "card"])
    assert svg == canvas_svg(j)  # same bytes


def test_the_example_canvases_mark_every_proactive_touchpoint() -> None:
    for name in ("candidate", "client"):
        j = load(EXAMPLES / f"{name}.yaml")
        svg = canvas_svg(j)
        firm = [tp for tp in j.touchpoints if tp.initiative == "firm"]
        assert firm
        assert svg.count('class="cv-badge"') == len(firm)


def _card_tops_and_visibility(svg: str) -> tuple[dict[str, float], float]:
    """Each touchpoint card's top edge, and the y of the line of visibility."""
    ns = "{http://www.w3.org/2000/svg}"
    root = ET.fromstring(svg)
    tops = {}
    for g in root.iter(f"{ns}g"):
        ident = g.get("id", "")
        if ident.startswith("canvas-tp-"):
            rect = g.find(f"{ns}rect")
            assert rect is not None
            tops[ident.removeprefix("canvas-tp-")] = float(rect.get("y", "nan"))
    [line] = [line for line in root.iter(f"{ns}line") if line.get("stroke-dasharray") == "10 5"]
    return tops, float(line.get("y1", "nan"))


@pytest.mark.parametrize("prefill", [False, True], ids=["canvas", "prefilled worksheet"])
def test_backstage_touchpoints_sit_below_the_line_of_visibility(prefill: bool) -> None:
    j = load(EXAMPLES / "candidate.yaml")
    svg = worksheet_svg(j, prefill=True) if prefill else canvas_svg(j)
    tops, line = _card_tops_and_visibility(svg)
    back = {tp.id for tp in j.touchpoints if tp.layer == "backstage"}
    front = {tp.id for tp in j.touchpoints} - back
    assert back and front and set(tops) >= back | front
    assert all(tops[i] > line for i in back), {i: tops[i] for i in back}
    assert all(tops[i] < line for i in front)


def test_important_but_poor_cards_carry_the_maps_mark() -> None:
    from journeymap import analyze
    from journeymap.dot import POOR_MARK

    j = load(EXAMPLES / "candidate.yaml")
    poor = {f.subject for f in analyze(j).findings if f.rule == "important-but-poor"}
    svg = canvas_svg(j)
    for tp in j.touchpoints:
        card = svg[svg.index(f'id="canvas-tp-{tp.id}"') :]
        card = card[: card.index("</g>")]
        assert (POOR_MARK in card) == (tp.id in poor), tp.id
