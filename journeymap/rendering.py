"""Rendering: a journey to the bytes of a map, and maps to files."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from .analysis import Analysis, analyze
from .dot import Observed, expected_ids, html_escape, to_dot
from .errors import JourneyError, UsageError
from .model import Journey
from .output import write_files
from .themes import Theme, get_theme

__all__ = ["FORMATS", "VIEWS", "render", "render_files"]

FORMATS = ("svg", "pdf", "png", "dot", "mermaid")
VIEWS = ("flow", "canvas")
# File name extensions of the formats not named by one.
EXTENSIONS = {"mermaid": "mmd"}


def describe(journey: Journey, analysis: Analysis) -> str:
    """A sentence for screen readers: what the map shows and where customers get lost."""
    parts = [
        f"Journey map of {len(journey.touchpoints)} touchpoints in {len(journey.stages)} stages"
        f" ({', '.join(s.title for s in journey.stages)}), with {len(journey.outcomes)} outcomes."
    ]
    if analysis.dead_ends:
        parts.append(f"Dead ends: {', '.join(journey.nodes[i].title for i in analysis.dead_ends)}.")
    if analysis.traps:
        parts.append(f"Traps: {', '.join(journey.nodes[i].title for i in analysis.traps)}.")
    for entry, p in analysis.success_probability.items():
        parts.append(f"From {journey.nodes[entry].title}, {p:.0%} reach a success outcome.")
    return " ".join(parts)


def _accessible_svg(svg: bytes, title: str, desc: str, ident: str) -> bytes:
    """Give the SVG a title and description that screen readers announce."""
    text = svg.decode("utf-8")
    match = re.search(r"<svg\b[^>]*>", text)
    if match is None:  # pragma: no cover - Graphviz always writes an <svg> element
        return svg
    head = match.group(0)
    new_head = head[:-1] + f' role="img" aria-labelledby="{ident}-title {ident}-desc">'
    inner = (
        f'\n<title id="{ident}-title">{html_escape(title)}</title>'
        f'\n<desc id="{ident}-desc">{html_escape(desc)}</desc>'
    )
    return (text[: match.start()] + new_head + inner + text[match.end() :]).encode("utf-8")


def render(
    journey: Journey,
    format: str = "svg",
    *,
    view: str = "flow",
    theme: Theme | str | None = None,
    dpi: int | None = None,
    analysis: Analysis | None = None,
    links: str | None = None,
    paper: str = "A3",
    orientation: str = "landscape",
    tile: bool = False,
    observed: Observed | None = None,
) -> bytes:
    """The map of one journey as bytes (SVG, PDF, PNG, DOT source or a Mermaid diagram).

    ``view`` is ``flow`` (the graph) or ``canvas`` (the classic journey map). A PDF's
    page is the ``paper`` (A4 to A0, letter, tabloid), the map scaled to fit, or
    spread over several pages at full size with ``tile``. ``links`` (e.g.
    ``"#tp-{id}"``) turns the flow map's nodes into links, for maps in a report.
    ``observed`` draws an event log's steps over the flow map (``report --log``).
    """
    if format not in FORMATS:
        raise UsageError(f"unknown format {format!r}; choose one of {', '.join(FORMATS)}")
    if view not in VIEWS:
        raise UsageError(f"unknown view {view!r}; choose one of {', '.join(VIEWS)}")
    if format == "dot" and view != "flow":
        raise UsageError("the canvas is drawn directly as SVG; DOT exists only for the flow view")
    if format == "mermaid":
        # A Mermaid journey diagram is a view of its own: no graph, no canvas, no theme.
        if view != "flow":
            raise UsageError(
                f"--view {view} does not apply to --format mermaid, which writes a Mermaid"
                " journey diagram of its own kind; leave --view out"
            )
        from .interop.mermaid import to_mermaid

        return to_mermaid(journey).encode("utf-8")
    t = theme if isinstance(theme, Theme) else get_theme(theme)
    a = analysis or analyze(journey, quantiles=False)
    if format == "pdf":
        from .dot import subtitle_lines
        from .printing import canvas_pdf, flow_pdf
        from .printing import paper as paper_size

        size = paper_size(paper, orientation)  # bad names fail before any drawing
        title = t.title or journey.title
        sub = subtitle_lines(journey, a)
        if view == "canvas":
            return canvas_pdf(journey, a, t, title=title, subtitle=sub, paper_size=size, tile=tile)

        def draw(legend_width: float | None) -> str:
            data = _laid_out(journey, a, t, "svg", dpi=None, links=None, legend_width=legend_width)
            return data.decode("utf-8")

        return flow_pdf(draw, title=title, subtitle=sub, paper_size=size, tile=tile)
    if view == "canvas":
        from .canvas import canvas_svg

        svg_text = canvas_svg(journey, a, t)
        if format == "png":
            from .printing import svg_to_png

            return svg_to_png(svg_text, dpi or 96)
        return svg_text.encode("utf-8")
    if format == "dot":
        return to_dot(journey, a, t, links=links, observed=observed).encode("utf-8")
    data = _laid_out(journey, a, t, format, dpi=dpi, links=links, observed=observed)
    if format == "svg":
        data = _accessible_svg(
            data, t.title or journey.title, describe(journey, a), f"map-{journey.journey}"
        )
    return data


# What to give up, in order, when Graphviz gets a layout wrong: per-touchpoint
# anchors, then edge labels (the label nodes are what its errors are about).
_FALLBACKS: tuple[dict[str, bool], ...] = (
    {},
    {"anchors": False},
    {"anchors": False, "edge_labels": False},
)


def _laid_out(
    journey: Journey,
    a: Analysis,
    t: Theme,
    format: str,
    *,
    dpi: int | None,
    links: str | None,
    observed: Observed | None = None,
    legend_width: float | None = None,
) -> bytes:
    """The drawing of the flow map, checked complete: every node, every transition.

    A drawing Graphviz got wrong is never returned: each simpler layout is tried
    in turn, and if none is complete the user gets an error, not a map with a
    transition silently missing.
    """
    from .renderer import LayoutError, layout

    expect = expected_ids(journey)
    tried: set[str] = set()
    failures: list[str] = []
    for options in _FALLBACKS:
        dot = to_dot(
            journey, a, t, links=links, observed=observed, legend_width=legend_width, **options
        )
        if dot in tried:
            continue
        tried.add(dot)
        try:
            return layout(dot, format, dpi=dpi, expect=expect)
        except LayoutError as exc:
            failures.append(str(exc))
    raise JourneyError(
        f"{journey.source}: Graphviz could not draw a complete map of journey"
        f" {journey.journey!r}, even without anchors and edge labels ({failures[-1]})"
    )


def render_files(
    journeys: Sequence[Journey],
    outdir: str | Path = "output",
    format: str = "svg",
    **options: object,
) -> list[Path]:
    """Render every journey into ``outdir/<journey>.<format>``: all files or none.

    The file's extension is the format's (``.mmd`` for ``mermaid``).
    """
    out = Path(outdir)
    if out.exists() and not out.is_dir():
        raise JourneyError(f"{out}: not a folder")
    view = options.get("view", "flow")
    suffix = "" if view == "flow" else f"-{view}"
    ext = EXTENSIONS.get(format, format)
    files = {
        out / f"{j.journey}{suffix}.{ext}": render(j, format, **options)  # type: ignore[arg-type]
        for j in journeys
    }
    return write_files(files)
