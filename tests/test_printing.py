"""Printing: the PDF's page is the paper, tiles and cards, the same bytes each time."""

from __future__ import annotations

import base64
import io
import itertools
import json
import math
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from journeymap import load, render
from journeymap.analysis import analyze
from journeymap.errors import JourneyError
from journeymap.printing import PAPERS, _css_string, _write, cards_pdf, paper

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
    pages = sizes(pdf)
    assert set(pages) == {(round(h), round(w))}  # every page the paper, landscape
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Client journey" in text and "Date:" in text and f"Page 1 of {len(pages)}" in text


def test_portrait_flow_map_on_a4_and_the_same_bytes_twice() -> None:
    j = load(EXAMPLES / "candidate.yaml")
    pdf = render(j, "pdf", paper="A4", orientation="portrait")
    assert set(sizes(pdf)) == {(210, 297)}
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
    per_page = 2 * 2  # 186 x 273 mm of content: cards of 88 x 110 mm at the least (A6-ish)
    assert len(pages) == -(-len(j.touchpoints) // per_page)
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert j.touchpoints[0].title in text and "Matters to customers" in text


def test_a_card_carries_emotion_pain_points_and_opportunities() -> None:
    j = load(EXAMPLES / "candidate.yaml")
    referral = next(tp for tp in j.touchpoints if tp.id == "referral")
    assert referral.emotion == 2 and referral.opportunities
    pdf = cards_pdf(j, analyze(j), paper("A4", "portrait"))
    page = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    flat = " ".join(page.split())
    assert "Opportunities" in flat and "Pain points" in flat
    assert "Emotion (+2)" in flat
    assert " ".join(referral.opportunities[0].split()[:3]) in flat
    # the map's mark on the cards of important-but-poor touchpoints, and only there
    poor = [f for f in analyze(j).findings if f.rule == "important-but-poor"]
    every = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert poor and " ".join(every.split()).count("IMPORTANT BUT POOR") == len(poor)


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
        == 2
    )


@pytest.fixture
def http_server() -> Iterator[tuple[str, list[str]]]:
    """A web server on 127.0.0.1 in a thread: its address, and every path asked of it."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def test_a_title_cannot_inject_html_into_the_pdf(
    cli: Run, tmp_path: Path, http_server: tuple[str, list[str]]
) -> None:
    url, seen = http_server
    title = f"x</style><link rel=attachment href=file:///etc/passwd><img src={url}/leak><style>"
    src = tmp_path / "pdfinj.yaml"
    src.write_text(
        f"journey: pdfinj\ntitle: {json.dumps(title)}\nstages: [s]\n"
        "touchpoints: [{id: a, stage: s, next: [won]}]\n"
        "outcomes: [{id: won, result: success}]\n"
    )
    for command, name in (("render", "pdfinj.pdf"), ("cards", "pdfinj-cards.pdf")):
        args = [command, src, "-o", tmp_path / "out"]
        done = cli(*args, *(["--format", "pdf"] if command == "render" else []))
        assert done.returncode == 0, done.stderr
        reader = PdfReader(tmp_path / "out" / name)
        assert reader.attachments == {}, command
        text = "".join(reader.pages[0].extract_text().split())
        assert "".join(title.split()) in text, command  # shown as text, whole
    assert seen == []


def test_css_strings_cannot_end_the_string_or_the_style_block() -> None:
    css = _css_string('a"b\\c</style><script>\n\x1b[31m\u2028')
    assert not set(css) & set('"<>\n\x1b\u2028')
    assert css.startswith("a\\000022 b\\00005C c\\00003C /style\\00003E ")
    assert "\\00000A \\00001B [31m\\002028 " in css


def test_weasyprint_fetches_nothing_but_data_uris(
    tmp_path: Path, http_server: tuple[str, list[str]]
) -> None:
    """Should escaping ever slip, the HTML WeasyPrint gets can still read no file and
    reach no server: the fetcher refuses everything but data: URIs."""
    url, seen = http_server
    dot = base64.b64encode(b"\x89PNG\r\n\x1a\n").decode()
    html = (
        "<html><head><link rel=attachment href=file:///etc/passwd>"
        f"<link rel=stylesheet href={url}/style.css></head><body>"
        f"<img src=file:///etc/passwd><img src={url}/leak.png>"
        "<a rel=attachment href=file:///etc/hostname>x</a>"
        f'<img src="data:image/png;base64,{dot}">'
        f"<div style='background: url({url}/bg.png)'>text</div></body></html>"
    )
    reader = PdfReader(io.BytesIO(_write(html)))
    assert reader.attachments == {}
    assert "passwd" not in str(reader.trailer["/Root"])
    assert seen == []
    # and the fetcher itself, in a process of its own as WeasyPrint always runs
    probe = (
        "import sys\nfrom journeymap.printing import data_only_fetcher\n"
        "f = data_only_fetcher()\n"
        f"for url in ('file:///etc/passwd', '{url}/direct', 'FILE:///etc/passwd'):\n"
        "    try:\n        f(url)\n    except ValueError:\n        print('refused', url)\n"
        "    else:\n        sys.exit('fetched ' + url)\n"
        "print(f('data:text/plain,ok').read())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("refused") == 3 and "b'ok'" in done.stdout
    assert seen == []


def test_a_long_title_is_set_smaller_and_leaves_the_date_line_in_place() -> None:
    import re as _re

    from journeymap.printing import _header

    def size(html: str) -> float:
        found = _re.search(r"font-size: ([\d.]+)pt", html)
        assert found is not None
        return float(found.group(1))

    assert size(_header("Candidate journey - touchpoint cards", 186)) == 14.0
    long = "The complete end-to-end candidate journey of a light-industrial staffing branch " * 2
    assert 8.0 <= size(_header(long, 186)) < 14.0
    j = load(EXAMPLES / "candidate.yaml").model_copy(update={"title": long})
    pdf = cards_pdf(j, analyze(j), paper("A4", "portrait"))
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    height = float(page.mediabox.height)
    where: list[tuple[float, float]] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.startswith("Date:"):  # the text's origin in page space: tm, then cm
            x, y = tm[4], tm[5]
            where.append((x * cm[0] + y * cm[2] + cm[4], x * cm[1] + y * cm[3] + cm[5]))

    page.extract_text(visitor_text=visit)
    [(x, y)] = where
    mm = 72 / 25.4
    assert height - y < 30 * mm  # in the header band at the top of the sheet
    assert x > 100 * mm  # at the right, beside the title rather than under it


# --- The worksheet in a real room (#10) --------------------------------------------------


def note_cells(page: Any) -> list[tuple[float, float]]:
    """The rectangles a page draws at least 80 mm wide and tall, in mm, but the page's
    own: the worksheet's note cells (from the PDF's drawing, scaled as printed)."""
    found = []

    def visit(op: bytes, args: list[Any], cm: list[float], tm: list[float]) -> None:
        if op == b"re":
            w, h = abs(float(args[2]) * cm[0]) / MM, abs(float(args[3]) * cm[3]) / MM
            found.append((w, h))

    page.extract_text(visitor_operand_before=visit)
    big = float(page.mediabox.width) / MM * 0.5
    return [(w, h) for w, h in found if 80 <= w < big and h >= 80]


def test_the_worksheet_on_a0_has_a_sticky_note_in_every_cell(cli: Run, tmp_path: Path) -> None:
    r = cli("worksheet", EXAMPLES / "candidate.yaml", "--paper", "A0", "-o", tmp_path)
    assert r.returncode == 0, r.stderr
    pdf = PdfReader(tmp_path / "candidate-worksheet.pdf")
    [page] = pdf.pages
    # eight stages times touchpoints, backstage, pain points and opportunities
    assert len(note_cells(page)) == 8 * 4
    text = " ".join(page.extract_text().split())
    assert "Persona: Maria" in text and "What do they want?" not in text
    assert "Sheet" not in text and "note:" not in r.stdout


def test_many_stages_on_a1_print_on_sheets_by_whole_stages(cli: Run, tmp_path: Path) -> None:
    stages = ",".join(f"Stage {chr(65 + k)}" for k in range(12))
    r = cli("worksheet", "--stages", stages, "--paper", "A1", "-o", tmp_path)
    assert r.returncode == 0, r.stderr
    assert (
        "the 12 stages do not fit side by side on one A1 sheet with 80 mm cells: split over "
        "2 sheets by whole stages (sheet 1: stages 1-6; sheet 2: stages 7-12)"
    ) in r.stdout
    pdf = PdfReader(tmp_path / "worksheet.pdf")
    assert sizes((tmp_path / "worksheet.pdf").read_bytes()) == [(841, 594)] * 2
    texts = [" ".join(p.extract_text().split()) for p in pdf.pages]
    assert "stages 1-6 of 12, continues on sheet 2" in texts[0]
    assert "stages 7-12 of 12, continued from sheet 1" in texts[1]
    assert "6. Stage F" in texts[0] and "7. Stage G" in texts[1] and "7. Stage G" not in texts[0]
    for k, page in enumerate(pdf.pages):
        assert len(note_cells(page)) == 6 * 4
        text = " ".join(page.extract_text().split())
        # taped side by side, the sheets have one persona box: on the first
        persona = (
            "Persona: who is travelling this journey?" in text and "What do they want?" in text
        )
        assert persona == (k == 0)


# --- Print that stays legible (#10) ---------------------------------------------------------


def text_sizes(page: Any) -> list[float]:
    """The printed size (pt) of every character a page shows: the font size times
    the text and drawing matrices' scale, one entry per character."""
    import math

    out: list[float] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        n = len(text.strip())
        if n:
            scale = math.hypot(tm[0], tm[1]) * math.hypot(cm[0], cm[1])
            out.extend([size * scale] * n)

    page.extract_text(visitor_text=visit)
    return sorted(out)


def tenth(page: Any) -> float:
    found = text_sizes(page)
    return found[len(found) // 10]


@pytest.fixture(scope="module")
def printed() -> dict[tuple[str, str, str], list[Any]]:
    """Both examples, both views, on A3 and A0 (landscape): their PDF pages."""
    out = {}
    for name in ("candidate", "client"):
        j = load(EXAMPLES / f"{name}.yaml")
        for view in ("flow", "canvas"):
            for p in ("A3", "A0"):
                pdf = render(j, "pdf", view=view, paper=p)
                out[(name, view, p)] = PdfReader(io.BytesIO(pdf)).pages
    return out


@pytest.mark.parametrize("name", ["candidate", "client"])
@pytest.mark.parametrize("view", ["flow", "canvas"])
def test_every_sheet_keeps_its_text_at_8_pt_on_a3_and_larger_on_a0(
    printed: dict[tuple[str, str, str], list[Any]], name: str, view: str
) -> None:
    a3, a0 = printed[(name, view, "A3")], printed[(name, view, "A0")]
    assert all(tenth(page) >= 8.0 for page in a3), [tenth(p) for p in a3]
    assert min(tenth(page) for page in a0) > max(tenth(page) for page in a3)
    assert len(a0) <= len(a3)


@pytest.mark.parametrize("name", ["candidate", "client"])
@pytest.mark.parametrize("view", ["flow", "canvas"])
def test_a_map_over_several_sheets_says_what_each_holds_and_where_the_rest_is(
    printed: dict[tuple[str, str, str], list[Any]], name: str, view: str
) -> None:
    j = load(EXAMPLES / f"{name}.yaml")
    pages = printed[(name, view, "A3")]
    texts = [" ".join(p.extract_text().split()) for p in pages]
    n = len(pages)
    assert n > 1
    for k, text in enumerate(texts, 1):
        assert f"Sheet {k} of {n}" in text
        assert text.count(j.title) == 1  # the title once per sheet
        assert f"Page {k} of {n}" in text
        if k > 1 and "the legend of the map" not in text:
            # beside the sheet before it, or (a canvas split between rows) under one
            assert re.search(r"continued from sheet \d+|above it: sheet \d+", text)
        if k < n and "legend on sheet" not in text:
            assert re.search(r"continues on sheet \d+|below it: sheet \d+", text)
    # every stage's title on some sheet, in order, each on one sheet only
    where = []
    for i, st in enumerate(j.stages):
        title = f"{i + 1}. {st.title}"
        # (a stage split over two sheets is "continued" on the second)
        holding = [
            k for k, text in enumerate(texts) if title in text.replace(f"{title} (continued)", "")
        ]
        # once on the flow map; on a canvas split between rows, over each of its rows
        assert len(holding) == 1 if view == "flow" else len(holding) >= 1, (title, holding)
        where.append(holding[0])
    assert where == sorted(where)


def test_tiles_print_the_title_once_and_label_each_page_in_its_margin() -> None:
    j = load(EXAMPLES / "client.yaml")
    pages = PdfReader(io.BytesIO(render(j, "pdf", paper="A4", tile=True))).pages
    texts = [" ".join(p.extract_text().split()) for p in pages]
    assert len(pages) > 2
    # the map's own title band, once: on the page that holds the map's top left
    assert sum("Reach a success outcome" in t for t in texts) == 1
    assert "row 1 of" in texts[0] and "column 1 of" in texts[0]
    assert all(re.search(r"row \d+ of \d+, column \d+ of \d+", t) for t in texts)


@pytest.mark.parametrize("total", [100.0, 396.0, 397.0, 420.0, 800.0, 1500.0, 2957.5])
def test_poster_pages_are_all_full_and_overlap_by_10_mm_or_more(total: float) -> None:
    from journeymap.printing import OVERLAP, tile_origins

    room = 396.0
    starts = tile_origins(total, room)
    if total <= room:
        assert starts == [0.0]
        return
    assert starts[0] == 0.0 and starts[-1] + room == pytest.approx(total)  # the last is full
    for a, b in itertools.pairwise(starts):
        assert room - (b - a) >= OVERLAP - 1e-9
    # no more pages than needed with the smallest overlap
    assert len(starts) == math.ceil((total - OVERLAP) / (room - OVERLAP))


def test_a_canvas_too_tall_for_the_paper_is_refused_and_nothing_is_written(
    cli: Run, tmp_path: Path
) -> None:
    many = "\n".join(
        f"  - id: t{k}\n    stage: s\n    title: Touchpoint number {k} with a long title"
        f"\n    next: [{{to: t{k + 1}}}]"
        for k in range(59)
    )
    src = tmp_path / "tall.yaml"
    src.write_text(
        "journey: tall\ntitle: Tall\nstages:\n  - id: s\n    title: One stage\n"
        f"touchpoints:\n{many}\n  - id: t59\n    stage: s\n    title: Last\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    r = cli("render", src, "--view", "canvas", "--format", "pdf", "--paper", "A4", "-o", out)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    assert "does not fit" in r.stderr and "--paper" in r.stderr
    assert not out.exists() or not any(out.iterdir())


def test_cards_and_worksheets_print_no_text_under_8_pt() -> None:
    from journeymap.printing import worksheet_pdf

    j = load(EXAMPLES / "candidate.yaml")
    cards = PdfReader(io.BytesIO(cards_pdf(j, analyze(j), paper("A4", "portrait")))).pages
    sheet, _ = worksheet_pdf(j, prefill=True, paper_size=paper("A3"))
    for page in [*cards, *PdfReader(io.BytesIO(sheet)).pages]:
        assert text_sizes(page)[0] >= 7.95, text_sizes(page)[:5]


@pytest.mark.parametrize("name", ["candidate", "client"])
def test_a_canvas_poster_has_its_rows_straight_across_the_sheets(name: str) -> None:
    """Taped side by side, the sheets of a poster row start each row at the same
    height, with the same emotion scale: a row reads across the whole journey."""
    from journeymap.canvas import canvas_sheets

    j = load(EXAMPLES / f"{name}.yaml")
    sheets = canvas_sheets(j, analyze(j), area=(396.0, 230.0), unit=0.31)
    assert len(sheets) > 1

    def where(svg: str) -> dict[str, float]:
        found = {}
        for label in ("Touchpoints", "Backstage", "Waits", "Channels", "Owners", "Emotion"):
            m = re.search(rf'class="cv-row"[^>]*><tspan x="[\d.]+" y="([\d.]+)">{label}', svg)
            if m:
                found[label] = float(m.group(1))
        ticks = re.findall(r'class="cv-tick"[^>]*>([^<]+)<', svg)
        found.update({f"tick {t}": 1.0 for t in ticks})
        return found

    rows: dict[tuple[str, ...], list[dict[str, float]]] = {}
    for s in sheets:
        w = where(s.svg)
        rows.setdefault(tuple(sorted(w)), []).append(w)
    # sheets holding the same rows hold them at the same heights, in as many groups
    # as the poster has rows
    for same in rows.values():
        assert all(w == same[0] for w in same), same
    columns = [s for s in sheets if "Touchpoints" in where(s.svg)]
    # every column of sheets has the poster's rows of sheets: one set of rows each
    assert len(sheets) == len(columns) * len(rows)


@pytest.mark.parametrize("name", ["candidate", "client"])
def test_a_prefilled_worksheet_on_a4_puts_each_stage_on_two_sheets_at_8_pt(
    name: str, cli: Run, tmp_path: Path
) -> None:
    """Even one stage a sheet is too tall for A4 at 8 pt (it was printed at 64-92%):
    its rows go on two sheets, the rows to write in under the cards' rows, the
    lower sheet without a title of its own (taped below, the two read as one)."""
    r = cli("worksheet", EXAMPLES / f"{name}.yaml", "--prefill", "--paper", "A4", "-o", tmp_path)
    assert r.returncode == 0, r.stderr
    said = r.stdout + r.stderr
    assert "printed at" not in said  # nothing shrunk
    assert "their rows on two sheets" in said
    pages = PdfReader(tmp_path / f"{name}-worksheet.pdf").pages
    texts = [" ".join(p.extract_text().split()) for p in pages]
    stages = len(load(EXAMPLES / f"{name}.yaml").stages)
    assert len(pages) == 2 * stages
    title = load(EXAMPLES / f"{name}.yaml").title
    for k, (upper, lower) in enumerate(zip(texts[::2], texts[1::2], strict=True), 1):
        stage, k = k, 2 * k - 1
        assert f"Sheet {k} of {2 * stages}: stage {stage} of {stages}, touchpoints" in upper
        assert f"{title} Sheet {k} of" in upper and "Date:" in upper
        assert "Touchpoints" in upper and "Channels" not in upper
        assert f"below sheet {k}" in lower and title not in lower and "Date:" not in lower
        assert "Channels" in lower and "Opportunities" in lower and "Touchpoints" not in lower
    assert "Persona" in texts[0] and not any("Persona" in t for t in texts[1:])
    assert "Legend" in texts[-1] or "Legend" in texts[-2]
    assert sum("Legend" in t for t in texts) == 1
    assert all(tenth(p) >= 8.0 for p in pages), [tenth(p) for p in pages]


def label_size(page: Any, label: str) -> float:
    """The printed size (pt) of a row label, as the page shows it."""
    import math

    found: list[float] = []

    def visit(text: str, cm: list[float], tm: list[float], font: object, size: float) -> None:
        if text.strip() == label:
            found.append(size * math.hypot(tm[0], tm[1]) * math.hypot(cm[0], cm[1]))

    page.extract_text(visitor_text=visit)
    return found[0]


@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
def test_a_worksheet_too_tall_even_split_by_rows_is_shrunk_alike_on_every_sheet(
    orientation: str,
) -> None:
    """On letter the last sheet (the legend's) is still too tall: every sheet is set
    at its scale, or the rows of the sheets taped together would not meet (an upper
    sheet at 100% over a lower one at 98%). The caption wraps on portrait paper."""
    from journeymap.printing import worksheet_pdf

    j = load(EXAMPLES / "candidate.yaml")
    data, notes = worksheet_pdf(j, prefill=True, paper_size=paper("letter", orientation))
    pages = PdfReader(io.BytesIO(data)).pages
    sizes = {
        round(label_size(p, "Channels" if "Channels" in p.extract_text() else "Touchpoints"), 3)
        for p in pages
    }
    assert len(sizes) == 1, sizes  # one scale for all
    shrunk = [n for n in notes if "printed at" in n]
    assert len(shrunk) <= 1 and all("all alike" in n for n in shrunk)
    for p in pages:
        text = " ".join(p.extract_text().split())
        assert re.search(r"Sheet \d+ of \d+: .*(to tape below|below sheet \d+)", text), text[:200]
    # and each line of the caption within its sheet (on portrait it ran off the edge)
    from journeymap.canvas import PAD, text_width
    from journeymap.printing import worksheet_sheets_for

    for sheet in worksheet_sheets_for(j, prefill=True, paper_size=paper("letter", orientation)):
        width = float(re.search(r'viewBox="0 0 ([\d.]+)', sheet.svg).group(1))
        caption = re.search(r'<text class="cv-sheet"[^>]*>(.*?)</text>', sheet.svg).group(1)
        for line in re.findall(r"<tspan[^>]*>([^<]*)</tspan>", caption):
            assert text_width(line, 13, bold=True) <= width - 2 * PAD + 0.5, (line, width)


def test_no_worksheet_row_is_shorter_than_its_label() -> None:
    """On the last of several sheets (the legend's), the rows keep room for their
    labels: the backstage row's words were cut there."""
    from journeymap.canvas import LABEL, LINE, PAD, ROWS, wrap
    from journeymap.printing import worksheet_sheets_for

    j = load(EXAMPLES / "candidate.yaml")
    sheets = worksheet_sheets_for(j, prefill=True, paper_size=paper("A3"))
    assert len(sheets) > 1
    labels = dict(ROWS)
    for sheet in sheets:
        for row, height in re.findall(
            r'class="cv-cell[^"]*" data-row="(\w+)"[^>]*height="([\d.]+)"', sheet.svg
        ):
            need = len(wrap(labels[row], LABEL - PAD, 12, True)) * 12 * LINE + 2 * PAD
            need += 14.0 if row == "back" else 0.0
            assert float(height) >= need - 0.1, (sheet.number, row, height, need)


def test_outcomes_too_tall_beside_the_last_stage_go_on_a_sheet_of_their_own() -> None:
    """On A4 the candidate's seven outcomes under each other do not fit beside its last
    stage at 8 pt: they get their own sheets (side by side), rather than a refusal."""
    j = load(EXAMPLES / "candidate.yaml")
    pages = PdfReader(io.BytesIO(render(j, "pdf", view="canvas", paper="A4"))).pages
    texts = [" ".join(p.extract_text().split()) for p in pages]
    assert any(re.search(r"Sheet \d+ of \d+: the outcomes", t) for t in texts)
    assert all(tenth(p) >= 8.0 for p in pages)
    holding = [t for t in texts if "LOST Quit during the assignment" in t]
    assert len(holding) == 1 and "Sheet" in holding[0] and "stage 8" not in holding[0]
