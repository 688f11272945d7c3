"""The second process of a big analysis: same values, same errors, nothing left behind.

A fork is only safe with a single thread, and the test process may hold others
(the browser's, a preview server's): each forking case runs in a fresh Python of
its own, as the CLI does.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from journeymap import analysis, parallel
from journeymap.analysis import analyze
from journeymap.loader import load

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the second process is Linux only"
)


# Two CPUs as far as the tests are concerned: the mechanism is tested on one-CPU
# machines too, where journeymap itself would not fork.
TWO_CPUS = "import os\nos.sched_getaffinity = lambda pid: {0, 1}\n"


def fresh(code: str) -> Any:
    """What ``code`` prints as JSON (its last line), run in a new single-threaded Python."""
    r = subprocess.run(
        [sys.executable, "-c", TWO_CPUS + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_not_worth_it_runs_here_and_only_when_asked() -> None:
    calls: list[int] = []
    pending = parallel.beside(lambda: calls.append(1) or 42, worth=False)
    assert not pending.forked
    assert calls == []  # computed on demand, not before
    assert pending.result() == 42
    assert pending.result() == 42
    assert calls == [1]


def test_the_child_computes_it_and_is_reaped() -> None:
    got = fresh(
        """
        import json, os
        from journeymap import parallel
        pending = parallel.beside(lambda: (os.getpid(), [1.5, "x"]))
        pid, value = pending.result()
        try:
            os.waitpid(-1, os.WNOHANG)
            left = True
        except ChildProcessError:
            left = False
        print(json.dumps([pending.forked, pid != os.getpid(), value, left]))
        """
    )
    assert got == [True, True, [1.5, "x"], False]  # computed there, no zombie left


def test_a_failure_there_is_raised_here_with_its_message() -> None:
    got = fresh(
        """
        import json, os
        from journeymap import parallel

        def boom():
            raise ValueError(f"failed in {os.getpid()}")

        pending = parallel.beside(boom)
        try:
            pending.result()
        except ValueError as exc:
            print(json.dumps([pending.forked, str(exc) == f"failed in {os.getpid()}"]))
        """
    )
    assert got == [True, True]  # recomputed here: the error the user would have had


def test_a_result_that_does_not_pickle_is_computed_here() -> None:
    got = fresh(
        """
        import json, os
        from journeymap import parallel
        pending = parallel.beside(lambda: (os.getpid(), lambda: None))
        pid, _ = pending.result()
        print(json.dumps([pending.forked, pid == os.getpid()]))
        """
    )
    assert got == [True, True]


def test_cancel_stops_and_reaps_the_child() -> None:
    got = fresh(
        """
        import json, os, time
        from journeymap import parallel
        pending = parallel.beside(lambda: time.sleep(30))
        started = time.monotonic()
        pending.cancel()
        took = time.monotonic() - started
        try:
            os.waitpid(-1, os.WNOHANG)
            left = True
        except ChildProcessError:
            left = False
        print(json.dumps([pending.forked, took < 5, left]))
        """
    )
    assert got == [True, True, False]


def test_no_fork_when_the_system_refuses_one() -> None:
    got = fresh(
        """
        import errno, json, os
        from journeymap import parallel

        def refuse():
            raise OSError(errno.ENOMEM, "Cannot allocate memory")

        before = len(os.listdir("/proc/self/fd"))
        os.fork = refuse
        pending = parallel.beside(lambda: 7)
        after = len(os.listdir("/proc/self/fd"))
        print(json.dumps([pending.forked, pending.result(), after - before]))
        """
    )
    assert got == [False, 7, 0]  # one process, and no descriptor left open


def test_no_fork_beside_other_threads() -> None:
    got = fresh(
        """
        import json, threading, time
        from journeymap import parallel
        stop = threading.Event()
        worker = threading.Thread(target=stop.wait)
        worker.start()
        pending = parallel.beside(lambda: 1)
        stop.set()
        worker.join()
        print(json.dumps([pending.forked, pending.result()]))
        """
    )
    assert got == [False, 1]


@pytest.mark.parametrize("name", ["candidate.yaml", "client.yaml"])
def test_analysis_with_the_time_beside_is_the_same(name: str) -> None:
    alone = analyze(load(ROOT / "journeys" / name)).to_dict()
    got = fresh(
        f"""
        import json
        from journeymap import analysis
        from journeymap.loader import load
        seen = []
        original = analysis.beside

        def spy(fn, *, worth):
            pending = original(fn, worth=worth)
            seen.append(pending.forked)
            return pending

        analysis.PARALLEL_TRANSITIONS = 0
        analysis.beside = spy
        data = analysis.analyze(load("journeys/{name}")).to_dict()
        print(json.dumps([seen, data]))
        """
    )
    assert got[0] == [True]
    assert got[1] == json.loads(json.dumps(alone))


def test_small_journeys_stay_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    original = analysis.beside

    def spy(fn: Any, *, worth: bool) -> Any:
        pending = original(fn, worth=worth)
        seen.append(pending.forked)
        return pending

    monkeypatch.setattr(analysis, "beside", spy)
    analyze(load(ROOT / "journeys" / "candidate.yaml"))
    assert seen == [False]


def test_a_map_never_forks_even_for_a_big_journey(monkeypatch: pytest.MonkeyPatch) -> None:
    """Maps leave the time unread (quantiles=False): no second process for it."""
    seen: list[bool] = []
    original = analysis.beside

    def spy(fn: Any, *, worth: bool) -> Any:
        seen.append(worth)
        return original(fn, worth=worth)

    monkeypatch.setattr(analysis, "PARALLEL_TRANSITIONS", 0)
    monkeypatch.setattr(analysis, "beside", spy)
    analyze(load(ROOT / "journeys" / "candidate.yaml"), quantiles=False)
    assert seen == [False]
