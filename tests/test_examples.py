"""Every example journey in journeys/ loads, makes sense, and renders.

The examples are what a new user copies first, so they must stay valid and
must show what the tool finds: loops, drop-off, lost outcomes and a dead end.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from journeymap import analyze, load, render
from journeymap.loader import find_files

EXAMPLES = Path(__file__).resolve().parent.parent / "journeys"
FILES = sorted(find_files([EXAMPLES]))
# Written by hand, as a firm declares its journeys; *-observed.yaml are discovered from
# an event log (tests/logs/test_discovery.py checks those against the log).
DECLARED = [f for f in FILES if not f.stem.endswith("-observed")]
SVG = "{http://www.w3.org/2000/svg}"


def test_there_are_examples_for_both_sides_of_a_staffing_firm() -> None:
    names = {f.stem for f in FILES}
    assert {"candidate", "client"} <= names
    total = sum(len(load(f).touchpoints) for f in FILES)
    assert total >= 40


@pytest.mark.parametrize("path", DECLARED, ids=lambda p: p.name)
def test_example_is_valid_and_shows_where_customers_get_lost(path: Path) -> None:
    j = load(path)
    a = analyze(j)
    assert a.unreachable == []  # every touchpoint can be reached from an entry
    assert a.loops  # rework and repeat business are drawn as loops
    assert a.drop_off
    assert any(o.result == "lost" for o in j.outcomes)
    assert any(o.result == "success" for o in j.outcomes)
    for entry, p in a.success_probability.items():
        assert 0 < p < 1, entry
    # every stage has touchpoints, and the cast of the firm is named
    assert all(j.touchpoints_in(s.id) for s in j.stages)
    assert any(tp.layer == "backstage" for tp in j.touchpoints)
    assert any(tp.interaction == "indirect" for tp in j.touchpoints)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_example_renders_with_every_stage_and_touchpoint_title(path: Path) -> None:
    j = load(path)
    root = ET.fromstring(render(j, "svg"))
    text = " ".join(" ".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    words = " ".join(text.split())
    for stage in j.stages:
        assert stage.title in words
    for tp in j.touchpoints:
        # long titles wrap over lines; every word is drawn
        assert all(word in words for word in tp.title.split()), tp.title
    ids = {e.get("id") for e in root.iter()}
    assert {f"map-tp-{tp.id}" for tp in j.touchpoints} <= ids


def test_the_staffing_story_is_in_the_examples() -> None:
    """The touchpoints a staffing firm's customers meet, named in issue #2."""
    titles = " ".join(tp.title.lower() for f in FILES for tp in load(f).touchpoints)
    for word in (
        "website",
        "job board",
        "social",
        "referred",
        "reviews",
        "registration",
        "interview",
        "test",
        "orientation",
        "presented",
        "check-in",
        "hours",
        "paid",
        "invoice",
        "problem",
        "on-site visit",
        "reference",
        "quote",
        "permanent",
        "consultation",
    ):
        assert word in titles, word
