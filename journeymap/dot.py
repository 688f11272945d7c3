"""The flow map as DOT text: pure, testable without Graphviz.

What the map shows, and why it is drawn so:
- stages are columns on one baseline, in declared order, each with a title
  band that nothing else enters; outcomes have the last column;
- inside a stage, touchpoints flow left to right; alternatives stack;
- loss is drawn where it happens: a stub under the touchpoint to a tag
  ("↘ 35% leave", "✖ 30% → Gave up"), while the lost outcome keeps its total;
- every warning state has a word and a shape or border style as well as a
  colour, and the legend explains what this map uses, and only that.

Positions come from :mod:`journeymap.flowlayout`; Graphviz only draws them
(``layout=nop2``), so the same journey gives the same text and the same picture.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from .analysis import Analysis, analyze
from .flowlayout import ARROW, Box, EdgeIn, Layout, NodeIn, Route, layout, polyline, text_size
from .model import Journey, Outcome, Touchpoint
from .themes import Theme, get_theme

__all__ = [
    "POOR_MARK",
    "Observed",
    "clean",
    "expected_ids",
    "html_escape",
    "percent",
    "subtitle_lines",
    "to_dot",
    "wrap",
]

#: Past this many transitions the map leaves out edge labels (the shares stay
#: in the analysis and the report): a wall of numbers nobody can read.
MAX_LABELLED_EDGES = 1500
#: Longest text drawn for one title, name or label, counted after escaping: maps
#: need no more, and Graphviz refuses HTML-like labels over 16,384 characters.
MAX_TEXT = 300
#: Longest edge path written; a longer one (an edge through hundreds of columns) is
#: drawn direct, because Graphviz reads no attribute over 16 kB.
MAX_SPLINE = 15000
#: Longest tooltip, counted after escaping.
MAX_TOOLTIP = 1000

# C0 and C1 control characters, DEL and lone surrogates break DOT, Graphviz or the
# SVG's XML (a NUL ends Graphviz's string; a form feed is not allowed in XML).
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def clean(text: str) -> str:
    """``text`` without the characters no map can carry; tabs become spaces.

    The loader refuses them too, but journeys can be built in memory.
    """
    return _CONTROL.sub("", text.replace("\t", " "))


def shorten(text: str, limit: int, escape: Callable[[str], str] | None = None) -> str:
    """``text`` cut with an ellipsis so that ``escape(result)`` has at most ``limit`` characters.

    Measured after escaping, because escaping can grow text fivefold (``&`` is
    ``&amp;``), and never cutting inside an escape.
    """
    esc = escape or html_escape
    if len(text) * 6 <= limit or len(esc(text)) <= limit:
        return text
    room = limit - len(esc("…"))
    used = 0
    for i, ch in enumerate(text):
        used += len(esc(ch))
        if used > room:
            return text[:i].rstrip() + "…"
    return text  # pragma: no cover - the whole text fitted after all


def html_escape(text: str) -> str:
    return (
        clean(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", " ")
    )


def wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=True) or [""]


def _dq(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _q(text: str, limit: int | None = None) -> str:
    """A DOT double-quoted string, at most ``limit`` characters inside the quotes."""
    text = clean(text)
    if limit is not None:
        text = shorten(text, limit, _dq)
    return '"' + _dq(text) + '"'


class _Label:
    """An HTML-like label built row by row, with at least the size Graphviz gives it.

    The layout needs each node's size before Graphviz sees it, so the size is
    added up from the same rows the label is made of.
    """

    def __init__(self, spacing: int = 0) -> None:
        self.rows: list[str] = []
        self.width = 0.0
        self.height = 0.0
        self.spacing = spacing

    def text(
        self, text: str, width: int, size: int, color: str | None = None, bold: bool = False
    ) -> None:
        """A paragraph wrapped at ``width`` characters, never inside a word with a hyphen.

        Split at a hyphen, "no-shows" reads as two words on a map and in a search.
        """
        flat = clean(shorten(text, MAX_TEXT)).replace("\n", " ")
        lines = textwrap.wrap(flat, width, break_long_words=True, break_on_hyphens=False)
        self.lines(lines or [""], size, color, bold)

    def lines(
        self, lines: list[str], size: int, color: str | None = None, bold: bool = False
    ) -> None:
        parts = [html_escape(line) for line in lines]
        body = '<br align="left"/>'.join(parts) + '<br align="left"/>'
        if bold:
            body = f"<b>{body}</b>"
        color_attr = f' color="{html_escape(color)}"' if color else ""
        self.rows.append(
            f'<tr><td align="left" balign="left"><font point-size="{size}"{color_attr}>'
            f"{body}</font></td></tr>"
        )
        w, h = text_size(lines, size, bold)
        self.width = max(self.width, w + 2)
        self.height += h + 2 + self.spacing

    def html(self) -> str:
        return (
            f'<<table border="0" cellborder="0" cellspacing="{self.spacing}" cellpadding="1">'
            + "".join(self.rows)
            + "</table>>"
        )


def percent(p: float) -> str:
    """A share for people: never "0%" for a share above 0, nor "100%" below 1."""
    value = p * 100
    if 0 < value < 0.05:
        return "<0.1%"
    if 99.5 <= value < 100:
        return ">99%"
    if value == 0 or value >= 10 or abs(value - round(value)) < 1e-9:
        return f"{value:.0f}%"
    return f"{value:.1f}%".replace(".0%", "%")


def _emotion(e: float) -> str:
    face = "☺" if e > 0 else "☹" if e < 0 else "○"
    sign = "" if e == 0 else "+" if e > 0 else "−"
    return f"{face} {sign}{abs(e):g}"


#: The mark of a touchpoint that matters to customers but works poorly (the finding
#: `important-but-poor`): the same word on the flow map, the canvas and the cards.
POOR_MARK = "▲ IMPORTANT BUT POOR"

# Node margins (Graphviz's ``margin="0.10,0.05"``) and a little slack, in points.
_PAD_X = 2 * 7.2 + 6
_PAD_Y = 2 * 3.6 + 4


@dataclass
class _Node:
    """What the map draws for one touchpoint or outcome, and its size."""

    label: str
    fill: str
    border: str
    style: str
    width: float
    height: float


def _touchpoint_node(
    tp: Touchpoint, a: Analysis, theme: Theme, poor: frozenset[str] = frozenset()
) -> _Node:
    lab = _Label()
    if tp.layer == "backstage":
        lab.lines(["BACKSTAGE"], 8, theme.muted)
    lab.text(tp.title, 22, 11, theme.text, bold=True)
    meta = " · ".join(x for x in (tp.channel, tp.owner) if x)
    if meta:
        lab.text(meta, 32, 9, theme.muted)
    facts = []
    if tp.volume is not None:
        facts.append(f"{tp.volume:,.0f} reach")
    if tp.quality is not None:
        facts.append(f"quality {tp.quality}/5")
    if tp.emotion is not None:
        facts.append(_emotion(tp.emotion))
    if facts:
        lab.text("  ".join(facts), 32, 9, theme.muted)
    fill, border, style = theme.touchpoint_fill, theme.touchpoint_border, "rounded,filled"
    if tp.layer == "backstage":
        fill, border, style = theme.backstage_fill, theme.backstage_border, "rounded,filled,dashed"
    warnings = []
    if tp.id in poor:
        warnings.append((POOR_MARK, theme.trap_border))
    if tp.id in a.dead_ends:
        warnings.append(("✖ DEAD END: no next step", theme.dead_border))
        fill, border, style = theme.dead_fill, theme.dead_border, "rounded,filled,bold"
    elif tp.id in a.traps:
        warnings.append(("⚠ TRAP: no way to success", theme.trap_border))
        fill, border, style = theme.trap_fill, theme.trap_border, "rounded,filled,bold"
    if tp.id in a.unreachable:
        warnings.append(("UNREACHABLE from any entry", theme.muted))
        style = "rounded,filled,dotted"
    for text, color in warnings:
        lab.lines([text], 9, color, bold=True)
    return _Node(lab.html(), fill, border, style, lab.width + _PAD_X, lab.height + _PAD_Y)


def _outcome_node(o: Outcome, theme: Theme, share: float | None) -> _Node:
    lab = _Label()
    if o.result == "success":
        word, mark, fill, border = "SUCCESS", "✔", theme.success_fill, theme.success_border
    else:
        word, mark, fill, border = "LOST", "✖", theme.lost_fill, theme.lost_border
    lab.lines([f"{mark} {word}"], 9, border, bold=True)
    lab.text(o.title, 24, 11, theme.text, bold=True)
    if share is not None:
        lab.lines([f"{percent(share)} of customers end here"], 9, theme.muted)
    if o.result == "lost":
        # An octagon holds its label inside its slanted sides: about 1.4 times as wide.
        return _Node(
            lab.html(),
            fill,
            border,
            "filled,bold",
            lab.width * 1.3 + _PAD_X,
            lab.height * 1.25 + _PAD_Y,
        )
    return _Node(
        lab.html(), fill, border, "rounded,filled,bold", lab.width + _PAD_X, lab.height + _PAD_Y
    )


def subtitle_lines(j: Journey, a: Analysis) -> list[str]:
    """What the map's title block says under the title: whose journey, and how many
    reach success from each entry (a printed sheet carries them in its header)."""
    out = []
    if j.persona is not None:
        who = j.persona.name + (f" — {j.persona.description}" if j.persona.description else "")
        out.append(f"Persona: {who}")
    if a.success_probability:
        parts = [f"{j.nodes[e].title} {percent(p)}" for e, p in a.success_probability.items()]
        out.append(f"Reach a success outcome, starting at: {'; '.join(parts)}")
    return out


def _title(j: Journey, a: Analysis, theme: Theme) -> _Label:
    lab = _Label(spacing=2)
    lab.text(theme.title or j.title, 60, 22, theme.text, bold=True)
    for k, line in enumerate(subtitle_lines(j, a)):
        persona = k == 0 and j.persona is not None  # the persona's line comes first
        lab.text(line, 110 if persona else 130, 12 if persona else 11, theme.muted)
    return lab


@dataclass(frozen=True)
class Observed:
    """What an event log shows on a declared journey's map (``report --log``).

    ``steps`` counts, per pair of node ids, how often a case went from one
    straight to the other: declared transitions and undeclared ones alike. On
    the map, line widths follow these counts, each label says how many were
    seen, and a step the journey does not declare is drawn dashed in the
    theme's ``undeclared_edge`` colour and labelled NOT DECLARED.
    """

    steps: dict[tuple[str, str], int]

    @property
    def most(self) -> int:
        return max(self.steps.values(), default=0)


@dataclass(frozen=True)
class _EdgeDraw:
    """One drawn transition: what it looks like, what it says."""

    source: str
    target: str
    color: str
    style: str
    width: float
    label: list[str]
    tooltip: str
    ident: str
    undeclared: bool = False


def _edge_draws(
    journey: Journey,
    a: Analysis,
    theme: Theme,
    labels: bool,
    observed: Observed | None = None,
) -> tuple[list[_EdgeDraw], dict[str, list[tuple[str, str]]]]:
    """The transitions drawn as edges, and per touchpoint its loss tags (text, edge id).

    A transition to a lost outcome is a tag under its touchpoint; so is drop-off.
    With ``observed``, widths follow the steps seen in the log and the steps the
    journey does not declare are drawn too (see :class:`Observed`).
    """
    most = observed.most if observed is not None else 0

    def seen(source: str, target: str) -> int | None:
        return None if observed is None else observed.steps.get((source, target), 0)

    def width_of(n: int | None, p: float, numbered: bool) -> float:
        if n is not None:
            return 1.0 + 4.5 * (n / most if most else 0.0)
        return 1.0 + 2.5 * p if numbered else 1.2

    has_numbers = {
        tp.id
        for tp in journey.touchpoints
        if any(t.probability is not None or t.volume is not None for t in tp.next)
    }
    outcome_of = {o.id: o for o in journey.outcomes}
    draws: list[_EdgeDraw] = []
    tags: dict[str, list[tuple[str, str]]] = {}
    for tp in journey.touchpoints:
        shares, _ = tp.shares()
        numbered = tp.id in has_numbers
        if tp.id in a.drop_off:
            tags.setdefault(tp.id, []).append(
                (f"↘ {percent(a.drop_off[tp.id])} leave", f"dropoff-{tp.id}")
            )
        for t, p in zip(tp.next, shares, strict=True):
            ident = f"edge-{tp.id}--{t.to}"
            outcome = outcome_of.get(t.to)
            n = seen(tp.id, t.to)
            if outcome is not None and outcome.result == "lost":
                share = f"{percent(p)} " if numbered else ""
                count = f" · seen {n:,}" if n is not None else ""
                tags.setdefault(tp.id, []).append((f"✖ {share}→ {outcome.title}{count}", ident))
                continue
            parts = []
            if numbered:
                parts.append(percent(p))
            if n is not None:
                parts.append(f"seen {n:,}")
            if t.wait:
                parts.append(f"⏱ {t.wait}")
            if t.label:
                parts.append(clean(t.label))
            text = " · ".join(parts)
            lines = wrap(shorten(text, 80), 18)[:4] if text and labels else []
            # Rework (a step back) is known once the layout has placed the columns.
            color = theme.success_border if outcome is not None else theme.edge
            style = "solid"
            width = width_of(n, p, numbered)
            tip = f"{tp.id} → {t.to}" + (f": {text}" if text else "")
            draws.append(_EdgeDraw(tp.id, t.to, color, style, width, lines, tip, ident))
    if observed is not None:
        declared = {(tp.id, t.to) for tp in journey.touchpoints for t in tp.next}
        touchpoints = {tp.id for tp in journey.touchpoints}
        for (source, target), n in sorted(observed.steps.items()):
            if (source, target) in declared or source not in touchpoints:
                continue
            if target not in journey.nodes or n <= 0:
                continue
            ident = f"edge-{source}--{target}"
            outcome = outcome_of.get(target)
            if outcome is not None and outcome.result == "lost":
                tags.setdefault(source, []).append(
                    (f"✖ NOT DECLARED, seen {n:,} → {outcome.title}", ident)
                )
                continue
            lines = ["NOT DECLARED", f"seen {n:,}"] if labels else []
            tip = f"{source} → {target}: not declared, seen {n:,} times in the log"
            draws.append(
                _EdgeDraw(
                    source,
                    target,
                    theme.undeclared_edge,
                    "dashed",
                    width_of(n, 0.0, False),
                    lines,
                    tip,
                    ident,
                    undeclared=True,
                )
            )
    return draws, tags


def _pos(points: Iterable[tuple[float, float]], height: float) -> str:
    return " ".join(f"{x:.2f},{height - y:.2f}" for x, y in points)


def _spline(route: Route, height: float) -> str:
    tx, ty = route.tip
    return f"e,{tx:.2f},{height - ty:.2f} " + _pos(route.points, height)


def _at(box: Box, height: float) -> str:
    return (
        f'pos="{box.cx:.2f},{height - box.cy:.2f}", width={box.w / 72:.3f}, height={box.h / 72:.3f}'
    )


def _bb(box: Box, height: float) -> str:
    return f'bb="{box.x:.2f},{height - box.bottom:.2f},{box.right:.2f},{height - box.y:.2f}"'


def _edge_label(lines: list[str]) -> str:
    """A left-aligned multi-line DOT label (``\\l`` ends each line)."""
    return '"' + "".join(_dq(line) + "\\l" for line in lines) + '"'


# The legend: one cell per thing the map shows, in a grid under the map.
_CELL_W = 270.0
_CELL_H = 30.0
_SAMPLE_W = 56.0
_LEGEND_HEAD = 26.0


def _legend_items(
    journey: Journey,
    a: Analysis,
    theme: Theme,
    draws: list[_EdgeDraw],
    tags: dict[str, list[tuple[str, str]]],
    poor: bool,
) -> list[tuple[tuple[str, ...], str]]:
    """(sample, explanation) for every kind of thing drawn on this map, and nothing else.

    A sample is ("node", shape, style, fill, border, text), ("edge", colour,
    style, width), ("widths",), ("stub", text), ("text", symbol) or ("mark",
    words, colour).
    """
    tps = journey.touchpoints
    items: list[tuple[tuple[str, ...], str]] = []
    if any(tp.layer != "backstage" for tp in tps):
        items.append(
            (
                (
                    "node",
                    "box",
                    "rounded,filled",
                    theme.touchpoint_fill,
                    theme.touchpoint_border,
                    "",
                ),
                "touchpoint the customer sees",
            )
        )
    if any(tp.layer == "backstage" for tp in tps):
        items.append(
            (
                (
                    "node",
                    "box",
                    "rounded,filled,dashed",
                    theme.backstage_fill,
                    theme.backstage_border,
                    "",
                ),
                "BACKSTAGE (dashed border): behind the scenes",
            )
        )
    if a.dead_ends:
        items.append(
            (
                ("node", "box", "rounded,filled,bold", theme.dead_fill, theme.dead_border, "✖"),
                "✖ DEAD END: no next step, everyone here is lost",
            )
        )
    # A dead end is a trap too, but drawn and named as a dead end only.
    if set(a.traps) - set(a.dead_ends):
        items.append(
            (
                ("node", "box", "rounded,filled,bold", theme.trap_fill, theme.trap_border, "⚠"),
                "⚠ TRAP: success can't be reached from here",
            )
        )
    if a.unreachable:
        items.append(
            (
                ("node", "box", "rounded,filled,dotted", theme.touchpoint_fill, theme.muted, ""),
                "UNREACHABLE (dotted border): no entry leads here",
            )
        )
    if poor:
        items.append(
            (("mark", POOR_MARK, theme.trap_border), "matters to customers, works poorly today")
        )
    if any(o.result == "success" for o in journey.outcomes):
        items.append(
            (
                (
                    "node",
                    "box",
                    "rounded,filled,bold",
                    theme.success_fill,
                    theme.success_border,
                    "✔",
                ),
                "✔ SUCCESS outcome",
            )
        )
    if any(o.result == "lost" for o in journey.outcomes):
        items.append(
            (
                ("node", "octagon", "filled,bold", theme.lost_fill, theme.lost_border, "✖"),
                "✖ LOST outcome (octagon), with the share of all customers who end there",
            )
        )
    success = {o.id for o in journey.outcomes if o.result == "success"}
    undeclared = [d for d in draws if d.undeclared]
    plain = [d for d in draws if d.target not in success and d.style == "solid"]
    if plain:
        items.append((("edge", theme.edge, "solid", "2.2"), "next step customers take"))
    if any(d.target in success for d in draws):
        items.append(
            (("edge", theme.success_border, "solid", "2.2"), "step into a success outcome")
        )
    if any(d.style == "dashed" and not d.undeclared for d in draws):
        items.append(
            (
                ("edge", theme.rework_edge, "dashed", "1.6"),
                "dashed: back to an earlier step (rework)",
            )
        )
    if undeclared or any(text.startswith("✖ NOT DECLARED") for f in tags.values() for text, _ in f):
        items.append(
            (
                ("edge", theme.undeclared_edge, "dashed", "2.2"),
                "NOT DECLARED (dashed): a step the log shows that the journey does not declare",
            )
        )
    observed = any(line.startswith("seen ") for d in draws for line in d.label)
    if any(d.label and "%" in d.label[0] for d in draws):
        items.append((("text", "30%"), "share of customers here who take that step (declared)"))
    if observed:
        items.append((("text", "seen 412"), "steps the event log shows"))
        items.append((("widths",), "thicker line = more steps seen in the log"))
    elif any(d.label and "%" in d.label[0] for d in draws):
        items.append((("widths",), "thicker line = larger share"))
    if any("⏱" in line for d in draws for line in d.label):
        items.append((("text", "⏱ 2d"), "waiting time before that step"))
    kinds = [text for found in tags.values() for text, _ in found]
    if any(text.startswith("↘") for text in kinds):
        items.append((("stub", "↘ 35% leave"), "share of customers here who leave the journey"))
    if any(text.startswith("✖") for text in kinds):
        items.append(
            (("stub", "✖ 30% → Lost"), "share of customers here who go to that lost outcome")
        )
    if any(tp.emotion is not None for tp in tps):
        items.append((("text", "☺ +2  ☹ −2"), "how the customer feels, −2 to +2"))
    return items


def _legend_dot(
    items: list[tuple[tuple[str, ...], str]],
    origin: tuple[float, float],
    columns: int,
    theme: Theme,
    height: float,
) -> tuple[list[str], Box]:
    """The legend's DOT lines (a box of real samples, in a grid) and its box.

    Samples are drawn as what they explain: a node of the very shape, border
    and colours, an edge of the very colour, style and width.
    """
    out: list[str] = []
    x0, y0 = origin
    rows = (len(items) + columns - 1) // columns

    def invisible(name: str, at: tuple[float, float]) -> None:
        out.append(
            f'    {_q(name)} [pos="{at[0]:.2f},{height - at[1]:.2f}", shape=point, style=invis,'
            ' width=0.01, height=0.01, label=""];'
        )

    def text_node(
        name: str, lines: list[str], left: float, cy: float, color: str, bold: bool
    ) -> None:
        w, h = text_size(lines, 9, bold)
        body = '<br align="left"/>'.join(html_escape(x) for x in lines) + '<br align="left"/>'
        if bold:
            body = f"<b>{body}</b>"
        out.append(
            f"    {_q(name)} [{_at(Box(left, cy - h / 2, w, h), height)}, shape=plaintext,"
            f" style=solid, margin=0, label=<{body}>, fontsize=9,"
            f" fontcolor={_q(color)}];"
        )

    for k, (sample, text) in enumerate(items):
        col, row = k % columns, k // columns
        x = x0 + 12 + col * _CELL_W
        cy = y0 + _LEGEND_HEAD + row * _CELL_H + _CELL_H / 2
        name = f"__legend{k}"
        kind = sample[0]
        text_left = x + _SAMPLE_W
        if kind == "node":
            _, shape, style, fill, border, inner = sample
            box = Box(x, cy - 10, _SAMPLE_W - 12, 20)
            out.append(
                f"    {_q(name)} [{_at(box, height)}, fixedsize=true, shape={shape},"
                f" style={_q(style)}, fillcolor={_q(fill)}, color={_q(border)}, fontsize=9,"
                f" fontcolor={_q(border)}, label={_q(inner)}];"
            )
        elif kind == "stub":
            invisible(name + "a", (x + 4, cy - 9))
            invisible(name + "b", (x + 14, cy))
            pts: list[tuple[float, float]] = [(x + 4, cy - 9)]
            polyline(pts, [(x + 4, cy)], (x + 14, cy))
            out.append(
                f'    {_q(name + "a")} -> {_q(name + "b")} [pos="{_pos(pts, height)}",'
                f" color={_q(theme.lost_border)}, penwidth=1.6, arrowhead=none];"
            )
            tag = wrap(sample[1], 30)
            text_node(name + "t", tag, x + 16, cy, theme.lost_border, True)
            text_left = x + 16 + text_size(tag, 9, True)[0] + 6
        elif kind in ("edge", "widths"):
            end = x + _SAMPLE_W - 12
            invisible(name + "a", (x, cy))
            invisible(name + "b", (end, cy))
            if kind == "edge":
                lines = [(sample[1], sample[2], sample[3], cy)]
            else:
                lines = [(theme.edge, "solid", "1.0", cy - 5), (theme.edge, "solid", "3.5", cy + 5)]
            for color, style, width, y in lines:
                pts = [(x, y), (x + 10, y), (end - ARROW - 10, y), (end - ARROW, y)]
                out.append(
                    f'    {_q(name + "a")} -> {_q(name + "b")} [pos="e,{end:.2f},{height - y:.2f}'
                    f' {_pos(pts, height)}", color={_q(color)}, style={style}, penwidth={width}];'
                )
        else:  # a symbol or a mark as it appears on the map
            color, bold = (sample[2], True) if kind == "mark" else (theme.muted, False)
            text_node(name, [sample[1]], x, cy, color, bold)
            text_left = max(text_left, x + text_size([sample[1]], 9, bold)[0] + 8)
        words = wrap(text, max(12, int((_CELL_W - (text_left - x) - 8) / 5.6)))[:2]
        text_node(name + "x", words, text_left, cy, theme.text, False)
    box = Box(x0, y0, columns * _CELL_W + 16, _LEGEND_HEAD + rows * _CELL_H + 8)
    w, h = text_size(["Legend"], 11, True)
    cluster = [
        '  subgraph "cluster_legend" {',
        f"    graph [{_bb(box, height)}, label=<<b>Legend</b>>, fontsize=11,"
        f' lp="{x0 + 12 + w / 2:.2f},{height - y0 - 8 - h / 2:.2f}", style="rounded",'
        f' color={_q(theme.stage_border)}, id="legend"];',
        *out,
        "  }",
    ]
    return cluster, box


def to_dot(
    journey: Journey,
    analysis: Analysis | None = None,
    theme: Theme | None = None,
    *,
    links: str | None = None,
    anchors: bool | None = None,
    edge_labels: bool | None = None,
    observed: Observed | None = None,
    legend_width: float | None = None,
) -> str:
    """The flow map of ``journey`` as DOT source with every position given.

    ``observed`` draws what an event log shows over it (see :class:`Observed`).
    ``legend_width`` (points) keeps the legend's grid that narrow, so that a map
    printed over several sheets has a legend that fits on one of them.

    ``links`` makes every touchpoint and outcome a link, e.g. ``"#tp-{id}"``, so a
    map inside a report leads to each node's details. ``edge_labels`` defaults to
    labels up to :data:`MAX_LABELLED_EDGES` transitions; the renderer turns them
    off to retry a drawing Graphviz got wrong. ``anchors`` is accepted for the
    renderer's retries and changes nothing: the columns no longer need anchors.
    """
    del anchors

    def href(ident: str) -> str:
        return f", href={_q(links.format(id=ident))}" if links else ""

    a = analysis or analyze(journey, quantiles=False)
    theme = theme or get_theme(None)
    transitions = sum(len(tp.next) for tp in journey.touchpoints)
    labels = transitions <= MAX_LABELLED_EDGES if edge_labels is None else edge_labels
    poor = a.poor
    ends = a.ends()
    draws, tags = _edge_draws(journey, a, theme, labels, observed)

    nodes: dict[str, _Node] = {}
    for tp in journey.touchpoints:
        nodes[tp.id] = _touchpoint_node(tp, a, theme, poor)
    for o in journey.outcomes:
        share = ends.get(o.id, 0.0 if o.result == "lost" else None)
        nodes[o.id] = _outcome_node(o, theme, share)
    tag_lines = {ident: [wrap(text, 30)[:2] for text, _ in found] for ident, found in tags.items()}

    def node_in(ident: str) -> NodeIn:
        n = nodes[ident]
        sizes = tuple(
            (w + 4, h + 2)
            for w, h in (text_size(lines, 9, bold=True) for lines in tag_lines.get(ident, []))
        )
        return NodeIn(ident, n.width, n.height, sizes)

    stage_titles = [
        wrap(clean(shorten(f"{k + 1}. {s.title}", MAX_TEXT)), 30)
        for k, s in enumerate(journey.stages)
    ]
    title_sizes = [text_size(lines, 14, bold=True) for lines in stage_titles]
    if journey.outcomes:
        title_sizes.append(text_size(["Outcomes"], 14, bold=True))
    title = _title(journey, a, theme)
    edges_in = [
        EdgeIn(d.source, d.target, text_size(d.label, 9) if d.label else None) for d in draws
    ]
    lay = layout(
        [[node_in(tp.id) for tp in journey.touchpoints_in(s.id)] for s in journey.stages],
        [node_in(o.id) for o in journey.outcomes],
        edges_in,
        title=(title.width, title.height),
        stage_titles=title_sizes,
        legend=(0.0, 0.0),
    )
    draws = [
        replace(d, color=theme.rework_edge, style="dashed")
        if route.kind != "forward" and not d.undeclared
        else d
        for d, route in zip(draws, lay.edges, strict=True)
    ]
    items = _legend_items(journey, a, theme, draws, tags, bool(poor))
    room = lay.width - 48 if legend_width is None else legend_width - 16
    columns = max(1, min(len(items), int(room // _CELL_W)))
    legend_h = _LEGEND_HEAD + ((len(items) + columns - 1) // columns) * _CELL_H + 8
    height = lay.legend.y + legend_h + 24.0
    width = max(lay.width, lay.legend.x + columns * _CELL_W + 16 + 24.0)
    return _dot_text(
        journey,
        a,
        theme,
        lay,
        nodes,
        draws,
        tags,
        tag_lines,
        stage_titles,
        title,
        items,
        columns,
        width,
        height,
        href,
    )


def _dot_text(
    journey: Journey,
    a: Analysis,
    theme: Theme,
    lay: Layout,
    nodes: dict[str, _Node],
    draws: list[_EdgeDraw],
    tags: dict[str, list[tuple[str, str]]],
    tag_lines: dict[str, list[list[str]]],
    stage_titles: list[list[str]],
    title: _Label,
    items: list[tuple[tuple[str, ...], str]],
    columns: int,
    width: float,
    height: float,
    href: Callable[[str], str],
) -> str:
    font = _q(theme.font)
    out = [
        f"digraph {_q(journey.journey)} {{",
        f"  graph [layout=nop2, fontname={font}, bgcolor={_q(theme.background)}, pad=0.1,"
        f' bb="0,0,{width:.2f},{height:.2f}", outputorder=edgesfirst,'
        f" id={_q('map-' + journey.journey)}];",
        f'  node [shape=box, style="rounded,filled", fontname={font}, fontcolor={_q(theme.text)},'
        ' margin="0.10,0.05", penwidth=1.3];',
        f"  edge [fontname={font}, fontsize=9, color={_q(theme.edge)}, fontcolor={_q(theme.muted)},"
        " arrowsize=0.7];",
        f"  __title [{_at(lay.title, height)}, shape=plaintext, style=solid, margin=0, label={title.html()},"
        ' id="map-title"];',
    ]
    # Invisible corners keep Graphviz's bounding box, and so the margins, as laid out.
    out.append(
        '  __corner0 [pos="0,0", shape=point, style=invis, width=0.01, height=0.01, label=""];'
    )
    out.append(
        f'  __corner1 [pos="{width:.2f},{height:.2f}", shape=point, style=invis, width=0.01,'
        ' height=0.01, label=""];'
    )
    stage_nodes: list[list[str]] = [
        [tp.id for tp in journey.touchpoints_in(s.id)] for s in journey.stages
    ]
    if journey.outcomes:
        stage_nodes.append([o.id for o in journey.outcomes])
    for k, ids in enumerate(stage_nodes):
        box, band = lay.stages[k], lay.bands[k]
        if k < len(journey.stages):
            stage = journey.stages[k]
            lines = stage_titles[k]
            label = (
                "<<b>"
                + '<br align="left"/>'.join(html_escape(x) for x in lines)
                + '<br align="left"/></b>>'
            )
            ident, fill = f"stage-{stage.id}", theme.stage_fill
            name = f"cluster_{k}"
        else:
            lines = ["Outcomes"]
            label, ident, fill, name = (
                "<<b>Outcomes</b>>",
                "stage-outcomes",
                theme.background,
                "cluster_outcomes",
            )
        w, h = text_size(lines, 14, bold=True)
        lp_x = box.x + 10 + w / 2
        lp_y = band.y + 8 + h / 2
        out.append(f"  subgraph {_q(name)} {{")
        out.append(
            f"    graph [{_bb(box, height)}, label={label}, fontsize=14,"
            f' lp="{lp_x:.2f},{height - lp_y:.2f}", style="rounded,filled", fillcolor={_q(fill)},'
            f" color={_q(theme.stage_border)}, id={_q(ident)}];"
        )
        for node_id in ids:
            n = nodes[node_id]
            box_n = lay.nodes[node_id]
            node = journey.nodes[node_id]
            shape = ""
            if isinstance(node, Outcome) and node.result == "lost":
                # its label is sized for the octagon already; Graphviz would add half again
                shape = "shape=octagon, fixedsize=true, "
            tooltip = node.description or node.title
            out.append(
                f"    {_q(node_id)} [{shape}id={_q('map-tp-' + node_id)}{href(node_id)},"
                f" {_at(box_n, height)}, label={n.label}, fillcolor={_q(n.fill)},"
                f" color={_q(n.border)}, style={_q(n.style)}, tooltip={_q(tooltip, MAX_TOOLTIP)}];"
            )
        out.append("  }")
    for i, d in enumerate(draws):
        route = lay.edges[i]
        spline = _spline(route, height)
        if len(spline) > MAX_SPLINE:  # Graphviz reads no attribute over 16 kB: go direct
            (x0, y0), (x1, y1) = route.points[0], route.tip
            direct = Route(
                [(x0, y0), ((x0 + x1) / 2, y0), ((x0 + x1) / 2, y1), (x1 - ARROW, y1)],
                (x1, y1),
                route.kind,
            )
            spline = _spline(direct, height)
        attrs = [f'pos="{spline}"']
        if d.label and route.label is not None:
            lb = route.label
            attrs.append(f"label={_edge_label(d.label)}")
            attrs.append(f'lp="{lb.cx:.2f},{height - lb.cy:.2f}"')
        if d.style != "solid":
            attrs.append(f"style={d.style}")
        attrs.append(f"color={_q(d.color)}")
        attrs.append(f"penwidth={d.width:.2f}")
        attrs.append(f"tooltip={_q(d.tooltip, MAX_TOOLTIP)}")
        attrs.append(f"id={_q(d.ident)}")
        out.append(f"  {_q(d.source)} -> {_q(d.target)} [{', '.join(attrs)}];")
    # Loss tags: a short stub from the touchpoint to each.
    for tp_id, found in tags.items():
        for k, (text, ident) in enumerate(found):
            tag = lay.tags[(tp_id, k)]
            stub = lay.stubs[(tp_id, k)]
            name = f"__tag/{tp_id}/{k}"
            lines = tag_lines[tp_id][k]
            body = '<br align="left"/>'.join(html_escape(x) for x in lines) + '<br align="left"/>'
            tag_id = (
                ident.replace("edge-", "lost-", 1) if ident.startswith("edge-") else ident + "-tag"
            )
            out.append(
                f"  {_q(name)} [{_at(tag, height)}, shape=plaintext, style=solid, margin=0,"
                f" label=<<b>{body}</b>>, fontsize=9, fontcolor={_q(theme.lost_border)},"
                f" id={_q(tag_id)}];"
            )
            m = re.search(r"(\d+(?:\.\d+)?)%", text)
            width = 1.0 + 2.5 * float(m.group(1)) / 100 if m else 1.2
            out.append(
                f'  {_q(tp_id)} -> {_q(name)} [pos="{_spline(stub, height)}",'
                f" color={_q(theme.lost_border)}, penwidth={width:.2f}, arrowhead=none,"
                f" tooltip={_q(text, MAX_TOOLTIP)}, id={_q(ident)}];"
            )
    legend, _ = _legend_dot(items, (lay.legend.x, lay.legend.y), columns, theme, height)
    out.extend(legend)
    out.append("}")
    return "\n".join(out) + "\n"


def expected_ids(journey: Journey) -> set[str]:
    """The SVG ids a complete map has: one per node and one per transition."""
    ids = {f"map-tp-{ident}" for ident in journey.nodes}
    ids.update(f"edge-{tp.id}--{t.to}" for tp in journey.touchpoints for t in tp.next)
    return ids
