"""The second process of a big analysis: same values, same errors, nothing left behind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from journeymap import analysis, parallel
from journeymap.analysis import analyze
from journeymap.loader import load

ROOT = Path(__file__).resolve().parent.parent

forks = pytest.mark.skipif(not parallel._can_fork(), reason="no fork here (threads, one CPU)")


def test_not_worth_it_runs_here_and_only_when_asked() -> None:
    calls: list[int] = []
    pending = parallel.beside(lambda: calls.append(1) or 42, worth=False)
    assert not pending.forked
    assert calls == []  # computed on demand, not before
    assert pending.result() == 42
    assert pending.result() == 42
    assert calls == [1]


@forks
def test_the_child_computes_it() -> None:
    parent = os.getpid()
    pending = parallel.beside(lambda: (os.getpid(), [1.5, "x"]))
    assert pending.forked
    pid, value = pending.result()
    assert pid != parent  # really computed in the other process
    assert value == [1.5, "x"]
    with pytest.raises(ChildProcessError):  # reaped: no zombie left
        os.waitpid(-1, os.WNOHANG)


@forks
def test_a_failure_there_is_raised_here_with_its_message() -> None:
    def boom() -> int:
        raise ValueError(f"failed in {os.getpid()}")

    pending = parallel.beside(boom)
    assert pending.forked
    with pytest.raises(ValueError, match=f"failed in {os.getpid()}$"):
        pending.result()  # recomputed here: the error the user would have had


@forks
def test_a_result_that_does_not_pickle_is_computed_here() -> None:
    parent = os.getpid()
    pending = parallel.beside(lambda: (os.getpid(), lambda: None))
    pid, _ = pending.result()
    assert pid == parent


@forks
def test_cancel_stops_and_reaps_the_child() -> None:
    import time

    pending = parallel.beside(lambda: time.sleep(30))
    assert pending.forked
    started = time.monotonic()
    pending.cancel()
    assert time.monotonic() - started < 5
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)


@forks
@pytest.mark.parametrize("name", ["candidate.yaml", "client.yaml"])
def test_analysis_with_the_time_beside_is_the_same(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    journey = load(ROOT / "journeys" / name)
    alone = json.dumps(analyze(journey).to_dict())
    seen: list[bool] = []
    original = analysis.beside

    def spy(fn, *, worth):  # type: ignore[no-untyped-def]
        pending = original(fn, worth=worth)
        seen.append(pending.forked)
        return pending

    monkeypatch.setattr(analysis, "PARALLEL_TRANSITIONS", 0)
    monkeypatch.setattr(analysis, "beside", spy)
    assert json.dumps(analyze(journey).to_dict()) == alone
    assert seen == [True]


def test_small_journeys_stay_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bool] = []
    original = analysis.beside

    def spy(fn, *, worth):  # type: ignore[no-untyped-def]
        pending = original(fn, worth=worth)
        seen.append(pending.forked)
        return pending

    monkeypatch.setattr(analysis, "beside", spy)
    analyze(load(ROOT / "journeys" / "candidate.yaml"))
    assert seen == [False]
