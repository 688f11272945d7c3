"""A stage-level map, for journeys too large to draw touchpoint by touchpoint.

A journey of thousands of touchpoints gives a flow map of tens of megabytes that
no browser opens in reasonable time and no one can read. Its stages still tell
the story: how many customers enter each, how many are lost there, where they go
next (forward, skipping ahead, or back) and how many end in a success. Those are
sums over the analysis' expected visits, so the overview agrees with the leaks
and the success share to rounding. Pure: SVG text from a journey and its analysis.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import numpy as np

from .analysis import Analysis, entry_weights
from .dot import percent, wrap
from .model import Journey
from .themes import Theme, get_theme

__all__ = ["OVERVIEW_FROM", "StageFlows", "overview_svg", "stage_flows"]

#: From this many touchpoints on, the report draws the stage overview instead of
#: the full flow map and leaves out the canvas (``journeymap render`` still draws them).
OVERVIEW_FROM = 500


@dataclass(frozen=True)
class StageFlows:
    """Per stage (in order), shares of all who start; ``moves`` between stages."""

    enter: list[float]  # customers entering the stage (from an entry or another stage)
    lost: list[float]  # lost in the stage: drop-off, dead ends, steps to lost outcomes
    success: list[float]  # going from the stage into a success outcome
    moves: dict[tuple[int, int], float]  # (from stage, to stage) -> customers moving
    touchpoints: list[int]


def stage_flows(journey: Journey, a: Analysis) -> StageFlows:
    """Customer flows summed by stage, from the analysis' expected visits."""
    f = a.flow
    k = len(journey.stages)
    order = journey.stage_index
    t = f.n_touchpoints
    stage = np.full(f.n, -1, dtype=np.int64)
    stage[:t] = [order[tp.stage] for tp in journey.touchpoints]
    visits = np.nan_to_num(np.asarray(a.visits, dtype=np.float64), nan=0.0, posinf=0.0)
    if visits.shape != (f.n,):
        visits = np.zeros(f.n)
    moved = visits[f.src] * f.prob
    src_stage, dst_stage = stage[f.src], stage[f.dst]
    inside = src_stage >= 0
    # Lost in a stage: the leaks at its touchpoints (drop-off, dead ends, loops never
    # left), and its steps into lost outcomes; so the stages' losses add up to the leaks.
    lost = np.zeros(k)
    for leak in a.leaks:
        i = f.index[leak.node]
        if i < t:
            lost[stage[i]] += leak.share
    into_lost = inside & f.lost[f.dst]
    lost += np.bincount(src_stage[into_lost], weights=moved[into_lost], minlength=k)
    success = np.bincount(
        src_stage[inside & f.success[f.dst]], weights=moved[inside & f.success[f.dst]], minlength=k
    )
    across = inside & (dst_stage >= 0) & (dst_stage != src_stage)
    moves: dict[tuple[int, int], float] = {}
    for s, d, m in zip(
        src_stage[across].tolist(), dst_stage[across].tolist(), moved[across].tolist(), strict=True
    ):
        moves[(s, d)] = moves.get((s, d), 0.0) + m
    starts = entry_weights(journey, f)
    enter = np.bincount(stage[:t], weights=starts[:t], minlength=k)
    for (_, d), m in moves.items():
        enter[d] += m
    counts = np.bincount(stage[:t], minlength=k).tolist()
    return StageFlows(
        [float(x) for x in enter],
        [float(x) for x in lost],
        [float(x) for x in success],
        moves,
        [int(c) for c in counts],
    )


def _e(text: str) -> str:
    return html.escape(text, quote=True)


_W, _H, _GAP, _TOP, _LEFT = 210.0, 132.0, 70.0, 96.0, 24.0


def overview_svg(journey: Journey, a: Analysis, theme: Theme | None = None) -> str:
    """The stages as boxes in a row, with the flows between them and what each loses."""
    theme = theme or get_theme(None)
    fl = stage_flows(journey, a)
    k = len(journey.stages)
    xs = [_LEFT + i * (_W + _GAP) for i in range(k)]
    out_x = _LEFT + k * (_W + _GAP)
    skips = sorted((s, d) for (s, d) in fl.moves if d > s + 1)
    backs = sorted((s, d) for (s, d) in fl.moves if d < s)
    top = _TOP + 14.0 * min(len(skips), 12)
    width = out_x + _W + _LEFT
    height = top + _H + 40 + 14.0 * min(len(backs), 12) + 70
    font = _e(theme.font)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="overview" viewBox="0 0 {width:.0f}'
        f' {height:.0f}" width="{width:.0f}" role="img" aria-label="Stages of'
        f' {_e(journey.title)}: customers entering, lost and moving on">',
        f'<rect width="100%" height="100%" fill="{theme.background}"/>',
        f'<text x="{_LEFT}" y="28" font-family="{font}" font-size="18" font-weight="bold"'
        f' fill="{theme.text}">{_e(journey.title)}: the stages</text>',
        f'<text x="{_LEFT}" y="48" font-family="{font}" font-size="12" fill="{theme.muted}">'
        f"{len(journey.touchpoints):,} touchpoints, too many to draw one by one here; shares are"
        " of all customers who start</text>",
    ]
    most = max([*fl.moves.values(), *fl.enter, 1e-12])

    def stroke(share: float) -> float:
        return 1.0 + 7.0 * min(share / most, 1.0)

    def label(x: float, y: float, text: str, colour: str, size: int = 11) -> str:
        return (
            f'<text x="{x:.1f}" y="{y:.1f}" font-family="{font}" font-size="{size}"'
            f' fill="{colour}" text-anchor="middle">{_e(text)}</text>'
        )

    # Forward to the next stage: a straight arrow in the gap, its share above it.
    for i in range(k - 1):
        share = fl.moves.get((i, i + 1), 0.0)
        if share <= 0:
            continue
        y = top + _H / 2
        x0, x1 = xs[i] + _W, xs[i + 1]
        parts.append(
            f'<line x1="{x0:.1f}" y1="{y:.1f}" x2="{x1 - 6:.1f}" y2="{y:.1f}"'
            f' stroke="{theme.edge}" stroke-width="{stroke(share):.2f}"/>'
            f'<path d="M{x1 - 8:.1f},{y - 5:.1f} L{x1:.1f},{y:.1f} L{x1 - 8:.1f},{y + 5:.1f} Z"'
            f' fill="{theme.edge}"/>'
        )
        parts.append(label((x0 + x1) / 2, y - 8, percent(share), theme.muted))
    # Skips ahead: arcs above; steps back (rework): dashed arcs below.
    for n, (s, d) in enumerate(skips[:12]):
        share = fl.moves[(s, d)]
        y = top - 10 - 14 * n
        x0, x1 = xs[s] + _W / 2 + 10, xs[d] + _W / 2 - 10
        parts.append(
            f'<path d="M{x0:.1f},{top:.1f} V{y:.1f} H{x1:.1f} V{top - 6:.1f}" fill="none"'
            f' stroke="{theme.edge}" stroke-width="{stroke(share):.2f}"/>'
            f'<path d="M{x1 - 4:.1f},{top - 8:.1f} L{x1:.1f},{top:.1f} L{x1 + 4:.1f},{top - 8:.1f} Z"'
            f' fill="{theme.edge}"/>'
        )
        parts.append(label((x0 + x1) / 2, y - 3, percent(share), theme.muted, 10))
    bottom = top + _H
    for n, (s, d) in enumerate(backs[:12]):
        share = fl.moves[(s, d)]
        y = bottom + 18 + 14 * n
        x0, x1 = xs[s] + _W / 2 - 10, xs[d] + _W / 2 + 10
        parts.append(
            f'<path d="M{x0:.1f},{bottom:.1f} V{y:.1f} H{x1:.1f} V{bottom + 6:.1f}" fill="none"'
            f' stroke="{theme.rework_edge}" stroke-dasharray="5,3"'
            f' stroke-width="{stroke(share):.2f}"/>'
            f'<path d="M{x1 - 4:.1f},{bottom + 8:.1f} L{x1:.1f},{bottom:.1f}'
            f' L{x1 + 4:.1f},{bottom + 8:.1f} Z" fill="{theme.rework_edge}"/>'
        )
        parts.append(label((x0 + x1) / 2, y + 11, f"back {percent(share)}", theme.rework_edge, 10))
    for i, st in enumerate(journey.stages):
        x = xs[i]
        parts.append(
            f'<g id="overview-stage-{_e(st.id)}"><title>{_e(st.title)}</title>'
            f'<rect x="{x:.1f}" y="{top:.1f}" width="{_W:.0f}" height="{_H:.0f}" rx="8"'
            f' fill="{theme.stage_fill}" stroke="{theme.stage_border}" stroke-width="1.5"/>'
        )
        lines = wrap(f"{i + 1}. {st.title}", 26)[:2]
        for n, line in enumerate(lines):
            parts.append(
                f'<text x="{x + 10:.1f}" y="{top + 20 + 16 * n:.1f}" font-family="{font}"'
                f' font-size="13" font-weight="bold" fill="{theme.text}">{_e(line)}</text>'
            )
        rows = [
            (f"{fl.touchpoints[i]:,} touchpoints", theme.muted),
            (f"enter: {percent(fl.enter[i])}", theme.text),
        ]
        if fl.lost[i] > 0:
            rows.append((f"↘ {percent(fl.lost[i])} lost here", theme.lost_border))
        if fl.success[i] > 0:
            rows.append((f"✔ {percent(fl.success[i])} succeed from here", theme.success_border))
        for n, (text, colour) in enumerate(rows):
            parts.append(
                f'<text x="{x + 10:.1f}" y="{top + 62 + 16 * n:.1f}" font-family="{font}"'
                f' font-size="11.5" fill="{colour}">{_e(text)}</text>'
            )
        parts.append("</g>")
    # The outcomes: what all the stages add up to.
    lost_total = 1.0 - a.success_share if math.isfinite(a.success_share) else 0.0
    parts.append(
        f'<g id="overview-outcomes"><rect x="{out_x:.1f}" y="{top:.1f}" width="{_W:.0f}"'
        f' height="{_H:.0f}" rx="8" fill="{theme.background}" stroke="{theme.stage_border}"'
        ' stroke-width="1.5"/>'
        f'<text x="{out_x + 10:.1f}" y="{top + 20:.1f}" font-family="{font}" font-size="13"'
        f' font-weight="bold" fill="{theme.text}">Outcomes</text>'
        f'<text x="{out_x + 10:.1f}" y="{top + 62:.1f}" font-family="{font}" font-size="11.5"'
        f' fill="{theme.success_border}">✔ success {_e(percent(a.success_share))}</text>'
        f'<text x="{out_x + 10:.1f}" y="{top + 78:.1f}" font-family="{font}" font-size="11.5"'
        f' fill="{theme.lost_border}">✖ lost {_e(percent(lost_total))}</text></g>'
    )
    legend_y = height - 24
    parts.append(
        f'<text x="{_LEFT}" y="{legend_y:.1f}" font-family="{font}" font-size="11"'
        f' fill="{theme.muted}">Arrows: customers moving to a later stage (width = share;'
        " arcs above skip stages); dashed arcs below: back to an earlier stage (rework)."
        " journeymap render draws every touchpoint to a file.</text>"
    )
    parts.append("</svg>")
    return "".join(parts)
