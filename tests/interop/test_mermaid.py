"""Mermaid ``journey`` diagrams, out and in (issue #13).

The importer is checked on the examples of Mermaid's own documentation and
parser tests, verbatim; the export on text that Mermaid's grammar would take
for syntax; and both together by round trips of the example journeys and of
generated ones with hostile text, compared as journey data.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from journeymap.errors import JourneyError, UsageError
from journeymap.interop import checked, journey_yaml, mermaid
from journeymap.interop.mermaid import (
    default_journey_id,
    escape,
    from_mermaid,
    import_file,
    to_mermaid,
)
from journeymap.loader import load, loads
from journeymap.model import Journey
from journeymap.rendering import render, render_files
from tests.conftest import EXAMPLES

Cli = Callable[..., Any]

# Mermaid's documentation (docs/syntax/userJourney.md), verbatim.
DOCS_EXAMPLE = """\
journey
    title My working day
    section Go to work
      Make tea: 5: Me
      Go upstairs: 3: Me
      Do work: 1: Me, Cat
    section Go home
      Go downstairs: 5: Me
      Sit down: 5: Me
"""

# Mermaid's parser tests (user-journey/parser/journey.spec), verbatim.
SPEC_TASKS = (
    "journey\n"
    "title Adding journey diagram functionality to mermaid\n"
    "section Documentation\n"
    "A task: 5: Alice, Bob, Charlie\n"
    "B task: 3:Bob, Charlie\n"
    "C task: 5\n"
    "D task: 5: Charlie, Alice\n"
    "E task: 5:\n"
    "section Another section\n"
    "P task: 5:\n"
    "Q task: 5:\n"
    "R task: 5:"
)
SPEC_ACC_MULTILINE = (
    "journey\n"
    """accDescr {
        A user journey for
        family shopping
      }"""
    "title Adding journey diagram functionality to mermaid\n"
    "accTitle: Adding acc journey diagram functionality to mermaid\n"
    "section Order from website"
)
SPEC_BREAKS = (
    "journey\n"
    "title Adding gantt diagram functionality to mermaid\n"
    "section Line1<br>Line2<br/>Line3</br />Line4<br\t/>Line5"
)


def imported(text: str, journey_id: str = "x", source: str = "x.mmd") -> Journey:
    """The journey a diagram gives, through the file the importer would write."""
    return checked(journey_yaml(from_mermaid(text, source, journey_id=journey_id)), source)


def refusal(text: str) -> str:
    with pytest.raises(JourneyError) as caught:
        from_mermaid(text, "x.mmd", journey_id="x")
    assert caught.value.problems, "a refusal of a diagram names its place"
    return str(caught.value)


def shape(j: Journey) -> dict[str, Any]:
    """What a Mermaid journey carries: stages, touchpoints in order, emotion, owners, ids."""
    order = [tp for s in j.stages for tp in j.touchpoints_in(s.id)]
    return {
        "title": j.title,
        "description": j.description,
        "stages": [(s.id, s.title) for s in j.stages],
        "touchpoints": [(tp.id, tp.title, tp.stage, tp.owner, tp.emotion) for tp in order],
    }


# The documentation's examples ----------------------------------------------------------


def test_the_documentation_example_imports_section_by_section_in_order() -> None:
    j = imported(DOCS_EXAMPLE, "working-day")
    assert j.title == "My working day"
    assert [(s.id, s.title) for s in j.stages] == [
        ("go-to-work", "Go to work"),
        ("go-home", "Go home"),
    ]
    assert [(tp.id, tp.title, tp.stage, tp.emotion, tp.owner) for tp in j.touchpoints] == [
        ("make-tea", "Make tea", "go-to-work", 2, "Me"),
        ("go-upstairs", "Go upstairs", "go-to-work", 0, "Me"),
        ("do-work", "Do work", "go-to-work", -2, "Me, Cat"),
        ("go-downstairs", "Go downstairs", "go-home", 2, "Me"),
        ("sit-down", "Sit down", "go-home", 2, "Me"),
    ]
    # Each task leads to the next; the last one ends the journey.
    assert [[t.to for t in tp.next] for tp in j.touchpoints] == [
        ["go-upstairs"],
        ["do-work"],
        ["go-downstairs"],
        ["sit-down"],
        [],
    ]


def test_the_parser_tests_tasks_give_mermaids_scores_and_actors() -> None:
    j = imported(SPEC_TASKS)
    assert j.title == "Adding journey diagram functionality to mermaid"
    assert [s.title for s in j.stages] == ["Documentation", "Another section"]
    # As Mermaid's own test expects; an empty actor ("E task: 5:") names no one.
    assert [(tp.title, tp.emotion, tp.owner) for tp in j.touchpoints] == [
        ("A task", 2, "Alice, Bob, Charlie"),
        ("B task", 0, "Bob, Charlie"),
        ("C task", 2, None),
        ("D task", 2, "Charlie, Alice"),
        ("E task", 2, None),
        ("P task", 2, None),
        ("Q task", 2, None),
        ("R task", 2, None),
    ]
    assert [tp.stage for tp in j.touchpoints] == ["documentation"] * 5 + ["another-section"] * 3


def test_the_parser_tests_accessibility_lines() -> None:
    # Verbatim it has no task, which is no journey; with one, the description is Mermaid's.
    assert "no tasks" in refusal(SPEC_ACC_MULTILINE)
    j = imported(SPEC_ACC_MULTILINE + "\n  Order: 4: Me")
    assert j.description == "A user journey for\nfamily shopping"
    assert j.title == "Adding journey diagram functionality to mermaid"
    one_line = imported(
        "journey\naccDescr: A user journey for family shopping\n"
        "title Adding journey diagram functionality to mermaid\n"
        "section Order from website\n  Order: 4"
    )
    assert one_line.description == "A user journey for family shopping"
    # accTitle alone is the only title there is.
    titled = imported("journey\n    accTitle: The title\n    section Order from website\n  A: 3")
    assert titled.title == "The title"


def test_the_parser_tests_line_breaks_in_a_section_name() -> None:
    j = imported(SPEC_BREAKS + "\n  A: 3")
    # <br>, <br/> and <br\t/> are Mermaid's line break; "</br />" is not one.
    assert j.stages[0].title == "Line1\nLine2\nLine3</br />Line4\nLine5"


def test_comments_directives_and_front_matter_are_not_the_journey() -> None:
    text = (
        "---\ntitle: From the front matter\nconfig:\n  theme: forest\n---\n"
        "%% a comment\n%%{init: {'theme': 'dark'}}%%\n%%{init: {\n  'theme': 'base'\n}}%%\n"
        "journey\n  section S # a comment too\n  %% between\n    A: 4: Me # and here\n"
        "    % one percent sign starts a comment at the start of a line\n"
    )
    j = imported(text)
    assert j.title == "From the front matter"
    assert [(tp.title, tp.emotion, tp.owner) for tp in j.touchpoints] == [("A", 1, "Me")]
    assert j.stages[0].title == "S"


def test_a_line_mermaid_cleans_up_as_a_style_reads_as_mermaid_reads_it() -> None:
    # Mermaid drops the last ';' of a line with "style" (or "classDef"), then ':', then
    # '#': here the code #44; loses its ';', and its '#' starts a comment.
    j = imported(
        "journey\n section S\n  Lifestyle check: 5:Me#44;You\n  Plain check: 5:Me#44;You\n"
    )
    assert [tp.owner for tp in j.touchpoints] == ["Me", "Me,You"]


def test_the_documentation_example_round_trips_through_the_export() -> None:
    j = imported(DOCS_EXAMPLE, "working-day")
    again = imported(to_mermaid(j), "working-day")
    assert shape(again) == shape(j)


# Export -------------------------------------------------------------------------------

HOSTILE = [
    "Call: intro",
    "Fees; terms",
    "Ticket #42",
    "100% sure",
    "%%{init: {'theme': 'forest'}}%%",
    "}%% after",
    "<b>bold</b> & <script>alert(1)</script>",
    "line one\nline two",
    "carriage\rreturn",
    "  padded  ",
    "\ttabbed\t",
    " ",
    "journey planning",
    "Journeys",
    "title page",
    "TITLE\u00a0case",
    "section break",
    "accTitle: x",
    "accDescr {",
    "accDescr: x",
    "#58; looks like a code",
    "#quot;",
    "&amp; &#58;",
    "ﬂ°°58¶ß",
    "style a:b#c;",
    "classDef x:y#z;",
    "--- fence",
    "```",
    "comma, inside",
    "a,b",
    "Ünïcödé 面接 😀",
    "line\u2028separator",
    "\ufeffbom",
]


def journey_with(titles: list[str], owners: list[str | None] | None = None) -> Journey:
    owners = owners or [None] * len(titles)
    return Journey.model_validate(
        {
            "journey": "hostile",
            "title": titles[0],
            "description": titles[-1],
            "stages": [{"id": "s", "title": titles[0]}],
            "touchpoints": [
                {"id": f"t{k}", "title": t, "stage": "s", "owner": o, "emotion": 1}
                for k, (t, o) in enumerate(zip(titles, owners, strict=True))
            ],
        }
    )


def body(text: str) -> list[str]:
    """The diagram's statements: its lines but the comments."""
    return [line for line in text.splitlines() if not line.lstrip().startswith("%%")]


@pytest.mark.parametrize("text", HOSTILE)
def test_export_writes_nothing_mermaid_would_read_as_syntax(text: str) -> None:
    j = journey_with([text, text], [text, f"{text}, {text}"])
    out = to_mermaid(j)
    assert "\r" not in out and "\u2028" not in out
    lines = body(out)
    assert lines[0] == "journey"
    for line in lines[1:]:
        statement = line.lstrip()
        # No comment, directive, semicolon or markup anywhere; '#' only in entity codes.
        assert "%" not in statement
        assert not re.search(r"[;<>&]", re.sub(r"#[0-9]+;", "", statement))
        assert not re.search(r"#(?![0-9]+;)", statement)
        # Every raw ':' is Mermaid's separator, followed by a space.
        assert not re.search(r":(?! )", statement)
        keyword = re.match(r"(?i)(title|section|accdescr:)\s", statement)
        if not keyword:  # a task: no keyword at its start, the score after its name
            assert not re.match(
                r"(?i)(journey|title\s|section\s|acc(title|descr)\s*[:{])", statement
            )
            assert re.fullmatch(r"[^:]+: [1-5](: .*)?", statement)
    # And it reads back exactly.
    assert shape(imported(out, "hostile")) == shape(j)


def test_escape_keeps_plain_text_plain() -> None:
    assert escape("Make tea") == "Make tea"
    assert escape("Ünïcödé 面接 😀, (ok)") == "Ünïcödé 面接 😀, (ok)"
    assert escape("Call: intro") == "Call#58; intro"
    assert escape("a, b", actor=True) == "a#44; b"
    assert escape(" x ") == "#32;x#32;"
    assert escape("title page", task=True) == "#116;itle page"
    assert escape("title page") == "title page"  # a section or title line has its keyword already
    assert escape("Titles", task=True) == "Titles"  # no keyword without the space


def test_emotion_is_the_score_and_the_comment_keeps_what_the_score_cannot() -> None:
    j = Journey.model_validate(
        {
            "journey": "e",
            "stages": ["s"],
            "touchpoints": [
                {"id": "a", "stage": "s", "emotion": -2},
                {"id": "b", "stage": "s", "emotion": 2},
                {"id": "c", "stage": "s", "emotion": 0.5},
                {"id": "d", "stage": "s", "emotion": -0.5},
                {"id": "e", "stage": "s"},
                {"id": "f", "stage": "s", "emotion": 1.25},
            ],
        }
    )
    out = to_mermaid(j)
    tasks = [line.strip() for line in body(out) if re.search(r": [1-5]$", line)]
    assert tasks == ["A: 1", "B: 5", "C: 4", "D: 3", "E: 3", "F: 4"]
    assert "%% journeymap: touchpoint c emotion=0.5" in out
    assert "%% journeymap: touchpoint d emotion=-0.5" in out
    assert "%% journeymap: touchpoint e emotion=none" in out
    assert "%% journeymap: touchpoint a\n" in out
    assert "The score rounds emotion" in out
    assert [tp.emotion for tp in imported(out, "e").touchpoints] == [-2, 2, 0.5, -0.5, None, 1.25]
    # A score edited in Mermaid wins over the comment it no longer matches.
    edited = out.replace("      C: 4\n", "      C: 1\n").replace("      E: 3\n", "      E: 5\n")
    assert [tp.emotion for tp in imported(edited, "e").touchpoints] == [-2, 2, -2, -0.5, 2, 1.25]


def test_export_says_what_mermaid_cannot_show() -> None:
    j = load(EXAMPLES[0])
    out = to_mermaid(j)
    head = out.split("\njourney\n")[0]
    transitions = sum(len(tp.next) for tp in j.touchpoints)
    assert f"the {transitions} transitions" in head
    assert "branch" in head
    assert f"the {len(j.outcomes)} outcomes: {j.outcomes[0].id}" in head
    assert all(line.startswith("%% ") for line in head.splitlines())
    assert out.endswith("\n") and out == to_mermaid(j)  # the same bytes every time


def test_a_diagram_mermaid_would_not_draw_says_so() -> None:
    tps = [{"id": f"t{k}", "title": f"Touchpoint number {k}", "stage": "s"} for k in range(800)]
    out = to_mermaid(
        Journey.model_validate({"journey": "big", "stages": ["s"], "touchpoints": tps})
    )
    assert len(out) > 50_000
    said = re.search(r"%% This diagram has ([0-9,]+) characters", out)
    assert said and 50_000 < int(said.group(1).replace(",", "")) < len(out)
    assert "Mermaid draws at most 50,000 unless its maxTextSize setting is raised" in out


def test_owners_of_several_names_are_one_actor_each_and_come_back_the_same() -> None:
    owners: list[str | None] = ["Recruiter, Sales", "A,B", "A, , B", "A , B", ", ", "x,  y"]
    j = journey_with(["t"] * len(owners), owners)
    out = to_mermaid(j)
    assert "      t: 4: Recruiter, Sales\n" in out
    assert "      t: 4: A#44;B\n" in out
    assert "      t: 4: A#44; #44; B\n" in out  # an empty part would vanish: one actor
    assert [tp.owner for tp in imported(out, "hostile").touchpoints] == owners


# Import: ids ----------------------------------------------------------------------------


def test_ids_are_unique_slugs_of_the_titles_and_comments_keep_given_ones() -> None:
    text = (
        "journey\n section Apply\n  Apply: 3\n  Apply: 3\n  面接: 3\n  Apply: 3\n"
        "  %% journeymap: touchpoint apply\n section Apply\n  Apply now!: 3\n"
    )
    j = imported(text)
    assert [s.id for s in j.stages] == ["apply", "apply-2"]
    # The comment's id is taken first; the others step around it, in file order.
    assert [tp.id for tp in j.touchpoints] == [
        "apply-2",
        "apply-3",
        "touchpoint",
        "apply",
        "apply-now",
    ]
    assert imported(text).touchpoints == j.touchpoints  # deterministic


def test_many_tasks_of_one_name_get_numbered_ids_quickly() -> None:
    import time

    text = "journey\n section S\n" + "  Apply: 3\n" * 50_000 + "  Apply-2: 3\n"
    start = time.perf_counter()
    data = from_mermaid(text, "x.mmd", journey_id="x")
    assert time.perf_counter() - start < 10  # quadratic numbering took minutes
    ids = [tp["id"] for tp in data["touchpoints"]]
    assert ids[:3] == ["apply", "apply-2", "apply-3"] and ids[-2] == "apply-50000"
    assert ids[-1] == "apply-2-2" and len(set(ids)) == len(ids)
    long = "journey\n section S\n" + f"  {'a' * 300}: 3\n" * 12
    assert {len(tp["id"]) for tp in from_mermaid(long, "x", journey_id="x")["touchpoints"]} == {200}


def test_journey_id_from_the_file_name() -> None:
    assert default_journey_id("diagrams/My Working Day.mmd") == "my-working-day"
    assert default_journey_id("面接.mmd") == "journey"
    assert default_journey_id("x" * 300 + ".mmd") == "x" * 100
    with pytest.raises(UsageError):
        from_mermaid(DOCS_EXAMPLE, "x.mmd", journey_id="Not A Slug")


# Import: refusals --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "where"),
    [
        ("flowchart LR\n  A --> B\n", "flowchart", "1:1"),
        ("graph TD\n  A --> B\n", "flowchart", "1:1"),
        ("sequenceDiagram\n  A->>B: hi\n", "sequence diagram", "1:1"),
        ("classDiagram\n  class A\n", "class diagram", "1:1"),
        ("stateDiagram-v2\n  [*] --> A\n", "state diagram", "1:1"),
        ("erDiagram\n  A ||--o{ B : has\n", "entity relationship diagram", "1:1"),
        ("gantt\n  title x\n", "Gantt chart", "1:1"),
        ('pie\n  "a": 1\n', "pie chart", "1:1"),
        ("%% a comment first\n  mindmap\n  root\n", "mindmap", "2:3"),
        ("timeline\n  2024 : x\n", "timeline", "1:1"),
        ("---\ntitle: t\n---\ngitGraph\n  commit\n", "Git graph", "4:1"),
    ],
)
def test_other_diagrams_are_refused_naming_what_they_are(text: str, kind: str, where: str) -> None:
    message = refusal(text)
    assert (
        message == f"x.mmd:{where}: this is a Mermaid {kind}; only journey diagrams can be imported"
    )


@pytest.mark.parametrize(
    ("text", "where", "words"),
    [
        ("", "1:1", "starts with `journey`"),
        ("%% only a comment\n", "2:1", "starts with `journey`"),
        ("Journey\n", "1:1", "starts with 'Journey'"),
        ("```mermaid\njourney\n```\n", "1:1", "Markdown code block"),
        ("journey\n  section S\n", "1:1", "no tasks"),
        ("journey\n  A: 3\n  section S\n", "2:3", "before the first section"),
        ("journey\n section S\n  A: 0: Me\n", "3:6", "score '0' is not a number from 1 to 5"),
        ("journey\n section S\n  A: 6\n", "3:6", "score '6'"),
        ("journey\n section S\n  A: five\n", "3:6", "score 'five'"),
        ("journey\n section S\n  A:\n", "3:5", "needs a score"),
        ("journey\n section S\n  A\n", "3:4", "needs a score"),
        ("journey\n section S\n  A # 5\n", "3:5", "needs a score"),
        ("journey\n section S\n  : 5\n", "3:3", "needs a name"),
        ("journey\n section S\n  A: 5: Me: you\n", "3:11", "third ':'"),
        ("journey\n section S\n  A; B: 5\n", "3:4", "write #59;"),
        ("journey\n section S\n  A: 5 %% note\n", "3:8", "'%%' starts a comment only"),
        ("journey\n section S\n  A#foo;: 5\n", "3:4", "#foo; is no entity code"),
        ("journey\n section S\n  A#0;: 5\n", "3:4", "not the code of a character"),
        ("journey\n section S\n  A#27;: 5\n", "3:4", "control character U+001B"),
        ("journey\n section S\n  A\x1b: 5\n", "3:4", "control character U+001B"),
        ("journey\n section S: part\n  A: 5\n", "2:11", "cannot hold ':'"),
        ("journey\n section #1\n  A: 5\n", "2:2", "no name"),
        ("journey\n title # x\n section S\n  A: 5\n", "2:2", "title has no text"),
        ("journey\n accTitle: \n section S\n  A: 5\n", "2:2", "would take the next line"),
        ("journey\n section S\n  journey planning: 5\n", "3:3", "#106;"),
        ("%%{init: {\njourney\n section S\n  A: 5\n", "1:1", "never closed with }%%"),
        ("journey\n accDescr {\n section S\n  A: 5\n", "2:2", "never closed with }"),
        ("---\ntitle: x\njourney\n", "1:1", "front matter"),
        ("---\ntitle: a: b\n---\njourney\n section S\n  A: 5\n", "2:8", "in quotes"),
    ],
)
def test_bad_diagrams_are_refused_with_line_and_column(text: str, where: str, words: str) -> None:
    message = refusal(text)
    assert f"x.mmd:{where}: " in message and words in message, message


def test_the_journeymap_comments_must_sit_under_their_line() -> None:
    base = "journey\n section S\n  %% journeymap: stage s\n  A: 5\n  %% journeymap: touchpoint a\n"
    assert [tp.id for tp in imported(base).touchpoints] == ["a"]
    cases = {
        base + "  %% journeymap: touchpoint b\n": ("6:3", "has one already (line 5)"),
        base + "  B: 5\n  %% journeymap: touchpoint a\n": (
            "7:29",
            "'a' is given twice (first on line 5)",
        ),
        base + "  B: 5\n  %% journeymap: stage t\n": ("7:3", "right under a section"),
        base + "  B: 5\n  %% journeymap: outcome x\n": ("7:3", "journeymap comment reads"),
        base + "  B: 5\n  %% journeymap: touchpoint -b\n": ("7:29", "'-b' is no id"),
        base + "  B: 5\n  %% journeymap: touchpoint b emotion=3\n": (
            "7:39",
            "emotion 3 is outside -2..+2",
        ),
        base + "  B: 5\n  %% journeymap: touchpoint b size=3\n": ("7:31", "means nothing here"),
    }
    for text, (where, words) in cases.items():
        message = refusal(text)
        assert f"x.mmd:{where}: " in message and words in message, (text, message)


def test_every_problem_is_reported_at_once() -> None:
    message = refusal("journey\n section S\n  A: 9\n  B: x\n  C; D: 3\n")
    assert [line.split(": ")[0] for line in message.splitlines()] == [
        "x.mmd:3:6",
        "x.mmd:4:6",
        "x.mmd:5:4",
    ]


def test_an_edited_diagram_keeps_its_ids_where_it_can() -> None:
    j = load(EXAMPLES[0])
    out = to_mermaid(j)
    # A task added without a comment gets an id of its own; the rest keep theirs.
    lines = out.splitlines()
    at = next(k for k, line in enumerate(lines) if "%% journeymap: touchpoint" in line)
    lines.insert(at + 1, "      A new step: 4: Recruiter")
    again = imported("\n".join(lines), j.journey)
    ids = [tp.id for tp in again.touchpoints]
    assert "a-new-step" in ids
    assert [i for i in ids if i != "a-new-step"] == [tp.id for tp in shape_order(j)]


def shape_order(j: Journey) -> list[Any]:
    return [tp for s in j.stages for tp in j.touchpoints_in(s.id)]


# Round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_each_example_journey_exports_and_imports_the_same(path: Path) -> None:
    j = load(path)
    again = imported(to_mermaid(j), j.journey)
    assert shape(again) == shape(j)
    # Only what Mermaid has no place for is lost: the next steps are the task order.
    order = shape_order(j)
    assert [[t.to for t in tp.next] for tp in again.touchpoints] == [[b.id] for b in order[1:]] + [
        []
    ]


CHARS = st.sampled_from(
    [
        *"aZ9 ,:;#%<>&{}-_.'\"\\|\t\n\r",
        *["#58;", "%%{", "}%%", "ﬂ", "¶", "é", "面", "😀", "\u00a0", "\u2028", "\ufeff", "<br>"],
    ]
)
TEXTS = st.lists(CHARS, min_size=1, max_size=6).map("".join)
KEYWORDS = st.sampled_from(["journey", "Title ", "section\t", "accDescr {", "accTitle: ", ""])
NAMES = st.tuples(KEYWORDS, TEXTS).map("".join)
EMOTIONS = st.one_of(
    st.none(),
    st.sampled_from([-2, -1, 0, 1, 2, 0.5, -0.5, 1.5, -1.5]),
    st.floats(-2, 2, allow_nan=False, allow_infinity=False),
)


@st.composite
def journeys(draw: st.DrawFn) -> dict[str, Any]:
    n_stages = draw(st.integers(1, 4))
    stages = [
        {"id": draw(st.sampled_from([f"s{k}", f"S.{k}_x", f"stage-{k}"])), "title": draw(NAMES)}
        for k in range(n_stages)
    ]
    n = draw(st.integers(1, 8))
    ids = [f"t{k}" if draw(st.booleans()) else f"T_{k}.x" for k in range(n)]
    touchpoints = []
    for ident in ids:
        tp: dict[str, Any] = {
            "id": ident,
            "title": draw(NAMES),
            "stage": draw(st.sampled_from(stages))["id"],
        }
        owner = draw(st.one_of(st.none(), TEXTS, st.lists(TEXTS, min_size=2, max_size=3)))
        if owner is not None:
            tp["owner"] = owner if isinstance(owner, str) else ", ".join(owner)
        emotion = draw(EMOTIONS)
        if emotion is not None:
            tp["emotion"] = emotion
        # Transitions and outcomes are drawn too: the export must leave them out cleanly.
        tp["next"] = draw(st.lists(st.sampled_from([*ids, "done"]), max_size=2, unique=True))
        touchpoints.append(tp)
    data: dict[str, Any] = {
        "journey": "drawn",
        "title": draw(NAMES),
        "stages": stages,
        "touchpoints": touchpoints,
        "outcomes": [{"id": "done", "result": "success"}],
    }
    if draw(st.booleans()):
        data["description"] = draw(TEXTS)
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journeys())
def test_export_then_import_keeps_stages_touchpoints_order_emotion_owners_and_ids(
    data: dict[str, Any],
) -> None:
    try:
        j = loads(json.dumps(data), "drawn.json")
    except JourneyError:
        assume(False)
        raise
    assume(len({s.id for s in j.stages}) == len(j.stages))
    out = to_mermaid(j)
    again = imported(out, "drawn")
    assert shape(again) == shape(j)


# Files and the command line ---------------------------------------------------------------


def test_render_formats_mermaid_into_mmd_files(tmp_path: Path) -> None:
    journeys = [load(p) for p in EXAMPLES]
    written = render_files(journeys, tmp_path, "mermaid")
    assert written == [tmp_path / f"{j.journey}.mmd" for j in journeys]
    for j, path in zip(journeys, written, strict=True):
        assert path.read_text(encoding="utf-8") == to_mermaid(j)
    assert render(journeys[0], "mermaid") == to_mermaid(journeys[0]).encode()
    with pytest.raises(UsageError, match="--view canvas does not apply"):
        render(journeys[0], "mermaid", view="canvas")


def test_import_file_refuses_large_and_odd_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "d.mmd"
    src.write_text(DOCS_EXAMPLE, encoding="utf-8")
    monkeypatch.setattr(mermaid, "MAX_BYTES", 100)
    with pytest.raises(JourneyError, match=r"d\.mmd:1:1: file is .*over 0 KiB are refused"):
        import_file(src, tmp_path / "d.yaml")
    monkeypatch.undo()
    fifo = tmp_path / "f.mmd"
    os.mkfifo(fifo)
    with pytest.raises(JourneyError, match="not a regular file"):
        import_file(fifo, tmp_path / "f.yaml")
    bad = tmp_path / "b.mmd"
    bad.write_bytes(b"journey\n section S\n  Caf\xe9: 5\n")
    with pytest.raises(JourneyError, match=r"b\.mmd:3:6: not UTF-8"):
        import_file(bad, tmp_path / "b.yaml")
    with pytest.raises(UsageError, match="as YAML"):
        import_file(src, tmp_path / "d.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.mmd", "d.mmd", "f.mmd"]


def test_cli_render_then_import_round_trip(cli: Cli, tmp_path: Path) -> None:
    r = cli("render", *EXAMPLES, "-o", tmp_path / "out", "--format", "mermaid")
    assert r.returncode == 0, r.stderr
    for path in EXAMPLES:
        j = load(path)
        mmd = tmp_path / "out" / f"{j.journey}.mmd"
        assert f"wrote {mmd}" in r.stdout
        target = tmp_path / f"{j.journey}.yaml"
        r2 = cli("import", "mermaid", mmd, "-o", target)
        assert r2.returncode == 0, r2.stderr
        assert r2.stdout == f"wrote {target}\n"
        text = target.read_text(encoding="utf-8")
        assert text.startswith("# yaml-language-server: $schema=journey.schema.json\n")
        assert f"# Imported from the Mermaid journey diagram {j.journey}.mmd" in text
        assert shape(load(target)) == shape(j)
        assert cli("validate", target).returncode == 0


def test_cli_render_mermaid_refuses_the_canvas_view(cli: Cli, tmp_path: Path) -> None:
    r = cli("render", EXAMPLES[0], "-o", tmp_path, "--format", "mermaid", "--view", "canvas")
    assert r.returncode == 2
    assert "--view canvas does not apply to --format mermaid" in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_cli_import_names_the_journey_and_never_overwrites_without_force(
    cli: Cli, tmp_path: Path
) -> None:
    src = tmp_path / "My Working Day.mmd"
    src.write_text(DOCS_EXAMPLE, encoding="utf-8")
    out = tmp_path / "j.yaml"
    assert cli("import", "mermaid", src, "-o", out).returncode == 0
    assert load(out).journey == "my-working-day"
    out.write_text("keep me", encoding="utf-8")
    r = cli("import", "mermaid", src, "-o", out)
    assert r.returncode == 2
    assert f"{out} exists already; give --force" in r.stderr
    assert out.read_text(encoding="utf-8") == "keep me"
    r = cli("import", "mermaid", src, "-o", out, "--force", "--journey", "day")
    assert r.returncode == 0, r.stderr
    assert load(out).journey == "day"
    r = cli("import", "mermaid", src, "-o", tmp_path / "k.yaml", "--journey", "Day One")
    assert r.returncode == 2 and "no journey id" in r.stderr
    assert not (tmp_path / "k.yaml").exists()


def test_cli_import_refuses_bad_diagrams_writing_nothing(cli: Cli, tmp_path: Path) -> None:
    src = tmp_path / "flow.mmd"
    src.write_text("%% a flowchart\nflowchart LR\n  A --> B\n", encoding="utf-8")
    out = tmp_path / "flow.yaml"
    r = cli("import", "mermaid", src, "-o", out)
    assert r.returncode == 1
    assert (
        f"{src}:2:1: this is a Mermaid flowchart; only journey diagrams can be imported" in r.stderr
    )
    assert "Traceback" not in r.stderr
    bad = tmp_path / "bad.mmd"
    bad.write_text("journey\n section S\n  A: 7\n  B: 3: x: y\n", encoding="utf-8")
    r = cli("import", "mermaid", bad, "-o", out)
    assert r.returncode == 1
    assert f"{bad}:3:6: score '7'" in r.stderr and f"{bad}:4:10: " in r.stderr
    assert "2 problems in 1 file" in r.stderr
    assert not out.exists()
    r = cli("import", "mermaid", tmp_path, "-o", out)
    assert r.returncode == 2
    assert not out.exists()
