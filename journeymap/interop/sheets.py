"""The touchpoint inventory as rows of a spreadsheet, and a journey from such rows.

Pure: rows of cells in, rows of cells out. The bytes of CSV and XLSX files are
:mod:`journeymap.interop.sheetfiles`; the CLI reads and writes the files.

The sheet (the README's "The touchpoint inventory as a spreadsheet" is the
user's version of this):

- One row per journey, stage, touchpoint and outcome, told apart by ``type``
  (``journey | stage | touchpoint | outcome``; blank is ``touchpoint``), in the
  journey's order: the order of the stage rows is the order of the stages.
  ``journey`` names the journey of each row, so one sheet holds a folder.
- Columns are the model's fields, named as in a journey file. ``importance`` is
  two columns; a stage row names its stage in ``stage``; the journey row carries
  the journey's title, description, ``kind`` and persona, and in ``next`` its
  declared ``entries``.
- Lists of texts (``pain_points``, ``opportunities``, ``tags``, ``asks``) hold
  one item per line; ``knows`` and the entries are ids separated by commas.
- ``next``: one transition per line (or commas between them): the id that
  follows, then, in brackets, what is known of it, ``review-site
  (probability=0.3, wait=2d, label="reads reviews")``; ``volume=1500``;
  ``30%`` for a probability. Plain ids (``apply, review-site``) work.
- Text is taken exactly as written. A text that is empty or only spaces, or
  that starts with ``"``, is written in double quotes with ``""`` for a quote
  inside (as CSV does), and so is a list item with a line break in it.
- ``reach``, ``drop_off`` and ``findings`` are the analysis, for reading:
  ignored on import.

Import reports every problem at its sheet row and column, through the loader's
own checks (a cell stands where a line of a journey file would), and refuses
what a journey cannot hold: unknown columns, formulas, cells a row of that type
has no place for.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from functools import partial
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

import yaml

from ..errors import JourneyError, Problem, UsageError, did_you_mean
from ..loader import gc_paused
from ..model import Journey, slug

if TYPE_CHECKING:
    from ..analysis import Analysis

__all__ = [
    "ALLOWED",
    "ANALYSIS_COLUMNS",
    "COLUMNS",
    "TYPES",
    "Cell",
    "CellError",
    "Formula",
    "Table",
    "gc_paused",
    "inventory_rows",
    "journey_from_table",
    "list_cell",
    "next_cell",
    "number_text",
    "parse_next",
    "quote",
    "read_list",
    "read_text",
    "text_cell",
    "unguard",
]

#: What an exported cell holds: text, a number, or nothing.
Cell = str | int | float | None

#: The columns of the inventory, in the order they are written.
COLUMNS: tuple[str, ...] = (
    "journey",
    "type",
    "stage",
    "id",
    "title",
    "channel",
    "owner",
    "initiative",
    "interaction",
    "layer",
    "volume",
    "frequency",
    "duration",
    "importance_customer",
    "importance_company",
    "quality",
    "emotion",
    "next",
    "result",
    "description",
    "when",
    "why",
    "pain_points",
    "opportunities",
    "tags",
    "asks",
    "knows",
    "kind",
    "persona",
    "persona_description",
    "reach",
    "drop_off",
    "findings",
)
#: Written for reading, ignored on import: they are what the analysis says.
ANALYSIS_COLUMNS = frozenset({"reach", "drop_off", "findings"})

TYPES = ("journey", "stage", "touchpoint", "outcome")
_TEXT = frozenset(
    {"title", "description", "channel", "owner", "when", "why", "frequency", "duration"}
    | {"persona", "persona_description"}
)
_TEXTS = ("pain_points", "opportunities", "tags", "asks")
_CHOICES = frozenset({"interaction", "layer", "initiative", "result", "kind"})
_INTEGERS = frozenset({"importance_customer", "importance_company", "quality"})
_NUMBERS = frozenset({"volume", "emotion"}) | _INTEGERS
#: What each type of row may hold besides ``journey``, ``type`` and the analysis.
ALLOWED: dict[str, frozenset[str]] = {
    "journey": frozenset(
        {"title", "description", "kind", "persona", "persona_description", "next"}
    ),
    "stage": frozenset({"stage", "title", "description"}),
    "touchpoint": frozenset(
        set(COLUMNS)
        - ANALYSIS_COLUMNS
        - {"journey", "type", "result", "kind", "persona", "persona_description"}
    ),
    "outcome": frozenset({"id", "title", "description", "result"}),
}
# Rules whose subject is a stage, and the one whose subject is the journey: the
# others name a touchpoint or an outcome (or, where no node has that id, the journey).
_STAGE_RULES = frozenset({"empty-stage", "no-proactive-touch", "slow-stage"})
_JOURNEY_RULES = frozenset({"overlooked"})

# The characters the loader refuses in a journey file (C0 and C1 controls but
# tab and line breaks, lone surrogates): a cell must not smuggle them in either.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_QUOTED = re.compile(r'"((?:[^"]|"")*)"')
_IDS = re.compile(r"[\s,;]+")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
_INTEGER = re.compile(r"[-+]?\d+")
_DECIMAL_COMMA = re.compile(r"[-+]?\d+,\d+")
_ID_CHARS = re.compile(r"[^(),;\n]*")
_KEY = re.compile(r"([A-Za-z_]+)[ \t]*[=:]")  # probability=, p:, wait =
_COMMA_DECIMALS = re.compile(r",\d+\s*(?:[,)]|$)")  # the ,3 of probability=0,3
_GUARDED = re.compile(r"'+[=+\-@\t\r]")
_DURATION = re.compile(r"\d+(?:\.\d+)?\s*[smhdw]")
_PERCENT = re.compile(r"(" + _NUMBER.pattern + r")\s*%")


@dataclass(frozen=True)
class Formula:
    """A spreadsheet cell that holds a formula: refused, never evaluated."""


@dataclass(frozen=True)
class CellError:
    """A spreadsheet cell that holds an error value such as ``#DIV/0!``."""

    code: str


@dataclass
class Table:
    """The cells of one sheet, as a reader found them.

    ``rows`` are ``(row, {column: value})`` with 1-based sheet numbers and only
    the cells that hold something; values are text, numbers, booleans, dates,
    :class:`Formula` or :class:`CellError`.
    """

    source: str
    rows: list[tuple[int, dict[int, Any]]]


# --- cells: text, lists, numbers ------------------------------------------------


def quote(text: str) -> str:
    """``text`` in double quotes, with ``""`` for a quote inside."""
    return '"' + text.replace('"', '""') + '"'


def text_cell(text: str) -> str:
    """A text as a cell that reads back as exactly that text.

    A blank cell means "not given", so an empty or blank text is quoted; so is
    one that starts with a quote, which would otherwise read as quoted.
    """
    return quote(text) if not text.strip() or text.startswith('"') else text


def list_cell(items: Iterable[str]) -> str:
    """Texts one per line; an item a line cannot hold as it is, quoted."""
    return "\n".join(
        quote(i) if not i.strip() or i.startswith('"') or "\n" in i or "\r" in i else i
        for i in items
    )


def number_text(value: float) -> str:
    """A number as the shortest text that reads back as the same float."""
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def read_text(cell: str) -> str:
    """The text a cell holds: quoted text unquoted, anything else as written."""
    match = _QUOTED.fullmatch(cell)
    return match.group(1).replace('""', '"') if match else cell


def read_list(cell: str) -> list[str]:
    """The items of a list cell: one per line, blank lines skipped, quoted ones unquoted."""
    items: list[str] = []
    at, end = 0, len(cell)
    while at < end:
        if cell.startswith('"', at):
            match = _QUOTED.match(cell, at)
            if match is not None:
                after = match.end()
                if after == end or cell.startswith("\n", after) or cell.startswith("\r\n", after):
                    items.append(match.group(1).replace('""', '"'))
                    at = after + (2 if cell.startswith("\r\n", after) else 1)
                    continue
        stop = cell.find("\n", at)
        stop = end if stop < 0 else stop
        line = cell[at:stop].removesuffix("\r")
        if line.strip():
            items.append(line)
        at = stop + 1
    return items


def _number(text: str) -> int | float | None:
    text = text.strip()
    if _DECIMAL_COMMA.fullmatch(text):  # 0,5 from a spreadsheet in a comma-decimal locale
        text = text.replace(",", ".")
    if _INTEGER.fullmatch(text):
        return int(text)
    if _NUMBER.fullmatch(text) or text.lower().lstrip("+-") in ("inf", "infinity", "nan"):
        return float(text)
    return None


# --- next: transitions in one cell ----------------------------------------------


class _Syntax(Exception):
    def __init__(self, at: int, message: str) -> None:
        super().__init__(message)
        self.at = at
        self.message = message


_PARTS = ("probability", "volume", "wait", "label")
_SHORT = {"p": "probability", "v": "volume"}


def next_cell(transitions: Iterable[Any]) -> str:
    """Transitions one per line: ``to (probability=0.3, wait=2d, label="...")``."""
    lines = []
    for t in transitions:
        parts = []
        if t.probability is not None:
            parts.append(f"probability={number_text(t.probability)}")
        if t.volume is not None:
            parts.append(f"volume={number_text(t.volume)}")
        if t.wait is not None:
            parts.append(f"wait={t.wait if t.wait == t.wait.strip() else quote(t.wait)}")
        if t.label is not None:
            parts.append(f"label={quote(t.label)}")
        lines.append(f"{t.to} ({', '.join(parts)})" if parts else t.to)
    return "\n".join(lines)


def entries_cell(entries: Iterable[Any]) -> str:
    """The journey row's entries: ids, each with how many start there in brackets."""
    return ", ".join(
        e.id if e.volume is None else f"{e.id} (volume={number_text(e.volume)})" for e in entries
    )


def parse_entries(cell: str) -> list[Any]:
    """The entries of a journey row's ``next`` cell: ids, or {id, volume}."""
    found: list[Any] = []
    for t in parse_next(cell):
        extra = sorted(set(t) - {"to", "volume"})
        if extra:
            raise ValueError(
                f"an entry takes only a volume (how many start there), not {', '.join(extra)}"
            )
        found.append({"id": t["to"], "volume": t["volume"]} if "volume" in t else t["to"])
    return found


def parse_next(cell: str) -> list[dict[str, Any]]:
    """The transitions of a ``next`` cell; ValueError says what is wrong and where.

    Ids are taken as written (the loader checks them, with a "did you mean"); the
    parts in brackets are checked here, as only here is their syntax known.
    """
    try:
        return _Next(cell).transitions()
    except _Syntax as exc:
        raise ValueError(f"{exc.message} (at character {exc.at + 1} of the cell)") from None


class _Next:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def _space(self) -> None:
        while self.at < len(self.text) and self.text[self.at] in " \t":
            self.at += 1

    def _peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def transitions(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        text = self.text
        while True:
            while self.at < len(text) and text[self.at] in " \t\r\n,;":
                self.at += 1
            if self.at >= len(text):
                return found
            start = self.at
            match = _ID_CHARS.match(text, self.at)
            assert match is not None  # the pattern matches the empty string
            to = match.group().strip()
            self.at = match.end()
            if not to:
                raise _Syntax(start, "expected the id of a touchpoint or outcome before '('")
            transition: dict[str, Any] = {"to": to}
            if self._peek() == "(":
                self.at += 1
                self._parts(transition)
            self._space()
            if self._peek() not in ("", ",", ";", "\n", "\r"):
                raise _Syntax(
                    self.at,
                    f"expected a comma or a line break after the transition to '{to}',"
                    f" got {self._peek()!r}",
                )
            found.append(transition)

    def _parts(self, transition: dict[str, Any]) -> None:
        while True:
            self._space()
            if self._peek() == ")":
                self.at += 1
                return
            at = self.at
            key, value = self._part()
            if key in transition:
                raise _Syntax(
                    at, f"{key} is given twice for the transition to '{transition['to']}'"
                )
            transition[key] = value
            self._space()
            if self._peek() == ",":
                self.at += 1
            elif self._peek() == ")":
                self.at += 1
                return
            else:
                got = repr(self._peek()) if self._peek() else "the end of the cell"
                raise _Syntax(self.at, f"expected ',' or ')' in the brackets, got {got}")

    def _quoted(self) -> str:
        match = _QUOTED.match(self.text, self.at)
        if match is None:
            raise _Syntax(self.at, 'a quote that is never closed: end the label with "')
        self.at = match.end()
        return match.group(1).replace('""', '"')

    def _bare(self) -> str:
        start = self.at
        while self.at < len(self.text) and self.text[self.at] not in ",)\n":
            self.at += 1
        return self.text[start : self.at].strip()

    def _part(self) -> tuple[str, Any]:
        at = self.at
        if self._peek() == '"':
            return "label", self._quoted()
        key = _KEY.match(self.text, self.at)
        if key is None:
            bare = self._bare()
            if (percent := _PERCENT.fullmatch(bare)) is not None:
                return "probability", float(Decimal(percent.group(1)) / 100)
            if _DURATION.fullmatch(bare):
                return "wait", bare
            raise _Syntax(
                at,
                f"{bare!r} is not a part of a transition: write probability=0.3 (or 30%),"
                ' volume=120, wait=2d or label="..."',
            )
        name = key.group(1).lower()
        name = _SHORT.get(name, name)
        if name not in _PARTS:
            raise _Syntax(
                at,
                f"unknown part '{key.group(1)}'{did_you_mean(name, _PARTS)}: a transition has"
                " probability, volume, wait and label",
            )
        self.at = key.end()
        self._space()
        value_at = self.at
        if self._peek() == '"':
            text = self._quoted()
            if name == "label" or name == "wait":
                return name, text
            raise _Syntax(value_at, f"{name} is a number: write it without quotes")
        if name in ("label", "wait"):
            value = self._bare()
            if not value:
                raise _Syntax(value_at, f"{name}= is empty")
            return name, value
        raw = self._bare()
        if _INTEGER.fullmatch(raw) and _COMMA_DECIMALS.match(self.text, self.at):
            raise _Syntax(
                self.at, f"{name}: write decimals with a point (0.3), not a comma, in next"
            )
        if name == "probability" and (percent := _PERCENT.fullmatch(raw)) is not None:
            return name, float(Decimal(percent.group(1)) / 100)
        number = _number(raw)
        if number is None or _DECIMAL_COMMA.fullmatch(raw):
            like = "0.3 or 30%" if name == "probability" else "120"
            raise _Syntax(value_at, f"{name}: expected a number like {like}, got {raw!r}")
        return name, number


# --- export ---------------------------------------------------------------------


def _findings(journey: Journey, analysis: Analysis) -> dict[tuple[str, str], list[str]]:
    """Finding rules by the row they belong to: ``(type, id)``."""
    found: dict[tuple[str, str], list[str]] = {}
    stages = {s.id for s in journey.stages}
    for f in analysis.findings:
        if f.rule in _STAGE_RULES and f.subject in stages:
            key = ("stage", f.subject)
        elif f.rule not in _JOURNEY_RULES and f.subject in journey.nodes:
            key = ("node", f.subject)
        else:
            key = ("journey", "")
        rules = found.setdefault(key, [])
        if f.rule not in rules:
            rules.append(f.rule)
    return found


def _reach(analysis: Analysis) -> list[float | None]:
    """Per node, the expected visits of a customer who starts: the analysis' leaks solve.

    Where no loop brings customers back, that is the share of them who get there.
    """
    visits = analysis.visits
    # Visits overflow only in a loop left at less than 1e-308 a visit: no number to show.
    return [float(round(v, 12)) + 0.0 if math.isfinite(v) else None for v in visits.tolist()]


_AT = {name: i for i, name in enumerate(COLUMNS)}


def _row(journey: str, kind: str, values: dict[str, Cell], rules: list[str] | None) -> list[Cell]:
    """One row of the inventory: text cells written to read back exactly."""
    cells: list[Cell] = [None] * len(COLUMNS)
    cells[_AT["journey"]] = journey
    cells[_AT["type"]] = kind
    for name, value in values.items():
        if value is not None:
            cells[_AT[name]] = (
                text_cell(value) if isinstance(value, str) and name in _TEXT else value
            )
    if rules:
        cells[_AT["findings"]] = ", ".join(rules)
    return cells


def inventory_rows(
    journeys: Sequence[Journey], analyses: Sequence[Analysis] | None = None
) -> list[list[Cell]]:
    """The header and one row per journey, stage, touchpoint and outcome of each journey.

    ``analyses`` are the journeys' analyses, in the same order, where the caller
    has them; they are computed otherwise. Text cells are already written so
    that they read back exactly (see :func:`text_cell`); numbers are numbers.
    """
    from ..analysis import analyze

    rows: list[list[Cell]] = [list(COLUMNS)]
    for n, j in enumerate(journeys):
        # The inventory shows no time quantiles: left out, they are most of the
        # analysis of a small journey (every other figure and finding is the same).
        a = analyses[n] if analyses is not None else analyze(j, quantiles=False)
        reach = _reach(a)
        index = a.flow.index
        findings = _findings(j, a)

        row = partial(_row, j.journey)
        persona = j.persona
        rows.append(
            row(
                "journey",
                {
                    "title": j.title,
                    "description": j.description,
                    "kind": j.kind,
                    "persona": persona.name if persona else None,
                    "persona_description": persona.description if persona else None,
                    "next": entries_cell(j.entries) if j.entries is not None else None,
                },
                findings.get(("journey", "")),
            )
        )
        for s in j.stages:
            rows.append(
                row(
                    "stage",
                    {"stage": s.id, "title": s.title, "description": s.description},
                    findings.get(("stage", s.id)),
                )
            )
        for tp in j.touchpoints:
            imp = tp.importance
            cells = row(
                "touchpoint",
                {
                    "stage": tp.stage,
                    "id": tp.id,
                    "title": tp.title,
                    "channel": tp.channel,
                    "owner": tp.owner,
                    "initiative": tp.initiative,
                    "interaction": tp.interaction,
                    "layer": tp.layer,
                    "volume": tp.volume,
                    "frequency": tp.frequency,
                    "duration": tp.duration,
                    "importance_customer": imp.customer if imp else None,
                    "importance_company": imp.company if imp else None,
                    "quality": tp.quality,
                    "emotion": tp.emotion,
                    "next": next_cell(tp.next) or None,
                    "description": tp.description,
                    "when": tp.when,
                    "why": tp.why,
                    **{name: list_cell(getattr(tp, name)) or None for name in _TEXTS},
                    "knows": ", ".join(tp.knows) or None,
                    "reach": reach[index[tp.id]],
                    "drop_off": float(a.drop_off.get(tp.id, 0.0)),
                },
                findings.get(("node", tp.id)),
            )
            rows.append(cells)
        for o in j.outcomes:
            rows.append(
                row(
                    "outcome",
                    {
                        "id": o.id,
                        "title": o.title,
                        "description": o.description,
                        "result": o.result,
                        "reach": reach[index[o.id]],
                    },
                    findings.get(("node", o.id)),
                )
            )
    return rows


# --- import ---------------------------------------------------------------------


def _column_name(value: Any) -> str:
    """``Pain points``, ``pain-points`` and ``PAIN_POINTS`` all name ``pain_points``."""
    return re.sub(r"[^a-z0-9]+", "_", str(value).strip().lower()).strip("_")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _as_text(value: Any) -> str:
    """What a non-text cell reads as where text is expected (Excel turns 5 into a number)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return number_text(value)
    if isinstance(value, datetime) and value.time() == time(0):
        return value.date().isoformat()
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def _mark(source: str, row: int, column: int) -> yaml.Mark:
    return yaml.Mark(source, 0, row - 1, column - 1, None, 0)


class _Builder:
    """Journey data from the rows of one journey, with a node tree of where each value is.

    The tree stands where the loader keeps a journey file's YAML nodes: the
    loader places each problem at the node of its path, so here at its cell.
    Every column of the header gets a node in every row, given or not, so that
    "missing required key 'stage'" points at the empty stage cell.
    """

    def __init__(self, source: str, columns: dict[str, int], *, guarded: bool) -> None:
        self.source = source
        self.columns = columns
        self.guarded = guarded
        self.problems: list[Problem] = []
        self.data: dict[str, Any] = {"stages": [], "touchpoints": [], "outcomes": []}
        self.nodes: dict[str, list[yaml.Node]] = {"stages": [], "touchpoints": [], "outcomes": []}
        self.top: dict[str, yaml.Node] = {}
        self.journey_row: int | None = None

    # where things are

    def problem(self, row: int, name: str, message: str) -> None:
        self.problems.append(Problem(self.source, row, self.columns.get(name, 1), message))

    def scalar(self, row: int, name: str) -> yaml.ScalarNode:
        mark = _mark(self.source, row, self.columns.get(name, 1))
        return yaml.ScalarNode("tag:yaml.org,2002:str", "", mark, mark)

    def mapping(self, row: int, name: str, items: dict[str, yaml.Node]) -> yaml.MappingNode:
        mark = _mark(self.source, row, self.columns.get(name, 1))
        # A key stands where its value does: problems "at the key" are at the cell too.
        keys = [
            (yaml.ScalarNode("tag:yaml.org,2002:str", k, v.start_mark, v.start_mark), v)
            for k, v in items.items()
        ]
        return yaml.MappingNode("tag:yaml.org,2002:map", keys, mark, mark)

    def sequence(self, row: int, name: str, length: int) -> yaml.SequenceNode:
        mark = _mark(self.source, row, self.columns.get(name, 1))
        items: list[yaml.Node] = [self.scalar(row, name) for _ in range(length)]
        return yaml.SequenceNode("tag:yaml.org,2002:seq", items, mark, mark)

    def places(self, row: int, keys: dict[str, str]) -> dict[str, yaml.Node]:
        """A node per key (``{key: column}``) at its cell in ``row``."""
        return {key: self.scalar(row, name) for key, name in keys.items() if name in self.columns}

    # what the cells hold

    def value(self, row: int, name: str, raw: Any) -> Any:
        """The journey value of one cell, or None (with a problem where it is wrong)."""
        if isinstance(raw, Formula):
            self.problem(
                row,
                name,
                f"{name}: a formula; journeymap reads values and never calculates:"
                " replace it with its value (copy, then paste values only)",
            )
            return None
        if isinstance(raw, CellError):
            self.problem(row, name, f"{name}: the error value {raw.code}; write the value instead")
            return None
        if isinstance(raw, str) and self.guarded:
            raw = unguard(raw)
        if name in _NUMBERS:
            if isinstance(raw, bool | date | time):
                self.problem(row, name, f"{name}: expected a number, got {_as_text(raw)!r}")
                return None
            number = _number(raw) if isinstance(raw, str) else raw
            if number is None:
                return raw.strip()  # the loader says what the column expects
            if name in _INTEGERS and isinstance(number, float) and number.is_integer():
                return int(number)
            return number
        text = raw if isinstance(raw, str) else _as_text(raw)
        if (found := _CONTROL.search(text)) is not None:
            self.problem(
                row,
                name,
                f"{name}: control character U+{ord(found.group()):04X} in the cell;"
                " journeys hold text, tabs and line breaks only",
            )
            return None
        if name in _TEXT:
            return read_text(text)
        if name in _TEXTS:
            return read_list(text)
        if name == "knows":
            return [i for i in _IDS.split(text) if i]
        if name in _CHOICES or name == "type":
            return text.strip().lower()
        return text.strip()

    def values(self, row: int, cells: dict[str, Any], kind: str) -> dict[str, Any]:
        """The row's values by column, refusing cells a row of this type has no place for."""
        found: dict[str, Any] = {}
        for name, raw in cells.items():
            if name in ANALYSIS_COLUMNS or name in ("journey", "type"):
                continue
            if name not in ALLOWED[kind]:
                hint = " (or is it a touchpoint? see its type)" if kind != "touchpoint" else ""
                self.problem(row, name, f"a {kind} row has no {name}: leave the cell empty{hint}")
                continue
            value = self.value(row, name, raw)
            if value is not None:
                found[name] = value
        return found

    # one method per type of row

    def add(self, row: int, cells: dict[str, Any]) -> None:
        kind = "touchpoint"
        if "type" in cells:
            kind = str(self.value(row, "type", cells["type"]) or "touchpoint")
            if kind not in TYPES:
                self.problem(
                    row,
                    "type",
                    f"unknown type {kind!r}{did_you_mean(kind, TYPES)}: a row is a"
                    f" {', '.join(TYPES[:-1])} or {TYPES[-1]}",
                )
                return
        values = self.values(row, cells, kind)
        getattr(self, f"_{kind}")(row, values)

    def _journey(self, row: int, values: dict[str, Any]) -> None:
        if self.journey_row is not None:
            self.problem(
                row, "type", f"a second journey row (the first is on row {self.journey_row})"
            )
            return
        self.journey_row = row
        keys = {"title": "title", "description": "description", "kind": "kind"}
        self.top.update(self.places(row, keys))
        self.data.update({k: values[k] for k in keys if k in values})
        persona = {
            key: values[name]
            for key, name in (("name", "persona"), ("description", "persona_description"))
            if name in values
        }
        if persona:
            self.data["persona"] = persona
            where = self.places(row, {"name": "persona", "description": "persona_description"})
            anchor = "persona" if "name" in persona else "persona_description"
            self.top["persona"] = self.mapping(row, anchor, where)
        try:
            entries = parse_entries(values.get("next", ""))
        except ValueError as exc:
            self.problem(row, "next", f"next of the journey row (its entries): {exc}")
            return
        if entries:
            self.data["entries"] = entries
            self.top["entries"] = self.sequence(row, "next", len(entries))

    def _stage(self, row: int, values: dict[str, Any]) -> None:
        if "stage" not in values:
            self.problem(row, "stage", "a stage row names its stage in the stage column")
            return
        keys = {"id": "stage", "title": "title", "description": "description"}
        self.data["stages"].append({k: values[n] for k, n in keys.items() if n in values})
        self.nodes["stages"].append(self.mapping(row, "stage", self.places(row, keys)))

    def _touchpoint(self, row: int, values: dict[str, Any]) -> None:
        names = ALLOWED["touchpoint"] - {"importance_customer", "importance_company"}
        where = self.places(row, {n: n for n in COLUMNS if n in names})
        tp: dict[str, Any] = {}
        importance: dict[str, Any] = {}
        for name in COLUMNS:
            if name not in values:
                continue
            value = values[name]
            if name.startswith("importance_"):
                importance[name.removeprefix("importance_")] = value
                continue
            if name == "next":
                try:
                    value = parse_next(value)
                except ValueError as exc:
                    self.problem(row, "next", f"next: {exc}")
                    continue
            if isinstance(value, list):
                where[name] = self.sequence(row, name, len(value))
            tp[name] = value
        if importance:
            tp["importance"] = importance
            anchor = "importance_customer" if "customer" in importance else "importance_company"
            imp = self.places(
                row, {"customer": "importance_customer", "company": "importance_company"}
            )
            where["importance"] = self.mapping(row, anchor, imp)
        self.data["touchpoints"].append(tp)
        self.nodes["touchpoints"].append(self.mapping(row, "id", where))

    def _outcome(self, row: int, values: dict[str, Any]) -> None:
        keys = {"id": "id", "title": "title", "description": "description", "result": "result"}
        self.data["outcomes"].append({k: values[n] for k, n in keys.items() if n in values})
        self.nodes["outcomes"].append(self.mapping(row, "id", self.places(row, keys)))

    def journey(self, ident: str, first: int) -> tuple[dict[str, Any], yaml.Node]:
        """The journey's data and node tree, once every row is added."""
        data = {"journey": ident, **self.data}
        stages, nodes = data["stages"], self.nodes
        if not stages:
            # A plain inventory without stage rows: its stages in the order they are first used.
            for tp, node in zip(data["touchpoints"], nodes["touchpoints"], strict=True):
                stage = tp.get("stage")
                if isinstance(stage, str) and all(s["id"] != stage for s in stages):
                    stages.append({"id": stage})
                    where = {"id": _keys_of(node).get("stage", node)}
                    nodes["stages"].append(self.mapping(node.start_mark.line + 1, "stage", where))
        if not data["outcomes"]:
            del data["outcomes"]
        top = {"journey": self.scalar(first, "journey"), **self.top}
        for part in ("stages", "touchpoints", "outcomes"):
            mark = _mark(self.source, first, 1)
            top[part] = yaml.SequenceNode("tag:yaml.org,2002:seq", nodes[part], mark, mark)
        return data, self.mapping(first, "journey", top)


def _keys_of(node: yaml.Node) -> dict[str, yaml.Node]:
    return {k.value: v for k, v in node.value} if isinstance(node, yaml.MappingNode) else {}


def unguard(text: str) -> str:
    """Undo the CSV writer's guard against formula injection (see sheetfiles.guard)."""
    return text[1:] if _GUARDED.match(text) else text


def _rows_of(
    table: Table, journey: str | None
) -> tuple[str, list[tuple[int, dict[str, Any]]], dict[str, int], list[Problem]]:
    """The header's columns, the chosen journey's id and rows (by column name)."""
    source = table.source
    problems: list[Problem] = []
    header_at = next(
        (
            i
            for i, (_, cells) in enumerate(table.rows)
            if any(not _blank(v) for v in cells.values())
        ),
        None,
    )
    if header_at is None:
        raise JourneyError(
            [Problem(source, 1, 1, "the sheet is empty: it needs a header row (id, stage, ...)")]
        )
    header_row, header = table.rows[header_at]
    columns: dict[str, int] = {}
    by_number: dict[int, str] = {}
    unnamed: set[int] = set()
    for column, value in sorted(header.items()):
        if _blank(value):
            unnamed.add(column)
            continue
        if not isinstance(value, str):
            value = _as_text(value)
        name = _column_name(value)
        if name in columns:
            problems.append(
                Problem(
                    source,
                    header_row,
                    column,
                    f"column '{value}' is there twice (first in column {columns[name]})",
                )
            )
        elif name in COLUMNS:
            columns[name] = column
            by_number[column] = name
        else:
            problems.append(
                Problem(
                    source,
                    header_row,
                    column,
                    f"unknown column {str(value).strip()!r}{did_you_mean(name, COLUMNS)};"
                    f" the columns are {', '.join(COLUMNS)}",
                )
            )
    for required in ("id", "stage"):
        if required not in columns:
            problems.append(
                Problem(
                    source,
                    header_row,
                    1,
                    f"no `{required}` column: every touchpoint needs its {required}",
                )
            )
    data_rows: list[tuple[int, dict[str, Any]]] = []
    for row, cells in table.rows[header_at + 1 :]:
        named: dict[str, Any] = {}
        for column, value in cells.items():
            if _blank(value):
                continue
            if column in by_number:
                named[by_number[column]] = value
            elif column in unnamed or column not in header:
                problems.append(
                    Problem(source, row, column, "a value in a column without a heading")
                )
        if any(name not in ANALYSIS_COLUMNS for name in named):
            data_rows.append((row, named))

    keys: list[str | None] = []
    for row, named in data_rows:
        value = named.get("journey")
        if isinstance(value, str) and value.strip():
            keys.append(value.strip())
        elif isinstance(value, int) and not isinstance(value, bool):
            keys.append(str(value))
        elif value is None:
            keys.append(None)
        else:
            keys.append("")
            problems.append(
                Problem(source, row, columns["journey"], "journey: expected the journey's id")
            )
    ids = list(dict.fromkeys(k for k in keys if k))
    if journey is not None:
        if ids and journey not in ids:
            raise UsageError(
                f"{source} has no rows of journey '{journey}'; it holds: {', '.join(ids)}"
            )
        chosen = journey
    elif len(ids) > 1:
        raise UsageError(
            f"{source} holds {len(ids)} journeys ({', '.join(ids)}): choose one with --journey"
        )
    elif ids:
        chosen = ids[0]
    else:
        chosen = slug(PurePath(source).stem)
        if not chosen:
            raise UsageError(f"{source}: name the journey with --journey")
    mine: list[tuple[int, dict[str, Any]]] = []
    for (row, named), key in zip(data_rows, keys, strict=True):
        if key is None and len(ids) > 1:
            problems.append(
                Problem(
                    source,
                    row,
                    columns["journey"],
                    f"the journey is blank, and the sheet holds {len(ids)} journeys:"
                    f" write one of {', '.join(ids)}",
                )
            )
        elif key is None or key == chosen:
            mine.append((row, named))
    return chosen, mine, columns, problems


def journey_from_table(
    table: Table, journey: str | None = None, *, guarded: bool = False
) -> Journey:
    """The journey the rows of ``table`` describe, checked like a journey file.

    ``journey`` picks one journey's rows from a sheet of several (UsageError if
    it has none, or if the sheet holds several and none is picked). ``guarded``
    undoes the CSV writer's formula guard. Every problem is reported at once, at
    its sheet row and column.
    """
    with gc_paused():
        return _journey_from_table(table, journey, guarded=guarded)


def _journey_from_table(table: Table, journey: str | None, *, guarded: bool) -> Journey:
    chosen, rows, columns, problems = _rows_of(table, journey)
    b = _Builder(table.source, columns, guarded=guarded)
    b.problems.extend(problems)
    for row, cells in rows:
        b.add(row, cells)
    first = rows[0][0] if rows else 1
    if not b.data["touchpoints"] and not b.problems:
        raise JourneyError(
            [Problem(table.source, first, 1, f"journey '{chosen}' has no touchpoint rows")]
        )
    data, root = b.journey(chosen, first)
    return _validated(table.source, data, root, b.problems)


_ROW_NOTE = re.compile(r" on line (\d+)\)$")


def _validated(source: str, data: dict[str, Any], root: yaml.Node, found: list[Problem]) -> Journey:
    """The loader's checks of ``data``, each problem placed by ``root`` at its cell."""
    from .. import loader

    class Cells(loader._Source):
        """A source whose node tree is the sheet's cells, not a file's YAML."""

        def __init__(self) -> None:
            super().__init__(source, "", "yaml")
            self._root = root
            self._composed = True

    try:
        from ..errors import suggestion_budget

        with suggestion_budget(loader.SUGGESTION_BUDGET):
            return loader._validate(data, Cells(), found)
    except JourneyError as exc:
        raise JourneyError(sorted({_sheet_words(p) for p in exc.problems})) from None


def _sheet_words(p: Problem) -> Problem:
    """A loader message in the words of a sheet: rows, and stage rows for `stages`."""
    message = _ROW_NOTE.sub(r" on row \1)", p.message)
    message = message.replace("is not declared under `stages`", "has no stage row")
    return Problem(p.file, p.line, p.column, message)
