"""Mermaid ``journey`` diagrams out of journeys, and journeys out of them.

Mermaid's user-journey diagram (https://mermaid.js.org/syntax/userJourney.html)
is a list of sections of tasks, each task with a score and its actors::

    journey
        title My working day
        section Go to work
          Make tea: 5: Me
          Do work: 1: Me, Cat

A journey maps onto it as stages to sections, touchpoints to tasks (stage by
stage, in file order within a stage), emotion -2..+2 to score 1..5 and owner
to actors. Transitions, branches and outcomes have no place in it; the export
says so in ``%%`` comments. The ids, and the exact emotion where the score
rounds it or stands in for none, ride in ``%% journeymap:`` comments under
their lines, so that export then import gives the same journey back.

How text is written is decided by Mermaid's grammar (``journey.jison``) and by
what it does before parsing, not by taste:

- ``:`` separates name, score and actors, ``,`` actors, ``#`` starts a comment,
  ``;`` is refused, a line break ends a statement, ``%%`` starts a comment or
  (``%%{...}%%``) a directive that reconfigures the renderer, and a line that
  starts with ``journey``, ``title``, ``section`` or ``accDescr {`` (in any
  case) is a keyword, not a task; leading and trailing spaces are dropped.
- Mermaid replaces entity codes ``#NUMBER;`` (and ``#name;``) before it
  parses, and the page shows them as the character: so every such character
  is written as its code (``Call#58; intro``), as are ``<``, ``>`` and ``&``
  (nothing is ever markup) and the two characters of Mermaid's own
  placeholders for codes. Every ``:`` left raw is followed by a space, which
  keeps Mermaid's ``style...:...#...;`` clean-up from eating a code's ``;``.

The importer reads the same grammar back, and refuses what Mermaid refuses or
silently drops (a third ``:`` in a task), each with its line and column.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..errors import JourneyError, Problem, UsageError
from ..model import ID, SLUG, Journey, Touchpoint, slug, title_from_id

__all__ = [
    "MAX_BYTES",
    "default_journey_id",
    "escape",
    "from_mermaid",
    "import_file",
    "to_mermaid",
]

#: Mermaid files over this are refused, like journey files (``loader.MAX_BYTES``).
MAX_BYTES = 32 * 2**20
#: The model's limit on one text (``model.Text``).
_MAX_TEXT = 10_000
#: Mermaid's default ``maxTextSize``: it refuses to draw longer diagrams.
_MERMAID_MAX_TEXT = 50_000

# What JavaScript's trim() and the lexer's \s take for space, and what Python's
# strip() does (a superset but for U+FEFF, added): leading and trailing ones are
# dropped by Mermaid, so the export writes them as codes and the import strips them.
_SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)
# Written as entity codes wherever they appear: Mermaid syntax (# : ; %), markup
# (< > &), Mermaid's placeholders for codes (U+FB02 "ﬂ", U+00B6 "¶"), line breaks,
# control characters and lone surrogates (which no file can hold).
_SPECIAL = "#:;%<>&\ufb02\u00b6\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff"
_ESCAPE = re.compile(f"[{_SPECIAL}]")
_ESCAPE_ACTOR = re.compile(f"[{_SPECIAL},]")
# Task names the lexer would take for a keyword (it matches case-insensitively
# and before task names); ':' never reaches this raw, so accTitle cannot.
_KEYWORD = re.compile(r"journey|title\s|section\s|accdescr\s*\{", re.IGNORECASE)


def _code(match: re.Match[str]) -> str:
    return f"#{ord(match.group())};"


def escape(text: str, *, actor: bool = False, task: bool = False) -> str:
    """``text`` written so that Mermaid reads and shows exactly it, and nothing else.

    Characters that are syntax, markup or line breaks become entity codes
    (``#58;``), so do spaces at either end (Mermaid trims them), and ``,`` in an
    actor's name. A task name that would start with a keyword gets its first
    letter as a code. Everything else, accents and emoji included, stays as it is.
    """
    start, end = 0, len(text)
    while start < end and text[start] in _SPACE:
        start += 1
    while end > start and text[end - 1] in _SPACE:
        end -= 1
    core = (_ESCAPE_ACTOR if actor else _ESCAPE).sub(_code, text[start:end])
    if task and not start and _KEYWORD.match(core):
        core = f"#{ord(core[0])};{core[1:]}"
    head = "".join(f"#{ord(c)};" for c in text[:start])
    tail = "".join(f"#{ord(c)};" for c in text[end:])
    return head + core + tail


def _round_half_up(emotion: float) -> int:
    """The Mermaid score of an emotion: -2..+2 onto 1..5, rounded half up (0.5 is 4)."""
    value = Decimal(repr(float(emotion))) + 3
    return int(value.to_integral_value(rounding="ROUND_HALF_UP"))


def _number(value: float) -> str:
    """``2`` for 2.0, ``0.5`` for 0.5: numbers as a person writes them."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _actors(owner: str) -> list[str]:
    """The actors of an owner: ``Recruiter, Sales`` is two, each name kept exactly.

    Split at ``", "`` only when no part is empty, so that joining the actors
    with ``", "`` on import gives the owner back character for character.
    """
    parts = owner.split(", ")
    return parts if all(parts) else [owner]


def _task(tp: Touchpoint) -> tuple[str, str]:
    """A touchpoint's task line, and its ``journeymap:`` comment."""
    score = 3 if tp.emotion is None else _round_half_up(tp.emotion)
    line = f"{escape(tp.title, task=True)}: {score}"
    if tp.owner:
        line += ": " + ", ".join(escape(a, actor=True) for a in _actors(tp.owner))
    note = f"%% journeymap: touchpoint {tp.id}"
    if tp.emotion is None:
        note += " emotion=none"
    elif tp.emotion != score - 3:
        note += f" emotion={_number(tp.emotion)}"
    return line, note


def _listing(ids: list[str], limit: int = 10) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f" and {len(ids) - limit:,} more" if len(ids) > limit else "")


def _header(journey: Journey) -> list[str]:
    """What the diagram cannot show, said once at the top, in comments.

    Only ids and numbers go into comments: Mermaid reads ``%%{...}%%`` as a
    directive even inside one, and ids cannot hold ``%``.
    """
    tps = journey.touchpoints
    lines = [
        f"%% Journey {journey.journey}, exported by journeymap as a Mermaid journey diagram:",
        "%% stages are sections, touchpoints are tasks (stage by stage, in file order),",
        "%% the score is emotion -2..+2 as 1..5, and the actors are the owner.",
        "%% Mermaid journey diagrams cannot show, so this one leaves out:",
    ]
    transitions = sum(len(tp.next) for tp in tps)
    branches = sum(1 for tp in tps if len(tp.next) > 1)
    if transitions:
        lines.append(
            f"%% - the {transitions:,} transition{'s' * (transitions != 1)} and their"
            f" probabilities, volumes and waits; {branches:,} touchpoint"
            f"{'s' * (branches != 1)} branch{'es' * (branches == 1)} to more than one next step,"
            " while the tasks here simply follow each other"
        )
    if journey.outcomes:
        lines.append(
            f"%% - the {len(journey.outcomes):,} outcome{'s' * (len(journey.outcomes) != 1)}:"
            f" {_listing([o.id for o in journey.outcomes])}"
        )
    if journey.entries is not None:
        lines.append("%% - the entries")
    lines.append(
        "%% - channels, descriptions, volumes, quality, pain points, opportunities and the"
        " other touchpoint details"
    )
    if journey.persona is not None or journey.kind != "other":
        lines.append("%% - the persona and the kind of journey")
    inexact = [tp.id for tp in tps if tp.emotion is None or not float(tp.emotion).is_integer()]
    if inexact:
        lines.append(
            "%% The score rounds emotion (a touchpoint without one shows as 3); the exact"
            " emotion is in the journeymap comment under the task."
        )
    if any(tp.owner and len(_actors(tp.owner)) > 1 for tp in tps):
        lines.append('%% An owner that names several, separated by ", ", is one actor each.')
    lines.append("%% The journeymap comments keep the ids: journeymap import mermaid reads them.")
    return lines


def to_mermaid(journey: Journey) -> str:
    """The journey as the text of a Mermaid ``journey`` diagram (a ``.mmd`` file)."""
    body = ["journey", f"    title {escape(journey.title)}"]
    if journey.description:
        body.append(f"    accDescr: {escape(journey.description)}")
    for stage in journey.stages:
        body.append(f"    section {escape(stage.title)}")
        body.append(f"    %% journeymap: stage {stage.id}")
        for tp in journey.touchpoints_in(stage.id):
            line, note = _task(tp)
            body.append(f"      {line}")
            body.append(f"      {note}")
    head = _header(journey)
    size = sum(len(line) + 1 for line in (*head, *body))
    if size > _MERMAID_MAX_TEXT:
        head.append(
            f"%% This diagram has {size:,} characters: Mermaid draws at most"
            f" {_MERMAID_MAX_TEXT:,} unless its maxTextSize setting is raised."
        )
    return "\n".join((*head, *body)) + "\n"


# Import --------------------------------------------------------------------------------

# The first word of every other kind of Mermaid diagram, as its detector reads it.
_DIAGRAMS = {
    "graph": "flowchart",
    "flowchart": "flowchart",
    "flowchart-elk": "flowchart",
    "sequenceDiagram": "sequence diagram",
    "classDiagram": "class diagram",
    "classDiagram-v2": "class diagram",
    "stateDiagram": "state diagram",
    "stateDiagram-v2": "state diagram",
    "erDiagram": "entity relationship diagram",
    "gantt": "Gantt chart",
    "pie": "pie chart",
    "gitGraph": "Git graph",
    "mindmap": "mindmap",
    "timeline": "timeline",
    "quadrantChart": "quadrant chart",
    "requirementDiagram": "requirement diagram",
    "requirement": "requirement diagram",
    "C4Context": "C4 diagram",
    "C4Container": "C4 diagram",
    "C4Component": "C4 diagram",
    "C4Dynamic": "C4 diagram",
    "C4Deployment": "C4 diagram",
    "sankey": "Sankey diagram",
    "sankey-beta": "Sankey diagram",
    "xychart": "XY chart",
    "xychart-beta": "XY chart",
    "block": "block diagram",
    "block-beta": "block diagram",
    "packet": "packet diagram",
    "packet-beta": "packet diagram",
    "kanban": "Kanban board",
    "architecture": "architecture diagram",
    "architecture-beta": "architecture diagram",
    "radar-beta": "radar chart",
    "treemap": "treemap",
    "treemap-beta": "treemap",
    "zenuml": "ZenUML sequence diagram",
    "info": "info diagram",
}

_LINES = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_WORD = re.compile(r"[A-Za-z0-9_][\w-]*")
# An entity code, or a '#' that is none (a comment starts there), or a ';'.
_MARK = re.compile(r"#[A-Za-z0-9_]+;|[#;]")
_ENTITY = re.compile(r"#([A-Za-z0-9_]+);")
_ACC_TITLE = re.compile(r"acctitle\s*:\s*", re.IGNORECASE)
_ACC_DESCR = re.compile(r"accdescr\s*:\s*", re.IGNORECASE)
_ACC_BLOCK = re.compile(r"accdescr\s*\{\s*", re.IGNORECASE)
_TITLE = re.compile(r"title\s", re.IGNORECASE)
_SECTION = re.compile(r"section\s", re.IGNORECASE)
_SCORE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_NOTE = re.compile(r"%%\s*journeymap:\s*(?P<rest>.*?)\s*$")
_NOTE_ARGS = re.compile(r"(?P<kind>\S+)(?:\s+(?P<id>\S+))?(?:\s+(?P<more>.*))?")
# Mermaid's clean-up before parsing (encodeEntities) drops the ';' ending such a line.
_STYLE = re.compile(r"(?:style|classDef)[^\n\r\u2028\u2029]*:\S*#[^\n\r\u2028\u2029]*;")
_FENCE = re.compile(r"[\t ]*-{3}[\t ]*")
# Mermaid's line break in a name (its lineBreakRegex).
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_FENCE_END = re.compile(r" {0,2}-{3}[\t ]*")
_NO_EMOTION = object()


@dataclass
class _Note:
    """A ``%% journeymap:`` comment: the id (and emotion) of the line above it."""

    line: int
    column: int
    id: str
    emotion: object = None  # a float, _NO_EMOTION (emotion=none), or None (not given)


@dataclass
class _Section:
    line: int
    column: int
    title: str
    note: _Note | None = None


@dataclass
class _Task:
    line: int
    column: int
    title: str
    score: Decimal
    section: int
    actors: list[str]
    note: _Note | None = None


@dataclass
class _Diagram:
    """What a Mermaid journey diagram says, as read, before it becomes a journey."""

    source: str
    title: str | None = None
    acc_title: str | None = None
    description: str | None = None
    sections: list[_Section] = field(default_factory=list)
    tasks: list[_Task] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _Reader:
    """Mermaid's journey grammar, read line by line with every problem's place."""

    def __init__(self, source: str) -> None:
        self.d = _Diagram(source)
        self.problems: list[Problem] = []
        self.start: tuple[int, int] | None = None  # where `journey` is
        self.directive: tuple[int, int] | None = None  # an open %%{ ... }%%
        self.block: list[str] | None = None  # an open accDescr { ... }
        self.block_at = (0, 0)
        self.last: _Section | _Task | None = None

    def problem(self, line: int, column: int, message: str) -> None:
        self.problems.append(Problem(self.d.source, line, column, message))

    def fail(self, line: int, column: int, message: str) -> JourneyError:
        return JourneyError([Problem(self.d.source, line, column, message)])

    def note(self, text: str) -> None:
        if text not in self.d.notes:
            self.d.notes.append(text)

    # Text ------------------------------------------------------------------------------

    def cut(self, line: int, column: int, text: str) -> str | None:
        """``text`` up to a comment: a ``#`` that starts no entity code.

        None when it holds a ``;``, which is refused: the rest of the line says nothing.
        """
        for m in _MARK.finditer(text):
            mark = m.group()
            if mark == "#":
                return text[: m.start()]
            if mark == ";":
                self.problem(
                    line,
                    column + m.start(),
                    "Mermaid refuses ';' in a journey diagram; write #59; for a semicolon",
                )
                return None
        return text

    def text(self, line: int, column: int, raw: str, what: str, *, breaks: bool = False) -> str:
        """``raw`` trimmed as Mermaid trims it, with its entity codes decoded.

        With ``breaks`` (section and task names), ``<br>`` is a line break, as
        Mermaid draws it there.
        """
        lead = len(raw) - len(raw.lstrip(_SPACE))
        core = raw.strip(_SPACE)
        column += lead
        if breaks and "<" in core:
            core = _BR.sub("\n", core)

        def decode(m: re.Match[str]) -> str:
            name = m.group(1)
            at = column + m.start()
            if name.isdigit():
                n = int(name) if len(name) <= 7 else -1
                if not 0 < n <= 0x10FFFF or 0xD800 <= n <= 0xDFFF:
                    self.problem(line, at, f"#{name}; is not the code of a character")
                    return ""
                char = chr(n)
            else:
                from html.entities import html5

                found = html5.get(name + ";")
                if found is None:
                    self.problem(
                        line,
                        at,
                        f"#{name}; is no entity code Mermaid knows; write a character as"
                        " #NUMBER; (#35; for '#', #58; for ':')",
                    )
                    return ""
                char = found
            bad = _CONTROL.search(char)
            if bad:
                self.problem(
                    line,
                    at,
                    f"#{name}; is control character U+{ord(bad.group()):04X}, which no journey"
                    " text may hold",
                )
                return ""
            return char

        value = _ENTITY.sub(decode, core) if "#" in core else core
        if len(value) > _MAX_TEXT:
            self.problem(line, column, f"{what} is {len(value):,} characters; at most 10,000")
        return value

    # Lines -----------------------------------------------------------------------------

    def read(self, text: str) -> _Diagram:
        lines = _LINES.split(text)
        for number, line in enumerate(lines, 1):
            bad = _CONTROL.search(line)
            if bad:
                self.problem(
                    number,
                    bad.start() + 1,
                    f"control character U+{ord(bad.group()):04X} is not allowed",
                )
                line = _CONTROL.sub(" ", line)
            lines[number - 1] = _STYLE.sub(lambda m: m.group()[:-1], line)
        first = self.front_matter(lines)
        for number in range(first, len(lines) + 1):
            self.line(number, 1, lines[number - 1])
        end = len(lines)
        if self.directive is not None:
            self.problem(*self.directive, "this %%{ directive is never closed with }%%")
        if self.block is not None:
            self.problem(*self.block_at, "this accDescr { is never closed with }")
        if self.start is None:
            if not self.problems:
                self.problem(
                    end, 1, "no diagram here: a Mermaid journey diagram starts with `journey`"
                )
        elif not self.d.tasks and not self.problems:
            self.problem(
                *self.start, "the diagram has no tasks; a journey needs at least one touchpoint"
            )
        if self.problems:
            raise JourneyError(sorted(set(self.problems)))
        if self.d.acc_title is not None and self.d.title is None:
            self.d.title = self.d.acc_title
        elif self.d.acc_title not in (None, self.d.title):
            self.note("accTitle, a second title for screen readers, was left out")
        return self.d

    def front_matter(self, lines: list[str]) -> int:
        """Read a ``---`` block at the top (Mermaid's front matter); the first line after it.

        Only its ``title`` means something to a journey; the rest is styling.
        """
        if not _FENCE.fullmatch(lines[0].removeprefix("\ufeff")):
            return 1
        for end in range(1, len(lines)):
            if _FENCE_END.fullmatch(lines[end]):
                break
        else:
            raise self.fail(1, 1, "the front matter that starts here is never closed with ---")
        for number in range(2, end + 1):
            line = lines[number - 1]
            m = re.match(r"title:[\t ]*", line)
            if m is None:
                if line.strip() and not line.lstrip().startswith("#"):
                    self.note("the diagram's styling (front matter, directives) was left out")
                continue
            value = line[m.end() :].rstrip()
            column = m.end() + 1
            if value.startswith('"'):
                try:
                    parsed = json.loads(value)
                except ValueError:
                    parsed = None
                if not isinstance(parsed, str):
                    self.problem(number, column, "write this title plainly, or in a title line")
                    continue
                self.d.title = self.text(number, column, parsed, "the title")
            elif value.startswith("'"):
                if (
                    len(value) < 2
                    or not value.endswith("'")
                    or "'" in value[1:-1].replace("''", "")
                ):
                    self.problem(number, column, "write this title plainly, or in a title line")
                    continue
                self.d.title = self.text(
                    number, column, value[1:-1].replace("''", "'"), "the title"
                )
            else:
                value = re.split(r"\s#", value, maxsplit=1)[0]
                if not value:
                    continue
                if ": " in value or value.endswith(":") or value[:1] in "|>&*![]{}@`%,?-":
                    # YAML would read a mapping, a block, an alias... (Mermaid refuses most).
                    self.problem(number, column, "put this title in quotes, or in a title line")
                    continue
                self.d.title = self.text(number, column, value, "the title")
        return end + 2

    def line(self, number: int, column: int, text: str) -> None:
        if self.directive is not None:
            end = text.find("}%%")
            if end < 0:
                return
            self.directive = None
            column, text = column + end + 3, text[end + 3 :]
        if self.block is not None:
            end = text.find("}")
            if end < 0:
                self.block.append(text)
                return
            self.block.append(text[:end])
            self.description_block()
            column, text = column + end + 1, text[end + 1 :]
        stripped = text.lstrip(_SPACE)
        if not stripped:
            return
        column += len(text) - len(stripped)
        self.statement(number, column, stripped)

    def statement(self, number: int, column: int, text: str) -> None:
        if text.startswith("%%{"):
            # A directive: it configures how Mermaid draws, nothing of the journey.
            self.note("the diagram's styling (front matter, directives) was left out")
            end = text.find("}%%", 3)
            if end < 0:
                self.directive = (number, column)
                return
            self.line(number, column + end + 3, text[end + 3 :])
            return
        if text.startswith("%"):
            # Mermaid's lexer takes even one '%' at the start of a statement for a comment.
            self.comment(number, column, text)
            return
        if self.start is None:
            self.first(number, column, text)
            return
        at = text.find("%%")
        if at >= 0:
            self.problem(
                number,
                column + at,
                "'%%' starts a comment only at the start of a line; write #37; for '%'",
            )
            return
        if text.startswith("#") and not _ENTITY.match(text):
            return  # a comment
        if text[:7].lower() == "journey":
            self.problem(
                number,
                column,
                "Mermaid reads 'journey' at the start of a line as the diagram's keyword again;"
                " write its first letter as an entity code (#106; for 'j', #74; for 'J')",
            )
            return
        if _TITLE.match(text):
            value = self.cut(number, column + 6, text[6:])
            if value is None:
                return
            title = self.text(number, column + 6, value, "the title")
            if not title:
                self.problem(number, column, "this title has no text")
            self.d.title = title
            return
        if m := _ACC_TITLE.match(text) or _ACC_DESCR.match(text):
            what = "accTitle" if m.re is _ACC_TITLE else "accDescr"
            value = self.text(number, column + m.end(), text[m.end() :], what)
            if not value:
                # Mermaid's lexer skips the line break after the ':' and takes the next line.
                self.problem(
                    number, column, f"{what} has no text (Mermaid would take the next line for it)"
                )
            elif what == "accTitle":
                self.d.acc_title = value
            else:
                self.d.description = value
            return
        if m := _ACC_BLOCK.match(text):
            self.block, self.block_at = [], (number, column)
            self.line(number, column + m.end(), text[m.end() :])
            return
        if _SECTION.match(text):
            self.section(number, column, text)
            return
        self.task(number, column, text)

    def first(self, number: int, column: int, text: str) -> None:
        """The first statement: ``journey``, or which other diagram this is."""
        if text.startswith(("```", "~~~")):
            raise self.fail(
                number,
                column,
                "this is a Markdown code block; give the Mermaid diagram inside it"
                " (the lines between the fences)",
            )
        m = _WORD.match(text)
        word = m.group() if m else text.split()[0]
        if word == "journey":
            self.start = (number, column)
            self.line(number, column + 7, text[7:])
            return
        kind = _DIAGRAMS.get(word)
        if kind is not None:
            raise self.fail(
                number, column, f"this is a Mermaid {kind}; only journey diagrams can be imported"
            )
        shown = word[:40] + ("..." if len(word) > 40 else "")
        raise self.fail(
            number,
            column,
            f"this is not a Mermaid journey diagram: it starts with {shown!r}, and a journey"
            " diagram starts with `journey`",
        )

    def comment(self, number: int, column: int, text: str) -> None:
        """A ``%%`` comment: nothing, unless it is one of ours (``%% journeymap: ...``).

        Problems with where it is or how it reads are placed at the comment; one
        with its id or emotion at that.
        """
        m = _NOTE.match(text)
        if m is None:
            return
        rest = column + m.start("rest")
        args = _NOTE_ARGS.fullmatch(m.group("rest"))
        kind = args.group("kind") if args else ""
        if args is None or kind not in ("stage", "touchpoint") or args.group("id") is None:
            self.problem(
                number,
                column,
                "a journeymap comment reads `journeymap: stage ID` under a section, or"
                " `journeymap: touchpoint ID` under a task",
            )
            return
        ident, more = args.group("id"), args.group("more") or ""
        if not re.match(ID, ident) or len(ident) > 200:
            self.problem(number, rest + args.start("id"), f"{ident!r} is no id")
            return
        note = _Note(number, rest + args.start("id"), ident)
        if more:
            e = re.fullmatch(r"emotion=(\S+)", more)
            value = e.group(1) if e and kind == "touchpoint" else None
            if value == "none":
                note.emotion = _NO_EMOTION
            elif value is not None and re.fullmatch(r"-?[0-9]+(?:\.[0-9]+)?(?:e-?[0-9]+)?", value):
                emotion = float(value)
                if not -2 <= emotion <= 2:
                    at = rest + args.start("more") + len("emotion=")
                    self.problem(number, at, f"emotion {value} is outside -2..+2")
                    return
                note.emotion = emotion
            else:
                self.problem(
                    number,
                    rest + args.start("more"),
                    f"{more!r} means nothing here; a touchpoint's comment may end in"
                    " emotion=NUMBER or emotion=none",
                )
                return
        target = self.last
        expected = _Section if kind == "stage" else _Task
        what = "section" if kind == "stage" else "task"
        if not isinstance(target, expected):
            self.problem(number, column, f"this journeymap comment belongs right under a {what}")
        elif target.note is not None:
            self.problem(
                number,
                column,
                f"this journeymap comment follows a {what} that has one already (line"
                f" {target.note.line}); was a line moved without the comment under it?",
            )
        else:
            target.note = note

    def section(self, number: int, column: int, text: str) -> None:
        raw = self.cut(number, column + 8, text[8:])
        if raw is None:
            return
        colon = raw.find(":")
        if colon >= 0:
            self.problem(
                number,
                column + 8 + colon,
                "a section's name cannot hold ':'; write #58; for a colon",
            )
            raw = raw[:colon]
        title = self.text(number, column + 8, raw, "the section's name", breaks=True)
        if not title:
            self.problem(number, column, "this section has no name")
        self.last = _Section(number, column, title)
        self.d.sections.append(self.last)

    def task(self, number: int, column: int, text: str) -> None:
        cut = self.cut(number, column, text)
        if cut is None:
            return
        parts = cut.split(":")
        offsets = [0]
        for part in parts[:-1]:
            offsets.append(offsets[-1] + len(part) + 1)
        name = self.text(number, column, parts[0], "the task's name", breaks=True)
        if not name:
            self.problem(number, column, "a task needs a name before its ':'")
            return
        if len(parts) < 2 or not parts[1].strip(_SPACE):
            self.problem(
                number,
                column + offsets[-1] + len(parts[-1]),
                f"task {name!r} needs a score from 1 to 5: `{name[:40]}: 5: ACTOR, ACTOR`",
            )
            return
        if len(parts) > 3:
            self.problem(
                number,
                column + offsets[3] - 1,
                "a task has a name, a score and actors: Mermaid drops what follows a third ':';"
                " write #58; for a colon",
            )
            return
        raw = parts[1].strip(_SPACE)
        at = column + offsets[1] + len(parts[1]) - len(parts[1].lstrip(_SPACE))
        if not _SCORE.fullmatch(raw) or not 1 <= Decimal(raw) <= 5:
            self.problem(
                number,
                at,
                f"score {raw[:40]!r} is not a number from 1 to 5 (emotion -2 to +2 as journeymap"
                " reads it)",
            )
            return
        actors: list[str] = []
        if len(parts) == 3:
            start = column + offsets[2]
            for piece in parts[2].split(","):
                actor = self.text(number, start, piece, "an actor's name")
                if actor:
                    actors.append(actor)
                start += len(piece) + 1
        if len(", ".join(actors)) > _MAX_TEXT:
            self.problem(
                number, column + offsets[2], "the actors make an owner over 10,000 characters"
            )
        if not self.d.sections:
            self.problem(
                number,
                column,
                "a task before the first section: every touchpoint belongs to a stage, so add"
                " a `section NAME` line above it",
            )
            return
        self.last = _Task(number, column, name, Decimal(raw), len(self.d.sections) - 1, actors)
        self.d.tasks.append(self.last)

    def description_block(self) -> None:
        """``accDescr { ... }``: trimmed, and each line's indent dropped, as Mermaid does."""
        assert self.block is not None
        text = "\n".join(self.block).strip(_SPACE)
        text = re.sub(r"\n[" + _SPACE + "]+", "\n", text)
        self.d.description = self.text(*self.block_at, text, "accDescr")
        self.block = None


def _read(text: str, source: str) -> _Diagram:
    return _Reader(source).read(text.removeprefix("\ufeff"))


def _ids(items: Iterable[tuple[_Note | None, str]], fallback: str) -> list[str]:
    """An id for each item: its comment's, or a slug of its title, unique and stable.

    Ids from comments are taken first (two the same are refused by the caller),
    then each other item gets the slug of its title, ``-2``, ``-3``... where
    that is taken: the same file always gives the same ids.
    """
    listed = list(items)
    used = {note.id for note, _ in listed if note is not None}
    # The last number tried for each slug: a thousand tasks of one name cost a
    # thousand steps, not half a million.
    tried: dict[str, int] = {}
    ids: list[str] = []
    for note, title in listed:
        if note is not None:
            ids.append(note.id)
            continue
        base = slug(title) or fallback
        ident, n = base, tried.get(base, 1)
        if n > 1:
            ident = f"{base[: 200 - len(str(n)) - 1]}-{n}"
        while ident in used:
            n += 1
            ident = f"{base[: 200 - len(str(n)) - 1]}-{n}"
        tried[base] = n
        used.add(ident)
        ids.append(ident)
    return ids


def _duplicates(d: _Diagram) -> list[Problem]:
    found: list[Problem] = []
    for kind, items in (("stage", d.sections), ("touchpoint", d.tasks)):
        seen: dict[str, int] = {}
        for item in items:
            note = item.note
            if note is None:
                continue
            if note.id in seen:
                found.append(
                    Problem(
                        d.source,
                        note.line,
                        note.column,
                        f"{kind} id {note.id!r} is given twice (first on line {seen[note.id]})",
                    )
                )
            else:
                seen[note.id] = note.line
    return found


def _journey(d: _Diagram, journey_id: str) -> dict[str, Any]:
    duplicates = _duplicates(d)
    if duplicates:
        raise JourneyError(duplicates)
    stage_ids = _ids(((s.note, s.title) for s in d.sections), "stage")
    tp_ids = _ids(((t.note, t.title) for t in d.tasks), "touchpoint")
    data: dict[str, Any] = {"journey": journey_id}
    if d.title is not None and d.title != title_from_id(journey_id) + " journey":
        data["title"] = d.title
    if d.description:
        data["description"] = d.description
    stages: list[dict[str, Any]] = []
    for ident, section in zip(stage_ids, d.sections, strict=True):
        stage: dict[str, Any] = {"id": ident}
        if section.title != title_from_id(ident):
            stage["title"] = section.title
        stages.append(stage)
    data["stages"] = stages
    touchpoints: list[dict[str, Any]] = []
    for k, (ident, task) in enumerate(zip(tp_ids, d.tasks, strict=True)):
        tp: dict[str, Any] = {"id": ident}
        if task.title != title_from_id(ident):
            tp["title"] = task.title
        tp["stage"] = stage_ids[task.section]
        if task.actors:
            tp["owner"] = ", ".join(task.actors)
        emotion: float | None = float(task.score - 3)
        note = task.note
        if note is not None and note.emotion is _NO_EMOTION and task.score == 3:
            emotion = None
        elif (
            note is not None
            and isinstance(note.emotion, float)
            and _round_half_up(note.emotion) == task.score
        ):
            emotion = note.emotion
        if emotion is not None:
            tp["emotion"] = int(emotion) if emotion.is_integer() else emotion
        if k + 1 < len(tp_ids):
            tp["next"] = [tp_ids[k + 1]]
        touchpoints.append(tp)
    data["touchpoints"] = touchpoints
    return data


def from_mermaid(text: str, source: str = "<mermaid>", *, journey_id: str) -> dict[str, Any]:
    """The journey data a Mermaid ``journey`` diagram holds, for :func:`journey_yaml`.

    Sections become stages, tasks touchpoints in order (each one's ``next`` is
    the task after it), the score emotion (score - 3), the actors the owner
    (joined with ``", "``). ``%% journeymap:`` comments give back ids and exact
    emotions; other stages and touchpoints get ids from their titles. Every
    problem is raised at once as JourneyError, each with its line and column;
    another kind of diagram is refused naming what it is.
    """
    if not re.match(SLUG, journey_id) or len(journey_id) > 100:
        raise UsageError(f"{journey_id!r} is no journey id: lowercase letters, digits and '-'")
    return _journey(_read(text, source), journey_id)


def default_journey_id(path: str | Path) -> str:
    """The id a journey imported from ``path`` gets: the slug of its file name."""
    return slug(Path(path).stem)[:100].strip("-") or "journey"


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


def _decoded(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", "replace")
        lines = _LINES.split(before)
        raise JourneyError(
            [
                Problem(
                    name,
                    len(lines),
                    len(lines[-1]) + 1,
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
                )
            ]
        ) from None


def import_file(
    path: str | Path, output: str | Path, *, journey_id: str | None = None, force: bool = False
) -> Path:
    """Read a Mermaid journey diagram and write it as a journey file; the file written.

    Nothing is written unless the whole journey loads (and ``output`` is never
    overwritten without ``force``): problems in the diagram raise JourneyError,
    wrong usage UsageError.
    """
    from ..loader import read_regular
    from ..output import write_files
    from .yamlfile import check_output, checked, journey_yaml

    name, out = str(path), Path(output)
    check_output(out, force)
    ident = default_journey_id(path) if journey_id is None else journey_id
    if not re.match(SLUG, ident) or len(ident) > 100:
        raise UsageError(f"--journey {ident!r} is no journey id: lowercase letters, digits and '-'")
    try:
        raw = read_regular(path, MAX_BYTES, "Mermaid diagrams")
    except ValueError as exc:
        raise JourneyError([Problem(name, 1, 1, str(exc))]) from None
    diagram = _read(_decoded(raw, name), name)
    data = _journey(diagram, ident)
    header = [
        f"Imported from the Mermaid journey diagram {_printable(Path(name).name)}"
        " by journeymap import mermaid.",
        *(f"Note: {n}." for n in diagram.notes),
    ]
    text = journey_yaml(data, header="\n".join(header))
    checked(text, name)
    return write_files({out: text.encode("utf-8")})[0]
