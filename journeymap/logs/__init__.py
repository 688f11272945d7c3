"""Observed journeys: a journey from an event log, and a declared journey checked against one.

The layout is the flow of the data: :mod:`.readers` (CSV and Parquet through
DuckDB; XES and OCEL streamed by :mod:`.xes` and :mod:`.ocel`) make one
relation ``events(case_id, activity, ts, seq)``; :mod:`.discovery` aggregates
it in one SQL text into directly-follows counts and builds a journey from
them; :mod:`.mapping` reads what a log cannot say (stages, outcomes, names);
:mod:`.conformance` compares a declared journey with the observed paths.

DuckDB is an optional extra (``pip install 'journeymap[logs]'``), imported only
when a log is read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

    from ..model import Journey
    from .conformance import Conformance
    from .discovery import Discovery
    from .mapping import Mapping
    from .readers import LogOptions

__all__ = ["compare", "discover", "discover_file", "print_sql"]


def discover(
    logs: Sequence[str | Path] = (),
    *,
    options: LogOptions | None = None,
    mapping: str | Path | None = None,
    counts: str | Path | None = None,
    journey_id: str = "observed",
    progress: Callable[[int, int], None] | None = None,
) -> Discovery:
    """The journey an event log shows (or ``counts``, the aggregation run elsewhere)."""
    from .discovery import discover as run
    from .mapping import read_mapping

    read = read_mapping(mapping) if mapping is not None else None
    return run(
        logs,
        options=options,
        mapping=read,
        counts_file=counts,
        journey_id=journey_id,
        progress=progress,
    )


def journey_text(found: Discovery, fmt: Literal["yaml", "json"], sources: Sequence[str]) -> str:
    """The discovered journey as the text of a journey file (YAML with a header, or JSON)."""
    from ..interop import journey_yaml

    if fmt == "json":
        return json.dumps(found.data, indent=2, ensure_ascii=False) + "\n"
    s = found.summary
    names = ", ".join(Path(p).name for p in sources)
    header = [
        f"Discovered from {_printable(names)} by journeymap discover:"
        f" {s.cases:,} cases, {s.events:,} events.",
        "Volumes are counts of events (entries: of cases starting there); a wait is the",
        "median time between the two events, to the second.",
    ]
    return journey_yaml(found.data, header="\n".join(header))


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


def discover_file(
    logs: Sequence[str | Path],
    output: str | Path,
    *,
    fmt: Literal["yaml", "json"] | None = None,
    options: LogOptions | None = None,
    mapping: str | Path | None = None,
    counts: str | Path | None = None,
    journey_id: str | None = None,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[Path, Discovery]:
    """Discover and write the journey file; nothing is written unless it loads.

    The format follows ``output``'s extension (``.json`` or ``.yaml``/``.yml``)
    unless ``fmt`` says; ``output`` is never overwritten without ``force``.
    """
    import re

    from ..errors import UsageError
    from ..interop import checked
    from ..loader import loads
    from ..model import SLUG, slug
    from ..output import write_files

    out = Path(output)
    suffix = out.suffix.lower()
    by_name = "json" if suffix == ".json" else "yaml" if suffix in (".yaml", ".yml") else None
    if by_name is None:
        raise UsageError(f"{out}: name the journey file *.yaml (or *.json)")
    if fmt is not None and fmt != by_name:
        raise UsageError(f"--format {fmt} does not fit {out.name}; name it *.{fmt}")
    if out.is_dir():
        raise UsageError(f"{out} is a folder; name the journey file to write")
    if out.exists() and not force:
        raise UsageError(f"{out} exists already; give --force to overwrite it")
    ident = journey_id or slug(out.stem)[:100].strip("-") or "observed"
    if not re.match(SLUG, ident) or len(ident) > 100:
        raise UsageError(f"--journey {ident!r} is no journey id: lowercase letters, digits and '-'")
    found = discover(
        logs,
        options=options,
        mapping=mapping,
        counts=counts,
        journey_id=ident,
        progress=progress,
    )
    sources = [str(p) for p in logs] or [str(counts)]
    text = journey_text(found, by_name, sources)  # type: ignore[arg-type]
    if by_name == "json":
        loads(text, str(out), kind="json")
    else:
        checked(text, str(out))
    return write_files({out: text.encode("utf-8")})[0], found


def print_sql(mapping: str | Path | None = None) -> str:
    """The aggregation's SQL, with the mapping's outcomes and ignored activities as written."""
    from .discovery import counts_sql
    from .mapping import read_mapping

    read = read_mapping(mapping) if mapping is not None else None
    if read is None:
        return counts_sql()
    return counts_sql(list(read.outcomes), list(read.ignore))


def compare(
    journey: Journey | str | Path,
    logs: Sequence[str | Path] | DuckDBPyConnection,
    *,
    options: LogOptions | None = None,
    mapping: str | Path | Mapping | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Conformance:
    """A declared journey (or its file) checked against an event log (files, or a connection).

    The journey and the mapping are read before the log, so a mistake in either
    is reported before a large log is scanned. See :mod:`.conformance`.
    """
    from ..loader import load
    from .conformance import compare as run
    from .mapping import Mapping, read_mapping

    declared = journey if not isinstance(journey, (str, Path)) else load(journey)
    read = mapping if isinstance(mapping, Mapping) or mapping is None else read_mapping(mapping)
    return run(declared, logs, mapping=read, options=options, progress=progress)
