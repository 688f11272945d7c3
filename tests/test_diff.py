"""``journeymap diff``: what changed between two versions of a journey, and what it does
to the customers; read from files, from git (REV:PATH) and as git's external diff."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeymap import load
from journeymap.analysis import analyze
from journeymap.diff import (
    LEAKS,
    Change,
    JourneyDiff,
    _pct,
    _points,
    diff,
    read_git,
    read_side,
)
from journeymap.errors import JourneyError, UsageError
from journeymap.loader import loads
from journeymap.model import Journey

from .conftest import ROOT
from .strategies import dumps, journey_dicts

Run = Callable[..., subprocess.CompletedProcess[str]]
Make = Callable[..., Journey]

CANDIDATE = ROOT / "journeys" / "candidate.yaml"
CLIENT = ROOT / "journeys" / "client.yaml"
# Registration keeps 90% instead of 85%: its drop-off goes from 15% to 10%.
BEFORE = "      - to: interview\n        probability: 0.85\n"
AFTER = "      - to: interview\n        probability: 0.9\n"
GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")


def changed_copy(tmp_path: Path, name: str = "candidate.yaml") -> Path:
    text = CANDIDATE.read_text("utf-8")
    assert text.count(BEFORE) == 1
    out = tmp_path / name
    out.write_text(text.replace(BEFORE, AFTER), "utf-8")
    return out


def by_key(d: JourneyDiff, kind: str, key: str | tuple[str, str]) -> Change:
    [found] = [c for c in d.changes if c.kind == kind and c.key == key]
    return found


SMALL = """\
journey: small
title: Small journey
stages: [one, two]
touchpoints:
  - id: a
    stage: one
    next:
      - {to: b, probability: 0.8}
  - id: b
    stage: two
    next:
      - {to: won, probability: 0.5}
      - {to: gone, probability: 0.5}
outcomes:
  - {id: won, result: success}
  - {id: gone, result: lost}
"""


# The "done when" ---------------------------------------------------------


def test_a_changed_drop_off_shows_with_the_success_before_and_after(tmp_path: Path) -> None:
    old, new = load(CANDIDATE), load(changed_copy(tmp_path))
    d = diff(old, new)
    assert d.changed
    assert by_key(d, "touchpoint", "registration").fields[0].to_dict() == {
        "field": "drop_off",
        "old": 0.15,
        "new": 0.1,
    }
    assert [f.to_dict() for f in by_key(d, "transition", ("registration", "interview")).fields] == [
        {"field": "probability", "old": 0.85, "new": 0.9}
    ]
    assert len(d.changes) == 2 and not d.journey
    a, b = analyze(old), analyze(new)
    for entry in a.success_probability:
        s = d.success_probability[entry]
        assert (s.old, s.new) == (a.success_probability[entry], b.success_probability[entry])
        assert s.new > s.old  # fewer leave at registration: more succeed from every entry
    assert (d.success_share.old, d.success_share.new) == (a.success_share, b.success_share)
    # The leak at registration shrinks the most, and it is listed first.
    top = d.leaks[0]
    assert (top.node, top.kind) == ("registration", "drop-off")
    assert top.change < 0 and len(d.leaks) == LEAKS


def test_the_done_when_case_in_all_three_formats(cli: Run, tmp_path: Path) -> None:
    new = changed_copy(tmp_path)
    a, b = analyze(load(CANDIDATE)), analyze(load(new))
    old_p, new_p = a.success_probability["walk-in"], b.success_probability["walk-in"]
    assert _pct(old_p) != _pct(new_p)

    text = cli("diff", CANDIDATE, new)
    assert text.returncode == 0, text.stderr
    lines = text.stdout.splitlines()
    assert lines[0] == f"{CANDIDATE} -> {new}"
    assert f"success {_pct(a.success_share)} -> {_pct(b.success_share)}" in lines[1]
    # The first walk-in line is its success probability (the time to success follows).
    walk_in = next(line for line in lines if line.strip().startswith("walk-in "))
    assert walk_in.split() == [
        "walk-in",
        _pct(old_p),
        "->",
        _pct(new_p),
        *_points(new_p - old_p).split(),
    ]
    assert "  ~ touchpoint registration" in lines
    assert "      drop_off: 15% -> 10%" in lines
    assert "  ~ transition registration -> interview" in lines
    assert "      probability: 0.85 -> 0.9" in lines

    md = cli("diff", CANDIDATE, new, "--format", "md")
    assert md.returncode == 0, md.stderr
    rows = md.stdout.splitlines()
    assert rows[0].startswith("### Candidate journey (`candidate`): success ")
    assert f"{_pct(a.success_share)} → {_pct(b.success_share)}" in rows[0]
    assert f"| `walk-in` | {_pct(old_p)} | {_pct(new_p)} | {_points(new_p - old_p)} |" in rows
    assert "| changed | touchpoint | `registration` | `drop_off` | 15% | 10% |" in rows
    assert (
        "| changed | transition | `registration` → `interview` | `probability` | 0.85 | 0.9 |"
        in rows
    )

    js = cli("diff", CANDIDATE, new, "--format", "json")
    assert js.returncode == 0, js.stderr
    data = json.loads(js.stdout)
    assert data["changed"] is True
    assert data["customers"]["success_probability"]["walk-in"] == {
        "old": old_p,
        "new": new_p,
        "change": round(new_p - old_p, 12),
    }
    assert data["touchpoints"]["changed"] == [
        {"id": "registration", "fields": [{"field": "drop_off", "old": 0.15, "new": 0.1}]}
    ]
    assert data["transitions"]["changed"] == [
        {
            "from": "registration",
            "to": "interview",
            "fields": [{"field": "probability", "old": 0.85, "new": 0.9}],
        }
    ]
    assert data["old"] == {
        "source": str(CANDIDATE),
        "journey": "candidate",
        "title": "Candidate journey",
    }


# Identical and unrelated journeys ------------------------------------------------


def test_identical_journeys_have_no_changes(cli: Run, tmp_path: Path) -> None:
    # The same journey as JSON, its outcomes in another order: a journey is not its text.
    j = load(CANDIDATE)
    data = j.model_dump(mode="json", exclude_defaults=True)
    data["outcomes"].reverse()  # (touchpoints keep their order: it breaks ties in findings)
    other = tmp_path / "candidate.json"
    other.write_text(json.dumps(data), "utf-8")
    d = diff(j, load(other))
    assert not d.changed and d.changes == () and d.journey == ()
    assert d.leaks == () and d.appeared == () and d.disappeared == ()
    assert all(s.change == 0 for s in d.success_probability.values())
    assert d.success_share.change == 0
    r = cli("diff", CANDIDATE, other)
    assert r.returncode == 0, r.stderr
    assert "success unchanged at" in r.stdout.splitlines()[1]
    assert "Changes: no changes" in r.stdout
    assert json.loads(cli("diff", CANDIDATE, other, "--format", "json").stdout)["changed"] is False


def test_unrelated_journeys_are_everything_added_and_removed(make_journey: Make) -> None:
    old, new = load(CANDIDATE), make_journey(SMALL)
    d = diff(old, new)
    assert [f.field for f in d.journey] == [
        "journey",
        "title",
        "description",
        "kind",
        "persona.name",
        "persona.description",
        "entries",
    ]
    assert (d.journey[3].old, d.journey[3].new) == ("candidate", "other")
    assert d.journey[-1].to_dict() == {
        "field": "entries",
        "old": ["job-posting", "social-ad", "referral", "walk-in"],
        "new": ["a"],
    }
    for kind, part in (("stage", "stages"), ("touchpoint", "touchpoints"), ("outcome", "outcomes")):
        assert [c.key for c in d.of_kind(kind, "added")] == [x.id for x in getattr(new, part)]
        assert [c.key for c in d.of_kind(kind, "removed")] == [x.id for x in getattr(old, part)]
        assert d.of_kind(kind, "changed") == []
    assert [c.key for c in d.of_kind("transition", "added")] == [
        ("a", "b"),
        ("b", "won"),
        ("b", "gone"),
    ]
    assert len(d.of_kind("transition", "removed")) == sum(len(t.next) for t in old.touchpoints)
    # Every entry is only on one side; the success share of all who start is on both.
    assert all((s.old is None) != (s.new is None) for s in d.success_probability.values())
    assert d.success_share.change is not None
    assert d.appeared and d.disappeared  # the other journey's findings
    summary = by_key(d, "touchpoint", "a").fields
    assert [(f.field, f.old, f.new) for f in summary] == [
        ("title", None, "A"),
        ("stage", None, "one"),
    ]


def test_unrelated_journeys_through_the_cli(cli: Run) -> None:
    r = cli("diff", CANDIDATE, CLIENT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[1].startswith(
        "Candidate journey (candidate) -> Client journey (client):"
    )
    assert "(only before)" in r.stdout and "(only after)" in r.stdout
    assert "  ~ journey journey: candidate -> client" in r.stdout
    data = json.loads(cli("diff", CANDIDATE, CLIENT, "--format", "json").stdout)
    assert {t["id"] for t in data["touchpoints"]["added"]} == {
        t.id for t in load(CLIENT).touchpoints
    } - {t.id for t in load(CANDIDATE).touchpoints}


# Fields ------------------------------------------------------------------------------


def test_fields_change_one_by_one_in_the_models_order(make_journey: Make) -> None:
    old = make_journey(SMALL)
    new = make_journey(
        SMALL.replace("title: Small journey", "title: Small\npersona: {name: Ana}")
        .replace("stages: [one, two]", "stages: [two, one]")
        .replace(
            "  - id: a\n    stage: one\n",
            "  - id: a\n    stage: one\n    quality: 2\n    importance: {customer: 5}\n    tags: [billing]\n",
        )
        .replace("{to: gone, probability: 0.5}", "{to: gone, probability: 0.5, wait: 2d}")
    )
    d = diff(old, new)
    assert [(f.field, f.old, f.new) for f in d.journey] == [
        ("title", "Small journey", "Small"),
        ("persona.name", None, "Ana"),
        ("stage_order", ["one", "two"], ["two", "one"]),
    ]
    assert [(f.field, f.old, f.new) for f in by_key(d, "touchpoint", "a").fields] == [
        ("importance.customer", None, 5),
        ("quality", None, 2),
        ("tags", [], ["billing"]),
    ]
    assert [(f.field, f.old, f.new) for f in by_key(d, "transition", ("b", "gone")).fields] == [
        ("wait", None, "2d")
    ]
    assert [c.kind for c in d.changes] == ["touchpoint", "transition"]


def test_a_share_is_a_field_where_no_probability_says_it(make_journey: Make) -> None:
    base = """\
    journey: v
    stages: [s]
    touchpoints:
      - id: a
        stage: s
        volume: 100
        next:
          - {to: won, volume: 40}
          - {to: gone, volume: 20}
    outcomes:
      - {id: won, result: success}
      - {id: gone, result: lost}
    """
    d = diff(make_journey(base), make_journey(base.replace("volume: 100", "volume: 80")))
    assert [(f.field, f.old, f.new) for f in by_key(d, "touchpoint", "a").fields] == [
        ("volume", 100, 80),
        ("drop_off", 0.4, 0.25),
    ]
    assert [(f.field, f.old, f.new) for f in by_key(d, "transition", ("a", "won")).fields] == [
        ("share", 0.4, 0.5)
    ]
    # An unnumbered way gets what is left: it changes when its sibling does.
    two = """\
    journey: v
    stages: [s]
    touchpoints:
      - id: a
        stage: s
        next:
          - {to: won, probability: 0.4}
          - gone
    outcomes:
      - {id: won, result: success}
      - {id: gone, result: lost}
    """
    d = diff(make_journey(two), make_journey(two.replace("0.4", "0.3")))
    assert [(f.field, f.old, f.new) for f in by_key(d, "transition", ("a", "won")).fields] == [
        ("probability", 0.4, 0.3)
    ]
    assert [(f.field, f.old, f.new) for f in by_key(d, "transition", ("a", "gone")).fields] == [
        ("share", 0.6, 0.7)
    ]
    assert d.of_kind("touchpoint") == []  # no drop-off before or after: nothing to show there


def test_findings_that_appear_and_disappear(make_journey: Make) -> None:
    old = make_journey(SMALL)
    # b no longer leads anywhere: a dead end and a trap appear; won becomes unreachable.
    new = make_journey(
        SMALL.replace(
            "    next:\n      - {to: won, probability: 0.5}\n      - {to: gone, probability: 0.5}\n",
            "",
        )
    )
    d = diff(old, new)
    appeared = {(f.rule, f.subject) for f in d.appeared}
    assert {("dead-end", "b"), ("trap", "b")} <= appeared
    back = diff(new, old)
    assert {(f.rule, f.subject) for f in back.disappeared} == appeared
    assert back.appeared == d.disappeared


def test_findings_of_one_subject_are_matched_by_message_then_paired() -> None:
    from journeymap.diff import _findings
    from journeymap.findings import Finding

    class A:  # the part of an analysis that _findings reads
        def __init__(self, *findings: Finding) -> None:
            self.findings = list(findings)

    def f(message: str, subject: str = "x") -> Finding:
        return Finding("asked-again", "warning", subject, message)

    old = A(f("asks for ID again"), f("asks for work history again"))
    new = A(f("asks for work history again"), f("asks for ID documents again"), f("m", "y"))
    appeared, disappeared = _findings(old, new)  # type: ignore[arg-type]
    # "ID" became "ID documents": reworded, neither new nor gone; y's finding is new.
    assert appeared == (f("m", "y"),) and disappeared == ()
    appeared, disappeared = _findings(new, A(f("asks for ID documents again")))  # type: ignore[arg-type]
    assert appeared == () and [x.message for x in disappeared] == [
        "asks for work history again",
        "m",
    ]


def test_the_leaks_are_the_five_largest_changes_in_order(make_journey: Make) -> None:
    old, new = load(CANDIDATE), load(CLIENT)
    d = diff(old, new)
    a, b = analyze(old), analyze(new)
    sa = {(x.node, x.kind): x.share for x in a.leaks}
    sb = {(x.node, x.kind): x.share for x in b.leaks}
    every = sorted(
        ((round(sb.get(k, 0.0) - sa.get(k, 0.0), 12), k) for k in {*sa, *sb}),
        key=lambda ck: (-abs(ck[0]), ck[1]),
    )
    assert [((x.node, x.kind), x.change) for x in d.leaks] == [(k, c) for c, k in every[:LEAKS]]


def test_a_missing_side_is_everything_added(make_journey: Make) -> None:
    new = make_journey(SMALL)
    d = diff(None, new)
    assert [c.change for c in d.changes] == ["added"] * len(d.changes)
    assert d.success_share.old is None and d.success_share.new is not None
    assert "a new journey" in d.text().splitlines()[1]
    gone = diff(new, None)
    assert {c.change for c in gone.changes} == {"removed"}
    with pytest.raises(UsageError):
        diff(None, None)


# Showing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "shown"),
    [
        (0.0, "0%"),
        (1.0, "100%"),
        (0.029639341865, "2.96%"),
        (0.15, "15%"),
        (0.296, "29.6%"),
        (0.0001234, "0.0123%"),
        (0.9999999, ">99.9%"),
        (1e-9, "<0.001%"),
        (None, "—"),
    ],
)
def test_shares_show_three_significant_digits(p: float | None, shown: str) -> None:
    assert _pct(p) == shown


def test_changes_show_in_points() -> None:
    assert _points(0.00186) == "+0.186 points"
    assert _points(-0.0136) == "-1.36 points"
    assert _points(0.0) == "unchanged"
    assert _points(-1e-9) == "-<0.001 points"
    assert _points(None) == ""


def test_long_values_are_cut_around_their_first_difference(make_journey: Make) -> None:
    words = "word " * 60
    old = make_journey(SMALL.replace("title: Small journey", f"description: {words}old end"))
    new = make_journey(SMALL.replace("title: Small journey", f"description: {words}new end"))
    d = diff(old, new)
    [line] = [x for x in d.text().splitlines() if "journey description" in x]
    assert "old end" in line and "new end" in line and len(line) < 250
    assert d.to_dict()["journey"][0]["old"] == f"{words}old end"  # JSON has it whole


HOSTILE = "A | B `tick` <script>alert(1)</script> ![x](http://evil/x.png)"


def test_markdown_escapes_every_user_string(make_journey: Make) -> None:
    title = HOSTILE + "\n# heading"
    old = make_journey(SMALL)
    hostile = SMALL.replace("title: Small journey", f"title: {json.dumps(title)}")
    hostile = hostile.replace(
        "  - id: a\n    stage: one\n",
        f"  - id: a\n    title: {json.dumps(HOSTILE)}\n    stage: one\n",
    )
    new = make_journey(hostile)
    d = diff(old, new)
    md = d.markdown()
    # In the text too, a title with a line break stays on its line.
    assert (
        d.text()
        .splitlines()[1]
        .startswith(f"Small journey (small) -> {HOSTILE} # heading (small):")
    )
    assert "<script" not in md and "](http" not in md
    assert "\n# heading" not in md
    # Every table keeps its number of columns: no pipe from a title splits a row.
    tables: list[list[str]] = []
    for row in md.splitlines():
        if row.startswith("|"):
            if tables and tables[-1]:
                tables[-1].append(row)
            else:
                tables.append([row])
        elif tables and tables[-1]:
            tables.append([])
    for table in (t for t in tables if t):
        widths = {len(re.split(r"(?<!\\)\|", row)) for row in table}
        assert len(widths) == 1, table
    assert r"A \| B \`tick\` &lt;script&gt;" in md
    assert md.splitlines()[0].startswith(
        r"### Small journey (`small`) → A \| B \`tick\` &lt;script&gt;"
    )


def test_text_output_escapes_terminal_controls(cli: Run, tmp_path: Path) -> None:
    # The loader refuses control characters; file names are shown through terminal() too.
    a = tmp_path / "a\x1b[2J.yaml"
    a.write_text(SMALL, "utf-8")
    r = cli("diff", a, a)
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\ufffd[2J" in r.stdout


# The CLI ---------------------------------------------------------------------------


def test_bad_input_reports_both_files_at_once(cli: Run, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(SMALL.replace("stage: two", "stage: twoo"), "utf-8")
    missing = tmp_path / "missing.yaml"
    r = cli("diff", bad, missing)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert r.stderr.splitlines()[0].startswith(f"{bad}:10:12: stage 'twoo' is not declared")
    assert r.stderr.splitlines()[1].startswith(f"{missing}:1:1: cannot read")
    assert r.stderr.splitlines()[-1] == "2 problems in 2 files"


def test_wrong_usage_exits_2(cli: Run) -> None:
    assert cli("diff", CANDIDATE).returncode == 2
    assert cli("diff", CANDIDATE, CANDIDATE, CANDIDATE).returncode == 2
    assert cli("diff", CANDIDATE, CANDIDATE, "--format", "html").returncode == 2
    r = cli("diff", "/dev/null", "/dev/null")
    assert r.returncode == 2 and "nothing to compare" in r.stderr


def test_the_config_tunes_the_findings_of_both_sides(cli: Run, tmp_path: Path) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(SMALL, "utf-8")
    new = tmp_path / "new.yaml"
    new.write_text(
        SMALL.replace(
            "    next:\n      - {to: won, probability: 0.5}\n      - {to: gone, probability: 0.5}\n",
            "",
        ),
        "utf-8",
    )
    rules = {
        f["rule"]
        for f in json.loads(cli("diff", old, new, "--format", "json").stdout)["customers"][
            "findings"
        ]["appeared"]
    }
    assert "dead-end" in rules
    config = tmp_path / "findings.yaml"
    config.write_text("rules: {dead-end: off}\n", "utf-8")
    r = cli("diff", old, new, "--format", "json", "--config", config)
    assert r.returncode == 0, r.stderr
    rules = {f["rule"] for f in json.loads(r.stdout)["customers"]["findings"]["appeared"]}
    assert "dead-end" not in rules and "trap" in rules


def test_a_file_with_a_colon_in_its_name_is_a_file(cli: Run, tmp_path: Path) -> None:
    (tmp_path / "v1:small.yaml").write_text(SMALL, "utf-8")
    r = cli("diff", "v1:small.yaml", "v1:small.yaml", cwd=tmp_path)  # no git repository here
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("v1:small.yaml -> v1:small.yaml\n")


def test_the_same_input_gives_the_same_bytes(cli: Run) -> None:
    # Other hash seeds: nothing may depend on the order of a set.
    for fmt in ("md", "json"):
        runs = {
            cli(
                "diff",
                CANDIDATE,
                CLIENT,
                "--format",
                fmt,
                env={**os.environ, "PYTHONHASHSEED": seed},
            ).stdout
            for seed in ("1", "2")
        }
        assert len(runs) == 1


# Git ---------------------------------------------------------------------------------


def git(repo: Path, *args: str, **kw: Any) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "GIT_CONFIG_NOSYSTEM": "1",
        "HOME": str(repo.parent),
        **kw.pop("env", {}),
    }
    check = kw.pop("check", True)
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=check, env=env, **kw
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository whose one commit holds the candidate journey; the work tree has it changed."""
    if GIT is None:
        pytest.skip("git is not installed")
    root = tmp_path / "repo"
    (root / "journeys").mkdir(parents=True)
    shutil.copy(CANDIDATE, root / "journeys" / "candidate.yaml")
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-qm", "first")
    changed_copy(root / "journeys")
    return root


@needs_git
def test_rev_path_is_read_through_git(cli: Run, repo: Path) -> None:
    r = cli(
        "diff",
        "HEAD:journeys/candidate.yaml",
        "journeys/candidate.yaml",
        "--format",
        "json",
        cwd=repo,
    )
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["old"]["source"] == "HEAD:journeys/candidate.yaml"
    assert data["touchpoints"]["changed"][0]["id"] == "registration"
    # ./PATH is from the current folder, as in git.
    sub = repo / "journeys"
    r = cli("diff", "HEAD:./candidate.yaml", "candidate.yaml", cwd=sub)
    assert r.returncode == 0, r.stderr
    assert "drop_off: 15% -> 10%" in r.stdout
    assert read_git("HEAD:journeys/candidate.yaml", repo).source == "HEAD:journeys/candidate.yaml"


@needs_git
def test_a_broken_file_in_a_revision_is_named_rev_path(cli: Run, repo: Path) -> None:
    (repo / "journeys" / "candidate.yaml").write_text(SMALL.replace("stage: two", "stage: twoo"))
    git(repo, "commit", "-qam", "broken")
    r = cli("diff", "HEAD:journeys/candidate.yaml", "HEAD~1:journeys/candidate.yaml", cwd=repo)
    assert r.returncode == 1
    assert r.stderr.startswith("HEAD:journeys/candidate.yaml:10:12: stage 'twoo' is not declared")


@needs_git
def test_what_git_cannot_read_is_a_clear_error(cli: Run, repo: Path, tmp_path: Path) -> None:
    r = cli("diff", "HEAD:journeys/nope.yaml", "journeys/candidate.yaml", cwd=repo)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.splitlines()[0] == (
        "HEAD:journeys/nope.yaml:1:1: no such file, and git cannot read it as REV:PATH:"
        " path 'journeys/nope.yaml' does not exist in 'HEAD'"
    )
    r = cli("diff", "nobranch:journeys/candidate.yaml", "journeys/candidate.yaml", cwd=repo)
    assert r.returncode == 1 and "git cannot read it as REV:PATH" in r.stderr
    outside = tmp_path / "outside"
    outside.mkdir()
    env = {**os.environ, "GIT_CEILING_DIRECTORIES": str(tmp_path)}
    r = cli("diff", "HEAD:candidate.yaml", CANDIDATE, cwd=outside, env=env)
    assert r.returncode == 1
    assert "no git repository here to read it from as REV:PATH" in r.stderr
    # Without git at all (an empty PATH; the interpreter is named by its full path).
    r = cli("diff", "HEAD:journeys/candidate.yaml", CANDIDATE, cwd=repo, env={"PATH": str(outside)})
    assert r.returncode == 1
    assert "no such file, and git, which would read it as REV:PATH, cannot run" in r.stderr


@needs_git
def test_a_revision_starting_with_a_dash_is_refused(cli: Run, repo: Path) -> None:
    r = cli("diff", "--", "--output=x:journeys/candidate.yaml", "journeys/candidate.yaml", cwd=repo)
    assert r.returncode == 2
    assert "a git revision cannot start with '-'" in r.stderr
    assert not (repo / "x").exists()
    with pytest.raises(UsageError):
        read_git("--output=x:journeys/candidate.yaml", repo)
    with pytest.raises(UsageError):
        read_side("-p:journeys/candidate.yaml", repo)
    assert not (repo / "x").exists()


@needs_git
def test_a_blob_is_read_without_textconv_and_within_the_size_limit(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A textconv filter would run for `git show --textconv`; cat-file never runs one.
    (repo / ".gitattributes").write_text("*.yaml diff=marker\n")
    git(repo, "config", "diff.marker.textconv", "touch MARKER; cat")
    read_git("HEAD:journeys/candidate.yaml", repo)
    assert not (repo / "MARKER").exists()
    import journeymap.loader

    monkeypatch.setitem(journeymap.loader.MAX_BYTES, "yaml", 1000)
    with pytest.raises(JourneyError, match=re.escape("over 0.000953674 MiB; journeys over")):
        read_git("HEAD:journeys/candidate.yaml", repo)


# Git's external diff ---------------------------------------------------------------


def driver(repo: Path) -> None:
    (repo / ".gitattributes").write_text("journeys/*.yaml diff=journeymap\n")
    git(repo, "config", "diff.journeymap.command", f"{sys.executable} -m journeymap diff")


@needs_git
def test_git_diff_runs_it_as_the_external_diff_driver(repo: Path) -> None:
    driver(repo)
    out = git(repo, "diff").stdout
    lines = out.splitlines()
    assert lines[0] == "a/journeys/candidate.yaml -> b/journeys/candidate.yaml"
    assert "      drop_off: 15% -> 10%" in lines
    # An added file: the old side is /dev/null.
    (repo / "journeys" / "small.yaml").write_text(SMALL)
    git(repo, "add", "-N", "journeys/small.yaml")
    out = git(repo, "diff", "--", "journeys/small.yaml").stdout
    assert out.splitlines()[0] == "/dev/null -> b/journeys/small.yaml"
    assert "a new journey" in out.splitlines()[1]
    # A deleted file, and git log -p with --ext-diff.
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "second")
    git(repo, "rm", "-q", "journeys/small.yaml")
    git(repo, "commit", "-qm", "third")
    log = git(repo, "log", "-p", "--ext-diff", "--format=commit %s").stdout
    assert "a/journeys/small.yaml -> /dev/null" in log
    assert "the journey is removed" in log
    assert "a/journeys/candidate.yaml -> b/journeys/candidate.yaml" in log


@needs_git
def test_a_broken_file_does_not_stop_gits_diff(repo: Path) -> None:
    driver(repo)
    shutil.copy(CANDIDATE, repo / "journeys" / "b.yaml")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "two files")
    (repo / "journeys" / "a.yaml").write_text(SMALL)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "three files")
    (repo / "journeys" / "a.yaml").write_text("journey: [\n")
    changed_copy(repo / "journeys", "b.yaml")
    r = git(repo, "diff", check=False)
    assert r.returncode == 0, r.stderr
    assert "journeys/a.yaml: not compared as journeys" in r.stdout
    assert "b/journeys/a.yaml:2:1: invalid YAML" in r.stderr
    assert "a/journeys/b.yaml -> b/journeys/b.yaml" in r.stdout  # git went on to the next file


@needs_git
def test_a_rename_names_both_paths(repo: Path) -> None:
    driver(repo)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "changed")
    git(repo, "mv", "journeys/candidate.yaml", "journeys/renamed.yaml")
    out = git(repo, "diff", "--cached", "-M").stdout
    assert out.splitlines()[0] == "a/journeys/candidate.yaml -> b/journeys/renamed.yaml"
    assert "Changes: no changes" in out


def test_an_unmerged_path_as_git_gives_it(cli: Run) -> None:
    env = {**os.environ, "GIT_DIFF_PATH_COUNTER": "1", "GIT_DIFF_PATH_TOTAL": "1"}
    r = cli("diff", "journeys/candidate.yaml", env=env)
    assert (r.returncode, r.stdout) == (0, "journeys/candidate.yaml: unmerged\n")
    assert cli("diff", "journeys/candidate.yaml").returncode == 2  # not from git: wrong usage


# Properties --------------------------------------------------------------------------


def _loaded(d: dict[str, Any], name: str) -> Journey | None:
    try:
        return loads(dumps(d), name)
    except JourneyError:
        return None


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(journey_dicts(max_touchpoints=5), journey_dicts(max_touchpoints=5))
def test_a_diff_is_its_reverse_turned_around(da: dict[str, Any], db: dict[str, Any]) -> None:
    a, b = _loaded(da, "a.json"), _loaded(db, "b.json")
    if a is None or b is None:
        return
    d, back = diff(a, b), diff(b, a)
    flip = {"added": "removed", "removed": "added", "changed": "changed"}
    assert sorted((c.kind, str(c.key), flip[c.change]) for c in d.changes) == sorted(
        (c.kind, str(c.key), c.change) for c in back.changes
    )
    for c in d.changes:
        [r] = [x for x in back.changes if (x.kind, x.key) == (c.kind, c.key)]
        assert [(f.field, f.old, f.new) for f in c.fields] == [
            (f.field, f.new, f.old) for f in r.fields
        ]
        if c.change == "changed":
            assert all(f.old != f.new for f in c.fields)
    assert {(f.rule, f.subject, f.message) for f in d.appeared} == {
        (f.rule, f.subject, f.message) for f in back.disappeared
    }
    same = diff(a, a)
    assert not same.changed and same.leaks == () and same.appeared == same.disappeared == ()
    json.dumps(d.to_dict(), allow_nan=False)  # finite numbers only
    for s in d.success_probability.values():
        assert all(p is None or 0 <= p <= 1 for p in (s.old, s.new))


@given(st.floats(0, 1))
@settings(max_examples=200, derandomize=True)
def test_a_share_never_shows_as_0_or_100_unless_it_is(p: float) -> None:
    shown = _pct(p)
    assert (shown == "0%") == (p == 0)
    assert (shown == "100%") == (p == 1)
