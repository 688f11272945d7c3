"""Where everything on the flow map goes: stage columns on one baseline, routed edges.

Graphviz's ``dot`` places clusters where their nodes pull them, so stage boxes
climbed as a staircase and long edges to the outcomes crossed the whole map;
no mix of ranks, weights and invisible edges keeps every stage's top edge on
one line. Graphviz's own router for fixed positions (``neato -n2``) took 22 s
for 300 touchpoints. So the layout is computed here, in plain arithmetic that
grows with the number of nodes and edges, and Graphviz only draws it (the
``nop2`` engine: every node, edge, label and box has its position).

Coordinates are points, x to the right and y *down* from the top-left corner;
:mod:`journeymap.dot` turns them into Graphviz's y-up positions.

How the map is read, and so how it is laid out:
- one column per stage, in declared order, all boxes with the same top and
  height; a band at the top of each box holds its title and nothing else;
- inside a stage, touchpoints flow left to right along the transitions
  between them (a transition to a touchpoint declared later moves it one
  sub-column right); touchpoints in one sub-column are alternatives, stacked;
- each edge leaves its source at a port on the right side, with its label
  just above it, beside the source; it crosses sub-columns only in the gaps
  between nodes, so it never runs over a node, a label or a title;
- transitions back to an earlier or the same column (rework) run along lanes
  under all the touchpoints;
- what is lost at a touchpoint (drop-off, a transition to a lost outcome) is
  a short stub under it to a tag, not an edge across the map.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "Box",
    "EdgeIn",
    "Layout",
    "NodeIn",
    "Route",
    "layout",
    "polyline",
    "text_size",
    "text_width",
]

Point = tuple[float, float]

# Advance widths of DejaVu Sans (the default font), in 1/1000 em, for ASCII 32..126,
# regular and bold: Graphviz measures text with the real font, so the boxes laid out
# here must be at least as wide as what it will draw. Other characters are guessed
# wide (1 em for symbols and East Asian characters), so estimates err on the big side.
# fmt: off
_REGULAR = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636,
    636, 636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698,
    770, 632, 575, 775, 752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732,
    684, 989, 685, 611, 685, 390, 337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635,
    634, 278, 278, 579, 278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592,
    525, 636, 337, 636, 838,
)
_BOLD = (
    348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696,
    696, 696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774, 762, 734,
    830, 683, 683, 821, 837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812,
    774, 1103, 771, 724, 725, 457, 365, 457, 838, 500, 500, 675, 716, 593, 716, 678, 435, 716,
    712, 343, 343, 665, 343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924, 645, 652,
    582, 712, 365, 712, 838,
)
# fmt: on
#: Height of one line of text, in em: what Graphviz gives a line of DejaVu Sans.
LINE = 1.2


def _char_width(ch: str, bold: bool) -> int:
    code = ord(ch)
    if 32 <= code < 127:
        return (_BOLD if bold else _REGULAR)[code - 32]
    if unicodedata.combining(ch):
        return 0
    if unicodedata.east_asian_width(ch) in ("W", "F") or code >= 0x2000:
        return 1050
    return 760 if bold else 700


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The width of one line of ``text`` in points, at ``size`` points: at least Graphviz's."""
    return sum(_char_width(ch, bold) for ch in text) * size / 1000


def text_size(lines: Sequence[str], size: float, bold: bool = False) -> tuple[float, float]:
    """Width and height of lines of text, in points."""
    width = max((text_width(line, size, bold) for line in lines), default=0.0)
    return width, len(lines) * size * LINE


@dataclass(frozen=True)
class Box:
    """A rectangle: left, top, width, height (y down)."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass(frozen=True)
class NodeIn:
    """A node to place: its size and the sizes of the loss tags hung under it."""

    id: str
    width: float
    height: float
    tags: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class EdgeIn:
    """An edge to route; ``label`` is the size of its label, if it has one."""

    source: str
    target: str
    label: tuple[float, float] | None = None


@dataclass
class Route:
    """An edge's path: cubic Bézier points (3n + 1 of them), its arrow tip, its label box.

    ``kind`` is ``forward``, ``back`` (to an earlier or the same column, along a
    lane under the map), ``self`` (a loop back to its own node) or ``stub`` (a
    loss tag hung under its node).
    """

    points: list[Point]
    tip: Point
    kind: str
    label: Box | None = None


@dataclass
class Layout:
    """Where everything goes; see the module's docstring."""

    width: float
    height: float
    title: Box
    stages: list[Box]  # one per stage, then the outcomes column if any
    bands: list[Box]  # the title band of each box in ``stages``
    nodes: dict[str, Box]
    tags: dict[tuple[str, int], Box]
    edges: list[Route]  # in the order of the edges given
    stubs: dict[tuple[str, int], Route]
    legend: Box
    columns: list[tuple[float, float]] = field(default_factory=list)  # x from, x to


# Spacing, in points.
MARGIN = 24.0  # around the whole map
STAGE_PAD = 16.0  # inside a stage box, left, right and bottom
STAGE_GAP = 28.0  # between stage boxes
BAND_PAD = 8.0  # above and below a stage title
CURVE = 40.0  # between sub-columns, where edges bend
ROW_GAP = 22.0  # between stacked nodes: room for edges passing through
PORT_GAP = 4.0  # between two edge ports on a node's side, besides their labels
LABEL_GAP = 4.0  # between a node and the labels of its edges
ARROW = 7.0  # length of an arrowhead (arrowsize 0.7)
TAG_GAP = 6.0  # between a node and its first loss tag, and between tags
TAG_INDENT = 24.0  # from a node's left side to its loss tags
STUB_X = 12.0  # from a node's left side to its loss stub
LANE_STEP = 9.0  # between two rework lanes under the map: two dashed lines, told apart
CORNER = 6.0  # radius of a rounded corner
#: Alternatives stacked in one sub-column before a stage uses more side by side.
MIN_STACK = 8


def _line(points: list[Point], to: Point) -> None:
    """Append a straight segment (as a cubic Bézier) from the last point to ``to``."""
    x0, y0 = points[-1]
    x1, y1 = to
    if abs(x1 - x0) < 0.01 and abs(y1 - y0) < 0.01:
        return
    points.extend(
        [
            (x0 + (x1 - x0) / 3, y0 + (y1 - y0) / 3),
            (x0 + 2 * (x1 - x0) / 3, y0 + 2 * (y1 - y0) / 3),
            to,
        ]
    )


def _curve(points: list[Point], to: Point) -> None:
    """Append an S-curve leaving and arriving horizontally: it stays between both ends."""
    x0, y0 = points[-1]
    x1, y1 = to
    if abs(y1 - y0) < 0.5:
        _line(points, to)
        return
    dx = (x1 - x0) / 2
    points.extend([(x0 + dx, y0), (x1 - dx, y1), to])


def polyline(points: list[Point], corners: list[Point], end: Point) -> None:
    """Append straight runs through ``corners`` to ``end``, each corner rounded."""
    for k, corner in enumerate(corners):
        nxt = corners[k + 1] if k + 1 < len(corners) else end
        x0, y0 = points[-1]
        cx, cy = corner
        into = max(abs(cx - x0), abs(cy - y0))
        out = max(abs(nxt[0] - cx), abs(nxt[1] - cy))
        r = min(CORNER, into / 2, out / 2)
        if r < 0.5:
            _line(points, corner)
            continue

        def toward(a: Point, b: Point, dist: float) -> Point:
            length = max(abs(b[0] - a[0]), abs(b[1] - a[1])) or 1.0
            return (a[0] + (b[0] - a[0]) * dist / length, a[1] + (b[1] - a[1]) * dist / length)

        _line(points, toward(corner, (x0, y0), r))
        points.extend([corner, corner, toward(corner, nxt, r)])
    _line(points, end)


def _merged(points: list[Point]) -> list[Point]:
    """The same path with runs of straight horizontal segments as one segment.

    An edge across many columns at one height would otherwise repeat three
    points per column, and Graphviz reads no attribute over 16 kB.
    """
    out = points[:1]
    for k in range(1, len(points) - 2, 3):
        seg = points[k : k + 3]
        flat = all(abs(p[1] - out[-1][1]) < 0.01 for p in seg)
        if flat and len(out) >= 4 and all(abs(p[1] - out[-1][1]) < 0.01 for p in out[-4:]):
            start = out[-4]
            end = seg[2]
            out[-3:] = [
                (start[0] + (end[0] - start[0]) / 3, start[1]),
                (start[0] + 2 * (end[0] - start[0]) / 3, start[1]),
                end,
            ]
        else:
            out.extend(seg)
    return out


def _levels(ids: Sequence[str], succ: dict[str, list[str]]) -> dict[str, int]:
    """Sub-column of each touchpoint of a stage: one right of any earlier-declared predecessor.

    Only transitions to a touchpoint declared later count, so loops inside a
    stage cannot push anything right, and declared order breaks every tie.
    """
    index = {ident: k for k, ident in enumerate(ids)}
    level = dict.fromkeys(ids, 0)
    for ident in ids:
        for nxt in succ.get(ident, ()):
            if index.get(nxt, -1) > index[ident]:
                level[nxt] = max(level[nxt], level[ident] + 1)
    return level


def layout(
    stages: Sequence[Sequence[NodeIn]],
    outcomes: Sequence[NodeIn],
    edges: Sequence[EdgeIn],
    *,
    title: tuple[float, float],
    stage_titles: Sequence[tuple[float, float]],
    legend: tuple[float, float],
) -> Layout:
    """Place the nodes of ``stages`` (each in declared order) and ``outcomes``, route ``edges``.

    ``stage_titles`` are the sizes of the stage titles, and of the outcomes
    column's title last if there are outcomes; ``title`` and ``legend`` the
    sizes of the map's title block and legend.
    """
    nodes_in = {n.id: n for stage in stages for n in stage} | {n.id: n for n in outcomes}
    succ: dict[str, list[str]] = {}
    for e in edges:
        succ.setdefault(e.source, []).append(e.target)

    # Columns: each stage's sub-columns, in order, then the outcomes.
    column_of: dict[str, int] = {}
    stage_columns: list[list[list[str]]] = []
    # A stage of many alternatives would be one tall stack: past this many, they
    # stand side by side, so that a big map is about as wide as it is tall.
    total = sum(len(stage) for stage in stages)
    most = max(MIN_STACK, math.ceil(1.4 * math.sqrt(total)))
    for stage in stages:
        ids = [n.id for n in stage]
        level = _levels(ids, succ)
        cols: list[list[str]] = [[] for _ in range(max(level.values(), default=0) + 1)]
        for ident in ids:
            cols[level[ident]].append(ident)
        split = [col[k : k + most] for col in cols for k in range(0, max(1, len(col)), most)]
        stage_columns.append(split)
    columns: list[list[str]] = [col for cols in stage_columns for col in cols]
    if outcomes:
        columns.append([n.id for n in outcomes])
    for c, col in enumerate(columns):
        for ident in col:
            column_of[ident] = c
    first_col: list[int] = []
    k = 0
    for cols in stage_columns:
        first_col.append(k)
        k += len(cols)
    stage_of_column = [s for s, cols in enumerate(stage_columns) for _ in cols]
    if outcomes:
        stage_of_column.append(len(stages))

    # Which edges go forward (to a later column), which go back, which loop.
    kinds: list[str] = []
    for e in edges:
        a, b = column_of[e.source], column_of[e.target]
        kinds.append("self" if e.source == e.target else "forward" if b > a else "back")
    out_edges: dict[str, list[int]] = {}
    in_edges: dict[str, list[int]] = {}
    for i, e in enumerate(edges):
        out_edges.setdefault(e.source, []).append(i)
        in_edges.setdefault(e.target, []).append(i)

    # Node heights: room for every outgoing port and its label on the right side.
    def label_h(i: int) -> float:
        lab = edges[i].label
        return lab[1] if lab else 0.0

    node_h: dict[str, float] = {}
    for ident, n in nodes_in.items():
        need = sum(label_h(i) + PORT_GAP for i in out_edges.get(ident, ())) + PORT_GAP
        node_h[ident] = max(n.height, need)

    def slot_h(ident: str) -> float:
        tags = nodes_in[ident].tags
        return node_h[ident] + sum(TAG_GAP + h for _, h in tags) + (TAG_GAP / 2 if tags else 0)

    # Column x: node zone (widest node or tag) then label zone (widest node + its labels).
    band_h = max((h for _, h in stage_titles), default=0.0) + 2 * BAND_PAD
    top = MARGIN + title[1] + 14.0
    content_top = top + band_h + 6.0
    col_x: list[float] = []
    col_end: list[float] = []
    col_w: list[float] = []
    x = MARGIN + STAGE_PAD
    stage_x0: list[float] = []
    stage_x1: list[float] = []
    for c, col in enumerate(columns):
        s = stage_of_column[c]
        if c == 0 or stage_of_column[c - 1] != s:
            if c:
                x = col_end[-1] + STAGE_PAD + STAGE_GAP + STAGE_PAD
            stage_x0.append(x - STAGE_PAD)
        else:
            x = col_end[-1] + CURVE
        width = 0.0
        end = 0.0
        for ident in col:
            n = nodes_in[ident]
            tag_w = max((TAG_INDENT + w for w, _ in n.tags), default=0.0)
            width = max(width, n.width, tag_w)
            labels = [edges[i].label for i in out_edges.get(ident, ())]
            lab_w = max((lab[0] for lab in labels if lab), default=0.0)
            end = max(end, n.width + (LABEL_GAP + lab_w + LABEL_GAP if lab_w else 0.0))
        width = max(width, 40.0)
        col_x.append(x)
        col_w.append(width)
        col_end.append(x + max(width, end))
        if c + 1 == len(columns) or stage_of_column[c + 1] != s:
            right = col_end[-1] + STAGE_PAD
            title_w = stage_titles[s][0] + 2 * STAGE_PAD if s < len(stage_titles) else 0.0
            if right - stage_x0[-1] < title_w:  # a long title widens its stage
                col_end[-1] += title_w - (right - stage_x0[-1])
                right = stage_x0[-1] + title_w
            stage_x1.append(right)

    # Vertical placement, column by column: alternatives stacked in the order of
    # where they come from, each as level with its predecessors as the column's
    # room allows. The room is the tallest stage column's stack, so following a
    # predecessor never makes the map taller (nor starts a staircase).
    def stack(col: list[str]) -> float:
        return sum(slot_h(i) for i in col) + ROW_GAP * max(0, len(col) - 1)

    n_stage_columns = len(columns) - (1 if outcomes else 0)
    room = max((stack(col) for col in columns[:n_stage_columns]), default=0.0)
    node_box: dict[str, Box] = {}
    center: dict[str, float] = {}
    index = {ident: k for k, ident in enumerate(nodes_in)}
    for c, col in enumerate(columns):
        wanted: dict[str, float] = {}
        for ident in col:
            ys = [
                center[edges[i].source]
                for i in in_edges.get(ident, ())
                if kinds[i] == "forward" and edges[i].source in center
            ]
            if ys:
                wanted[ident] = sum(ys) / len(ys)
        order = sorted(col, key=lambda i: (i not in wanted, wanted.get(i, 0.0), index[i]))
        tops: list[float] = []
        y = content_top
        for ident in order:
            want = wanted.get(ident)
            top_y = max(y, want - node_h[ident] / 2) if want is not None else y
            tops.append(top_y)
            y = top_y + slot_h(ident) + ROW_GAP
        limit = content_top + max(room, stack(order))
        for k in range(len(order) - 1, -1, -1):  # pull up what went below the room
            tops[k] = min(tops[k], limit - slot_h(order[k]))
            limit = tops[k] - ROW_GAP
        for ident, top_y in zip(order, tops, strict=True):
            node_box[ident] = Box(col_x[c], top_y, nodes_in[ident].width, node_h[ident])
            center[ident] = top_y + node_h[ident] / 2
        columns[c] = order
    content_bottom = max(
        (node_box[i].y + slot_h(i) for col in columns[:n_stage_columns] for i in col),
        default=content_top,
    )
    outcome_bottom = max(
        (node_box[i].y + slot_h(i) for i in (columns[-1] if outcomes else ())),
        default=content_top,
    )

    # Ports: outgoing ones on the right, ordered by where they go (rework last,
    # lowest); incoming ones on the left, ordered by where they come from.
    port_out: dict[int, float] = {}
    port_in: dict[int, float] = {}

    def target_y(i: int) -> tuple[int, float]:
        if kinds[i] == "forward":
            return (0, center[edges[i].target])
        return (1 if kinds[i] == "back" else 2, center[edges[i].target])

    for ident, outs in out_edges.items():
        box = node_box[ident]
        ordered = sorted(outs, key=lambda i: (*target_y(i), i))
        need = sum(label_h(i) + PORT_GAP for i in ordered)
        spare = max(0.0, box.h - PORT_GAP - need) / (len(ordered) + 1)
        y = box.y + PORT_GAP / 2
        for i in ordered:
            y += spare + label_h(i) + PORT_GAP / 2
            port_out[i] = y
            y += PORT_GAP / 2
    for ident, ins in in_edges.items():
        box = node_box[ident]

        def source_y(i: int) -> tuple[int, float]:
            if kinds[i] == "forward":
                return (0, port_out[i])
            return (1, -center[edges[i].source])

        ordered = sorted(ins, key=lambda i: (*source_y(i), i))
        for k, i in enumerate(ordered):
            port_in[i] = box.y + box.h * (k + 1) / (len(ordered) + 1)

    # Gaps in each column where edges can pass: between stacked slots, and below.
    lane_top = content_bottom + ROW_GAP / 2
    gaps: list[list[tuple[float, float]]] = []
    for col in columns:
        free: list[tuple[float, float]] = []
        y = content_top
        for ident in col:
            nb = node_box[ident]
            if nb.y - y >= 8:
                free.append((y + 2, nb.y - 2))
            y = nb.y + slot_h(ident)
        free.append((y + 2, lane_top))
        gaps.append(free)
    used: dict[tuple[int, int], int] = {}

    def through(c: int, want: float) -> float:
        best = min(
            range(len(gaps[c])),
            key=lambda g: (
                0.0
                if gaps[c][g][0] <= want <= gaps[c][g][1]
                else min(abs(want - gaps[c][g][0]), abs(want - gaps[c][g][1])),
                g,
            ),
        )
        lo, hi = gaps[c][best]
        n = used.get((c, best), 0)
        used[(c, best)] = n + 1
        step = 3.0 * ((n + 1) // 2) * (1 if n % 2 else -1)
        mid = min(max(want, lo + 4), hi - 4) if hi - lo > 8 else (lo + hi) / 2
        return min(max(mid + step, lo + 1), hi - 1)

    # Lanes under the map for rework: interval partitioning, shortest spans first.
    lane_of: dict[int, int] = {}
    lane_ends: list[list[tuple[float, float]]] = []
    backs = [i for i, kind in enumerate(kinds) if kind == "back"]
    spans = {
        i: (
            col_x[column_of[edges[i].target]] - CURVE / 2,
            col_end[column_of[edges[i].source]] + CURVE / 2,
        )
        for i in backs
    }
    for i in sorted(backs, key=lambda i: (spans[i][1] - spans[i][0], spans[i][0], i)):
        x0, x1 = spans[i]
        for lane, taken in enumerate(lane_ends):
            if all(x1 < a or x0 > b for a, b in taken):
                taken.append((x0, x1))
                lane_of[i] = lane
                break
        else:
            lane_of[i] = len(lane_ends)
            lane_ends.append([(x0, x1)])
    lanes = len(lane_ends)
    stage_bottom = lane_top + (lanes * LANE_STEP + ROW_GAP / 2 if lanes else 0.0) + STAGE_PAD

    # Routes.
    routes: list[Route] = []
    bend_used: dict[tuple[str, int], int] = {}

    def bend(side: str, c: int) -> float:
        n = bend_used.get((side, c), 0)
        bend_used[(side, c)] = n + 1
        return 8.0 + 5.0 * (n % 6)  # 5 pt apart: two dashed verticals stay two lines

    for i, e in enumerate(edges):
        src, dst = node_box[e.source], node_box[e.target]
        a, b = column_of[e.source], column_of[e.target]
        py = port_out[i]
        points: list[Point] = [(src.right, py)]
        label = None
        if e.label:
            lw, lh = e.label
            label = Box(src.right + LABEL_GAP, py - lh - 1, lw, lh)
        kind = kinds[i]
        if kind == "forward":
            tip = (dst.x, port_in[i])
            _line(points, (col_end[a], py))
            y = py
            for c in range(a + 1, b):
                x0 = col_end[c - 1]
                x1 = col_x[c]
                want = y + (tip[1] - y) * (x1 - x0) / max(1.0, tip[0] - x0)
                y = through(c, want)
                _curve(points, (x1, y))
                _line(points, (col_end[c], y))
            _curve(points, (tip[0] - ARROW, tip[1]))
        elif kind == "back":
            tip = (dst.x, port_in[i])
            lane_y = lane_top + ROW_GAP / 2 + lane_of[i] * LANE_STEP
            right = col_end[a] + bend("r", a)
            left = dst.x - bend("l", b)
            polyline(
                points,
                [(right, py), (right, lane_y), (left, lane_y), (left, tip[1])],
                (tip[0] - ARROW, tip[1]),
            )
        else:  # a loop back to its own node, under it
            tip = (dst.x, port_in[i])
            below = src.y + slot_h(e.source) + ROW_GAP / 2
            right = src.right + 8.0
            left = src.x - 10.0
            polyline(
                points,
                [(right, py), (right, below), (left, below), (left, tip[1])],
                (tip[0] - ARROW, tip[1]),
            )
        routes.append(Route(_merged(points), tip, kind, label))

    # Loss tags under their node, each reached by a short stub.
    tags: dict[tuple[str, int], Box] = {}
    stubs: dict[tuple[str, int], Route] = {}
    for ident, n in nodes_in.items():
        box = node_box[ident]
        y = box.bottom + TAG_GAP
        for k, (w, h) in enumerate(n.tags):
            tag = Box(box.x + TAG_INDENT, y, w, h)
            tags[(ident, k)] = tag
            points = [(box.x + STUB_X, box.bottom)]
            polyline(points, [(box.x + STUB_X, tag.cy)], (tag.x - ARROW - 1, tag.cy))
            stubs[(ident, k)] = Route(points, (tag.x - 1, tag.cy), "stub")
            y = tag.bottom + TAG_GAP

    stage_boxes = [
        Box(x0, top, x1 - x0, stage_bottom - top) for x0, x1 in zip(stage_x0, stage_x1, strict=True)
    ]
    if outcomes:  # the outcomes column has no lanes, and may be the taller one
        last = stage_boxes[-1]
        bottom = max(stage_bottom, outcome_bottom + STAGE_PAD)
        stage_boxes[-1] = Box(last.x, top, last.w, bottom - top)
    boxes_bottom = max(b.bottom for b in stage_boxes) if stage_boxes else top
    bands = [Box(b.x, b.y, b.w, band_h) for b in stage_boxes]
    right = max((b.right for b in stage_boxes), default=MARGIN)
    legend_box = Box(MARGIN, boxes_bottom + 20.0, legend[0], legend[1])
    width = max(right, legend_box.right, MARGIN + title[0]) + MARGIN
    height = legend_box.bottom + MARGIN
    return Layout(
        width=width,
        height=height,
        title=Box(MARGIN, MARGIN, title[0], title[1]),
        stages=stage_boxes,
        bands=bands,
        nodes=node_box,
        tags=tags,
        edges=routes,
        stubs=stubs,
        legend=legend_box,
        columns=list(zip(col_x, col_end, strict=True)),
    )
