"""Printing: the PDF's page is the paper, tiles and cards, the same bytes each time."""

from __future__ import annotations

import io
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from pypdf import PdfReader

from journeymap import load, render
from journeymap.analysis import analyze
from journeymap.errors import JourneyError
from journeymap.printing import PAPERS, cards_pdf, paper

from .test_examples import EXAMPLES

Run = Callable[..., subprocess.CompletedProcess[str]]
MM = 72 / 25.4


def sizes(pdf: bytes) -> list[tuple[float, float]]:
    return [
        (round(float(p.mediabox.width) / MM), round(float(p.mediabox.height) / MM))
        for p in PdfReader(io.BytesIO(pdf)).pages
    ]


@pytest.mark.parametrize("name", list(PAPERS))
def test_each_paper_size_is_the_page(name: str) -> None:
    j = load(EXAMPLES / "client.yaml")
    pdf = render(j, "pdf", view="canvas", paper=name, orientation="landscape")
    w, h = PAPERS[name]
    assert sizes(pdf) == [(round(h), round(w))]  # one page, landscape
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Client journey" in text and "Date:" in text and "Page 1 of 1" in text


def test_portrait_flow_map_on_a4_and_the_same_bytes_twice() -> None:
    j = load(EXAMPLES / "candidate.yaml")
    pdf = render(j, "pdf", paper="A4", orientation="portrait")
    assert sizes(pdf) == [(210, 297)]
    assert pdf == render(j, "pdf", paper="A4", orientation="portrait")


def test_tiles_cover_the_map_at_full_size_on_pages_of_the_paper() -> None:
    j = load(EXAMPLES / "candidate.yaml")
    pdf = render(j, "pdf", view="canvas", paper="A4", tile=True)
    pages = sizes(pdf)
    assert len(pages) > 1 and set(pages) == {(297, 210)}
    first = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "row 1 of" in first and "column 1 of" in first


def test_cards_fit_several_to_a_page() -> None:
    j = load(EXAMPLES / "candidate.yaml")
    pdf = cards_pdf(j, analyze(j), paper("A4", "portrait"))
    pages = sizes(pdf)
    assert set(pages) == {(210, 297)}
    per_page = 2 * 3  # 186 x 273 mm of content: cards of 88 x 80 mm at the least
    assert len(pages) == -(-len(j.touchpoints) // per_page)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert j.touchpoints[0].title in text and "Importance to the customer" in text


def test_bad_paper_names_are_refused() -> None:
    with pytest.raises(JourneyError, match="unknown paper 'B5'"):
        paper("B5")


def test_the_printing_commands(cli: Run, tmp_path: Path) -> None:
    r = cli("worksheet", "--stages", "Awareness, Apply ,Onboarding", "-o", tmp_path)
    assert r.returncode == 0, r.stderr
    pdf = (tmp_path / "worksheet.pdf").read_bytes()
    assert sizes(pdf) == [(420, 297)]  # A3 landscape by default
    assert "3. Onboarding" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    r = cli("cards", EXAMPLES / "client.yaml", "--paper", "letter", "-o", tmp_path)
    assert r.returncode == 0, r.stderr
    assert set(sizes((tmp_path / "client-cards.pdf").read_bytes())) == {(216, 279)}
    r = cli("render", EXAMPLES / "client.yaml", "--view", "canvas", "-o", tmp_path)
    assert r.returncode == 0 and (tmp_path / "client-canvas.svg").exists()
    r = cli(
        "render", EXAMPLES / "client.yaml", "--view", "canvas", "--format", "png", "-o", tmp_path
    )
    assert (tmp_path / "client-canvas.png").read_bytes()[:4] == b"\x89PNG"
    # wrong usage
    assert cli("worksheet", EXAMPLES / "client.yaml", "--stages", "a").returncode == 2
    assert cli("render", EXAMPLES / "client.yaml", "--paper", "A4").returncode == 2
    assert (
        cli("render", EXAMPLES / "client.yaml", "--view", "canvas", "--format", "dot").returncode
        == 1
    )
