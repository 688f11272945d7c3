"""The journey canvas: the classic journey map as SVG, and the blank workshop worksheet.

Stages are columns; rows show what the journey has data for: the touchpoints the
customer sees, the line of visibility and what happens backstage, channels,
owners, the emotion curve, pain points and opportunities; outcomes close it on
the right. Text is measured with the font's own advance widths (DejaVu Sans,
which the set-up installs) and wrapped to its column, so nothing is clipped
and nothing overlaps, whatever the script. The layout is plain data
(:class:`Box` per drawn text block), which the tests check for overlaps.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from .analysis import Analysis, analyze
from .dot import POOR_MARK
from .model import Journey, Outcome, Stage, Touchpoint
from .themes import Theme, get_theme, read_logo

__all__ = ["Box", "Canvas", "canvas_svg", "layout", "text_width", "worksheet_svg", "wrap"]

FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)
COLUMN = 230.0  # width of a stage column
LABEL = 130.0  # width of the row labels on the left
PAD = 10.0
CARD_PAD = 8.0
LINE = 1.3  # line height, in font sizes
FONT = 12.0
FALLBACKS = '"Noto Sans CJK SC", "Noto Sans Arabic", "Noto Color Emoji", sans-serif'
# The marker of a touchpoint the firm starts (initiative: firm), proactive success
# rather than reactive service; DejaVu Sans has the arrow.
FIRM_BADGE = "↗ firm reaches out"
BADGE_FONT = FONT * 0.85
BADGE_PAD = 3.0  # above and below the text
BADGE_SIDE = 7.0  # left and right of it: room for bold text drawn wider than measured


@lru_cache(maxsize=1)
def _metrics() -> tuple[dict[int, int], int] | None:
    """DejaVu Sans advance widths by code point, and its units per em."""
    from fontTools.ttLib import TTFont

    for path in FONT_FILES:
        if Path(path).exists():
            font = TTFont(path, lazy=True)
            cmap = font.getBestCmap()
            hmtx = font["hmtx"].metrics
            return {cp: hmtx[name][0] for cp, name in cmap.items()}, font["head"].unitsPerEm
    return None  # pragma: no cover - the set-up installs DejaVu


def text_width(text: str, size: float, bold: bool = False) -> float:
    """Width of ``text`` in pixels at ``size``.

    Characters DejaVu lacks are drawn by a fallback font (CJK, emoji): counted as a
    full em, which is what those fonts use, so the estimate never comes out short.
    """
    metrics = _metrics()
    em = 0.0
    for ch in text:
        wide = unicodedata.east_asian_width(ch) in ("W", "F")
        if metrics is not None and not wide and ord(ch) in metrics[0]:
            em += metrics[0][ord(ch)] / metrics[1]
        else:
            em += 1.0 if wide or metrics is not None else 0.62
    return em * size * (1.08 if bold else 1.0)


def wrap(text: str, width: float, size: float, bold: bool = False) -> list[str]:
    """Lines of ``text`` no wider than ``width``: at spaces, or anywhere in words
    too long for a line (and in scripts written without spaces)."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if text_width(candidate, size, bold) <= width:
                line = candidate
                continue
            if line:
                lines.append(line)
            line = ""
            for ch in word:  # break a word that does not fit on a line of its own
                if text_width(line + ch, size, bold) > width and line:
                    lines.append(line)
                    line = ch
                else:
                    line += ch
        lines.append(line)
    return lines


#: Characters XML 1.0 forbids (C0 controls but tab and newline, CR, surrogates,
#: U+FFFE and U+FFFF): one in a title (a terminal escape pasted from a shell) would
#: make the whole SVG unreadable, so a control is drawn as its Control Picture.
_NOT_XML = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _visible(m: re.Match[str]) -> str:
    ch = m.group()
    return chr(0x2400 + ord(ch)) if ch < " " else "\u2421" if ch == "\x7f" else "\ufffd"


def esc(text: str) -> str:
    """Text for SVG content or a quoted attribute: markup escaped, newlines as spaces,
    characters XML cannot hold made visible."""
    text = (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&#39;")
        .replace("\n", " ")
        .replace("\t", " ")
    )
    return _NOT_XML.sub(_visible, text)


def _css_escape(text: str, keep: str) -> str:
    """``text`` with every character outside ``keep`` (a regex class) as a CSS escape."""
    return re.sub(f"[^{keep}]", lambda m: f"\\{ord(m.group()):06X} ", text)


def _css_color(value: str) -> str:
    """A theme colour in CSS. Themes hold only hex colours, but escaped all the same,
    a value that is not one makes an invalid declaration and nothing more."""
    return _css_escape(value, "#A-Za-z0-9")


def _css_font(font: str) -> str:
    """The theme's font families as quoted CSS strings, the fallbacks after them."""
    names = [name.strip() for name in font.split(",") if name.strip()]
    quoted = ", ".join(f'"{_css_escape(name, "A-Za-z0-9 _.-")}"' for name in names)
    return f"{quoted}, {FALLBACKS}" if quoted else FALLBACKS


LOGO_W, LOGO_H = 160.0, 48.0


def _logo(path: str | None) -> str | None:
    """The theme's logo as a data URI: embedded, so the SVG needs no other file.

    Read through the same checks as a theme file's logo (a real image under the size
    limit): a theme can be built in Python, or its logo replaced after loading.
    """
    if not path:
        return None
    import base64

    from .errors import JourneyError

    try:
        kind, data = read_logo(path)
    except ValueError as exc:
        raise JourneyError(f"theme logo: {exc}") from None
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


@dataclass(frozen=True)
class Box:
    """A block drawn on the canvas (a card, a text cell): what the overlap tests see."""

    x: float
    y: float
    w: float
    h: float
    kind: str
    text: str = ""

    def overlaps(self, other: Box) -> bool:
        return (
            self.x < other.x + other.w
            and other.x < self.x + self.w
            and self.y < other.y + other.h
            and other.y < self.y + self.h
        )


@dataclass
class Canvas:
    width: float = 0.0
    height: float = 0.0
    boxes: list[Box] = field(default_factory=list)
    svg: list[str] = field(default_factory=list)
    # Touchpoints the finding important-but-poor names: marked on their cards.
    poor: frozenset[str] = frozenset()


def _text(x: float, y: float, lines: list[str], size: float, cls: str, bold: bool = False) -> str:
    spans = "".join(
        f'<tspan x="{x:.1f}" y="{y + (i + 0.8) * size * LINE:.1f}">{esc(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    weight = ' font-weight="bold"' if bold else ""
    # classes are prefixed: the SVG may sit inline in a page (the report) with its own
    classes = " ".join(f"cv-{c}" for c in cls.split())
    return f'<text class="{classes}" font-size="{size:g}"{weight}>{spans}</text>'


def _card(
    c: Canvas, x: float, y: float, w: float, node: Touchpoint | Outcome, a: Analysis, t: Theme
) -> float:
    """Draw one touchpoint or outcome card; return its height."""
    inner = w - 2 * CARD_PAD
    tags: list[str] = []
    if isinstance(node, Outcome):
        tags.append("✔ SUCCESS" if node.result == "success" else "✕ LOST")
        fill = t.success_fill if node.result == "success" else t.lost_fill
        border = t.success_border if node.result == "success" else t.lost_border
        dash = "" if node.result == "success" else ' stroke-dasharray="6 3"'
        sub = ""
    else:
        if node.id in a.dead_ends:
            tags.append("DEAD END")
        elif node.id in a.traps:
            tags.append("TRAP")
        if node.layer == "backstage":
            tags.append("BACKSTAGE")
        if node.id in c.poor:
            tags.append(POOR_MARK)
        lost = a.drop_off.get(node.id)
        dead = node.id in a.dead_ends or node.id in a.traps
        fill = (
            t.dead_fill
            if dead
            else t.backstage_fill
            if node.layer == "backstage"
            else t.touchpoint_fill
        )
        border = (
            t.dead_border
            if dead
            else t.backstage_border
            if node.layer == "backstage"
            else t.touchpoint_border
        )
        dash = ' stroke-dasharray="5 3"' if node.layer == "backstage" else ""
        parts = [p for p in (node.channel, node.owner) if p]
        sub = " · ".join(parts)
        if lost:
            sub = (sub + "\n" if sub else "") + f"↘ {lost:.0%} leave here"
    title = wrap(node.title, inner, FONT, bold=True)
    small = FONT * 0.85
    tag_lines = wrap("  ".join(tags), inner, small * 0.9) if tags else []
    sub_lines = wrap(sub, inner, small) if sub else []
    firm = isinstance(node, Touchpoint) and node.initiative == "firm"
    badge_lines = wrap(FIRM_BADGE, inner - 2 * BADGE_SIDE, BADGE_FONT, bold=True) if firm else []
    badge_h = len(badge_lines) * BADGE_FONT * LINE + 2 * BADGE_PAD if firm else 0.0
    h = (
        CARD_PAD * 2
        + (badge_h + 4 if firm else 0.0)
        + (len(tag_lines) * small * 0.9 + len(title) * FONT + len(sub_lines) * small) * LINE
    )
    c.svg.append(
        f'<g class="cv-card" id="canvas-tp-{esc(node.id)}"><title>{esc(node.title)}</title>'
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6" '
        f'fill="{esc(fill)}" stroke="{esc(border)}" stroke-width="1.4"{dash}/>'
    )
    yy = y + CARD_PAD
    if firm:
        # A pill in the card's top corner: the theme's background inside the accent's
        # outline, so the text keeps the theme's own contrast in every theme.
        bw = max(text_width(line, BADGE_FONT, bold=True) for line in badge_lines)
        c.svg.append(
            f'<rect class="cv-badge" x="{x + CARD_PAD:.1f}" y="{yy:.1f}" '
            f'width="{bw + 2 * BADGE_SIDE:.1f}" height="{badge_h:.1f}" rx="{badge_h / 2:.1f}" '
            f'fill="{esc(t.background)}" stroke="{esc(t.accent)}" stroke-width="1.4"/>'
        )
        c.svg.append(
            _text(x + CARD_PAD + BADGE_SIDE, yy + BADGE_PAD, badge_lines, BADGE_FONT, "firm", True)
        )
        yy += badge_h + 4
    if tag_lines:
        bad = any(tag in ("DEAD END", "TRAP", "✕ LOST") for tag in tags)
        cls = "tag tag-bad" if bad else "tag"
        c.svg.append(_text(x + CARD_PAD, yy, tag_lines, small * 0.9, cls, bold=True))
        yy += len(tag_lines) * small * 0.9 * LINE
    c.svg.append(_text(x + CARD_PAD, yy, title, FONT, "title", bold=True))
    yy += len(title) * FONT * LINE
    if sub_lines:
        c.svg.append(_text(x + CARD_PAD, yy, sub_lines, small, "sub"))
    c.svg.append("</g>")
    c.boxes.append(Box(x, y, w, h, "card", node.title))
    return h


def _list_cell(c: Canvas, x: float, y: float, items: list[str], kind: str, bullet: bool) -> float:
    """Text items in a cell, one under the other; return the height used."""
    size = FONT * 0.9
    yy = y
    for item in items:
        lines = wrap(("• " if bullet else "") + item, COLUMN - 2 * PAD, size)
        c.svg.append(_text(x + PAD, yy, lines, size, kind))
        h = len(lines) * size * LINE
        c.boxes.append(Box(x + PAD, yy, COLUMN - 2 * PAD, h, kind, item))
        yy += h + 4
    return yy - y


ROWS = (
    ("front", "Touchpoints\n(what the customer sees)"),
    ("back", "Backstage\n(what the firm does)"),
    ("channels", "Channels"),
    ("owners", "Owners"),
    ("emotion", "Emotion"),
    ("pain", "Pain points"),
    ("opportunities", "Opportunities"),
)


def layout(
    journey: Journey,
    analysis: Analysis | None = None,
    theme: Theme | None = None,
    *,
    blank: bool = False,
    stages: list[Stage] | None = None,
    prefill: bool = False,
) -> Canvas:
    """Place everything; ``blank`` draws a worksheet with room for sticky notes
    (with the journey's touchpoints already in it when ``prefill``)."""
    t = theme or get_theme(None)
    a = analysis or analyze(journey)
    cols = stages or list(journey.stages)
    c = Canvas(poor=frozenset(f.subject for f in a.findings if f.rule == "important-but-poor"))
    x0 = LABEL + PAD
    width = x0 + COLUMN * len(cols) + (0 if blank or not journey.outcomes else COLUMN) + PAD
    y = PAD
    logo = _logo(t.logo)
    room = LOGO_W + PAD if logo else 0.0
    if logo:
        c.svg.append(
            f'<image x="{width - PAD - LOGO_W:.1f}" y="{y:.1f}" width="{LOGO_W}" '
            f'height="{LOGO_H}" preserveAspectRatio="xMaxYMin meet" href="{esc(logo)}"/>'
        )
        c.boxes.append(Box(width - PAD - LOGO_W, y, LOGO_W, LOGO_H, "logo"))
    title = wrap(t.title or journey.title, width - 2 * PAD - room, 24, bold=True)
    c.svg.append(_text(PAD, y, title, 24, "heading", bold=True))
    c.boxes.append(
        Box(PAD, y, width - 2 * PAD - room, len(title) * 24 * LINE, "heading", journey.title)
    )
    y += len(title) * 24 * LINE
    if journey.persona and not blank:
        who = journey.persona.name or "Persona"
        text = f"Persona: {who}" + (
            f" — {journey.persona.description}" if journey.persona.description else ""
        )
        lines = wrap(text, width - 2 * PAD, 13)
        c.svg.append(_text(PAD, y, lines, 13, "persona"))
        y += len(lines) * 13 * LINE
    y += PAD
    # stage headers
    head_lines = max(
        len(wrap(f"{k + 1}. {s.title}", COLUMN - 2 * PAD, 14, True)) for k, s in enumerate(cols)
    )
    head_h = head_lines * 14 * LINE + 2 * PAD
    for k, s in enumerate(cols):
        x = x0 + k * COLUMN
        c.svg.append(
            f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{COLUMN - 4:.1f}" height="{head_h:.1f}" '
            f'rx="6" fill="{esc(t.accent)}"/>'
        )
        lines = wrap(f"{k + 1}. {s.title}", COLUMN - 2 * PAD, 14, True)
        c.svg.append(_text(x + PAD, y + PAD, lines, 14, "stage", bold=True))
    if not blank and journey.outcomes:
        x = x0 + len(cols) * COLUMN
        c.svg.append(
            f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{COLUMN - 4:.1f}" height="{head_h:.1f}" '
            f'rx="6" fill="{esc(t.muted)}"/>'
        )
        c.svg.append(_text(x + PAD, y + PAD, ["Outcomes"], 14, "stage", bold=True))
    y += head_h + PAD
    tps = {s.id: [] if blank and not prefill else journey.touchpoints_in(s.id) for s in cols}
    every = [tp for s in cols for tp in tps[s.id]]
    present = {
        "front": True,
        "back": blank or any(tp.layer == "backstage" for tp in every),
        "channels": blank or any(tp.channel for tp in every),
        "owners": blank or any(tp.owner for tp in every),
        "emotion": blank or any(tp.emotion is not None for tp in every),
        "pain": blank or any(tp.pain_points for tp in every),
        "opportunities": blank or any(tp.opportunities for tp in every),
    }
    for row, label in ROWS:
        if not present[row]:
            continue
        top = y
        start = len(c.svg)
        height = 0.0
        if blank:
            height = 150.0 if row in ("front", "back", "pain", "opportunities") else 70.0
        if row in ("front", "back") and (every or not blank):
            # Cards above or below the line of visibility by their layer, on the
            # canvas and on a prefilled worksheet alike.
            for k, s in enumerate(cols):
                yy = top + PAD
                for tp in tps[s.id]:
                    if (tp.layer == "backstage") == (row == "back"):
                        yy += _card(c, x0 + k * COLUMN + PAD, yy, COLUMN - 2 * PAD, tp, a, t) + 8
                height = max(height, yy - top)
        if blank or row == "back":
            pass  # a worksheet's other rows are room for sticky notes
        elif row == "front":
            if journey.outcomes:
                yy = top + PAD
                x = x0 + len(cols) * COLUMN + PAD
                for o in journey.outcomes:
                    yy += _card(c, x, yy, COLUMN - 2 * PAD, o, a, t) + 8
                height = max(height, yy - top)
        elif row in ("channels", "owners"):
            for k, s in enumerate(cols):
                values = [tp.channel if row == "channels" else tp.owner for tp in tps[s.id]]
                items = list(dict.fromkeys(v for v in values if v))
                h = _list_cell(c, x0 + k * COLUMN, top + PAD, items, row, bullet=False)
                height = max(height, h + PAD)
        elif row == "emotion":
            height = _emotion(c, journey, cols, tps, x0, top, t)
        else:
            for k, s in enumerate(cols):
                items = [
                    p
                    for tp in tps[s.id]
                    for p in (tp.pain_points if row == "pain" else tp.opportunities)
                ]
                h = _list_cell(c, x0 + k * COLUMN, top + PAD, items, row, bullet=True)
                height = max(height, h + PAD)
        height = max(height, 50.0) + PAD
        # the row's band and label go under its content
        band = [
            f'<rect x="{PAD}" y="{top:.1f}" width="{width - 2 * PAD:.1f}" height="{height:.1f}" '
            f'fill="{esc(t.stage_fill if row not in ("back",) else t.backstage_fill)}" '
            f'stroke="{esc(t.stage_border)}"/>',
            _text(PAD * 1.5, top + PAD, wrap(label, LABEL - PAD, 12, True), 12, "row", True),
        ]
        for k in range(1, len(cols) + (0 if blank or not journey.outcomes else 1)):
            xk = x0 + k * COLUMN
            band.append(
                f'<line x1="{xk:.1f}" y1="{top:.1f}" x2="{xk:.1f}" y2="{top + height:.1f}" '
                f'stroke="{esc(t.stage_border)}"/>'
            )
        c.svg[start:start] = band
        if row == "front" and present["back"]:
            height += 0  # the line of visibility is drawn below, between the rows
        y = top + height
        if row == "front" and present["back"]:
            c.svg.append(
                f'<line x1="{PAD}" y1="{y:.1f}" x2="{width - PAD:.1f}" y2="{y:.1f}" '
                f'stroke="{esc(t.text)}" stroke-width="2" stroke-dasharray="10 5"/>'
            )
            c.svg.append(_text(PAD * 1.5, y + 2, ["line of visibility"], 10, "visibility"))
        y += 4
    c.width, c.height = width, y + PAD
    return c


def _emotion(
    c: Canvas,
    journey: Journey,
    cols: list[Stage],
    tps: dict[str, list[Touchpoint]],
    x0: float,
    top: float,
    t: Theme,
) -> float:
    """The emotion curve through each touchpoint's emotion, in stage order."""
    height = 120.0
    mid = top + height / 2 + 4

    def yv(e: float) -> float:
        return mid - e * 24

    for level, name in ((2, "+2"), (0, "0"), (-2, "-2")):
        c.svg.append(
            f'<line x1="{x0:.1f}" y1="{yv(level):.1f}" x2="{x0 + COLUMN * len(cols):.1f}" '
            f'y2="{yv(level):.1f}" stroke="{esc(t.stage_border)}" stroke-dasharray="2 3"/>'
        )
        c.svg.append(_text(x0 - 26, yv(level) - 8, [name], 10, "tick"))
    points: list[tuple[float, float, float]] = []
    for k, s in enumerate(cols):
        marked = [tp for tp in tps[s.id] if tp.emotion is not None]
        for i, tp in enumerate(marked):
            x = x0 + k * COLUMN + COLUMN * (i + 1) / (len(marked) + 1)
            points.append((x, yv(tp.emotion or 0), tp.emotion or 0))
    if len(points) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
        c.svg.append(
            f'<polyline points="{path}" fill="none" stroke="{esc(t.accent)}" stroke-width="2"/>'
        )
    for x, y, e in points:
        # the sign is in the shape too, not only the colour
        mark = "▲" if e > 0 else "▼" if e < 0 else "●"
        color = t.emotion_positive if e > 0 else t.emotion_negative if e < 0 else t.muted
        c.svg.append(
            f'<text x="{x:.1f}" y="{y + 5:.1f}" font-size="14" text-anchor="middle" '
            f'style="fill:{esc(_css_color(color))}">{mark}</text>'
        )
    return height


def _svg(c: Canvas, journey: Journey, t: Theme, kind: str, desc: str) -> str:
    ident = esc(f"canvas-{journey.journey}")
    # CSS-escaped first, then XML-escaped: it sits in an SVG <style> element
    muted = _css_color(t.muted)
    style = (
        f".jm-canvas text {{ font-family: {_css_font(t.font)}; fill: {_css_color(t.text)}; }}"
        " .jm-canvas .cv-stage { fill: #ffffff; }"
        f" .jm-canvas .cv-sub, .jm-canvas .cv-tick, .jm-canvas .cv-visibility {{ fill: {muted}; }}"
        f" .jm-canvas .cv-tag {{ fill: {muted}; }}"
        f" .jm-canvas .cv-tag-bad {{ fill: {_css_color(t.dead_border)}; }}"
    )
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{c.width:.0f}" height="{c.height:.0f}" '
        f'viewBox="0 0 {c.width:.0f} {c.height:.0f}" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" id="{ident}" class="jm-canvas">'
        f'<title id="{ident}-title">{esc(t.title or journey.title)} ({kind})</title>'
        f'<desc id="{ident}-desc">{esc(desc)}</desc>'
        f"<style>{esc(style)}</style>"
        f'<rect width="100%" height="100%" fill="{esc(t.background)}"/>'
    )
    return head + "\n" + "\n".join(c.svg) + "\n</svg>\n"


def canvas_svg(
    journey: Journey, analysis: Analysis | None = None, theme: Theme | None = None
) -> str:
    """The journey canvas as an SVG document."""
    t = theme or get_theme(None)
    a = analysis or analyze(journey)
    c = layout(journey, a, t)
    desc = (
        f"Journey canvas of {len(journey.touchpoints)} touchpoints in {len(journey.stages)} "
        f"stages: touchpoints, backstage, channels, owners, emotion, pain points and "
        f"opportunities per stage."
    )
    return _svg(c, journey, t, "canvas", desc)


def worksheet_svg(
    journey: Journey | None,
    stages: list[Stage] | None = None,
    theme: Theme | None = None,
    *,
    prefill: bool = False,
) -> str:
    """A blank canvas for a workshop: stage columns, row labels, room for sticky notes.

    From a journey (its stages, and its touchpoints when ``prefill``), or from a bare
    list of stages for a workshop that starts from nothing.
    """
    t = theme or get_theme(None)
    if journey is None:
        if not stages:
            raise ValueError("a worksheet needs a journey or stages")
        journey = Journey.model_validate(
            {
                "journey": "worksheet",
                "title": "Journey worksheet",
                "stages": [s.model_dump() for s in stages],
                "touchpoints": [{"id": "placeholder", "stage": stages[0].id}],
            }
        )
        prefill = False
    cols = stages or list(journey.stages)
    c = layout(journey, analyze(journey), t, blank=True, stages=cols, prefill=prefill)
    desc = f"Journey worksheet with {len(cols)} stages and room for sticky notes."
    return _svg(c, journey, t, "worksheet", desc)
