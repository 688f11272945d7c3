"""Object-centric event logs (OCEL 1.0 JSON, OCEL 2.0 JSON and SQLite) as case rows.

An object-centric event touches several objects (an interview concerns an
application, a vacancy and a recruiter). A journey follows one kind of object,
so the user picks an object type and each object of that type becomes a case:
an event linked to k such objects is one row in each of the k cases, all with
the event's position as their order, because it is one event.

JSON is read whole (OCEL JSON files are dictionaries keyed by id, which cannot be
streamed row by row), within a size limit; SQLite is read with the standard
library, read-only, table by table.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from journeymap.errors import JourneyError, Problem, did_you_mean

__all__ = ["MAX_JSON_BYTES", "OcelRows", "ocel_json", "ocel_sqlite"]

#: OCEL JSON is parsed into Python objects (about ten times its size in memory).
MAX_JSON_BYTES = 256 * 2**20


@dataclass
class OcelRows:
    """One row per (event, object of the chosen type), in event order.

    ``seq`` is the event's position in the file (1 for the first event), shared by
    the rows of one event; ``event_ids[seq - 1]`` is its id, for messages.
    """

    object_type: str
    case: list[str] = field(default_factory=list)
    activity: list[str | None] = field(default_factory=list)
    timestamp: list[str | None] = field(default_factory=list)
    seq: list[int] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    unlinked: int = 0  # events linked to no object of the chosen type
    unknown_objects: int = 0  # links to object ids the log does not declare


def _fail(name: str, message: str, line: int = 1, column: int = 1) -> JourneyError:
    return JourneyError([Problem(name, line, column, message)])


def _choose_type(name: str, wanted: str | None, counts: Mapping[str, int]) -> str:
    """The declared object type the user asked for (exact, else unique case-insensitive match)."""
    listing = ", ".join(
        f"{t} ({n} object{'s' if n != 1 else ''})"
        for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    if wanted is None:
        raise _fail(
            name,
            "an object-centric log needs --object-type TYPE: the kind of object whose journey "
            f"to follow; the types are {listing or '(none)'}",
        )
    if wanted in counts:
        return wanted
    folded = [t for t in counts if t.casefold() == wanted.casefold()]
    if len(folded) == 1:
        return folded[0]
    raise _fail(
        name,
        f"no object type '{wanted}'{did_you_mean(wanted, list(counts))}; "
        f"the types are {listing or '(none)'}",
    )


def _text(value: object) -> str | None:
    """A scalar as text (ids and activities are sometimes numbers); None when absent."""
    if value is None or isinstance(value, dict | list):
        return None
    return value if isinstance(value, str) else str(value)


def _load_json(raw: bytes, name: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise _fail(name, f"malformed JSON: {exc.msg}", exc.lineno, exc.colno) from None
    except (UnicodeDecodeError, RecursionError) as exc:
        raise _fail(name, f"not a JSON document ({type(exc).__name__})") from None


def ocel_json(raw: bytes, name: str, object_type: str | None) -> OcelRows:
    """OCEL 1.0 (``ocel:events``/``ocel:objects`` maps) or 2.0 (``events``/``objects`` lists)."""
    data = _load_json(raw, name)
    if not isinstance(data, dict):
        raise _fail(name, "not an OCEL log: the JSON document is not an object")
    if "ocel:events" in data:
        return _ocel1(data, name, object_type)
    if "events" in data and "objects" in data:
        return _ocel2(data, name, object_type)
    raise _fail(
        name,
        "not an OCEL log: the JSON has neither 'ocel:events' (OCEL 1.0) nor "
        "'events' and 'objects' (OCEL 2.0)",
    )


def _entries(value: object, name: str, what: str, id_key: str) -> list[tuple[str, Any]]:
    """``(id, record)`` pairs from a map keyed by id or a list of records holding their id."""
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()]
    if isinstance(value, list):
        out = []
        for i, rec in enumerate(value, 1):
            ident = _text(rec.get(id_key)) if isinstance(rec, dict) else None
            out.append((ident if ident is not None else f"#{i}", rec))
        return out
    raise _fail(name, f"not an OCEL log: '{what}' is neither a map nor a list")


def _ocel1(data: dict[str, Any], name: str, object_type: str | None) -> OcelRows:
    objects = _entries(data.get("ocel:objects", {}), name, "ocel:objects", "ocel:id")
    types: dict[str, str] = {}
    for oid, rec in objects:
        kind = _text(rec.get("ocel:type")) if isinstance(rec, dict) else None
        if kind is None:
            raise _fail(name, f"object '{oid}' has no 'ocel:type'")
        types[oid] = kind
    glob = data.get("ocel:global-log")
    declared = glob.get("ocel:object-types", []) if isinstance(glob, dict) else []
    counts: Counter[str] = Counter({t: 0 for t in declared if isinstance(t, str)})
    counts.update(types.values())
    chosen = _choose_type(name, object_type, counts)
    rows = OcelRows(chosen)
    events = _entries(data["ocel:events"], name, "ocel:events", "ocel:id")
    for seq, (eid, rec) in enumerate(events, 1):
        if not isinstance(rec, dict):
            raise _fail(name, f"event '{eid}' is not a JSON object")
        omap = rec.get("ocel:omap", [])
        if not isinstance(omap, list):
            raise _fail(name, f"event '{eid}': 'ocel:omap' is not a list of object ids")
        _add(rows, seq, eid, rec.get("ocel:activity"), rec.get("ocel:timestamp"), omap, types)
    return rows


def _ocel2(data: dict[str, Any], name: str, object_type: str | None) -> OcelRows:
    objects = data["objects"]
    if not isinstance(objects, list):
        raise _fail(name, "not an OCEL 2.0 log: 'objects' is not a list")
    types: dict[str, str] = {}
    for i, rec in enumerate(objects, 1):
        oid = _text(rec.get("id")) if isinstance(rec, dict) else None
        kind = _text(rec.get("type")) if isinstance(rec, dict) else None
        if oid is None or kind is None:
            raise _fail(name, f"object #{i} has no 'id' or no 'type'")
        types[oid] = kind
    declared = data.get("objectTypes", [])
    counts: Counter[str] = Counter()
    if isinstance(declared, list):
        for rec in declared:
            tname = _text(rec.get("name")) if isinstance(rec, dict) else None
            if tname is not None:
                counts[tname] += 0
    counts.update(types.values())
    chosen = _choose_type(name, object_type, counts)
    rows = OcelRows(chosen)
    events = data["events"]
    if not isinstance(events, list):
        raise _fail(name, "not an OCEL 2.0 log: 'events' is not a list")
    for seq, rec in enumerate(events, 1):
        if not isinstance(rec, dict):
            raise _fail(name, f"event #{seq} is not a JSON object")
        eid = _text(rec.get("id")) or f"#{seq}"
        rels = rec.get("relationships", [])
        if not isinstance(rels, list):
            raise _fail(name, f"event '{eid}': 'relationships' is not a list")
        oids = [r.get("objectId") for r in rels if isinstance(r, dict)]
        _add(rows, seq, eid, rec.get("type"), rec.get("time"), oids, types)
    return rows


def _add(
    rows: OcelRows,
    seq: int,
    eid: str,
    activity: object,
    time: object,
    oids: Iterable[object],
    types: Mapping[str, str],
) -> None:
    """The event's rows: one per distinct linked object of the chosen type."""
    rows.event_ids.append(eid)
    act, ts = _text(activity), _text(time)
    seen: set[str] = set()
    for raw in oids:
        oid = _text(raw)
        if oid is None or oid in seen:
            continue
        seen.add(oid)
        kind = types.get(oid)
        if kind is None:
            rows.unknown_objects += 1
        elif kind == rows.object_type:
            rows.case.append(oid)
            rows.activity.append(act)
            rows.timestamp.append(ts)
            rows.seq.append(seq)
    if len(rows.seq) == 0 or rows.seq[-1] != seq:
        rows.unlinked += 1


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ocel_sqlite(path: str, name: str, object_type: str | None) -> OcelRows:
    """OCEL 2.0 SQLite: tables ``event``, ``object``, ``event_object``, ``event_map_type``
    and one ``event_<Type>`` table per event type holding ``ocel_time``.
    """
    uri = Path(path).absolute().as_uri() + "?mode=ro&immutable=1"
    try:
        con = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise _fail(name, f"cannot open as SQLite: {exc}") from None
    try:
        # A database's schema could hold views and triggers; none may run functions
        # with side effects, and nothing is ever written.
        con.execute("PRAGMA trusted_schema=OFF")
        con.execute("PRAGMA query_only=ON")
        return _ocel_sqlite(con, name, object_type)
    except sqlite3.DatabaseError as exc:
        raise _fail(name, f"not a readable OCEL 2.0 SQLite database ({exc})") from None
    finally:
        con.close()


def _ocel_sqlite(con: sqlite3.Connection, name: str, object_type: str | None) -> OcelRows:
    tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    needed = ("event", "object", "event_object", "event_map_type")
    missing = [t for t in needed if t not in tables]
    if missing:
        raise _fail(name, f"not an OCEL 2.0 SQLite database: no table {', '.join(missing)}")
    counts: Counter[str] = Counter()
    if "object_map_type" in tables:
        for (tname,) in con.execute("SELECT ocel_type FROM object_map_type"):
            if tname is not None:
                counts[str(tname)] += 0
    for tname, n in con.execute("SELECT ocel_type, count(*) FROM object GROUP BY ocel_type"):
        if tname is not None:
            counts[str(tname)] += n
    chosen = _choose_type(name, object_type, counts)
    rows = OcelRows(chosen)
    # Each event type keeps its events' times in its own table event_<map>.
    parts = []
    for _etype, suffix in con.execute("SELECT ocel_type, ocel_type_map FROM event_map_type"):
        table = f"event_{suffix}"
        if table in tables:
            parts.append(f"SELECT ocel_id, ocel_time FROM {_ident(table)}")
    times = " UNION ALL ".join(parts) if parts else "SELECT NULL AS ocel_id, NULL AS ocel_time"
    query = f"""
        SELECT e.ocel_id, e.ocel_type, t.ocel_time, o.ocel_id
        FROM event AS e
        LEFT JOIN ({times}) AS t ON t.ocel_id = e.ocel_id
        LEFT JOIN (
            SELECT DISTINCT eo.ocel_event_id, eo.ocel_object_id AS ocel_id
            FROM event_object AS eo JOIN object AS ob ON ob.ocel_id = eo.ocel_object_id
            WHERE ob.ocel_type = ?
        ) AS o ON o.ocel_event_id = e.ocel_id
        ORDER BY e.rowid, o.ocel_id
    """
    seq = 0
    last: object = object()
    for eid, etype, time, oid in con.execute(query, (chosen,)):
        if eid != last or seq == 0:
            seq += 1
            last = eid
            rows.event_ids.append(str(eid))
            if oid is None:
                rows.unlinked += 1
        if oid is not None:
            rows.case.append(str(oid))
            rows.activity.append(_text(etype))
            rows.timestamp.append(_text(time))
            rows.seq.append(seq)
    return rows
