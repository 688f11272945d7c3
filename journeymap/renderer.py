"""The one module that talks to Graphviz.

pygraphviz's wheels bundle a current Graphviz, so ``pip install`` alone can
render; nothing here needs a system package.
"""

from __future__ import annotations

import html
import os
import re
import sys
import tempfile
from collections.abc import Collection, Iterator
from contextlib import contextmanager

from .errors import JourneyError

__all__ = ["LayoutError", "layout"]

FORMATS = ("svg", "pdf", "png")

_ID = re.compile(rb'\bid="([^"]*)"')


class LayoutError(JourneyError):
    """Graphviz reported an error or left out part of the map.

    Graphviz still exits normally after "trouble in init_rank" or "lost edge",
    with a drawing that silently misses edges; the caller retries with a
    simpler layout or gives up, but never writes that drawing.
    """

    def __init__(self, message: str, messages: list[str]) -> None:
        super().__init__(message)
        self.messages = messages


@contextmanager
def _filtered_stderr(captured: list[str] | None = None) -> Iterator[None]:
    """Catch what Graphviz writes to file descriptor 2.

    Its C code writes straight there, so it can only be caught there. The
    bundled fontconfig's harmless warning about Debian's config files is
    dropped; other lines go to ``captured`` if given, else through to stderr.
    """
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), fd)
        try:
            yield
        finally:
            os.dup2(saved, fd)
            os.close(saved)
            tmp.seek(0)
            for line in tmp.read().decode("utf-8", "replace").splitlines():
                if line.startswith("Fontconfig warning"):
                    continue
                if captured is not None:
                    captured.append(line)
                else:
                    print(line, file=sys.stderr)


def svg_ids(svg: bytes) -> set[str]:
    """Every ``id`` in an SVG, unescaped (Graphviz writes ``-`` as ``&#45;``)."""
    return {html.unescape(m.decode("utf-8", "replace")) for m in _ID.findall(svg)}


def _errors(lines: list[str]) -> list[str]:
    """Graphviz's error lines; its warnings about fonts or sizes do not spoil a map."""
    return [
        line
        for line in lines
        if line.startswith("Error") or "triangulation failed" in line or "lost " in line
    ]


def layout(
    dot: str, fmt: str = "svg", *, dpi: int | None = None, expect: Collection[str] = ()
) -> bytes:
    """Lay out DOT source with Graphviz (``dot``, or ``nop2`` if it says so) and return the drawing.

    Graphviz's messages are captured, never printed raw. With ``expect`` (ids of
    nodes and edges), the drawing is checked: a Graphviz error or a missing id
    raises :class:`LayoutError`. Formats other than SVG are checked on an SVG
    of the same source first, which costs a second layout.
    """
    if fmt not in FORMATS:
        raise JourneyError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if expect and fmt != "svg":
        layout(dot, "svg", expect=expect)
    messages: list[str] = []
    with _filtered_stderr(messages):
        import pygraphviz

        try:
            graph = pygraphviz.AGraph(string=dot)
        except (pygraphviz.DotError, ValueError) as exc:
            raise LayoutError(f"Graphviz could not read the map: {exc}", messages) from None
        args = f"-Gdpi={dpi}" if dpi and fmt == "png" else ""
        # A map whose every position is given (the flow map) names the engine that
        # only draws; anything else is laid out by dot.
        prog = "nop2" if graph.graph_attr.get("layout") == "nop2" else "dot"
        try:
            data = graph.draw(format=fmt, prog=prog, args=args)
        except (OSError, ValueError) as exc:
            raise LayoutError(f"Graphviz could not lay out the map: {exc}", messages) from None
    assert isinstance(data, bytes)
    errors = _errors(messages)
    if errors:
        raise LayoutError(f"Graphviz could not lay out the map: {errors[0]}", messages)
    if expect and fmt == "svg":
        missing = sorted(set(expect) - svg_ids(data))
        if missing:
            shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
            raise LayoutError(
                f"Graphviz left {len(missing)} part(s) out of the map: {shown}", messages
            )
    return data
