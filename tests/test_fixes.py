"""Fix first: every gain against an explicit re-solve of the changed journey."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeymap import fixes
from journeymap.analysis import Analysis, analyze
from journeymap.errors import JourneyError
from journeymap.loader import find_files, load, loads
from journeymap.model import Journey

from .strategies import dumps, journey_dicts

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(find_files([ROOT / "journeys"]))


def _changed(journey: Journey, source: str, shares: list[float]) -> Journey:
    """The journey with one touchpoint's transitions given these probabilities."""
    data = journey.model_dump(mode="json")
    for tp in data["touchpoints"]:
        if tp["id"] == source:
            tp["next"] = [
                {"to": t["to"], "probability": p} for t, p in zip(tp["next"], shares, strict=True)
            ]
    return Journey.model_validate(data)


def _brute_force(journey: Journey, fix: fixes.Fix) -> float:
    """The success share of the journey with the fix made, solved from scratch."""
    return analyze(_brute_force_journey(journey, fix)).success_share


def _brute_force_journey(journey: Journey, fix: fixes.Fix) -> Journey:
    """The journey with the fix made."""
    if fix.kind == "drop-off":
        tp = next(t for t in journey.touchpoints if t.id == fix.subject)
        shares, drop = tp.shares()
        total = sum(shares)
        new = [p + (drop / 2) * p / total for p in shares]
    else:
        source, target = fix.subject.split(" -> ")
        tp = next(t for t in journey.touchpoints if t.id == source)
        shares, _ = tp.shares()
        k = next(i for i, t in enumerate(tp.next) if t.to == target)
        freed = shares[k] / 2
        others = sum(p for i, p in enumerate(shares) if i != k)
        new = [p / 2 if i == k else p + freed * p / others for i, p in enumerate(shares)]
    return _changed(journey, tp.id, new)


def _check_all(journey: Journey, result: Analysis) -> None:
    for fix in result.fix_first:
        assert fix.exact
        expected = _brute_force(journey, fix) - result.success_share
        assert fix.gain == pytest.approx(expected, abs=1e-9), fix


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_gain_of_the_examples_is_a_re_solve(path: Path) -> None:
    journey = load(path)
    result = analyze(journey)
    assert len(result.fix_first) >= 5
    _check_all(journey, result)


LOOPY = """
journey: loopy
stages: [a, b]
touchpoints:
  - {id: start, stage: a, next: [{to: check, probability: 0.8}]}
  - id: check
    stage: a
    next:
      - {to: check, probability: 0.2}
      - {to: fix, probability: 0.3}
      - {to: done, probability: 0.3}
      - {to: lost, probability: 0.1}
  - id: fix
    stage: b
    next: [{to: check, probability: 0.6}, {to: lost, probability: 0.1}]
outcomes:
  - {id: done, result: success}
  - {id: lost, result: lost}
"""


def test_a_loop_with_a_self_loop_matches_the_closed_form_and_a_re_solve() -> None:
    journey = loads(LOOPY, "loopy.yaml")
    result = analyze(journey)
    kinds = {(f.subject, f.kind) for f in result.fix_first}
    assert kinds == {
        ("start", "drop-off"),
        ("check", "drop-off"),
        ("fix", "drop-off"),
        ("check -> lost", "lost-transition"),
        ("fix -> lost", "lost-transition"),
    }
    _check_all(journey, result)
    gains = [f.gain for f in result.fix_first]
    assert gains == sorted(gains, reverse=True)
    # By hand: halving start's drop-off (0.2) sends 0.9 into the loop instead of 0.8.
    start = next(f for f in result.fix_first if f.subject == "start")
    x_check = result.success_probability["start"] / 0.8
    assert start.gain == pytest.approx(0.1 * x_check, abs=1e-12)
    assert start.now == pytest.approx(0.2)


def test_no_fix_where_nothing_is_freed() -> None:
    text = """
journey: plain
stages: [a]
touchpoints:
  - {id: only, stage: a, next: [{to: lost, probability: 1}]}
  - {id: two, stage: a, next: [{to: done, probability: 0.5}, {to: lost, probability: 0.5}]}
entries: [only, two]
outcomes: [{id: done, result: success}, {id: lost, result: lost}]
"""
    result = analyze(loads(text, "plain.yaml"))
    # `only` has no other way to take what halving its lost transition frees.
    assert [f.subject for f in result.fix_first] == ["two -> lost"]
    assert result.fix_first[0].gain == pytest.approx(0.5 * 0.25)
    assert result.to_dict()["fix_first"] == [
        {"subject": "two -> lost", "kind": "lost-transition", "now": 0.5, "gain": 0.125}
    ]


def _ring(n: int) -> str:
    """A ring of n touchpoints with drop-off and a way out at each, and rework across."""
    rng = np.random.default_rng(7)
    tps = []
    for i in range(n):
        out = [
            {"to": f"t{(i + 1) % n}", "probability": round(float(rng.uniform(0.4, 0.6)), 3)},
            {"to": f"t{int(rng.integers(n))}", "probability": round(float(rng.uniform(0, 0.1)), 3)},
            {"to": "done", "probability": round(float(rng.uniform(0.05, 0.15)), 3)},
            {"to": "lost", "probability": round(float(rng.uniform(0.0, 0.1)), 3)},
        ]
        seen: dict[str, dict[str, Any]] = {}
        for t in out:
            if t["to"] in seen:
                seen[t["to"]]["probability"] = round(
                    seen[t["to"]]["probability"] + t["probability"], 3
                )
            else:
                seen[t["to"]] = t
        tps.append({"id": f"t{i}", "stage": "s", "next": list(seen.values())})
    return json.dumps(
        {
            "journey": "ring",
            "stages": ["s"],
            "touchpoints": tps,
            "entries": ["t0", "t5"],
            "outcomes": [{"id": "done", "result": "success"}, {"id": "lost", "result": "lost"}],
        }
    )


def test_large_loops_are_bracketed_and_the_top_resolved(monkeypatch: pytest.MonkeyPatch) -> None:
    journey = loads(_ring(60), "ring.json")
    dense = {(f.subject, f.kind): f for f in analyze(journey).fix_first}
    assert all(f.exact for f in dense.values())
    monkeypatch.setattr(fixes, "DENSE_LIMIT", 10)
    bracketed = analyze(journey).fix_first
    top = bracketed[: fixes.CERTAIN]
    # The top ones are exact, the same as the dense answer, and the top of it.
    assert all(f.exact for f in top)
    ranked = sorted(dense.values(), key=lambda f: (-f.gain, f.subject, f.kind))
    assert [(f.subject, f.gain) for f in top] == [
        (f.subject, f.gain) for f in ranked[: fixes.CERTAIN]
    ]
    for fix in bracketed:
        truth = dense[(fix.subject, fix.kind)].gain
        if fix.exact:
            assert fix.gain == pytest.approx(truth, abs=1e-12)
        else:
            assert fix.gain_max is not None
            assert fix.gain - 1e-12 <= truth <= fix.gain_max + 1e-12
            assert fix.to_dict()["exact"] is False
    # And the dense answers are the re-solves.
    for fix in ranked[:8]:
        expected = _brute_force(journey, fix) - analyze(journey).success_share
        assert fix.gain == pytest.approx(expected, abs=1e-9)


FUZZ = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


@FUZZ
@given(journey_dicts())
def test_gains_are_re_solves_on_drawn_journeys(d: dict[str, Any]) -> None:
    try:
        journey = loads(dumps(d, "json"), "x.json")
    except JourneyError:
        return
    result = analyze(journey)
    for fix in result.fix_first:
        assert 0.0 <= fix.gain <= 1.0 - result.success_share + 1e-9
    _check_all(journey, result)


def test_a_large_loop_customers_almost_never_leave_keeps_its_bracket() -> None:
    # Past DENSE_LIMIT an iterative solve would subtract its way to a wrong number
    # (or a singular matrix): the bracket stays open instead, and holds the truth.
    n, eps = fixes.DENSE_LIMIT + 100, 1e-14
    tps: list[dict[str, Any]] = [{"id": "e", "stage": "s", "next": ["t0"]}]
    tps += [{"id": f"t{k}", "stage": "s", "next": [f"t{k + 1}"]} for k in range(n - 1)]
    last = [
        {"to": "t0", "probability": 1.0 - 2 * eps},
        {"to": "won", "probability": eps},
        {"to": "bad", "probability": eps},
    ]
    tps.append({"id": f"t{n - 1}", "stage": "s", "next": last})
    doc = {
        "journey": "ring",
        "stages": ["s"],
        "touchpoints": tps,
        "outcomes": [{"id": "won", "result": "success"}, {"id": "bad", "result": "lost"}],
        "entries": ["e"],
    }
    result = analyze(loads(json.dumps(doc), "ring.json"))
    (fix,) = result.fix_first
    assert fix.subject == f"t{n - 1} -> bad"
    assert not fix.exact and fix.gain_max is not None
    # Halving the way to `bad` makes success (1 + b) / (1.5 + b), b = (eps / 2) / (1 - eps).
    b = (eps / 2) / (1 - eps)
    truth = (1 + b) / (1.5 + b) - 0.5
    assert fix.gain <= truth <= fix.gain_max


def test_from_one_entry_the_gains_are_that_entry_s_success_probability() -> None:
    from journeymap.analysis import fixes_of

    journey = load(EXAMPLES[0])
    entry = sorted(journey.entry_ids)[-1]
    before = analyze(journey).success_probability[entry]
    for fix in fixes_of(journey, entry)[:6]:
        changed = _brute_force_journey(journey, fix)
        after = analyze(changed).success_probability[entry]
        assert fix.gain == pytest.approx(after - before, abs=1e-9), fix


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from([0.0, -0.0, 0.25, 1.0, 2.0, np.nan, np.inf, -np.inf]),
        min_size=1,
        max_size=12,
    ),
    st.randoms(use_true_random=False),
)
def test_largest_first_picks_what_the_sort_picked(values: list[float], rng: Any) -> None:
    """_refine's pick without a sort: the item a lexsort put first, ties and NaN included."""
    items = np.asarray(sorted(rng.sample(range(1000), len(values))), dtype=np.int64)
    gains = np.asarray(values, dtype=np.float64)
    assert fixes._largest_first(items, gains) == items[np.lexsort((items, -gains))[0]]
