"""Rendering through Graphviz: structure of the SVG, never its bytes across versions."""

from __future__ import annotations

import functools
import itertools
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from journeymap import analyze
from journeymap.errors import JourneyError
from journeymap.model import Journey, Touchpoint
from journeymap.rendering import render, render_files

from .test_analysis import LOOP

Make = Callable[..., Journey]
SVG = "{http://www.w3.org/2000/svg}"


def texts(svg: bytes) -> str:
    root = ET.fromstring(svg)
    return " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))


def test_svg_is_xml_with_stage_and_touchpoint_titles(make_journey: Make) -> None:
    svg = render(make_journey(LOOP), "svg")
    root = ET.fromstring(svg)
    assert root.get("viewBox")
    assert root.get("role") == "img"
    assert root.find(f"{SVG}title").text == "Loop journey"  # type: ignore[union-attr]
    assert "Dead ends: Stuck" in root.find(f"{SVG}desc").text  # type: ignore[operator, union-attr]
    words = texts(svg)
    for title in (
        "1. A",
        "2. B",
        "Start",
        "Apply",
        "Interview",
        "Reapply",
        "Placed",
        "Gave up",
        "Legend",
    ):
        assert title in words
    ids = {e.get("id") for e in root.iter()}
    assert {"map-tp-start", "map-tp-placed", "stage-a", "stage-b"} <= ids
    assert not any("href" in k for e in root.iter() for k in e.attrib if "xlink" in k)


def test_rendering_is_deterministic(make_journey: Make) -> None:
    j = make_journey(LOOP)
    assert render(j, "svg") == render(j, "svg")
    assert render(j, "png") == render(j, "png")


def test_pdf_png_and_dot(make_journey: Make) -> None:
    j = make_journey(LOOP)
    assert render(j, "pdf").startswith(b"%PDF")
    assert render(j, "png").startswith(b"\x89PNG")
    assert render(j, "dot").startswith(b'digraph "loop"')


def test_png_dpi_scales_the_picture(make_journey: Make) -> None:
    import struct

    j = make_journey(LOOP)

    def width(png: bytes) -> int:
        return int(struct.unpack(">I", png[16:20])[0])

    assert width(render(j, "png", dpi=144)) == pytest.approx(
        2 * width(render(j, "png", dpi=72)), rel=0.02
    )


def test_unknown_format_is_a_user_error(make_journey: Make) -> None:
    with pytest.raises(JourneyError, match="unknown format"):
        render(make_journey(LOOP), "gif")


def test_render_files_writes_all_or_nothing(make_journey: Make, tmp_path: Path) -> None:
    j = make_journey(LOOP)
    written = render_files([j], tmp_path / "out", "svg")
    assert written == [tmp_path / "out" / "loop.svg"]
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(JourneyError, match="not a folder"):
        render_files([j], blocker, "svg")


def test_a_theme_file_reports_its_mistakes_with_positions(tmp_path: Path) -> None:
    from journeymap.errors import JourneyError
    from journeymap.themes import Theme

    f = tmp_path / "brand.yaml"
    f.write_text("base: fancy\naccnt: '#000'\nfont: 12\n")
    with pytest.raises(JourneyError) as info:
        Theme.from_file(f)
    assert [str(p) for p in info.value.problems] == [
        f"{f}:1:7: no built-in theme named 'fancy'; use one of default, print, colorblind",
        f"{f}:2:1: unknown theme key 'accnt' (did you mean 'accent'?)",
        f"{f}:3:7: font: expected text, got 12",
    ]
    f.write_text("base: print\naccent: '#0b5394'\ntitle: Acme\n")
    t = Theme.from_file(f)
    assert (t.accent, t.title, t.text) == ("#0b5394", "Acme", "#000000")


EXAMPLES = Path(__file__).resolve().parent.parent / "journeys"


def _ids(svg: bytes) -> set[str | None]:
    return {e.get("id") for e in ET.fromstring(svg).iter()}


@pytest.mark.parametrize("name", ["candidate", "client"])
def test_example_maps_have_every_node_and_every_transition(name: str) -> None:
    from journeymap import load
    from journeymap.dot import expected_ids

    j = load(EXAMPLES / f"{name}.yaml")
    assert expected_ids(j) <= _ids(render(j, "svg"))


def test_a_generated_300_touchpoint_map_is_complete_and_quiet(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # 300 touchpoints and 900 transitions: Graphviz printed 457 lines of errors
    # ("trouble in init_rank", "lost t68 t10 edge") and the edge was missing.
    import importlib.util

    from journeymap.dot import expected_ids

    spec = importlib.util.spec_from_file_location(
        "generate", Path(__file__).resolve().parent.parent / "benchmarks" / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    j = Journey.model_validate(generate.journey(300, 900))
    capfd.readouterr()
    svg = render(j, "svg")
    err = capfd.readouterr().err
    assert "Error" not in err and "lost" not in err, err[:500]
    assert "edge-t68--t10" in _ids(svg)
    assert expected_ids(j) <= _ids(svg)


def _candidate(**changes: Any) -> Journey:
    from journeymap import load

    data: dict[str, Any] = load(EXAMPLES / "candidate.yaml").model_dump(exclude_none=True)
    data.update(changes)
    return Journey.model_validate(data)


def test_control_characters_give_a_well_formed_svg() -> None:
    bad = "Apply\x00 now\x0c\x1b\x85 please"
    j = _candidate(title=bad, persona={"name": bad})
    j = j.model_copy(update={"title": bad + "\ud800"})  # not validated: any text
    svg = render(j, "svg")
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text == "Apply now please"  # type: ignore[union-attr]


def test_a_huge_title_is_shortened_not_fatal() -> None:
    j = _candidate(title="&" * 4000)
    words = texts(render(j, "svg"))
    assert "&" * 50 + "…" in words  # 300 characters once escaped
    assert "&" * 60 not in words


def test_a_map_missing_an_edge_is_retried_then_refused(
    monkeypatch: pytest.MonkeyPatch, make_journey: Make
) -> None:
    import journeymap.renderer as renderer

    real = renderer.layout
    seen: list[str] = []

    def dropping(dot: str, fmt: str = "svg", **kw: Any) -> bytes:
        # Graphviz silently losing the edge, as it did on labelled rework edges
        seen.append(dot)
        dot = dot.replace('id="edge-start--apply"', 'id="something-else"')
        return real(dot, fmt, **kw)

    monkeypatch.setattr(renderer, "layout", dropping)
    with pytest.raises(JourneyError, match=r"could not draw a complete map.*edge-start--apply"):
        render(make_journey(LOOP), "svg")
    # as built, then without edge labels (without anchors it is the same map: not redrawn)
    assert len(seen) == 2
    assert 'label="50%\\l"' in seen[0] and 'label="50%' not in seen[1]

    calls: list[str] = []

    def once(dot: str, fmt: str = "svg", **kw: Any) -> bytes:
        calls.append(dot)
        if len(calls) == 1:
            raise renderer.LayoutError("Graphviz could not lay out the map: Error: lost", [])
        return real(dot, fmt, **kw)

    monkeypatch.setattr(renderer, "layout", once)
    root = ET.fromstring(render(make_journey(LOOP), "svg"))
    assert len(calls) == 2 and "edge-start--apply" in _ids(ET.tostring(root))


# --- The flow map's geometry, measured on the SVG Graphviz drew (issue #10) ---------------

_NUM = re.compile(r"(-?\d+(?:\.\d+)?),(-?\d+(?:\.\d+)?)")
Rect = tuple[float, float, float, float]  # left, top, right, bottom (SVG y grows down)


def _rect(el: ET.Element) -> Rect:
    """The bounding box of the first path or polygon of a node or cluster group."""
    for shape in el:
        if shape.tag in (f"{SVG}path", f"{SVG}polygon"):
            pts = [
                (float(x), float(y))
                for x, y in _NUM.findall(shape.get("d") or shape.get("points") or "")
            ]
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            return min(xs), min(ys), max(xs), max(ys)
    raise AssertionError(f"no shape in {el.get('id')}")


def _text_rect(t: ET.Element) -> Rect:
    """A text's box, no smaller than the drawn text (widths of DejaVu Sans, rounded up)."""
    from journeymap.flowlayout import text_width

    size = float(t.get("font-size", "14"))
    width = text_width("".join(t.itertext()), size, t.get("font-weight") == "bold")
    x, y = float(t.get("x", "0")), float(t.get("y", "0"))
    anchor = t.get("text-anchor", "start")
    left = x - width / 2 if anchor == "middle" else x - width if anchor == "end" else x
    return left, y - 0.95 * size, left + width, y + 0.25 * size


def _overlap(a: Rect, b: Rect) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _curve_points(d: str) -> list[tuple[float, float]]:
    """Points along an SVG path of cubic Béziers (M x,y C ...), 16 per segment."""
    pts = [(float(x), float(y)) for x, y in _NUM.findall(d)]
    out = [pts[0]]
    for k in range(1, len(pts) - 2, 3):
        p0, p1, p2, p3 = pts[k - 1], pts[k], pts[k + 1], pts[k + 2]
        for i in range(1, 17):
            t = i / 16
            u = 1 - t
            out.append(
                (
                    u**3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t**3 * p3[0],
                    u**3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t**3 * p3[1],
                )
            )
    return out


@dataclass
class _Map:
    stages: list[tuple[str, Rect, Rect]]  # id, box, title
    nodes: dict[str, Rect]
    edges: dict[str, tuple[list[tuple[float, float]], list[Rect]]]  # id: path, labels
    tags: dict[str, Rect]


def _geometry(svg: bytes) -> _Map:
    root = ET.fromstring(svg)
    m = _Map([], {}, {}, {})
    for g in root.iter(f"{SVG}g"):
        ident, cls = g.get("id") or "", g.get("class")
        if cls == "cluster" and ident.startswith("stage-"):
            title = g.find(f"{SVG}text")
            assert title is not None, ident
            rects = [_text_rect(t) for t in g.iter(f"{SVG}text")]
            band = (
                min(r[0] for r in rects),
                min(r[1] for r in rects),
                max(r[2] for r in rects),
                max(r[3] for r in rects),
            )
            m.stages.append((ident, _rect(g), band))
        elif cls == "node" and ident.startswith("map-tp-"):
            inner = g.find(f"{SVG}g/{SVG}a") or g
            m.nodes[ident[len("map-tp-") :]] = _rect(inner if inner is not g else g)
        elif cls == "node" and (ident.startswith("lost-") or ident.endswith("-tag")):
            m.tags[ident] = _text_rect(next(g.iter(f"{SVG}text")))
        elif cls == "edge" and ident.startswith(("edge-", "dropoff-")):
            path = next(g.iter(f"{SVG}path"))
            m.edges[ident] = (
                _curve_points(path.get("d") or ""),
                [_text_rect(t) for t in g.iter(f"{SVG}text")],
            )
    return m


def _straight() -> Journey:
    """One touchpoint after another, 13 of them through 7 stages."""
    stages = [f"s{k}" for k in range(7)]
    tps = []
    for i in range(13):
        nxt = [{"to": f"t{i + 1}", "probability": 0.85, "wait": "1d", "label": "goes on"}]
        if i == 12:
            nxt = [{"to": "done", "probability": 0.9}]
        elif i % 4 == 2:
            nxt.append({"to": "gone", "probability": 0.1})
        tps.append(
            {"id": f"t{i}", "title": f"Step {i}", "stage": stages[min(6, i // 2)], "next": nxt}
        )
    return Journey.model_validate(
        {
            "journey": "straight",
            "stages": [{"id": s, "title": f"Stage {s} with a long title"} for s in stages],
            "touchpoints": tps,
            "outcomes": [{"id": "done", "result": "success"}, {"id": "gone", "result": "lost"}],
            "entries": ["t0"],
        }
    )


def _generated(touchpoints: int, transitions: int, stages: int = 0) -> Journey:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "generate", Path(__file__).resolve().parent.parent / "benchmarks" / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    return Journey.model_validate(generate.journey(touchpoints, transitions, stages))


def _flow_journey(name: str) -> Journey:
    from journeymap import load

    from .conftest import journey

    if name in ("candidate", "client"):
        return load(EXAMPLES / f"{name}.yaml")
    if name == "loop":
        return journey(LOOP)
    if name == "straight":
        return _straight()
    if name == "generated-100":
        return _generated(100, 250, 8)
    return _generated(300, 900)


@functools.cache
def _drawn(name: str) -> tuple[Journey, _Map]:
    j = _flow_journey(name)
    return j, _geometry(render(j, "svg"))


MAPS = ["candidate", "client", "loop", "straight", "generated-100", "generated-300"]


@pytest.mark.parametrize("name", MAPS)
def test_stages_are_columns_on_one_baseline_in_declared_order(name: str) -> None:
    j, m = _drawn(name)
    ids = [ident for ident, _, _ in m.stages]
    assert ids == [f"stage-{s.id}" for s in j.stages] + ["stage-outcomes"]
    tops = [box[1] for _, box, _ in m.stages]
    assert max(tops) - min(tops) <= 1, tops
    for (_, before, _), (_, after, _) in itertools.pairwise(m.stages):
        assert after[0] >= before[2], (before, after)  # no box starts left of the last one's end
    # every touchpoint inside its stage's box, below its title; outcomes in theirs
    box = {ident: (rect, band) for ident, rect, band in m.stages}
    for tp in j.touchpoints:
        (left, _, right, bottom), band = box[f"stage-{tp.stage}"]
        n = m.nodes[tp.id]
        assert left <= n[0] and n[2] <= right and band[3] <= n[1] and n[3] <= bottom, tp.id
    for o in j.outcomes:
        (left, _, right, bottom), band = box["stage-outcomes"]
        n = m.nodes[o.id]
        assert left <= n[0] and n[2] <= right and band[3] <= n[1] and n[3] <= bottom, o.id


@pytest.mark.parametrize("name", MAPS)
def test_touchpoints_flow_left_to_right_and_never_overlap(name: str) -> None:
    j, m = _drawn(name)
    rects = sorted(m.nodes.items())
    for k, (a, ra) in enumerate(rects):
        for b, rb in rects[k + 1 :]:
            assert not _overlap(ra, rb), (a, b)
    # a transition to a touchpoint declared later in the same stage goes right
    index = {tp.id: k for k, tp in enumerate(j.touchpoints)}
    for tp in j.touchpoints:
        for t in tp.next:
            nxt = j.nodes[t.to]
            if isinstance(nxt, Touchpoint) and nxt.stage == tp.stage and index[t.to] > index[tp.id]:
                assert m.nodes[t.to][0] > m.nodes[tp.id][2], (tp.id, t.to)


@pytest.mark.parametrize("name", MAPS)
def test_no_edge_or_edge_label_runs_over_a_stage_title(name: str) -> None:
    _, m = _drawn(name)
    assert m.edges
    for _, _, band in m.stages:
        for ident, (path, labels) in m.edges.items():
            for label in labels:
                assert not _overlap(label, band), (ident, label, band)
            for x, y in path:
                assert not (band[0] < x < band[2] and band[1] < y < band[3]), (ident, x, y)


@pytest.mark.parametrize("name", MAPS)
def test_loss_is_drawn_beside_the_touchpoint_where_it_happens(name: str) -> None:
    j, m = _drawn(name)
    a = analyze(j)
    lost = {o.id for o in j.outcomes if o.result == "lost"}
    expected = {f"dropoff-{tp}-tag" for tp in a.drop_off} | {
        f"lost-{tp.id}--{t.to}" for tp in j.touchpoints for t in tp.next if t.to in lost
    }
    assert set(m.tags) == expected
    for ident, tag in m.tags.items():
        source = (
            ident.removeprefix("lost-").split("--")[0]
            if ident.startswith("lost-")
            else ident[len("dropoff-") : -len("-tag")]
        )
        n = m.nodes[source]
        # under its touchpoint, starting within its width, at most a few lines below
        assert n[0] <= tag[0] <= n[2] and n[3] <= tag[1] <= n[3] + 80, (ident, n, tag)
    for ident, (path, _) in m.edges.items():
        if ident.split("--")[-1] in lost:  # the stub, not a line across the map
            xs, ys = [p[0] for p in path], [p[1] for p in path]
            assert max(xs) - min(xs) < 40 and max(ys) - min(ys) < 90, ident
