"""Coverage: the checklists of touchpoints by journey kind, and who starts each touchpoint."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymap import load
from journeymap.coverage import CHECKLISTS, CheckItem, checklist, initiative_by_stage, items, words
from journeymap.findings import Config
from journeymap.model import Journey

from .conftest import journey
from .test_examples import EXAMPLES

Make = Callable[..., Journey]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Invoices", ["invoice"]),
        ("On-site visits", ["on", "site", "visit"]),
        ("Check-ins", ["check", "in"]),
        ("follow-ups", ["follow", "up"]),
        ("Follow_Up", ["follow", "up"]),
        ("client's References", ["client", "reference"]),
        ("client’s", ["client"]),
        ("deliveries", ["delivery"]),
        ("addresses, taxes, matches, wishes", ["address", "tax", "match", "wish"]),
        ("business status analysis", ["business", "status", "analysis"]),
        ("Pays PAYROLL", ["pay", "payroll"]),
        ("bus is", ["bus", "is"]),
        ("e-mail / 网站", ["e", "mail", "网站"]),
        ("", []),
    ],
)
def test_words_are_cut_lowered_and_singular(text: str, expected: list[str]) -> None:
    assert words(text) == expected


CLIENT = """\
journey: shop
kind: client
stages: [s, t]
touchpoints:
  - id: bill
    stage: s
    title: Monthly INVOICES by e-mail
  - id: visit
    stage: s
    title: Account check
    channel: on-site visit
  - id: walk
    stage: s
    title: The visit to the site
    description: a site visit, a quote, references
  - id: dispute
    stage: t
    tags: [Billing, problem_resolution]
  - id: order
    stage: t
    title: Repeat orders
    initiative: firm
"""


def test_a_checklist_lists_each_item_with_what_covers_it(make_journey: Make) -> None:
    found = checklist(make_journey(CLIENT))
    assert [i.tag for i in found] == list(CHECKLISTS["client"])
    covered = {i.tag: i.covered_by for i in found}
    assert covered == {
        # a word in the title, plural and upper case; a tag, in another case
        "billing": ("bill", "dispute"),
        # a phrase in the channel; "visit to the site" is not the phrase, and the
        # description is never read
        "site-visit": ("visit",),
        "references": (),
        "quote": (),
        "order": ("order",),
        # a tag written with an underscore is the item's two words
        "problem-resolution": ("dispute",),
        "follow-up": (),
    }
    billing = found[0]
    assert billing.covered and not found[2].covered
    assert billing.words == CHECKLISTS["client"]["billing"]
    assert billing.to_dict() == {
        "tag": "billing",
        "words": list(CHECKLISTS["client"]["billing"]),
        "covered_by": ["bill", "dispute"],
    }


def test_covering_touchpoints_are_in_file_order(make_journey: Make) -> None:
    text = CLIENT.replace("title: Repeat orders", "title: Repeat orders and invoice queries")
    (billing,) = [i for i in checklist(make_journey(text)) if i.tag == "billing"]
    assert billing.covered_by == ("bill", "dispute", "order")


def test_other_journeys_have_no_checklist_unless_the_config_gives_one(make_journey: Make) -> None:
    j = make_journey(CLIENT.replace("kind: client", "kind: other"))
    assert checklist(j) == []
    config = Config(checklists={"other": {"repeat": ("repeat order",)}})
    assert checklist(j, config) == [CheckItem("repeat", ("repeat order",), ("order",))]
    j = make_journey(CLIENT.replace("kind: client\n", ""))  # other by default
    assert checklist(j) == []


def test_the_config_replaces_removes_and_adds_items() -> None:
    config = Config(
        checklists={
            "client": {"billing": ("statement",), "references": None, "safety": ("ppe",)},
            "candidate": {"pay": None},
        }
    )
    client = items("client", config)
    assert list(client) == [
        "billing",  # same place, new words
        "site-visit",
        "quote",
        "order",
        "problem-resolution",
        "follow-up",
        "safety",  # added at the end
    ]
    assert client["billing"] == ("statement",)
    assert "pay" not in items("candidate", config)
    assert items("client") == dict(CHECKLISTS["client"])  # the built-in ones are untouched
    assert items("other", config) == {}


def test_a_replaced_item_matches_only_its_new_words(make_journey: Make) -> None:
    j = make_journey(CLIENT)
    config = Config(checklists={"client": {"billing": ()}})
    (billing,) = [i for i in checklist(j, config) if i.tag == "billing"]
    assert billing.covered_by == ("dispute",)  # the tag "Billing" still counts, "invoices" not


def test_the_examples_cover_their_checklists_but_for_what_clients_miss() -> None:
    candidate = checklist(load(EXAMPLES / "candidate.yaml"))
    assert [i.tag for i in candidate] == list(CHECKLISTS["candidate"])
    assert all(i.covered for i in candidate)
    client = checklist(load(EXAMPLES / "client.yaml"))
    assert [i.tag for i in client if not i.covered] == ["references", "follow-up"]
    assert {i.tag: i.covered_by for i in client}["site-visit"] == ("site-visit",)


# Titles and tags from a few words, some of which make up the items' phrases.
VOCABULARY = ["site", "visit", "visits", "quote", "a", "follow", "up", "invoice", "order", "x"]
TEXTS = st.lists(st.sampled_from(VOCABULARY), max_size=5).map(" ".join)
TAGS = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=5).map(" ".join)  # never ''


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(TEXTS, st.lists(TAGS, max_size=2)), min_size=1, max_size=6))
def test_the_phrase_lookup_agrees_with_searching_each_text(
    tps: list[tuple[str, list[str]]],
) -> None:
    lines = ["journey: j", "kind: client", "stages: [s]", "touchpoints:"]
    for k, (title, tags) in enumerate(tps):
        lines.append(f"  - {{id: t{k}, stage: s, title: '{title or 'none'}', tags: {tags!r}}}")
    j = journey("\n".join(lines) + "\n")

    def spaced(text: str) -> str:
        return " " + " ".join(words(text)) + " "

    for item in checklist(j):
        phrases = [spaced(p) for p in (item.tag, *item.words)]
        expected = tuple(
            tp.id
            for tp in j.touchpoints
            if any(p in spaced(text) for p in phrases for text in (*tp.tags, tp.title))
        )
        assert item.covered_by == expected, item.tag


def test_initiative_is_counted_per_stage_in_stage_order(make_journey: Make) -> None:
    j = make_journey(
        """\
        journey: j
        stages: [late, early, empty]
        touchpoints:
          - {id: a, stage: early, initiative: firm}
          - {id: b, stage: early}
          - {id: c, stage: late, initiative: customer}
          - {id: d, stage: early, initiative: firm}
        """
    )
    counts = initiative_by_stage(j)
    assert list(counts) == ["late", "early", "empty"]
    assert counts == {
        "late": {"customer": 1, "firm": 0},
        "early": {"customer": 1, "firm": 2},
        "empty": {"customer": 0, "firm": 0},
    }


def test_the_examples_reach_out_first_somewhere() -> None:
    counts = initiative_by_stage(load(EXAMPLES / "client.yaml"))
    assert counts["growth"]["firm"] >= 1  # the quarterly business review
    assert counts["billing"]["firm"] == 0
    candidate = initiative_by_stage(load(EXAMPLES / "candidate.yaml"))
    assert candidate["assignment"]["firm"] >= 1  # the recruiter's check-in call
