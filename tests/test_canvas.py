"""The journey canvas: structure, wrapping, and no text box over another."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymap import load
from journeymap.canvas import (
    COLUMN,
    PAD,
    Sheet,
    canvas_svg,
    layout,
    text_width,
    worksheet_svg,
    wrap,
)
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
    assert "✖ LOST" in text and "✖ DEAD END" in text  # not colour alone
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
        " .jm-canvas .cv-sub, .jm-canvas .cv-tick, .jm-canvas .cv-visibility,"
        " .jm-canvas .cv-tag, .jm-canvas .cv-unreachable ",
        " .jm-canvas .cv-dead ",
        " .jm-canvas .cv-trap, .jm-canvas .cv-poor ",
        " .jm-canvas .cv-lost, .jm-canvas .cv-loss ",
        " .jm-canvas .cv-success ",
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
        cards = _groups(ET.fromstring(svg), "canvas-tp-")
        badged = {
            i for i, g in cards.items() if g.find(f"{SVG}rect[@class='cv-badge']") is not None
        }
        assert badged == {tp.id for tp in firm}
        assert "firm" in _legend(svg)  # the legend shows the very badge
        assert svg.count('class="cv-badge"') == len(firm) + 1


def _card_tops_and_visibility(svg: str) -> tuple[dict[str, float], float]:
    """Each touchpoint card's top edge, and the y of the line of visibility."""
    ns = "{http://www.w3.org/2000/svg}"
    root = ET.fromstring(svg)
    tops = {}
    for ident, g in _groups(root, "canvas-tp-").items():
        tops[ident] = _outline(g)[1]
    legend = root.find(f".//{ns}g[@id='canvas-legend']")
    samples = set() if legend is None else set(legend.iter(f"{ns}line"))
    [line] = [
        line
        for line in root.iter(f"{ns}line")
        if line.get("stroke-dasharray") == "10 5" and line not in samples
    ]
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


# --- One visual language with the flow map (#10) ----------------------------------------


def _groups(root: ET.Element, prefix: str) -> dict[str, ET.Element]:
    """The <g> elements whose id starts with ``prefix``, by the rest of their id."""
    return {
        (g.get("id") or "").removeprefix(prefix): g
        for g in root.iter(f"{SVG}g")
        if (g.get("id") or "").startswith(prefix)
    }


def _shape(g: ET.Element) -> ET.Element:
    """A card's outline (or a legend sample's): its first rect or polygon."""
    found = [e for e in g if e.tag in (f"{SVG}rect", f"{SVG}polygon")]
    assert found, g.get("id")
    return found[0]


def _outline(g: ET.Element) -> tuple[float, float, float, float]:
    """x, y, width and height of a card's outline, a rect or a polygon."""
    shape = _shape(g)
    if shape.tag == f"{SVG}rect":
        return tuple(float(shape.get(k) or "nan") for k in ("x", "y", "width", "height"))  # type: ignore[return-value]
    pts = [tuple(map(float, p.split(","))) for p in (shape.get("points") or "").split()]
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def _words(g: ET.Element) -> str:
    return " ".join(" ".join("".join(t.itertext()) for t in g.iter(f"{SVG}text")).split())


def _legend(svg: str) -> dict[str, ET.Element]:
    return _groups(ET.fromstring(svg), "canvas-legend-")


def _emotion_text(e: float) -> str:
    return "0" if e == 0 else f"{e:+g}".replace("-", "−")


#: A trap that is no dead end (a loop with no way out), an unreachable touchpoint, a
#: tiny drop-off, two ways in with emotion, and a stage without emotion before the last.
EDGE = """\
journey: edge
entries: [web, shop]
stages: [s1, s2, s3, s4]
touchpoints:
  - {id: web, stage: s1, title: Finds the website, emotion: 1, next: [{to: form, probability: 0.9996}]}
  - {id: shop, stage: s1, title: Walks into the shop, emotion: -1, next: [form]}
  - {id: form, stage: s2, title: Fills in a form, emotion: 2, next: [loop, quiet]}
  - {id: loop, stage: s2, title: Goes round in circles, layer: backstage, next: [loop2]}
  - {id: loop2, stage: s2, title: Asked again, next: [loop]}
  - {id: quiet, stage: s3, title: Waits, next: [done, gone]}
  - {id: orphan, stage: s3, title: A page nobody links to, next: [done]}
  - {id: done, stage: s4, title: Signs, emotion: 1, next: [check]}
  - {id: check, stage: s4, title: Checks the papers, layer: backstage, next: [won]}
outcomes:
  - {id: won, result: success, title: Signed up}
  - {id: gone, result: lost, title: Gave up}
"""


def test_the_legend_lists_exactly_what_the_canvas_draws(make_journey: Make) -> None:
    assert set(_legend(canvas_svg(make_journey(EDGE)))) == {
        "touchpoint",
        "backstage",
        "visibility",
        "trap",
        "unreachable",
        "leave",
        "lost-step",
        "success",
        "lost",
        "emotion",
        "curve",
    }
    plain = make_journey(
        "journey: j\nstages: [a]\ntouchpoints:\n  - {id: t, stage: a, next: [won]}\n"
        "outcomes: [{id: won, result: success}]\n"
    )
    assert set(_legend(canvas_svg(plain))) == {"touchpoint", "success"}
    # The candidate's only trap is a dead end, drawn and named as one: no trap entry.
    candidate = set(_legend(canvas_svg(load(EXAMPLES / "candidate.yaml"))))
    assert {"dead-end", "poor", "firm", "leave", "lost-step", "emotion", "curve"} <= candidate
    assert "trap" not in candidate and "unreachable" not in candidate
    observed = set(_legend(canvas_svg(load(EXAMPLES / "recruiting-observed.yaml"))))
    assert observed == {"touchpoint", "backstage", "visibility", "lost-step", "success", "lost"}


def test_legend_samples_are_drawn_as_the_cards_they_explain(make_journey: Make) -> None:
    svg = canvas_svg(make_journey(EDGE))
    root = ET.fromstring(svg)
    cards, legend = _groups(root, "canvas-tp-"), _legend(svg)
    for kind, card in (
        ("touchpoint", "web"),
        ("backstage", "check"),
        ("trap", "loop2"),
        ("unreachable", "orphan"),
        ("success", "won"),
        ("lost", "gone"),
    ):
        sample = _shape(legend[kind])
        shape = _shape(cards[card])
        assert sample.tag == shape.tag, kind  # the octagon is an octagon
        for attr in ("fill", "stroke", "stroke-dasharray"):
            assert sample.get(attr) == shape.get(attr), (kind, attr)
    # words beside every colour: the legend says what each sample means
    assert "TRAP" in _words(legend["trap"]) and "dotted" in _words(legend["unreachable"])
    assert "dashed" in _words(legend["backstage"]) and "octagon" in _words(legend["lost"])


def test_a_trap_and_a_dead_end_differ_in_colour_and_word(make_journey: Make) -> None:
    from journeymap.themes import Theme

    j = make_journey(
        """\
        journey: j
        stages: [a]
        touchpoints:
          - {id: start, stage: a, next: [stuck, loop, won]}
          - {id: stuck, stage: a}
          - {id: loop, stage: a, next: [loop2]}
          - {id: loop2, stage: a, next: [loop]}
        outcomes: [{id: won, result: success}]
        """
    )
    t = Theme()
    cards = _groups(ET.fromstring(canvas_svg(j)), "canvas-tp-")
    dead, trap = _shape(cards["stuck"]), _shape(cards["loop"])
    assert (dead.get("fill"), dead.get("stroke")) == (t.dead_fill, t.dead_border)
    assert (trap.get("fill"), trap.get("stroke")) == (t.trap_fill, t.trap_border)
    assert dead.get("fill") != trap.get("fill")
    assert "✖ DEAD END" in _words(cards["stuck"]) and "TRAP" not in _words(cards["stuck"])
    assert "⚠ TRAP" in _words(cards["loop"]) and "DEAD END" not in _words(cards["loop"])
    assert _shape(cards["start"]).get("fill") == t.touchpoint_fill


def test_lost_outcomes_are_solid_octagons_with_their_share() -> None:
    from journeymap import analyze
    from journeymap.dot import percent

    j = load(EXAMPLES / "candidate.yaml")
    share = {leak.node: leak.share for leak in analyze(j).leaks if leak.kind == "outcome"}
    cards = _groups(ET.fromstring(canvas_svg(j)), "canvas-tp-")
    lost = [o for o in j.outcomes if o.result == "lost"]
    assert lost
    for o in lost:
        shape = _shape(cards[o.id])
        assert shape.tag == f"{SVG}polygon" and len((shape.get("points") or "").split()) == 8
        assert shape.get("stroke-dasharray") is None  # dashed means backstage
        assert float(shape.get("stroke-width") or 0) > 2  # bold
        words = _words(cards[o.id])
        assert words.startswith("✖ LOST")
        assert f"{percent(share.get(o.id, 0.0))} of customers end here" in words
    for o in j.outcomes:
        if o.result == "success":
            assert _shape(cards[o.id]).get("stroke-dasharray") is None


def test_unreachable_touchpoints_are_dotted_and_say_so(make_journey: Make) -> None:
    cards = _groups(ET.fromstring(canvas_svg(make_journey(EDGE))), "canvas-tp-")
    dotted = _shape(cards["orphan"]).get("stroke-dasharray")
    assert dotted and dotted != _shape(cards["loop"]).get("stroke-dasharray")
    assert "UNREACHABLE from any entry" in _words(cards["orphan"])
    assert _shape(cards["check"]).get("stroke-dasharray") == "5 3"  # backstage: dashed
    for ident in ("web", "shop", "form", "quiet", "done"):
        assert _shape(cards[ident]).get("stroke-dasharray") is None, ident
        assert "UNREACHABLE" not in _words(cards[ident])


def test_drop_off_reads_as_on_the_flow_map(make_journey: Make) -> None:
    from journeymap import analyze
    from journeymap.dot import percent

    j = make_journey(EDGE)
    cards = _groups(ET.fromstring(canvas_svg(j)), "canvas-tp-")
    assert f"↘ {percent(0.0004)} leave" in _words(cards["web"])
    assert "0% leave" not in _words(cards["web"])
    assert "✖ → Gave up" in _words(cards["quiet"])  # a step to a lost outcome, unnumbered
    for name in ("candidate", "client"):
        j = load(EXAMPLES / f"{name}.yaml")
        a = analyze(j)
        cards = _groups(ET.fromstring(canvas_svg(j)), "canvas-tp-")
        assert a.drop_off
        for ident, p in a.drop_off.items():
            assert f"↘ {percent(p)} leave" in _words(cards[ident]), ident
    j = load(EXAMPLES / "recruiting-observed.yaml")
    cards = _groups(ET.fromstring(canvas_svg(j)), "canvas-tp-")
    assert "✖ 20% → Rejected" in _words(cards["screening-call"])  # 187 of 916


@pytest.mark.parametrize("name", ["candidate", "client", "edge"])
def test_emotion_points_sit_under_their_cards_with_their_value(name: str) -> None:
    j = journey(EDGE) if name == "edge" else load(EXAMPLES / f"{name}.yaml")
    root = ET.fromstring(canvas_svg(j))
    cards, points = _groups(root, "canvas-tp-"), _groups(root, "canvas-emotion-")
    felt = {tp.id: tp for tp in j.touchpoints if tp.emotion is not None}
    assert felt and set(points) == set(felt)
    for ident, g in points.items():
        x, _, w, _ = _outline(cards[ident])
        mark = next(t for t in g.iter(f"{SVG}text") if t.get("class") != "cv-value")
        assert x < float(mark.get("x") or "nan") < x + w, ident
        title = g.find(f"{SVG}title")
        assert title is not None and felt[ident].title in (title.text or "")
        value = _emotion_text(felt[ident].emotion or 0.0)
        [label] = [t for t in g.iter(f"{SVG}text") if t.get("class") == "cv-value"]
        assert label.text == value, ident
    labels = [b for b in layout(j).boxes if b.kind == "emotion"]
    no_overlaps(labels)


def _segments(root: ET.Element) -> set[tuple[str, str]]:
    """The emotion curve's segments, as pairs of touchpoint ids."""
    at = {}
    for ident, g in _groups(root, "canvas-emotion-").items():
        circle = g.find(f"{SVG}circle")
        assert circle is not None
        at[(circle.get("cx"), circle.get("cy"))] = ident
    out = set()
    for path in root.iter(f"{SVG}path"):
        if path.get("class") != "cv-curve":
            continue
        for x1, y1, x2, y2 in re.findall(
            r"M([\d.]+),([\d.]+) L([\d.]+),([\d.]+)", path.get("d", "")
        ):
            out.add((at[(x1, y1)], at[(x2, y2)]))
    return out


def test_the_emotion_curve_joins_steps_not_alternatives_nor_silent_stages(
    make_journey: Make,
) -> None:
    # Two ways in join the form; the form and the signing are two stages apart, with
    # no emotion between them: no line across.
    assert _segments(ET.fromstring(canvas_svg(make_journey(EDGE)))) == {
        ("web", "form"),
        ("shop", "form"),
    }
    j = load(EXAMPLES / "candidate.yaml")
    segments = _segments(ET.fromstring(canvas_svg(j)))
    entries = {tp.id for tp in j.touchpoints_in(j.stages[0].id)}
    assert segments and not [s for s in segments if set(s) <= entries]
    steps = {(tp.id, t.to) for tp in j.touchpoints for t in tp.next}
    assert segments <= steps


def test_a_journey_with_little_emotion_gets_a_short_row(make_journey: Make) -> None:
    def emotion_row(values: list[int]) -> tuple[float, list[str]]:
        tps = "".join(f"  - {{id: t{i}, stage: a, emotion: {e}}}\n" for i, e in enumerate(values))
        j = make_journey(f"journey: j\nstages: [a]\ntouchpoints:\n{tps}")
        root = ET.fromstring(canvas_svg(j))
        ticks = [t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == "cv-tick"]
        return layout(j).height, ticks

    one, one_ticks = emotion_row([1])
    full, full_ticks = emotion_row([2, -2])
    assert one_ticks == ["+1", "0"] and full_ticks == ["+2", "+1", "0", "−1", "−2"]
    assert one < full - 50


# --- The worksheet in a real room (#10) --------------------------------------------------


def _sheets(paper_name: str, orientation: str = "landscape", **kw: Any) -> list[Sheet]:
    from journeymap.printing import paper, worksheet_sheets_for

    j = kw.pop("journey", None)
    return worksheet_sheets_for(j, paper_size=paper(paper_name, orientation), **kw)


def _mm(root: ET.Element) -> float:
    """Millimetres per drawing unit: the sheet's size on paper over its viewBox."""
    width = float((root.get("width") or "").removesuffix("mm"))
    return width / float((root.get("viewBox") or "").split()[2])


def _cells(svg: str) -> list[tuple[str, int, float, float]]:
    """The cells meant for sticky notes: (row, stage number, width mm, height mm)."""
    root = ET.fromstring(svg)
    mm = _mm(root)
    return [
        (
            r.get("data-row", ""),
            int(r.get("data-stage", "0")),
            float(r.get("width", "0")) * mm,
            float(r.get("height", "0")) * mm,
        )
        for r in root.iter(f"{SVG}rect")
        if "cv-note" in (r.get("class") or "").split()
    ]


STAGES12 = [Stage(id=f"s{k}", title=f"Stage {chr(65 + k)}") for k in range(12)]


@pytest.mark.parametrize("paper_name", ["A1", "A0"])
@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
@pytest.mark.parametrize("what", ["candidate", "prefilled", "twelve stages"])
def test_on_a1_and_a0_every_note_cell_takes_a_sticky_note(
    paper_name: str, orientation: str, what: str
) -> None:
    from journeymap.printing import paper

    kw: dict[str, Any] = (
        {"stages": STAGES12}
        if what == "twelve stages"
        else {"journey": load(EXAMPLES / "candidate.yaml"), "prefill": what == "prefilled"}
    )
    sheets = _sheets(paper_name, orientation, **kw)
    total = sheets[0].total
    held = [n for s in sheets for n in range(s.first, s.last + 1)]
    assert held == list(range(1, total + 1))  # whole stages, each once, in order
    cw, ch = paper(paper_name, orientation).content
    for s in sheets:
        cells = _cells(s.svg)
        assert sorted({row for row, *_ in cells}) == ["back", "front", "opportunities", "pain"]
        assert len(cells) == 4 * (s.last - s.first + 1)
        for row, stage, w, h in cells:
            assert w >= 80 and h >= 80, (row, stage, round(w, 1), round(h, 1))
        # and the sheet is the page's printable area: set at its size, not shrunk
        assert s.width_mm <= cw and s.height_mm <= ch


def test_small_papers_keep_what_fits_and_a_note_wide_cell_where_they_can() -> None:
    j = load(EXAMPLES / "candidate.yaml")
    for name in ("A4", "A3", "A2"):
        [sheet] = _sheets(name, journey=j)  # a blank sheet is never split below A1
        widths = {round(w, 3) for _, _, w, _ in _cells(sheet.svg)}
        assert len(widths) == 1 and min(widths) < 76  # shared by the stages: what fits
    # a sticky note's width where the paper has it at the stage count
    for name, n in (("A4", 2), ("A3", 4), ("A2", 6)):
        [sheet] = _sheets(name, stages=STAGES12[:n])
        assert min(w for _, _, w, _ in _cells(sheet.svg)) >= 76, name


def test_many_stages_on_a1_are_split_by_whole_stages_saying_what_continues() -> None:
    sheets = _sheets("A1", stages=STAGES12)
    assert [(s.first, s.last) for s in sheets] == [(1, 6), (7, 12)]
    first, second = (words_in(s.svg) for s in sheets)
    assert "Sheet 1 of 2: stages 1-6 of 12, continues on sheet 2" in first
    assert "Sheet 2 of 2: stages 7-12 of 12, continued from sheet 1" in second
    assert "6. Stage F" in first and "7. Stage G" not in first
    assert "7. Stage G" in second and "12. Stage L" in second and "1. Stage A" not in second
    # one sheet says nothing of sheets
    [one] = _sheets("A0", stages=STAGES12)
    assert "Sheet" not in words_in(one.svg) and one.caption == ""


def test_cards_too_many_for_a_small_sheet_go_on_more_sheets_not_smaller() -> None:
    from journeymap.printing import paper

    j = load(EXAMPLES / "candidate.yaml")
    sheets = _sheets("A3", journey=j, prefill=True)
    assert len(sheets) > 1 and {s.split for s in sheets} == {"height"}
    assert [n for s in sheets for n in range(s.first, s.last + 1)] == list(range(1, 9))
    _, ch = paper("A3").content
    assert all(s.unit >= 0.31 and s.height_mm <= ch / 0.9 for s in sheets)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 60), st.integers(1, 15))
def test_stages_are_split_evenly_over_as_few_sheets_as_hold_them(n: int, per: int) -> None:
    from journeymap.canvas import _split

    parts = _split(n, per)
    assert len(parts) == -(-n // per)
    assert [k for lo, hi in parts for k in range(lo, hi + 1)] == list(range(n))
    sizes = [hi - lo + 1 for lo, hi in parts]
    assert max(sizes) <= per and max(sizes) - min(sizes) <= 1


@pytest.mark.parametrize("paper_name", [None, "A3", "A0"])
def test_the_emotion_row_has_a_scale_of_five_labelled_levels(paper_name: str | None) -> None:
    j = load(EXAMPLES / "client.yaml")
    svg = _sheets(paper_name, journey=j)[0].svg if paper_name else worksheet_svg(j)
    root = ET.fromstring(svg)
    [scale] = [g for g in root.iter(f"{SVG}g") if g.get("id") == "worksheet-emotion-scale"]
    levels = [t for t in scale.iter(f"{SVG}text") if t.get("class") == "cv-level"]
    labels = [" ".join("".join(t.itertext()).split()) for t in levels]
    assert labels == ["☺ +2", "☺ +1", "○ 0", "☹ −1", "☹ −2"]
    assert [t.get("data-level") for t in levels] == ["2", "1", "0", "-1", "-2"]
    guides = [ln for ln in scale.iter(f"{SVG}line") if ln.get("class") == "cv-guide"]
    ys = [float(ln.get("y1", "0")) for ln in guides]
    assert len(guides) == 5 and ys == sorted(ys)  # +2 at the top
    # each label at the row's left, level with its line; each line across every cell
    cells = [r for r in root.iter(f"{SVG}rect") if r.get("data-row") == "emotion"]
    left = min(float(r.get("x", "0")) for r in cells)
    right = max(float(r.get("x", "0")) + float(r.get("width", "0")) for r in cells)
    for label, line in zip(levels, guides, strict=True):
        assert float(label.get("x", "0")) <= left
        assert abs(float(label.get("y", "0")) - float(line.get("y1", "0"))) < 6
        assert float(line.get("x1", "0")) <= left + 1 and float(line.get("x2", "0")) >= right - 1
    top = min(float(r.get("y", "0")) for r in cells)
    bottom = top + float(cells[0].get("height", "0"))
    assert top < min(ys) and max(ys) < bottom  # inside the row


def _persona(svg: str) -> tuple[str, int]:
    """The persona box's words and its lines to write on."""
    root = ET.fromstring(svg)
    [box] = [g for g in root.iter(f"{SVG}g") if g.get("id") == "worksheet-persona"]
    words = " ".join(" ".join("".join(t.itertext()) for t in box.iter(f"{SVG}text")).split())
    return words, sum(1 for ln in box.iter(f"{SVG}line") if ln.get("class") == "cv-write")


def test_the_persona_box_holds_the_persona_or_lines_to_write_it_on(make_journey: Make) -> None:
    j = load(EXAMPLES / "candidate.yaml")
    assert j.persona is not None and j.persona.description
    for svg in (worksheet_svg(j), worksheet_svg(j, prefill=True), _sheets("A0", journey=j)[0].svg):
        words, lines = _persona(svg)
        assert f"Persona: {j.persona.name}" in words and j.persona.description.split()[0] in words
        assert lines == 0
    nobody = make_journey("journey: j\nstages: [a, b]\ntouchpoints:\n  - {id: t, stage: a}\n")
    for svg in (worksheet_svg(nobody), worksheet_svg(None, STAGES12[:2])):
        words, lines = _persona(svg)
        assert "Persona: who is travelling this journey?" in words
        assert "What do they want?" in words and lines == 2


def test_the_prefilled_worksheet_has_the_canvas_legend_of_what_it_draws() -> None:
    from journeymap.canvas import DEAD_END, TRAP

    j = load(EXAMPLES / "candidate.yaml")
    assert "canvas-legend" not in worksheet_svg(j)  # nothing tagged on a blank sheet
    for svg in (worksheet_svg(j, prefill=True), _sheets("A1", journey=j, prefill=True)[0].svg):
        root = ET.fromstring(svg)
        kinds = set(_groups(root, "canvas-legend-"))
        cards = " ".join(
            words_in(ET.tostring(g, encoding="unicode"))
            for g in _groups(root, "canvas-tp-").values()
        )
        assert {"touchpoint", "backstage", "visibility", "firm", "poor"} <= kinds
        assert ("dead-end" in kinds) == (DEAD_END in cards)
        assert ("trap" in kinds) == (TRAP in cards)
        # the worksheet draws no outcomes and no emotion curve: its legend says nothing of them
        assert not kinds & {"success", "lost", "emotion", "curve"}


# --- The data the journey has, on the canvas (#10) ---------------------------------------


def _lines(text: ET.Element) -> list[str]:
    """A <text>'s lines: a tspan with its own x starts one, one without continues it."""
    lines: list[str] = []
    for span in text:
        part = "".join(span.itertext())
        if span.get("x") is not None or not lines:
            lines.append(part)
        else:
            lines[-1] += part
    return lines or ["".join(text.itertext())]


def _said(text: ET.Element) -> str:
    return " ".join(_lines(text))


def _texts(root: ET.Element, cls: str) -> list[ET.Element]:
    return [t for t in root.iter(f"{SVG}text") if cls in (t.get("class") or "").split()]


IMPORTANCE = """\
journey: imp
stages: [a, b]
touchpoints:
  - {id: both, stage: a, title: Both, importance: {customer: 5, company: 4}, next: [none]}
  - {id: none, stage: a, title: Neither, quality: 2, next: [firm]}
  - {id: firm, stage: b, title: Firm only, importance: {company: 2}, next: [cust]}
  - {id: cust, stage: b, title: Customer only, importance: {customer: 1}}
"""


def test_cards_say_how_much_a_touchpoint_matters_in_words(make_journey: Make) -> None:
    cards = _groups(ET.fromstring(canvas_svg(make_journey(IMPORTANCE))), "canvas-tp-")
    said = {k: [_said(t) for t in _texts(g, "cv-importance")] for k, g in cards.items()}
    assert said == {
        "both": ["matters to customers 5/5 · firm 4/5"],
        "none": [],
        "firm": ["matters to the firm 2/5"],
        "cust": ["matters to customers 1/5"],
    }
    assert "matters" not in _words(cards["none"])
    # Every card of the examples that has an importance says it, inside the card.
    for name in ("candidate", "client"):
        j = load(EXAMPLES / f"{name}.yaml")
        cards = _groups(ET.fromstring(canvas_svg(j)), "canvas-tp-")
        for tp in j.touchpoints:
            texts = _texts(cards[tp.id], "cv-importance")
            assert bool(texts) == (tp.importance is not None), tp.id
            x, _, w, _ = _outline(cards[tp.id])
            for t in texts:
                size = float(t.get("font-size") or "nan")
                for span in t:
                    assert float(span.get("x") or "nan") > x
                    assert float(span.get("x") or "nan") + text_width(span.text or "", size) < x + w


def test_importance_too_wide_for_one_line_gets_a_line_for_each() -> None:
    from journeymap.canvas import _importance
    from journeymap.model import Importance, Touchpoint

    tp = Touchpoint(id="t", stage="a", importance=Importance(customer=4, company=5))
    assert _importance(tp, 500, 10) == ["matters to customers 4/5 · firm 5/5"]
    assert _importance(tp, 120, 10) == ["matters to customers 4/5", "matters to the firm 5/5"]


def _wait_items(root: ET.Element) -> dict[float, list[ET.Element]]:
    """The waits row's items by the x of their column, top to bottom."""
    cols: dict[float, list[ET.Element]] = {}
    for t in _texts(root, "cv-wait"):
        first = next(iter(t))
        cols.setdefault(float(first.get("x") or "nan"), []).append(t)
    for items in cols.values():
        items.sort(key=lambda t: float(next(iter(t)).get("y") or "nan"))
    return cols


@pytest.mark.parametrize("name", ["candidate", "client"])
def test_the_waits_row_lists_each_wait_longest_first_marking_the_stage_it_crosses_into(
    name: str,
) -> None:
    j = load(EXAMPLES / f"{name}.yaml")
    svg = canvas_svg(j)
    root = ET.fromstring(svg)
    assert "Waits (between steps)" in [_said(t) for t in _texts(root, "cv-row")]
    index = j.stage_index
    expected = {}
    for tp in j.touchpoints:
        for step in tp.next:
            if not step.wait_seconds:
                continue  # 0s is no wait
            node = j.nodes[step.to]
            to = index.get(node.stage) if hasattr(node, "stage") else None
            k = index[tp.stage]
            mark = (
                ""
                if to is None or to == k
                else " ⇒ next stage"
                if to == k + 1
                else f" ⇒ stage {to + 1}"
                if to > k
                else f" ↩ back to stage {to + 1}"
            )
            item = f"{step.wait}{mark}: {tp.title} → {node.title}"
            expected[item] = (tp.stage, step.wait_seconds, bool(mark))
    cols = _wait_items(root)
    said = {_said(t): t for items in cols.values() for t in items}
    assert set(said) == set(expected)
    assert any(crosses for _, _, crosses in expected.values())
    for item, t in said.items():
        assert (t.get("data-crosses") == "true") == expected[item][2], item
        # The wait and its mark in bold, the step beside it: sibling spans, as
        # WeasyPrint drops text after a span nested in a line.
        first = next(iter(t))
        assert first.get("font-weight") == "bold" and item.startswith(first.text or "")
        assert (first.text or "").endswith(":") and not any(len(s) for s in t)
    for items in cols.values():
        stages = {expected[_said(t)][0] for t in items}
        seconds = [expected[_said(t)][1] for t in items]
        assert len(stages) == 1 and seconds == sorted(seconds, reverse=True)
    boxes = layout(j).boxes
    no_overlaps([b for b in boxes if b.kind in ("wait", "about", "pain", "opportunities")])


def test_the_waits_row_is_left_out_without_waits_and_lists_the_longest_when_many(
    make_journey: Make,
) -> None:
    plain = (
        "journey: j\nentries: [t]\nstages: [a, b]\ntouchpoints:\n  - {id: t, stage: a, next: [u]}\n"
    )
    for last in ("  - {id: u, stage: b}\n", "  - {id: u, stage: b, next: [{to: t, wait: 0s}]}\n"):
        svg = canvas_svg(make_journey(plain + last))
        assert "Waits" not in words_in(svg) and "cv-wait" not in svg
    steps = ", ".join(f"{{to: u{i}, wait: {i + 1}h}}" for i in range(11))
    tps = "".join(f"  - {{id: u{i}, stage: b}}\n" for i in range(11))
    j = make_journey(
        f"journey: j\nstages: [a, b]\ntouchpoints:\n  - {{id: t, stage: a, next: [{steps}]}}\n{tps}"
    )
    root = ET.fromstring(canvas_svg(j))
    [items] = _wait_items(root).values()
    assert [_said(t).split(" ")[0] for t in items] == [f"{h}h" for h in range(11, 3, -1)]
    assert [_said(t) for t in _texts(root, "cv-sub") if "shorter" in _said(t)] == [
        "and 3 shorter waits"
    ]


@pytest.mark.parametrize("name", ["candidate", "client"])
def test_pain_points_and_opportunities_sit_under_their_touchpoints_title(name: str) -> None:
    j = load(EXAMPLES / f"{name}.yaml")
    root = ET.fromstring(canvas_svg(j))
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "cv-group"]
    for row in ("pain", "opportunities"):
        mine = {g.get("data-touchpoint") or "": g for g in groups if g.get("data-row") == row}
        listed = {
            tp.id: tp.pain_points if row == "pain" else tp.opportunities for tp in j.touchpoints
        }
        assert set(mine) == {k for k, v in listed.items() if v}
        for ident, g in mine.items():
            tp = j.nodes[ident]
            [head, *items] = list(g.iter(f"{SVG}text"))
            assert head.get("font-weight") == "bold" and _said(head) == tp.title
            assert [_said(t) for t in items] == [f"• {p}" for p in listed[ident]]
        # in the order of the stage's cards
        for s in j.stages:
            ys = [
                float(next(iter(mine[tp.id].iter(f"{SVG}tspan"))).get("y") or "nan")
                for tp in j.touchpoints_in(s.id)
                if tp.id in mine
            ]
            assert ys == sorted(ys)


@pytest.mark.parametrize("name", ["candidate", "client"])
def test_every_outcome_says_what_share_of_customers_ends_there(name: str) -> None:
    """Success outcomes too (the hire rate a marketer reads off the map), on the
    canvas and the flow map, the success ones adding up to the success share."""
    from journeymap.analysis import analyze
    from journeymap.dot import to_dot

    j = load(EXAMPLES / f"{name}.yaml")
    a = analyze(j)
    ends = a.ends()
    assert set(ends) == {o.id for o in j.outcomes}
    success = sum(v for k, v in ends.items() if j.nodes[k].result == "success")  # type: ignore[union-attr]
    assert success == pytest.approx(a.success_share, abs=1e-12)
    svg = canvas_svg(j, a)
    assert svg.count("of customers end here") == len(j.outcomes)
    dot = to_dot(j, a)
    assert dot.count("of customers end here") == len(j.outcomes)
