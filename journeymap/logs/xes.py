"""Streaming XES (IEEE 1849) reader: events in batches, never the whole tree.

Real XES logs are tens to hundreds of megabytes of XML (BPI Challenge 2012 is 74 MB
for 262,200 events); building an ElementTree of one costs gigabytes. The file is fed
to expat in chunks instead, and only the four attributes a journey needs are kept
for each event. Nothing else in the file is interpreted: a DOCTYPE is refused before
any entity can be declared (no entity expansion, no external fetch), and values are
kept as the strings they are (times are parsed later, in SQL, like every other
format's).

Which values are read:

* the case: the trace's attribute ``case`` (default ``concept:name``), a direct
  child of ``<trace>``, whatever its type;
* the activity and the time: the event's attributes ``activity`` (``concept:name``)
  and ``timestamp`` (``time:timestamp``), direct children of ``<event>``;
* ``lifecycle:transition`` of each event, for ``--lifecycle complete``.

Nested attributes (an attribute inside an attribute) and ``<global>`` defaults are
ignored: a default is a declaration for tools, not a value of the events.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO
from xml.parsers import expat

from journeymap.errors import JourneyError, Problem

__all__ = ["CHUNK", "XesBatch", "XesKeys", "XesReader"]

#: Bytes fed to expat at a time: large enough that the per-call cost vanishes,
#: small enough that memory does not grow with the file.
CHUNK = 1 << 20

LIFECYCLE = "lifecycle:transition"


@dataclass(frozen=True)
class XesKeys:
    """The attribute keys the reader takes case, activity and time from."""

    case: str = "concept:name"
    activity: str = "concept:name"
    timestamp: str = "time:timestamp"


@dataclass
class XesBatch:
    """Events in file order; column lists of one length (``None`` = attribute absent)."""

    case: list[str | None] = field(default_factory=list)
    activity: list[str | None] = field(default_factory=list)
    timestamp: list[str | None] = field(default_factory=list)
    lifecycle: list[str | None] = field(default_factory=list)
    line: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.line)


class _Stop(Exception):
    """Raised inside an expat handler: the file is refused at the parser's position."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class XesReader:
    """Reads one XES file (plain or gzip) into :class:`XesBatch` es of about ``batch`` events.

    Besides the batches, it remembers the attribute keys of the first trace and of
    its events (``trace_keys``, ``event_keys``): when a key asked for is on no event,
    the error can list the keys that are there.
    """

    def __init__(
        self,
        stream: BinaryIO,
        name: str,
        keys: XesKeys,
        *,
        gzipped: bool = False,
        batch: int = 100_000,
        on_bytes: Callable[[int], None] | None = None,
    ) -> None:
        self.name = name
        self.keys = keys
        self.trace_keys: list[str] = []
        self.event_keys: list[str] = []
        self.traces = 0
        self._raw = stream
        self._gzipped = gzipped
        self._batch = batch
        self._on_bytes = on_bytes

    def _problem(self, parser: expat.XMLParserType, message: str) -> JourneyError:
        return JourneyError(
            [Problem(self.name, parser.CurrentLineNumber, parser.CurrentColumnNumber + 1, message)]
        )

    def batches(self) -> Iterator[XesBatch]:
        """The events, in file order; JourneyError (file:line:column) on a bad file."""
        parser = expat.ParserCreate()
        # Entities and DTDs have no place in an event log; refusing the DOCTYPE itself
        # means no entity is ever declared, so none can expand or be fetched.
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

        def refuse_dtd(*_: object) -> None:
            raise _Stop(
                "DOCTYPE declarations are not allowed in an event log (entities are refused)"
            )

        def refuse_entity(*_: object) -> None:
            raise _Stop("entity declarations are not allowed in an event log")

        def refuse_external(*_: object) -> int:
            raise _Stop("external entities are not allowed in an event log")

        parser.StartDoctypeDeclHandler = refuse_dtd
        parser.EntityDeclHandler = refuse_entity
        parser.UnparsedEntityDeclHandler = refuse_entity
        parser.ExternalEntityRefHandler = refuse_external

        keys = self.keys
        case_key, act_key, ts_key = keys.case, keys.activity, keys.timestamp
        out = XesBatch()
        cases, acts, stamps, cycles, lines = (
            out.case,
            out.activity,
            out.timestamp,
            out.lifecycle,
            out.line,
        )
        depth = 0
        in_trace = False
        in_event = False
        case: str | None = None
        act: str | None = None
        ts: str | None = None
        cycle: str | None = None
        trace_start = 0
        first_trace = True
        trace_keys = self.trace_keys
        event_keys = self.event_keys

        def start(name: str, attrs: dict[str, str]) -> None:
            nonlocal depth, in_trace, in_event, case, act, ts, cycle, trace_start
            depth += 1
            d = depth
            if d == 4:
                if in_event:
                    key = attrs.get("key")
                    if key == act_key:
                        act = attrs.get("value")
                    if key == ts_key:
                        ts = attrs.get("value")
                    if key == LIFECYCLE:
                        cycle = attrs.get("value")
                    if first_trace and key is not None and key not in event_keys:
                        event_keys.append(key)
            elif d == 3:
                if name == "event":
                    if not in_trace:
                        raise _Stop("<event> outside a <trace>")
                    in_event = True
                    act = ts = cycle = None
                    lines.append(parser.CurrentLineNumber)
                elif in_trace:
                    key = attrs.get("key")
                    if key == case_key:
                        case = attrs.get("value")
                    if first_trace and key is not None and key not in trace_keys:
                        trace_keys.append(key)
            elif d == 2:
                if name == "trace":
                    in_trace = True
                    case = None
                    trace_start = len(lines)
                elif name == "event":
                    raise _Stop("<event> outside a <trace>")
            elif d == 1 and name != "log":
                raise _Stop(f"not an XES log: the root element is <{name}>, not <log>")

        def end(name: str) -> None:
            nonlocal depth, in_trace, in_event, first_trace
            d = depth
            if d == 3 and in_event:
                in_event = False
                acts.append(act)
                stamps.append(ts)
                cycles.append(cycle)
            elif d == 2 and in_trace:
                in_trace = False
                first_trace = False
                self.traces += 1
                cases.extend([case] * (len(lines) - trace_start))
            depth = d - 1

        parser.StartElementHandler = start
        parser.EndElementHandler = end

        raw = self._raw
        # read1 hands over what has been decompressed so far: on a truncated file the
        # events before the cut are parsed, and the error names the line it reached.
        read = gzip.GzipFile(fileobj=raw, mode="rb").read1 if self._gzipped else raw.read
        on_bytes = self._on_bytes
        while True:
            try:
                data = read(CHUNK)
            except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as exc:
                reason = (
                    "the gzip data ends early: the file is truncated"
                    if isinstance(exc, EOFError)
                    else f"not valid gzip data ({exc})"
                )
                raise self._problem(parser, reason) from None
            try:
                parser.Parse(data, not data)
            except _Stop as stop:
                raise self._problem(parser, stop.message) from None
            except expat.ExpatError as exc:
                raise JourneyError(
                    [
                        Problem(
                            self.name,
                            exc.lineno,
                            exc.offset + 1,
                            f"malformed XML: {expat.errors.messages[exc.code]}",
                        )
                    ]
                ) from None
            if on_bytes is not None:
                on_bytes(raw.tell())
            if not data:
                break
            # Hand over only whole traces: a trace's case is known at its end.
            if len(cases) >= self._batch:
                done = len(cases)
                yield XesBatch(
                    cases[:done], acts[:done], stamps[:done], cycles[:done], lines[:done]
                )
                del cases[:done], acts[:done], stamps[:done], cycles[:done], lines[:done]
                trace_start -= done
        if cases:
            yield XesBatch(cases, acts, stamps, cycles, lines)
