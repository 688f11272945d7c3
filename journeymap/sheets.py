"""Which part of a flow map each printed sheet holds.

A flow map printed whole on one sheet is shrunk until its words are specks (1.6 pt
on A3 for a 29-touchpoint journey). Printed legibly instead, it needs several
sheets, and a reader needs each sheet to hold whole stages, to say which, and to
say where the rest is. This module plans that from the drawing itself: the stage
boxes, nodes and labels of the flow map's SVG (Graphviz's, laid out by
:mod:`journeymap.flowlayout`), cut between stages, or between a stage's columns
where one stage is wider than a sheet, never through a touchpoint or a label.

Pure: an SVG string in, one SVG string per sheet out, each cropped to its part
(with what lies wholly outside left out, so a sheet's PDF holds only its own
text). :mod:`journeymap.printing` puts them on paper.
"""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass

from .errors import JourneyError
from .flowlayout import text_width

__all__ = ["FlowSheet", "FlowSheets", "Strip", "crops", "plan_flow_sheets"]

SVG = "http://www.w3.org/2000/svg"
XLINK = "http://www.w3.org/1999/xlink"
_G, _TEXT, _RECT = f"{{{SVG}}}g", f"{{{SVG}}}text", f"{{{SVG}}}rect"
_LINE, _IMAGE = f"{{{SVG}}}line", f"{{{SVG}}}image"
PT_MM = 25.4 / 72
#: Points left around a sheet's part of the map, so no box is cut at its edge.
EDGE = 8.0
#: Above and below the stage boxes: their borders need little (strips stack closely).
EDGE_Y = 2.0
#: The smallest gap between two columns of a stage where a sheet may end (points).
GAP = 6.0
#: Points between the map and the legend on a sheet.
BETWEEN = 10.0


@dataclass(frozen=True)
class _Item:
    """One top-level element of the drawing: its XML and its extent (outer points)."""

    element: ET.Element
    x0: float
    y0: float
    x1: float
    y1: float
    kind: str  # cluster, node, edge or other
    ident: str


@dataclass(frozen=True)
class Strip:
    """A part of the map (stages side by side) as printed: its SVG, sized in mm."""

    svg: str
    width_mm: float
    height_mm: float


@dataclass(frozen=True)
class FlowSheet:
    """One printed sheet of a flow map: its parts of the map, one under the other
    (on big paper a sheet holds several strips of stages), and perhaps the legend."""

    number: int
    count: int
    strips: list[Strip]
    caption: str  # which stages it holds and where the rest is ("" on one sheet)
    legend: str | None = None  # the legend, sized in mm, when this sheet carries it
    legend_mm: tuple[float, float] = (0.0, 0.0)
    legend_side: str = "below"  # or "right" of the map's parts
    gap_mm: float = 0.0  # between strips, and between them and the legend


@dataclass(frozen=True)
class FlowSheets:
    """The plan: the sheets, the scale they share (mm per point of the drawing)."""

    sheets: list[FlowSheet]
    scale: float
    columns: int  # sheets side by side
    rows: int  # sheets one above the other


def _floats(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?(?:e-?\d+)?", text)]


def _extent(el: ET.Element, dx: float, dy: float) -> tuple[float, float, float, float] | None:
    """An element's extent in outer units (``dx``, ``dy``: the graph's translation):
    Graphviz's paths, polygons and texts, and the canvas' rects, lines and tspans."""
    xs: list[float] = []
    ys: list[float] = []
    for e in el.iter():
        for name in ("points", "d"):
            if name in e.attrib:
                nums = _floats(e.attrib[name])
                xs.extend(nums[0::2])
                ys.extend(nums[1::2])
        if e.tag == _TEXT:
            size = float(e.attrib.get("font-size", "14").removesuffix("px"))
            bold = e.attrib.get("font-weight") == "bold"
            anchor = e.attrib.get("text-anchor", "start")
            lines = [e] if "x" in e.attrib else [t for t in e if "x" in t.attrib]
            for line in lines:
                x, y = float(line.attrib["x"]), float(line.attrib.get("y", "0"))
                w = text_width("".join(line.itertext()), size, bold)
                left = x - (w if anchor == "end" else w / 2 if anchor == "middle" else 0.0)
                xs.extend((left, left + w))
                ys.extend((y - size, y + size * 0.3))
        elif e.tag in (_RECT, _IMAGE) and "width" in e.attrib and "%" not in e.attrib["width"]:
            x, y = float(e.attrib.get("x", "0")), float(e.attrib.get("y", "0"))
            xs.extend((x, x + float(e.attrib["width"])))
            ys.extend((y, y + float(e.attrib["height"])))
        elif e.tag == _LINE:
            xs.extend((float(e.attrib.get("x1", "0")), float(e.attrib.get("x2", "0"))))
            ys.extend((float(e.attrib.get("y1", "0")), float(e.attrib.get("y2", "0"))))
        if "cx" in e.attrib:
            cx, cy = float(e.attrib["cx"]), float(e.attrib["cy"])
            rx, ry = float(e.attrib.get("rx", 0)), float(e.attrib.get("ry", 0))
            xs.extend((cx - rx, cx + rx))
            ys.extend((cy - ry, cy + ry))
    if not xs or not ys:
        return None
    return min(xs) + dx, min(ys) + dy, max(xs) + dx, max(ys) + dy


class _Drawing:
    """The flow map's SVG, parsed once: its root, graph group and top-level items."""

    def __init__(self, svg: str) -> None:
        ET.register_namespace("", SVG)
        ET.register_namespace("xlink", XLINK)
        self.root = ET.fromstring(svg[svg.index("<svg") :])
        graph = self.root.find(_G)
        # Graphviz draws everything inside one graph group; the canvas draws at the top
        self.graph: ET.Element | None = (
            graph if graph is not None and graph.attrib.get("class") == "graph" else None
        )
        nums = _floats(self.graph.attrib.get("transform", "")) if self.graph is not None else []
        # "scale(1 1) rotate(0) translate(tx ty)"; the maps we print are at scale 1
        self.dx, self.dy = (nums[3], nums[4]) if len(nums) >= 5 else (0.0, 0.0)
        self.items: list[_Item] = []
        self.loose: list[ET.Element] = []  # title, style, background
        for child in self.graph if self.graph is not None else self.root:
            wanted = child.tag == _G or self.graph is None
            box = _extent(child, self.dx, self.dy) if wanted else None
            if box is None:
                self.loose.append(child)
                continue
            self.items.append(
                _Item(child, *box, child.attrib.get("class", ""), child.attrib.get("id", ""))
            )
        self.stages = [
            i for i in self.items if i.kind == "cluster" and i.ident.startswith("stage-")
        ]
        legend = [i for i in self.items if i.kind == "cluster" and i.ident == "legend"]
        self.legend = legend[0] if legend else None

    def continued(self, stage: _Item, x: float, room: float) -> ET.Element | None:
        """The stage's title again, at ``x`` (outer units), saying it is continued: for
        the sheet that holds the rest of a stage wider than a sheet; shortened to what
        fits in ``room`` (the width of the stage's part there)."""
        title = next(stage.element.iter(_TEXT), None)
        if title is None:
            return None
        size = float(title.attrib.get("font-size", "14"))
        words = "".join(title.itertext())
        number = words.split(" ", 1)[0]
        choices = [f"{words} (continued)", f"{number} (continued)", f"{number} (cont.)"]
        text = next((c for c in choices if text_width(c, size, True) <= room), None)
        if text is None:
            return None
        again = ET.Element(_TEXT, dict(title.attrib))
        again.set("x", f"{x - self.dx:.2f}")
        again.text = text
        return again

    def crop(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        scale: float,
        *,
        whole: bool = True,
        extra: list[ET.Element] | None = None,
    ) -> str:
        """The part of the drawing inside the box (outer units), ``scale`` mm a unit.

        What lies wholly outside is left out, so the PDF holds no words the sheet
        does not show. With ``whole`` (a sheet cut between stages), a text that
        crosses the edge is left out too (an edge's label at its far end); without
        (a poster's page, cut anywhere), it stays, clipped at the edge.
        """
        root = ET.Element(self.root.tag, {k: v for k, v in self.root.attrib.items()})
        w, h = x1 - x0, y1 - y0
        root.set("width", f"{w * scale:.2f}mm")
        root.set("height", f"{h * scale:.2f}mm")
        root.set("viewBox", f"{x0:.2f} {y0:.2f} {w:.2f} {h:.2f}")
        if self.graph is not None:
            for child in self.root:
                if child.tag != _G:
                    root.append(child)  # title, desc
            into = ET.SubElement(root, _G, dict(self.graph.attrib))
        else:
            into = root
        for loose in self.loose:
            into.append(loose)
        for item in self.items:
            if item.x1 < x0 or item.x0 > x1 or item.y1 < y0 or item.y0 > y1:
                continue
            inside = x0 <= item.x0 and item.x1 <= x1 and y0 <= item.y0 and item.y1 <= y1
            into.append(
                item.element if inside else self._trimmed(item.element, x0, y0, x1, y1, whole)
            )
        into.extend(extra or [])
        return ET.tostring(root, encoding="unicode")

    def _trimmed(
        self, el: ET.Element, x0: float, y0: float, x1: float, y1: float, whole: bool
    ) -> ET.Element:
        import copy

        out = copy.deepcopy(el)
        for parent in list(out.iter()):
            for child in list(parent):
                if child.tag != _TEXT:
                    continue
                box = _extent(child, self.dx, self.dy)
                if box is None:
                    continue
                if whole:
                    gone = box[0] < x0 - 1 or box[2] > x1 + 1 or box[1] < y0 or box[3] > y1
                else:
                    gone = box[2] < x0 or box[0] > x1 or box[3] < y0 or box[1] > y1
                if gone:
                    parent.remove(child)
        return out


def _breaks(intervals: Iterable[tuple[float, float]], lo: float, hi: float) -> list[float]:
    """Where a sheet may end inside ``[lo, hi]``: the middle of each gap of at least
    :data:`GAP` between the ``intervals`` (the things that must not be cut)."""
    spans = sorted((max(lo, a), min(hi, b)) for a, b in intervals if b > lo and a < hi)
    out = []
    reach = lo
    for a, b in spans:
        if a - reach >= GAP:
            out.append((a + reach) / 2)
        reach = max(reach, b)
    return out


def _pack(
    start: float, end: float, room: float, good: list[float], fallback: list[float]
) -> list[float]:
    """Cut ``[start, end]`` into pieces no longer than ``room``: as few cuts at a
    ``fallback`` place (through a stage rather than between two) as can be, then as
    few pieces, then as even as can be (not a full sheet and a sliver). The places cut,
    ``start`` and ``end`` included; [] when something is wider than the room."""
    # cost of reaching a place: (cuts through a stage, pieces, sum of squared widths)
    at = sorted({start, end, *(x for x in good if start < x < end)})
    worse = {x for x in fallback if start < x < end} - set(at)
    places = sorted([*at, *worse])
    n = len(places)
    inf = (math.inf, math.inf, math.inf)
    best: list[tuple[float, float, float]] = [inf] * n
    back = [0] * n
    best[0] = (0, 0, 0.0)
    lo = 0
    for j in range(1, n):
        while places[j] - places[lo] > room + 1e-6:
            lo += 1
        for i in range(lo, j):
            if best[i] == inf:
                continue
            w = places[j] - places[i]
            falls, pieces, squares = best[i]
            cost = (pieces + (places[j] in worse), falls + 1, squares + w * w)
            if cost < best[j]:
                best[j], back[j] = cost, i
    if best[-1] == inf:
        return []
    cuts = [n - 1]
    while cuts[-1]:
        cuts.append(back[cuts[-1]])
    return [places[k] for k in reversed(cuts)]


@dataclass(frozen=True)
class _Cut:
    xs: list[float]  # the sheets' left and right edges, in order
    ys: list[float]  # likewise top and bottom
    # The sheets: per sheet the pieces (indices into the xs' intervals) one under the
    # other; a map taller than a sheet has one piece a sheet, in every row of ys.
    groups: list[list[int]]
    legend: list[str]  # per group: where its legend goes ("", below, right)
    alone: bool  # the legend fits a sheet of its own

    @property
    def count(self) -> int:
        return len(self.groups) * (len(self.ys) - 1)


def _cut(d: _Drawing, room_w: float, room_h: float) -> _Cut | None:
    """The cuts of the map for sheets ``room_w`` x ``room_h`` points, or None."""
    stages = d.stages
    top = min(s.y0 for s in stages) - EDGE_Y
    bottom = max(s.y1 for s in stages) + EDGE_Y
    left, right = stages[0].x0 - EDGE, stages[-1].x1 + EDGE
    between = [(a.x1 + b.x0) / 2 for a, b in itertools.pairwise(stages)]
    solid = [(i.x0, i.x1) for i in d.items if i.kind == "node"]
    solid += [(a, b) for a, b in _labels(d)]
    inner = [x for s in stages for x in _breaks(solid, s.x0 + EDGE, s.x1 - EDGE)]
    xs = _pack(left, right, room_w, between, inner)
    if not xs:
        return None
    rows_solid = [(i.y0, i.y1) for i in d.items if i.kind == "node"]
    ys = _pack(top, bottom, room_h, _breaks(rows_solid, top, bottom), [])
    if not ys:
        ys = [
            top + (bottom - top) * k / math.ceil((bottom - top) / room_h)
            for k in range(math.ceil((bottom - top) / room_h) + 1)
        ]
    pieces = len(xs) - 1
    stack = 1
    if len(ys) == 2:  # the map's height fits: big paper holds several strips of it
        h = ys[1] - ys[0]
        stack = max(1, int((room_h + BETWEEN) // (h + BETWEEN)))
        stack = math.ceil(pieces / math.ceil(pieces / stack))  # as even as can be
    groups = [list(range(k, min(pieces, k + stack))) for k in range(0, pieces, stack)]
    legend: list[str] = []
    alone = True
    if d.legend is not None:
        lw, lh = d.legend.x1 - d.legend.x0 + 2 * EDGE, d.legend.y1 - d.legend.y0 + 2 * EDGE
        last_h = ys[-1] - ys[-2]
        for g in groups:
            used = len(g) * last_h + (len(g) - 1) * BETWEEN
            widest = max(xs[k + 1] - xs[k] for k in g)
            if lw <= room_w and used + BETWEEN + lh <= room_h:
                legend.append("below")
            elif widest + BETWEEN + lw <= room_w and lh <= room_h:
                legend.append("right")
            else:
                legend.append("")
        alone = lw <= room_w and lh <= room_h
    return _Cut(xs, ys, groups, legend, alone)


def _labels(d: _Drawing) -> list[tuple[float, float]]:
    """The extents of the edges' labels: a sheet may not end through one."""
    out = []
    for item in d.items:
        if item.kind != "edge":
            continue
        for t in item.element.iter(_TEXT):
            box = _extent(t, d.dx, d.dy)
            if box is not None:
                out.append((box[0], box[2]))
    return out


def _held(d: _Drawing, parts: dict[int, list[int]], col: int) -> str:
    """Which stages a sheet's part holds, by their numbers ("stages 1-3 of 8")."""
    n = sum(1 for s in d.stages if s.ident != "stage-outcomes")
    said: list[str] = []
    run: list[int] = []  # whole stages in a row

    def flush() -> None:
        if run:
            said.append(f"stage {run[0]}" if len(run) == 1 else f"stages {run[0]}-{run[-1]}")
            run.clear()

    outcomes = False
    for k, s in enumerate(d.stages):
        if col not in parts[k]:
            continue
        if s.ident == "stage-outcomes" and k == len(d.stages) - 1:
            outcomes = True
        elif len(parts[k]) > 1:
            flush()
            said.append(f"stage {k + 1} (part {parts[k].index(col) + 1} of {len(parts[k])})")
        else:
            run.append(k + 1)
    flush()
    text = " and ".join(said) + (f" of {n}" if said else "")
    if outcomes:
        text = f"{text}, the outcomes" if text else "the outcomes"
    return text


def plan_flow_sheets(
    svg: str,
    area: tuple[float, float],
    *,
    scale: float,
    most: float | None = None,
    header: float = 0.0,
) -> FlowSheets:
    """Cut the flow map into sheets of ``area`` (mm, inside the margins) at ``scale``
    mm per point of the drawing, or larger up to ``most`` when that needs no more
    sheets (a small map is set larger rather than left in a corner).

    ``header`` is the height (mm) each sheet's title band takes. The drawing's own
    title block is left out (the sheet's header says it, once); its legend goes
    under or beside the map on every sheet with room for it, or on a sheet of its
    own when none has. Raises :class:`JourneyError` when one column of the map is
    wider than the sheet at ``scale``.
    """
    d = _Drawing(svg)
    if not d.stages:  # pragma: no cover - every flow map has stage boxes
        raise JourneyError("the map has no stages to print")

    def at(s: float) -> _Cut | None:
        return _cut(d, area[0] / s, (area[1] - header) / s)

    found = at(scale)
    if found is None:
        widest = max(s.x1 - s.x0 for s in d.stages)
        raise JourneyError(
            f"a column of the map is too wide for a {area[0] + 24:.0f} mm wide sheet at this"
            f" type size (its stage is {widest * scale:.0f} mm wide): use a larger --paper,"
            " --orientation, or --tile"
        )

    def key(c: _Cut) -> tuple[int, bool]:
        return (c.count, any(c.legend))

    best, s = found, scale
    if most is not None and most > scale:
        lo, hi = scale, most
        want = key(found)
        for _ in range(24):
            mid = (lo + hi) / 2
            c = at(mid)
            if c is not None and c.alone and key(c)[0] <= want[0] and key(c)[1] >= want[1]:
                lo, best = mid, c
            else:
                hi = mid
        s = lo
    return _sheets(d, best, s)


def _sheets(d: _Drawing, cut: _Cut, s: float) -> FlowSheets:
    pieces, rows = len(cut.xs) - 1, len(cut.ys) - 1
    # Which pieces hold a part of each stage (a stage wider than a sheet).
    parts: dict[int, list[int]] = {}
    for k, st in enumerate(d.stages):
        parts[k] = [
            c for c in range(pieces) if cut.xs[c] < st.x1 - EDGE and cut.xs[c + 1] > st.x0 + EDGE
        ]
    legend_svg = None
    legend_mm = (0.0, 0.0)
    if d.legend is not None:
        lg = d.legend
        legend_svg = d.crop(lg.x0 - EDGE, lg.y0 - EDGE, lg.x1 + EDGE, lg.y1 + EDGE, s)
        legend_mm = ((lg.x1 - lg.x0 + 2 * EDGE) * s, (lg.y1 - lg.y0 + 2 * EDGE) * s)
    own = d.legend is not None and not any(cut.legend)
    cols = len(cut.groups)
    count = cut.count + (1 if own else 0)
    sheet_of = {k: c + 1 for c, group in enumerate(cut.groups) for k in group}
    sheets = []
    for r in range(rows):
        for c, group in enumerate(cut.groups):
            number = r * cols + c + 1
            y0, y1 = cut.ys[r], cut.ys[r + 1]
            strips = [
                Strip(
                    d.crop(
                        cut.xs[k],
                        y0,
                        cut.xs[k + 1],
                        y1,
                        s,
                        extra=_titles_again(d, parts, k, cut.xs[k])
                        + (_ends_marked(d, cut, k, sheet_of, (y0, y1)) if rows == 1 else []),
                    ),
                    *((cut.xs[k + 1] - cut.xs[k]) * s, (y1 - y0) * s),
                )
                for k in group
            ]
            caption = ""
            if count > 1:
                held = "; under it ".join(_held(d, parts, k) for k in group)
                where = [f"Sheet {number} of {count}: {held}"]
                if rows > 1:
                    where[0] += f" (row {r + 1} of {rows}, column {c + 1} of {cols})"
                if c > 0:
                    where.append(f"continued from sheet {number - 1}")
                if c + 1 < cols:
                    where.append(f"continues on sheet {number + 1}")
                if r + 1 < rows:
                    where.append(f"below it: sheet {number + cols}")
                if own and number == cut.count:
                    where.append(f"legend on sheet {count}")
                caption = ", ".join(where)
            side = cut.legend[c] if r == rows - 1 and d.legend is not None else ""
            sheets.append(
                FlowSheet(
                    number,
                    count,
                    strips,
                    caption,
                    legend_svg if side else None,
                    legend_mm if side else (0.0, 0.0),
                    side or "below",
                    BETWEEN * s,
                )
            )
    if own and legend_svg is not None:
        sheets.append(
            FlowSheet(
                count,
                count,
                [],
                f"Sheet {count} of {count}: the legend of the map",
                legend_svg,
                legend_mm,
            )
        )
    return FlowSheets(sheets, s, cols, rows)


def crops(svg: str, boxes: list[tuple[float, float, float, float]], scale: float) -> list[str]:
    """The parts of a drawing (a flow map or a canvas) inside ``boxes`` (x0, y0, x1, y1
    in its viewBox units), each an SVG ``scale`` mm a unit: a poster's pages. Texts
    that cross the edge stay (clipped); what lies wholly outside is left out."""
    d = _Drawing(svg)
    return [d.crop(*box, scale, whole=False) for box in boxes]


def _titles_again(
    d: _Drawing, parts: dict[int, list[int]], piece: int, x: float
) -> list[ET.Element]:
    """The title of a stage continued from the piece before, for this piece's top left."""
    out = []
    for k, st in enumerate(d.stages):
        if piece in parts[k] and parts[k].index(piece) > 0:
            right = st.x1 - 8  # within this piece of the stage's box
            again = d.continued(st, x + EDGE + 8, right - (x + EDGE + 8))
            if again is not None:
                out.append(again)
    return out


#: Lines closer than this (points) where a sheet ends share one marker.
MARK_GAP = 12.0


def _crossings(d: _Drawing, x: float, y0: float, y1: float) -> list[tuple[float, bool]]:
    """Where the map's lines cross the vertical ``x`` between ``y0`` and ``y1`` (outer
    units), and whether rightwards, from their paths' points (a path runs from the
    transition's source to its target; Graphviz's control points lie close to it)."""
    out = []
    for item in d.items:
        if item.kind != "edge" or item.x1 < x or item.x0 > x:
            continue
        for path in item.element.iter(f"{{{SVG}}}path"):
            nums = _floats(path.attrib.get("d", ""))
            pts = [(a + d.dx, b + d.dy) for a, b in zip(nums[0::2], nums[1::2], strict=False)]
            for (xa, ya), (xb, yb) in itertools.pairwise(pts):
                if (xa - x) * (xb - x) < 0:
                    y = ya + (yb - ya) * (x - xa) / (xb - xa)
                    if y0 <= y <= y1:
                        out.append((y, xb > xa))
    return sorted(out)


def _ends_marked(
    d: _Drawing, cut: _Cut, piece: int, sheet_of: dict[int, int], band: tuple[float, float]
) -> list[ET.Element]:
    """Where lines cross the edge of this piece of the map, a small marker says which
    sheet the line comes from or goes on to: the sheet's number on the edge's side,
    the arrow the way customers go ("→ 4" leaves for sheet 4 on the right, "2 →" comes
    in from sheet 2 on the left, "2 ←" a rework line going back; "below"/"above" for
    the next strip on the same sheet). Lines a few points apart share one marker."""
    out = []
    sides = []
    if piece + 1 < len(cut.xs) - 1:
        other = sheet_of[piece + 1]
        where = "below" if other == sheet_of[piece] else str(other)
        sides.append((cut.xs[piece + 1], -3.0, "end", where))
    if piece > 0:
        other = sheet_of[piece - 1]
        where = "above" if other == sheet_of[piece] else str(other)
        sides.append((cut.xs[piece], 3.0, "start", where))
    for edge, nudge, anchor, where in sides:
        x = edge + nudge
        last: dict[bool, float] = {True: -math.inf, False: -math.inf}
        for y, rightwards in _crossings(d, edge, *band):
            if y - last[rightwards] < MARK_GAP:
                continue
            last[rightwards] = y
            arrow = "→" if rightwards else "←"
            word = f"{arrow} {where}" if anchor == "end" else f"{where} {arrow}"
            mark = ET.Element(
                _TEXT,
                {
                    "text-anchor": anchor,
                    "x": f"{x - d.dx:.2f}",
                    "y": f"{y - d.dy - 3:.2f}",
                    "font-family": "DejaVu Sans",
                    "font-weight": "bold",
                    "font-size": "9.00",
                    "fill": "#52606d",
                    "class": "sheet-mark",
                },
            )
            mark.text = word
            out.append(mark)
    return out
