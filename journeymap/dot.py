"""The flow map as DOT text: pure, testable without Graphviz.

Layout rules, and why:
- one cluster per stage, left to right in declared order, kept in order by
  invisible anchor nodes between stages (clusters alone do not order columns);
- transitions that go back to an earlier stage (rework, re-registering) do not
  constrain the layout, so loops cannot drag a stage out of its column;
- every warning state has a word and a border style as well as a colour.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Iterable

from .analysis import Analysis, analyze
from .model import Journey, Outcome, Touchpoint
from .themes import Theme, get_theme

__all__ = ["clean", "expected_ids", "html_escape", "layout_cost", "to_dot", "wrap"]

# Edge labels are the main cost of a Graphviz layout; past this many edges the
# map drops them (the shares stay in the analysis and the report).
MAX_LABELLED_EDGES = 1500
#: Above this many touchpoints, columns are kept by the stage chain alone, and Graphviz's
#: crossing and ranking searches are cut short: the per-touchpoint anchors make layout
#: grow steeply (a 1,000-touchpoint journey took 246 s with them, 13 s without).
MAX_ANCHORED = 150
#: Above this layout cost (see :func:`layout_cost`), the lighter layout is used
#: whatever the touchpoint count: 500 outcomes on a 29-touchpoint journey took
#: 135 s with anchors, because outcomes, edges and labels cost as much as touchpoints.
MAX_ANCHORED_COST = 1400
#: Longest text drawn for one title, name or label, counted after escaping: maps
#: need no more, and Graphviz refuses HTML-like labels over 16,384 characters.
MAX_TEXT = 300
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


def _lines(
    text: str, width: int, size: int | None = None, color: str | None = None, bold: bool = False
) -> str:
    parts = [html_escape(line) for line in wrap(clean(shorten(text, MAX_TEXT)), width)]
    body = '<br align="left"/>'.join(parts) + '<br align="left"/>'
    if bold:
        body = f"<b>{body}</b>"
    attrs = (f' point-size="{size}"' if size else "") + (
        f' color="{html_escape(color)}"' if color else ""
    )
    return f"<font{attrs}>{body}</font>" if attrs else body


def _text(text: str) -> str:
    """Escaped text for an HTML-like label, cut to :data:`MAX_TEXT`."""
    return html_escape(shorten(text, MAX_TEXT))


def _row(cell: str) -> str:
    return f'<tr><td align="left" balign="left">{cell}</td></tr>'


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
    return f"{face} {e:+g}".replace("+0", "0").replace("-", "−")


#: The mark of a touchpoint that matters to customers but works poorly (the finding
#: `important-but-poor`): the same word on the flow map, the canvas and the cards.
POOR_MARK = "▲ IMPORTANT BUT POOR"


def _touchpoint_label(
    tp: Touchpoint, a: Analysis, theme: Theme, poor: frozenset[str] = frozenset()
) -> tuple[str, str, str, str]:
    """HTML label, fill, border and style of one touchpoint."""
    rows = [_row(_lines(tp.title, 26, 11, theme.text, bold=True))]
    meta = " · ".join(x for x in (tp.channel, tp.owner) if x)
    if meta:
        rows.append(_row(_lines(meta, 34, 9, theme.muted)))
    facts = []
    if tp.volume is not None:
        facts.append(f"{tp.volume:,.0f} reach")
    if tp.quality is not None:
        facts.append(f"quality {tp.quality}/5")
    if tp.emotion is not None:
        facts.append(_emotion(tp.emotion))
    if facts:
        rows.append(_row(_lines("  ".join(facts), 40, 9, theme.muted)))
    fill, border, style = theme.touchpoint_fill, theme.touchpoint_border, "rounded,filled"
    if tp.layer == "backstage":
        fill, border, style = theme.backstage_fill, theme.backstage_border, "rounded,filled,dashed"
        rows.insert(
            0, _row(f'<font point-size="8" color="{html_escape(theme.muted)}">BACKSTAGE</font>')
        )
    warnings = []
    if tp.id in poor:
        warnings.append((POOR_MARK, theme.trap_border))
    if tp.id in a.drop_off:
        warnings.append((f"↘ {percent(a.drop_off[tp.id])} leave here", theme.dead_border))
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
        rows.append(
            _row(
                f'<font point-size="9" color="{html_escape(color)}"><b>{html_escape(text)}</b></font>'
            )
        )
    table = (
        '<table border="0" cellborder="0" cellspacing="0" cellpadding="1">'
        + "".join(rows)
        + "</table>"
    )
    return f"<{table}>", fill, border, style


def _outcome_label(o: Outcome, theme: Theme) -> tuple[str, str, str, str]:
    if o.result == "success":
        word, mark, fill, border = "SUCCESS", "✔", theme.success_fill, theme.success_border
    else:
        word, mark, fill, border = "LOST", "✖", theme.lost_fill, theme.lost_border
    rows = [
        _row(f'<font point-size="9" color="{html_escape(border)}"><b>{mark} {word}</b></font>'),
        _row(_lines(o.title, 24, 11, theme.text, bold=True)),
    ]
    table = (
        '<table border="0" cellborder="0" cellspacing="0" cellpadding="1">'
        + "".join(rows)
        + "</table>"
    )
    return (
        f"<{table}>",
        fill,
        border,
        "filled,bold" if o.result == "lost" else "rounded,filled,bold",
    )


def _title(j: Journey, a: Analysis, theme: Theme) -> str:
    rows = [
        f'<tr><td align="left"><font point-size="22"><b>{_text(theme.title or j.title)}</b></font></td></tr>'
    ]
    if j.persona is not None:
        who = j.persona.name + (f" — {j.persona.description}" if j.persona.description else "")
        rows.append(
            f'<tr><td align="left"><font point-size="12" color="{html_escape(theme.muted)}">Persona: {_text(who)}</font></td></tr>'
        )
    if a.success_probability:
        parts = [f"{j.nodes[e].title} {percent(p)}" for e, p in a.success_probability.items()]
        rows.append(
            f'<tr><td align="left"><font point-size="11" color="{html_escape(theme.muted)}">'
            f"Reach a success outcome, starting at: {_text('; '.join(parts))}</font></td></tr>"
        )
    return '<<table border="0" cellborder="0" cellspacing="2">' + "".join(rows) + "</table>>"


def _legend(theme: Theme, poor: bool = False) -> str:
    def swatch(fill: str, border: str, text: str, style: str = "solid") -> str:
        dashed = ' style="dashed"' if style == "dashed" else ""
        return (
            f'<tr><td fixedsize="true" width="22" height="12" bgcolor="{html_escape(fill)}" border="1"'
            f' color="{html_escape(border)}"{dashed}></td>'
            f'<td align="left"><font point-size="9">{html_escape(text)}</font></td></tr>'
        )

    rows = [
        '<tr><td colspan="2" align="left"><font point-size="10"><b>Legend</b></font></td></tr>',
        swatch(theme.touchpoint_fill, theme.touchpoint_border, "touchpoint the customer sees"),
        swatch(
            theme.backstage_fill, theme.backstage_border, "BACKSTAGE: behind the scenes", "dashed"
        ),
        swatch(theme.dead_fill, theme.dead_border, "✖ DEAD END: nothing comes next"),
        swatch(theme.trap_fill, theme.trap_border, "⚠ TRAP: success can't be reached"),
        swatch(theme.success_fill, theme.success_border, "✔ SUCCESS outcome"),
        swatch(theme.lost_fill, theme.lost_border, "✖ LOST outcome (octagon)"),
        '<tr><td colspan="2" align="left" balign="left"><font point-size="9">'
        "30% = share of customers who take that step<br/>"
        "↘ = share of customers who leave there<br/>"
        "dashed arrow = back to an earlier stage (rework)"
        + (
            f"<br/>{html_escape(POOR_MARK)} = matters to customers, works poorly today"
            if poor
            else ""
        )
        + "</font></td></tr>",
    ]
    return (
        '<<table border="0" cellborder="0" cellspacing="3" cellpadding="1">'
        + "".join(rows)
        + "</table>>"
    )


def to_dot(
    journey: Journey,
    analysis: Analysis | None = None,
    theme: Theme | None = None,
    *,
    links: str | None = None,
    anchors: bool | None = None,
    edge_labels: bool | None = None,
) -> str:
    """The flow map of ``journey`` as DOT source (one column per stage).

    ``links`` makes every touchpoint and outcome a link, e.g. ``"#tp-{id}"``, so a
    map inside a report leads to each node's details. ``anchors`` (per-touchpoint
    column anchors) and ``edge_labels`` default to what :func:`layout_cost`
    allows; the renderer turns them off to retry a layout Graphviz got wrong.
    """

    def href(ident: str) -> str:
        return f", href={_q(links.format(id=ident))}" if links else ""

    a = analysis or analyze(journey)
    theme = theme or get_theme(None)
    auto_labels, auto_anchors = _layout_choice(journey)
    big = not (auto_labels if edge_labels is None else edge_labels)
    huge = not (auto_anchors if anchors is None else anchors)
    limits = ", mclimit=0.1, nslimit=2, nslimit1=2, searchsize=10" if huge else ""
    font = _q(theme.font)
    out = [
        f"digraph {_q(journey.journey)} {{",
        f"  graph [rankdir=LR, newrank=true, fontname={font}, bgcolor={_q(theme.background)},"
        f" pad=0.4, nodesep=0.22, ranksep=0.45, labelloc=t, labeljust=l, splines=true,"
        f" outputorder=edgesfirst, id={_q('map-' + journey.journey)},"
        f" label={_title(journey, a, theme)}{limits or (', mclimit=0.3' if big else '')}];",
        f'  node [shape=box, style="rounded,filled", fontname={font}, fontcolor={_q(theme.text)},'
        ' margin="0.10,0.05", penwidth=1.3];',
        f"  edge [fontname={font}, fontsize=9, color={_q(theme.edge)}, fontcolor={_q(theme.muted)},"
        " arrowsize=0.7];",
    ]
    has_numbers = {
        tp.id
        for tp in journey.touchpoints
        if any(t.probability is not None or t.volume is not None for t in tp.next)
    }
    poor = frozenset(f.subject for f in a.findings if f.rule == "important-but-poor")
    for k, stage in enumerate(journey.stages):
        out.append(f"  subgraph {_q(f'cluster_{k}')} {{")
        out.append(
            f"    graph [label=<<b>{k + 1}. {_text(stage.title)}</b>>, fontsize=14,"
            f' style="rounded,filled", fillcolor={_q(theme.stage_fill)},'
            f" color={_q(theme.stage_border)}, margin=14, id={_q(f'stage-{stage.id}')}];"
        )
        out.append(
            f'    {_q(f"__stage{k}")} [style=invis, shape=point, width=0, height=0, label=""];'
        )
        for tp in journey.touchpoints_in(stage.id):
            label, fill, border, style = _touchpoint_label(tp, a, theme, poor)
            tooltip = tp.description or tp.title
            out.append(
                f"    {_q(tp.id)} [id={_q('map-tp-' + tp.id)}{href(tp.id)}, label={label},"
                f" fillcolor={_q(fill)},"
                f" color={_q(border)}, style={_q(style)}, tooltip={_q(tooltip, MAX_TOOLTIP)}];"
            )
        out.append("  }")
    n = len(journey.stages)
    if journey.outcomes:
        out.append(f"  subgraph {_q('cluster_outcomes')} {{")
        out.append(
            f'    graph [label=<<b>Outcomes</b>>, fontsize=14, style="rounded", color={_q(theme.stage_border)},'
            ' margin=14, id="stage-outcomes"];'
        )
        for o in journey.outcomes:
            label, fill, border, style = _outcome_label(o, theme)
            shape = "box" if o.result == "success" else "octagon"
            out.append(
                f"    {_q(o.id)} [id={_q('map-tp-' + o.id)}{href(o.id)}, shape={shape}, label={label},"
                f" fillcolor={_q(fill)}, color={_q(border)}, style={_q(style)},"
                f" tooltip={_q(o.description or o.title, MAX_TOOLTIP)}];"
            )
        out.append("  }")
    # Anchors keep the columns in order: anchor(k) < every node of stage k < anchor(k+1).
    out.append(f'  {_q(f"__stage{n}")} [style=invis, shape=point, width=0, height=0, label=""];')
    for k, stage in enumerate(journey.stages):
        for tp in [] if huge else journey.touchpoints_in(stage.id):
            out.append(f"  {_q(f'__stage{k}')} -> {_q(tp.id)} [style=invis, weight=0];")
            out.append(f"  {_q(tp.id)} -> {_q(f'__stage{k + 1}')} [style=invis, weight=0];")
        out.append(f"  {_q(f'__stage{k}')} -> {_q(f'__stage{k + 1}')} [style=invis, weight=10];")
    for o in journey.outcomes:
        out.append(f"  {_q(f'__stage{n}')} -> {_q(o.id)} [style=invis, weight=0];")
    if journey.outcomes:
        out.append("  { rank=same; " + " ".join(_q(o.id) for o in journey.outcomes) + " }")
    out.extend(_edges(journey, a, theme, has_numbers, big))
    out.append(
        f'  legend [shape=box, style="rounded", color={_q(theme.stage_border)}, label={_legend(theme, bool(poor))}];'
    )
    anchor = journey.outcomes[-1].id if journey.outcomes else f"__stage{n}"
    out.append(f"  {{ rank=same; {_q(anchor)}; legend }}")
    out.append("}")
    return "\n".join(out) + "\n"


def layout_cost(journey: Journey, *, anchors: bool, edge_labels: bool) -> int:
    """A rough price of the Graphviz layout, in nodes and edges it must place.

    Layout time grows with everything dot ranks and orders: nodes including
    outcomes, edges, one label node per labelled edge, and two anchor edges per
    touchpoint plus one per outcome. The touchpoint count alone missed journeys
    with many outcomes or edges.
    """
    edges = sum(len(tp.next) for tp in journey.touchpoints)
    nodes = len(journey.touchpoints) + len(journey.outcomes)
    cost = nodes + edges
    if edge_labels:
        cost += edges
    if anchors:
        cost += 2 * len(journey.touchpoints) + len(journey.outcomes)
    return cost


def _layout_choice(journey: Journey) -> tuple[bool, bool]:
    """Whether to draw edge labels and per-touchpoint anchors, by layout cost."""
    edges = sum(len(tp.next) for tp in journey.touchpoints)
    labels = edges <= MAX_LABELLED_EDGES
    anchors = (
        len(journey.touchpoints) <= MAX_ANCHORED
        and layout_cost(journey, anchors=True, edge_labels=labels) <= MAX_ANCHORED_COST
    )
    return labels, anchors


def expected_ids(journey: Journey) -> set[str]:
    """The SVG ids a complete map has: one per node and one per transition."""
    ids = {f"map-tp-{ident}" for ident in journey.nodes}
    ids.update(f"edge-{tp.id}--{t.to}" for tp in journey.touchpoints for t in tp.next)
    return ids


def _edges(
    journey: Journey, a: Analysis, theme: Theme, has_numbers: set[str], big: bool
) -> Iterable[str]:
    order = journey.stage_index
    last = len(journey.stages)
    outcome_ids = {o.id: o for o in journey.outcomes}
    for tp in journey.touchpoints:
        shares, _ = tp.shares()
        for t, p in zip(tp.next, shares, strict=True):
            attrs = []
            parts = []
            if tp.id in has_numbers:
                parts.append(percent(p))
            if t.wait:
                parts.append(f"⏱ {t.wait}")
            if t.label:
                parts.append(t.label)
            target = journey.nodes[t.to]
            target_col = last if isinstance(target, Outcome) else order[target.stage]
            back = target_col < order[tp.stage] or t.to == tp.id
            # An edge that does not constrain the ranks can end up between two
            # nodes of one rank in different stage clusters; a `label` there is a
            # label node Graphviz cannot place ("trouble in init_rank", then
            # "lost edge": the edge vanished). An `xlabel` is placed after layout.
            kind = "xlabel" if back else "label"
            if parts and not big:
                attrs.append(f"{kind}={_q(' · '.join(parts), MAX_TEXT)}")
            if back:
                attrs.append(f"style=dashed, constraint=false, color={_q(theme.rework_edge)}")
            if t.to in outcome_ids:
                result = outcome_ids[t.to].result
                color = theme.success_border if result == "success" else theme.lost_border
                attrs.append(f"color={_q(color)}")
            width = 1.0 + 2.5 * p if tp.id in has_numbers else 1.2
            attrs.append(f"penwidth={width:.2f}")
            attrs.append(f"id={_q(f'edge-{tp.id}--{t.to}')}")
            yield f"  {_q(tp.id)} -> {_q(t.to)} [{', '.join(attrs)}];"
