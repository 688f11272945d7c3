"""The CLI as users run it: a real process, its exit status, its output and its files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from journeymap.cli import cli as command

from .conftest import run_cli
from .test_analysis import LOOP

Run = Callable[..., subprocess.CompletedProcess[str]]

BROKEN = """\
journey: broken
stages: [a]
touchpoints:
  - id: t
    stage: b
    quality: 9
    next: [nowhere]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_help_lists_the_commands(cli: Run) -> None:
    r = cli("--help")
    assert r.returncode == 0
    for name in ("validate", "analyze", "paths", "render"):
        assert name in r.stdout


def test_help_does_not_import_the_heavy_libraries() -> None:
    code = (
        "import sys; from journeymap.cli import cli\n"
        "try:\n    cli(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('networkx', 'scipy', 'pydantic', 'yaml', 'pygraphviz', 'jinja2') if m in sys.modules]\n"
        "print(heavy)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip().splitlines()[-1] == "[]"


def test_validate_ok(cli: Run, tmp_path: Path) -> None:
    f = write(tmp_path, "loop.yaml", LOOP)
    r = cli("validate", f)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(f"ok  {f}  (loop: 2 stages, 8 touchpoints, 2 outcomes)")


def test_a_broken_file_gets_every_error_at_once_and_no_traceback(cli: Run, tmp_path: Path) -> None:
    f = write(tmp_path, "broken.yaml", BROKEN)
    for args in (("validate", f), ("analyze", f), ("render", f, "-o", tmp_path / "out")):
        r = cli(*args)
        assert r.returncode == 1
        assert "Traceback" not in r.stderr
        assert r.stderr.splitlines() == [
            f"{f}:5:12: stage 'b' is not declared under `stages`",
            f"{f}:6:14: quality: expected a whole number from 1 (poor) to 5 (excellent), got 9",
            f"{f}:7:12: 'nowhere' is not a touchpoint or outcome",
            "3 problems in 1 file",
        ]
    assert not (tmp_path / "out").exists()


def test_wrong_usage_exits_2(cli: Run, tmp_path: Path) -> None:
    assert cli("validate").returncode == 2
    assert cli("validate", tmp_path / "missing.yaml").returncode == 2
    assert cli("analyze", write(tmp_path, "l.yaml", LOOP), "--format", "xml").returncode == 2
    assert cli("frobnicate").returncode == 2


@pytest.mark.parametrize(
    "args",
    [["inventory"], ["import", "csv"], ["import", "xlsx"], ["import", "mermaid"]],
    ids=" ".join,
)
def test_a_missing_required_output_is_a_usage_error(
    cli: Run, tmp_path: Path, args: list[str]
) -> None:
    """With click 8.3+, ``default=None`` beside ``required=True`` let a missing -o through
    to the command as None: a traceback."""
    r = cli(*args, write(tmp_path, "l.yaml", LOOP))
    assert r.returncode == 2, r.stderr
    assert "Missing option '-o' / '--output'" in r.stderr
    assert "Traceback" not in r.stderr


def test_a_pydantic_plugin_in_the_environment_never_runs(tmp_path: Path) -> None:
    """Pydantic loads every plugin installed in the environment into each model's
    validation: code journeymap never asked for, run on every file read. The CLI
    turns them off (and saves reading every package's metadata at start-up)."""
    site = tmp_path / "site"
    (site / "spy_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "spy_plugin-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: spy-plugin\nVersion: 1.0\n"
    )
    (site / "spy_plugin-1.0.dist-info" / "entry_points.txt").write_text(
        "[pydantic]\nspy = spy_plugin:plugin\n"
    )
    marker = tmp_path / "ran"
    (site / "spy_plugin.py").write_text(
        f"import pathlib\npathlib.Path({str(marker)!r}).write_text('loaded')\n"
        "class Plugin:\n"
        "    def new_schema_validator(self, *args, **kwargs):\n"
        "        return None, None, None\n"
        "plugin = Plugin()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYDANTIC_DISABLE_PLUGINS"}
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    # the plugin is found where pydantic looks, outside the CLI
    probe = "from journeymap import loader"
    subprocess.run([sys.executable, "-c", probe], env=env, check=True, capture_output=True)
    assert marker.exists()
    marker.unlink()
    r = run_cli("validate", write(tmp_path, "l.yaml", LOOP), env=env)
    assert r.returncode == 0, r.stderr
    assert not marker.exists()


def test_analyze_json_for_a_file_and_a_folder(cli: Run, tmp_path: Path) -> None:
    f = write(tmp_path, "loop.yaml", LOOP)
    r = cli("analyze", f, "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["journey"] == "loop"
    assert data["success_probability"] == {"start": 0.4}
    assert data["loops"] == [["apply", "interview", "reapply"], ["spin", "spin2"]]
    assert data["drop_off"] == {"start": 0.2}
    write(tmp_path, "second.yaml", LOOP.replace("journey: loop", "journey: second"))
    r = cli("analyze", tmp_path, "--format", "json")
    assert [d["journey"] for d in json.loads(r.stdout)] == ["loop", "second"]


def test_analyze_table(cli: Run, tmp_path: Path) -> None:
    r = cli("analyze", write(tmp_path, "loop.yaml", LOOP))
    assert r.returncode == 0, r.stderr
    assert "start" in r.stdout and "40%" in r.stdout
    assert "Dead ends (1)" in r.stdout
    assert "apply -> interview -> reapply" in r.stdout


def test_render_writes_into_output_by_default(cli: Run, tmp_path: Path) -> None:
    write(tmp_path, "loop.yaml", LOOP)
    r = cli("render", "loop.yaml", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"wrote {Path('output') / 'loop.svg'}"
    assert (tmp_path / "output" / "loop.svg").read_bytes().startswith(b"<?xml")
    assert "Fontconfig" not in r.stderr


def test_render_formats(cli: Run, tmp_path: Path) -> None:
    f = write(tmp_path, "loop.yaml", LOOP)
    for fmt, magic in (("pdf", b"%PDF"), ("png", b"\x89PNG"), ("dot", b"digraph")):
        r = cli("render", f, "-o", tmp_path / "o", "--format", fmt)
        assert r.returncode == 0, r.stderr
        assert (tmp_path / "o" / f"loop.{fmt}").read_bytes().startswith(magic)


def test_a_broken_file_in_a_folder_writes_nothing(cli: Run, tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    write(src, "a.yaml", LOOP)
    write(src, "b.yaml", BROKEN)
    r = cli("render", src, "-o", tmp_path / "out")
    assert r.returncode == 1
    assert not (tmp_path / "out").exists()


def test_python_dash_m_and_click_runner_agree(tmp_path: Path) -> None:
    f = write(tmp_path, "loop.yaml", LOOP)
    result = CliRunner().invoke(command, ["analyze", str(f), "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["success_probability"] == {"start": 0.4}
    result = CliRunner().invoke(command, ["validate", str(write(tmp_path, "b.yaml", BROKEN))])
    assert result.exit_code == 1


def test_paths_json_csv_and_table(cli: Run, tmp_path: Path) -> None:
    f = write(tmp_path, "loop.yaml", LOOP)
    r = cli("paths", f, "--format", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [
        {"steps": ["start", "apply", "gave-up"], "end": "outcome", "probability": 0.24},
        {"steps": ["start"], "end": "drop-off", "probability": 0.2},
    ]
    r = cli("paths", f, "--to", "success", "--limit", "1", "--format", "csv")
    assert r.stdout.splitlines() == [
        "journey,rank,probability,end,steps",
        "loop,1,0.24,outcome,start > apply > interview > placed",
    ]
    r = cli("paths", tmp_path, "--from", "start", "--format", "json")
    assert [p["journey"] for p in json.loads(r.stdout)] == ["loop"]
    r = cli("paths", f)
    assert "1.     24%  outcome   start -> apply -> gave-up" in r.stdout


def test_paths_refuses_a_question_it_cannot_answer(cli: Run, tmp_path: Path) -> None:
    f = write(tmp_path, "loop.yaml", LOOP)
    # A value that fits no journey is wrong usage, like any bad option: status 2.
    r = cli("paths", f, "--to", "gaveup")
    assert r.returncode == 2
    assert r.stderr == (
        "Error: --to 'gaveup': use lost, success or an outcome id (did you mean 'gave-up'?);"
        " the outcomes of loop: gave-up, placed\n"
    )
    r = cli("paths", f, "--from", "apply")
    assert r.returncode == 2
    assert r.stderr.startswith("Error: --from 'apply' is not an entry of loop")
    assert cli("paths", f, "--limit", "0").returncode == 2


def test_analyze_fail_on_for_ci(cli: Run, tmp_path: Path) -> None:
    f = write(tmp_path, "loop.yaml", LOOP)
    # LOOP has no trap an entry reaches and no closed loop an entry reaches: no errors
    assert cli("analyze", f, "--fail-on", "error").returncode == 0
    r = cli("analyze", f, "--fail-on", "warning")
    assert r.returncode == 1
    assert r.stderr.endswith("findings at warning or worse\n")
    assert "Findings (" in r.stdout  # the analysis is printed first
    cfg = write(tmp_path, "lint.yml", "rules: {dead-end: off, unreachable: off, no-owner: off}\n")
    assert cli("analyze", f, "--fail-on", "warning", "--config", cfg).returncode == 0
    bad = write(tmp_path, "bad.yml", "rules: {dead-end: never}\n")
    r = cli("analyze", f, "--config", bad)
    assert r.returncode == 1
    assert r.stderr.startswith(f"{bad}:1:19: dead-end: use error, warning, info or off")


def test_analyze_json_has_leaks_findings_and_metrics(cli: Run, tmp_path: Path) -> None:
    f = write(tmp_path, "loop.yaml", LOOP)
    data = json.loads(cli("analyze", f, "--format", "json").stdout)
    assert data["leaks"] == [
        {"node": "gave-up", "kind": "outcome", "share": 0.4},
        {"node": "start", "kind": "drop-off", "share": 0.2},
    ]
    assert data["success_share"] == 0.4
    assert {x["rule"] for x in data["findings"]} >= {"dead-end", "unreachable"}
    assert set(data["findings"][0]) == {"rule", "severity", "subject", "message"}
    assert data["metrics"]["routes"] == 2


def test_report_writes_one_file_the_same_every_time(cli: Run, tmp_path: Path) -> None:
    src = write(tmp_path, "loop.yaml", LOOP)
    work = tmp_path / "work"
    work.mkdir()
    r = subprocess.run(
        [sys.executable, "-m", "journeymap", "report", str(src)],
        cwd=work,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    first = (work / "output" / "report.html").read_bytes()
    assert first.startswith(b"<!DOCTYPE html>")
    subprocess.run([sys.executable, "-m", "journeymap", "report", str(src)], cwd=work, check=True)
    assert (work / "output" / "report.html").read_bytes() == first
    r = cli("report", src, "--format", "md", "-o", tmp_path / "r.md")
    assert r.returncode == 0 and (tmp_path / "r.md").read_text().startswith("# Loop journey")
    r = cli("report", write(tmp_path, "broken.yaml", BROKEN), "-o", tmp_path / "never.html")
    assert r.returncode == 1 and not (tmp_path / "never.html").exists()


def test_output_that_cannot_be_written_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    # The console script leaves with os._exit after flushing: a write that fails
    # on the way must still be reported, with status 1.
    f = write(tmp_path, "loop.yaml", LOOP)
    for args in (["analyze", str(f)], ["paths", str(f), "--to", "success", "--format", "csv"]):
        with open("/dev/full", "w") as full:
            r = subprocess.run(
                [sys.executable, "-m", "journeymap", *args],
                stdout=full,
                stderr=subprocess.PIPE,
                text=True,
            )
        assert r.returncode == 1, r.stderr
        assert r.stderr.strip() == "error: cannot write the output: No space left on device"


def test_big_output_through_a_pipe_is_complete(tmp_path: Path) -> None:
    # Megabytes through a pipe, then os._exit: nothing may be left in a buffer.
    lines = ["journey: wide", "stages: [a]", "touchpoints:"]
    lines += [
        f"  - {{id: t{i}, stage: a, owner: team{i % 7}, next: [t{i + 1}]}}" for i in range(3000)
    ]
    lines += ["  - {id: t3000, stage: a}"]
    f = write(tmp_path, "wide.yaml", "\n".join(lines) + "\n")
    r = subprocess.run(
        [sys.executable, "-m", "journeymap", "analyze", str(f), "--format", "json"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": ""},
    )
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)["findings"]) >= 3000


def test_what_reaches_the_terminal_has_no_control_characters() -> None:
    # The loader refuses them in files; journeys made in memory and file names pass here.
    from journeymap.cli import terminal

    assert (
        terminal("a\x1b]0;pwned\x07b\tc\nd\x9be\x7f") == "a\ufffd]0;pwned\ufffdb\tc\nd\ufffde\ufffd"
    )


def test_paths_and_analyze_say_what_to_fix_first(cli: Run, tmp_path: Path) -> None:
    # By hand: halving apply -> gave-up (0.3) gives interview 0.5 * 0.85 / 0.7 and gave-up
    # 0.15, so success from apply is 0.8019 * 0.6 / (1 - 0.8019 * 0.4) = 0.70833 instead
    # of 0.5; of all who start (0.8 reach apply), 0.56667 instead of 0.4: +166.7 per 1,000.
    # Halving start's drop-off sends 0.9 instead of 0.8 to apply: 0.45 instead of 0.4.
    f = write(tmp_path, "loop.yaml", LOOP)
    r = cli("paths", f)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    head = lines.index("Fix first: the customers each change keeps, per 1,000 who start")
    assert lines[head + 1] == "   1. +166.7  halve the way from “Apply” to “Gave up” (now 30%)"
    assert lines[head + 2] == "   2.  +50.0  halve the drop-off at “Start” (now 20%)"
    table = cli("analyze", f).stdout
    assert "   1. +166.7  halve the way from “Apply” to “Gave up” (now 30%)" in table
    data = json.loads(cli("analyze", f, "--format", "json").stdout)
    first = data["fix_first"][0]
    assert first["subject"] == "apply -> gave-up" and first["kind"] == "lost-transition"
    assert abs(first["gain"] - 0.5 / 3) < 1e-9 and first["now"] == 0.3


def test_report_takes_the_findings_config_like_analyze(cli: Run, tmp_path: Path) -> None:
    f = write(
        tmp_path,
        "loop.yaml",
        LOOP.replace("  - id: start\n", "  - id: start\n    tags: [consent]\n"),
    )
    config = write(
        tmp_path, "lint.yaml", "checklists: {other: {privacy: [consent], billing: [invoice]}}\n"
    )
    found = json.loads(cli("analyze", f, "--config", config, "--format", "json").stdout)
    assert [x["subject"] for x in found["findings"] if x["rule"] == "overlooked"] == ["loop"]
    out = tmp_path / "r.md"
    r = cli("report", f, "--config", config, "--format", "md", "-o", out)
    assert r.returncode == 0, r.stderr
    md = out.read_text()
    assert "- ✓ **privacy**: Start" in md and "- ✗ **billing**: missing" in md
    assert "overlooked" in md
    r = cli("report", f, "--format", "md", "-o", out)
    assert "**privacy**" not in out.read_text()  # without the config, kind other has no list
