"""The touchpoint inventory as CSV and XLSX bytes, and a sheet from such bytes.

:mod:`journeymap.interop.sheets` turns journeys into rows and rows into a
journey; this module is the file formats around it, and what they need to be
safe with a colleague's file:

- CSV is written as UTF-8 with a byte order mark (without it, Excel on Windows
  reads UTF-8 as its local code page and garbles every accent), comma
  separated, RFC 4180 quoting and CRLF line ends. A text cell that starts with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a ``'`` in front,
  so that no spreadsheet takes it for a formula (``=HYPERLINK(...)`` in a
  title stays text); so does one that already starts with quotes before such a
  character, and import takes exactly one ``'`` off such cells. Reading takes
  UTF-8 (with or without the mark) or UTF-16 with its mark (Excel's "Unicode
  text"), separated by commas, semicolons or tabs, whichever the header row
  uses most.
- XLSX is written by openpyxl with every text as a text cell, never a formula,
  the header row and the first four columns frozen, a filter on the header,
  column widths from the content, and fixed dates in the document and the zip,
  so the same journeys give the same bytes. Carriage returns and text that
  looks like Excel's own ``_x000D_`` escapes are escaped the way Excel does.
- Reading XLSX: a workbook is a zip archive, so before any XML is parsed the
  archive is checked: at most 32 MiB, 1,000 members, 256 MiB unpacked in all,
  no member over 1 MiB that unpacks to more than 200 times its packed size
  (a zip bomb), no encryption, and no DOCTYPE or entity declarations in any
  member. Then openpyxl reads it read-only with the cached values only, and
  its cell parser is used directly, so a sheet that declares a million empty
  rows or a cell in column XFD costs nothing. A formula cell is refused with
  its row and column (its cached value may be stale or missing, and a formula
  is not data the team typed), so is an error value (``#DIV/0!``).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import JourneyError, Problem, UsageError
from .sheets import (
    Cell,
    CellError,
    Formula,
    Table,
    gc_paused,
    inventory_rows,
    journey_from_table,
    number_text,
)

if TYPE_CHECKING:
    from ..model import Journey

__all__ = [
    "CSV_MAX_BYTES",
    "FORMATS",
    "XLSX_MAX_BYTES",
    "csv_bytes",
    "csv_table",
    "guard",
    "import_file",
    "import_sheet",
    "inventory_bytes",
    "read_sheet",
    "xlsx_bytes",
    "xlsx_table",
]

FORMATS = ("csv", "xlsx")
CSV_MAX_BYTES = 32 * 2**20
XLSX_MAX_BYTES = 32 * 2**20
XLSX_MAX_MEMBERS = 1000
XLSX_MAX_UNPACKED = 256 * 2**20
XLSX_MAX_RATIO = 200
# What Excel can hold: text in a cell, rows in a sheet, and the range of its numbers.
EXCEL_MAX_TEXT = 32_767
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
EXCEL_MAX_NUMBER = 9.99999999999999e307
EXCEL_MIN_NUMBER = 2.2250738585072014e-308
# Fixed document and zip dates: no timestamp in the output.
FIXED_DATE = datetime(2000, 1, 1)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
SHEET_TITLE = "touchpoints"
FROZEN = "E2"  # the header row, and journey, type, stage and id

_GUARD = re.compile(r"'*[=+\-@\t\r]")
_EXCEL_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)|\r")
_EXCEL_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")


def guard(text: str) -> str:
    """A CSV cell no spreadsheet takes for a formula: ``'`` before a risky first character."""
    return "'" + text if _GUARD.match(text) else text


# --- CSV ------------------------------------------------------------------------


def csv_bytes(rows: Sequence[Sequence[Cell]]) -> bytes:
    """The rows as CSV: UTF-8 with a byte order mark, RFC 4180, formulas guarded."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(
            ["" if c is None else guard(c) if isinstance(c, str) else number_text(c) for c in row]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _decode(raw: bytes, source: str) -> str:
    if raw.startswith(b"PK\x03\x04"):
        raise JourneyError(
            [
                Problem(
                    source,
                    1,
                    1,
                    "this is an XLSX workbook (a zip archive), not CSV: use journeymap import xlsx",
                )
            ]
        )
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode(encoding, "replace")
        rows = before.count("\n") + 1
        raise JourneyError(
            [
                Problem(
                    source,
                    rows,
                    1,
                    f"not {encoding.removesuffix('-sig').upper()} text (byte"
                    f" 0x{raw[exc.start]:02x}, on line {rows} of the file); save the sheet as"
                    " CSV UTF-8",
                )
            ]
        ) from None


def _delimiter(text: str) -> str:
    """The separator the header row uses most, outside quotes: comma, semicolon or tab."""
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "\r\n":
            break
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts.values())
    return next(d for d in (",", ";", "\t") if counts[d] == best)


def csv_table(raw: bytes, source: str) -> Table:
    """The cells of a CSV file; the rows are its records, 1-based, header included."""
    text = _decode(raw, source)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    rows: list[tuple[int, dict[int, Any]]] = []
    # The module's limit on a field is process-wide: raised for this read only, to what
    # a file may hold at most (an exported list of long pain points passes 128 KiB).
    limit = csv.field_size_limit(CSV_MAX_BYTES)
    try:
        for number, record in enumerate(reader, 1):
            rows.append((number, {c: v for c, v in enumerate(record, 1) if v}))
    except csv.Error as exc:
        row = len(rows) + 1
        raise JourneyError(
            [Problem(source, row, 1, f"not valid CSV in row {row}: {exc}")]
        ) from None
    finally:
        csv.field_size_limit(limit)
    return Table(source, rows)


# --- XLSX -----------------------------------------------------------------------


def _excel_text(text: str) -> str:
    """Text as Excel stores it: a carriage return, and ``_x`` that looks like an escape, escaped."""
    return _EXCEL_ESCAPE.sub(lambda m: "_x000D_" if m.group() == "\r" else "_x005F_", text)


def _from_excel_text(text: str) -> str:
    return _EXCEL_ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), text)


def _longest_line(text: str) -> int:
    return max(len(line) for line in text.split("\n"))


class _ZipFile(zipfile.ZipFile):
    """Every member with the same date and permissions: the same workbook, the same bytes."""

    def writestr(
        self,
        zinfo_or_arcname: str | zipfile.ZipInfo,
        data: Any,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        if isinstance(zinfo_or_arcname, str):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zinfo_or_arcname = info
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)


def xlsx_bytes(rows: Sequence[Sequence[Cell]]) -> bytes:
    """The rows as an XLSX workbook, one sheet named ``touchpoints``.

    Raises JourneyError for what Excel cannot hold (text over 32,767 characters
    in a cell, more than a million rows) rather than write a file it truncates.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    if len(rows) > EXCEL_MAX_ROWS:
        raise JourneyError(
            f"{len(rows) - 1:,} rows do not fit in an Excel sheet (at most"
            f" {EXCEL_MAX_ROWS - 1:,}); write CSV instead"
        )
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_TITLE
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    header = [str(c) for c in rows[0]] if rows else []
    percent = {i for i, name in enumerate(header, 1) if name in ("reach", "drop_off")}
    longest = [len(name) for name in header]  # per column, for its width
    for r, row in enumerate(rows, 1):
        for c, value in enumerate(row, 1):
            if value is None:
                continue
            cell = ws.cell(row=r, column=c)
            if isinstance(value, str):
                if len(value) > EXCEL_MAX_TEXT:
                    named = {k: v for k, v in zip(header, row, strict=False) if v is not None}
                    what = "/".join(str(named[k]) for k in ("journey", "id", "stage") if k in named)
                    raise JourneyError(
                        f"row {r} of the inventory ({what}): {header[c - 1]} holds"
                        f" {len(value):,} characters, and an Excel cell at most"
                        f" {EXCEL_MAX_TEXT:,}: write CSV instead"
                    )
                cell.value = _excel_text(value)
                cell.data_type = "s"  # never a formula, whatever the text starts with
                if "\n" in value:
                    cell.alignment = wrap
                longest[c - 1] = max(longest[c - 1], _longest_line(value))
            elif isinstance(value, float) and not (
                (value == 0 or EXCEL_MIN_NUMBER <= abs(value) <= EXCEL_MAX_NUMBER)
                and float(f"{value:.16g}") == value
            ):
                # Beyond Excel's numbers (1e308, 5e-324), or needing 17 digits where
                # openpyxl writes 16: as text, which import reads back exactly.
                cell.value = number_text(value)
                cell.data_type = "s"
                longest[c - 1] = max(longest[c - 1], len(cell.value))
            else:
                cell.value = value
                if c in percent:
                    cell.number_format = "0.0%"
                longest[c - 1] = max(longest[c - 1], len(number_text(value)))
            if r == 1:
                cell.font = bold
    for c, length in enumerate(longest, 1):
        ws.column_dimensions[get_column_letter(c)].width = float(min(60, max(8, length + 2)))
    if header:
        ws.freeze_panes = FROZEN
        ws.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows)}"
    wb.properties.creator = "journeymap"
    wb.properties.created = FIXED_DATE
    wb.properties.modified = FIXED_DATE
    return _save(wb)


def _save(wb: Any) -> bytes:
    """The workbook's bytes, made in memory (openpyxl's own save stamps the time and
    stages each sheet in a temporary file)."""
    from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
    from openpyxl.worksheet._writer import WorksheetWriter
    from openpyxl.writer.excel import ExcelWriter

    class Writer(ExcelWriter):
        # ExcelWriter.write_worksheet, with the sheet's XML made in memory.
        def write_worksheet(self, ws: Any) -> None:
            ws._drawing = SpreadsheetDrawing()
            ws._drawing.charts = ws._charts
            ws._drawing.images = ws._images
            writer: Any = WorksheetWriter(ws, out=io.BytesIO())
            writer.write()
            ws._rels = writer._rels
            archive: zipfile.ZipFile = getattr(self, "_archive")  # noqa: B009 - not in the stubs
            archive.writestr(ws.path[1:], writer.read())
            self.manifest.append(ws)

    out = io.BytesIO()
    with _ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        Writer(wb, archive).write_data()
    return out.getvalue()


def _refuse(source: str, message: str) -> JourneyError:
    return JourneyError([Problem(source, 1, 1, message)])


def check_archive(raw: bytes, source: str) -> None:
    """Refuse a workbook whose zip archive could exhaust memory or smuggle XML entities."""
    if len(raw) > XLSX_MAX_BYTES:
        raise _refuse(source, f"over {XLSX_MAX_BYTES // 2**20} MiB; workbooks that big are refused")
    not_xlsx = (
        "not an XLSX workbook (not a zip archive): save it from the spreadsheet as an Excel"
        " workbook (.xlsx), without a password"
    )
    if not raw.startswith(b"PK"):
        raise _refuse(source, not_xlsx)
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        raise _refuse(source, not_xlsx) from None
    if len(infos) > XLSX_MAX_MEMBERS:
        raise _refuse(source, f"{len(infos):,} parts in the archive; a workbook has far fewer")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise _refuse(source, "the workbook is encrypted: save it without a password")
        total += info.file_size
        if total > XLSX_MAX_UNPACKED:
            raise _refuse(
                source,
                f"unpacks to over {XLSX_MAX_UNPACKED // 2**20} MiB; workbooks that big are refused",
            )
        if info.file_size > 2**20 and info.file_size > XLSX_MAX_RATIO * max(info.compress_size, 1):
            raise _refuse(
                source,
                f"{info.filename} unpacks to {info.file_size / max(info.compress_size, 1):,.0f}"
                " times its size in the archive: refused as a zip bomb",
            )
    try:
        for info in infos:
            # zipfile never unpacks past a member's declared size, so this is bounded too.
            with archive.open(info) as member:
                tail = b""
                while chunk := member.read(2**20):
                    seen = tail + chunk
                    if b"<!DOCTYPE" in seen or b"<!ENTITY" in seen:
                        raise _refuse(
                            source,
                            f"{info.filename} declares a DOCTYPE or entities, which workbooks"
                            " never need: refused",
                        )
                    tail = chunk[-16:]
    except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError, ValueError):
        raise _refuse(source, "the workbook's archive is damaged: save it again") from None


def xlsx_table(raw: bytes, source: str) -> Table:
    """The cells of a workbook's sheet named ``touchpoints``, or of its first sheet."""
    import warnings

    check_archive(raw, source)
    from openpyxl import load_workbook

    with warnings.catch_warnings():
        # openpyxl warns about parts it skips (data validation, styles): not the user's problem.
        warnings.simplefilter("ignore")
        try:
            wb = load_workbook(io.BytesIO(raw), read_only=True, data_only=True, keep_links=False)
        except Exception as exc:  # openpyxl raises what its parsers raise, for any bad part
            raise _refuse(source, f"not a workbook journeymap can read: {_reason(exc)}") from None
        try:
            sheets = wb.worksheets
            if not sheets:
                raise _refuse(source, "the workbook has no worksheet")
            named = [ws for ws in sheets if ws.title.strip().lower() == SHEET_TITLE]
            ws = named[0] if named else sheets[0]
            try:
                return _cells(wb, ws, source)
            except JourneyError:
                raise
            except Exception as exc:
                raise _refuse(
                    source, f"sheet '{ws.title}' cannot be read: {_reason(exc)}"
                ) from None
        finally:
            wb.close()


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _cells(wb: Any, ws: Any, source: str) -> Table:
    """The sheet's cells as its XML holds them: no empty rows or columns are made up."""
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    class Parser(WorkSheetParser):
        def parse_cell(self, element: Any) -> dict[str, Any]:
            cell: dict[str, Any] = super().parse_cell(element)
            if element.find(FORMULA_TAG) is not None:
                cell["value"] = Formula()
            elif cell["data_type"] == "e":
                cell["value"] = CellError(str(cell["value"]))
            elif isinstance(cell["value"], str):
                cell["value"] = _from_excel_text(cell["value"])
            return cell

    rows: dict[int, dict[int, Any]] = {}
    with ws._get_source() as src:
        parser = Parser(
            src,
            wb.shared_strings,
            data_only=True,
            epoch=wb.epoch,
            date_formats=wb._date_formats,
            timedelta_formats=wb._timedelta_formats,
        )
        for _, cells in parser.parse():
            for cell in cells:
                row, column, value = cell["row"], cell["column"], cell["value"]
                if not (1 <= row <= EXCEL_MAX_ROWS and 1 <= column <= EXCEL_MAX_COLUMNS):
                    raise _refuse(
                        source, f"a cell outside Excel's sheet (row {row}, column {column})"
                    )
                if value is not None:
                    rows.setdefault(row, {})[column] = value
    return Table(source, sorted(rows.items()))


# --- files ----------------------------------------------------------------------


def inventory_bytes(journeys: Sequence[Journey], fmt: str) -> bytes:
    """The inventory of ``journeys`` as a CSV or XLSX file's bytes."""
    rows = inventory_rows(journeys)
    with gc_paused():
        return xlsx_bytes(rows) if fmt == "xlsx" else csv_bytes(rows)


def read_sheet(path: Path, fmt: str) -> Table:
    """The cells of a CSV or XLSX file, read as an untrusted file is (size, kind)."""
    from ..loader import read_regular

    name = str(path)
    limit = XLSX_MAX_BYTES if fmt == "xlsx" else CSV_MAX_BYTES
    try:
        raw = read_regular(path, limit, "spreadsheets")
    except ValueError as exc:
        raise _refuse(name, str(exc)) from None
    return xlsx_table(raw, name) if fmt == "xlsx" else csv_table(raw, name)


def import_sheet(path: Path, fmt: str, journey: str | None = None) -> tuple[Journey, str]:
    """The journey a sheet describes, and its journey file's text (checked: it loads).

    ``journey`` picks one journey of a sheet of several. The CSV writer's
    formula guard is undone for CSV only: an XLSX cell holds its text as it is.
    """
    from .yamlfile import checked, journey_data, journey_yaml

    name = "".join(c if c.isprintable() else "?" for c in path.name)
    with gc_paused():
        table = read_sheet(path, fmt)
        found = journey_from_table(table, journey, guarded=fmt == "csv")
        text = journey_yaml(
            journey_data(found), header=f"Imported from {name} by journeymap import {fmt}."
        )
        return checked(text, str(path)), text


def import_file(
    path: Path, output: Path, fmt: str, *, journey: str | None = None, force: bool = False
) -> tuple[Path, Journey]:
    """Read a sheet and write its journey as a journey file; the file and the journey.

    Nothing is written unless the whole journey loads, and ``output`` is never
    overwritten without ``force``: problems in the sheet raise JourneyError,
    wrong usage UsageError.
    """
    from ..model import SLUG
    from ..output import write_files
    from .yamlfile import check_output

    check_output(output, force)
    if journey is not None and (not re.match(SLUG, journey) or len(journey) > 100):
        raise UsageError(
            f"--journey {journey!r} is no journey id: lowercase letters, digits and '-'"
        )
    found, text = import_sheet(path, fmt, journey)
    return write_files({output: text.encode("utf-8")})[0], found
