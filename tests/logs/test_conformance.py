"""compare: a declared journey against an event log, checked against plain Python.

Logs are simulated from a declared journey (tests/logs/simulate.py, fixed seeds),
so what they hold is known case by case; the tiny log is computed by hand.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import pytest

from journeymap.loader import load, loads
from journeymap.logs import compare, discover_file
from journeymap.logs.conformance import (
    Conformance,
    conformance_table,
    node_of_activities,
    wilson,
)
from journeymap.logs.mapping import Mapping, OutcomeSpec
from journeymap.logs.readers import LogOptions, connect, load_events
from journeymap.model import Journey
from tests.logs.simulate import simulate, tally, write_csv
from tests.logs.test_discovery import RECRUITING_MAP
from tests.logs.test_readers import DATA

Z = 1.959963984540054

# Two entries, loops back (screen -> apply, interview -> screen), drop-offs, a
# touchpoint with volumes instead of probabilities, three outcomes: 18 transitions.
DECLARED = """\
journey: hiring
title: Hiring
stages: [find, apply, select, offer]
touchpoints:
  - id: posting
    title: Job posting
    stage: find
    next:
      - {to: website, probability: 0.5, wait: 1d}
      - {to: apply, probability: 0.3, wait: 2h}
  - id: referral
    title: Referral by a friend
    stage: find
    next:
      - {to: apply, probability: 0.7, wait: 3d}
      - {to: call, probability: 0.2, wait: 4h}
  - id: website
    title: Careers website
    stage: find
    next:
      - {to: apply, probability: 0.6, wait: 30m}
      - {to: call, probability: 0.25, wait: 1d}
  - id: call
    title: Branch call
    stage: apply
    next:
      - {to: apply, probability: 0.8, wait: 1h}
      - {to: rejected, probability: 0.2, wait: 2d}
  - id: apply
    title: Submit application
    stage: apply
    next:
      - {to: screen, probability: 0.9, wait: 2d}
      - {to: rejected, probability: 0.1, wait: 5d}
  - id: screen
    title: First screening
    stage: select
    next:
      - {to: interview, probability: 0.5, wait: 3d}
      - {to: apply, probability: 0.1, wait: 1d}
      - {to: rejected, probability: 0.35, wait: 4d}
  - id: interview
    title: Interview
    stage: select
    next:
      - {to: offer, probability: 0.4, wait: 2d}
      - {to: screen, probability: 0.1, wait: 1d}
      - {to: rejected, probability: 0.5, wait: 3d}
  - id: offer
    title: Job offer
    stage: offer
    volume: 100
    next:
      - {to: hired, volume: 80, wait: 5d}
      - {to: declined, volume: 20, wait: 2d}
outcomes:
  - {id: hired, title: Hired, result: success}
  - {id: declined, title: Offer declined, result: lost}
  - {id: rejected, title: Send rejection, result: lost}
entries: [{id: posting, volume: 600}, {id: referral, volume: 400}]
"""

CASES = 5000
SEED = 20241124


def declared() -> Journey:
    return loads(DECLARED, "hiring.yaml")


@pytest.fixture(scope="module")
def walks() -> list[list[tuple[str, float]]]:
    return simulate(declared(), CASES, SEED)


def _titles(j: Journey) -> Any:
    return lambda node: j.nodes[node].title


# --- (1) a log of the journey itself -------------------------------------------------


def test_a_log_simulated_from_the_journey_fits_it(tmp_path: Path, walks: Any) -> None:
    j = declared()
    log = write_csv(tmp_path / "log.csv", walks, _titles(j), seed=1)
    c = compare(j, [log])
    events, pairs, ends = tally(walks)

    assert (c.cases, c.fitting_cases, c.fitness) == (CASES, CASES, 1.0)
    assert c.observed_not_declared == []
    assert c.unknown_activities == []
    assert c.declared_not_observed == []  # every transition happens in 5,000 cases
    # The counts are the walks' own, pair by pair.
    assert {(p.src, p.dst): p.count for p in c.pairs} == dict(pairs)
    assert len(c.transitions) == 18
    for t in c.transitions:
        assert t.count == pairs[(t.src, t.dst)]
        assert t.observed == pairs[(t.src, t.dst)] / events[t.src]
        assert t.low <= t.observed <= t.high
    # 95% intervals: about one transition in twenty misses by chance, not more.
    outside = [t for t in c.transitions if t.outside]
    assert len(outside) <= 2, outside
    # Offer's volumes make 0.8 and 0.2, and the declared value is that share.
    by_pair = {(t.src, t.dst): t for t in c.transitions}
    assert by_pair[("offer", "hired")].declared == 0.8
    assert by_pair[("screen", "apply")].declared == 0.1
    # Drop-offs: posting leaves 20%, website 15%, referral 10%, screen 5%, the rest none.
    assert {k: v[0] for k, v in c.drop_off.items()} == {
        "posting": 0.2,
        "referral": 0.1,
        "website": 0.15,
        "call": 0.0,
        "apply": 0.0,
        "screen": 0.05,
        "interview": 0.0,
        "offer": 0.0,
    }
    for tp, (_, observed) in c.drop_off.items():
        assert observed == ends[tp] / events[tp]
    # Every wait is exact in the simulation, so the median is the declared wait.
    assert len(c.waits) == 18
    for w in c.waits:
        assert w.observed_median_s == w.declared_s
    # Entries as the simulation drew them (600:400), and every event on a path.
    assert c.starts["posting"] + c.starts["referral"] == CASES
    assert c.events == dict(events)

    # The same log against a journey that says 40% go from the posting to the website.
    wrong = loads(
        DECLARED.replace("{to: website, probability: 0.5", "{to: website, probability: 0.4")
    )
    off = compare(wrong, [log]).deviations()
    assert (off[0].src, off[0].dst, off[0].declared) == ("posting", "website", 0.4)
    assert off[0].low > 0.45


def test_an_undeclared_hop_in_37_cases_is_listed_with_that_count(
    tmp_path: Path, walks: Any
) -> None:
    j = declared()
    # 37 cases that leave at the posting get one more event: a job offer an hour later.
    chosen = [i for i, w in enumerate(walks) if len(w) == 1 and w[0][0] == "posting"][:37]
    assert len(chosen) == 37
    extra = {i: [("Job offer", 3600.0)] for i in chosen}
    log = write_csv(tmp_path / "log.csv", walks, _titles(j), seed=2, extra=extra)
    c = compare(j, [log])

    assert c.to_dict()["observed_not_declared"] == [{"from": "posting", "to": "offer", "count": 37}]
    assert c.fitting_cases == CASES - 37
    assert c.fitness == 1 - 37 / CASES
    events, pairs, ends = tally(walks)
    assert c.events["offer"] == events["offer"] + 37
    assert c.drop_off["posting"][1] == (ends["posting"] - 37) / events["posting"]
    # The declared transitions out of the posting keep their counts, over the same events.
    for t in c.transitions:
        if t.src == "posting":
            assert t.count == pairs[("posting", t.dst)]
            assert t.observed == t.count / events["posting"]


def test_a_journey_discovered_from_a_log_fits_it_exactly(tmp_path: Path) -> None:
    """The recruiting log against what discover makes of it: every number agrees."""
    mapping = tmp_path / "recruiting.map.yaml"
    mapping.write_text(RECRUITING_MAP, encoding="utf-8")
    log = DATA / "recruiting-red.jsonocel.gz"
    options = LogOptions(object_type="applications")
    out, _ = discover_file([log], tmp_path / "observed.yaml", options=options, mapping=mapping)
    c = compare(out, [log], options=options, mapping=mapping)

    assert (c.cases, c.fitting_cases, c.fitness) == (916, 916, 1.0)
    assert c.observed_not_declared == [] and c.declared_not_observed == []
    assert c.unknown_activities == []
    assert len(c.transitions) == 18
    for t in c.transitions:
        assert t.declared == t.observed and not t.outside
    for declared_drop, observed_drop in c.drop_off.values():
        assert declared_drop == pytest.approx(observed_drop, abs=1e-12)
    # Declared waits are the medians rounded to the second.
    for w in c.waits:
        assert w.observed_median_s is not None
        assert abs(w.declared_s - w.observed_median_s) <= 0.5
    # Outcomes: 89 hired, 46 declined, 781 rejected, as the issue says.
    assert c.events["offer-accepted-and-hired"] == 89
    assert c.events["job-offer-declined"] == 46
    assert c.events["send-rejection"] == 781


# --- (3) a tiny log, by hand ---------------------------------------------------------

TINY = """\
journey: tiny
title: Tiny
stages: [s]
touchpoints:
  - id: apply
    title: Submit application
    stage: s
    next:
      - {to: screen, probability: 0.8, wait: 1d}
      - {to: rejected, probability: 0.1}
  - id: screen
    title: Screening call
    stage: s
    next:
      - {to: hired, probability: 0.5, wait: 2h}
      - {to: rejected, probability: 0.5}
outcomes:
  - {id: hired, result: success}
  - {id: rejected, title: Send rejection, result: lost}
entries: [apply]
"""

TINY_MAP = """\
touchpoints:
  apply online: {id: apply}
outcomes:
  offer accepted: {result: success, id: hired}
ignore: [noise]
"""

H = 3600
D = 86400
# case, activity, seconds after its start (cases start a day apart)
TINY_LOG = [
    ("c1", " submit  Application ", 0),
    ("c1", "SCREENING CALL", D),
    ("c1", "Hired", D + 2 * H),
    ("c2", "Submit application", 0),
    ("c2", "screening call", 3 * D),
    ("c2", "send rejection", 4 * D),
    ("c3", "Submit application", 0),
    ("c3", "coffee", H),
    ("c3", "screening call", 5 * H),
    ("c4", "screening call", 0),
    ("c4", "hired", H),
    ("c5", "Submit application", 0),
    ("c6", "Submit application", 0),
    ("c6", "hired", 6 * H),
    ("c7", "apply online", 0),
    ("c7", "noise", H),
    ("c7", "Screening call", 2 * D),
    ("c7", "offer accepted", 2 * D + H),
    ("c7", "screening call", 3 * D),  # after the outcome: not on the path
    ("c8", "coffee", 0),
    ("c8", "Submit application", H),
]


def _tiny_log(path: Path, rows: list[tuple[str, str, int]] = TINY_LOG) -> Path:
    from datetime import datetime, timedelta

    lines = ["case_id,activity,timestamp"]
    for case, activity, seconds in reversed(rows):  # out of order on purpose
        start = datetime(2024, 3, 1) + timedelta(days=int(case[1:]))
        lines.append(f'{case},"{activity}",{(start + timedelta(seconds=seconds)).isoformat()}')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _tiny(tmp_path: Path) -> tuple[Path, Path, Path]:
    journey = tmp_path / "tiny.yaml"
    journey.write_text(TINY, encoding="utf-8")
    mapping = tmp_path / "tiny.map.yaml"
    mapping.write_text(TINY_MAP, encoding="utf-8")
    return journey, _tiny_log(tmp_path / "tiny.csv"), mapping


def textbook_wilson(k: int, n: int) -> tuple[float, float]:
    """(p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), clipped to [0, 1]."""
    p = k / n
    root = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    lo = (p + Z * Z / (2 * n) - root) / (1 + Z * Z / n)
    hi = (p + Z * Z / (2 * n) + root) / (1 + Z * Z / n)
    return max(0.0, lo), min(1.0, hi)


def test_wilson_interval_by_hand() -> None:
    # Published values (e.g. Newcombe 1998, table I): 3 of 6 and 0 of 10.
    low, high = wilson(3, 6)
    assert (round(low, 4), round(high, 4)) == (0.1876, 0.8124)
    low, high = wilson(0, 10)
    assert low == 0.0 and round(high, 4) == 0.2775
    low, high = wilson(10, 10)
    assert round(low, 4) == 0.7225 and high == 1.0
    for k, n in [(3, 7), (1, 5), (3, 5), (37, 5000), (916, 916), (1, 1)]:
        assert wilson(k, n) == pytest.approx(textbook_wilson(k, n), abs=1e-12)


def test_every_key_of_a_tiny_log_by_hand(tmp_path: Path) -> None:
    journey, log, mapping = _tiny(tmp_path)
    c = compare(journey, [log], mapping=mapping)
    got = c.to_dict()
    assert list(got) == [
        "journey",
        "cases",
        "fitting_cases",
        "fitness",
        "observed_not_declared",
        "declared_not_observed",
        "transitions",
        "drop_off",
        "waits",
        "unknown_activities",
    ]
    # Paths: c1 apply screen hired; c2 apply screen rejected; c3 apply ?coffee screen;
    # c4 screen hired; c5 apply; c6 apply hired; c7 apply screen hired (noise ignored,
    # the screen after the outcome cut); c8 ?coffee apply. Fit: c1, c2, c5, c7.
    assert got["journey"] == "tiny"
    assert (got["cases"], got["fitting_cases"], got["fitness"]) == (8, 4, 0.5)
    assert got["observed_not_declared"] == [{"from": "apply", "to": "hired", "count": 1}]
    assert got["declared_not_observed"] == [{"from": "apply", "to": "rejected"}]

    def row(src: str, dst: str, declared: float, k: int, n: int) -> dict[str, Any]:
        low, high = textbook_wilson(k, n)
        return {
            "from": src,
            "to": dst,
            "declared": declared,
            "observed": k / n,
            "count": k,
            "low": pytest.approx(low, abs=1e-12),
            "high": pytest.approx(high, abs=1e-12),
            "outside": not low <= declared <= high,
        }

    # apply: 7 events (c1 c2 c3 c5 c6 c7 c8); screen: 5 (c1 c2 c3 c4 c7).
    assert got["transitions"] == [
        row("apply", "screen", 0.8, 3, 7),
        row("apply", "rejected", 0.1, 0, 7),
        row("screen", "hired", 0.5, 3, 5),
        row("screen", "rejected", 0.5, 1, 5),
    ]
    assert [t["outside"] for t in got["transitions"]] == [True, False, False, False]
    assert got["transitions"][1]["low"] == 0.0
    # Ends at apply: c5, c8; at screen: c3.
    assert got["drop_off"] == {
        "apply": {"declared": 0.1, "observed": 2 / 7},
        "screen": {"declared": 0.0, "observed": 1 / 5},
    }
    # apply -> screen: 1d, 3d, 2d (c7's ignored noise is skipped); screen -> hired: 2h, 1h, 1h.
    assert got["waits"] == [
        {"from": "apply", "to": "screen", "declared_s": 86400.0, "observed_median_s": 172800.0},
        {"from": "screen", "to": "hired", "declared_s": 7200.0, "observed_median_s": 3600.0},
    ]
    assert statistics.median([1, 3, 2]) * D == 172800
    assert got["unknown_activities"] == [{"activity": "coffee", "count": 2}]
    # Each log activity's node: by title ignoring case and spaces, by id, by the mapping.
    assert c.activities == {
        " submit  Application ": "apply",
        "Hired": "hired",
        "SCREENING CALL": "screen",
        "Screening call": "screen",
        "Submit application": "apply",
        "apply online": "apply",
        "coffee": None,
        "hired": "hired",
        "offer accepted": "hired",
        "screening call": "screen",
        "send rejection": "rejected",
    }
    json.dumps(got)  # plain JSON types only


def test_without_the_mapping_its_activities_are_unknown(tmp_path: Path) -> None:
    journey, log, _ = _tiny(tmp_path)
    c = compare(journey, [log])
    assert c.unknown_activities == [
        ("coffee", 2),
        ("apply online", 1),
        ("noise", 1),
        ("offer accepted", 1),
    ]
    # c7 is now ?apply-online ?noise screen ?offer-accepted screen (no outcome cuts it):
    # no fit, and no pair of nodes either.
    assert (c.cases, c.fitting_cases) == (8, 3)
    assert c.to_dict()["observed_not_declared"] == [{"from": "apply", "to": "hired", "count": 1}]
    assert (c.events["screen"], c.ends["screen"]) == (6, 2)


def test_a_connection_holding_events_gives_the_same_answer(tmp_path: Path) -> None:
    journey, log, mapping = _tiny(tmp_path)
    from journeymap.logs.mapping import read_mapping

    con = connect()
    load_events(con, [str(log)], LogOptions())
    before = con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall()
    c = compare(load(journey), con, mapping=read_mapping(mapping))
    assert c.to_dict() == compare(journey, [log], mapping=mapping).to_dict()
    assert con.execute("SELECT table_name FROM duckdb_tables() ORDER BY 1").fetchall() == before


def test_how_activities_find_their_nodes() -> None:
    j = loads(
        """\
journey: t
stages: [s]
touchpoints:
  - {id: apply, title: Apply online, stage: s, next: [screening-call, done]}
  - {id: screening-call, title: Phone screen, stage: s, next: [done]}
  - {id: other, title: Apply Online, stage: s}
outcomes:
  - {id: done, title: Hired!, result: success}
""",
        "t.yaml",
    )
    mapping = Mapping(
        stages={"Screening Call": "S"},  # named: discover would make it screening-call
        touchpoints={"ATS apply": {"id": "apply"}, "ghost": {"id": "missing"}},
        outcomes={"contract signed": OutcomeSpec("success", title="hired!")},
        ignore=("heartbeat",),
    )
    activities = [
        "ATS apply",
        "APPLY ONLINE",  # two titles match: the first in file order
        "other",
        "Screening Call",
        "contract signed",
        "ghost",  # the mapping's id is no node: unknown
        "heartbeat",
        "screening call ",  # not named by the mapping, not an id or title: unknown
    ]
    assert node_of_activities(j, activities, mapping) == {
        "ATS apply": "apply",
        "APPLY ONLINE": "apply",
        "other": "other",
        "Screening Call": "screening-call",
        "contract signed": "done",
        "ghost": None,
        "screening call ": None,
    }


def test_the_table_says_where_the_log_leaves_the_map(tmp_path: Path) -> None:
    journey, log, mapping = _tiny(tmp_path)
    c = compare(journey, [log], mapping=mapping)
    text = conformance_table(c)
    assert text.splitlines()[:2] == [
        "Tiny (tiny) against the log: 8 cases",
        "Fitness: 50.0% (4 of 8 cases follow a declared path from an entry)",
    ]
    assert "(1 of 4 transitions with data)" in text
    assert "  apply -> screen     80.0%     42.9%  [15.8%, 75.0%]      3" in text
    assert "Observed but not declared (1 transition):\n  1  apply -> hired" in text
    assert "Declared but never observed (1 transition):\n  apply -> rejected" in text
    assert text.endswith("with their events:\n  2  coffee")


def test_deviations_are_ranked_by_their_size() -> None:
    from journeymap.logs.conformance import TransitionCheck

    checks = [
        TransitionCheck("a", "b", 0.5, 0.3, 30, 0.25, 0.35),
        TransitionCheck("a", "c", 0.1, 0.4, 40, 0.35, 0.45),
        TransitionCheck("b", "c", 0.5, 0.5, 50, 0.45, 0.55),
    ]
    c = Conformance("j", "J", 100, 90, checks, {}, [], [], [], [])
    assert [(t.src, t.dst) for t in c.deviations()] == [("a", "c"), ("a", "b")]
    assert c.fitness == 0.9


# --- (4) the CLI ----------------------------------------------------------------------


def test_compare_through_the_cli(cli: Any, tmp_path: Path) -> None:
    journey, log, mapping = _tiny(tmp_path)
    done = cli("compare", journey, log, "--map", mapping, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == compare(journey, [log], mapping=mapping).to_dict()

    table = cli("compare", journey, log, "--map", mapping)
    assert table.returncode == 0, table.stderr
    assert table.stdout == conformance_table(compare(journey, [log], mapping=mapping)) + "\n"


def test_names_from_the_log_are_escaped_for_the_terminal(cli: Any, tmp_path: Path) -> None:
    journey, _, _ = _tiny(tmp_path)
    log = _tiny_log(tmp_path / "odd.csv", [("c1", "Submit application", 0), ("c1", "x\x1b[2Jy", H)])
    done = cli("compare", journey, log)
    assert done.returncode == 0, done.stderr
    assert "\x1b" not in done.stdout
    assert "x\N{REPLACEMENT CHARACTER}[2Jy" in done.stdout
    as_json = cli("compare", journey, log, "--format", "json")
    assert json.loads(as_json.stdout)["unknown_activities"] == [
        {"activity": "x\x1b[2Jy", "count": 1}
    ]


def test_compare_bad_input(cli: Any, tmp_path: Path) -> None:
    journey, log, _ = _tiny(tmp_path)
    # A file that is no journey: its problems, with its name, status 1.
    done = cli("compare", log, log)
    assert done.returncode == 1
    assert str(log) in done.stderr and "Traceback" not in done.stderr
    # A log the readers refuse: the file and why, status 1.
    bad = tmp_path / "bad.csv"
    bad.write_text("who,what,when\n1,a,2024-01-01\n", encoding="utf-8")
    done = cli("compare", journey, bad)
    assert done.returncode == 1
    assert str(bad) in done.stderr and "who" in done.stderr and "Traceback" not in done.stderr
    # A mapping naming an activity the log lacks: where it says so, status 1.
    wrong = tmp_path / "wrong.map.yaml"
    wrong.write_text("ignore: [nosie]\n", encoding="utf-8")
    done = cli("compare", journey, log, "--map", wrong)
    assert done.returncode == 1
    assert f"{wrong}:1:" in done.stderr and "noise" in done.stderr
    # Wrong usage: a journey file that does not exist, or no log.
    done = cli("compare", tmp_path / "missing.yaml", log)
    assert done.returncode == 2 and "missing.yaml" in done.stderr
    done = cli("compare", journey)
    assert done.returncode == 2


def test_a_dead_end_declares_that_everyone_leaves_and_equal_splits_none() -> None:
    j = loads(
        """\
journey: t
stages: [s]
touchpoints:
  - {id: a, stage: s, next: [b, c]}
  - {id: b, stage: s}
  - {id: c, stage: s, next: [{to: a, wait: 1h}]}
entries: [a]
""",
        "t.yaml",
    )
    con = connect()
    con.execute(
        "CREATE TABLE events AS SELECT * FROM (VALUES"
        " ('1', 'A', TIMESTAMP '2024-01-01 00:00', 1), ('1', 'C', TIMESTAMP '2024-01-01 01:00', 2),"
        " ('1', 'A', TIMESTAMP '2024-01-01 03:00', 3), ('1', 'B', TIMESTAMP '2024-01-01 04:00', 4),"
        " ('2', 'A', TIMESTAMP '2024-01-02 00:00', 5)"
        ") AS t(case_id, activity, ts, seq)"
    )
    c = compare(j, con)
    assert c.drop_off == {"a": (0.0, 1 / 3), "b": (1.0, 1.0), "c": (0.0, 0.0)}
    assert [(t.src, t.dst, t.declared, t.count) for t in c.transitions] == [
        ("a", "b", 0.5, 1),
        ("a", "c", 0.5, 1),
        ("c", "a", 1.0, 1),
    ]
    assert [w.to_dict() for w in c.waits] == [
        {"from": "c", "to": "a", "declared_s": 3600.0, "observed_median_s": 7200.0}
    ]
    assert (c.cases, c.fitting_cases) == (2, 2)
