"""Rendering through Graphviz: structure of the SVG, never its bytes across versions."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

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
