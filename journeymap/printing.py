"""Printing: maps, worksheets and touchpoint cards on real paper sizes.

The only module that imports WeasyPrint. Graphviz's own PDF (and cairosvg) keep
the drawing's box as the page; a facilitator needs an A3 page that is A3, so the
map goes into an HTML page whose ``@page`` is the paper, scaled to fit inside
the margins, with a title, an empty date line and page numbers. ``tile`` prints
the map at full size over several pages instead, with overlap and cut marks, to
be taped into a poster. The HTML here is built from escaped text only.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .errors import JourneyError

if TYPE_CHECKING:
    from .analysis import Analysis
    from .canvas import Sheet
    from .model import Journey, Stage
    from .themes import Theme

__all__ = [
    "ORIENTATIONS",
    "PAPERS",
    "Page",
    "Paper",
    "canvas_pdf",
    "cards_pdf",
    "flow_pdf",
    "pages_pdf",
    "paper",
    "svg_to_png",
    "tile_origins",
    "type_scale",
    "worksheet_pdf",
    "worksheet_sheets_for",
]

#: Paper sizes in millimetres, portrait.
PAPERS: dict[str, tuple[float, float]] = {
    "A4": (210, 297),
    "A3": (297, 420),
    "A2": (420, 594),
    "A1": (594, 841),
    "A0": (841, 1189),
    "letter": (215.9, 279.4),
    "tabloid": (279.4, 431.8),
}
ORIENTATIONS = ("landscape", "portrait")
MARGIN = 12.0  # mm
HEADER = 14.0  # mm for the title and the date line
OVERLAP = 10.0  # mm shared by neighbouring tiles
PX_MM = 25.4 / 96  # CSS pixels to millimetres


@dataclass(frozen=True)
class Paper:
    name: str
    width: float  # mm
    height: float

    @property
    def content(self) -> tuple[float, float]:
        return self.width - 2 * MARGIN, self.height - 2 * MARGIN


def paper(name: str, orientation: str = "landscape") -> Paper:
    found = {k.lower(): k for k in PAPERS}.get(name.lower())
    if found is None:
        raise JourneyError(f"unknown paper {name!r}; choose one of {', '.join(PAPERS)}")
    if orientation not in ORIENTATIONS:
        raise JourneyError(f"unknown orientation {orientation!r}; use landscape or portrait")
    w, h = PAPERS[found]
    if orientation == "landscape":
        w, h = h, w
    return Paper(found, w, h)


def _svg_size(svg: str) -> tuple[float, float]:
    """The drawing's size in CSS pixels, from its viewBox (Graphviz writes points)."""
    head = svg[svg.index("<svg") : svg.index(">", svg.index("<svg"))]
    box = re.search(r'viewBox="([-\d.]+)[ ,]+([-\d.]+)[ ,]+([\d.]+)[ ,]+([\d.]+)"', head)
    if box is None:  # pragma: no cover - every SVG we make has a viewBox
        raise JourneyError("the map has no viewBox")
    w, h = float(box.group(3)), float(box.group(4))
    if re.search(r'width="[\d.]+pt"', head):
        w, h = w * 96 / 72, h * 96 / 72
    return w, h


def _data_uri(svg: str) -> str:
    body = svg[svg.index("<svg") :]
    return "data:image/svg+xml;base64," + base64.b64encode(body.encode("utf-8")).decode("ascii")


def type_scale(p: Paper) -> float:
    """How much larger than on A3 the type is set on this paper (1 on A4 and A3):
    the same factor as the worksheet's drawing unit, so all printouts agree."""
    return PAPER_UNIT.get(p.name, MIN_TYPE_UNIT) / MIN_TYPE_UNIT


def _page_css(p: Paper) -> str:
    """The page: the paper, its margins and the page number in the bottom margin.

    The title is not repeated in the margin: each sheet's header says it once.
    """
    k = type_scale(p)
    return f"""
@page {{
  size: {p.width}mm {p.height}mm;
  margin: {MARGIN}mm;
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages);
                   font: {8 * k:.1f}pt "DejaVu Sans"; color: #52606d; }}
}}
body {{ margin: 0; font-family: "DejaVu Sans", "Noto Sans CJK SC", sans-serif; color: #1f2933; }}
header {{ height: {HEADER - 2}mm; display: flex; justify-content: space-between;
          align-items: baseline; border-bottom: 0.4mm solid #3b6ea8; margin-bottom: 2mm; }}
header h1 {{ font-size: 14pt; margin: 0; flex: 1 1 auto; min-width: 0; }}
header .date {{ font-size: 10pt; color: #52606d; flex: none; white-space: nowrap;
                margin-left: 4mm; }}
.sheet {{ page-break-after: always; position: relative; }}
.sheet:last-child {{ page-break-after: auto; }}
"""


#: Characters kept as they are inside a CSS string: everything printable but the
#: ones that end the string, start an escape, or end the ``<style>`` element that
#: holds it (an HTML parser closes ``<style>`` at ``</style`` whatever CSS thinks).
_CSS_UNSAFE = frozenset("\\\"'<>&")


def _css_string(text: str) -> str:
    """The inside of a double-quoted CSS string that cannot leave the string or the
    ``<style>`` block: quotes, backslashes, ``<``, ``>``, newlines and every other
    non-printable character become ``\\HHHHHH `` escapes."""
    return "".join(
        f"\\{ord(ch):06X} " if ch in _CSS_UNSAFE or not ch.isprintable() else ch for ch in text
    )


def esc(text: str) -> str:
    """Text for HTML content or a double-quoted attribute."""
    import html

    return html.escape(text, quote=True).replace("\n", " ")


#: The drawing unit of the canvas and worksheet per paper, in mm (12 units is their
#: body text: 10.5 pt on A4 and A3, 18 pt on A0), so the type grows with the sheet.
PAPER_UNIT = {"A2": 0.37, "A1": 0.44, "A0": 0.52}
WORKSHEET_UNIT = PAPER_UNIT
#: The smallest unit (:data:`journeymap.canvas.MIN_UNIT`): card tags at 8 pt.
MIN_TYPE_UNIT = 0.31
#: The flow map's body text as drawn (touchpoint details, edge labels), in points:
#: printed at no less than 8 pt times :func:`type_scale`.
FLOW_BODY = 9.0
#: How much larger than its smallest a map is set when it would leave the sheet
#: mostly empty.
GROW = 2.5

# Room the date line takes at the right of a sheet's header, in mm.
DATE_LINE = 62.0
PT_MM = 25.4 / 72


def _header(title: str, width: float) -> str:
    """The sheet's title and a date line, on one line across ``width`` mm.

    A long title is set smaller (down to 8 pt) rather than wrapped, so the date line
    stays in its place at the right; past that it wraps under itself.
    """
    from .canvas import text_width

    room = max(20.0, width - DATE_LINE)
    size = min(14.0, max(8.0, 14.0 * room / max(1e-9, text_width(title, 14, True) * PT_MM)))
    return (
        f'<header><h1 style="font-size: {size:.1f}pt">{esc(title)}</h1>'
        '<span class="date">Date: ______________________</span></header>'
    )


#: What a user without the print extra is told to install (see :func:`_require`).
PRINT_EXTRA = "pip install 'journeymap[print]'"


def _require(what: str, *modules: str) -> None:
    """Refuse, with the install line, when a module of the ``print`` extra is missing.

    PDF and PNG output are an optional extra (WeasyPrint, pypdfium2, Pillow); without
    it the first import deep inside a render, or in the printing child process, would
    surface as a traceback or a stack fragment instead of telling the user what to do.
    """
    from importlib.util import find_spec

    missing = [m for m in modules if find_spec(m) is None]
    if missing:
        raise JourneyError(
            f"{what} needs the print extra ({', '.join(missing)} is not installed): {PRINT_EXTRA}"
        )


def _write(html: str) -> bytes:
    """HTML to PDF bytes, in a child process; the same HTML always gives the same bytes.

    WeasyPrint uses the system's Pango, and the Graphviz inside the pygraphviz wheel
    brings its own: loaded into one process they register the same GLib types and
    crash or hang. So WeasyPrint always runs on its own (``python -m
    journeymap.printing``), which costs a fraction of a second.
    """
    import os
    import subprocess
    import sys

    _require("PDF output", "weasyprint")
    # Same bytes every run: fontTools stamps the fonts it subsets with the current
    # time unless SOURCE_DATE_EPOCH is set, and walks sets of glyphs whose order
    # follows Python's per-process hash seed.
    env = {**os.environ, "PYTHONHASHSEED": "0", "SOURCE_DATE_EPOCH": "0"}
    proc = subprocess.run(
        [sys.executable, "-m", "journeymap.printing"],
        input=html.encode("utf-8"),
        capture_output=True,
        check=False,
        env=env,
    )
    if proc.returncode != 0 or not proc.stdout.startswith(b"%PDF"):
        tail = proc.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise JourneyError("printing failed: " + (" / ".join(tail) or f"exit {proc.returncode}"))
    return proc.stdout


def _main() -> None:
    """The child process: HTML on stdin, PDF on stdout."""
    import logging
    import sys

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    html = sys.stdin.buffer.read().decode("utf-8")
    document = HTML(string=html, base_url=None, url_fetcher=data_only_fetcher()).render()
    # A <link rel="attachment"> would embed a file in the PDF; we never make one.
    document.metadata.attachments = []
    data = document.write_pdf()
    assert data is not None
    sys.stdout.buffer.write(data)


def data_only_fetcher() -> Any:
    """WeasyPrint's fetcher of images, stylesheets and attachments, refusing all but
    ``data:`` URIs.

    Everything a page needs is inside the HTML we hand over (maps and logos as data
    URIs), so anything else can only come from a slip in escaping some user's text:
    refusing it here means such a slip cannot read a local file or make a request.
    """
    from weasyprint.urls import URLFetcher

    class DataOnly(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url[:5].lower() == "data:":
                raise ValueError(f"journeymap prints only what it was given: {url[:80]!r} refused")
            return super().fetch(url, headers)

    return DataOnly(allowed_protocols=("data",), allow_redirects=False)


@dataclass(frozen=True)
class Page:
    """One printed sheet of a map: the drawing's part and perhaps its legend."""

    caption: str
    images: list[tuple[str, float, float]]  # SVGs sized in mm, one under the other
    legend: str | None = None
    legend_size: tuple[float, float] = (0.0, 0.0)
    legend_side: str = "below"
    gap: float = 4.0  # mm between the images, and between them and the legend


def _lines(text: str, width: float, size: float, bold: bool = False) -> int:
    from .canvas import wrap

    return max(1, len(wrap(text, width / PT_MM, size, bold))) if text else 0


def _sheet_header(
    title: str, caption: str, subtitle: list[str], width: float, k: float
) -> tuple[str, float]:
    """A sheet's title band: the title and a date line, the lines under the title,
    which part of the map the sheet holds; all set ``k`` times the A3 sizes.
    Returns the HTML and its height in mm (fixed, so the map below fits exactly)."""
    from .canvas import text_width

    room = max(20.0, width - DATE_LINE * k)
    size = min(14.0, max(8.0, 14.0 * room / max(1e-9, text_width(title, 14, True) * PT_MM * k)))
    size *= k
    line = 1.25 * PT_MM
    small = 9.0 * k
    height = size * line * _lines(title, room * k, size / k, True) + 2.0 * k
    subs = "".join(f'<p class="sub">{esc(x)}</p>' for x in subtitle)
    height += sum(_lines(x, width, small) for x in subtitle) * small * line
    cap = ""
    if caption:
        cap = f'<p class="caption">{esc(caption)}</p>'
        height += _lines(caption, width, small, True) * small * line
    height += 1.5 * k
    html = (
        f'<header class="band" style="height:{height:.2f}mm">'
        f'<div class="line"><h1 style="font-size:{size:.1f}pt">{esc(title)}</h1>'
        f'<span class="date" style="font-size:{10 * k:.1f}pt">Date: ______________________</span>'
        f'</div><div style="font-size:{small:.1f}pt">{subs}{cap}</div></header>'
    )
    return html, height


_SHEET_CSS = """
header.band { display: block; border-bottom: 0.4mm solid #3b6ea8; margin: 0 0 2mm;
              overflow: hidden; }
header.band .line { display: flex; justify-content: space-between; align-items: baseline; }
header.band h1 { margin: 0; flex: 1 1 auto; min-width: 0; line-height: 1.25; }
header.band .date { color: #52606d; flex: none; white-space: nowrap; margin-left: 4mm; }
header.band p { margin: 0; line-height: 1.25; color: #52606d; }
header.band p.caption { color: #1f2933; font-weight: bold; }
.part { display: flex; align-items: flex-start; gap: 4mm; }
.part.below { flex-direction: column; }
.part img { display: block; flex: none; }
.strips { display: flex; flex-direction: column; flex: none; }
"""


def pages_pdf(pages: list[Page], *, title: str, subtitle: list[str], paper_size: Paper) -> bytes:
    """Sheets of a map on paper, each with its title band, at the size given."""
    cw, _ = paper_size.content
    k = type_scale(paper_size)
    body = []
    for page in pages:
        head, _ = _sheet_header(title, page.caption, subtitle, cw, k)
        drawn = "".join(
            f'<img src="{_data_uri(svg)}" alt="{esc(title)}" style="width:{w:.2f}mm;'
            f' height:{h:.2f}mm">'
            for svg, w, h in page.images
        )
        images = [f'<div class="strips" style="gap:{page.gap:.2f}mm">{drawn}</div>']
        if page.legend:
            images.append(
                f'<img src="{_data_uri(page.legend)}" alt="legend"'
                f' style="width:{page.legend_size[0]:.2f}mm; height:{page.legend_size[1]:.2f}mm">'
            )
        body.append(
            f'<div class="sheet">{head}<div class="part {page.legend_side}"'
            f' style="gap:{page.gap:.2f}mm">{"".join(images)}</div></div>'
        )
    css = _page_css(paper_size) + _SHEET_CSS
    return _write(
        f"<!DOCTYPE html><html><head><style>{css}</style></head><body>{''.join(body)}</body></html>"
    )


def header_height(title: str, subtitle: list[str], paper_size: Paper, caption: str) -> float:
    """The height (mm) of a sheet's title band with a caption like ``caption``."""
    return _sheet_header(title, caption, subtitle, paper_size.content[0], type_scale(paper_size))[1]


def _band(title: str, subtitle: list[str], paper_size: Paper, sheets: Sequence[Any]) -> float:
    """The room (mm) the tallest title band of these sheets takes, with its margin:
    a map is planned again for it once the sheets' captions are known."""
    return max(header_height(title, subtitle, paper_size, s.caption) for s in sheets) + 2.0


#: A caption as long as a sheet's can be, for the room its title band takes.
LONG_CAPTION = (
    "Sheet 10 of 10: stage 10 (part 2 of 2) and stages 11-12 of 12, the outcomes "
    "(row 2 of 2, column 5 of 5), continued from sheet 9, continues on sheet 11, "
    "below it: sheet 15, legend on sheet 20"
)


def flow_pdf(
    draw: Callable[[float | None], str],
    *,
    title: str,
    subtitle: list[str],
    paper_size: Paper,
    tile: bool = False,
) -> bytes:
    """The flow map on paper with its body text at 8 pt or more (more on larger paper).

    ``draw(legend_width)`` draws the map's SVG with its legend no wider than that
    (points). What does not fit one sheet goes on several, cut between whole stages
    where it can (see :mod:`journeymap.sheets`), never shrunk below the type size;
    a map that would leave its sheet mostly empty is set larger.
    """
    from .sheets import EDGE, plan_flow_sheets

    k = type_scale(paper_size)
    scale = 8.0 * k / FLOW_BODY * PT_MM  # mm per point of the drawing
    cw, ch = paper_size.content
    svg = draw(cw / scale - 2 * EDGE)
    if tile:
        w, h = _svg_size(svg)  # CSS pixels of 3/4 point
        return _tiles_pdf(svg, (w * 0.75 * scale, h * 0.75 * scale), title, paper_size)
    area = (cw, ch - 1.0)

    # Planned with room for a long caption, then again with the room the captions
    # take: kept when the new plan's captions fit the room it was made with.
    head = header_height(title, subtitle, paper_size, LONG_CAPTION) + 2.0
    plan = plan_flow_sheets(svg, area, scale=scale, most=scale * GROW, header=head)
    for _ in range(2):
        tighter = _band(title, subtitle, paper_size, plan.sheets)
        if tighter >= head - 0.01:
            break
        again = plan_flow_sheets(svg, area, scale=scale, most=scale * GROW, header=tighter)
        if _band(title, subtitle, paper_size, again.sheets) > tighter + 0.01:
            break
        plan, head = again, tighter
    # A legend on a sheet of its own: drawn narrower, it may fit beside the map.
    for share in (0.5, 0.34):
        if not plan.sheets or plan.sheets[-1].strips:
            break
        narrow = draw(cw / scale * share - 2 * EDGE)
        again = plan_flow_sheets(narrow, area, scale=scale, most=scale * GROW, header=head)
        fewer = again.sheets[-1].strips and len(again.sheets) < len(plan.sheets)
        if fewer and _band(title, subtitle, paper_size, again.sheets) <= head + 0.01:
            plan = again
    pages = [
        Page(
            s.caption,
            [(strip.svg, strip.width_mm, strip.height_mm) for strip in s.strips],
            s.legend,
            s.legend_mm,
            s.legend_side,
            s.gap_mm,
        )
        for s in plan.sheets
    ]
    return pages_pdf(pages, title=title, subtitle=subtitle, paper_size=paper_size)


def canvas_pdf(
    journey: Journey,
    analysis: Analysis,
    theme: Theme,
    *,
    title: str,
    subtitle: list[str],
    paper_size: Paper,
    tile: bool = False,
) -> bytes:
    """The journey canvas on paper, its card tags at 8 pt or more (more on larger
    paper): stages that do not fit side by side go on several sheets by whole
    stages, a canvas that would leave its sheet mostly empty is set larger."""
    from .canvas import canvas_sheets, canvas_svg

    unit = PAPER_UNIT.get(paper_size.name, MIN_TYPE_UNIT)
    cw, ch = paper_size.content
    if tile:
        svg = canvas_svg(journey, analysis, theme)
        w, h = _svg_size(svg)  # drawing units
        return _tiles_pdf(svg, (w * unit, h * unit), title, paper_size)

    head = header_height(title, subtitle, paper_size, LONG_CAPTION) + 2.0
    sheets = canvas_sheets(
        journey, analysis, theme, area=(cw, ch - 1.0 - head), unit=unit, most=unit * GROW
    )
    tighter = _band(title, subtitle, paper_size, sheets)
    if tighter < head - 0.01:  # the room the captions take, if they still fit it
        again = canvas_sheets(
            journey, analysis, theme, area=(cw, ch - 1.0 - tighter), unit=unit, most=unit * GROW
        )
        if _band(title, subtitle, paper_size, again) <= tighter + 0.01:
            sheets = again
    pages = [Page(s.caption, [(s.svg, s.width_mm, s.height_mm)]) for s in sheets]
    return pages_pdf(pages, title=title, subtitle=subtitle, paper_size=paper_size)


def tile_origins(total: float, room: float) -> list[float]:
    """Where each page of a poster starts along one side (mm): as few pages as hold
    ``total`` with neighbours overlapping by :data:`OVERLAP` or more, every page
    full of drawing (the overlap grows rather than the last page holding a sliver)."""
    if total <= room:
        return [0.0]
    n = math.ceil((total - OVERLAP) / (room - OVERLAP))
    step = (total - room) / (n - 1)
    return [i * step for i in range(n)]


def _tiles_pdf(svg: str, size: tuple[float, float], title: str, paper_size: Paper) -> bytes:
    """The whole drawing at ``size`` (mm), as a poster of
    pages to tape together: every page full (neighbours overlap by 10 mm or more
    rather than leave a sliver for the last), the title only where the drawing
    has it, and in the margins each page's place ("row 1, column 2") and marks
    where the next page's edge goes."""
    cw, ch = paper_size.content
    k = type_scale(paper_size)
    w_mm, h_mm = size

    xs, ys = tile_origins(w_mm, cw), tile_origins(h_mm, ch)
    from .sheets import crops

    head = svg[svg.index("<svg") : svg.index(">", svg.index("<svg"))]
    box = re.search(r'viewBox="([-\d.]+)[ ,]+([-\d.]+)[ ,]+([\d.]+)[ ,]+([\d.]+)"', head)
    assert box is not None  # every drawing we print has one
    vx, vy, vw, _ = (float(v) for v in box.groups())
    f = w_mm / vw  # mm per unit of the drawing
    parts = crops(
        svg,
        [
            (
                vx + left / f,
                vy + top / f,
                vx + min(w_mm, left + cw) / f,
                vy + min(h_mm, top + ch) / f,
            )
            for top in ys
            for left in xs
        ],
        f,
    )
    mark = "position:absolute; background:#000;"
    pages = []
    for r, top in enumerate(ys):
        for c, left in enumerate(xs):
            marks = "".join(
                f'<div style="{mark} left:{x:.2f}mm; top:{y:.2f}mm; width:{w}mm; height:{h}mm;"></div>'
                for x, y, w, h in _cut_marks(cw, ch)
            )
            # Where the next page's left (top) edge lies on this one: tape it there.
            align = []
            if c + 1 < len(xs):
                x = xs[c + 1] - left
                align += [(x, -7.0, 0.3, 6.0), (x, ch + 1.0, 0.3, 6.0)]
            if r + 1 < len(ys):
                y = ys[r + 1] - top
                align += [(-7.0, y, 6.0, 0.3), (cw + 1.0, y, 6.0, 0.3)]
            marks += "".join(
                f'<div style="{mark} left:{x:.2f}mm; top:{y:.2f}mm; width:{w}mm; height:{h}mm;"></div>'
                for x, y, w, h in align
            )
            label = f"{title}: row {r + 1} of {len(ys)}, column {c + 1} of {len(xs)}"
            if align:
                label += " (lay the next page's edge on the long marks)"
            part = parts[r * len(xs) + c]
            pw, ph = min(cw, w_mm - left), min(ch, h_mm - top)
            pages.append(
                f'<div class="sheet" style="width:{cw}mm; height:{ch - 0.5:.2f}mm">'
                f'<p class="where">{esc(label)}</p>'
                f'<img src="{_data_uri(part)}" style="display:block; width:{pw:.2f}mm;'
                f' height:{ph:.2f}mm" alt="">{marks}</div>'
            )
    css = (
        _page_css(paper_size)
        + f"""
.sheet {{ position: relative; }}
.where {{ position: absolute; left: 0; top: {-MARGIN + 2:.1f}mm; margin: 0;
          font: {8 * k:.1f}pt "DejaVu Sans"; color: #52606d; white-space: nowrap; }}
"""
    )
    return _write(
        f"<!DOCTYPE html><html><head><style>{css}</style></head><body>{''.join(pages)}</body></html>"
    )


def _cut_marks(w: float, h: float) -> list[tuple[float, float, float, float]]:
    """Hairlines outside each corner of the printed area: where to cut before taping."""
    n, t = 6.0, 0.2  # length and thickness, mm
    out = []
    for x, y in ((0, 0), (w, 0), (0, h), (w, h)):
        out.append((x - n - 1 if x == 0 else x + 1, y - t / 2, n, t))  # horizontal
        out.append((x - t / 2, y - n - 1 if y == 0 else y + 1, t, n))  # vertical
    return out


def _emotion_scale(value: float | None) -> str:
    """How the customer feels, -2 to +2, as five marks: the value's filled, or all open
    to be marked in the room. The number is printed too: the marks alone round it."""
    mark = None if value is None else max(-2, min(2, round(value)))
    marks = " ".join("●" if k == mark else "○" for k in range(-2, 3))
    shown = "" if value is None else f" ({value:+g})".replace("+0)", "0)").replace("-", "−")
    return (
        f'<div class="scale"><span>Emotion{esc(shown)}</span>'
        f' <b class="faces">−2 {marks} +2</b></div>'
    )


def cards_pdf(journey: Journey, analysis: Analysis, paper_size: Paper) -> bytes:
    """Touchpoint cards, several to a page, with dashed cut lines between them."""
    cw, ch = paper_size.content
    cols = max(1, int(cw // 88))
    # At least 110 mm tall: A4 holds four A6-sized cards, room for every part of a card
    # (pain points and opportunities included) at 8.5 pt without cutting text off.
    rows = max(1, int((ch - HEADER - 6) // 110))
    card_w, card_h = cw / cols, (ch - HEADER - 6) / rows
    stages = {s.id: s.title for s in journey.stages}

    def scale(label: str, value: int | None) -> str:
        boxes = "".join("■" if value is not None and i <= value else "□" for i in range(1, 6))
        return f'<div class="scale"><span>{label}</span> <b>{boxes}</b></div>'

    from .dot import POOR_MARK

    poor = analysis.poor
    cards = []
    for tp in journey.touchpoints:
        rows_html = "".join(
            f"<tr><th>{k}</th><td>{esc(v or '')}</td></tr>"
            for k, v in (
                ("Who", tp.owner),
                ("What", tp.description),
                ("Where", tp.channel),
                ("When", tp.when),
                ("Why", tp.why),
            )
        )
        imp = tp.importance

        def listed(items: list[str]) -> str:
            # Blank lines to write on where the journey has nothing yet.
            return "".join(f"<li>{esc(p)}</li>" for p in items) or "<li>&nbsp;</li>" * 2

        cards.append(
            f'<div class="card"><div class="meta">{esc(stages[tp.stage])} · <code>{esc(tp.id)}</code>'
            f"{' · backstage' if tp.layer == 'backstage' else ''}"
            f"{' · <b class=poor>' + POOR_MARK + '</b>' if tp.id in poor else ''}</div>"
            f"<h2>{esc(tp.title)}</h2><table>{rows_html}</table>"
            # the canvas' words ("matters to customers 5/5 · firm 4/5")
            + scale("Matters to customers", imp.customer if imp else None)
            + scale("Matters to the firm", imp.company if imp else None)
            + scale("Quality today", tp.quality)
            + _emotion_scale(tp.emotion)
            + '<div class="notes">'
            + f'<div class="pains">Pain points<ul>{listed(tp.pain_points)}</ul></div>'
            + f'<div class="pains">Opportunities<ul>{listed(tp.opportunities)}</ul></div>'
            + "</div></div>"
        )
    per_page = cols * rows
    pages = [cards[i : i + per_page] for i in range(0, len(cards), per_page)] or [[]]
    css = (
        _page_css(paper_size)
        + f"""
.grid {{ display: grid; grid-template-columns: repeat({cols}, {card_w}mm);
         grid-auto-rows: {card_h}mm; }}
.card {{ border: 0.3mm dashed #7b8794; padding: 4mm; overflow: hidden; font-size: 8.5pt; }}
.card h2 {{ font-size: 12pt; margin: 1mm 0 2mm; }}
.card .meta {{ color: #52606d; font-size: 8pt; }}
.card .meta .poor {{ color: #b54708; }}
.card table {{ border-collapse: collapse; width: 100%; }}
.card th {{ text-align: left; width: 13mm; color: #52606d; vertical-align: top; font-weight: normal; }}
.card td {{ border-bottom: 0.2mm solid #d9e2ec; height: 5mm; }}
.scale {{ margin-top: 1.5mm; display: flex; justify-content: space-between; }}
.scale b {{ letter-spacing: 1mm; font-weight: normal; font-size: 11pt; }}
.notes {{ display: flex; gap: 3mm; margin-top: 1.5mm; }}
.notes > div {{ flex: 1 1 0; min-width: 0; }}
.scale .faces {{ font-size: 8.5pt; letter-spacing: 0; }}
.pains ul {{ margin: 0.5mm 0 0 4mm; padding: 0; }}
.pains li {{ border-bottom: 0.2mm solid #d9e2ec; min-height: 4mm; }}
"""
    )
    body = "".join(
        f'<div class="sheet">{_header(journey.title + " - touchpoint cards", cw)}'
        f'<div class="grid">{"".join(page)}</div></div>'
        for page in pages
    )
    return _write(
        f"<!DOCTYPE html><html><head><style>{css}</style></head><body>{body}</body></html>"
    )


#: Papers whose every note cell takes a 76 mm sticky note, splitting the stages
#: over sheets when they do not fit side by side.
NOTE_PAPERS = ("A1", "A0")


def _worksheet_area(p: Paper) -> tuple[float, float]:
    """The room a worksheet's sheet fills, in mm: the page inside its margins, less a
    millimetre spare (the page number sits in the margin)."""
    cw, ch = p.content
    return cw, ch - 1.0


def worksheet_sheets_for(
    journey: Journey | None,
    stages: list[Stage] | None = None,
    theme: Theme | None = None,
    *,
    prefill: bool = False,
    paper_size: Paper,
) -> list[Sheet]:
    """The worksheet's sheets as they are printed on ``paper_size``: type set for the
    paper, and on A1 and A0 every note cell a sticky note wide and tall."""
    from .canvas import MIN_UNIT, NOTE_MM, worksheet_sheets

    return worksheet_sheets(
        journey,
        stages,
        theme,
        prefill=prefill,
        area=_worksheet_area(paper_size),
        unit=WORKSHEET_UNIT.get(paper_size.name, MIN_UNIT),
        note_mm=NOTE_MM if paper_size.name in NOTE_PAPERS else None,
    )


def worksheet_pdf(
    journey: Journey | None,
    stages: list[Stage] | None = None,
    theme: Theme | None = None,
    *,
    prefill: bool = False,
    paper_size: Paper,
) -> tuple[bytes, list[str]]:
    """The worksheet on paper, one sheet a page; and what the user should be told
    (split over sheets, or set smaller than the paper's type scale).

    Each sheet is drawn for its page (title, date line and which stages it holds
    inside the drawing, sized with the paper), so the page adds only its number.
    """
    from .canvas import MIN_UNIT, NOTE_MM

    sheets = worksheet_sheets_for(journey, stages, theme, prefill=prefill, paper_size=paper_size)
    area = _worksheet_area(paper_size)
    notes = []
    if len(sheets) > 1:
        rows = {"upper": " (upper rows)", "lower": " (lower rows)", "": ""}
        held = "; ".join(f"sheet {s.number}: {s.stages}{rows[s.rows]}" for s in sheets)
        split = sheets[0].split
        why = (
            f"the {sheets[0].total} stages do not fit side by side on one {paper_size.name} "
            f"sheet with {NOTE_MM:g} mm cells"
            if split == "width"
            else f"the cards do not fit one {paper_size.name} sheet at 8 pt"
        )
        how = "whole stages, their rows on two sheets" if split == "rows" else "whole stages"
        notes.append(f"{why}: split over {len(sheets)} sheets by {how} ({held})")
    pages = []
    # One scale for all the sheets: taped together, their rows and columns must meet
    # (a sheet shrunk alone left its rows out of line with its neighbours').
    scale = min(1.0, *(min(area[0] / s.width_mm, area[1] / s.height_mm) for s in sheets))
    if scale < 0.999:
        which = "the sheets are" if len(sheets) > 1 else "the sheet is"
        notes.append(
            f"{which} too tall for {paper_size.name} at 8 pt: printed at {scale:.0%}"
            + (", all alike so that they tape together" if len(sheets) > 1 else "")
            + " (try a larger --paper)"
        )
    for s in sheets:
        w, h = s.width_mm * scale, s.height_mm * scale
        pages.append(
            f'<div class="sheet"><img src="{_data_uri(s.svg)}" alt="" '
            f'style="display:block; width:{w:.2f}mm; height:{h:.2f}mm"></div>'
        )
    size = 8 * WORKSHEET_UNIT.get(paper_size.name, MIN_UNIT) / MIN_UNIT
    css = f"""
@page {{
  size: {paper_size.width}mm {paper_size.height}mm;
  margin: {MARGIN}mm;
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages);
                   font: {size:.1f}pt "DejaVu Sans"; color: #52606d; }}
}}
body {{ margin: 0; }}
.sheet {{ page-break-after: always; }}
.sheet:last-child {{ page-break-after: auto; }}
"""
    html = (
        f"<!DOCTYPE html><html><head><style>{css}</style></head>"
        f"<body>{''.join(pages)}</body></html>"
    )
    return _write(html), notes


def svg_to_png(svg: str, dpi: int = 96) -> bytes:
    """An SVG we drew ourselves (the canvas) as PNG, through a PDF of its own size."""
    _require("PNG output of the canvas", "weasyprint", "pypdfium2", "PIL")
    import pypdfium2 as pdfium

    w_px, h_px = _svg_size(svg)
    css = f"@page {{ size: {w_px}px {h_px}px; margin: 0; }} body {{ margin: 0; }}"
    html = (
        f"<!DOCTYPE html><html><head><style>{css}</style></head><body>"
        f'<img src="{_data_uri(svg)}" style="width:{w_px}px; height:{h_px}px; display:block">'
        "</body></html>"
    )
    pdf = pdfium.PdfDocument(_write(html))
    image = pdf[0].render(scale=dpi / 72).to_pil()  # the page is w_px * 72/96 points wide
    import io

    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


if __name__ == "__main__":
    _main()
