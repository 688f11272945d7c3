"""The flow map as DOT text: pure, testable without Graphviz.

Layout rules, and why:
- one cluster per stage, left to right in declared order, kept in order by
  invisible anchor nodes between stages (clusters alone do not order columns);
- transitions that go back to an earlier stage (rework, re-registering) do not
  constrain the layout, so loops cannot drag a stage out of its column;
- every warning state has a word and a border style as well as a colour.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable

from .analysis import Analysis, analyze
from .model import Journey, Outcome, Touchpoint
from .themes import Theme, get_theme

__all__ = ["html_escape", "to_dot", "wrap"]

# Edge labels are the main cost of a Graphviz layout; past this many edges the
# map drops them (the shares stay in the analysis and the report).
MAX_LABELLED_EDGES = 1500
#: Above this many touchpoints, columns are kept by the stage chain alone, and Graphviz's
#: crossing and ranking searches are cut short: the per-touchpoint anchors make layout
#: grow steeply (a 1,000-touchpoint journey took 246 s with them, 13 s without).
MAX_ANCHORED = 150


def html_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", " ")
    )


def wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=True) or [""]


def _q(text: str) -> str:
    """A DOT double-quoted string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _lines(
    text: str, width: int, size: int | None = None, color: str | None = None, bold: bool = False
) -> str:
    parts = [html_escape(line) for line in wrap(text, width)]
    body = '<br align="left"/>'.join(parts) + '<br align="left"/>'
    if bold:
        body = f"<b>{body}</b>"
    attrs = (f' point-size="{size}"' if size else "") + (f' color="{color}"' if color else "")
    return f"<font{attrs}>{body}</font>" if attrs else body


def _row(cell: str) -> str:
    return f'<tr><td align="left" balign="left">{cell}</td></tr>'


def percent(p: float) -> str:
    value = p * 100
    if value == 0 or value >= 10 or abs(value - round(value)) < 1e-9:
        return f"{value:.0f}%"
    return f"{value:.1f}%".replace(".0%", "%")


def _emotion(e: float) -> str:
    face = "☺" if e > 0 else "☹" if e < 0 else "○"
    return f"{face} {e:+g}".replace("+0", "0").replace("-", "−")


def _touchpoint_label(tp: Touchpoint, a: Analysis, theme: Theme) -> tuple[str, str, str, str]:
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
        rows.insert(0, _row(f'<font point-size="8" color="{theme.muted}">BACKSTAGE</font>'))
    warnings = []
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
        rows.append(_row(f'<font point-size="9" color="{color}"><b>{html_escape(text)}</b></font>'))
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
        _row(f'<font point-size="9" color="{border}"><b>{mark} {word}</b></font>'),
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
        f'<tr><td align="left"><font point-size="22"><b>{html_escape(theme.title or j.title)}</b></font></td></tr>'
    ]
    if j.persona is not None:
        who = j.persona.name + (f" — {j.persona.description}" if j.persona.description else "")
        rows.append(
            f'<tr><td align="left"><font point-size="12" color="{theme.muted}">Persona: {html_escape(who)}</font></td></tr>'
        )
    if a.success_probability:
        parts = [f"{j.nodes[e].title} {percent(p)}" for e, p in a.success_probability.items()]
        rows.append(
            f'<tr><td align="left"><font point-size="11" color="{theme.muted}">'
            f"Reach a success outcome, starting at: {html_escape('; '.join(parts))}</font></td></tr>"
        )
    return '<<table border="0" cellborder="0" cellspacing="2">' + "".join(rows) + "</table>>"


def _legend(theme: Theme) -> str:
    def swatch(fill: str, border: str, text: str, style: str = "solid") -> str:
        dashed = ' style="dashed"' if style == "dashed" else ""
        return (
            f'<tr><td fixedsize="true" width="22" height="12" bgcolor="{fill}" border="1"'
            f' color="{border}"{dashed}></td>'
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
        "</font></td></tr>",
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
) -> str:
    """The flow map of ``journey`` as DOT source (one column per stage).

    ``links`` makes every touchpoint and outcome a link, e.g. ``"#tp-{id}"``, so a
    map inside a report leads to each node's details.
    """

    def href(ident: str) -> str:
        return f", href={_q(links.format(id=ident))}" if links else ""

    a = analysis or analyze(journey)
    theme = theme or get_theme(None)
    big = sum(len(tp.next) for tp in journey.touchpoints) > MAX_LABELLED_EDGES
    huge = len(journey.touchpoints) > MAX_ANCHORED
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
    for k, stage in enumerate(journey.stages):
        out.append(f"  subgraph {_q(f'cluster_{k}')} {{")
        out.append(
            f"    graph [label=<<b>{k + 1}. {html_escape(stage.title)}</b>>, fontsize=14,"
            f' style="rounded,filled", fillcolor={_q(theme.stage_fill)},'
            f" color={_q(theme.stage_border)}, margin=14, id={_q(f'stage-{stage.id}')}];"
        )
        out.append(
            f'    {_q(f"__stage{k}")} [style=invis, shape=point, width=0, height=0, label=""];'
        )
        for tp in journey.touchpoints_in(stage.id):
            label, fill, border, style = _touchpoint_label(tp, a, theme)
            tooltip = tp.description or tp.title
            out.append(
                f"    {_q(tp.id)} [id={_q('map-tp-' + tp.id)}{href(tp.id)}, label={label},"
                f" fillcolor={_q(fill)},"
                f" color={_q(border)}, style={_q(style)}, tooltip={_q(tooltip)}];"
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
                f" tooltip={_q(o.description or o.title)}];"
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
        f'  legend [shape=box, style="rounded", color={_q(theme.stage_border)}, label={_legend(theme)}];'
    )
    anchor = journey.outcomes[-1].id if journey.outcomes else f"__stage{n}"
    out.append(f"  {{ rank=same; {_q(anchor)}; legend }}")
    out.append("}")
    return "\n".join(out) + "\n"


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
            if parts and not big:
                attrs.append(f"label={_q(' · '.join(parts))}")
            target = journey.nodes[t.to]
            target_col = last if isinstance(target, Outcome) else order[target.stage]
            if target_col < order[tp.stage] or t.to == tp.id:
                attrs.append(f"style=dashed, constraint=false, color={_q(theme.rework_edge)}")
            if t.to in outcome_ids:
                result = outcome_ids[t.to].result
                color = theme.success_border if result == "success" else theme.lost_border
                attrs.append(f"color={_q(color)}")
            width = 1.0 + 2.5 * p if tp.id in has_numbers else 1.2
            attrs.append(f"penwidth={width:.2f}")
            attrs.append(f"id={_q(f'edge-{tp.id}--{t.to}')}")
            yield f"  {_q(tp.id)} -> {_q(t.to)} [{', '.join(attrs)}];"
