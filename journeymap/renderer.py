"""The one module that talks to Graphviz.

pygraphviz's wheels bundle a current Graphviz, so ``pip install`` alone can
render; nothing here needs a system package.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import JourneyError

__all__ = ["layout"]

FORMATS = ("svg", "pdf", "png")


@contextmanager
def _filtered_stderr() -> Iterator[None]:
    """Hide the bundled fontconfig's harmless warning about Debian's config files.

    It is written by C code straight to file descriptor 2, so it can only be
    caught there; every other line is passed through.
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
                if not line.startswith("Fontconfig warning"):
                    print(line, file=sys.stderr)


def layout(dot: str, fmt: str = "svg", *, dpi: int | None = None) -> bytes:
    """Lay out DOT source with Graphviz's ``dot`` and return the drawing."""
    if fmt not in FORMATS:
        raise JourneyError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    with _filtered_stderr():
        import pygraphviz

        graph = pygraphviz.AGraph(string=dot)
        args = f"-Gdpi={dpi}" if dpi and fmt == "png" else ""
        try:
            data = graph.draw(format=fmt, prog="dot", args=args)
        except (OSError, ValueError) as exc:  # pragma: no cover - Graphviz itself failed
            raise JourneyError(f"Graphviz could not lay out the map: {exc}") from None
    assert isinstance(data, bytes)
    return data
