"""The touchpoint inventory as a spreadsheet, out and in (issue #13).

Round trips are compared as journey data (``journey_data``: what a journey file
would hold), so every attribute of every touchpoint, stage, outcome and the
journey itself must survive export then import.
"""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from journeymap.analysis import analyze
from journeymap.errors import JourneyError, UsageError
from journeymap.interop import sheetfiles
from journeymap.interop.sheetfiles import (
    csv_bytes,
    csv_table,
    guard,
    inventory_bytes,
    xlsx_bytes,
    xlsx_table,
)
from journeymap.interop.sheets import (
    ANALYSIS_COLUMNS,
    COLUMNS,
    inventory_rows,
    journey_from_table,
    list_cell,
    parse_next,
    read_list,
    read_text,
    text_cell,
    unguard,
)
from journeymap.interop.yamlfile import journey_data
from journeymap.loader import load, loads
from journeymap.model import Journey
from tests.conftest import EXAMPLES
from tests.strategies import dumps, journey_dicts

FORMATS = ("csv", "xlsx")


def to_bytes(journeys: list[Journey], fmt: str) -> bytes:
    return inventory_bytes(journeys, fmt)


def from_bytes(raw: bytes, fmt: str, journey: str | None = None, name: str = "sheet") -> Journey:
    source = f"{name}.{fmt}"
    table = csv_table(raw, source) if fmt == "csv" else xlsx_table(raw, source)
    return journey_from_table(table, journey, guarded=fmt == "csv")


def csv_rows(raw: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def problems_of(exc: pytest.ExceptionInfo[JourneyError]) -> list[tuple[int, int, str]]:
    return [(p.line, p.column, p.message) for p in exc.value.problems]


def col(name: str) -> int:
    """The 1-based column of ``name`` in the exported sheet."""
    return COLUMNS.index(name) + 1


# Texts that broke, or could break, a cell: quotes, formula starts, blanks, line
# breaks, Excel's own escapes, non-ASCII.
AWKWARD_TEXTS = [
    "",
    " ",
    "  two  ",
    '"',
    '""',
    '"quoted"',
    '"half',
    'say "hi"',
    "=1+1",
    '=HYPERLINK("http://x")',
    "'=x",
    "''@x",
    "'plain",
    "+33 1 23",
    "-5",
    "@user",
    "\tindented",
    "\rcarriage",
    "a\r\nb",
    "a\nb",
    "\n",
    "trailing\n",
    "_x0041_",
    "_x000D_",
    "_x005F_x0041_",
    "back\\slash \\n",
    "é 😀 中文 \u2028 line",
    "a, b; c (d)",
]


# --- cells ------------------------------------------------------------------------


@pytest.mark.parametrize("text", AWKWARD_TEXTS)
def test_a_text_cell_reads_back_as_the_text(text: str) -> None:
    cell = text_cell(text)
    assert cell.strip(), "a blank cell would read as 'not given'"
    assert read_text(cell) == text


@pytest.mark.parametrize("items", [[t] for t in AWKWARD_TEXTS] + [AWKWARD_TEXTS, ["a", "", "b"]])
def test_a_list_cell_reads_back_as_its_items(items: list[str]) -> None:
    assert read_list(list_cell(items)) == items


def test_a_list_cell_is_one_item_per_line_and_skips_blank_lines() -> None:
    assert list_cell(["No pay rate", "No shift"]) == "No pay rate\nNo shift"
    assert read_list("No pay rate\r\n\n  \nNo shift\n") == ["No pay rate", "No shift"]
    assert read_list('"two\nlines"\nnext') == ["two\nlines", "next"]
    # A line that only starts with a quote is taken as written.
    assert read_list('"Fast" service') == ['"Fast" service']


@pytest.mark.parametrize("text", AWKWARD_TEXTS)
def test_the_csv_guard_is_undone_exactly(text: str) -> None:
    guarded = guard(text)
    assert not re.match(r"[=+\-@\t\r]", guarded)
    assert unguard(guarded) == text


def test_the_csv_guard_touches_only_risky_starts() -> None:
    assert guard("Apply") == "Apply"
    assert guard("=SUM(A1)") == "'=SUM(A1)"
    assert guard("'=x") == "''=x"
    assert guard("'plain") == "'plain"
    assert unguard("'plain") == "'plain"


# --- next -------------------------------------------------------------------------


def test_next_takes_plain_ids() -> None:
    assert parse_next("apply, review-site") == [{"to": "apply"}, {"to": "review-site"}]
    assert parse_next("apply\nreview-site;\n\nwalk-in") == [
        {"to": "apply"},
        {"to": "review-site"},
        {"to": "walk-in"},
    ]
    assert parse_next("") == []


def test_next_takes_numbers_waits_and_labels() -> None:
    cell = (
        'review-site (probability=0.3, wait=2d, label="reads, (says) ""hi""\nthen")\n'
        'apply (30%, 1w), walk-in (p: 0.05), call (volume=1500), x (v=2.5e3, wait=" 2d ")'
    )
    assert parse_next(cell) == [
        {
            "to": "review-site",
            "probability": 0.3,
            "wait": "2d",
            "label": 'reads, (says) "hi"\nthen',
        },
        {"to": "apply", "probability": 0.3, "wait": "1w"},
        {"to": "walk-in", "probability": 0.05},
        {"to": "call", "volume": 1500},
        {"to": "x", "volume": 2500.0, "wait": " 2d "},
    ]
    assert parse_next("a (7%)") == [{"to": "a", "probability": 0.07}]


@pytest.mark.parametrize(
    ("cell", "message", "at"),
    [
        ("apply (foo=1)", "unknown part 'foo'", 8),
        ("apply (probabilty=0.3)", "did you mean 'probability'", 8),
        ("apply (probability=abc)", "expected a number like 0.3 or 30%, got 'abc'", 20),
        ("apply (probability=0,3)", "write decimals with a point (0.3), not a comma", 21),
        ('apply (label="open', "a quote that is never closed", 14),
        ("apply (wait=2d", "got the end of the cell", 15),
        ("apply (wait=2d) now", "expected a comma or a line break", 17),
        ("apply (wait=2d, wait=3d)", "wait is given twice", 17),
        ("(wait=2d)", "expected the id of a touchpoint or outcome", 1),
        ("apply (soon)", "'soon' is not a part of a transition", 8),
    ],
)
def test_next_syntax_errors_say_where(cell: str, message: str, at: int) -> None:
    with pytest.raises(ValueError) as exc:
        parse_next(cell)
    assert message in str(exc.value)
    assert f"at character {at} of the cell" in str(exc.value)


# --- round trips ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_survive_export_then_import(path: Path, fmt: str) -> None:
    journey = load(path)
    back = from_bytes(to_bytes([journey], fmt), fmt)
    assert journey_data(back) == journey_data(journey)
    # Not only equal as data: every touchpoint attribute the example writes is there.
    assert back.touchpoints == journey.touchpoints
    assert back.stages == journey.stages and back.outcomes == journey.outcomes
    assert back.entries == journey.entries and back.persona == journey.persona


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_folder_is_one_sheet_and_each_journey_comes_back(fmt: str) -> None:
    journeys = [load(p) for p in EXAMPLES]
    raw = to_bytes(journeys, fmt)
    for j in journeys:
        assert journey_data(from_bytes(raw, fmt, j.journey)) == journey_data(j)
    names = ", ".join(j.journey for j in journeys)
    with pytest.raises(
        UsageError, match=rf"holds {len(journeys)} journeys \({re.escape(names)}\).*--journey"
    ):
        from_bytes(raw, fmt)
    with pytest.raises(UsageError, match=f"no rows of journey 'nope'; it holds: {names}"):
        from_bytes(raw, fmt, "nope")


_text = st.one_of(
    st.sampled_from(AWKWARD_TEXTS),
    st.text(
        st.characters(
            blacklist_categories=("Cs",),
            blacklist_characters=[
                *map(chr, range(0x00, 0x09)),
                "\x0b",
                "\x0c",
                *map(chr, range(0x0E, 0x20)),
                *map(chr, range(0x7F, 0xA0)),
            ],
        ),
        max_size=12,
    ),
)
_word = _text.filter(bool)
_duration = st.from_regex(r"\A ?\d{1,3}(\.\d{1,2})? ?[smhdw] ?\Z")


@st.composite
def decorated_journeys(draw: st.DrawFn) -> dict[str, Any]:
    """A journey of the property tests, with every attribute a sheet must carry, awkwardly."""
    d = draw(journey_dicts(max_touchpoints=5, max_outcomes=3))
    maybe: Callable[[st.SearchStrategy[Any]], Any] = lambda s: draw(st.none() | s)  # noqa: E731
    for key, value in (
        ("title", maybe(_text)),
        ("description", maybe(_text)),
        ("kind", maybe(st.sampled_from(["candidate", "client", "other"]))),
    ):
        if value is not None:
            d[key] = value
    if draw(st.booleans()):
        d["persona"] = {"name": draw(_text)}
        if draw(st.booleans()):
            d["persona"]["description"] = draw(_text)
    d["stages"] = [
        {"id": s, **({"title": t} if (t := maybe(_text)) is not None else {})}
        | ({"description": x} if (x := maybe(_text)) is not None else {})
        for s in d["stages"]
    ]
    ids = [tp["id"] for tp in d["touchpoints"]]
    for tp in d["touchpoints"]:
        for key in ("title", "channel", "owner", "description", "when", "why", "frequency"):
            if (value := maybe(_text)) is not None:
                tp[key] = value
        for key, strategy in (
            ("interaction", st.sampled_from(["direct", "indirect"])),
            ("layer", st.sampled_from(["frontstage", "backstage"])),
            ("initiative", st.sampled_from(["customer", "firm"])),
            ("duration", _duration),
            ("quality", st.integers(1, 5)),
            ("emotion", st.one_of(st.integers(-2, 2), st.floats(-2, 2))),
        ):
            if (value := maybe(strategy)) is not None:
                tp[key] = value
        importance = {
            k: v for k in ("customer", "company") if (v := maybe(st.integers(1, 5))) is not None
        }
        if importance:  # `importance: {}` says nothing, and a sheet has no way to say it
            tp["importance"] = importance
        for key, strategy in (
            ("pain_points", _text),
            ("opportunities", _text),
            ("tags", _word),
            ("asks", _word),
        ):
            tp[key] = draw(st.lists(strategy, max_size=3))
        tp["knows"] = draw(st.lists(st.sampled_from(ids), max_size=2))
        nxt = []
        for t in tp.get("next", []):
            t = {"to": t} if isinstance(t, str) else dict(t)
            if (wait := maybe(_duration)) is not None:
                t["wait"] = wait
            if (label := maybe(_text)) is not None:
                t["label"] = label
            nxt.append(t)
        if nxt:
            tp["next"] = nxt
    for o in d["outcomes"]:
        if (title := maybe(_text)) is not None:
            o["title"] = title
        if (description := maybe(_text)) is not None:
            o["description"] = description
    return d


@settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(decorated_journeys())
def test_any_journey_survives_export_then_import(d: dict[str, Any]) -> None:
    try:
        journey = loads(dumps(d), "fuzz.json")
    except JourneyError:
        assume(False)
        raise
    rows = inventory_rows([journey], [analyze(journey)])
    for fmt, raw in (("csv", csv_bytes(rows)), ("xlsx", xlsx_bytes(rows))):
        back = from_bytes(raw, fmt)
        assert journey_data(back) == journey_data(journey), fmt


# --- what the sheet looks like ------------------------------------------------------


def test_analysis_columns_are_the_analysis_and_ignored_on_import() -> None:
    journey = load(EXAMPLES[0])  # candidate
    result = analyze(journey)
    rows = {r["id"] or r["stage"] or r["type"]: r for r in csv_rows(to_bytes([journey], "csv"))}
    # Reach: of the customers who start, the share who get there; entries by their volume.
    volumes = {e: journey.nodes[e].volume for e in journey.entry_ids}
    total = sum(v for v in volumes.values() if v is not None)
    for entry, volume in volumes.items():
        assert volume is not None
        assert float(rows[entry]["reach"]) == pytest.approx(volume / total, abs=1e-9)
    for tp in journey.touchpoints:
        assert float(rows[tp.id]["drop_off"]) == pytest.approx(result.drop_off.get(tp.id, 0.0))
    outcome_reach = sum(float(rows[o.id]["reach"]) for o in journey.outcomes)
    assert 0 < outcome_reach <= 1 + 1e-9
    for f in result.findings:
        if f.subject in journey.nodes:
            assert f.rule in rows[f.subject]["findings"].split(", ")
    # Changed analysis cells change nothing on import.
    raw = to_bytes([journey], "csv").decode("utf-8-sig")
    records = list(csv.reader(io.StringIO(raw, newline="")))
    for record in records[1:]:
        for name in ANALYSIS_COLUMNS:
            record[COLUMNS.index(name)] = "=1/0 nonsense"
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(records)
    back = from_bytes(out.getvalue().encode(), "csv")
    assert journey_data(back) == journey_data(journey)


def test_csv_is_utf8_with_a_bom_rfc4180_and_guards_formulas(
    make_journey: Callable[..., Journey],
) -> None:
    journey = make_journey(
        """
        journey: hostile
        stages: [s]
        touchpoints:
          - id: a
            title: '=HYPERLINK("http://x")'
            stage: s
            channel: "@evil"
            owner: "-2+3"
            pain_points: ["+cmd", "fine"]
            emotion: -1
        """
    )
    raw = to_bytes([journey], "csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    # Records end in CRLF; a line break inside a (quoted) cell is the cell's own.
    assert raw.endswith(b"\r\n") and raw.count(b"\r\n") == 4  # header, journey, stage, a
    row = csv_rows(raw)[2]
    assert row["title"] == '\'=HYPERLINK("http://x")'
    assert row["channel"] == "'@evil" and row["owner"] == "'-2+3"
    assert row["pain_points"] == "'+cmd\nfine"
    assert row["emotion"] == "-1"  # a number, not text: nothing to guard
    back = from_bytes(raw, "csv")
    assert back.touchpoints[0].title == '=HYPERLINK("http://x")'
    assert back.touchpoints[0].pain_points == ["+cmd", "fine"]


def test_xlsx_opens_cleanly(make_journey: Callable[..., Journey]) -> None:
    journey = make_journey(
        """
        journey: hostile
        stages: [s]
        touchpoints:
          - id: a
            title: '=HYPERLINK("http://x")'
            stage: s
            pain_points: ["one", "two"]
            next: [b]
          - id: b
            stage: s
            title: "_x0041_ and a\\r\\nbreak"
        """
    )
    raw = to_bytes([journey], "xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(raw))
    ws = wb.active
    assert ws is not None and ws.title == "touchpoints"
    assert ws.freeze_panes == "E2"
    assert ws.auto_filter.ref == f"A1:{openpyxl.utils.get_column_letter(len(COLUMNS))}5"
    assert [c.value for c in ws[1]] == list(COLUMNS)
    assert all(c.font.bold for c in ws[1])
    title = ws.cell(row=4, column=col("title"))
    assert title.value == '=HYPERLINK("http://x")' and title.data_type == "s"
    assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)
    assert ws.cell(row=4, column=col("pain_points")).alignment.wrap_text
    widths = {ws.column_dimensions[openpyxl.utils.get_column_letter(col(n))].width for n in COLUMNS}
    assert len(widths) > 3 and max(widths) <= 60 and min(widths) >= 8
    assert ws.cell(row=4, column=col("reach")).number_format == "0.0%"
    # Excel's escapes: a CR and a literal "_x0041_" are stored the way Excel reads them back.
    sheet = zipfile.ZipFile(io.BytesIO(raw)).read("xl/worksheets/sheet1.xml").decode()
    assert "_x005F_x0041_ and a_x000D_\nbreak" in sheet
    assert from_bytes(raw, "xlsx").touchpoints[1].title == "_x0041_ and a\r\nbreak"


def test_xlsx_bytes_are_the_same_every_time() -> None:
    journeys = [load(p) for p in EXAMPLES]
    raw = to_bytes(journeys, "xlsx")
    assert to_bytes(journeys, "xlsx") == raw
    archive = zipfile.ZipFile(io.BytesIO(raw))
    assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
    core = archive.read("docProps/core.xml").decode()
    assert "2000-01-01T00:00:00Z" in core and "journeymap" in core
    assert to_bytes(journeys, "csv") == to_bytes(journeys, "csv")


def test_xlsx_refuses_text_excel_cannot_hold(make_journey: Callable[..., Journey]) -> None:
    long = "x" * 9000
    journey = make_journey(
        f"""
        journey: long
        stages: [s]
        touchpoints:
          - id: a
            stage: s
            pain_points: [{long}, {long}, {long}, {long}]
        """
    )
    with pytest.raises(
        JourneyError,
        match=r"row 4 of the inventory \(long/a/s\): pain_points holds 36,003 characters, and an Excel cell at most 32,767",
    ):
        to_bytes([journey], "xlsx")
    assert from_bytes(to_bytes([journey], "csv"), "csv").touchpoints[0].pain_points == [long] * 4


def test_numbers_beyond_excel_are_text_and_come_back(make_journey: Callable[..., Journey]) -> None:
    journey = make_journey(
        """
        journey: huge
        stages: [s]
        touchpoints:
          - id: a
            stage: s
            volume: 1.7e308
            next: [{to: b, volume: 5.0e-324}]
          - {id: b, stage: s}
        """
    )
    raw = to_bytes([journey], "xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(raw)).active
    assert ws is not None
    assert ws.cell(row=4, column=col("volume")).value == "1.7e+308"
    back = from_bytes(raw, "xlsx")
    assert back.touchpoints[0].volume == 1.7e308
    assert back.touchpoints[0].next[0].volume == 5e-324


# --- a team's own sheet -------------------------------------------------------------


def test_a_plain_team_sheet_imports() -> None:
    text = (
        "ID;Stage;Title;Next;Volume;Quality;Pain Points;Importance (customer)\n"
        "post;Awareness;Job post;apply (35%, wait=1d), gone (p=0,65);1 000;3;No pay;5\n"
        'apply;Apply;Apply online;"hired (probability=0.5)";;4,0;"Slow\nLong form";\n'
        "hired;;;;;;;\n"
    )
    with pytest.raises(JourneyError) as exc:
        from_bytes(text.encode(), "csv", name="team")
    assert problems_of(exc) == [
        (
            2,
            4,
            "next: probability: write decimals with a point (0.3), not a comma, in next"
            " (at character 32 of the cell)",
        ),
        (2, 5, "volume: expected a number of customers, 0 or more, got '1 000'"),
        (4, 2, "missing required key 'stage'"),  # a touchpoint: the row says no other type
    ]
    fixed = (
        "id\tstage\ttitle\tnext\tvolume\ttype\tresult\tpain points\tquality\n"
        "post\tawareness\tJob post\tapply (35%, wait=1d)\t1000\t\t\t\t4,0\n"
        'apply\tapply\tApply online\thired (probability=0.5)\t\t\t\t"Slow\nLong form"\t\n'
        "hired\t\tHired\t\t\tOutcome\tSuccess\t\t\n"
    )
    journey = from_bytes(fixed.encode("utf-16"), "csv", name="Team Sheet")
    assert journey.journey == "team-sheet"
    assert [s.id for s in journey.stages] == ["awareness", "apply"]
    assert journey.touchpoints[0].next[0].probability == 0.35
    assert journey.touchpoints[0].quality == 4  # 4,0: a decimal comma, a whole number
    assert journey.touchpoints[1].pain_points == ["Slow", "Long form"]
    assert journey.outcomes[0].result == "success"


def test_header_names_are_matched_loosely_and_unknown_ones_refused() -> None:
    text = "Id,STAGE,Pain-Points,Drop Off,Notes,Notes\na,s,x,0.5,,\n"
    with pytest.raises(JourneyError) as exc:
        from_bytes(text.encode(), "csv")
    assert [(r, c) for r, c, _ in problems_of(exc)] == [(1, 5), (1, 6)]
    assert "unknown column 'Notes'" in problems_of(exc)[0][2]
    ok = from_bytes(b"Id,STAGE,Pain-Points,Drop Off\na,s,x,0.5\n", "csv")
    assert ok.touchpoints[0].pain_points == ["x"]


def test_type_problems() -> None:
    text = (
        "journey,type,stage,id,title,result\n"
        "j,touchpoint,s,a,A,\n"
        "j,journey,s,,,\n"
        "j,stage,s,b,,\n"
        "j,outcome,s,c,,lost\n"
        "j,touchpoint,s,d,,lost\n"
        "j,stgae,s,e,,\n"
        "j,journey,,,Again,\n"
    )
    with pytest.raises(JourneyError) as exc:
        from_bytes(text.encode(), "csv")
    assert problems_of(exc) == [
        (
            3,
            3,
            "a journey row has no stage: leave the cell empty (or is it a touchpoint? see its type)",
        ),
        (4, 4, "a stage row has no id: leave the cell empty (or is it a touchpoint? see its type)"),
        (
            5,
            3,
            "a outcome row has no stage: leave the cell empty (or is it a touchpoint? see its type)",
        ),
        (6, 6, "a touchpoint row has no result: leave the cell empty"),
        (
            7,
            2,
            "unknown type 'stgae' (did you mean 'stage'?): a row is a journey, stage, touchpoint or outcome",
        ),
        (8, 2, "a second journey row (the first is on row 3)"),
    ]


def test_stage_rows_declare_the_stages() -> None:
    text = (
        "type,stage,id,title\n"
        "stage,b,,Second first\n"
        "stage,a,,\n"
        "stage,empty,,Nobody here\n"
        ",a,t1,\n"
        ",b,t2,\n"
        ",screning,t3,\n"
    )
    with pytest.raises(JourneyError) as exc:
        from_bytes(text.encode(), "csv")
    assert problems_of(exc) == [(7, 2, "stage 'screning' has no stage row")]
    journey = from_bytes(text.replace("screning", "a").encode(), "csv")
    assert [(s.id, s.title) for s in journey.stages] == [
        ("b", "Second first"),
        ("a", "A"),
        ("empty", "Nobody here"),
    ]


def test_duplicate_ids_name_the_first_row() -> None:
    with pytest.raises(JourneyError) as exc:
        from_bytes(b"id,stage\na,s\nb,s\na,s\n", "csv")
    (row, column, message), *_ = problems_of(exc)
    assert (row, column) == (4, 1)
    assert "first on row 2" in message


def test_cells_are_checked_like_a_journey_file() -> None:
    header = ["id", "stage", "quality", "emotion", "importance_customer", "knows", "tags", "owner"]
    bad = [
        ["a", "s", "7", "-3", "3.5", "b zz", "", "Ann"],
        ["b", "s", "3.0", "1.5", "4", "a", 'one\n""\n"say ""hi"""', "\x1b[2J"],
    ]
    out = io.StringIO(newline="")
    csv.writer(out).writerows([header, *bad])
    with pytest.raises(JourneyError) as exc:
        from_bytes(out.getvalue().encode(), "csv")
    found = problems_of(exc)
    assert [(r, c) for r, c, _ in found] == [(2, 3), (2, 4), (2, 5), (2, 6), (3, 7), (3, 8)]
    assert "'zz' is not a touchpoint" in found[3][2]
    assert found[4][2] == "tags item 2: empty; write a word, or leave the item out"
    assert found[5][2].startswith("owner: control character U+001B in the cell")
    good = [["a", "s", "5", "-2", "3", "b", "", "Ann"], [*bad[1][:6], 'one\n"say ""hi"""', "Bo"]]
    out = io.StringIO(newline="")
    csv.writer(out).writerows([header, *good])
    journey = from_bytes(out.getvalue().encode(), "csv")
    assert journey.touchpoints[1].quality == 3  # 3.0 from a spreadsheet is the whole number 3
    assert journey.touchpoints[1].tags == ["one", 'say "hi"']


def test_csv_that_is_not_csv() -> None:
    with pytest.raises(JourneyError, match=r"not UTF-8 text \(byte 0xe9, on line 2"):
        from_bytes("id,stage\ncaf\xe9,s\n".encode("latin-1"), "csv")
    with pytest.raises(JourneyError, match="not valid CSV in row 2"):
        from_bytes(b'id,stage\n"a"b,s\n', "csv")
    with pytest.raises(JourneyError, match=r"XLSX workbook.*use journeymap import xlsx"):
        from_bytes(to_bytes([load(EXAMPLES[0])], "xlsx"), "csv")
    with pytest.raises(JourneyError, match="the sheet is empty"):
        from_bytes(b"\n\n", "csv")


# --- hostile workbooks ----------------------------------------------------------------


def workbook(cells: dict[str, Any], *, formula: str | None = None) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for ref, value in cells.items():
        ws[ref] = value
    if formula:
        ws[formula].data_type = "f"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_a_formula_cell_is_refused_with_its_row_and_column() -> None:
    raw = workbook(
        {"A1": "id", "B1": "stage", "C1": "title", "A2": "a", "B2": "s", "C2": '=B2&"!"'},
        formula="C2",
    )
    with pytest.raises(JourneyError) as exc:
        from_bytes(raw, "xlsx")
    assert problems_of(exc) == [
        (
            2,
            3,
            "title: a formula; journeymap reads values and never calculates: replace it"
            " with its value (copy, then paste values only)",
        )
    ]


def test_an_error_value_is_refused() -> None:
    raw = workbook(
        {"A1": "id", "B1": "stage", "C1": "volume", "A2": "a", "B2": "s", "C2": "#DIV/0!"}
    )
    with pytest.raises(JourneyError) as exc:
        from_bytes(raw, "xlsx")
    assert problems_of(exc) == [(2, 3, "volume: the error value #DIV/0!; write the value instead")]


def test_the_sheet_named_touchpoints_is_read_else_the_first() -> None:
    wb = openpyxl.Workbook()
    first = wb.active
    assert first is not None
    first.append(["notes"])
    sheet = wb.create_sheet("Touchpoints")
    sheet.append(["id", "stage"])
    sheet.append(["a", "s"])
    out = io.BytesIO()
    wb.save(out)
    assert from_bytes(out.getvalue(), "xlsx").touchpoints[0].id == "a"


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def test_a_zip_bomb_is_refused_before_any_xml_is_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def never(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("openpyxl must not see this file")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    bomb = zip_of({"[Content_Types].xml": b"<x/>", "xl/worksheets/sheet1.xml": b"\0" * (8 * 2**20)})
    assert len(bomb) < 100_000
    with pytest.raises(JourneyError, match=r"sheet1\.xml unpacks to .* times its size.*zip bomb"):
        from_bytes(bomb, "xlsx")
    monkeypatch.setattr(sheetfiles, "XLSX_MAX_UNPACKED", 2**20)
    big = zip_of({f"part{i}.xml": bytes(range(256)) * 1024 for i in range(5)})
    with pytest.raises(JourneyError, match="unpacks to over 1 MiB"):
        from_bytes(big, "xlsx")


def test_entities_and_non_workbooks_are_refused() -> None:
    laughs = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'
    with pytest.raises(JourneyError, match="declares a DOCTYPE or entities"):
        from_bytes(zip_of({"xl/workbook.xml": laughs}), "xlsx")
    with pytest.raises(JourneyError, match="not an XLSX workbook"):
        from_bytes(b"id,stage\na,s\n", "xlsx")
    with pytest.raises(JourneyError, match="not a workbook journeymap can read"):
        from_bytes(zip_of({"hello.txt": b"hi"}), "xlsx")
    damaged = bytearray(to_bytes([load(EXAMPLES[0])], "xlsx"))
    damaged[200:260] = b"\xff" * 60
    with pytest.raises(JourneyError):
        from_bytes(bytes(damaged), "xlsx")


def test_a_far_away_cell_costs_nothing() -> None:
    # A cell in the last row and column of Excel: padding every row to it would take forever.
    raw = workbook({"A1": "id", "B1": "stage", "A2": "a", "B2": "s", "XFD1048576": "far"})
    start = time.perf_counter()
    with pytest.raises(JourneyError) as exc:
        from_bytes(raw, "xlsx")
    assert time.perf_counter() - start < 5
    assert problems_of(exc) == [(1048576, 16384, "a value in a column without a heading")]


# --- the commands ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_inventory_then_import_through_the_cli(
    cli: Callable[..., Any], tmp_path: Path, fmt: str
) -> None:
    root = Path(__file__).resolve().parents[2]
    sheet = tmp_path / f"touchpoints.{fmt}"
    done = cli("inventory", root / "journeys", "-o", sheet)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"wrote {sheet}\n"
    out = tmp_path / "client.yaml"
    done = cli("import", fmt, sheet, "--journey", "client", "-o", out)
    assert done.returncode == 0, done.stderr
    assert "(client: 7 stages, 29 touchpoints, 5 outcomes)" in done.stdout
    assert out.read_text().startswith("# yaml-language-server: $schema=journey.schema.json\n")
    assert journey_data(load(out)) == journey_data(load(root / "journeys" / "client.yaml"))
    # Several journeys and no --journey: wrong usage, naming them.
    done = cli("import", fmt, sheet, "-o", tmp_path / "x.yaml")
    assert done.returncode == 2
    names = ", ".join(load(p).journey for p in EXAMPLES)
    assert f"holds {len(EXAMPLES)} journeys ({names}): choose one with --journey" in done.stderr
    assert not (tmp_path / "x.yaml").exists()


def test_inventory_wants_a_sheet_suffix(cli: Callable[..., Any], tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    done = cli("inventory", root / "journeys", "-o", tmp_path / "touchpoints.ods")
    assert done.returncode == 2
    assert "written as .xlsx or .csv, not .ods" in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_import_refuses_bad_rows_and_writes_nothing(
    cli: Callable[..., Any], tmp_path: Path
) -> None:
    sheet = tmp_path / "team.csv"
    sheet.write_text(
        "id,stage,quality,next\napply,s,9,screen (p=2)\nscreen,s,,hired (wait=soon)\n",
        encoding="utf-8",
    )
    out = tmp_path / "team.yaml"
    done = cli("import", "csv", sheet, "-o", out)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert (
        f"{sheet}:2:3: quality: expected a whole number from 1 (poor) to 5 (excellent), got 9"
        in lines
    )
    assert any(line.startswith(f"{sheet}:2:4: ") and "probability" in line for line in lines)
    assert f"{sheet}:3:4: wait 'soon' is not a duration: write a number and a unit" in done.stderr
    assert lines[-1] == f"{len(lines) - 1} problems in 1 file"
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["team.csv"]


def test_import_never_overwrites_without_force(cli: Callable[..., Any], tmp_path: Path) -> None:
    sheet = tmp_path / "team.xlsx"
    sheet.write_bytes(workbook({"A1": "id", "B1": "stage", "A2": "a", "B2": "s"}))
    out = tmp_path / "team.yaml"
    out.write_text("mine\n")
    done = cli("import", "xlsx", sheet, "-o", out)
    assert done.returncode == 2
    assert f"{out} exists already; give --force to overwrite it" in done.stderr
    assert out.read_text() == "mine\n"
    # With --force, a bad sheet still leaves the file as it was.
    sheet.write_bytes(workbook({"A1": "id", "B1": "stage", "A2": "a", "B2": "not a stage"}))
    done = cli("import", "xlsx", sheet, "-o", out, "--force")
    assert done.returncode == 1
    assert f"{sheet}:2:2: 'not a stage' is not a valid id" in done.stderr
    assert out.read_text() == "mine\n"
    sheet.write_bytes(workbook({"A1": "id", "B1": "stage", "A2": "a", "B2": "s"}))
    done = cli("import", "xlsx", sheet, "-o", out, "--force")
    assert done.returncode == 0, done.stderr
    assert load(out).journey == "team"
    done = cli("import", "xlsx", sheet, "-o", tmp_path / "team.json")
    assert done.returncode == 2 and "name the output *.yaml" in done.stderr
    done = cli("import", "xlsx", sheet, "-o", tmp_path / "t.yaml", "--journey", "Not A Slug")
    assert done.returncode == 2 and "is no journey id" in done.stderr


def test_a_zip_bomb_through_the_cli(cli: Callable[..., Any], tmp_path: Path) -> None:
    sheet = tmp_path / "bomb.xlsx"
    sheet.write_bytes(zip_of({"xl/worksheets/sheet1.xml": b"<" * (20 * 2**20)}))
    done = cli("import", "xlsx", sheet, "-o", tmp_path / "out.yaml")
    assert done.returncode == 1
    assert done.stderr.startswith(f"{sheet}:1:1: xl/worksheets/sheet1.xml unpacks to ")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out.yaml").exists()


def test_the_exported_rows_are_json_safe() -> None:
    # Every cell is text, a finite number or nothing: what both writers can hold.
    for row in inventory_rows([load(p) for p in EXAMPLES]):
        json.dumps(row, allow_nan=False)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_entry_volumes_and_compound_waits_survive_a_round_trip(fmt: str) -> None:
    j = loads(
        "journey: x\nstages: [s]\ntouchpoints:\n"
        "  - {id: a, stage: s, volume: 100, next: [{to: b, volume: 80, wait: 3d 4h 12m 5s}]}\n"
        "  - {id: c, stage: s, next: [b]}\n"
        "  - {id: b, stage: s, duration: 1h 30m, next: [ok]}\n"
        "outcomes: [{id: ok, result: success}]\n"
        "entries: [{id: a, volume: 916}, c]\n",
        "j.yaml",
    )
    back = from_bytes(to_bytes([j], fmt), fmt)
    assert journey_data(back) == journey_data(j)
    assert journey_data(back)["entries"] == [{"id": "a", "volume": 916}, "c"]


def test_an_entry_takes_only_a_volume() -> None:
    raw = to_bytes(
        [loads("journey: x\nstages: [s]\ntouchpoints:\n  - {id: a, stage: s}\n", "j")], "csv"
    )
    rows = csv_rows(raw)
    rows[0]["next"] = "a (wait=2d)"
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    with pytest.raises(JourneyError) as exc:
        from_bytes(out.getvalue().encode(), "csv")
    assert problems_of(exc) == [
        (
            2,
            col("next"),
            "next of the journey row (its entries): an entry takes only a volume"
            " (how many start there), not wait",
        )
    ]
