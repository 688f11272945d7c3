"""A newcomer's stumbles (#13), each found by trying the README from scratch.

Every test here failed on the code before the fix: the wording a first-time
user meets, the options that were checked unevenly, the extra they did not know
they needed.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from journeymap.errors import JourneyError
from journeymap.loader import loads

from .conftest import EXAMPLES, ROOT

Run = Callable[..., subprocess.CompletedProcess[str]]
CANDIDATE = next(p for p in EXAMPLES if p.stem == "candidate")

SMALL = """\
journey: first
stages:
  - awareness
  - Follow up
touchpoints:
  - id: ad
    stage: awareness
    next: [call]
  - id: call
    stage: follow-up
"""


def _problems(text: str) -> list[str]:
    with pytest.raises(JourneyError) as info:
        loads(textwrap.dedent(text), "j.yaml")
    return [str(p) for p in info.value.problems]


# The print extra ------------------------------------------------------------------


def _without_print_extra(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The CLI as a process in which WeasyPrint and pypdfium2 cannot be imported."""
    code = (
        "import sys\n"
        "for m in ('weasyprint', 'pypdfium2'): sys.modules[m] = None\n"
        "from journeymap.cli import main\n"
        f"sys.argv = ['journeymap', *{list(args)!r}]\n"
        "main()\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=120
    )


@pytest.mark.parametrize(
    "args",
    [
        ("render", "--format", "pdf"),
        ("render", "--view", "canvas", "--format", "pdf"),
        ("render", "--view", "canvas", "--format", "png"),
        ("cards",),
        ("worksheet",),
    ],
)
def test_print_output_without_the_extra_says_what_to_install(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    r = _without_print_extra(*args, str(CANDIDATE), "-o", str(tmp_path / "out"), cwd=tmp_path)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and 'File "' not in r.stderr
    assert "pip install 'journeymap[print]'" in r.stderr
    assert not (tmp_path / "out").exists()


def test_svg_and_flow_png_need_no_extra(tmp_path: Path) -> None:
    for fmt in ("svg", "png"):
        r = _without_print_extra(
            "render", str(CANDIDATE), "--format", fmt, "-o", str(tmp_path), cwd=tmp_path
        )
        assert r.returncode == 0, r.stderr
    assert (tmp_path / "candidate.png").read_bytes().startswith(b"\x89PNG")


# Help that tells the truth ----------------------------------------------------------


def test_help_shows_each_commands_own_defaults(cli: Run) -> None:
    cards = " ".join(cli("cards", "--help").stdout.split())
    assert "[default: portrait]" in cards and "[default: A4]" in cards
    assert "[default: landscape]" not in cards
    render = " ".join(cli("render", "--help").stdout.split())
    assert "stages as columns" in render and "stages by rows" not in render
    assert "[default: A3]" in render and "[default: 96]" in render
    worksheet = " ".join(cli("worksheet", "--help").stdout.split())
    assert "[default: A3]" in worksheet and "[default: landscape]" in worksheet


def test_worksheet_without_a_file_or_stages_asks_for_one(cli: Run) -> None:
    r = cli("worksheet")
    assert r.returncode == 2
    assert "give a journey file, or the stages with --stages" in r.stderr
    assert "not both" not in r.stderr


# Messages in the file's words, not pydantic's ---------------------------------------


def test_importance_and_emotion_say_the_form_and_the_range() -> None:
    found = _problems(
        """\
        journey: x
        stages: [a]
        touchpoints:
          - id: t
            stage: a
            importance: 4
            emotion: 3
            persona: no
        """
    )
    assert (
        "j.yaml:6:17: importance: expected a mapping: {customer: 1..5, company: 1..5}, got 4"
        in (found)
    )
    assert (
        "j.yaml:7:14: emotion: expected a number from -2 (very negative) through 0 (neutral)"
        " to 2 (very positive), got 3" in found
    )


def test_no_message_speaks_pydantic() -> None:
    # One wrong value for every key of the file; none may leak Python's words.
    found = _problems(
        """\
        journey: x
        title: [t]
        kind: 3
        persona: Maria
        stages:
          - {id: a, title: 5, description: [d]}
        touchpoints:
          - id: t
            stage: a
            channel: 1
            owner: [o]
            description: {d: 1}
            when: 2
            why: 3
            interaction: 1
            layer: 2
            volume: lots
            frequency: [f]
            duration: 5
            importance: {customer: '4', company: 9}
            quality: 2.5
            emotion: 'happy'
            pain_points: p
            opportunities: [[o]]
            initiative: 1
            tags: [""]
            asks: a
            knows: k
            next: [{to: x, probability: 2, volume: -1, wait: 3, label: [l]}]
        outcomes:
          - {id: o, title: [1], result: 1, description: 2}
        entries: t
        """
    )
    assert len(found) >= 30
    for message in found:
        assert "Input should" not in message and "instance of" not in message, message
        assert "dictionary" not in message and "String should" not in message, message


def test_a_bare_stage_title_becomes_its_title_with_a_slug_id() -> None:
    j = loads(SMALL, "first.yaml")
    assert [(s.id, s.title) for s in j.stages] == [
        ("awareness", "Awareness"),
        ("follow-up", "Follow up"),
    ]


def test_a_stage_title_that_makes_no_id_says_how_to_write_it() -> None:
    [message] = _problems("journey: x\nstages: ['応募']\ntouchpoints: [{id: t, stage: s}]\n")
    assert "write the stage as {id: an-id, title: '応募'}" in message


def test_a_tab_in_the_indentation_is_named() -> None:
    for text in (
        "journey: t\nstages:\n\t- a\ntouchpoints: [{id: x, stage: a}]\n",
        "journey: t\nstages: [a]\ntouchpoints:\n  - id: x\n\tstage: a\n",
    ):
        [message] = _problems(text)
        assert "YAML does not allow tabs there: indent with spaces" in message


# Options ----------------------------------------------------------------------------


def test_an_unknown_theme_lists_the_built_in_ones(cli: Run, tmp_path: Path) -> None:
    r = cli("render", CANDIDATE, "--theme", "dark", "-o", tmp_path)
    assert r.returncode == 2
    assert "Errno" not in r.stderr and "No such file" not in r.stderr
    assert "built-in themes: default, print, colorblind" in r.stderr
    r = cli("render", CANDIDATE, "--theme", "colorblnd", "-o", tmp_path)
    assert "(did you mean 'colorblind'?)" in r.stderr


def test_paths_to_an_unknown_outcome_lists_the_outcomes(cli: Run) -> None:
    r = cli("paths", CANDIDATE, "--to", "placed")
    assert r.returncode == 2
    assert "the outcomes of candidate: abandoned, completed, gave-up, hired" in r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("render", "--format", "svg", "--paper", "A3"), "--paper is for --format pdf, not svg"),
        (("render", "--format", "svg", "--dpi", "300"), "--dpi is for --format png, not svg"),
        (("render", "--format", "pdf", "--dpi", "300"), "--dpi is for --format png, not pdf"),
        (("render", "--view", "canvas", "--format", "dot"), "DOT exists only for the flow view"),
        (("worksheet", "--format", "svg", "--orientation", "portrait"), "--orientation is for"),
        (("render", "--format", "mermaid", "--theme", "print"), "--theme does not apply"),
        (("report", "--format", "md", "--theme", "print"), "--theme is for --format html"),
    ],
)
def test_options_that_do_not_apply_are_usage_errors(
    cli: Run, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    r = cli(*args, CANDIDATE, "-o", tmp_path / "out")
    assert r.returncode == 2, r.stderr
    assert message in r.stderr
    assert not (tmp_path / "out").exists()


def test_prefill_without_a_journey_is_a_usage_error(cli: Run, tmp_path: Path) -> None:
    r = cli("worksheet", "--stages", "A,B", "--prefill", "-o", tmp_path)
    assert r.returncode == 2
    assert "--prefill fills the worksheet from a journey file" in r.stderr


# validate and the library -----------------------------------------------------------


def test_validate_counts_in_english(cli: Run, tmp_path: Path) -> None:
    f = tmp_path / "one.yaml"
    f.write_text("journey: one\nstages: [a]\ntouchpoints: [{id: t, stage: a}]\n")
    r = cli("validate", f)
    assert r.stdout.strip().endswith("(one: 1 stage, 1 touchpoint, 0 outcomes)")


def test_problems_is_a_list_as_the_readme_says() -> None:
    with pytest.raises(JourneyError) as info:
        loads("journey: x\n", "j.yaml")
    assert isinstance(info.value.problems, list)


def test_problems_inside_a_broken_touchpoint_come_in_the_same_pass() -> None:
    found = _problems(
        """\
        journey: t
        stages: [a]
        touchpoints:
          - id: x
            stage: a
            next: [gone]
          - id: bad id
            stage: a
            next: [ghost]
            knows: [phantom]
          - id: z
            next: [ghost2]
        """
    )
    assert found == [
        "j.yaml:6:12: 'gone' is not a touchpoint or outcome",
        "j.yaml:7:9: 'bad id' is not a valid id: use letters, digits, '-', '_' and '.',"
        " starting with a letter or digit, like 'bad-id'",
        "j.yaml:9:12: 'ghost' is not a touchpoint or outcome",
        "j.yaml:10:13: knows: 'phantom' is not a touchpoint",
        "j.yaml:11:5: missing required key 'stage'",
        "j.yaml:12:12: 'ghost2' is not a touchpoint or outcome",
    ]


def test_the_readmes_journey_file_block_validates_as_it_is() -> None:
    import re

    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## The journey file.*?```yaml\n(.*?)```", readme, re.S)
    assert block is not None
    j = loads(block.group(1), "README.md")
    assert j.journey == "candidate"


def test_a_broken_id_is_named_as_written_in_the_problems_about_it() -> None:
    found = _problems(
        """\
        journey: t
        stages: [a]
        touchpoints:
          - id: Job posting
            stage: a
            next: [{to: o, probability: 0.7}, {to: p, probability: 0.6}]
          - id: form
            stage: a
            next: [o, lost]
        outcomes:
          - {id: o, result: Success}
          - {id: p, result: lost}
        entries: [form, lost]
        """
    )
    assert "j.yaml:6:5: the probabilities out of 'Job posting' add up to 1.3, more than 1" in found
    # an outcome's broken result does not hide what is wrong with an id called lost
    assert "j.yaml:9:15: 'lost' is not a touchpoint or outcome" in found
    assert not any("journeymap.invalid" in p for p in found)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("    next: [{to: t2, label: yes}]\n", "label: expected text, got True (yes, no, on and"),
        ("    importance: '4'\n", "got '4'\n"),
        ("    tags: urgent, billing\n", "(a list is written in brackets: [urgent, billing])"),
        ("    volume: nan\n", "got 'nan'\n"),
        ("    title: " + "x" * 10_001 + "\n", "title: too long (at most 10,000 characters)\n"),
    ],
)
def test_hints_fit_the_value(line: str, message: str) -> None:
    text = "journey: x\nstages: [a]\ntouchpoints:\n  - id: t\n    stage: a\n" + line
    text += "  - {id: t2, stage: a}\n"
    joined = "\n".join(_problems(text)) + "\n"
    assert message in joined, joined


def test_an_empty_choice_says_it_is_empty() -> None:
    found = _problems(
        "journey: x\nstages: [a]\ntouchpoints: [{id: t, stage: a, next: [o]}]\n"
        "outcomes:\n  - id: o\n    result:\n"
    )
    assert found == ["j.yaml:6:12: result: empty; 'success' or 'lost'"]
