"""Event-log readers (issue #11): every format ends as the same ``events`` relation.

Each real log in tests/data/logs (see its README) is read twice: by ``load_events``
and by an independent reading in plain Python (csv, ElementTree, json, sqlite3) of
the same file, and the two must agree row for row: case, activity, instant, order.
Bad input goes through ``load_events`` too, and must come back as a JourneyError
naming the file and the line or row, never as a traceback.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import sqlite3
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeymap.errors import JourneyError, UsageError
from journeymap.logs.readers import LogInfo, LogOptions, connect, load_events

duckdb = pytest.importorskip("duckdb")

DATA = Path(__file__).resolve().parent.parent / "data" / "logs"
Row = tuple[str, str, datetime, int]


@pytest.fixture
def con() -> Iterator[Any]:
    c = connect()
    yield c
    c.close()


def load(con: Any, *paths: str | Path, **options: Any) -> tuple[LogInfo, list[Row]]:
    """Read the files; the events as (case, activity, ts, seq) in (seq, case) order."""
    info = load_events(con, [str(p) for p in paths], LogOptions(**options))
    rows = con.execute("SELECT case_id, activity, ts, seq FROM events ORDER BY seq, case_id")
    return info, [tuple(r) for r in rows.fetchall()]


def fails(con: Any, *paths: str | Path, **options: Any) -> JourneyError:
    with pytest.raises(JourneyError) as err:
        load_events(con, [str(p) for p in paths], LogOptions(**options))
    assert err.value.problems or isinstance(err.value, UsageError), str(err.value)
    return err.value


def utc(text: str) -> datetime:
    """An ISO 8601 time with offset as the naive UTC datetime (independently of DuckDB)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    assert value.tzinfo is not None
    return value.astimezone(UTC).replace(tzinfo=None)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# --- the relation itself -----------------------------------------------------------


def test_events_has_exactly_the_contract_columns(con: Any) -> None:
    load(con, DATA / "running-example.csv")
    cols = [(r[0], r[1]) for r in con.execute("DESCRIBE events").fetchall()]
    assert cols == [
        ("case_id", "VARCHAR"),
        ("activity", "VARCHAR"),
        ("ts", "TIMESTAMP"),
        ("seq", "BIGINT"),
    ]


@pytest.mark.parametrize(
    "name", ["running-example.xes", "running-example.parquet", "recruiting-red.jsonocel.gz"]
)
def test_every_format_gives_the_same_column_types(con: Any, name: str) -> None:
    opts = {"object_type": "applications"} if "jsonocel" in name else {}
    load(con, DATA / name, **opts)
    types = [r[1] for r in con.execute("DESCRIBE events").fetchall()]
    assert types == ["VARCHAR", "VARCHAR", "TIMESTAMP", "BIGINT"]


# --- real logs against an independent reading ----------------------------------------


def xes_rows(path: Path) -> list[tuple[str, str, datetime]]:
    """The log's events read with ElementTree (fine for small files), in file order."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        root = ET.parse(fh).getroot()
    ns = root.tag[: root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    out = []
    for trace in root.findall(f"{ns}trace"):
        case = next(a.get("value") for a in trace if a.get("key") == "concept:name")
        for event in trace.findall(f"{ns}event"):
            attrs = {a.get("key"): a.get("value") for a in event}
            out.append((str(case), str(attrs["concept:name"]), utc(str(attrs["time:timestamp"]))))
    return out


@pytest.mark.parametrize("name", ["running-example.xes", "roadtraffic100traces.xes.gz"])
def test_xes_matches_elementtree_row_for_row(con: Any, name: str) -> None:
    expected = xes_rows(DATA / name)
    info, rows = load(con, DATA / name)
    assert [(c, a, t) for c, a, t, _ in rows] == expected
    assert [s for *_, s in rows] == list(range(1, len(expected) + 1))
    assert info.events == len(expected)
    assert info.formats == ["XES"]
    assert info.columns["activity"] == "concept:name"


def test_roadtraffic_counts_by_hand(con: Any) -> None:
    """Numbers from the log itself: 100 traces, 390 events, 100 'Create Fine'."""
    _, rows = load(con, DATA / "roadtraffic100traces.xes.gz")
    assert len(rows) == 390
    assert len({c for c, *_ in rows}) == 100
    counts = Counter(a for _, a, _, _ in rows)
    assert counts["Create Fine"] == 100
    assert counts["Send Fine"] == 78
    # N77802's first event: 2005-03-23 00:00:00+01:00, i.e. 22 March 23:00 UTC.
    first = next(r for r in rows if r[0] == "N77802")
    assert first[1:3] == ("Create Fine", datetime(2005, 3, 22, 23, 0))


def csv_rows(path: Path) -> list[dict[str, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("name", ["running-example.csv", "receipt.csv.gz"])
def test_csv_matches_the_csv_module_row_for_row(con: Any, name: str) -> None:
    expected = [
        (r["case:concept:name"], r["concept:name"], utc(r["time:timestamp"]))
        for r in csv_rows(DATA / name)
    ]
    info, rows = load(con, DATA / name)
    assert [(c, a, t) for c, a, t, _ in rows] == expected
    assert [s for *_, s in rows] == list(range(1, len(expected) + 1))
    assert info.columns == {
        "case": "case:concept:name",
        "activity": "concept:name",
        "timestamp": "time:timestamp",
    }


def test_receipt_counts_and_offsets_by_hand(con: Any) -> None:
    """receipt mixes +01:00 and +02:00 (winter and summer): both become UTC."""
    _, rows = load(con, DATA / "receipt.csv.gz")
    assert len(rows) == 8577
    assert len({c for c, *_ in rows}) == 1434
    assert Counter(a for _, a, _, _ in rows)["Confirmation of receipt"] == 1434
    # First line: case-10011, 2011-10-11 13:45:40.276000+02:00 -> 11:45:40.276 UTC.
    assert rows[0] == (
        "case-10011",
        "Confirmation of receipt",
        datetime(2011, 10, 11, 11, 45, 40, 276000),
        1,
    )


def test_parquet_naive_times_are_taken_as_given_or_in_the_zone(con: Any) -> None:
    """The Parquet copy of the running example stores the CSV's wall-clock times
    without offset: read as UTC they are an hour late; read in Europe/Amsterdam
    (all dates are in winter, +01:00) they are the CSV's instants exactly."""
    csv_file = csv_rows(DATA / "running-example.csv")
    wall = [datetime.fromisoformat(r["time:timestamp"]).replace(tzinfo=None) for r in csv_file]
    instants = [utc(r["time:timestamp"]) for r in csv_file]
    _, rows = load(con, DATA / "running-example.parquet")
    assert [t for _, _, t, _ in rows] == wall
    assert [(c, a) for c, a, _, _ in rows] == [
        (r["case:concept:name"], r["concept:name"]) for r in csv_file
    ]
    info, rows = load(connect(), DATA / "running-example.parquet", timezone="Europe/Amsterdam")
    assert [t for _, _, t, _ in rows] == instants
    assert info.timezone == "Europe/Amsterdam"


def recruiting() -> dict[str, Any]:
    with gzip.open(DATA / "recruiting-red.jsonocel.gz", "rb") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def test_ocel1_recruiting_applications_by_hand(con: Any) -> None:
    data = recruiting()
    apps = {o for o, rec in data["ocel:objects"].items() if rec["ocel:type"] == "applications"}
    expected = []
    for seq, ev in enumerate(data["ocel:events"].values(), 1):
        for oid in dict.fromkeys(ev["ocel:omap"]):
            if oid in apps:
                expected.append((oid, ev["ocel:activity"], utc(ev["ocel:timestamp"]), seq))
    info, rows = load(con, DATA / "recruiting-red.jsonocel.gz", object_type="applications")
    assert sorted(rows, key=lambda r: (r[3], r[0])) == sorted(expected, key=lambda r: (r[3], r[0]))
    assert len({c for c, *_ in rows}) == 916
    counts = Counter(a for _, a, _, _ in rows)
    assert counts["offer accepted and hired"] == 89
    assert counts["job offer declined"] == 46
    assert counts["send rejection"] == 781
    assert info.columns["case"] == "objects of type applications"


def test_ocel_without_object_type_lists_the_types_with_counts(con: Any) -> None:
    err = fails(con, DATA / "recruiting-red.jsonocel.gz")
    (p,) = err.problems
    assert p.file.endswith("recruiting-red.jsonocel.gz")
    assert "--object-type" in p.message
    assert "applications (916 objects)" in p.message
    assert "offers (135 objects)" in p.message


def test_ocel_unknown_object_type_suggests_the_near_one(con: Any) -> None:
    err = fails(con, DATA / "recruiting-red.jsonocel.gz", object_type="application")
    assert "did you mean 'applications'" in str(err)
    assert "applications (916 objects)" in str(err)


def test_ocel_object_type_is_matched_ignoring_case(con: Any) -> None:
    _, rows = load(con, DATA / "recruiting-red.jsonocel.gz", object_type="Applications")
    assert len({c for c, *_ in rows}) == 916


def test_ocel2_json_and_sqlite_agree_and_match_json_by_hand(con: Any) -> None:
    """OCEL 2.0: an event linked to k invoices is one row in each, with one seq.

    PM4Py's SQLite copy stores the times as naive local times (one hour later than
    the JSON's UTC in January and February); read in Europe/Berlin they agree.
    """
    data = json.loads((DATA / "ocel20_example.jsonocel").read_text(encoding="utf-8"))
    invoices = {o["id"] for o in data["objects"] if o["type"] == "Invoice"}
    expected = sorted(
        (r["objectId"], ev["type"], utc(ev["time"]), seq)
        for seq, ev in enumerate(data["events"], 1)
        for r in ev["relationships"]
        if r["objectId"] in invoices
    )
    info, rows = load(con, DATA / "ocel20_example.jsonocel", object_type="Invoice")
    assert sorted(rows) == expected
    linked = {seq for *_, seq in expected}
    assert info.skipped == {"no Invoice object": len(data["events"]) - len(linked)}
    _, lite = load(
        connect(), DATA / "ocel20_example.sqlite", object_type="Invoice", timezone="Europe/Berlin"
    )
    assert sorted(lite) == expected


def test_ocel2_sqlite_matches_sqlite3_by_hand(con: Any) -> None:
    db = sqlite3.connect(DATA / "ocel20_example.sqlite")
    times: dict[str, str] = {}
    for _, suffix in db.execute("SELECT ocel_type, ocel_type_map FROM event_map_type"):
        times.update(db.execute(f'SELECT ocel_id, ocel_time FROM "event_{suffix}"').fetchall())
    order = [e for (e,) in db.execute("SELECT ocel_id FROM event ORDER BY rowid")]
    links = db.execute(
        "SELECT eo.ocel_event_id, eo.ocel_object_id, e.ocel_type FROM event_object eo "
        "JOIN object o ON o.ocel_id = eo.ocel_object_id JOIN event e ON e.ocel_id = eo.ocel_event_id "
        "WHERE o.ocel_type = 'Purchase Order'"
    ).fetchall()
    expected = sorted(
        (oid, etype, datetime.fromisoformat(times[eid]), order.index(eid) + 1)
        for eid, oid, etype in links
    )
    _, rows = load(con, DATA / "ocel20_example.sqlite", object_type="Purchase Order")
    assert sorted(rows) == expected


# --- order: file order breaks ties, files follow each other ---------------------------


def test_equal_times_keep_file_order(con: Any, tmp_path: Path) -> None:
    log = write(
        tmp_path / "ties.csv",
        "case_id,activity,timestamp\n"
        "c1,b,2024-01-01 10:00:00\n"
        "c1,a,2024-01-01 10:00:00\n"
        "c2,z,2024-01-01 09:00:00\n"
        "c1,c,2024-01-01 10:00:00\n",
    )
    load(con, log)
    ordered = con.execute(
        "SELECT activity FROM events WHERE case_id = 'c1' ORDER BY ts, seq"
    ).fetchall()
    assert [a for (a,) in ordered] == ["b", "a", "c"]


def test_several_files_are_one_log_in_the_order_given(con: Any, tmp_path: Path) -> None:
    """An ATS export and a billing export: case c1 is in both; file 2 after file 1."""
    ats = write(
        tmp_path / "ats.csv",
        "case_id,activity,timestamp\nc1,apply,2024-01-01T10:00:00Z\nc2,apply,2024-01-02T10:00:00Z\n",
    )
    billing = tmp_path / "billing.xes"
    billing.write_text(
        '<?xml version="1.0"?><log><trace><string key="concept:name" value="c1"/>'
        '<event><string key="concept:name" value="invoice"/>'
        '<date key="time:timestamp" value="2024-01-01T10:00:00.000+00:00"/></event>'
        "</trace></log>",
        encoding="utf-8",
    )
    info, rows = load(con, ats, billing)
    assert rows == [
        ("c1", "apply", datetime(2024, 1, 1, 10), 1),
        ("c2", "apply", datetime(2024, 1, 2, 10), 2),
        ("c1", "invoice", datetime(2024, 1, 1, 10), 3),
    ]
    assert info.formats == ["CSV", "XES"]
    assert info.files == [str(ats), str(billing)]
    # The same case id in both files is one case; the tie is broken by file order.
    path = con.execute(
        "SELECT list(activity ORDER BY ts, seq) FROM events WHERE case_id = 'c1'"
    ).fetchone()
    assert path == (["apply", "invoice"],)


def test_second_file_first_is_the_other_order(con: Any, tmp_path: Path) -> None:
    one = write(tmp_path / "1.csv", "case,activity,time\nk,x,2024-01-01 00:00:00\n")
    two = write(tmp_path / "2.csv", "case,activity,time\nk,y,2024-01-01 00:00:00\n")
    load(con, two, one)
    got = con.execute("SELECT list(activity ORDER BY ts, seq) FROM events").fetchone()
    assert got == (["y", "x"],)


# --- time: offsets, naive times, zones, formats -------------------------------------------


@pytest.mark.parametrize(
    ("text", "timezone", "expected"),
    [
        ("2024-07-01T12:00:00+02:00", None, datetime(2024, 7, 1, 10)),
        ("2024-07-01 12:00:00-05:30", None, datetime(2024, 7, 1, 17, 30)),
        ("2024-07-01T12:00:00.250Z", None, datetime(2024, 7, 1, 12, 0, 0, 250000)),
        ("2024-07-01 12:00:00", None, datetime(2024, 7, 1, 12)),
        ("2024-07-01", None, datetime(2024, 7, 1)),
        ("2024-07-01 12:00:00", "Europe/Amsterdam", datetime(2024, 7, 1, 10)),
        ("2024-01-15 12:00:00", "Europe/Amsterdam", datetime(2024, 1, 15, 11)),
        ("2024-01-15 12:00:00", "America/New_York", datetime(2024, 1, 15, 17)),
        # An offset wins over --timezone: it says where the time was taken.
        ("2024-01-15T12:00:00+00:00", "America/New_York", datetime(2024, 1, 15, 12)),
    ],
)
def test_times_become_utc_instants(
    con: Any, tmp_path: Path, text: str, timezone: str | None, expected: datetime
) -> None:
    log = write(tmp_path / "t.csv", f"case,activity,time\nc,a,{text}\nc,b,{text}\n")
    _, rows = load(con, log, timezone=timezone)
    assert [t for _, _, t, _ in rows] == [expected, expected]


def test_day_first_times_are_read_in_the_sniffed_format(con: Any, tmp_path: Path) -> None:
    log = write(
        tmp_path / "dmy.csv",
        "case;activity;time\nc;a;30-12-2010 14:32:00\nc;b;31-12-2010 09:05:00\n",
    )
    _, rows = load(con, log)
    assert [t for _, _, t, _ in rows] == [
        datetime(2010, 12, 30, 14, 32),
        datetime(2010, 12, 31, 9, 5),
    ]


def test_mixed_offsets_and_naive_times_are_refused(con: Any, tmp_path: Path) -> None:
    log = write(
        tmp_path / "mixed.csv",
        "case,activity,time\nc,a,2024-01-01T10:00:00+01:00\nc,b,2024-01-01 11:00:00\n",
    )
    err = fails(con, log)
    (p,) = err.problems
    assert (p.file, p.line) == (str(log), 3)
    assert "--timezone" in p.message
    assert "'2024-01-01 11:00:00' at line 3" in p.message


def test_mixed_times_are_read_with_a_timezone(con: Any, tmp_path: Path) -> None:
    log = write(
        tmp_path / "mixed.csv",
        "case,activity,time\nc,a,2024-01-01T10:00:00+01:00\nc,b,2024-01-01 11:00:00\n",
    )
    _, rows = load(con, log, timezone="Europe/Amsterdam")
    assert [t for _, _, t, _ in rows] == [datetime(2024, 1, 1, 9), datetime(2024, 1, 1, 10)]


def test_mixed_across_files_is_refused_too(con: Any, tmp_path: Path) -> None:
    zoned = write(tmp_path / "a.csv", "case,activity,time\nc,a,2024-01-01T10:00:00Z\n")
    naive = write(tmp_path / "b.csv", "case,activity,time\nc,b,2024-01-01 11:00:00\n")
    err = fails(con, zoned, naive)
    assert err.problems[0].file == str(naive)
    assert str(zoned) in err.problems[0].message


def test_unknown_timezone_is_a_usage_error_with_close_names(con: Any) -> None:
    with pytest.raises(UsageError) as err:
        load_events(
            con, [str(DATA / "running-example.csv")], LogOptions(timezone="Europe/Amsterdm")
        )
    assert "Europe/Amsterdam" in str(err.value)


def test_timezone_name_in_another_case_is_accepted(con: Any) -> None:
    info, _ = load(con, DATA / "running-example.parquet", timezone="europe/amsterdam")
    assert info.timezone == "Europe/Amsterdam"


# --- columns ------------------------------------------------------------------------------


def test_common_column_names_are_found_ignoring_case(con: Any, tmp_path: Path) -> None:
    log = write(
        tmp_path / "x.csv",
        "Case ID,Activity,Timestamp,Resource\n7,Submit,2024-01-01 10:00:00,ann\n",
    )
    info, rows = load(con, log)
    assert info.columns == {"case": "Case ID", "activity": "Activity", "timestamp": "Timestamp"}
    assert rows == [("7", "Submit", datetime(2024, 1, 1, 10), 1)]


def test_columns_named_by_options(con: Any, tmp_path: Path) -> None:
    log = write(
        tmp_path / "x.tsv",
        "ticket\tstep\twhen\tcase_id\nT1\topen\t2024-01-01 10:00:00\tzzz\n",
    )
    info, rows = load(con, log, case="ticket", activity="STEP", timestamp="when")
    assert rows == [("T1", "open", datetime(2024, 1, 1, 10), 1)]
    assert info.columns == {"case": "ticket", "activity": "step", "timestamp": "when"}


def test_no_fitting_column_lists_the_columns_found(con: Any, tmp_path: Path) -> None:
    log = write(tmp_path / "x.csv", "ticket,step,when\nT1,open,2024-01-01 10:00:00\n")
    err = fails(con, log)
    (p,) = err.problems
    assert p.file == str(log)
    assert p.line == 1
    assert "'ticket', 'step', 'when'" in p.message
    assert "--case" in p.message


def test_misnamed_column_option_suggests_the_near_one(con: Any, tmp_path: Path) -> None:
    log = write(tmp_path / "x.csv", "case_id,activity,timestamp\nT1,open,2024-01-01 10:00:00\n")
    err = fails(con, log, activity="activty")
    assert "did you mean 'activity'" in str(err)


def test_xes_keys_by_options_and_misnamed_keys(con: Any) -> None:
    # running-example's events also carry 'Activity' (same values as concept:name).
    _, rows = load(con, DATA / "running-example.xes", activity="Activity", case="case:concept:name")
    assert rows[0][:2] == ("3", "register request")
    err = fails(connect(), DATA / "running-example.xes", activity="Activty")
    (p,) = err.problems
    assert "did you mean 'Activity'" in p.message
    assert "'concept:name'" in p.message


# --- lifecycle -----------------------------------------------------------------------------


def lifecycle_xes(tmp_path: Path) -> Path:
    events = [
        ("A", "2024-01-01T10:00:00Z", "start"),
        ("A", "2024-01-01T10:05:00Z", "COMPLETE"),
        ("B", "2024-01-01T10:06:00Z", None),
        ("C", "2024-01-01T10:07:00Z", "schedule"),
    ]
    body = "".join(
        "<event>"
        f'<string key="concept:name" value="{a}"/><date key="time:timestamp" value="{t}"/>'
        + (f'<string key="lifecycle:transition" value="{lc}"/>' if lc else "")
        + "</event>"
        for a, t, lc in events
    )
    path = tmp_path / "lc.xes"
    path.write_text(
        f'<log><trace><string key="concept:name" value="k"/>{body}</trace></log>', encoding="utf-8"
    )
    return path


def test_lifecycle_all_keeps_every_event(con: Any, tmp_path: Path) -> None:
    info, rows = load(con, lifecycle_xes(tmp_path))
    assert [a for _, a, _, _ in rows] == ["A", "A", "B", "C"]
    assert info.skipped == {}


def test_lifecycle_complete_keeps_complete_and_unmarked_events(con: Any, tmp_path: Path) -> None:
    info, rows = load(con, lifecycle_xes(tmp_path), lifecycle="complete")
    assert [(a, s) for _, a, _, s in rows] == [("A", 2), ("B", 3)]
    assert info.skipped == {"lifecycle": 2}
    assert info.columns["lifecycle"] == "lifecycle:transition"


def test_lifecycle_complete_on_csv_uses_its_column(con: Any, tmp_path: Path) -> None:
    log = write(
        tmp_path / "lc.csv",
        "case,activity,time,lifecycle:transition\n"
        "k,A,2024-01-01 10:00:00,start\nk,A,2024-01-01 10:05:00,complete\n",
    )
    info, rows = load(con, log, lifecycle="complete")
    assert [(a, s) for _, a, _, s in rows] == [("A", 2)]
    assert info.skipped == {"lifecycle": 1}


def test_lifecycle_leaving_nothing_is_an_error(con: Any, tmp_path: Path) -> None:
    log = write(
        tmp_path / "lc.csv", "case,activity,time,lifecycle:transition\nk,A,2024-01-01,start\n"
    )
    err = fails(con, log, lifecycle="complete")
    assert "--lifecycle all" in str(err)


# --- bad input: one clear problem each, with file and line --------------------------------


def test_empty_file(con: Any, tmp_path: Path) -> None:
    log = tmp_path / "empty.csv"
    log.write_bytes(b"")
    (p,) = fails(con, log).problems
    assert (p.file, p.line) == (str(log), 1)
    assert "empty" in p.message


def test_header_without_rows(con: Any, tmp_path: Path) -> None:
    log = write(tmp_path / "h.csv", "case,activity,time\n")
    (p,) = fails(con, log).problems
    assert "no events" in p.message


def test_unparseable_times_name_the_lines_and_the_count(con: Any, tmp_path: Path) -> None:
    lines = ["case,activity,time"] + [f"c,a,2024-01-{d:02d} 10:00:00" for d in range(1, 11)]
    lines[3] = "c,a,yesterday"
    lines[5] = "c,a,2024-02-30 10:00:00"
    log = write(tmp_path / "bad.csv", "\n".join(lines) + "\n")
    (p,) = fails(con, log).problems
    assert (p.file, p.line) == (str(log), 4)
    assert p.message.startswith("2 events with a time that cannot be read")
    assert "line 4, line 6" in p.message
    assert "'yesterday' at line 4" in p.message


def test_missing_values_are_counted_per_column(con: Any, tmp_path: Path) -> None:
    rows = "\n".join(f"c{i},a,2024-01-01 10:00:{i:02d}" for i in range(12))
    log = write(tmp_path / "m.csv", "case,activity,time\n" + rows + "\n,a,2024-01-02\nc,,\n")
    problems = fails(con, log).problems
    messages = sorted(p.message for p in problems)
    assert len(problems) == 3
    assert any(m.startswith("1 event with no case id") and "line 14" in m for m in messages)
    assert any(m.startswith("1 event with no activity") and "line 15" in m for m in messages)
    assert any(m.startswith("1 event with no time") and "line 15" in m for m in messages)


def test_many_bad_rows_show_the_first_five_and_how_many_more(con: Any, tmp_path: Path) -> None:
    log = write(tmp_path / "b.csv", "case,activity,time\n" + "c,a,never\n" * 40)
    (p,) = fails(con, log).problems
    assert "line 2, line 3, line 4, line 5, line 6 and 35 more" in p.message


def test_row_with_too_many_fields_names_its_line(con: Any, tmp_path: Path) -> None:
    log = write(
        tmp_path / "x.csv",
        "case,activity,time\nc,a,2024-01-01\nc,b,2024-01-02\nc,c,2024-01-03,oops\nc,d,2024-01-04\n",
    )
    (p,) = fails(con, log).problems
    assert (p.file, p.line) == (str(log), 4)
    assert "cannot read as CSV" in p.message


def test_not_utf8_names_its_line(con: Any, tmp_path: Path) -> None:
    log = tmp_path / "latin1.csv"
    log.write_bytes("case,activity,time\nc,Größe,2024-01-01\n".encode("latin-1"))
    (p,) = fails(con, log).problems
    assert (p.file, p.line) == (str(log), 2)


def test_truncated_gzip_csv(con: Any, tmp_path: Path) -> None:
    data = gzip.compress(b"case,activity,time\n" + b"c,a,2024-01-01 10:00:00\n" * 50000)
    log = tmp_path / "t.csv.gz"
    log.write_bytes(data[: len(data) // 2])
    (p,) = fails(con, log).problems
    assert p.file == str(log)
    assert "gzip" in p.message


def test_truncated_gzip_xes(con: Any, tmp_path: Path) -> None:
    data = (DATA / "roadtraffic100traces.xes.gz").read_bytes()
    log = tmp_path / "t.xes.gz"
    log.write_bytes(data[: len(data) // 2])
    (p,) = fails(con, log).problems
    assert p.file == str(log)
    assert "truncated" in p.message
    assert p.line > 1


def test_truncated_plain_xes(con: Any, tmp_path: Path) -> None:
    text = (DATA / "running-example.xes").read_text(encoding="utf-8")
    log = write(tmp_path / "t.xes", text[: len(text) // 2])
    (p,) = fails(con, log).problems
    assert "malformed XML" in p.message
    assert p.line > 100


def test_malformed_xml_points_at_line_and_column(con: Any, tmp_path: Path) -> None:
    log = write(tmp_path / "m.xes", '<log>\n<trace>\n  <string key="a" value="b">\n</trace></log>')
    (p,) = fails(con, log).problems
    assert (p.line, p.column) == (4, 3)
    assert "mismatched tag" in p.message


def test_xml_that_is_not_xes(con: Any, tmp_path: Path) -> None:
    log = write(tmp_path / "page.xes", "<html><body>hi</body></html>")
    (p,) = fails(con, log).problems
    assert "not an XES log" in p.message


def test_event_outside_a_trace(con: Any, tmp_path: Path) -> None:
    log = write(tmp_path / "e.xes", "<log>\n<event/></log>")
    (p,) = fails(con, log).problems
    assert p.line == 2
    assert "outside a <trace>" in p.message


def test_xes_event_without_time_names_its_line(con: Any, tmp_path: Path) -> None:
    log = write(
        tmp_path / "nt.xes",
        '<log><trace><string key="concept:name" value="k"/>\n'
        '<event><string key="concept:name" value="a"/>'
        '<date key="time:timestamp" value="2024-01-01T00:00:00Z"/></event>\n'
        '<event><string key="concept:name" value="b"/></event>\n'
        "</trace></log>",
    )
    (p,) = fails(con, log).problems
    assert p.line == 3
    assert "1 event with no time" in p.message


def test_malformed_json_points_at_line_and_column(con: Any, tmp_path: Path) -> None:
    log = write(tmp_path / "o.jsonocel", '{"ocel:events": {\n  "1": {"ocel:activity": }\n}}')
    (p,) = fails(con, log, object_type="x").problems
    assert (p.line, p.column) == (2, 26)
    assert "malformed JSON" in p.message


def test_json_that_is_not_ocel(con: Any, tmp_path: Path) -> None:
    log = write(tmp_path / "x.json", '{"hello": "world"}')
    (p,) = fails(con, log).problems
    assert "not an OCEL log" in p.message


def test_parquet_that_is_not_parquet(con: Any, tmp_path: Path) -> None:
    log = write(tmp_path / "x.parquet", "case,activity,time\nc,a,2024-01-01\n")
    (p,) = fails(con, log).problems
    assert p.file == str(log)
    assert "not a Parquet file" in p.message


def test_truncated_parquet(con: Any, tmp_path: Path) -> None:
    log = tmp_path / "t.parquet"
    log.write_bytes((DATA / "running-example.parquet").read_bytes()[:1500])
    (p,) = fails(con, log).problems
    assert "cannot read as Parquet" in p.message


def test_parquet_bad_values_name_their_rows(con: Any, tmp_path: Path) -> None:
    log = tmp_path / "p.parquet"
    src = "(VALUES ('c', 'a', '2024-01-01 10:00'), (NULL, 'b', '2024-01-01'), ('c', 'x', 'soon'))"
    con.execute(f"COPY (SELECT * FROM {src} v(case_id, activity, timestamp)) TO '{log}'")
    problems = fails(connect(), log).problems
    assert [p.message.split(":")[-1].strip() for p in problems] == [
        "row 2",
        "row 3 ('soon' at row 3)",
    ]


def test_ocel_event_without_time_is_named_by_id(con: Any, tmp_path: Path) -> None:
    log = write(
        tmp_path / "o.jsonocel",
        json.dumps(
            {
                "ocel:objects": {"o1": {"ocel:type": "order"}},
                "ocel:events": {
                    "e1": {
                        "ocel:activity": "a",
                        "ocel:timestamp": "2024-01-01",
                        "ocel:omap": ["o1"],
                    },
                    "e2": {"ocel:activity": "b", "ocel:omap": ["o1"]},
                },
            }
        ),
    )
    (p,) = fails(con, log, object_type="order").problems
    assert "1 event with no time" in p.message
    assert "event 'e2'" in p.message


def test_ocel_json_over_the_limit_is_refused(
    con: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from journeymap.logs import ocel

    monkeypatch.setattr(ocel, "MAX_JSON_BYTES", 1000)
    (p,) = fails(con, DATA / "ocel20_example.jsonocel", object_type="Invoice").problems
    assert "refused" in p.message


def test_sqlite_that_is_not_ocel(con: Any, tmp_path: Path) -> None:
    db = tmp_path / "x.sqlite"
    sqlite3.connect(db).execute("CREATE TABLE t (x)").connection.commit()
    (p,) = fails(con, db, object_type="x").problems
    assert "not an OCEL 2.0 SQLite database" in p.message


def test_binary_file_is_not_a_log(con: Any, tmp_path: Path) -> None:
    log = tmp_path / "blob.csv"
    log.write_bytes(bytes(range(256)) * 20)
    (p,) = fails(con, log).problems
    assert p.file == str(log)


def test_a_directory_and_a_fifo_are_refused(con: Any, tmp_path: Path) -> None:
    (p,) = fails(con, tmp_path).problems
    assert "not a regular file" in p.message
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    started = time.monotonic()
    (p,) = fails(con, fifo).problems
    assert "not a regular file" in p.message
    assert time.monotonic() - started < 5


def test_missing_file(con: Any, tmp_path: Path) -> None:
    (p,) = fails(con, tmp_path / "nope.csv").problems
    assert "cannot read" in p.message


# --- hostile input -------------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE log [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<log><trace><string key="concept:name" value="&lol9;"/>
<event><string key="concept:name" value="&lol9;"/>
<date key="time:timestamp" value="2024-01-01T00:00:00Z"/></event></trace></log>
"""

EXTERNAL = """<?xml version="1.0"?>
<!DOCTYPE log [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<log><trace><string key="concept:name" value="&secret;"/>
<event><string key="concept:name" value="&secret;"/>
<date key="time:timestamp" value="2024-01-01T00:00:00Z"/></event></trace></log>
"""


@pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL], ids=["billion-laughs", "external"])
def test_doctype_and_entities_are_refused_quickly(con: Any, tmp_path: Path, text: str) -> None:
    log = write(tmp_path / "evil.xes", text)
    started = time.monotonic()
    (p,) = fails(con, log).problems
    assert time.monotonic() - started < 2
    assert (p.file, p.line) == (str(log), 2)
    assert "DOCTYPE" in p.message
    assert "root:" not in p.message


def test_a_glob_character_in_a_file_name_reads_that_file_only(con: Any, tmp_path: Path) -> None:
    """DuckDB expands globs in paths: 'a[1].csv' would otherwise read 'a1.csv'."""
    write(tmp_path / "a1.csv", "case,activity,time\nWRONG,x,2024-01-01\n")
    named = write(tmp_path / "a[1].csv", "case,activity,time\nright,y,2024-01-01\n")
    _, rows = load(con, named)
    assert [c for c, *_ in rows] == ["right"]
    starred = write(tmp_path / "b*.csv", "case,activity,time\nstar,z,2024-01-01\n")
    write(tmp_path / "bb.csv", "case,activity,time\nWRONG,x,2024-01-01\n")
    _, rows = load(connect(), starred)
    assert [c for c, *_ in rows] == ["star"]


def test_after_loading_duckdb_reads_no_other_file(con: Any, tmp_path: Path) -> None:
    other = write(tmp_path / "other.csv", "x\n1\n")
    log = write(tmp_path / "log.csv", "case,activity,time\nc,a,2024-01-01\n")
    load(con, log)
    assert con.execute("SELECT count(*) FROM events").fetchone() == (1,)
    with pytest.raises(duckdb.Error, match="disabled by configuration"):
        con.execute(f"SELECT * FROM read_csv('{other}')").fetchall()
    settings = dict(
        con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN ('enable_external_access', "
            "'autoinstall_known_extensions', 'autoload_known_extensions')"
        ).fetchall()
    )
    assert set(settings.values()) == {"false"}, settings


def test_lines_starting_with_a_hash_are_rows_not_comments(con: Any, tmp_path: Path) -> None:
    log = write(
        tmp_path / "h.csv",
        "case,activity,time\n#1,a,2024-01-01\n#2,b,2024-01-02\n# 3,c,2024-01-03\n",
    )
    _, rows = load(con, log)
    assert [c for c, *_ in rows] == ["#1", "#2", "# 3"]


def test_a_byte_order_mark_and_crlf_are_read(con: Any, tmp_path: Path) -> None:
    log = tmp_path / "bom.csv"
    log.write_bytes("\ufeffcase,activity,time\r\nc,a,2024-01-01\r\n".encode())
    info, rows = load(con, log)
    assert info.columns["case"] == "case"
    assert rows == [("c", "a", datetime(2024, 1, 1), 1)]


def test_quotes_in_a_path_do_not_break_out(con: Any, tmp_path: Path) -> None:
    log = write(tmp_path / "it's.csv", "case,activity,time\nc,a,2024-01-01\n")
    _, rows = load(con, log)
    assert rows == [("c", "a", datetime(2024, 1, 1), 1)]


# --- progress -------------------------------------------------------------------------------


def test_progress_reports_bytes_up_to_the_total(con: Any) -> None:
    calls: list[tuple[int, int]] = []
    files = [DATA / "roadtraffic100traces.xes.gz", DATA / "running-example.csv"]
    load_events(con, [str(f) for f in files], LogOptions(), lambda d, t: calls.append((d, t)))
    total = sum(f.stat().st_size for f in files)
    assert calls
    assert all(t == total for _, t in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert done[-1] == total


# --- round trips: any small log written out reads back as written ----------------------------

names = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
).filter(lambda s: s.strip() == s and s)
stamps = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
)
logs = st.lists(
    st.tuples(st.sampled_from(["c1", "c2", "c 3"]), names, stamps), min_size=1, max_size=25
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=logs)
def test_csv_round_trip(tmp_path: Path, events: list[tuple[str, str, datetime]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["case_id", "activity", "timestamp"])
    writer.writerows((c, a, t.isoformat(sep=" ")) for c, a, t in events)
    log = tmp_path / "rt.csv"
    log.write_text(buf.getvalue(), encoding="utf-8")
    _, rows = load(connect(), log)
    assert rows == [(c, a, t, i) for i, (c, a, t) in enumerate(events, 1)]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(events=logs)
def test_xes_round_trip(tmp_path: Path, events: list[tuple[str, str, datetime]]) -> None:
    by_case: dict[str, list[tuple[str, datetime]]] = {}
    for c, a, t in events:
        by_case.setdefault(c, []).append((a, t))
    traces = "".join(
        f'<trace><string key="concept:name" value={quoteattr(c)}/>'
        + "".join(
            f'<event><string key="concept:name" value={quoteattr(a)}/>'
            f'<date key="time:timestamp" value="{t.isoformat(timespec="milliseconds")}+00:00"/>'
            "</event>"
            for a, t in evs
        )
        + "</trace>"
        for c, evs in by_case.items()
    )
    log = tmp_path / "rt.xes"
    log.write_text(f'<?xml version="1.0" encoding="UTF-8"?><log>{traces}</log>', encoding="utf-8")
    expected = [(c, a, t) for c, evs in by_case.items() for a, t in evs]
    _, rows = load(connect(), log)
    assert rows == [(c, a, t, i) for i, (c, a, t) in enumerate(expected, 1)]


def test_loading_again_replaces_events_whatever_it_was(con: Any) -> None:
    load_events(con, [str(DATA / "running-example.xes")], LogOptions(), lock=False)
    load_events(con, [str(DATA / "running-example.csv")], LogOptions(), lock=False)
    load_events(con, [str(DATA / "running-example.xes")], LogOptions())
    assert con.execute("SELECT count(*) FROM events").fetchone() == (42,)


def test_without_duckdb_the_install_line_is_the_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "duckdb", None)
    with pytest.raises(JourneyError, match=r"pip install 'journeymap\[logs\]'"):
        connect()
