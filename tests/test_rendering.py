"""Rendering through Graphviz: structure of the SVG, never its bytes across versions."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from journeymap.errors import JourneyError
from journeymap.model import Journey
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
    # as built, then without per-touchpoint anchors, then without edge labels
    assert len(seen) == 3
    assert '"__stage0" -> "start"' in seen[0] and '"__stage0" -> "start"' not in seen[1]
    assert 'label="50%"' in seen[1] and 'label="50%"' not in seen[2]

    calls: list[str] = []

    def once(dot: str, fmt: str = "svg", **kw: Any) -> bytes:
        calls.append(dot)
        if len(calls) == 1:
            raise renderer.LayoutError("Graphviz could not lay out the map: Error: lost", [])
        return real(dot, fmt, **kw)

    monkeypatch.setattr(renderer, "layout", once)
    root = ET.fromstring(render(make_journey(LOOP), "svg"))
    assert len(calls) == 2 and "edge-start--apply" in _ids(ET.tostring(root))
