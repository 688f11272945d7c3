"""The report: one self-contained HTML file (or Markdown) per journey or folder.

Everything the report shows is computed here into plain data (pure, testable
without a browser); the templates only lay it out. The templates are the
repository's top-level ``templates/`` (the package ``journeymap.templates`` in the
wheel), with autoescaping on; ``template_dir`` puts a firm's own templates in
front of them (any template it does not override falls back to ours).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analysis import Analysis, analyze
from .coverage import CheckItem, checklist
from .dot import percent
from .errors import JourneyError
from .findings import RULES, Config, Finding, Thresholds
from .model import Journey, Touchpoint
from .paths import Route, find_paths, routes_text
from .timing import SUCCESS, OutcomeTime, human_duration

if TYPE_CHECKING:
    import jinja2

    from .logs.conformance import Conformance

__all__ = ["report_html", "report_markdown"]

LOST_PATHS = 10
#: How many fixes the report lists (all of them are in ``analyze --format json``).
FIX_FIRST = 5
SEVERITY_ORDER = ("error", "warning", "info")
#: Rows of a list the report shows at most (leaks, one rule's findings, handoffs);
#: ``journeymap analyze --format json`` has them all.
LONG_LIST = 300
#: Touchpoints the inventory shows before "Show all" (all of them when printed or
#: without JavaScript; sorting and filtering always use them all).
INVENTORY_PAGE = 200


@dataclass(frozen=True)
class _Section:
    """One journey as the templates see it."""

    journey: Journey
    analysis: Analysis
    prefix: str  # anchors: "" for a single journey, "<journey>--" for several
    lost_paths: list[Route]
    flow_svg: str
    canvas_svg: str
    quadrant_svg: str
    emotion_svg: str
    stages: list[dict[str, Any]]
    handoffs: list[dict[str, Any]]
    no_owner: list[Touchpoint]
    findings_by_severity: list[tuple[str, list[tuple[str, list[Finding]]]]]
    important_but_poor: frozenset[str]  # touchpoint ids, as the finding of that name says
    fixes: list[dict[str, str]]  # the top fixes: gain, what, where (a touchpoint id)
    time_svg: str  # time to success per entry as a small chart ("" without times)
    times: list[tuple[str, OutcomeTime]]  # entry -> its time to any success, where one is reached
    service: list[dict[str, Any]]  # per stage with touchpoints: customer, firm, proactive share
    checklist: list[CheckItem]  # what a journey of its kind should have, and what covers it
    # The journey against an event log (report --log), or None.
    observed: Conformance | None = None
    # Too many touchpoints to draw one by one: flow_svg is the stage overview.
    overview: bool = False
    handoffs_total: int = 0  # all handoffs; ``handoffs`` keeps the LONG_LIST largest

    @property
    def empty_columns(self) -> frozenset[str]:
        """Inventory columns no touchpoint of the journey fills: left out of the table."""
        tps = self.journey.touchpoints

        def imp(tp: Touchpoint, who: str) -> object:
            return getattr(tp.importance, who) if tp.importance else None

        values: dict[str, Callable[[Touchpoint], object]] = {
            "channel": lambda tp: tp.channel,
            "owner": lambda tp: tp.owner,
            "volume": lambda tp: tp.volume,
            "frequency": lambda tp: tp.frequency,
            "duration": lambda tp: tp.duration,
            "importance_customer": lambda tp: imp(tp, "customer"),
            "importance_company": lambda tp: imp(tp, "company"),
            "quality": lambda tp: tp.quality,
            "emotion": lambda tp: tp.emotion,
        }
        return frozenset(k for k, get in values.items() if all(get(tp) in (None, "") for tp in tps))

    @property
    def inventory_width(self) -> int:
        """The inventory's columns: touchpoint, stage, layer, interaction and the filled ones."""
        return 13 - len(self.empty_columns)

    def same_but_subject(self, items: list[Finding]) -> bool:
        """Whether a rule's findings say the same thing of different subjects.

        Fourteen sentences that differ only in a title ("every successful journey
        passes through “X”: a single point of failure") read as one entry listing
        the fourteen, under the rule's own description.
        """
        if len(items) < 3:
            return False
        shapes = {f.message.replace(f"“{self.title_of(f.subject)}”", "“…”") for f in items}
        return len(shapes) == 1 and "“…”" in next(iter(shapes))

    def count(self, severity: str) -> int:
        return sum(
            len(items)
            for sev, groups in self.findings_by_severity
            if sev == severity
            for _, items in groups
        )

    def anchor(self, ident: str) -> str:
        return f"tp-{self.prefix}{ident}"

    def stage_anchor(self, ident: str) -> str:
        return f"stage-{self.prefix}{ident}"

    def subject_anchor(self, ident: str) -> str:
        """A finding's subject is a node, a stage, or (``overlooked``) the journey itself."""
        if ident in self.journey.nodes:
            return self.anchor(ident)
        if ident in self.journey.stage_index or ident != self.journey.journey:
            return self.stage_anchor(ident)
        return f"journey-{self.journey.journey}"

    def title_of(self, ident: str) -> str:
        node = self.journey.nodes.get(ident)
        if node is not None:
            return node.title
        for s in self.journey.stages:
            if s.id == ident:
                return s.title
        if ident == self.journey.journey:
            return self.journey.title
        return ident


def _inline_svg(svg: bytes, prefix: str) -> str:
    """An SVG file as an element inside HTML, its ids made unique on the page."""
    text = svg.decode("utf-8")
    text = text[text.index("<svg") :]
    text = re.sub(r"<!--.*?-->\n?", "", text, flags=re.S)
    text = re.sub(r'(?<=\s)id="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', text)
    text = re.sub(
        r'aria-labelledby="([^"]+)"',
        lambda m: 'aria-labelledby="' + " ".join(prefix + i for i in m.group(1).split()) + '"',
        text,
    )
    return text


def _esc(text: str) -> str:
    from .dot import html_escape

    return html_escape(text)


def quadrant_svg(journey: Journey, prefix: str) -> str:
    """Importance to the customer against quality, every touchpoint labelled.

    The "important but poor" corner (by default importance >= 4, quality <= 2, the
    thresholds of the finding of that name) is shaded and
    named, so it stands out in grayscale too. Each cell lists its touchpoints one per
    line (titles shortened, the whole title in the tooltip and the link), in file
    order, so the same journey always draws the same picture.
    """
    points = [
        tp
        for tp in journey.touchpoints
        if tp.quality is not None and tp.importance is not None and tp.importance.customer
    ]
    if not points:
        return ""
    t = Thresholds()
    cells: dict[tuple[int, int], list[Touchpoint]] = {}
    for tp in points:
        assert tp.importance is not None and tp.importance.customer and tp.quality
        cells.setdefault((tp.quality, tp.importance.customer), []).append(tp)
    per_line, most = 14, 8
    cw = 190
    rows_in = [
        max((len(v) for (q, i), v in cells.items() if i == imp), default=0) for imp in range(6)
    ]
    ch = {imp: max(56, 14 + per_line * min(most + 1, rows_in[imp])) for imp in range(1, 6)}
    left, top = 70, 20
    ys: dict[int, float] = {}
    y = float(top)
    for imp in range(5, 0, -1):
        ys[imp] = y
        y += ch[imp]
    width, height = left + 5 * cw + 10, y + 50
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="quadrant" viewBox="0 0 {width} {height:.0f}" width="{width}" '
        f'role="img" aria-label="Importance to the customer against quality, {_esc(journey.title)}">',
        f'<rect x="{left}" y="{ys[5]}" width="{t.poor * cw}" '
        f'height="{sum(ch[i] for i in range(t.important, 6))}" class="q-bad"/>',
    ]
    for imp in range(1, 6):
        out.append(
            f'<line x1="{left}" y1="{ys[imp]}" x2="{left + 5 * cw}" y2="{ys[imp]}" class="grid"/>'
        )
        out.append(
            f'<text x="{left - 10}" y="{ys[imp] + ch[imp] / 2 + 4:.0f}" class="tick" '
            f'text-anchor="end">{imp}</text>'
        )
    for q in range(1, 7):
        out.append(
            f'<line x1="{left + (q - 1) * cw}" y1="{ys[5]}" x2="{left + (q - 1) * cw}" y2="{y}" class="grid"/>'
        )
    for q in range(1, 6):
        out.append(
            f'<text x="{left + (q - 0.5) * cw}" y="{y + 18}" class="tick" text-anchor="middle">{q}</text>'
        )
    out.append(
        f'<text x="{left + 2.5 * cw}" y="{y + 40}" class="axis">Quality (how well it works today)</text>'
    )
    mid = (ys[5] + y) / 2
    out.append(
        f'<text x="18" y="{mid:.0f}" class="axis" transform="rotate(-90 18 {mid:.0f})">'
        "Importance to the customer</text>"
    )
    corner = ys[t.important] + ch[t.important] - 6  # the cells keep a free line at the bottom
    out.append(f'<text x="{left + 8}" y="{corner}" class="q-bad-label">Important but poor</text>')
    for (q, imp), tps in sorted(cells.items()):
        x0 = left + (q - 1) * cw + 10
        bad = imp >= t.important and q <= t.poor
        for k, tp in enumerate(tps[:most]):
            cy = ys[imp] + 14 + per_line * k
            label = tp.title if len(tp.title) <= 27 else tp.title[:26] + "…"
            out.append(
                f'<a href="#tp-{prefix}{tp.id}"><g class="pt{" pt-bad" if bad else ""}">'
                f"<title>{_esc(tp.title)}: importance {imp}, quality {q}</title>"
                f'<circle cx="{x0}" cy="{cy - 4}" r="4"/>'
                f'<text x="{x0 + 8}" y="{cy}">{_esc(label)}</text></g></a>'
            )
        if len(tps) > most:
            cy = ys[imp] + 14 + per_line * most
            out.append(
                f'<text x="{x0 + 8}" y="{cy}" class="tick">and {len(tps) - most} more</text>'
            )
    out.append("</svg>")
    return "\n".join(out)


def emotion_svg(journey: Journey) -> str:
    """The emotion curve: each touchpoint's emotion in journey order, stage by stage.

    Stage names sit under their own stretch of the curve, shortened to its width
    (the whole name in the tooltip), so neighbouring short stages never overprint.
    """
    pts = [(s, tp) for s in journey.stages for tp in journey.touchpoints_in(s.id)]
    pts = [(s, tp) for s, tp in pts if tp.emotion is not None]
    if len(pts) < 2:
        return ""
    step, left, h = 34, 40, 220
    w = left + step * len(pts) + 20

    def y(e: float) -> float:
        return 110 - e * 40

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="emotion" viewBox="0 0 {w} {h}" role="img" '
        f'aria-label="Emotion curve of {_esc(journey.title)}, from -2 to +2 per touchpoint">'
    ]
    for e in (-2, -1, 0, 1, 2):
        out.append(f'<line x1="{left}" y1="{y(e)}" x2="{w - 10}" y2="{y(e)}" class="grid"/>')
        label = f"{e:+d}" if e else "0"
        out.append(
            f'<text x="{left - 6}" y="{y(e) + 4}" class="tick" text-anchor="end">{label}</text>'
        )
    line = " ".join(
        f"{left + step * (i + 0.5):.1f},{y(tp.emotion or 0):.1f}" for i, (_, tp) in enumerate(pts)
    )
    out.append(f'<polyline points="{line}" class="curve"/>')
    for i, (_, tp) in enumerate(pts):
        cx, cy = left + step * (i + 0.5), y(tp.emotion or 0)
        cls = "neg" if (tp.emotion or 0) < 0 else "pos" if (tp.emotion or 0) > 0 else "neu"
        shape = "▼" if cls == "neg" else "▲" if cls == "pos" else "●"
        out.append(
            f'<g class="{cls}"><title>{_esc(tp.title)}: {tp.emotion:+g}</title>'
            f'<text x="{cx:.1f}" y="{cy + 4:.1f}" text-anchor="middle" class="mark">{shape}</text></g>'
        )
    # one label per run of touchpoints of the same stage
    runs: list[tuple[str, int, int]] = []
    for i, (s, _) in enumerate(pts):
        if runs and runs[-1][0] == s.id:
            runs[-1] = (s.id, runs[-1][1], i + 1)
        else:
            runs.append((s.id, i, i + 1))
    titles = {s.id: s.title for s in journey.stages}
    for ident, first, stop in runs:
        x0 = left + step * first
        room = max(1, int(step * (stop - first) / 6.2) - 1)  # about 6 px a character
        name = titles[ident]
        short = name if len(name) <= room else name[: max(1, room - 1)].rstrip() + "…"
        out.append(f'<line x1="{x0}" y1="20" x2="{x0}" y2="200" class="stage-sep"/>')
        out.append(
            f'<text x="{x0 + 3}" y="214" class="stage-name"><title>{_esc(name)}</title>'
            f"{_esc(short)}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


def time_svg(journey: Journey, a: Analysis) -> str:
    """Time to success per entry, on one time axis: half succeed within the dark bar
    (the median), 90% within the light one, and the tick is the mean.

    Only numbers and escaped titles go into the picture; entries whose time is not
    known (no success, or figures not given within the budget) are left out.
    """
    rows = []
    for entry, records in a.time.entries.items():
        t = records.get(SUCCESS)
        if t and t.mean_s is not None and t.p50_s is not None and t.p90_s is not None:
            rows.append((journey.nodes[entry].title, t.mean_s, t.p50_s, t.p90_s))
    top = max((max(m, p90) for _, m, _, p90 in rows), default=0.0)
    if not rows or top <= 0:
        return ""
    for unit, size in (
        ("weeks", 604800.0),
        ("days", 86400.0),
        ("hours", 3600.0),
        ("minutes", 60.0),
    ):
        if top >= 2 * size or unit == "minutes":
            break
    # A round step: 1, 2 or 5 times a power of ten, about five ticks.
    raw = top / size / 5
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    step = next(k * power for k in (1, 2, 5, 10) if k * power >= raw)
    end = math.ceil(top / size / step) * step
    left, right, row_h = 210, 20, 28
    width = 720
    plot = width - left - right
    height = 30 + row_h * len(rows) + 40

    def x(seconds: float) -> float:
        return left + plot * seconds / size / end

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="time" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="Time to success by entry, in {unit}: median, 90th percentile'
        ' and mean">'
    ]
    ticks = round(end / step)
    for k in range(ticks + 1):
        tx = left + plot * k / ticks
        value = k * step
        label = f"{value:,.0f}" if value >= 10_000 else f"{value:g}"  # never 2e+09
        out.append(f'<line x1="{tx:.1f}" y1="20" x2="{tx:.1f}" y2="{height - 34}" class="grid"/>')
        out.append(
            f'<text x="{tx:.1f}" y="{height - 20}" class="tick" text-anchor="middle">{label}</text>'
        )
    out.append(
        f'<text x="{left + plot / 2:.1f}" y="{height - 4}" class="axis" text-anchor="middle">'
        f"{unit} from the entry to a success</text>"
    )
    for i, (title, mean, p50, p90) in enumerate(rows):
        y = 24 + row_h * i
        short = title if len(title) <= 32 else title[:31].rstrip() + "…"
        tip = (
            f"{title}: half within {p50 / size:.1f} {unit}, 90% within {p90 / size:.1f},"
            f" mean {mean / size:.1f}"
        )
        out.append(f"<g><title>{_esc(tip)}</title>")
        out.append(
            f'<text x="{left - 8}" y="{y + 15}" class="label" text-anchor="end">{_esc(short)}</text>'
        )
        out.append(
            f'<rect x="{left}" y="{y + 4}" width="{x(p90) - left:.1f}" height="16" class="p90"/>'
        )
        out.append(
            f'<rect x="{left}" y="{y + 4}" width="{x(p50) - left:.1f}" height="16" class="p50"/>'
        )
        out.append(
            f'<line x1="{x(mean):.1f}" y1="{y}" x2="{x(mean):.1f}" y2="{y + 24}" class="mean"/>'
        )
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def _duration(seconds: float | None) -> str:
    return "not given" if seconds is None else human_duration(seconds)


def _stages(j: Journey) -> list[dict[str, Any]]:
    rows = []
    for s in j.stages:
        tps = j.touchpoints_in(s.id)

        def avg(values: list[float]) -> float | None:
            return sum(values) / len(values) if values else None

        rows.append(
            {
                "stage": s,
                "touchpoints": tps,
                "channels": sorted({tp.channel for tp in tps if tp.channel}),
                "owners": sorted({tp.owner for tp in tps if tp.owner}),
                "emotion": avg([tp.emotion for tp in tps if tp.emotion is not None]),
                "quality": avg([float(tp.quality) for tp in tps if tp.quality is not None]),
                "importance": avg(
                    [
                        float(tp.importance.customer)
                        for tp in tps
                        if tp.importance and tp.importance.customer
                    ]
                ),
            }
        )
    return rows


def _handoffs(j: Journey, a: Analysis) -> tuple[list[dict[str, Any]], int]:
    """The handoffs the analysis found, each with the transitions that make it, and how many.

    Which touchpoints hand customers over is the ``handoff`` finding's call (one
    rule, in findings.py); the report only spells out where to, and the wait.
    Past :data:`LONG_LIST` of them, the ones most customers pass through (expected
    visits times the transition's share), still in file order: a journey of
    10,000 touchpoints has tens of thousands, a table of megabytes no one reads.
    """
    out = []
    weight: list[float] = []
    subjects = {f.subject for f in a.findings if f.rule == "handoff"}
    index = a.flow.index
    visits = a.visits
    for tp in j.touchpoints:  # in file order, as the journey reads
        if tp.id not in subjects:
            continue
        shares, _ = tp.shares()
        at = float(visits[index[tp.id]]) if len(visits) else 0.0
        for t, p in zip(tp.next, shares, strict=True):
            nxt = j.nodes[t.to]
            if isinstance(nxt, Touchpoint) and nxt.owner and nxt.owner != tp.owner:
                out.append({"source": tp, "target": nxt, "transition": t})
                weight.append(at * p if math.isfinite(at) else 0.0)
    total = len(out)
    if total > LONG_LIST:
        keep = sorted(sorted(range(total), key=lambda i: -weight[i])[:LONG_LIST])
        out = [out[i] for i in keep]
    return out, total


def _link_cards(svg: str, anchor: str) -> str:
    """Make every card of the canvas a link to its touchpoint in the inventory.

    The canvas draws each card as one flat ``<g class="cv-card" id="canvas-tp-ID">``
    (no nested groups), so the card is found without parsing the SVG.
    """
    return re.sub(
        r'(<g class="cv-card" id="[^"]*?canvas-tp-([^"]+)">.*?</g>)',
        lambda m: f'<a href="#{anchor}{m.group(2)}">{m.group(1)}</a>',
        svg,
        flags=re.S,
    )


def _service(j: Journey, a: Analysis) -> list[dict[str, Any]]:
    """Reactive service against proactive success, stage by stage (stages with touchpoints)."""
    rows = []
    for stage in j.stages:
        counts = a.metrics["initiative"].get(stage.id, {})
        customer, firm = counts.get("customer", 0), counts.get("firm", 0)
        if customer + firm:
            rows.append(
                {
                    "stage": stage,
                    "customer": customer,
                    "firm": firm,
                    "share": firm / (customer + firm),
                }
            )
    return rows


def _fixes(j: Journey, a: Analysis) -> list[dict[str, str]]:
    """The top fixes in words, with the touchpoint each is about (for its link)."""
    from .fixes import describe, gain_text

    titles = {k: n.title for k, n in j.nodes.items()}
    return [
        {"gain": gain_text(fx), "what": describe(fx, titles), "at": fx.subject.partition(" -> ")[0]}
        for fx in [fx for fx in a.fix_first if fx.gain > 0 or (fx.gain_max or 0) > 0][:FIX_FIRST]
    ]


def _by_rule(findings: list[Finding]) -> list[tuple[str, list[Finding]]]:
    """Findings of one severity grouped by rule, biggest group last (they are the long lists)."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.rule, []).append(f)
    return sorted(groups.items(), key=lambda kv: (len(kv[1]), kv[0]))


def _sections(
    journeys: Sequence[Journey],
    theme: str | None,
    config: Config | None = None,
    observed: Mapping[str, Conformance] | None = None,
) -> list[_Section]:
    from .dot import Observed
    from .overview import OVERVIEW_FROM, overview_svg
    from .rendering import VIEWS, render
    from .themes import get_theme

    many = len(journeys) > 1
    sections = []
    for j in journeys:
        a = analyze(j, config)
        prefix = f"{j.journey}--" if many else ""
        lost = find_paths(j, to="lost", limit=LOST_PATHS, analysis=a)
        seen = (observed or {}).get(j.journey)
        overlay = None if seen is None else Observed({(p.src, p.dst): p.count for p in seen.pairs})
        # A journey of thousands of touchpoints gets its stages drawn, not a map of tens
        # of megabytes that no browser opens in time (journeymap render still draws it).
        big = len(j.touchpoints) >= OVERVIEW_FROM
        if big:
            svg = overview_svg(j, a, get_theme(theme)).encode("utf-8")
        else:
            svg = render(
                j, "svg", theme=theme, analysis=a, links=f"#tp-{prefix}{{id}}", observed=overlay
            )
        canvas = ""
        if "canvas" in VIEWS and not big:
            raw = render(j, "svg", view="canvas", theme=theme, analysis=a)
            canvas = _inline_svg(raw, f"svg-{j.journey}--canvas-")
            canvas = _link_cards(canvas, f"tp-{prefix}")
        handoffs, handoffs_total = _handoffs(j, a)
        groups = [
            (sev, _by_rule([f for f in a.findings if f.severity == sev]))
            for sev in SEVERITY_ORDER
            if any(f.severity == sev for f in a.findings)
        ]
        sections.append(
            _Section(
                journey=j,
                analysis=a,
                prefix=prefix,
                lost_paths=lost,
                flow_svg=_inline_svg(svg, f"svg-{j.journey}--flow-"),
                canvas_svg=canvas,
                quadrant_svg=quadrant_svg(j, prefix),
                emotion_svg="" if big else emotion_svg(j),
                stages=_stages(j),
                handoffs=handoffs,
                handoffs_total=handoffs_total,
                no_owner=[
                    tp
                    for f in a.findings
                    if f.rule == "no-owner"
                    for tp in [j.nodes[f.subject]]
                    if isinstance(tp, Touchpoint)
                ],
                findings_by_severity=groups,
                important_but_poor=frozenset(
                    f.subject for f in a.findings if f.rule == "important-but-poor"
                ),
                fixes=_fixes(j, a),
                time_svg=time_svg(j, a),
                times=[(e, r[SUCCESS]) for e, r in a.time.entries.items() if SUCCESS in r],
                service=_service(j, a),
                checklist=checklist(j, config),
                observed=seen,
                overview=big,
            )
        )
    return sections


def _builtin_templates(kind: str = "report") -> Path:
    """The folder of the built-in templates of one ``kind`` (report, init).

    In the wheel they are the package ``journeymap.templates``; in a checkout they
    are the repository's top-level ``templates/`` (also when the package is run
    from the source tree without being installed).
    """
    import importlib.util

    try:
        spec = importlib.util.find_spec("journeymap.templates")
    except ModuleNotFoundError:  # pragma: no cover - find_spec of a submodule returns None
        spec = None
    for root in (spec.submodule_search_locations or []) if spec else []:
        if (Path(root) / kind).is_dir():
            return Path(root) / kind
    return Path(__file__).resolve().parent.parent / "templates" / kind


def _confined_loader(folder: str | Path) -> Any:
    """Jinja's file loader, but only for regular files inside ``folder``.

    A colleague's template folder could hold ``report.css -> /etc/passwd``, or an
    ``{% include "../../secret" %}``; Jinja follows links, so the file would end
    up inside the report. Whatever resolves outside the folder is not found.
    """
    import jinja2

    root = Path(folder).resolve()

    class ConfinedLoader(jinja2.FileSystemLoader):
        def get_source(
            self, environment: jinja2.Environment, template: str
        ) -> tuple[str, str, Callable[[], bool]]:
            path = (root / template).resolve()
            if not path.is_relative_to(root) or not path.is_file():
                raise jinja2.TemplateNotFound(template)
            return super().get_source(environment, template)

    return ConfinedLoader(str(root))


def _environment(template_dir: str | Path | None, *, html: bool) -> jinja2.Environment:
    """Jinja, sandboxed: a firm's templates come from colleagues and are run, so
    ``{{ ''.__class__.__mro__ }}`` and the like must stop with an error, not reach
    Python. HTML is autoescaped; Markdown is too, by :func:`_md_finalize`, so every
    ``{{ value }}`` is safe for the context it lands in unless marked otherwise."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        folder = Path(template_dir)
        if not folder.is_dir():
            raise JourneyError(f"{folder}: not a folder of templates")
        loaders.append(_confined_loader(folder))
    loaders.append(jinja2.FileSystemLoader(str(_builtin_templates())))
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=html,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=None if html else _md_finalize,
    )
    safe: Callable[[Callable[..., str]], Callable[..., str]] = (lambda f: f) if html else _markup
    env.filters["percent"] = safe(percent)
    env.filters["md"] = _markup(_md_cell)
    env.filters["code"] = _markup(_md_code)
    env.filters["num"] = safe(_num)
    env.filters["signed"] = safe(_signed)
    env.filters["routes"] = safe(routes_text)
    env.filters["duration"] = safe(_duration)
    return env


def _markup(f: Callable[..., str]) -> Callable[..., str]:
    """A filter whose result is final Markdown, not to be escaped again."""
    from markupsafe import Markup

    def final(*args: Any) -> str:
        return Markup(f(*args))

    return final


def _signed(v: float | None) -> str:
    return "" if v is None else "0" if v == 0 else f"{v:+g}"


# A number as the filters write it; at least one digit, so "-" or "" is escaped.
_NUMBER = re.compile(r"[+-]?(?=[\d,.]*\d)[\d,]*\.?\d*%?")


def _md_finalize(value: object) -> object:
    """Markdown's autoescape: what a template prints is escaped unless a filter
    already made it Markdown (``md``, ``code``, the number filters) or it is a number."""
    from markupsafe import Markup

    if isinstance(value, Markup | int | float) or value is None:
        return value
    text = str(value)
    return text if _NUMBER.fullmatch(text) else _md_cell(text)


def _num(value: float | None) -> str:
    """A number as people write it: 12,000 rather than 1.2e+04; blank when missing."""
    if value is None:
        return ""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.6g}"


#: Markdown's punctuation: backslash, code, emphasis, links and images, tables,
#: strikethrough, braces (attribute syntaxes). Escaped with a backslash wherever
#: they are; ``# + - =`` and ``1.`` only start a block at a line's start.
_MD_META = re.compile(r"([\\`*_{}\[\]()!|~])")
_MD_LINE_START = re.compile(r"^(\s*)([#+=-]|\d+(?=[.)]))")


def _md_cell(value: object) -> str:
    """Text that shows as itself in Markdown, in a table cell or anywhere else.

    No link, image, emphasis or raw HTML can come out of it (a title like
    ``![x](http://evil/x.png)`` stays text), and it stays on one line, so it
    can neither break out of a table row nor start a heading or a list.
    """
    text = "" if value is None else str(value)
    text = " ".join(text.splitlines()) if text else text
    text = _MD_META.sub(r"\\\1", text)
    text = _MD_LINE_START.sub(
        lambda m: (
            m.group(1) + m.group(2) + "\\"
            if m.group(2)[0].isdigit()
            else m.group(1) + "\\" + m.group(2)
        ),
        text,
    )
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _md_code(value: object) -> str:
    """A code span that holds ``value`` literally (a backslash does nothing in code)."""
    text = " ".join(str(value).splitlines())
    ticks = "`" * (max((len(r) for r in re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _render(
    name: str,
    journeys: Sequence[Journey],
    *,
    html: bool,
    template_dir: str | Path | None,
    theme: str | None,
    config: Config | None = None,
    observed: Mapping[str, Conformance] | None = None,
) -> str:
    if not journeys:
        raise JourneyError("no journeys to report on")
    sections = _sections(journeys, theme, config, observed)
    env = _environment(template_dir, html=html)
    title = (
        sections[0].journey.title
        if len(sections) == 1
        else "Journeys: " + ", ".join(s.journey.title for s in sections)
    )
    try:
        return env.get_template(name).render(
            title=title,
            sections=sections,
            many=len(sections) > 1,
            severities=SEVERITY_ORDER,
            rules={rule: what for rule, (_, what) in RULES.items()},
            long=LONG_LIST,
            page=INVENTORY_PAGE,
        )
    except JourneyError:
        raise
    except Exception as exc:  # a user's template can fail in any way; say where
        raise JourneyError(_template_error(exc, name)) from None


def _template_error(exc: BaseException, name: str) -> str:
    """``template FILE:LINE: what went wrong`` for an error in a template.

    Syntax errors carry their place; errors while rendering (``{{ 1/0 }}``, a
    refused attribute) only have it in the traceback, where Jinja puts a frame
    whose file and line are the template's.
    """
    import jinja2

    where = (getattr(exc, "filename", None), getattr(exc, "lineno", None))
    if not isinstance(exc, jinja2.TemplateSyntaxError):
        tb = exc.__traceback__
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename
            if not filename.endswith(".py") and not filename.startswith("<"):
                where = (filename, tb.tb_lineno)
            tb = tb.tb_next
    message = str(exc) if isinstance(exc, jinja2.TemplateError) else f"{type(exc).__name__}: {exc}"
    if isinstance(exc, jinja2.TemplateNotFound):
        message = f"no template named {exc.name!r}"
    return f"template {where[0] or name}:{where[1] or 1}: {message}"


def report_html(
    journeys: Sequence[Journey],
    *,
    template_dir: str | Path | None = None,
    theme: str | None = None,
    config: Config | None = None,
    observed: Mapping[str, Conformance] | None = None,
) -> str:
    """One self-contained HTML page: no request leaves it, nothing runs from the journey.

    ``config`` is the findings config (as ``analyze --config``), so the report's
    findings and checklist are the ones the analysis gives. ``observed`` (journey
    id -> :func:`journeymap.logs.compare`'s result) adds an "Observed" section and
    draws the log's steps over the flow map.
    """
    return _render(
        "report.html.j2",
        journeys,
        html=True,
        template_dir=template_dir,
        theme=theme,
        config=config,
        observed=observed,
    )


def report_markdown(
    journeys: Sequence[Journey],
    *,
    template_dir: str | Path | None = None,
    config: Config | None = None,
    observed: Mapping[str, Conformance] | None = None,
) -> str:
    """The same content as Markdown, for a wiki or a pull request (maps left out)."""
    return _render(
        "report.md.j2",
        journeys,
        html=False,
        template_dir=template_dir,
        theme=None,
        config=config,
        observed=observed,
    )
