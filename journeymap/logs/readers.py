"""Event logs of any supported format as one ``events`` relation in DuckDB.

Every later step (discovery, conformance) is one SQL text over
``events(case_id VARCHAR, activity VARCHAR, ts TIMESTAMP, seq BIGINT)``, so each
format only has to end there:

* CSV and Parquet become a VIEW over DuckDB's own readers: a log larger than memory
  is scanned, never loaded, and DuckDB spills what its sorts need;
* XES and OCEL are parsed in Python (expat, json, sqlite3) into a table.

Whatever the format, the same checks run first, in SQL over the raw values, so
the messages are the same everywhere: no events, a column missing, values missing,
times that cannot be read, times with and without UTC offset mixed in one log.
Times are read as instants: a value with an offset (``+02:00``, ``Z``, a zone name)
is converted to UTC; a value without one is taken as UTC, or as wall-clock time in
``--timezone``.

A log names files and is untrusted: DuckDB is told which files it may read (the
ones the user named) and nothing else, its extensions are never installed or
loaded on demand, and paths are never globbed.
"""

from __future__ import annotations

import csv
import difflib
import gzip
import os
import re
import stat
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from journeymap.errors import JourneyError, Problem, UsageError, did_you_mean

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

__all__ = [
    "ACTIVITY_COLUMNS",
    "CASE_COLUMNS",
    "LIFECYCLE_COLUMNS",
    "LOGS_EXTRA",
    "TIMESTAMP_COLUMNS",
    "LogInfo",
    "LogOptions",
    "Progress",
    "connect",
    "load_events",
    "require_duckdb",
]

#: What a user without the logs extra is told to install.
LOGS_EXTRA = "pip install 'journeymap[logs]'"

#: Column names tried, in this order and case-insensitively, when no option names one.
#: The XES names come first: they are what PM4Py, ProM and Disco export to CSV.
CASE_COLUMNS = (
    "case:concept:name",
    "case_id",
    "case id",
    "caseid",
    "case",
    "case_key",
    "trace_id",
    "application_id",
)
ACTIVITY_COLUMNS = (
    "concept:name",
    "activity",
    "activity_name",
    "activity name",
    "event",
    "event_name",
    "action",
    "task",
)
TIMESTAMP_COLUMNS = (
    "time:timestamp",
    "timestamp",
    "time",
    "datetime",
    "date",
    "event_time",
    "end_timestamp",
    "complete_timestamp",
    "end_time",
    "start_timestamp",
    "start_time",
)
LIFECYCLE_COLUMNS = ("lifecycle:transition", "lifecycle")

#: ``progress(done_bytes, total_bytes)``: how far through the named files reading is.
Progress = Callable[[int, int], None]

# A time value carries its own zone when it ends in Z, an offset or a zone name.
_ZONE_TAIL = r"([zZ]|[+-]\d\d(:?\d\d)?|[A-Za-z])\s*$"
_BATCH = 100_000
_SHOWN = 5  # row numbers quoted in a message


@dataclass(frozen=True)
class LogOptions:
    """How to read a log: which columns, which object type, which events, which zone."""

    case: str | None = None
    activity: str | None = None
    timestamp: str | None = None
    object_type: str | None = None
    lifecycle: Literal["all", "complete"] = "all"
    timezone: str | None = None


@dataclass(frozen=True)
class LogInfo:
    """What was read, for the summary.

    ``columns`` says where case, activity and timestamp came from (and ``lifecycle``
    when ``--lifecycle complete`` used a column); ``skipped`` counts events left out
    and why (``lifecycle``: not complete; ``no object``: an OCEL event linked to no
    object of the chosen type); ``formats`` is each file's format; ``events`` the
    rows of ``events``; ``timezone`` the zone naive times were read in (None: UTC).
    """

    files: list[str]
    events: int
    columns: dict[str, str]
    skipped: dict[str, int]
    formats: list[str] = field(default_factory=list)
    timezone: str | None = None


def require_duckdb() -> ModuleType:
    """The duckdb module, or the install line as a JourneyError (it is an optional extra)."""
    try:
        import duckdb
    except ImportError:
        raise JourneyError(f"reading event logs needs DuckDB: {LOGS_EXTRA}") from None
    return duckdb


def connect(
    *, memory_limit: str | None = None, temp_directory: str | None = None
) -> DuckDBPyConnection:
    """An in-memory DuckDB connection that never installs or loads extensions by itself.

    Memory limit and spill directory must be set here, before :func:`load_events`
    locks the connection's file access.
    """
    duckdb = require_duckdb()
    config: dict[str, Any] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    if temp_directory is not None:
        config["temp_directory"] = temp_directory
    con: DuckDBPyConnection = duckdb.connect(":memory:", config=config)
    con.execute("SET enable_progress_bar = false")
    return con


# --- small SQL helpers -------------------------------------------------------------


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _literal_glob(path: str) -> str:
    """A glob pattern that matches ``path`` and nothing else.

    DuckDB expands ``*``, ``?`` and ``[...]`` in every path it reads, so a file named
    ``a[1].csv`` would read ``a1.csv`` instead; each such character becomes a
    one-character class that matches only itself.
    """
    return "".join(f"[{c}]" if c in "*?[" else c for c in path)


def _path_lit(path: str) -> str:
    """A file path as a DuckDB string literal, read literally (see :func:`_literal_glob`)."""
    return _lit(_literal_glob(path))


# --- files and formats -------------------------------------------------------------


@dataclass(frozen=True)
class _File:
    name: str  # as the user wrote it, for messages
    path: str  # absolute
    size: int
    fmt: str  # csv, parquet, xes, ocel-json, ocel-sqlite
    gzipped: bool


_TEXT_EXT = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".xes": "xes"}
_TEXT_EXT.update({".json": "ocel-json", ".jsonocel": "ocel-json"})
_EXT = {".parquet": "parquet", ".sqlite": "ocel-sqlite", ".sqlite3": "ocel-sqlite"}
_EXT[".db"] = "ocel-sqlite"
_FORMAT_NAMES = {
    "csv": "CSV",
    "parquet": "Parquet",
    "xes": "XES",
    "ocel-json": "OCEL JSON",
    "ocel-sqlite": "OCEL 2.0 SQLite",
}


def _fail(name: str, message: str, line: int = 1, column: int = 1) -> JourneyError:
    return JourneyError([Problem(name, line, column, message)])


def _probe(name: str) -> _File:
    """The file's format, from its first bytes and its name; JourneyError if unusable."""
    path = os.path.abspath(name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise _fail(name, f"cannot read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _fail(name, "not a regular file; logs are read from ordinary files")
        with os.fdopen(fd, "rb", closefd=False) as fh:
            head = fh.read(64)
    except OSError as exc:
        raise _fail(name, f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if not head:
        raise _fail(name, "empty file: no header and no events")
    lower = name.lower()
    gzipped = head[:2] == b"\x1f\x8b"
    stem = lower[:-3] if lower.endswith(".gz") else lower
    by_ext = next((f for e, f in {**_TEXT_EXT, **_EXT}.items() if stem.endswith(e)), None)
    if gzipped:
        head = _gz_head(name, path)
    if head.startswith(b"PAR1"):
        fmt = "parquet"
    elif head.startswith(b"SQLite format 3\x00"):
        fmt = "ocel-sqlite"
    else:
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        fmt = "xes" if text[:1] == b"<" else "ocel-json" if text[:1] in (b"{", b"[") else "csv"
        if fmt == "csv" and by_ext in ("parquet", "ocel-sqlite", "xes", "ocel-json"):
            raise _fail(name, f"not a {_FORMAT_NAMES[by_ext]} file (its first bytes say otherwise)")
    if gzipped and fmt in ("parquet", "ocel-sqlite"):
        raise _fail(name, f"a gzip-compressed {_FORMAT_NAMES[fmt]} file cannot be read; unzip it")
    if (
        by_ext is not None
        and by_ext != fmt
        and not (by_ext == "csv" and fmt in ("xes", "ocel-json"))
    ):
        raise _fail(
            name, f"not a {_FORMAT_NAMES[by_ext]} file: its content is {_FORMAT_NAMES[fmt]}"
        )
    return _File(name, path, info.st_size, fmt, gzipped)


def _gz_head(name: str, path: str) -> bytes:
    try:
        with gzip.open(path, "rb") as fh:
            head: bytes = fh.read(64)
    except EOFError:
        raise _fail(name, "the gzip data ends early: the file is truncated") from None
    except (gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise _fail(name, f"not valid gzip data ({exc})") from None
    if not head:
        raise _fail(name, "empty file: no header and no events")
    return head


# --- sources: one per file, all with the same raw columns ---------------------------

TsKind = Literal["text", "naive", "zoned", "date"]


@dataclass
class _Source:
    """One file as raw rows ``c, a, t, lc, s, r`` (case, activity, time, lifecycle,
    position in the file from 1, number that locates the row in messages).

    ``relation`` is SQL: a table name or a parenthesised select.
    """

    file: _File
    relation: str
    ts_kind: TsKind
    columns: dict[str, str]
    where: str  # how ``r`` is said in messages: "line", "row", "event"
    ts_formats: list[str] = field(default_factory=list)
    staged: bool = False
    event_ids: list[str] | None = None
    skipped: dict[str, int] = field(default_factory=dict)
    # Filled by validation:
    positions: int = 0
    kept: int = 0
    zoned: int = 0
    naive: int = 0


def _pick(
    file: _File,
    role: str,
    option: str | None,
    flag: str,
    candidates: Sequence[str],
    found: list[str],
) -> str:
    """The column for ``role``: the one named by ``option``, else the first default present."""
    if option is not None:
        if option in found:
            return option
        folded = [c for c in found if c.casefold() == option.casefold()]
        if len(folded) == 1:
            return folded[0]
        raise _fail(
            file.name,
            f"no {role} column '{option}'{did_you_mean(option, found)}; "
            f"the columns are {_listing(found)}",
        )
    by_fold: dict[str, str] = {}
    for c in found:
        by_fold.setdefault(c.strip().casefold(), c)
    for cand in candidates:
        if cand in by_fold:
            return by_fold[cand]
    raise _fail(
        file.name,
        f"no {role} column: none of {', '.join(candidates)} is among the columns "
        f"{_listing(found)}; name it with {flag} COLUMN",
    )


def _listing(names: Iterable[str], limit: int = 30) -> str:
    names = list(names)
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _lifecycle_column(found: list[str]) -> str | None:
    folded = {c.strip().casefold(): c for c in reversed(found)}
    return next((folded[c] for c in LIFECYCLE_COLUMNS if c in folded), None)


def _columns(file: _File, options: LogOptions, found: list[str]) -> dict[str, str]:
    cols = {
        "case": _pick(file, "case", options.case, "--case", CASE_COLUMNS, found),
        "activity": _pick(
            file, "activity", options.activity, "--activity", ACTIVITY_COLUMNS, found
        ),
        "timestamp": _pick(
            file, "timestamp", options.timestamp, "--timestamp", TIMESTAMP_COLUMNS, found
        ),
    }
    lc = _lifecycle_column(found) if options.lifecycle == "complete" else None
    if lc is not None:
        cols["lifecycle"] = lc
    return cols


def _duck_error(file: _File, exc: Exception) -> JourneyError:
    """A DuckDB error about reading a file as a Problem: its first line, with the line number."""
    text = str(exc)
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), text)
    m = re.search(r"CSV Error on Line: (\d+)", text)
    if m:
        line = int(m.group(1))
        detail = [ln.strip() for ln in text.splitlines()[1:4] if ln.strip()]
        reason = next((d for d in detail if not d.startswith(("Original Line", "Possible"))), first)
        return _fail(file.name, f"cannot read as CSV: {reason}", line)
    first = re.sub(r"^[A-Za-z ]*Error: ", "", first)
    if "GZIP" in first or "gzip" in first:
        return _fail(file.name, f"the gzip data is damaged or truncated ({first})")
    return _fail(file.name, f"cannot read as {_FORMAT_NAMES[file.fmt]}: {first}")


def _csv_source(con: DuckDBPyConnection, file: _File, options: LogOptions) -> _Source:
    """A VIEW-able select over DuckDB's CSV reader, with a dialect fixed up front.

    DuckDB's sniffer is asked for the delimiter, but its answer is used only when it
    read the header as the first line: it may otherwise skip leading "bad" lines
    silently. When it fails, the header line itself gives the delimiter, and the
    strict read reports the first bad line by number. The quote is always ``"``
    (RFC 4180, what every exporter writes): left to itself, the sniffer took a
    value of one apostrophe for a quote and joined two rows into one. No line is a
    comment: a case id may well start with ``#``.
    """
    path = _path_lit(file.path)
    comp = ", compression='gzip'" if file.gzipped else ""
    delim, escape = ",", '"'
    names: list[str] | None = None
    ts_formats: list[str] = []
    try:
        sniff = con.execute(
            f"SELECT Delimiter, Escape, SkipRows, Columns, DateFormat, TimestampFormat "
            f"FROM sniff_csv({path}, header=true, quote='\"', comment=''{comp})"
        ).fetchone()
    except Exception as exc:  # duckdb.Error; the module is optional
        if "GZIP" in str(exc) or "gzip" in str(exc):
            raise _duck_error(file, exc) from None
        sniff = None
    header = _header_line(file)
    if sniff is not None:
        s_delim, s_escape, skip, cols, dfmt, tfmt = sniff
        sniffed = [str(c["name"]) for c in cols]
        one_col_miss = len(sniffed) == 1 and any(d in header for d in ",;\t|")
        if skip == 0 and not one_col_miss:
            delim, names = s_delim, sniffed
            escape = s_escape if s_escape in ('"', "\\") else '"'
            ts_formats = [f for f in (tfmt, dfmt) if f]
    if names is None:
        counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
        delim = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
        row = next(csv.reader([header], delimiter=delim), [])
        names = _dedupe([c or f"column{i}" for i, c in enumerate(row)])
    cols_sql = "{" + ", ".join(f"{_lit(n)}: 'VARCHAR'" for n in names) + "}"
    reader = (
        f"read_csv({path}, auto_detect=false, header=true, skip=0, delim={_lit(delim)}, "
        f"quote='\"', escape={_lit(escape)}, comment='', "
        f"columns={cols_sql}, strict_mode=true{comp})"
    )
    cols = _columns(file, options, names)
    lc = _ident(cols["lifecycle"]) if "lifecycle" in cols else "NULL"
    relation = (
        f"(SELECT c, a, t, lc, s, s + 1 AS r FROM (SELECT {_ident(cols['case'])} AS c, "
        f"{_ident(cols['activity'])} AS a, {_ident(cols['timestamp'])} AS t, "
        f"CAST({lc} AS VARCHAR) AS lc, row_number() OVER () AS s FROM {reader}))"
    )
    return _Source(file, relation, "text", cols, "line", ts_formats=ts_formats)


def _header_line(file: _File) -> str:
    """The file's first line (up to 1 MiB), decoded leniently: only for column names."""
    try:
        opener = gzip.open if file.gzipped else open
        with opener(file.path, "rb") as fh:
            first = fh.readline(2**20)
    except (OSError, EOFError, zlib.error):
        return ""
    return first.decode("utf-8", "replace").lstrip("\ufeff").rstrip("\r\n")


def _dedupe(names: list[str]) -> list[str]:
    """Duplicate header names made unique the way DuckDB does it (``name_1``)."""
    seen: set[str] = set()
    out = []
    for n in names:
        m, i = n, 0
        while m in seen:
            i += 1
            m = f"{n}_{i}"
        seen.add(m)
        out.append(m)
    return out


def _parquet_source(con: DuckDBPyConnection, file: _File, options: LogOptions) -> _Source:
    path = _path_lit(file.path)
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({path})").fetchall()
    except Exception as exc:  # duckdb.Error
        raise _duck_error(file, exc) from None
    types = {str(r[0]): str(r[1]) for r in described}
    names = list(types)
    cols = _columns(file, options, names)
    ts_type = types[cols["timestamp"]].upper()
    kind: TsKind
    if ts_type in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        kind = "zoned"
    elif ts_type.startswith("TIMESTAMP"):
        kind = "naive"
    elif ts_type == "DATE":
        kind = "date"
    elif ts_type == "VARCHAR":
        kind = "text"
    else:
        raise _fail(
            file.name,
            f"the timestamp column '{cols['timestamp']}' holds {ts_type} values, "
            "not times (a timestamp, a date or ISO 8601 text)",
        )
    lc = f"CAST({_ident(cols['lifecycle'])} AS VARCHAR)" if "lifecycle" in cols else "NULL"
    relation = (
        f"(SELECT CAST({_ident(cols['case'])} AS VARCHAR) AS c, "
        f"CAST({_ident(cols['activity'])} AS VARCHAR) AS a, {_ident(cols['timestamp'])} AS t, "
        f"{lc} AS lc, file_row_number + 1 AS s, file_row_number + 1 AS r "
        f"FROM read_parquet({path}, file_row_number=true))"
    )
    return _Source(file, relation, kind, cols, "row")


_RAW_COLUMNS = "c VARCHAR, a VARCHAR, t VARCHAR, lc VARCHAR, s BIGINT, r BIGINT"


def _stage(con: DuckDBPyConnection, table: str, batch: dict[str, Any]) -> None:
    """Append a batch of Python lists to a staging table (through NumPy, no row loop)."""
    import numpy as np

    arrays = {
        k: np.array(v, dtype=np.int64) if k in ("s", "r") else np.array(v, dtype=object)
        for k, v in batch.items()
    }
    name = f"{table}_batch"
    con.register(name, arrays)
    try:
        con.execute(f"INSERT INTO {table} SELECT c, a, t, lc, s, r FROM {name}")
    finally:
        con.unregister(name)


def _xes_source(
    con: DuckDBPyConnection,
    file: _File,
    options: LogOptions,
    table: str,
    report: Callable[[int], None],
) -> _Source:
    from journeymap.logs.xes import XesKeys, XesReader

    case_key = options.case or "concept:name"
    if case_key.startswith("case:"):
        case_key = case_key[len("case:") :]
    keys = XesKeys(
        case=case_key,
        activity=options.activity or "concept:name",
        timestamp=options.timestamp or "time:timestamp",
    )
    con.execute(f"CREATE TEMP TABLE {table} ({_RAW_COLUMNS})")
    pos = 0
    with open(file.path, "rb") as fh:
        reader = XesReader(fh, file.name, keys, gzipped=file.gzipped, on_bytes=report)
        for b in reader.batches():
            n = len(b)
            _stage(
                con,
                table,
                {
                    "c": b.case,
                    "a": b.activity,
                    "t": b.timestamp,
                    "lc": b.lifecycle,
                    "s": range(pos + 1, pos + n + 1),
                    "r": b.line,
                },
            )
            pos += n
    cols = {
        "case": f"{keys.case} (trace attribute)",
        "activity": keys.activity,
        "timestamp": keys.timestamp,
    }
    if options.lifecycle == "complete":
        cols["lifecycle"] = "lifecycle:transition"
    src = _Source(file, table, "text", cols, "line", staged=True)
    src.positions = pos
    _check_keys(con, src, reader.trace_keys, reader.event_keys, options)
    return src


def _check_keys(
    con: DuckDBPyConnection,
    src: _Source,
    trace_keys: list[str],
    event_keys: list[str],
    options: LogOptions,
) -> None:
    """A key on no event at all is a misnamed option: say which keys the log has."""
    if src.positions == 0:
        return
    row = con.execute(f"SELECT count(c), count(a), count(t) FROM {src.relation}").fetchone()
    assert row is not None
    checks = (
        (row[0], "case", src.columns["case"].split(" (")[0], "trace", trace_keys, "--case"),
        (row[1], "activity", src.columns["activity"], "event", event_keys, "--activity"),
        (row[2], "timestamp", src.columns["timestamp"], "event", event_keys, "--timestamp"),
    )
    for count, role, key, level, seen, flag in checks:
        if count == 0:
            raise _fail(
                src.file.name,
                f"no {level} has the {role} attribute '{key}'{did_you_mean(key, seen)}; "
                f"the first {level}'s attributes are {_listing(seen)}; name one with {flag}",
            )


def _ocel_source(con: DuckDBPyConnection, file: _File, options: LogOptions, table: str) -> _Source:
    from journeymap.logs import ocel

    if file.fmt == "ocel-sqlite":
        rows = ocel.ocel_sqlite(file.path, file.name, options.object_type)
    else:
        raw = _read_limited(file, ocel.MAX_JSON_BYTES)
        rows = ocel.ocel_json(raw, file.name, options.object_type)
    con.execute(f"CREATE TEMP TABLE {table} ({_RAW_COLUMNS})")
    for i in range(0, len(rows.case), _BATCH):
        j = i + _BATCH
        _stage(
            con,
            table,
            {
                "c": rows.case[i:j],
                "a": rows.activity[i:j],
                "t": rows.timestamp[i:j],
                "lc": [None] * len(rows.case[i:j]),
                "s": rows.seq[i:j],
                "r": rows.seq[i:j],
            },
        )
    cols = {
        "case": f"objects of type {rows.object_type}",
        "activity": "event type" if file.fmt == "ocel-sqlite" else "activity",
        "timestamp": "event time",
    }
    src = _Source(file, table, "text", cols, "event", staged=True, event_ids=rows.event_ids)
    src.positions = len(rows.event_ids)
    if rows.unlinked:
        src.skipped[f"no {rows.object_type} object"] = rows.unlinked
    return src


def _read_limited(file: _File, limit: int) -> bytes:
    """The whole (decompressed) file, refused past ``limit`` bytes."""
    size = f"{limit / 2**20:g} MiB"
    try:
        opener = gzip.open if file.gzipped else open
        with opener(file.path, "rb") as fh:
            raw: bytes = fh.read(limit + 1)
    except EOFError:
        raise _fail(file.name, "the gzip data ends early: the file is truncated") from None
    except (gzip.BadGzipFile, zlib.error, OSError) as exc:
        raise _fail(file.name, f"cannot read: {exc}") from None
    if len(raw) > limit:
        raise _fail(
            file.name, f"over {size} of JSON; object-centric JSON logs over {size} are refused"
        )
    return raw


# --- checks and the time expression ---------------------------------------------------


def _naive_sql(t: str, formats: list[str]) -> str:
    parts = [f"TRY_CAST({t} AS TIMESTAMP)"]
    parts += [f"TRY_STRPTIME({t}, {_lit(f)})" for f in formats if "%z" not in f.lower()]
    return parts[0] if len(parts) == 1 else f"COALESCE({', '.join(parts)})"


def _instant(tstz: str) -> str:
    """A TIMESTAMPTZ as the UTC wall-clock TIMESTAMP.

    By its epoch microseconds: ``timezone('UTC', x)`` gives the same but goes through
    ICU for every row (2.5 s more on 20 million rows).
    """
    return f"make_timestamp(epoch_us({tstz}))"


def _zoned_sql(t: str) -> str:
    return _instant(f"TRY_CAST({t} AS TIMESTAMPTZ)")


def _is_zoned(t: str) -> str:
    """SQL: the text ends in a zone (Z, an offset, a zone name) after a time of day.

    A plain regular expression on the end of the text is cheap; requiring a colon
    keeps a date alone (``2024-03-01``, whose ``-01`` looks like an offset) naive.
    """
    return f"(regexp_matches({t}, {_lit(_ZONE_TAIL)}) AND contains({t}, ':'))"


def _local(expr: str, tz: str | None) -> str:
    """A wall-clock TIMESTAMP as the UTC instant: in ``tz`` when given, else as UTC."""
    return expr if tz is None else _instant(f"timezone({_lit(tz)}, {expr})")


def _ts_sql(src: _Source, tz: str | None) -> str:
    """SQL for the event's UTC instant from ``t``, knowing which kinds of value occur."""
    if src.ts_kind == "zoned":
        return _instant("t")
    if src.ts_kind in ("naive", "date"):
        return _local("CAST(t AS TIMESTAMP)", tz)
    naive_expr = _local(_naive_sql("t", src.ts_formats), tz)
    if src.zoned and not src.naive:
        return _zoned_sql("t")
    if src.naive and not src.zoned:
        return naive_expr
    return f"CASE WHEN {_is_zoned('t')} THEN {_zoned_sql('t')} ELSE {naive_expr} END"


def _keep(options: LogOptions) -> str:
    if options.lifecycle == "complete":
        return "(lc IS NULL OR lower(trim(lc)) = 'complete')"
    return "TRUE"


def _locate(src: _Source, r: int) -> tuple[int, str]:
    """The Problem line and the words for raw row number ``r``."""
    if src.where == "event":
        ids = src.event_ids or []
        label = f"event '{ids[r - 1]}'" if 0 < r <= len(ids) else f"event #{r}"
        return 1, label
    return (r, f"line {r}") if src.where == "line" else (1, f"row {r}")


def _flagged(src: _Source, options: LogOptions) -> str:
    """The source's rows with one flag per check, each computed once per row.

    ``k``: kept (lifecycle); ``nc``/``na``/``nt``: case, activity, time missing;
    ``z``: the time carries a zone; ``bad``: the time cannot be read.
    """
    if src.ts_kind == "text":
        inner = f"(SELECT *, {_is_zoned('t')} AS z FROM {src.relation})"
        nt = "(t IS NULL OR t = '')"
        bad = f"(CASE WHEN z THEN TRY_CAST(t AS TIMESTAMPTZ) IS NULL ELSE {_naive_sql('t', src.ts_formats)} IS NULL END)"
    else:
        z = "TRUE" if src.ts_kind == "zoned" else "FALSE"
        inner = f"(SELECT *, {z} AS z FROM {src.relation})"
        nt, bad = "(t IS NULL)", "FALSE"
    return (
        f"(SELECT s, r, CAST(t AS VARCHAR) AS t, {_keep(options)} AS k, "
        "(c IS NULL OR trim(c) = '') AS nc, (a IS NULL OR trim(a) = '') AS na, "
        f"{nt} AS nt, z, {bad} AS bad FROM {inner})"
    )


_CHECKS = {
    "case": "nc",
    "activity": "na",
    "timestamp": "nt",
    "time": "NOT nt AND bad",
}


def _validate(con: DuckDBPyConnection, src: _Source, options: LogOptions) -> list[Problem]:
    """Count the events and every kind of bad value in one scan; name the first few rows."""
    flagged = _flagged(src, options)
    checks = ", ".join(f"count(*) FILTER (WHERE k AND {c})" for c in _CHECKS.values())
    query = (
        f"SELECT count(*), max(s), count(*) FILTER (WHERE k), {checks}, "
        "count(*) FILTER (WHERE k AND NOT nt AND z), "
        f"count(*) FILTER (WHERE k AND NOT nt AND NOT z) FROM {flagged}"
    )
    try:
        row = con.execute(query).fetchone()
    except Exception as exc:  # duckdb.Error: the file could not be read
        raise _duck_error(src.file, exc) from None
    assert row is not None
    total, positions, kept, *bad, zoned, naive = row
    src.positions = max(src.positions, int(positions or 0))
    src.kept, src.zoned, src.naive = int(kept), int(zoned), int(naive)
    if total == 0:
        return [Problem(src.file.name, 1, 1, "no events: the log has no rows")]
    if kept < total:
        src.skipped["lifecycle"] = int(total - kept)
    problems = []
    what = {
        "case": f"no case id (column '{src.columns['case']}')",
        "activity": f"no activity (column '{src.columns['activity']}')",
        "timestamp": f"no time (column '{src.columns['timestamp']}')",
        "time": "a time that cannot be read as a date and time (ISO 8601 expected, "
        "e.g. 2024-03-01 14:30:00 or 2024-03-01T14:30:00+01:00)",
    }
    for (key, cond), n in zip(_CHECKS.items(), bad, strict=True):
        if not n:
            continue
        shown = con.execute(
            f"SELECT r, t FROM {flagged} WHERE k AND {cond} ORDER BY r LIMIT {_SHOWN}"
        ).fetchall()
        line, first = _locate(src, int(shown[0][0]))
        places = ", ".join(_locate(src, int(r))[1] for r, _ in shown)
        more = f" and {n - len(shown)} more" if n > len(shown) else ""
        example = f" ('{shown[0][1]}' at {first})" if key == "time" else ""
        unit = "event" if n == 1 else "events"
        problems.append(
            Problem(src.file.name, line, 1, f"{n} {unit} with {what[key]}: {places}{more}{example}")
        )
    return problems


def _mixed_zones(con: DuckDBPyConnection, sources: list[_Source], options: LogOptions) -> None:
    """Refuse a log whose times are partly with, partly without UTC offset.

    Without ``--timezone`` the two halves would be read in different zones (the
    offset's and UTC) and events would silently swap places; with it, the times
    without offset are read in that zone and the mix is well defined.
    """
    if options.timezone is not None:
        return
    if not (any(s.zoned for s in sources) and any(s.naive for s in sources)):
        return
    examples = []
    for want_zoned in (True, False):
        src = next(s for s in sources if (s.zoned if want_zoned else s.naive))
        z = "z" if want_zoned else "NOT z"
        row = con.execute(
            f"SELECT r, t FROM {_flagged(src, options)} WHERE k AND NOT nt AND {z} "
            "ORDER BY r LIMIT 1"
        ).fetchone()
        assert row is not None
        line, place = _locate(src, int(row[0]))
        examples.append((src, line, place, row[1]))
    (zs, _, zplace, zval), (ns, nline, nplace, nval) = examples
    zfile = "" if zs is ns else f" of {zs.file.name}"
    n_naive = sum(s.naive for s in sources)
    n_zoned = sum(s.zoned for s in sources)
    raise JourneyError(
        [
            Problem(
                ns.file.name,
                nline,
                1,
                f"times with and without UTC offset are mixed ({n_zoned} with, {n_naive} "
                f"without): '{nval}' at {nplace} has none, '{zval}' at {zplace}{zfile} has one; "
                "say where the times without offset were taken with --timezone "
                "(e.g. --timezone Europe/Amsterdam, or --timezone UTC)",
            )
        ]
    )


def _check_timezone(con: DuckDBPyConnection, tz: str | None) -> str | None:
    if tz is None:
        return None
    names = [str(r[0]) for r in con.execute("SELECT name FROM pg_timezone_names()").fetchall()]
    if tz in names:
        return tz
    folded = [n for n in names if n.casefold() == tz.casefold()]
    if folded:
        return sorted(folded)[0]
    close = difflib.get_close_matches(tz, names, n=4, cutoff=0.5)
    hint = f"; close names: {', '.join(close)}" if close else ""
    raise UsageError(
        f"--timezone: unknown time zone '{tz}' (IANA names like Europe/Amsterdam, "
        f"America/New_York, UTC){hint}"
    )


def _lock(con: DuckDBPyConnection, files: list[_File]) -> None:
    """From now on DuckDB may read the named files and nothing else (not even by glob)."""
    allowed = sorted(
        {p for f in files if f.fmt in ("csv", "parquet") for p in (f.path, _literal_glob(f.path))}
    )
    listed = ", ".join(_lit(p) for p in allowed)
    con.execute(f"SET allowed_paths = [{listed}]")
    con.execute("SET enable_external_access = false")


# --- the one entry point ----------------------------------------------------------------


def load_events(
    con: DuckDBPyConnection,
    paths: Sequence[str | os.PathLike[str]],
    options: LogOptions,
    progress: Progress | None = None,
    *,
    lock: bool = True,
) -> LogInfo:
    """Create ``events(case_id, activity, ts, seq)`` in ``con`` from the LOG files.

    Several files are one log: the same case id in two files is one case, and
    ``seq`` numbers events in file order across the files in the order given (a
    file's events after the previous file's), so sorting a case by ``(ts, seq)`` is
    the stable sort the results depend on. An OCEL event linked to k objects is k
    rows with one ``seq``.

    ``events`` is a VIEW when every file is CSV or Parquet (nothing is loaded; each
    query scans the files), else a TABLE. With ``lock`` (the default), DuckDB
    afterwards reads no file but these: set memory limit and spill directory before
    (see :func:`connect`). Every problem found is raised together as one JourneyError.
    """
    if not paths:
        raise UsageError("no log file given")
    con.execute("SET autoinstall_known_extensions = false")
    con.execute("SET autoload_known_extensions = false")
    # The CLI draws its own progress bar; DuckDB's would print over it.
    con.execute("SET enable_progress_bar = false")
    tz = _check_timezone(con, options.timezone)
    files = [_probe(os.fspath(p)) for p in paths]
    total_bytes = sum(f.size for f in files)
    done = 0

    def report(pos: int) -> None:
        if progress is not None:
            progress(min(done + pos, total_bytes), total_bytes)

    sources: list[_Source] = []
    problems: list[Problem] = []
    for i, file in enumerate(files):
        table = f"_jm_raw_{i}"
        con.execute(f"DROP TABLE IF EXISTS {table}")
        if file.fmt == "csv":
            src = _csv_source(con, file, options)
        elif file.fmt == "parquet":
            src = _parquet_source(con, file, options)
        elif file.fmt == "xes":
            src = _xes_source(con, file, options, table, report)
        else:
            src = _ocel_source(con, file, options, table)
        problems += _validate(con, src, options)
        sources.append(src)
        done += file.size
        report(0)
    if problems:
        raise JourneyError(problems)
    _mixed_zones(con, sources, options)
    kept = sum(s.kept for s in sources)
    if kept == 0:
        skipped = sum(s.skipped.get("lifecycle", 0) for s in sources)
        raise _fail(
            files[0].name,
            f"no events left: --lifecycle complete left out all {skipped} events "
            "(none has lifecycle:transition 'complete'); use --lifecycle all",
        )
    _create_events(con, sources, options, tz)
    if lock:
        _lock(con, files)
    return LogInfo(
        files=[f.name for f in files],
        events=kept,
        columns=_merged_columns(sources),
        skipped=_merged_skipped(sources),
        formats=[_FORMAT_NAMES[f.fmt] for f in files],
        timezone=tz,
    )


def _create_events(
    con: DuckDBPyConnection, sources: list[_Source], options: LogOptions, tz: str | None
) -> None:
    selects = []
    offset = 0
    for src in sources:
        ts = _ts_sql(src, tz)
        selects.append(
            f"SELECT c AS case_id, a AS activity, {ts} AS ts, CAST(s + {offset} AS BIGINT) AS seq "
            f"FROM {src.relation} WHERE {_keep(options)}"
        )
        offset += src.positions
    body = "\nUNION ALL\n".join(selects)
    kinds = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = 'events'"
    ).fetchall()
    for (kind,) in kinds:
        con.execute("DROP VIEW events" if kind == "VIEW" else "DROP TABLE events")
    if all(s.staged for s in sources):
        con.execute(
            "CREATE TABLE events (case_id VARCHAR NOT NULL, activity VARCHAR NOT NULL, "
            "ts TIMESTAMP NOT NULL, seq BIGINT NOT NULL)"
        )
        con.execute(f"INSERT INTO events {body}")
        for src in sources:
            con.execute(f"DROP TABLE {src.relation}")
        return
    con.execute(f"CREATE VIEW events AS {body}")


def _merged_columns(sources: list[_Source]) -> dict[str, str]:
    out: dict[str, list[str]] = {}
    for src in sources:
        for role, col in src.columns.items():
            names = out.setdefault(role, [])
            if col not in names:
                names.append(col)
    return {role: " / ".join(names) for role, names in out.items()}


def _merged_skipped(sources: list[_Source]) -> dict[str, int]:
    out: dict[str, int] = {}
    for src in sources:
        for why, n in src.skipped.items():
            out[why] = out.get(why, 0) + n
    return out
