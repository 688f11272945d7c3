"""The journey canvas: the classic journey map as SVG, and the blank workshop worksheet.

Stages are columns; rows show what the journey has data for: the touchpoints the
customer sees, the line of visibility and what happens backstage, channels,
owners, the emotion curve, pain points and opportunities; outcomes close it on
the right. It speaks the flow map's visual language (the same colour, border,
shape and word for a trap, a dead end, a lost outcome, unreachable, backstage and
important-but-poor) and ends with a legend of what it draws. Text is measured with the font's own advance widths (DejaVu Sans,
which the set-up installs) and wrapped to its column, so nothing is clipped
and nothing overlaps, whatever the script. The layout is plain data
(:class:`Box` per drawn text block), which the tests check for overlaps.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache, partial
from pathlib import Path

from .analysis import Analysis, analyze
from .dot import POOR_MARK, percent
from .errors import JourneyError
from .model import Importance, Journey, Outcome, Stage, Touchpoint
from .themes import Theme, get_theme, read_logo

__all__ = [
    "Box",
    "Canvas",
    "Sheet",
    "canvas_svg",
    "layout",
    "text_width",
    "worksheet_sheets",
    "worksheet_svg",
    "wrap",
]

FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)
BOLD_FONT_FILES = tuple(
    path.replace("DejaVuSans.ttf", "DejaVuSans-Bold.ttf") for path in FONT_FILES
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


@lru_cache(maxsize=2)
def _metrics(bold: bool = False) -> tuple[dict[int, int], int] | None:
    """DejaVu Sans (Bold) advance widths by code point, and its units per em."""
    from fontTools.ttLib import TTFont

    for path in BOLD_FONT_FILES if bold else FONT_FILES:
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
    return sum(_em(ch, bold) for ch in text) * size


@lru_cache(maxsize=8192)
def _em(ch: str, bold: bool = False) -> float:
    """The advance width of one character, in ems (cached: text is measured often).

    Bold from DejaVu Sans Bold's own widths: the regular ones times 1.08 ran 4.5%
    short on a long bold line, which then ran off its sheet."""
    metrics = _metrics(bold)
    wide = unicodedata.east_asian_width(ch) in ("W", "F")
    if metrics is not None and not wide and ord(ch) in metrics[0]:
        return metrics[0][ord(ch)] / metrics[1]
    return 1.0 if wide or metrics is not None else 0.62


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
    # Per outcome, the share of all customers who end there (success and lost alike).
    ends: dict[str, float] = field(default_factory=dict)
    # What the canvas draws, by legend kind: the legend explains these and no more.
    used: set[str] = field(default_factory=set)
    # Each card's box by node id: the emotion row places its points under them.
    cards: dict[str, Box] = field(default_factory=dict)
    # The width of a stage column: wider on a printed sheet of few stages, where
    # cards stand side by side so the sheet stays short.
    column: float = COLUMN
    # Each row drawn: its top and height (a printed sheet splits between rows).
    rows: dict[str, tuple[float, float]] = field(default_factory=dict)
    head: float = 0.0  # the stage headers' height


@dataclass(frozen=True)
class Grid:
    """What every sheet of a printed canvas shares, so that taped side by side their
    rows line up: the stage headers' height, each row's height, the emotion scale."""

    head: float = 0.0
    rows: dict[str, float] = field(default_factory=dict)
    emotion: tuple[int, int] | None = None


def _text(x: float, y: float, lines: list[str], size: float, cls: str, bold: bool = False) -> str:
    spans = "".join(
        f'<tspan x="{x:.1f}" y="{y + (i + 0.8) * size * LINE:.1f}">{esc(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    weight = ' font-weight="bold"' if bold else ""
    # classes are prefixed: the SVG may sit inline in a page (the report) with its own
    classes = " ".join(f"cv-{c}" for c in cls.split())
    return f'<text class="{classes}" font-size="{size:g}"{weight}>{spans}</text>'


# Stroke widths: a card's normal border, and the bold one of warnings and outcomes.
BORDER = 1.4
BOLD = 2.6
# The border styles every view shares: dashed means backstage, dotted unreachable.
DASHED = ' stroke-dasharray="5 3"'
DOTTED = ' stroke-dasharray="0.5 3.5" stroke-linecap="round"'
# A lost outcome is an octagon: its corners are cut by this much, and its text
# keeps clear of them.
CUT = 11.0
OCTAGON_PAD = CARD_PAD + 6
#: The words each state carries on every view (the flow map's, exactly).
DEAD_END = "✖ DEAD END"
TRAP = "⚠ TRAP"
UNREACHABLE = "UNREACHABLE from any entry"
LOST = "✖ LOST"
SUCCESS = "✔ SUCCESS"


def _octagon(x: float, y: float, w: float, h: float, cut: float = CUT) -> str:
    """The points of an octagon in the box (x, y, w, h): a rectangle with cut corners."""
    pts = (
        (x + cut, y),
        (x + w - cut, y),
        (x + w, y + cut),
        (x + w, y + h - cut),
        (x + w - cut, y + h),
        (x + cut, y + h),
        (x, y + h - cut),
        (x, y + cut),
    )
    return " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)


@dataclass(frozen=True)
class _Look:
    """How one card is drawn: colours, border, shape, and the legend kinds it uses."""

    fill: str
    border: str
    width: float = BORDER
    dash: str = ""
    octagon: bool = False


def _look(node: Touchpoint | Outcome, a: Analysis, t: Theme, used: set[str]) -> _Look:
    """The card's look, as the flow map draws the same node; ``used`` collects what
    the legend must explain."""
    if isinstance(node, Outcome):
        if node.result == "success":
            used.add("success")
            return _Look(t.success_fill, t.success_border, BOLD)
        used.add("lost")
        return _Look(t.lost_fill, t.lost_border, BOLD, octagon=True)
    back = node.layer == "backstage"
    used.add("backstage" if back else "touchpoint")
    look = _Look(t.backstage_fill, t.backstage_border, dash=DASHED) if back else None
    look = look or _Look(t.touchpoint_fill, t.touchpoint_border)
    # A dead end is a trap too (no way to success from it): the harsher word wins.
    if node.id in a.dead_ends:
        used.add("dead-end")
        look = _Look(t.dead_fill, t.dead_border, BOLD)
    elif node.id in a.traps:
        used.add("trap")
        look = _Look(t.trap_fill, t.trap_border, BOLD)
    if node.id in a.unreachable:
        used.add("unreachable")
        look = replace(look, dash=DOTTED, width=max(look.width, 2.0))
    return look


def _losses(tp: Touchpoint, a: Analysis, journey: Journey) -> list[str]:
    """What is lost at a touchpoint, in the flow map's words: its drop-off
    ("↘ 35% leave") and each step to a lost outcome ("✖ 30% → Gave up")."""
    out = []
    if tp.id in a.drop_off:
        out.append(f"↘ {percent(a.drop_off[tp.id])} leave")
    numbered = any(n.probability is not None or n.volume is not None for n in tp.next)
    shares, _ = tp.shares()
    for step, p in zip(tp.next, shares, strict=True):
        node = journey.nodes.get(step.to)
        if isinstance(node, Outcome) and node.result == "lost":
            share = f"{percent(p)} " if numbered else ""
            out.append(f"✖ {share}→ {node.title}")
    return out


def _card(
    c: Canvas,
    x: float,
    y: float,
    w: float,
    node: Touchpoint | Outcome,
    a: Analysis,
    t: Theme,
    journey: Journey,
) -> float:
    """Draw one touchpoint or outcome card; return its height.

    Every state has a word and a border or shape as well as a colour, the same
    as on the flow map: so the canvas reads in grayscale and to colour-blind eyes.
    """
    look = _look(node, a, t, c.used)
    pad = OCTAGON_PAD if look.octagon else CARD_PAD
    top_pad = CARD_PAD + 3 if look.octagon else CARD_PAD
    inner = w - 2 * pad
    small = FONT * 0.85
    tag = small * 0.9
    # (lines, size, class, bold) from top to bottom
    blocks: list[tuple[list[str], float, str, bool]] = []

    def add(text: str, size: float, cls: str, bold: bool = False) -> None:
        if text:
            blocks.append((wrap(text, inner, size, bold), size, cls, bold))

    firm = isinstance(node, Touchpoint) and node.initiative == "firm"
    if isinstance(node, Outcome):
        add(SUCCESS if node.result == "success" else LOST, tag, node.result, True)
        add(node.title, FONT, "title", True)
        share = c.ends.get(node.id, 0.0 if node.result == "lost" else None)
        if share is not None:
            add(f"{percent(share)} of customers end here", small, "sub")
    else:
        if node.id in a.dead_ends:
            add(DEAD_END, tag, "dead", True)
        elif node.id in a.traps:
            add(TRAP, tag, "trap", True)
        if node.id in a.unreachable:
            add(UNREACHABLE, tag, "unreachable", True)
        if node.layer == "backstage":
            add("BACKSTAGE", tag, "tag", True)
        if node.id in c.poor:
            c.used.add("poor")
            add(POOR_MARK, tag, "poor", True)
        add(node.title, FONT, "title", True)
        add(" · ".join(p for p in (node.channel, node.owner) if p), small, "sub")
        facts = []
        if node.volume is not None:
            facts.append(f"{node.volume:,.0f} reach")
        if node.quality is not None:
            facts.append(f"quality {node.quality}/5")
        if node.emotion is not None:
            facts.append(f"{_feeling(node.emotion)} {_value(node.emotion)}")
        add("  ".join(facts), small, "sub")
        for part in _importance(node, inner, small):
            add(part, small, "importance sub")
        for loss in _losses(node, a, journey):
            c.used.add("leave" if loss.startswith("↘") else "lost-step")
            add(loss, small, "loss", True)
    badge_lines = wrap(FIRM_BADGE, inner - 2 * BADGE_SIDE, BADGE_FONT, bold=True) if firm else []
    badge_h = len(badge_lines) * BADGE_FONT * LINE + 2 * BADGE_PAD if firm else 0.0
    if firm:
        c.used.add("firm")
    h = 2 * top_pad + (badge_h + 4 if firm else 0.0)
    h += sum(len(lines) * size * LINE for lines, size, _, _ in blocks)
    stroke = f'stroke="{esc(look.border)}" stroke-width="{look.width:g}"{look.dash}'
    shape = (
        f'<polygon points="{_octagon(x, y, w, h)}" fill="{esc(look.fill)}" {stroke}/>'
        if look.octagon
        else f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6" '
        f'fill="{esc(look.fill)}" {stroke}/>'
    )
    c.svg.append(
        f'<g class="cv-card" id="canvas-tp-{esc(node.id)}"><title>{esc(node.title)}</title>{shape}'
    )
    yy = y + top_pad
    if firm:
        # A pill in the card's top corner: the theme's background inside the accent's
        # outline, so the text keeps the theme's own contrast in every theme.
        bw = max(text_width(line, BADGE_FONT, bold=True) for line in badge_lines)
        c.svg.append(
            f'<rect class="cv-badge" x="{x + pad:.1f}" y="{yy:.1f}" '
            f'width="{bw + 2 * BADGE_SIDE:.1f}" height="{badge_h:.1f}" rx="{badge_h / 2:.1f}" '
            f'fill="{esc(t.background)}" stroke="{esc(t.accent)}" stroke-width="1.4"/>'
        )
        c.svg.append(
            _text(x + pad + BADGE_SIDE, yy + BADGE_PAD, badge_lines, BADGE_FONT, "firm", True)
        )
        yy += badge_h + 4
    for lines, size, cls, bold in blocks:
        c.svg.append(_text(x + pad, yy, lines, size, cls, bold))
        yy += len(lines) * size * LINE
    c.svg.append("</g>")
    c.boxes.append(Box(x, y, w, h, "card", node.title))
    c.cards[node.id] = Box(x, y, w, h, "card", node.title)
    return h


def _visibility(c: Canvas, y: float, width: float, words_y: float, t: Theme) -> None:
    """The line of visibility across the sheet at ``y``, its words at ``words_y``."""
    c.svg.append(
        f'<line x1="{PAD}" y1="{y:.1f}" x2="{width - PAD:.1f}" y2="{y:.1f}" '
        f'stroke="{esc(t.text)}" stroke-width="2" stroke-dasharray="10 5"/>'
    )
    c.svg.append(_text(PAD * 1.5, words_y, ["line of visibility"], 10, "visibility"))
    c.used.add("visibility")


def _cards_across(
    c: Canvas,
    x: float,
    top: float,
    nodes: Sequence[Touchpoint | Outcome],
    a: Analysis,
    t: Theme,
    journey: Journey,
) -> float:
    """A column's cards from ``top``, in a column wide enough for more than one (a
    printed sheet of few stages) side by side in reading order, each row of cards
    under the one before; return the height from ``top`` (at least its padding)."""
    across = max(1, int((c.column - 2 * PAD + 8) // (CARD_W + 8)))
    card_w = (c.column - 2 * PAD + 8) / across - 8
    yy = top + PAD
    for i in range(0, len(nodes), across):
        tallest = 0.0
        for j, node in enumerate(nodes[i : i + across]):
            left = x + PAD + j * (card_w + 8)
            tallest = max(tallest, _card(c, left, yy, card_w, node, a, t, journey))
        yy += tallest + 8
    return yy - top


def _list_cell(c: Canvas, x: float, y: float, items: list[str], kind: str, bullet: bool) -> float:
    """Text items in a cell, one under the other; return the height used."""
    size = FONT * 0.9
    yy = y
    for item in items:
        lines = wrap(("• " if bullet else "") + item, c.column - 2 * PAD, size)
        c.svg.append(_text(x + PAD, yy, lines, size, kind))
        h = len(lines) * size * LINE
        c.boxes.append(Box(x + PAD, yy, c.column - 2 * PAD, h, kind, item))
        yy += h + 4
    return yy - y


def _importance(tp: Touchpoint, width: float, size: float) -> list[str]:
    """How much a touchpoint matters to the customer and to the firm, in words (the
    scores alone would not say what they measure): on one line if it fits ``width``,
    else a line for each, never "5/5 to" at a line's end and "firm" on the next."""
    imp = tp.importance or Importance()
    parts = []
    if imp.customer is not None:
        parts.append(f"matters to customers {imp.customer}/5")
    if imp.company is not None:
        parts.append(f"matters to the firm {imp.company}/5")
    if len(parts) == 2:
        line = f"{parts[0]} · firm {imp.company}/5"
        if text_width(line, size) <= width:
            return [line]
    return parts


def _grouped_cell(
    c: Canvas, x: float, y: float, groups: list[tuple[Touchpoint, list[str]]], kind: str
) -> float:
    """A stage's pain points or opportunities, under the title of the touchpoint each
    belongs to, in the order of its cards; return the height used.

    One list for the whole stage would leave the reader to guess which card a pain
    belongs to; the group (``data-touchpoint``) says it to a script too.
    """
    size = FONT * 0.85
    yy = y
    for n, (tp, items) in enumerate(groups):
        yy += 4 if n else 0.0
        c.svg.append(f'<g class="cv-group" data-row="{kind}" data-touchpoint="{esc(tp.id)}">')
        lines = wrap(tp.title, c.column - 2 * PAD, size, bold=True)
        c.svg.append(_text(x + PAD, yy, lines, size, "about", bold=True))
        h = len(lines) * size * LINE
        c.boxes.append(Box(x + PAD, yy, c.column - 2 * PAD, h, "about", tp.title))
        yy += h + 2
        yy += _list_cell(c, x, yy, items, kind, bullet=True)
        c.svg.append("</g>")
    return yy - y


#: The most waits a stage's cell lists, longest first; the others are counted.
WAITS_SHOWN = 8


@dataclass(frozen=True)
class _Wait:
    """A step that waits: how long (in seconds, and as the file and the flow map
    write it), from which touchpoint to which node, and which stage it goes into."""

    seconds: float
    text: str
    src: str
    dst: str
    mark: str  # "⇒ next stage", "⇒ stage 7", "↩ back to stage 3", or "" within the stage


def _stage_waits(
    journey: Journey, cols: list[Stage], tps: dict[str, list[Touchpoint]]
) -> list[list[_Wait]]:
    """Per stage, the steps out of its touchpoints that wait, longest first (a tie
    in the journey's order). A wait of 0 is no wait, and is left out. Stages are
    numbered in the whole journey, as their headers are (a sheet may hold a few)."""
    index = journey.stage_index
    out = []
    for s in cols:
        k = index[s.id]
        waits = []
        for tp in tps[s.id]:
            for step in tp.next:
                seconds = step.wait_seconds
                node = journey.nodes.get(step.to)
                if not seconds or step.wait is None or node is None:
                    continue
                # Into another stage is what a reader looks for: the handover.
                to = index.get(node.stage) if isinstance(node, Touchpoint) else None
                mark = (
                    ""
                    if to is None or to == k
                    else "⇒ next stage"
                    if to == k + 1
                    else f"⇒ stage {to + 1}"
                    if to > k
                    else f"↩ back to stage {to + 1}"
                )
                text = " ".join(step.wait.split())
                waits.append(_Wait(seconds, text, tp.title, node.title, mark))
        waits.sort(key=lambda w: -w.seconds)
        out.append(waits)
    return out


def _wait_cell(c: Canvas, x: float, y: float, waits: list[_Wait]) -> float:
    """A stage's waits, one item each: the wait (and the stage it crosses into) in
    bold, then the step; return the height used.

    Each item is wrapped as if all bold, so the bold lead never makes a line
    wider than measured.
    """
    size = FONT * 0.9
    width = c.column - 2 * PAD
    yy = y
    for w in waits[:WAITS_SHOWN]:
        head = f"{w.text} {w.mark}:" if w.mark else f"{w.text}:"
        item = f"{head} {w.src} → {w.dst}"
        lines = wrap(item, width, size, bold=True)
        spans = []
        for i, line in enumerate(lines):
            at = f'x="{x + PAD:.1f}" y="{yy + (i + 0.8) * size * LINE:.1f}"'
            if i == 0 and line.startswith(head):
                # Siblings, not a bold span inside the line: WeasyPrint (PDF and
                # PNG) drops the text after a nested one.
                after = line[len(head) :]
                spans.append(f'<tspan {at} font-weight="bold">{esc(head)}</tspan>')
                spans.append(f"<tspan>{esc(after)}</tspan>" if after else "")
            else:
                spans.append(f"<tspan {at}>{esc(line)}</tspan>")
        cross = ' data-crosses="true"' if w.mark else ""
        c.svg.append(f'<text class="cv-wait" font-size="{size:g}"{cross}>{"".join(spans)}</text>')
        h = len(lines) * size * LINE
        c.boxes.append(Box(x + PAD, yy, width, h, "wait", item))
        yy += h + 4
    rest = len(waits) - WAITS_SHOWN
    if rest > 0:
        more = f"and {rest} shorter wait{'s' if rest > 1 else ''}"
        lines = wrap(more, width, size)
        c.svg.append(_text(x + PAD, yy, lines, size, "more sub"))
        h = len(lines) * size * LINE
        c.boxes.append(Box(x + PAD, yy, width, h, "wait", more))
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
#: The canvas' rows: the worksheet's, and the waits between steps under the cards
#: (data a workshop finds in its files, not a row to write on).
CANVAS_ROWS = (*ROWS[:2], ("waits", "Waits\n(between steps)"), *ROWS[2:])


def layout(
    journey: Journey,
    analysis: Analysis | None = None,
    theme: Theme | None = None,
    *,
    stages: Sequence[Stage] | None = None,
    first: int = 1,
    outcomes: bool = True,
    heading: bool = True,
    width: float | None = None,
    rows: Collection[str] | None = None,
    legend: bool = True,
    grid: Grid | None = None,
    whole: Canvas | None = None,
) -> Canvas:
    """Place everything on the canvas (the worksheet has its own, :func:`_sheet`).

    A printed sheet draws some ``stages`` (numbered from ``first``), the outcomes
    only on the last, no heading (the sheet's header has the title), and fills
    ``width`` (drawing units): its columns grow wider, their cards side by side.
    A sheet too tall for its paper draws some ``rows`` (by name), the ``legend``
    with the cards. Where each row lands is kept in ``Canvas.rows``. ``grid``
    makes the sheets of a poster line up: the same header and row heights and
    emotion scale on every sheet. ``whole`` is the same part drawn with all its rows at
    this width and no grid, if the caller has it: where its cards are, and what its
    legend explains.
    """
    t = theme or get_theme(None)
    a = analysis or analyze(journey, quantiles=False)
    cols = list(stages) if stages is not None else list(journey.stages)
    ends = list(journey.outcomes) if outcomes else []
    x0 = LABEL + PAD
    n = len(cols) + (1 if ends else 0)
    column = max(COLUMN, (width - x0 - PAD) / n) if width is not None else COLUMN
    c = Canvas(
        poor=a.poor,
        ends=a.ends(),
        column=column,
    )
    width = x0 + column * n + PAD
    y = PAD
    logo = _logo(t.logo) if heading else None
    room = LOGO_W + PAD if logo else 0.0
    if logo:
        c.svg.append(
            f'<image x="{width - PAD - LOGO_W:.1f}" y="{y:.1f}" width="{LOGO_W}" '
            f'height="{LOGO_H}" preserveAspectRatio="xMaxYMin meet" href="{esc(logo)}"/>'
        )
        c.boxes.append(Box(width - PAD - LOGO_W, y, LOGO_W, LOGO_H, "logo"))
    if heading:
        title = wrap(t.title or journey.title, width - 2 * PAD - room, 24, bold=True)
        c.svg.append(_text(PAD, y, title, 24, "heading", bold=True))
        c.boxes.append(
            Box(PAD, y, width - 2 * PAD - room, len(title) * 24 * LINE, "heading", journey.title)
        )
        y += len(title) * 24 * LINE
    if journey.persona and heading:
        who = journey.persona.name or "Persona"
        text = f"Persona: {who}" + (
            f" — {journey.persona.description}" if journey.persona.description else ""
        )
        lines = wrap(text, width - 2 * PAD, 13)
        c.svg.append(_text(PAD, y, lines, 13, "persona"))
        y += len(lines) * 13 * LINE
    y += PAD if heading else 0.0
    # stage headers
    head_h = _stage_headers(c, cols, x0, y, column, first, t, grid.head if grid else 0.0)
    c.head = head_h
    if ends:
        x = x0 + len(cols) * column
        c.svg.append(
            f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{column - 4:.1f}" height="{head_h:.1f}" '
            f'rx="6" fill="{esc(t.muted)}"/>'
        )
        c.svg.append(_text(x + PAD, y + PAD, ["Outcomes"], 14, "stage", bold=True))
    y += head_h + PAD
    tps = {s.id: journey.touchpoints_in(s.id) for s in cols}
    every = [tp for s in cols for tp in tps[s.id]]
    present = {
        "front": True,
        "back": any(tp.layer == "backstage" for tp in every),
        "channels": any(tp.channel for tp in every),
        "owners": any(tp.owner for tp in every),
        "emotion": any(tp.emotion is not None for tp in every),
        "pain": any(tp.pain_points for tp in every),
        "opportunities": any(tp.opportunities for tp in every),
    }
    if rows is not None and not {"front", "back"} <= set(rows) and ("emotion" in rows or legend):
        # The emotion points sit under their cards, drawn on another sheet: the same
        # columns at the same width put them in the same places; and the legend
        # explains the cards too.
        full = whole or layout(
            journey, a, t, stages=cols, first=first, outcomes=outcomes, width=width
        )
        c.cards.update(full.cards)
        if legend:
            c.used |= full.used
    for row, label in CANVAS_ROWS:
        if row == "waits":
            waits = _stage_waits(journey, cols, tps)
            present[row] = any(waits)
        # On a poster every sheet has the rows of the others (empty where its stages
        # have nothing), so the rows run straight across the taped sheets.
        shown = present[row] or (grid is not None and row in grid.rows)
        if not shown or (rows is not None and row not in rows):
            continue
        if row == "back" and rows is not None and "front" not in rows:
            # The sheet above ends with the touchpoints: the line starts this one.
            _visibility(c, y, width, y + 2, t)
            y += 16
        top = y
        start = len(c.svg)
        height = 0.0
        if row in ("front", "back"):
            # Cards above or below the line of visibility by their layer.
            for k, s in enumerate(cols):
                mine = [tp for tp in tps[s.id] if (tp.layer == "backstage") == (row == "back")]
                h = _cards_across(c, x0 + k * column, top, mine, a, t, journey)
                height = max(height, h)
        if row == "back":
            pass  # its cards are placed above
        elif row == "front":
            if ends:
                h = _cards_across(c, x0 + len(cols) * column, top, ends, a, t, journey)
                height = max(height, h)
        elif row in ("channels", "owners"):
            for k, s in enumerate(cols):
                values = [tp.channel if row == "channels" else tp.owner for tp in tps[s.id]]
                items = list(dict.fromkeys(v for v in values if v))
                h = _list_cell(c, x0 + k * c.column, top + PAD, items, row, bullet=False)
                height = max(height, h + PAD)
        elif row == "emotion":
            height = _emotion(c, journey, cols, tps, x0, top, t, grid.emotion if grid else None)
        elif row == "waits":
            for k, stage_waits in enumerate(waits):
                h = _wait_cell(c, x0 + k * c.column, top + PAD, stage_waits)
                height = max(height, h + PAD)
        else:
            for k, s in enumerate(cols):
                groups = [
                    (tp, tp.pain_points if row == "pain" else tp.opportunities) for tp in tps[s.id]
                ]
                groups = [(tp, items) for tp, items in groups if items]
                h = _grouped_cell(c, x0 + k * c.column, top + PAD, groups, row)
                height = max(height, h + PAD)
        height = max(height, 50.0) + PAD
        if grid is not None:  # as tall as the row is on the poster's other sheets
            height = max(height, grid.rows.get(row, 0.0))
        # the row's band and label go under its content
        band = [
            f'<rect x="{PAD}" y="{top:.1f}" width="{width - 2 * PAD:.1f}" height="{height:.1f}" '
            f'fill="{esc(t.stage_fill if row not in ("back",) else t.backstage_fill)}" '
            f'stroke="{esc(t.stage_border)}"/>',
            _text(PAD * 1.5, top + PAD, wrap(label, LABEL - PAD, 12, True), 12, "row", True),
        ]
        for k in range(1, len(cols) + (1 if ends else 0)):
            xk = x0 + k * column
            band.append(
                f'<line x1="{xk:.1f}" y1="{top:.1f}" x2="{xk:.1f}" y2="{top + height:.1f}" '
                f'stroke="{esc(t.stage_border)}"/>'
            )
        c.svg[start:start] = band
        c.rows[row] = (top, height)
        y = top + height
        backstage = present["back"] or (grid is not None and "back" in grid.rows)
        if row == "front" and backstage and (rows is None or "back" in rows):
            _visibility(c, y, width, y + 2, t)
        y += 4
    legend_h = _legend(c, y + PAD, width, t) if legend else 0.0
    y += legend_h + PAD if legend_h else 0.0
    c.width, c.height = width, y + PAD
    return c


EMOTION_UNIT = 22.0  # height of one step of the emotion scale
EMOTION_FONT = 10.0
MARK_FONT = 14.0


def _feeling(e: float) -> str:
    """The face of a feeling, as on the flow map: the sign is in the shape too."""
    return "☺" if e > 0 else "☹" if e < 0 else "○"


def _value(e: float) -> str:
    """An emotion as a signed number, with a real minus sign."""
    return "0" if e == 0 else f"{e:+g}".replace("-", "−")


def _emotion(
    c: Canvas,
    journey: Journey,
    cols: list[Stage],
    tps: dict[str, list[Touchpoint]],
    x0: float,
    top: float,
    t: Theme,
    scale: tuple[int, int] | None = None,
) -> float:
    """The emotion row; return its height.

    One point per touchpoint with an emotion, under its card (the cards of a stage
    share a column, so its points share the card's width, in the cards' order),
    with its value beside it and the title on hover. Points are joined only along
    transitions within a stage or into the next one, so alternatives (four ways
    in) stay four points, not four steps, no line crosses a stage (with emotion
    or without), and none runs backwards. The scale covers
    the values used (and 0), so a journey with one feeling gets a short row.
    """
    values = [tp.emotion for s in cols for tp in tps[s.id] if tp.emotion is not None]
    # (none on a printed sheet of the outcomes alone: the poster's scale, empty)
    lo = min(0, math.floor(min(values, default=0)))
    hi = max(0, math.ceil(max(values, default=0)))
    if scale is not None:  # the whole journey's, on each printed sheet alike
        lo, hi = min(lo, scale[0]), max(hi, scale[1])
    label_h = EMOTION_FONT * LINE
    head = PAD + label_h
    height = head + (hi - lo) * EMOTION_UNIT + label_h + PAD
    right = x0 + c.column * len(cols)

    def yv(e: float) -> float:
        return top + head + (hi - e) * EMOTION_UNIT

    for level in range(hi, lo - 1, -1):
        c.svg.append(
            f'<line x1="{x0:.1f}" y1="{yv(level):.1f}" x2="{right:.1f}" y2="{yv(level):.1f}" '
            f'stroke="{esc(t.stage_border)}" stroke-dasharray="2 3"/>'
        )
        c.svg.append(
            f'<text class="cv-tick" x="{x0 - 6:.1f}" y="{yv(level) + 3.5:.1f}" '
            f'font-size="{EMOTION_FONT:g}" text-anchor="end">{_value(level)}</text>'
        )
    # Where each point goes: spread over its card's width, in the order of the cards.
    mark_w = text_width("☺", MARK_FONT)
    points: dict[str, tuple[float, float, int]] = {}
    crowded: set[int] = set()  # stages whose marks touch: their values only on hover
    for k, s in enumerate(cols):
        marked = [tp for tp in tps[s.id] if tp.emotion is not None and tp.id in c.cards]
        marked.sort(key=lambda tp: c.cards[tp.id].y)
        for i, tp in enumerate(marked):
            card = c.cards[tp.id]
            slot = card.w / len(marked)
            points[tp.id] = (card.x + slot * (i + 0.5), yv(tp.emotion or 0.0), k)
            if slot < mark_w + 2:
                crowded.add(k)
    # Segments as a dict: in order, each once, found in constant time.
    segments: dict[tuple[float, float, float, float], int] = {}
    for tp in journey.touchpoints:
        if tp.id not in points:
            continue
        xa, ya, ka = points[tp.id]
        for step in tp.next:
            if step.to not in points:
                continue
            xb, yb, kb = points[step.to]
            if xb > xa and kb - ka <= 1:
                segments.setdefault((xa, ya, xb, yb), ka)
    if segments:
        c.used.add("curve")
        d = " ".join(f"M{xa:.1f},{ya:.1f} L{xb:.1f},{yb:.1f}" for xa, ya, xb, yb in segments)
        c.svg.append(
            f'<path class="cv-curve" d="{d}" fill="none" stroke="{esc(t.accent)}" '
            'stroke-width="2"/>'
        )
    c.used.add("emotion")
    # What a label must keep clear of, by stage column: a label stays in its column,
    # so only its column's marks, labels and curve matter (and a journey of
    # thousands of touchpoints costs no more than its stages do).
    marks = {
        ident: Box(x - mark_w / 2, y - MARK_FONT / 2, mark_w, MARK_FONT, "emotion-mark")
        for ident, (x, y, _) in points.items()
    }
    blocked: dict[int, list[Box]] = {}
    for ident, (_, _, k) in points.items():
        blocked.setdefault(k, []).append(marks[ident])
    lines: dict[int, list[tuple[float, float, float, float]]] = {}
    for seg, ka in segments.items():
        for k in (ka, ka + 1):
            lines.setdefault(k, []).append(seg)
    for tp in journey.touchpoints:
        if tp.id not in points:
            continue
        x, y, k = points[tp.id]
        e = tp.emotion or 0.0
        color = t.emotion_positive if e > 0 else t.emotion_negative if e < 0 else t.muted
        text = _value(e)
        lw = text_width(text, EMOTION_FONT)
        mark = marks[tp.id]
        # Beside the mark if there is room, else above, below or at a corner; clear
        # of the curve if it can be, else on a patch of background over it; else
        # (a crowd of points) only on hover.
        beside, above, below = y - label_h / 2, mark.y - label_h, mark.y + mark.h
        after, before = mark.x + mark.w + 1, mark.x - 1 - lw
        tries = [
            Box(bx, by, lw, label_h, "emotion", text)
            for bx, by in (
                (after, beside),
                (before, beside),
                (x - lw / 2, above),
                (x - lw / 2, below),
                (after, above),
                (after, below),
                (before, above),
                (before, below),
            )
        ]
        column = (x0 + k * c.column, x0 + (k + 1) * c.column)
        free = [
            b
            for b in tries
            if k not in crowded
            and column[0] < b.x
            and b.x + b.w < column[1]
            and top < b.y
            and b.y + b.h < top + height
            and not any(b.overlaps(o) for o in blocked[k])
        ]
        clear = [b for b in free if not any(_crosses(b, seg) for seg in lines.get(k, []))]
        spot = (clear or free)[0] if free else None
        c.svg.append(
            f'<g class="cv-point" id="canvas-emotion-{esc(tp.id)}">'
            f"<title>{esc(tp.title)}: {text}</title>"
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{MARK_FONT / 2:g}" fill="{esc(t.background)}"/>'
            f'<text x="{x:.1f}" y="{y + MARK_FONT * 0.36:.1f}" font-size="{MARK_FONT:g}" '
            f'text-anchor="middle" style="fill:{esc(_css_color(color))}">{_feeling(e)}</text>'
        )
        if spot is not None:
            blocked[k].append(spot)
            c.boxes.append(spot)
            if not clear:
                c.svg.append(
                    f'<rect x="{spot.x - 1:.1f}" y="{spot.y + 1:.1f}" width="{spot.w + 2:.1f}" '
                    f'height="{spot.h - 2:.1f}" fill="{esc(t.background)}"/>'
                )
            c.svg.append(
                f'<text class="cv-value" x="{spot.x:.1f}" y="{spot.y + 0.8 * label_h:.1f}" '
                f'font-size="{EMOTION_FONT:g}">{text}</text>'
            )
        c.svg.append("</g>")
    return height


def _crosses(box: Box, seg: tuple[float, float, float, float]) -> bool:
    """Whether the line segment passes through the box (Liang-Barsky clipping)."""
    x1, y1, x2, y2 = seg
    dx, dy = x2 - x1, y2 - y1
    lo, hi = 0.0, 1.0
    for p, q in (
        (-dx, x1 - box.x),
        (dx, box.x + box.w - x1),
        (-dy, y1 - box.y),
        (dy, box.y + box.h - y1),
    ):
        if p == 0:
            if q < 0:
                return False
            continue
        r = q / p
        if p < 0:
            lo = max(lo, r)
        else:
            hi = min(hi, r)
        if lo > hi:
            return False
    return True


# The legend: one cell per kind of thing this canvas draws, in a grid under it.
LEGEND_CELL = 270.0
LEGEND_SAMPLE = 58.0
LEGEND_FONT = 10.5
#: (kind, explanation) in the order the legend lists them; the kinds are what
#: :func:`_card`, :func:`_emotion` and :func:`layout` put in ``Canvas.used``.
LEGEND = (
    ("touchpoint", "touchpoint the customer sees"),
    ("backstage", "BACKSTAGE (dashed border): what the firm does behind the scenes"),
    ("visibility", "line of visibility: the customer sees what is above it"),
    ("firm", "the firm starts this touchpoint (proactive), not the customer"),
    ("dead-end", "✖ DEAD END: no next step, everyone here is lost"),
    ("trap", "⚠ TRAP: success can't be reached from here"),
    ("unreachable", "UNREACHABLE (dotted border): no entry leads here"),
    ("poor", "matters to customers, works poorly today"),
    ("leave", "share of customers here who leave the journey"),
    ("lost-step", "share of customers here who go to that lost outcome"),
    ("success", "✔ SUCCESS outcome"),
    ("lost", "✖ LOST outcome (octagon), with the share of all customers who end there"),
    ("emotion", "how the customer feels, −2 to +2, under each card, value beside it"),
    ("curve", "emotion curve: joins a step to the next; alternatives are not joined"),
)


def _legend_sample(kind: str, x: float, cy: float, t: Theme) -> tuple[list[str], float]:
    """The sample of one legend entry, drawn as what it explains; and its width."""
    w, h = LEGEND_SAMPLE - 12, 22.0
    looks = {
        "touchpoint": (_Look(t.touchpoint_fill, t.touchpoint_border), ""),
        "backstage": (_Look(t.backstage_fill, t.backstage_border, dash=DASHED), ""),
        "dead-end": (_Look(t.dead_fill, t.dead_border, BOLD), "✖"),
        "trap": (_Look(t.trap_fill, t.trap_border, BOLD), "⚠"),
        "unreachable": (_Look(t.touchpoint_fill, t.touchpoint_border, 2.0, DOTTED), ""),
        "success": (_Look(t.success_fill, t.success_border, BOLD), "✔"),
        "lost": (_Look(t.lost_fill, t.lost_border, BOLD, octagon=True), "✖"),
    }
    words = {
        "poor": (POOR_MARK, "poor"),
        "leave": ("↘ 35% leave", "loss"),
        "lost-step": ("✖ 30% → Lost", "loss"),
    }
    out: list[str] = []
    if kind in looks:
        look, symbol = looks[kind]
        stroke = f'stroke="{esc(look.border)}" stroke-width="{look.width:g}"{look.dash}'
        if look.octagon:
            out.append(
                f'<polygon points="{_octagon(x, cy - h / 2, w, h, 6)}" '
                f'fill="{esc(look.fill)}" {stroke}/>'
            )
        else:
            out.append(
                f'<rect x="{x:.1f}" y="{cy - h / 2:.1f}" width="{w:.1f}" height="{h:.1f}" '
                f'rx="5" fill="{esc(look.fill)}" {stroke}/>'
            )
        if symbol:
            out.append(
                f'<text x="{x + w / 2:.1f}" y="{cy + 4:.1f}" font-size="11" font-weight="bold" '
                f'text-anchor="middle" style="fill:{esc(_css_color(look.border))}">{symbol}</text>'
            )
        return out, LEGEND_SAMPLE
    if kind == "visibility":
        out.append(
            f'<line x1="{x:.1f}" y1="{cy:.1f}" x2="{x + w:.1f}" y2="{cy:.1f}" '
            f'stroke="{esc(t.text)}" stroke-width="2" stroke-dasharray="10 5"/>'
        )
        return out, LEGEND_SAMPLE
    if kind == "curve":
        pts = f"{x + 4:.1f},{cy + 5:.1f} {x + w / 2:.1f},{cy - 6:.1f} {x + w - 4:.1f},{cy + 2:.1f}"
        out.append(
            f'<polyline points="{pts}" fill="none" stroke="{esc(t.accent)}" stroke-width="2"/>'
        )
        return out, LEGEND_SAMPLE
    if kind == "firm":
        bh = BADGE_FONT * LINE + 2 * BADGE_PAD
        bw = text_width(FIRM_BADGE, BADGE_FONT, bold=True) + 2 * BADGE_SIDE
        out.append(
            f'<rect class="cv-badge" x="{x:.1f}" y="{cy - bh / 2:.1f}" width="{bw:.1f}" '
            f'height="{bh:.1f}" rx="{bh / 2:.1f}" fill="{esc(t.background)}" '
            f'stroke="{esc(t.accent)}" stroke-width="1.4"/>'
        )
        out.append(
            _text(x + BADGE_SIDE, cy - bh / 2 + BADGE_PAD, [FIRM_BADGE], BADGE_FONT, "firm", True)
        )
        return out, bw + 10
    if kind == "emotion":
        xx = x
        for e in (2.0, 0.0, -2.0):
            color = t.emotion_positive if e > 0 else t.emotion_negative if e < 0 else t.muted
            out.append(
                f'<text x="{xx + 6:.1f}" y="{cy + 5:.1f}" font-size="{MARK_FONT:g}" '
                f'text-anchor="middle" style="fill:{esc(_css_color(color))}">{_feeling(e)}</text>'
            )
            out.append(
                f'<text class="cv-value" x="{xx + 14:.1f}" y="{cy + 3.5:.1f}" '
                f'font-size="{EMOTION_FONT:g}">{_value(e)}</text>'
            )
            xx += 14 + text_width(_value(e), EMOTION_FONT) + 8
        return out, xx - x + 4
    text, cls = words[kind]
    size = FONT * 0.85
    out.append(_text(x, cy - size * LINE / 2, [text], size, cls, True))
    return out, text_width(text, size, bold=True) + 10


def _legend(c: Canvas, y: float, width: float, t: Theme) -> float:
    """The legend of what this canvas draws, and only that; return its height.

    Built as the flow map's: each sample is the shape, line or mark it names,
    with words beside every colour, so no meaning rests on colour alone.
    """
    items = [(kind, text) for kind, text in LEGEND if kind in c.used]
    if not items:
        return 0.0
    columns = max(1, min(len(items), int((width - 2 * PAD - 16) // LEGEND_CELL)))
    head = 12 * LINE + 2 * PAD
    cells = []
    for kind, text in items:
        sample, sample_w = _legend_sample(kind, 0.0, 0.0, t)
        del sample
        lines = wrap(text, LEGEND_CELL - sample_w - 16, LEGEND_FONT)
        cells.append((kind, text, sample_w, lines))
    rows = [cells[i : i + columns] for i in range(0, len(cells), columns)]
    heights = [max(26.0, max(len(x[3]) for x in row) * LEGEND_FONT * LINE + 8) for row in rows]
    total = head + sum(heights) + PAD
    out = [
        f'<g class="cv-legend" id="canvas-legend">'
        f'<rect x="{PAD}" y="{y:.1f}" width="{width - 2 * PAD:.1f}" height="{total:.1f}" rx="6" '
        f'fill="{esc(t.background)}" stroke="{esc(t.stage_border)}"/>',
        _text(PAD * 2, y + PAD, ["Legend"], 12, "row", True),
    ]
    c.boxes.append(Box(PAD * 2, y + PAD, text_width("Legend", 12, True), 12 * LINE, "legend"))
    yy = y + head
    for row, rh in zip(rows, heights, strict=True):
        for col, (kind, text, sample_w, lines) in enumerate(row):
            x = PAD * 2 + col * LEGEND_CELL
            cy = yy + rh / 2
            sample, _ = _legend_sample(kind, x, cy, t)
            th = len(lines) * LEGEND_FONT * LINE
            out.append(f'<g class="cv-legend-item" id="canvas-legend-{kind}">')
            out.extend(sample)
            out.append(_text(x + sample_w, cy - th / 2, lines, LEGEND_FONT, "legend"))
            out.append("</g>")
            c.boxes.append(Box(x, cy - 11, sample_w - 4, 22, "legend-sample", kind))
            text_w = max(text_width(line, LEGEND_FONT) for line in lines)
            c.boxes.append(Box(x + sample_w, cy - th / 2, text_w, th, "legend", text))
        yy += rh
    out.append("</g>")
    c.svg.extend(out)
    return total


def _svg(
    c: Canvas,
    journey: Journey,
    t: Theme,
    kind: str,
    desc: str,
    size_mm: tuple[float, float] | None = None,
) -> str:
    """The SVG document; ``size_mm`` gives its size on paper (a worksheet's sheet)."""
    ident = esc(f"canvas-{journey.journey}")
    # CSS-escaped first, then XML-escaped: it sits in an SVG <style> element
    muted = _css_color(t.muted)
    style = (
        f".jm-canvas text {{ font-family: {_css_font(t.font)}; fill: {_css_color(t.text)}; }}"
        " .jm-canvas .cv-stage { fill: #ffffff; }"
        f" .jm-canvas .cv-sub, .jm-canvas .cv-tick, .jm-canvas .cv-visibility,"
        f" .jm-canvas .cv-tag, .jm-canvas .cv-unreachable {{ fill: {muted}; }}"
        f" .jm-canvas .cv-dead {{ fill: {_css_color(t.dead_border)}; }}"
        f" .jm-canvas .cv-trap, .jm-canvas .cv-poor {{ fill: {_css_color(t.trap_border)}; }}"
        f" .jm-canvas .cv-lost, .jm-canvas .cv-loss {{ fill: {_css_color(t.lost_border)}; }}"
        f" .jm-canvas .cv-success {{ fill: {_css_color(t.success_border)}; }}"
    )
    size = (
        f'width="{size_mm[0]:.2f}mm" height="{size_mm[1]:.2f}mm"'
        if size_mm
        else f'width="{c.width:.0f}" height="{c.height:.0f}"'
    )
    box = f"{c.width:.2f} {c.height:.2f}" if size_mm else f"{c.width:.0f} {c.height:.0f}"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" {size} '
        f'viewBox="0 0 {box}" role="img" '
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
    a = analysis or analyze(journey, quantiles=False)
    c = layout(journey, a, t)
    desc = (
        f"Journey canvas of {len(journey.touchpoints)} touchpoints in {len(journey.stages)} "
        f"stages: touchpoints, backstage, channels, owners, emotion, pain points and "
        f"opportunities per stage, and a legend of what it shows."
    )
    return _svg(c, journey, t, "canvas", desc)


# --- The workshop worksheet ---------------------------------------------------------

#: A 76 mm sticky note with a little room around it.
NOTE_MM = 80.0
#: The drawing unit on screen: one CSS pixel, in mm.
SCREEN_UNIT = 25.4 / 96
#: The smallest drawing unit on paper, in mm: card tags (9.2 units) at 8 pt.
MIN_UNIT = 0.31
WRITE_MM = 12.0  # at least, a row to write in (channels, owners): a line of handwriting
FIELD_MM = 8.0  # at least, one line to write on in the persona box
LEVEL_MM = 6.0  # at least, one step of the emotion scale
#: The worksheet's rows: the canvas' rows, and what each is for.
NOTE_ROWS = ("front", "back", "pain", "opportunities")
WRITE_ROWS = ("channels", "owners")
DATE_LINE = "Date: ____________________"
CARD_W = 200.0  # the narrowest card set side by side with another in a wide cell


@dataclass(frozen=True)
class Sheet:
    """One sheet of a worksheet: its SVG and the stages it holds (1-based, of ``total``)."""

    svg: str
    number: int
    count: int
    first: int
    last: int
    total: int
    width_mm: float
    height_mm: float
    unit: float  # mm per drawing unit: the type scale the sheet was set at
    # Why the stages are on several sheets: "width" (not side by side with cells a
    # sticky note wide) or "height" (the cards not at 8 pt); "" on one sheet.
    split: str = ""
    outcomes: bool = False  # the sheet holds the outcomes column too
    note: str | None = None  # the caption, where the sheet says more (a canvas' rows)
    # A worksheet's stages too tall for the paper at 8 pt even one a sheet: "upper"
    # (the cards' rows) or "lower" (the rest, on the sheet taped below); "" for all.
    rows: str = ""

    @property
    def stages(self) -> str:
        """Which stages it holds: "stage 3", "stages 1-4"."""
        first, last = self.first, self.last
        return f"stage {first}" if first == last else f"stages {first}-{last}"

    @property
    def held(self) -> str:
        """Which stages it holds, of how many: "stage 3 of 8", "stages 1-4 of 8"."""
        return f"{self.stages} of {self.total}"

    @property
    def caption(self) -> str:
        """Which stages this sheet holds and where the rest are: "" on a single sheet."""
        if self.note is not None:
            return self.note
        if self.count == 1:
            return ""
        held = self.held + (", the outcomes" if self.outcomes else "")
        parts = [f"Sheet {self.number} of {self.count}: {held}"]
        if self.number > 1:
            parts.append(f"continued from sheet {self.number - 1}")
        if self.number < self.count:
            parts.append(f"continues on sheet {self.number + 1}")
        return ", ".join(parts)


def _split(n: int, per_sheet: int) -> list[tuple[int, int]]:
    """``n`` stages in as few sheets as hold ``per_sheet`` each, as even as can be:
    (first, last) per sheet, 0-based and inclusive (10 on sheets of 9 is 5 + 5, not 9 + 1)."""
    count = max(1, math.ceil(n / max(1, per_sheet)))
    size, more = divmod(n, count)
    out, start = [], 0
    for k in range(count):
        end = start + size + (1 if k < more else 0)
        out.append((start, end - 1))
        start = end
    return out


def _stage_headers(
    c: Canvas,
    cols: Sequence[Stage],
    x0: float,
    y: float,
    col: float,
    first: int,
    t: Theme,
    least: float = 0.0,
) -> float:
    """The numbered stage headers of a canvas or worksheet row; their height.

    ``first`` is the number of the first stage shown (a worksheet sheet may start
    in the middle of the journey and keeps the journey's numbering).
    """
    titles = [f"{first + k}. {s.title}" for k, s in enumerate(cols)]
    lines = max((len(wrap(x, col - 2 * PAD, 14, True)) for x in titles), default=1)
    head_h = lines * 14 * LINE + 2 * PAD  # one line at least: the outcomes' own header
    head_h = max(head_h, least)
    for k, title in enumerate(titles):
        x = x0 + k * col
        c.svg.append(
            f'<rect x="{x + 2:.1f}" y="{y:.1f}" width="{col - 4:.1f}" height="{head_h:.1f}" '
            f'rx="6" fill="{esc(t.accent)}"/>'
        )
        c.svg.append(
            _text(x + PAD, y + PAD, wrap(title, col - 2 * PAD, 14, True), 14, "stage", bold=True)
        )
    return head_h


def _persona_box(c: Canvas, journey: Journey | None, y: float, width: float, unit: float) -> float:
    """The persona the journey is for, or labelled lines to write it in; return the height.

    A workshop starts by agreeing whose journey it maps: the box is there with or
    without a persona in the file, and filled from it when there is one.
    """
    inner = width - 4 * PAD
    parts = ['<g class="cv-persona" id="worksheet-persona">']
    persona = journey.persona if journey is not None else None
    yy = y + PAD
    if persona is not None:
        name = wrap(f"Persona: {persona.name}", inner, 14, bold=True)
        parts.append(_text(PAD * 2, yy, name, 14, "persona", True))
        yy += len(name) * 14 * LINE
        if persona.description:
            lines = wrap(persona.description, inner, 12)
            parts.append(_text(PAD * 2, yy, lines, 12, "persona"))
            yy += len(lines) * 12 * LINE
    else:
        field_h = max(13 * LINE + 10, FIELD_MM / unit)
        for label in ("Persona: who is travelling this journey?", "What do they want?"):
            lw = text_width(label, 13, bold=True)
            base = yy + field_h - 6
            parts.append(_text(PAD * 2, base - 13 * LINE, [label], 13, "persona", True))
            parts.append(
                f'<line class="cv-write" x1="{PAD * 2 + lw + 8:.1f}" y1="{base:.1f}" '
                f'x2="{width - PAD * 2:.1f}" y2="{base:.1f}" stroke="#7b8794" stroke-width="1"/>'
            )
            yy += field_h
    height = yy + PAD - y
    parts.insert(
        1,
        f'<rect x="{PAD}" y="{y:.1f}" width="{width - 2 * PAD:.1f}" height="{height:.1f}" '
        f'rx="6" fill="#ffffff" stroke="#7b8794"/>',
    )
    parts.append("</g>")
    c.svg.extend(parts)
    return height


def _scale(c: Canvas, x0: float, right: float, top: float, unit: float, t: Theme) -> float:
    """The emotion row's scale: −2 to +2, each level a face and a number at the row's
    left and a faint guide line across the cells to put a dot on; return the height."""
    step = max(EMOTION_FONT * LINE + 6, LEVEL_MM / unit)
    head = PAD + 6
    c.svg.append('<g class="cv-scale" id="worksheet-emotion-scale">')
    for i, level in enumerate((2, 1, 0, -1, -2)):
        yl = top + head + i * step
        color = t.emotion_positive if level > 0 else t.emotion_negative if level < 0 else t.muted
        c.svg.append(
            f'<line class="cv-guide" x1="{x0:.1f}" y1="{yl:.1f}" x2="{right:.1f}" y2="{yl:.1f}" '
            f'stroke="{esc(t.stage_border)}" stroke-dasharray="2 4"/>'
        )
        c.svg.append(
            f'<text class="cv-level" data-level="{level}" x="{x0 - 6:.1f}" y="{yl + 4:.1f}" '
            f'font-size="12" text-anchor="end"><tspan style="fill:{esc(_css_color(color))}">'
            f"{_feeling(level)}</tspan> {_value(level)}</text>"
        )
    c.svg.append("</g>")
    return head * 2 + 4 * step


def _sheet(
    journey: Journey,
    cols: list[Stage],
    first: int,
    t: Theme,
    a: Analysis,
    *,
    prefill: bool,
    persona: Journey | None,
    unit: float,
    width: float | None,
    note_mm: float | None,
    extra: float,
    caption: str,
    persona_box: bool = True,
    legend: bool = True,
    also: frozenset[str] = frozenset(),
    rows_drawn: tuple[str, ...] | None = None,
    heading: bool = True,
) -> tuple[Canvas, dict[str, float]]:
    """One sheet's layout in drawing units (``unit`` mm each); ``width`` fills the
    sheet (else the columns are a note wide), ``extra`` is shared among the note rows.
    ``rows_drawn`` (by name; all by default) is for a sheet of some rows, the others
    on a sheet to tape below it, which leaves out the ``heading`` (title, date line
    and logo): taped together, the two read as one sheet with one title. Return it
    and where each row is, for the tests' sake."""
    c = Canvas(
        poor=a.poor,
        ends=a.ends(),
    )
    x0 = LABEL + PAD
    note = (note_mm or 0.0) / unit
    col = (width - x0 - PAD) / len(cols) if width is not None else note
    width = width if width is not None else x0 + col * len(cols) + PAD
    y = PAD
    logo = _logo(t.logo) if heading else None
    room = LOGO_W + PAD if logo else 0.0
    if logo:
        c.svg.append(
            f'<image x="{width - PAD - LOGO_W:.1f}" y="{y:.1f}" width="{LOGO_W}" '
            f'height="{LOGO_H}" preserveAspectRatio="xMaxYMin meet" href="{esc(logo)}"/>'
        )
    if heading:
        date_w = text_width(DATE_LINE, 12)
        c.svg.append(
            f'<text class="cv-date" x="{width - PAD - room:.1f}" y="{y + 24 * LINE * 0.7:.1f}" '
            f'font-size="12" text-anchor="end">{DATE_LINE}</text>'
        )
        title = wrap(t.title or journey.title, width - 2 * PAD - room - date_w - 20, 24, bold=True)
        c.svg.append(_text(PAD, y, title, 24, "heading", bold=True))
        y += len(title) * 24 * LINE
    if caption:
        # Wrapped: on portrait paper a sheet of a worksheet split by rows says more
        # than one line holds (it ran off the sheet).
        said = wrap(caption, width - 2 * PAD, 13, bold=True)
        c.svg.append(_text(PAD, y, said, 13, "sheet", True))
        y += len(said) * 13 * LINE
    y += PAD
    if persona_box:
        y += _persona_box(c, persona, y, width, unit) + PAD
    head_h = _stage_headers(c, cols, x0, y, col, first, t)
    y += head_h + PAD
    drawn = [(row, label) for row, label in ROWS if rows_drawn is None or row in rows_drawn]
    share = extra / max(1, sum(row in NOTE_ROWS for row, _ in drawn))
    rows: dict[str, float] = {}
    for row, label in drawn:
        top = y
        start = len(c.svg)
        # A row is never shorter than its label (and the backstage row's line of
        # visibility words above it), however little room the sheet has left.
        label_h = len(wrap(label, LABEL - PAD, 12, True)) * 12 * LINE + 2 * PAD
        label_h += 14.0 if row == "back" else 0.0
        if row in NOTE_ROWS:
            height = max(note, 40.0, label_h)
        elif row in WRITE_ROWS:
            height = max(50.0, WRITE_MM / unit)
        else:
            height = _scale(c, x0, x0 + col * len(cols), top, unit, t)
        if prefill and row in ("front", "back"):
            # Cards above or below the line of visibility by their layer, as on the
            # canvas; side by side in a cell wide enough for more than one, each
            # under the shortest pile, so a stage of many cards stays short.
            across = max(1, int((col - 2 * PAD + 8) // (CARD_W + 8)))
            card_w = (col - 2 * PAD + 8) / across - 8
            for k, s in enumerate(cols):
                piles = [top + PAD] * across
                for tp in journey.touchpoints_in(s.id):
                    if (tp.layer == "backstage") == (row == "back"):
                        i = piles.index(min(piles))
                        x = x0 + k * col + PAD + i * (card_w + 8)
                        piles[i] += _card(c, x, piles[i], card_w, tp, a, t, journey) + 8
                height = max(height, max(piles) - top + PAD)
        if row in NOTE_ROWS:
            height += share  # the sheet's spare room, shared by the rows for notes
        note_cls = " cv-note" if row in NOTE_ROWS else ""
        band = [
            f'<rect class="cv-label-cell" x="{PAD}" y="{top:.1f}" width="{x0 - PAD:.1f}" '
            f'height="{height:.1f}" fill="{esc(t.stage_fill)}" stroke="{esc(t.stage_border)}"/>'
        ]
        fill = t.backstage_fill if row == "back" else t.stage_fill
        for k in range(len(cols)):
            band.append(
                f'<rect class="cv-cell{note_cls}" data-row="{row}" data-stage="{first + k}" '
                f'x="{x0 + k * col:.1f}" y="{top:.1f}" width="{col:.1f}" height="{height:.1f}" '
                f'fill="{esc(fill)}" stroke="{esc(t.stage_border)}"/>'
            )
        # Under the line of visibility's words in the backstage row.
        label_y = top + PAD + (14.0 if row == "back" else 0.0)
        band.append(_text(PAD * 1.5, label_y, wrap(label, LABEL - PAD, 12, True), 12, "row", True))
        c.svg[start:start] = band
        rows[row] = top
        y = top + height
        if row == "back":
            # Drawn over the backstage row's cells, which would hide its words.
            _visibility(c, top - 4, width, top + 2, t)
        y += 4
    if prefill and legend:
        c.used |= also
        legend_h = _legend(c, y + PAD, width, t)
        y += legend_h + PAD if legend_h else 0.0
    c.width, c.height = width, y + PAD
    return c, rows


def _fitted(
    draw: Callable[..., tuple[Canvas, dict[str, float]]],
    area: tuple[float, float] | None,
    unit: float,
) -> tuple[Canvas, float]:
    """A sheet drawn to fill ``area``, and the unit it was set at.

    Too tall for the sheet (a stage of many cards), it is set at a smaller unit,
    the cells keeping their size in mm, down to :data:`MIN_UNIT`; then the rows
    for notes share what is left of the height.
    """

    def at(u: float, extra: float = 0.0) -> Canvas:
        return draw(unit=u, width=area[0] / u if area else None, extra=extra)[0]

    u = unit
    c = at(u)
    if area is None:
        return c, u
    for _ in range(6):
        if c.height * u <= area[1] or u <= MIN_UNIT:
            break
        u = max(MIN_UNIT, u * area[1] / (c.height * u) * 0.97)
        c = at(u)
    if c.height * u < area[1]:
        c = at(u, area[1] / u - c.height)
    return c, u


def worksheet_sheets(
    journey: Journey | None,
    stages: list[Stage] | None = None,
    theme: Theme | None = None,
    *,
    prefill: bool = False,
    area: tuple[float, float] | None = None,
    unit: float = SCREEN_UNIT,
    note_mm: float | None = NOTE_MM,
) -> list[Sheet]:
    """The worksheet as sheets of paper: stage columns, row labels, room for sticky notes.

    ``area`` is the printable (width, height) in mm, filled to the edges, and
    ``unit`` the mm per drawing unit (12 units is the body text); without it, one
    sheet at true size on screen. ``note_mm`` is the smallest cell a sticky note
    needs: when the stages do not fit side by side at that width, they are split
    over sheets by whole stages rather than shrunk. A sheet whose cards do not fit
    its height is set at a smaller unit, down to :data:`MIN_UNIT` (8 pt text).
    """
    t = theme or get_theme(None)
    persona = journey
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
    a = analyze(journey, quantiles=False)
    per_sheet = len(cols)
    if area is not None and note_mm:
        room = area[0] - (LABEL + 2 * PAD) * unit
        per_sheet = max(1, int(room // note_mm))
    # Prefilled sheets too tall at 8 pt (stages of many cards, on small paper) are
    # tried on more sheets (twice as many each time), whose wider columns hold the
    # cards side by side: the fewest sheets that fit. Where even one stage a sheet
    # is too tall (A4), each stage's rows go on two sheets, the lower one to tape
    # under the upper (the cards' rows, then the rows to write in). Else the plan
    # that needs the least shrinking (the printing shrinks what still does not
    # fit). A blank sheet is not split for its height: narrower stage titles would
    # be all it gained.
    least = math.ceil(len(cols) / per_sheet)
    counts = sorted({min(len(cols), least * 2**k) for k in range(8)})

    def plan(count: int, halves: bool, legend_on: str = "lower") -> list[Sheet]:
        parts = _split(len(cols), math.ceil(len(cols) / count))
        layers: list[tuple[str, tuple[str, ...] | None]] = (
            [("upper", UPPER_ROWS), ("lower", LOWER_ROWS)] if halves else [("", None)]
        )
        total = len(parts) * len(layers)
        sheets: list[Sheet] = []
        seen: set[str] = set()  # what the sheets before the last draw: its legend says
        for lo, hi in parts:
            for layer, drawn in layers:
                number = len(sheets) + 1
                blank = Sheet("", number, total, lo + 1, hi + 1, len(cols), 0.0, 0.0, unit)
                blank = replace(blank, rows=layer)
                blank = replace(blank, note=_rows_caption(blank) if layer else None)
                draw = partial(
                    _sheet,
                    journey,
                    cols[lo : hi + 1],
                    lo + 1,
                    t,
                    a,
                    prefill=prefill,
                    persona=persona,
                    note_mm=note_mm,
                    caption=blank.caption,
                    # Taped together, the sheets need the persona once (on the first)
                    # and the legend once (on the last): the room goes to the cards.
                    persona_box=number == 1,
                    legend=(lo, hi) == parts[-1] and layer in ("", legend_on),
                    also=frozenset(seen),
                    rows_drawn=drawn,
                    heading=layer != "lower",
                )
                c, u = _fitted(draw, area, unit)
                seen |= c.used
                size = (c.width * u, c.height * u)
                desc = f"Journey worksheet with {hi - lo + 1} stages and room for sticky notes."
                sheets.append(
                    replace(
                        blank,
                        svg=_svg(c, journey, t, "worksheet", desc, size_mm=size),
                        width_mm=size[0],
                        height_mm=size[1],
                        unit=u,
                    )
                )
        why = "rows" if halves else "" if count == 1 else "width" if count == least else "height"
        return [replace(s, split=why) for s in sheets]

    def fits(sheets: list[Sheet]) -> float:
        return min(1.0, *(area[1] / s.height_mm for s in sheets)) if area else 1.0

    best: tuple[float, list[Sheet]] = (0.0, [])
    tried = counts if area is not None and prefill else [least]
    # Split by rows, the legend goes under the last cards, where there is room, or
    # else under the last rows to write in.
    ways = [(False, "")] + ([(True, "upper"), (True, "lower")] if area and prefill else [])
    for halves, legend_on in ways:
        for count in tried:
            sheets = plan(count, halves, legend_on)
            scale = fits(sheets)
            if scale > best[0] + 0.005:
                best = (scale, sheets)
            if scale >= 0.999:  # filled to the paper's height, to rounding
                return sheets
    return best[1]


#: A worksheet split by rows: the cards' rows on the upper sheet, the rest below.
UPPER_ROWS = ("front", "back")
LOWER_ROWS = tuple(row for row, _ in ROWS if row not in UPPER_ROWS)


def _rows_caption(sheet: Sheet) -> str:
    """Which stages and rows a sheet of a worksheet split by rows holds, and where the rest are."""
    held = sheet.held
    if sheet.rows == "upper":
        return (
            f"Sheet {sheet.number} of {sheet.count}: {held}, touchpoints and backstage;"
            f" its other rows on sheet {sheet.number + 1}, to tape below"
        )
    text = f"Sheet {sheet.number} of {sheet.count}: {held}, channels to opportunities,"
    text += f" below sheet {sheet.number - 1}"
    if sheet.number < sheet.count:
        text += f"; the journey goes on on sheet {sheet.number + 1}"
    return text


def worksheet_svg(
    journey: Journey | None,
    stages: list[Stage] | None = None,
    theme: Theme | None = None,
    *,
    prefill: bool = False,
) -> str:
    """The worksheet as one SVG at true size: every cell holds a sticky note."""
    [sheet] = worksheet_sheets(journey, stages, theme, prefill=prefill)
    return sheet.svg


# --- The canvas on paper ----------------------------------------------------------------


def canvas_sheets(
    journey: Journey,
    analysis: Analysis | None = None,
    theme: Theme | None = None,
    *,
    area: tuple[float, float],
    unit: float,
    most: float | None = None,
) -> list[Sheet]:
    """The canvas on sheets of ``area`` (mm) at ``unit`` mm per drawing unit or more.

    As many stages side by side as fit at that unit; the rest on further sheets by
    whole stages (the outcomes with the last, or on a sheet of their own when that
    is the only way they fit), never shrunk. A sheet of few stages has wide columns
    whose cards stand side by side. Rows that do not fit under each other go on a
    sheet below, by whole rows (the cards and the legend first), each with its
    stage headers and row labels. A canvas that would leave the sheet mostly empty
    is set larger, up to ``most``. Each sheet's drawing has no title (the printed
    sheet's header says it once).
    """
    t = theme or get_theme(None)
    a = analysis or analyze(journey, quantiles=False)
    stages = list(journey.stages)
    n = len(stages)
    has_ends = bool(journey.outcomes)

    values = [tp.emotion for tp in journey.touchpoints if tp.emotion is not None]
    scale = (min(0, math.floor(min(values))), max(0, math.ceil(max(values)))) if values else None
    order = [r for r, _ in CANVAS_ROWS] + [LEGEND_ROW]

    def draw(
        p: Part,
        u: float,
        rows: list[str] | None = None,
        grid: Grid | None = None,
        whole: Canvas | None = None,
    ) -> Canvas:
        """Part ``p`` at unit ``u``; ``rows`` (the legend as a row of its own) if not
        all, ``whole`` the part with all its rows at ``u`` (see :func:`layout`)."""
        lo, hi, ends = p
        return layout(
            journey,
            a,
            t,
            stages=stages[lo : hi + 1],
            first=lo + 1,
            outcomes=ends,
            heading=False,
            width=area[0] / u,
            rows=None if rows is None else [r for r in rows if r != LEGEND_ROW],
            legend=rows is None or LEGEND_ROW in rows,
            grid=grid,
            whole=whole,
        )

    def fits(parts: list[Part], u: float, depth: int | None) -> list[Drawn] | None:
        """The poster: per part (a column of sheets) its sheets top to bottom, every
        sheet of a row of the poster holding the same rows at the same heights."""
        room = area[0] / u - LABEL - 2 * PAD
        if any(_columns(p) * COLUMN > room + 1e-6 for p in parts):
            return None
        budget = area[1] / u
        full = [draw(p, u, grid=Grid(emotion=scale)) for p in parts]
        heights: dict[str, float] = {}
        for c in full:
            for name, (_, h) in c.rows.items():
                heights[name] = max(heights.get(name, 0.0), h)
        grid = Grid(max(c.head for c in full), heights, scale)
        whole = [draw(p, u, grid=grid) for p in parts]
        if all(c.height <= budget + 1e-6 for c in whole):
            return [[(None, c)] for c in whole]
        groups: list[list[str]] = [[]]
        for name in [r for r in order if r in heights or r == LEGEND_ROW]:
            trial = [*groups[-1], name]
            tallest = max(
                draw(p, u, trial, grid, w).height for p, w in zip(parts, full, strict=True)
            )
            if tallest > budget + 1e-6:
                if not groups[-1]:
                    return None  # one row alone is too tall
                groups.append([name])
            else:
                groups[-1] = trial
        if depth is not None and len(groups) > depth:
            return None
        return [
            [(g, draw(p, u, g, grid, w)) for g in groups] for p, w in zip(parts, full, strict=True)
        ]

    def search(apart: bool) -> tuple[int, list[Part], list[Drawn]] | None:
        """The fewest sheets (then rows of sheets) at ``unit``; ``apart``: the
        outcomes on a part of their own."""
        per = max(1, int((area[0] / unit - LABEL - 2 * PAD) // COLUMN))
        best: tuple[int, int, list[Part], list[Drawn]] | None = None
        for count in range(1, n + 1):
            spans = _split(n, math.ceil(n / count))
            parts = [(lo, hi, has_ends and hi == n - 1 and not apart) for lo, hi in spans]
            if apart:
                parts.append((n, n - 1, True))
            if any(_columns(p) > per for p in parts):
                continue
            drawn = fits(parts, unit, None)
            if drawn is None:
                continue
            depth = max(len(g) for g in drawn)
            if best is None or (len(parts) * depth, depth) < (best[0], best[1]):
                best = (len(parts) * depth, depth, parts, drawn)
            if depth == 1:
                break
        return None if best is None else best[1:]

    found = search(False) or (search(True) if has_ends else None)
    if found is None:
        singles = [(k, k, False) for k in range(n)] + ([(n, n - 1, True)] if has_ends else [])
        tallest = {
            p: max((h for _, h in draw(p, unit).rows.values()), default=0.0) for p in singles
        }
        worst = max(singles, key=lambda p: tallest[p])
        what = "the outcomes" if worst[2] else f"stage {worst[0] + 1}"
        raise JourneyError(
            f"{journey.source}: the canvas does not fit a sheet of {area[0]:.0f} x "
            f"{area[1]:.0f} mm even one stage and one row to a sheet at 8 pt ({what} needs "
            f"{tallest[worst] * unit:.0f} mm for one row): use a larger --paper, --orientation,"
            " or --tile"
        )
    depth, parts, drawn = found
    u = unit
    if most is not None and most > unit:
        lo_u, hi_u = unit, most
        for _ in range(10):
            mid = (lo_u + hi_u) / 2
            again = fits(parts, mid, depth)
            if again is not None and max(len(g) for g in again) == depth:
                lo_u, drawn = mid, again
            else:
                hi_u = mid
        u = lo_u
    # A part whose rows all fit has nothing below it; nor has one without the rows
    # that the sheets of that row of the poster hold (no backstage in those stages).
    placed = [
        (r, k)
        for r in range(depth)
        for k, groups in enumerate(drawn)
        if r < len(groups) and (groups[r][1].rows or LEGEND_ROW in (groups[r][0] or ()))
    ]
    number_of = {rk: number for number, rk in enumerate(placed, 1)}
    count = len(placed)
    label = dict(CANVAS_ROWS) | {LEGEND_ROW: "the legend"}
    out = []
    for r, k in placed:
        lo, hi, ends = parts[k]
        names, c = drawn[k][r]
        number = number_of[(r, k)]
        held = _held(lo, hi, ends, n)
        caption = ""
        if count > 1:
            said = held
            shown = [x for x in names or () if x in c.rows or x == LEGEND_ROW]
            if names is not None and shown:
                first_row = label[shown[0]].split("\n")[0].lower()
                last_row = label[shown[-1]].split("\n")[0].lower()
                said += f" ({first_row} to {last_row})" if len(shown) > 1 else f" ({first_row})"
            where = [f"Sheet {number} of {count}: {said}"]
            for dr, dk, word in (
                (-1, 0, "above it:"),
                (0, -1, "continued from"),
                (0, 1, "continues on"),
                (1, 0, "below it:"),
            ):
                other = number_of.get((r + dr, k + dk))
                if other is not None:
                    where.append(f"{word} sheet {other}")
            caption = ", ".join(where)
        size = (c.width * u, c.height * u)
        desc = (
            f"Journey canvas, {held}: touchpoints, backstage, waits, channels, owners,"
            " emotion, pain points and opportunities."
        )
        out.append(
            Sheet(
                _svg(c, journey, t, "canvas", desc, size_mm=size),
                number,
                count,
                lo + 1,
                max(lo, hi) + 1,
                n,
                size[0],
                size[1],
                u,
                outcomes=ends and count > 1,
                note=caption,
            )
        )
    return out


#: A part of a printed canvas: stages ``lo`` to ``hi`` (0-based, inclusive; none when
#: ``hi < lo``), and whether it holds the outcomes column.
Part = tuple[int, int, bool]


def _columns(p: Part) -> int:
    """The columns a part takes: its stages and the outcomes'."""
    return p[1] - p[0] + 1 + (1 if p[2] else 0)


def _held(lo: int, hi: int, ends: bool, total: int) -> str:
    """What a part of the canvas holds: "stages 1-3 of 8", "stage 8 of 8, the outcomes"."""
    if hi < lo:
        return "the outcomes"
    held = f"stage {lo + 1}" if lo == hi else f"stages {lo + 1}-{hi + 1}"
    return f"{held} of {total}" + (", the outcomes" if ends else "")


Drawn = list[tuple[list[str] | None, Canvas]]


#: The legend, when a printed canvas is split between rows: it goes under the last.
LEGEND_ROW = "legend"
