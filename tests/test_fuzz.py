"""The fuzzing harness (fuzz/run.py), briefly, as part of every test run.

The long run is ``python fuzz/run.py --minutes 30`` (fuzz/README.md). Here a fixed
seed gives the same ~150 inputs every time: in-process library checks on all of
them, the real CLI on a few, rendering and the report on a few. Any finding fails
the test with the harness's summary, which names each bug and its input.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from fuzz.checks import (
    Run,
    check_analysis,
    check_dot,
    check_markup,
    check_position,
    check_routes,
    check_run,
    check_terminal,
    strict_json,
)
from fuzz.inputs import MARKERS, Source

ROOT = Path(__file__).resolve().parent.parent


def test_inputs_depend_on_seed_and_index_only() -> None:
    # A finding is replayed from (seed, index): nothing else may leak into an input.
    first = [Source(7).make(i) for i in range(40)]
    again = [Source(7).make(i) for i in reversed(range(40))][::-1]
    assert first == again
    assert {x.kind for x in first} == set(Source.KINDS)
    assert first != [Source(8).make(i) for i in range(40)]


def test_checks_catch_what_they_look_for() -> None:
    # A harness that checks nothing would pass forever; each check must bite.
    assert check_markup(f"<svg><text>{MARKERS[0]}</text></svg>", "x", xml=True)
    assert check_markup("<svg><text>&lt;script&gt;</text></svg>", "x", xml=True) == []
    assert check_markup("<svg><text>a &b</text></svg>", "x", xml=True)  # not XML
    assert check_dot(f'a [tooltip="{MARKERS[0]}"];', "x") == []  # Graphviz escapes it
    assert check_dot(f"a [label=<{MARKERS[0]}>];", "x")
    assert check_terminal("ok\tfine\n", "x") == []
    assert check_terminal("title \x1b]0;x\x07", "x")
    good = {
        "entries": ["a"],
        "success_share": 0.25,
        "drop_off": {"a": 0.75},
        "success_probability": {"a": 0.25},
        "leaks": [{"node": "a", "share": 0.75}],
    }
    assert check_analysis(good, "x") == []
    assert check_analysis({**good, "success_share": 0.3}, "x")  # does not add up to 1
    assert check_analysis({**good, "drop_off": {"a": 1.5}}, "x")
    assert check_routes([{"probability": 0.0}], "x", 3)
    assert check_routes([{"probability": 0.2}, {"probability": 0.5}], "x", 3)  # out of order
    with pytest.raises(ValueError):
        strict_json('{"a": NaN}')
    assert check_position(["a: 1", "b: 2"], 3, 1) is None  # one past the end
    assert check_position(["a: 1", "b: 2"], 9, 1)
    data = b"journey: x\n"
    traceback = Run(1, "", "Traceback (most recent call last):\nKeyError: 'x'\n", 0.1, 0)
    assert check_run(traceback, "cli:validate", data, "f.yaml", None)[0].kind == "crash"
    assert (
        check_run(Run(None, "", "", 20, 0), "cli:validate", data, "f.yaml", None)[0].kind == "hang"
    )
    bad_place = Run(1, "", "f.yaml:7:1: oops\n1 problem in 1 file\n", 0.1, 0)
    assert check_run(bad_place, "cli:validate", data, "f.yaml", None)[0].kind == "bad-position"
    fine = Run(1, "", "f.yaml:1:10: oops\nerror: cannot write\n1 problem in 1 file\n", 0.1, 0)
    assert check_run(fine, "cli:validate", data, "f.yaml", None) == []


def test_fuzz_briefly(tmp_path: Path) -> None:
    out = tmp_path / "findings"
    # Seed 1, 150 inputs, quick (no multi-second inputs): 2 through the CLI
    # (7 commands in all), 4 rendered and reported, 2 checked for same bytes.
    args = [
        *("--seed", "1", "--count", "150", "--minutes", "5", "--quick", "--no-minimize"),
        *("--cli-every", "75", "--deep-every", "40", "--twice-every", "75"),
        *("--out", str(out), "--quiet"),
    ]
    run = subprocess.run(
        [sys.executable, str(ROOT / "fuzz" / "run.py"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert "Traceback" not in run.stderr, run.stderr
    tried = sum(
        int(line.split()[1]) for line in run.stdout.splitlines() if line.startswith("total")
    )
    assert tried == 150, run.stdout
    details = "\n\n".join(p.read_text("utf-8")[:1500] for p in sorted(out.glob("*/finding.txt")))
    assert run.returncode == 0, f"{run.stdout}\n{details}"
    assert json.dumps(run.stdout)  # the summary is printable text
