"""journeymap: customer journeys as code.

Declare a journey once as a text file of stages, touchpoints and transitions;
``load`` validates it, ``analyze`` finds where customers get lost, ``render``
draws it. Attributes are imported on first use so that ``journeymap --help``
stays instant.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Analysis",
    "Journey",
    "JourneyError",
    "Problem",
    "analyze",
    "find_paths",
    "load",
    "load_all",
    "loads",
    "render",
    "render_files",
    "report_html",
    "report_markdown",
    "to_dot",
    "to_networkx",
]

_WHERE = {
    "Analysis": "analysis",
    "analyze": "analysis",
    "Journey": "model",
    "JourneyError": "errors",
    "Problem": "errors",
    "find_paths": "paths",
    "load": "loader",
    "load_all": "loader",
    "loads": "loader",
    "render": "rendering",
    "render_files": "rendering",
    "report_html": "report",
    "report_markdown": "report",
    "to_dot": "dot",
    "to_networkx": "graph",
}

if TYPE_CHECKING:
    from .analysis import Analysis, analyze
    from .dot import to_dot
    from .errors import JourneyError, Problem
    from .graph import to_networkx
    from .loader import load, load_all, loads
    from .model import Journey
    from .paths import find_paths
    from .rendering import render, render_files
    from .report import report_html, report_markdown


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'journeymap' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
