"""discover: a journey from an event log, checked against an independent computation.

The logs are read here without journeymap (ElementTree, the csv module, json) and
the directly-follows counts, starts, ends and median waits are computed in plain
Python; the discovered journey must hold exactly those numbers.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeymap.analysis import analyze
from journeymap.errors import JourneyError
from journeymap.interop import checked, journey_yaml
from journeymap.loader import load
from journeymap.logs import discover, print_sql
from journeymap.logs.discovery import Counts, counts_from_events, counts_sql, journey_from_counts
from journeymap.logs.mapping import Mapping, OutcomeSpec, read_mapping
from journeymap.logs.readers import connect
from journeymap.model import format_duration
from tests.logs.test_readers import DATA, csv_rows, utc, xes_rows

Event = tuple[str, str, datetime]  # case, activity, time (UTC)

RECRUITING_MAP = """\
journey: recruiting
title: Recruiting, as observed
stages:
  submit application: Apply
  assign recruiter: Screening
  assign vacancy: Screening
  first screening: Screening
  check references: Screening
  consult manager: Selection
  invite for interview: Selection
  conduct interview: Selection
  make job offer: Offer
touchpoints:
  submit application: {id: apply, channel: careers site, owner: Recruiting}
outcomes:
  offer accepted and hired: success
  job offer declined: lost
  send rejection: lost
"""


def recruiting_rows() -> list[Event]:
    """recruiting-red's events per application object, read with json alone."""
    with gzip.open(DATA / "recruiting-red.jsonocel.gz", "rt", encoding="utf-8") as fh:
        log = json.load(fh)
    objects = log["ocel:objects"]
    rows = []
    for event in log["ocel:events"].values():
        for o in event["ocel:omap"]:
            if objects[o]["ocel:type"] == "applications":
                rows.append((o, event["ocel:activity"], utc(event["ocel:timestamp"])))
    return rows


class Expected:
    """Directly-follows numbers of a log, in plain Python (stable sort by time)."""

    def __init__(self, rows: list[Event], outcomes: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        cases: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
        for case, activity, ts in rows:
            cases[case].append((ts, activity))
        self.cases = len(cases)
        self.events: Counter[str] = Counter()
        self.starts: Counter[str] = Counter()
        self.ends: Counter[str] = Counter()
        self.pairs: Counter[tuple[str, str]] = Counter()
        waits: dict[tuple[str, str], list[float]] = defaultdict(list)
        self.paths: list[list[str]] = []
        for events in cases.values():
            events.sort(key=lambda e: e[0])  # stable: equal times keep file order
            path = []
            for ts, a in events:
                path.append((ts, a))
                if a in outcomes:
                    break
            self.paths.append([a for _, a in path])
            self.starts[path[0][1]] += 1
            self.ends[path[-1][1]] += 1
            for _, a in path:
                self.events[a] += 1
            for (t1, a), (t2, b) in itertools.pairwise(path):
                self.pairs[(a, b)] += 1
                waits[(a, b)].append((t2 - t1).total_seconds())
        self.medians = {k: statistics.median(v) for k, v in waits.items()}


def assert_journey_holds(data: dict[str, Any], expected: Expected) -> None:
    """Every number of the discovered journey equals the independent computation."""
    title = {tp["id"]: tp["title"] for tp in data["touchpoints"]}
    title.update({o["id"]: o["title"] for o in data.get("outcomes", [])})
    volumes = {title[tp["id"]]: tp["volume"] for tp in data["touchpoints"]}
    outcome_titles = {o["title"] for o in data.get("outcomes", [])}
    assert volumes == {a: n for a, n in expected.events.items() if a not in outcome_titles}
    pairs, waits, ends = {}, {}, {}
    for tp in data["touchpoints"]:
        out = 0
        for t in tp.get("next", []):
            pairs[(tp["title"], title[t["to"]])] = t["volume"]
            waits[(tp["title"], title[t["to"]])] = t["wait"]
            out += t["volume"]
        if tp["volume"] - out:
            ends[tp["title"]] = tp["volume"] - out
    assert pairs == dict(expected.pairs)
    assert waits == {k: format_duration(v) for k, v in expected.medians.items()}
    assert ends == {a: n for a, n in expected.ends.items() if a not in outcome_titles}
    starts = {title[e["id"]]: e["volume"] for e in data["entries"]}
    # Cases that start at an outcome have no touchpoint to enter by: left out (and told).
    assert starts == {a: n for a, n in expected.starts.items() if a not in outcome_titles}


def running_example_csv() -> list[Event]:
    return [
        (r["case:concept:name"], r["concept:name"], utc(r["time:timestamp"]))
        for r in csv_rows(DATA / "running-example.csv")
    ]


@pytest.mark.parametrize(
    ("name", "rows"),
    [
        ("running-example.xes", lambda: xes_rows(DATA / "running-example.xes")),
        ("running-example.csv", running_example_csv),
        ("roadtraffic100traces.xes.gz", lambda: xes_rows(DATA / "roadtraffic100traces.xes.gz")),
        (
            "receipt.csv.gz",
            lambda: [
                (r["case:concept:name"], r["concept:name"], utc(r["time:timestamp"]))
                for r in csv_rows(DATA / "receipt.csv.gz")
            ],
        ),
    ],
)
def test_real_logs_give_exactly_the_independent_counts(
    name: str, rows: Callable[[], list[Event]]
) -> None:
    found = discover([DATA / name])
    expected = Expected(rows())
    assert_journey_holds(found.data, expected)
    assert found.summary.cases == expected.cases
    assert found.summary.events == sum(expected.events.values())
    # Invariants of any log: pairs = events - cases.
    assert sum(expected.pairs.values()) == found.summary.events - found.summary.cases
    journey = checked(journey_yaml(found.data), name)
    assert len(journey.touchpoints) == len(expected.events)


def test_recruiting_with_its_mapping_succeeds_89_times_in_916(tmp_path: Path) -> None:
    path = tmp_path / "recruiting.map.yaml"
    found = discover(
        [DATA / "recruiting-red.jsonocel.gz"],
        options=_ocel("applications"),
        mapping=_write(path, RECRUITING_MAP),
    )
    outcomes = {"offer accepted and hired", "job offer declined", "send rejection"}
    expected = Expected(recruiting_rows(), outcomes)
    assert expected.cases == 916
    assert_journey_holds(found.data, expected)
    journey = checked(journey_yaml(found.data), "recruiting.yaml")
    assert {o.id: o.result for o in journey.outcomes} == {
        "offer-accepted-and-hired": "success",
        "job-offer-declined": "lost",
        "send-rejection": "lost",
    }
    # Expected absorptions equal the observed ends: success is exactly 89 of 916.
    assert analyze(journey).success_share == pytest.approx(89 / 916, rel=1e-12)
    ends = Counter(p[-1] for p in expected.paths)
    assert (ends["offer accepted and hired"], ends["job offer declined"]) == (89, 46)
    assert ends["send rejection"] == 781
    # The mapping's names, stages and fields are in the journey.
    apply = journey.nodes["apply"]
    assert (apply.title, apply.channel, apply.owner, apply.stage) == (
        "submit application",
        "careers site",
        "Recruiting",
        "apply",
    )
    assert [s.title for s in journey.stages] == ["Apply", "Screening", "Selection", "Offer"]
    assert journey.title == "Recruiting, as observed"


def _ocel(object_type: str) -> Any:
    from journeymap.logs.readers import LogOptions

    return LogOptions(object_type=object_type)


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_printed_sql_runs_on_duckdb_and_counts_give_the_same_journey(tmp_path: Path) -> None:
    mapping = _write(tmp_path / "m.yaml", RECRUITING_MAP)
    direct = discover(
        [DATA / "recruiting-red.jsonocel.gz"], options=_ocel("applications"), mapping=mapping
    )
    # A "warehouse": a plain DuckDB table of the documented columns, filled from the log.
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE events (case_id VARCHAR, activity VARCHAR, ts TIMESTAMP, seq BIGINT)")
    rows = recruiting_rows()
    con.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?)",
        [(c, a, t, i) for i, (c, a, t) in enumerate(rows)],
    )
    result = con.execute(print_sql(mapping)).fetchall()
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["from", "to", "count", "median_wait_s"])
    for f, t, n, m in result:
        w.writerow(
            ["" if f is None else f, "" if t is None else t, n, "" if m is None else repr(m)]
        )
    counts = _write(tmp_path / "counts.csv", out.getvalue())
    again = discover(counts=counts, mapping=mapping)
    assert again.data == direct.data
    assert again.summary.cases == 916


def test_the_sql_is_one_text_for_both_routes() -> None:
    sql = counts_sql(["b"], ["x"])
    assert sql.count("SELECT") >= 5
    assert "'b'" in sql and "'x'" in sql and sql.rstrip().endswith(";")
    # Names are SQL string literals: a quote cannot end them.
    assert "'it''s'" in counts_sql(["it's"])


# --- generated logs: invariants ------------------------------------------------------

ACTIVITIES = ["apply", "screen", "interview", "offer", "hired", "rejected", "Apply"]


@st.composite
def logs(draw: st.DrawFn) -> list[Event]:
    rows: list[Event] = []
    start = datetime(2024, 1, 1)
    for case in range(draw(st.integers(1, 12))):
        t = start
        for _ in range(draw(st.integers(1, 7))):
            t += timedelta(seconds=draw(st.sampled_from([0, 1, 90, 3600, 86400 * 3 + 7])))
            rows.append((f"c{case}", draw(st.sampled_from(ACTIVITIES)), t))
    return draw(st.permutations(rows))


def _counts(rows: list[Event], outcomes: list[str]) -> Counts:
    con = connect()
    con.execute("CREATE TABLE events (case_id VARCHAR, activity VARCHAR, ts TIMESTAMP, seq BIGINT)")
    con.executemany(
        "INSERT INTO events VALUES (?, ?, ?, ?)", [(c, a, t, i) for i, (c, a, t) in enumerate(rows)]
    )
    counts, _ = counts_from_events(con, outcomes)
    return counts


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs(), st.sets(st.sampled_from(ACTIVITIES), max_size=3))
def test_any_log_gives_a_valid_journey_whose_numbers_are_the_log_s(
    rows: list[Event], outcome_set: set[str]
) -> None:
    outcomes = sorted(outcome_set)
    counts = _counts(rows, outcomes)
    mapping = Mapping(
        outcomes={
            a: OutcomeSpec("success" if i % 2 == 0 else "lost") for i, a in enumerate(outcomes)
        }
    )
    expected = Expected(rows, set(outcomes))
    if all(p[0] in outcomes for p in expected.paths):
        with pytest.raises(JourneyError, match="every case starts at an outcome"):
            journey_from_counts(counts, mapping)
        return
    data, _ = journey_from_counts(counts, mapping)
    assert_journey_holds(data, expected)
    journey = checked(journey_yaml(data), "generated.yaml")
    a = analyze(journey)
    won = sum(1 for p in expected.paths if p[-1] in outcomes and outcomes.index(p[-1]) % 2 == 0)
    at_outcome = sum(1 for p in expected.paths if p[0] in outcomes)
    if at_outcome == 0:
        # Expected absorptions equal observed ends.
        assert a.success_share == pytest.approx(won / expected.cases, abs=1e-9)
    for activity, n in expected.events.items():
        inflow = sum(v for (_, b), v in expected.pairs.items() if b == activity)
        outflow = sum(v for (x, _), v in expected.pairs.items() if x == activity)
        assert n == inflow + expected.starts[activity] == outflow + expected.ends[activity]


def test_names_that_make_one_id_are_told_apart_and_reported() -> None:
    counts = Counts(
        [
            (None, "Send Rejection", 2, None),
            ("Send Rejection", "send rejection", 2, 60.0),
            ("send rejection", None, 2, None),
        ]
    )
    data, notes = journey_from_counts(counts)
    assert [tp["id"] for tp in data["touchpoints"]] == ["send-rejection", "send-rejection-2"]
    assert notes == [
        "'send rejection' and 'Send Rejection' both make the id send-rejection: the touchpoint"
        " of 'send rejection' is send-rejection-2"
    ]


def test_waits_are_medians_to_the_second_in_days_hours_minutes_seconds() -> None:
    counts = Counts(
        [
            (None, "a", 1, None),
            ("a", "b", 1, 3 * 86400 + 4 * 3600 + 12 * 60 + 5.4),
            ("b", None, 1, None),
        ]
    )
    data, _ = journey_from_counts(counts)
    assert data["touchpoints"][0]["next"] == [{"to": "b", "volume": 1, "wait": "3d 4h 12m 5s"}]


def test_activity_names_with_controls_become_clean_titles() -> None:
    counts = Counts([(None, "a\x1b[2Jb", 1, None), ("a\x1b[2Jb", None, 1, None)])
    data, _ = journey_from_counts(counts)
    assert data["touchpoints"][0]["title"] == "a [2Jb"
    checked(journey_yaml(data), "x.yaml")


# --- the mapping ---------------------------------------------------------------------


def test_a_mapping_naming_activities_the_log_lacks_says_where_and_suggests(tmp_path: Path) -> None:
    mapping = _write(
        tmp_path / "m.yaml",
        "outcomes:\n  offer accepted and hird: success\n  send rejection: lost\n"
        "ignore: [Submit Application, nothing]\n",
    )
    with pytest.raises(JourneyError) as exc:
        discover(
            [DATA / "recruiting-red.jsonocel.gz"], options=_ocel("applications"), mapping=mapping
        )
    assert [str(p) for p in exc.value.problems] == [
        f"{mapping}:2:3: outcomes: the log has no activity 'offer accepted and hird'"
        " (did you mean 'offer accepted and hired'?)",
        f"{mapping}:4:30: ignore: the log has no activity 'nothing'",
    ]


def test_a_mapping_is_checked_key_by_key(tmp_path: Path) -> None:
    mapping = _write(
        tmp_path / "m.yaml",
        "stages:\n  a: Apply\n"
        "touchpoints:\n  a: {id: 'x y', stage: Aply, quality: 9, volume: 3}\n"
        "outcomes:\n  b: sucess\n"
        "colour: red\n",
    )
    with pytest.raises(JourneyError) as exc:
        read_mapping(mapping)
    messages = [str(p) for p in exc.value.problems]
    assert (
        f"{mapping}:4:25: stage 'Aply' is not one of the stages the mapping names (did you mean 'Apply'?)"
        in messages
    )
    assert any("'x y' is not a valid id" in m for m in messages)
    assert (
        f"{mapping}:4:40: quality: expected a whole number from 1 (poor) to 5 (excellent), got 9"
        in messages
    )
    assert any("unknown touchpoint field 'volume' (the log decides" in m for m in messages)
    assert any(
        "must end in success or lost, got 'sucess' (did you mean 'success'?)" in m for m in messages
    )
    assert any(m.startswith(f"{mapping}:7:1: unknown key of a mapping 'colour'") for m in messages)


def test_without_outcomes_nothing_is_cut_and_with_them_later_events_are_counted(
    tmp_path: Path,
) -> None:
    log = _write(
        tmp_path / "log.csv",
        "case_id,activity,timestamp\n"
        "1,apply,2024-01-01 09:00\n1,hired,2024-01-02 09:00\n1,onboard,2024-01-03 09:00\n"
        "2,apply,2024-01-01 09:00\n2,rejected,2024-01-01 10:00\n",
    )
    plain = discover([log])
    assert [tp["id"] for tp in plain.data["touchpoints"]] == [
        "apply",
        "hired",
        "rejected",
        "onboard",
    ]
    mapping = _write(tmp_path / "m.yaml", "outcomes: {hired: success, rejected: lost}\n")
    cut = discover([log], mapping=mapping)
    assert [tp["id"] for tp in cut.data["touchpoints"]] == ["apply"]
    assert cut.summary.after_outcome == 1
    assert any("1 events after a case's first outcome" in line for line in cut.summary.lines())
    journey = checked(journey_yaml(cut.data), "x.yaml")
    assert analyze(journey).success_share == 0.5


# --- the command ---------------------------------------------------------------------


def test_discover_through_the_cli(cli: Any, tmp_path: Path) -> None:
    mapping = _write(tmp_path / "recruiting.map.yaml", RECRUITING_MAP)
    out = tmp_path / "recruiting.yaml"
    r = cli(
        "discover",
        DATA / "recruiting-red.jsonocel.gz",
        "--object-type",
        "applications",
        "--map",
        mapping,
        "-o",
        out,
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"wrote {out}\n"
    assert "916 cases, 6,607 events, 12 activities" in r.stderr
    assert "the 5 most common variants:" in r.stderr
    assert load(out).journey == "recruiting"
    first = out.read_bytes()
    # Same input, same bytes; an existing file is kept without --force.
    r = cli(
        "discover",
        DATA / "recruiting-red.jsonocel.gz",
        "--object-type",
        "applications",
        "--map",
        mapping,
        "-o",
        out,
    )
    assert r.returncode == 2 and "exists already" in r.stderr
    r = cli(
        "discover",
        DATA / "recruiting-red.jsonocel.gz",
        "--object-type",
        "applications",
        "--map",
        mapping,
        "-o",
        out,
        "--force",
    )
    assert r.returncode == 0 and out.read_bytes() == first
    assert cli("validate", out).returncode == 0
    assert cli("render", out, "-o", tmp_path / "maps").returncode == 0
    j = tmp_path / "recruiting.json"
    r = cli("discover", DATA / "running-example.xes", "-o", j)
    assert r.returncode == 0, r.stderr
    assert json.loads(j.read_text())["journey"] == "recruiting"
    assert load(j).entry_volumes == {"register-request": 6}


def test_discover_bad_input_writes_nothing(cli: Any, tmp_path: Path) -> None:
    out = tmp_path / "x.yaml"
    r = cli("discover", DATA / "recruiting-red.jsonocel.gz", "-o", out)
    assert r.returncode == 1
    assert "needs --object-type" in r.stderr and "applications (916 objects)" in r.stderr
    assert "Traceback" not in r.stderr and not out.exists()
    bad = _write(tmp_path / "bad.csv", "case_id,activity,timestamp\n1,a,not a time\n")
    r = cli("discover", bad, "-o", out)
    assert r.returncode == 1 and f"{bad}:2:" in r.stderr and not out.exists()
    r = cli("discover", "-o", out)
    assert r.returncode == 2 and "LOG files, or --counts" in r.stderr
    r = cli("discover", bad, "-o", tmp_path / "x.txt")
    assert r.returncode == 2 and "*.yaml" in r.stderr
    r = cli("discover", bad, "-o", out, "--format", "json")
    assert r.returncode == 2 and "does not fit" in r.stderr


def test_print_sql_through_the_cli(cli: Any, tmp_path: Path) -> None:
    mapping = _write(tmp_path / "m.yaml", "outcomes: {hired: success}\nignore: [noise]\n")
    r = cli("discover", "--print-sql", "--map", mapping)
    assert r.returncode == 0
    assert r.stdout == counts_sql(["hired"], ["noise"])


def test_the_observed_example_is_what_discover_makes_of_the_recruiting_log(
    cli: Any, tmp_path: Path
) -> None:
    """journeys/recruiting-observed.yaml is discover's output, byte for byte (README)."""
    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "recruiting-observed.yaml"
    r = cli(
        "discover",
        DATA / "recruiting-red.jsonocel.gz",
        "--object-type",
        "applications",
        "--map",
        root / "journeys" / "recruiting.map.yaml",
        "-o",
        out,
    )
    assert r.returncode == 0, r.stderr
    assert out.read_text(encoding="utf-8") == (
        root / "journeys" / "recruiting-observed.yaml"
    ).read_text(encoding="utf-8")
    # The mapping beside the journeys is not taken for a journey.
    r = cli("validate", root / "journeys")
    assert r.returncode == 0 and "recruiting.map.yaml" not in r.stdout


def test_odd_logs_are_read_and_what_is_odd_is_said(tmp_path: Path) -> None:
    log = _write(
        tmp_path / "log.csv",
        "case_id,activity,timestamp\n"
        "1,面接,2024-01-01 09:00\n1,面接,2024-01-01 09:00\n1,!!!,2024-01-02 09:00\n"
        "2,面接,2024-01-01 09:00\n"
        "3,!!!,2024-01-05 09:00\n",
    )
    found = discover([log])
    ids = {tp["title"]: tp["id"] for tp in found.data["touchpoints"]}
    assert ids == {"面接": "touchpoint-1", "!!!": "touchpoint-2"}
    notes = found.summary.notes
    assert "'面接' makes no id: the touchpoint of '面接' is touchpoint-1" in notes
    assert "2 cases of a single event: each starts and ends there" in notes
    assert any(n.startswith("1 event repeats the one before in its case") for n in notes)
    j = checked(journey_yaml(found.data), "x.yaml")
    assert j.nodes["touchpoint-1"].next[0].to == "touchpoint-1"  # the duplicate: a self-loop


def test_an_engine_failure_is_a_message_naming_the_log(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import duckdb

    from journeymap.logs import discovery

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise duckdb.OutOfMemoryException(
            "Out of Memory Error: failed to allocate data of size 16.0 MiB (948.3 MiB/953.6 MiB used)"
        )

    monkeypatch.setattr(discovery, "counts_from_events", fail)
    with pytest.raises(JourneyError) as exc:
        discover([DATA / "running-example.csv"])
    text = str(exc.value)
    assert text.startswith(f"{DATA / 'running-example.csv'}: the log could not be aggregated:")
    assert "Out of Memory Error" in text and "TMPDIR" in text


def test_the_progress_line_shows_only_for_a_long_read_on_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from journeymap import cli

    assert cli._progress() is None  # not a terminal: nothing
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    clock = iter([0.0, 0.5, 2.5, 3.0])
    monkeypatch.setattr("time.monotonic", lambda: next(clock))
    show = cli._progress()
    assert show is not None
    show(10, 100)  # half a second in: quiet
    assert capsys.readouterr().err == ""
    show(50, 100)  # past two seconds: the bar
    show(100, 100)  # and done: the line ends
    err = capsys.readouterr().err
    assert "reading the log [###############               ]  50%" in err
    assert err.endswith(" 100%\n")


def test_counts_through_the_cli(cli: Any, tmp_path: Path) -> None:
    counts = _write(
        tmp_path / "counts.csv",
        "from,to,count,median_wait_s\n,apply,3,\napply,screen,2,90061.5\napply,,1,\nscreen,,2,\n",
    )
    out = tmp_path / "warehouse.yaml"
    r = cli("discover", "--counts", counts, "-o", out)
    assert r.returncode == 0, r.stderr
    j = load(out)
    assert j.journey == "warehouse" and j.entry_volumes == {"apply": 3}
    assert j.nodes["apply"].next[0].wait == "1d 1h 1m 2s"
    bad = _write(tmp_path / "bad.csv", "from,to,count,median_wait_s\napply,screen,-2,\n")
    r = cli("discover", "--counts", bad, "-o", tmp_path / "x.yaml")
    assert r.returncode == 1
    assert f"{bad}:2:3: count '-2' is not a whole number, 0 or more" in r.stderr
    r = cli("discover", "--counts", counts, DATA / "running-example.xes", "-o", tmp_path / "y.yaml")
    assert r.returncode == 2 and "not both" in r.stderr
