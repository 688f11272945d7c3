"""Loading: every problem at once, each with FILE:LINE:COLUMN, never a traceback."""

from __future__ import annotations

import dataclasses
import json
import textwrap
import tracemalloc
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymap import loader
from journeymap.errors import JourneyError
from journeymap.loader import load, load_all, loads
from journeymap.model import Transition

GOOD = """\
journey: mini
stages: [awareness, apply]
touchpoints:
  - id: ad
    stage: awareness
    next: [form]
  - id: form
    stage: apply
    next:
      - to: placed
        probability: 0.4
outcomes:
  - id: placed
    result: success
"""


def problems(text: str, name: str = "j.yaml") -> list[str]:
    with pytest.raises(JourneyError) as info:
        loads(textwrap.dedent(text), name)
    return [str(p) for p in info.value.problems]


def test_a_good_journey_loads_with_defaults() -> None:
    j = loads(GOOD, "mini.yaml")
    assert j.journey == "mini"
    assert j.title == "Mini journey"
    assert [s.title for s in j.stages] == ["Awareness", "Apply"]
    assert j.touchpoints[0].interaction == "direct"
    assert j.touchpoints[0].layer == "frontstage"
    assert j.entry_ids == ["ad"]
    assert j.source == "mini.yaml"


def test_every_error_is_reported_at_once_with_line_and_column() -> None:
    found = problems(
        """\
        journey: Candidate Journey
        stages:
          - awareness
          - id: research
            colour: red
        touchpoints:
          - id: post
            stage: awarenes
            quality: 7
            next:
              - websit
          - id: website
            stage: research
            next:
              - {to: won, probability: 0.7}
              - {to: won2, probability: 0.6}
        outcomes:
          - {id: won, result: success}
          - {id: won2, result: sucess}
          - {id: won3, result: success}
        """
    )
    assert found == [
        "j.yaml:1:10: journey id 'Candidate Journey' is not a slug (lowercase letters, digits and"
        " single hyphens, like 'candidate-temp'): it names the output files",
        "j.yaml:5:5: unknown key 'colour'",
        "j.yaml:8:12: stage 'awarenes' is not declared under `stages` (did you mean 'awareness'?)",
        "j.yaml:9:14: quality: expected a whole number from 1 (poor) to 5 (excellent), got 7",
        "j.yaml:11:9: 'websit' is not a touchpoint or outcome (did you mean 'website'?)",
        "j.yaml:14:5: the probabilities out of 'website' add up to 1.3, more than 1",
        "j.yaml:19:24: result: 'sucess' is not allowed; 'success' or 'lost'",
    ]


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("    volume: -5\n", "6:13: volume: expected a number of customers, 0 or more, got -5"),
        ("    volume: .nan\n", "6:13: volume: must be a finite number, got nan"),
        (
            "    emotion: 3\n",
            "6:14: emotion: expected a number from -2 (very negative) through 0 (neutral) to 2"
            " (very positive), got 3",
        ),
        (
            "    quality: 2.5\n",
            "6:14: quality: expected a whole number from 1 (poor) to 5 (excellent), got 2.5",
        ),
        (
            "    volume: '12'\n",
            "6:13: volume: expected a number of customers, 0 or more, got '12' (a number is written without quotes)",
        ),
        ("    duration: 5 minutes\n", "6:15: duration '5 minutes' is not a duration"),
        (
            "    layer: backstag\n",
            "6:12: layer: 'backstag' is not allowed; 'frontstage' or 'backstage'",
        ),
        (
            "    importance: {customer: 6}\n",
            "6:28: importance.customer: expected a whole number from 1 (unimportant) to 5",
        ),
        ("    colour: red\n", "6:5: unknown key 'colour'"),
        ("    chanel: web\n", "6:5: unknown key 'chanel' (did you mean 'channel'?)"),
        ("    stage: a\n", "6:5: key 'stage' is given twice in this mapping (first on line 5)"),
        # Transitions are a validated dataclass, not a model: the same messages.
        ("    next: [{to: t, probablity: 0.5}]\n", "6:20: unknown key 'probablity' (did you"),
        ("    next: [{probability: 0.5}]\n", "6:12: missing required key 'to'"),
        (
            "    next: [{to: t, probability: '1'}]\n",
            "6:33: probability: expected a share from 0 to 1, like 0.35 for 35%, got '1' (a number",
        ),
        ("    next: [{to: t, wait: soon}]\n", "6:26: wait 'soon' is not a duration"),
        ("    next: [{to: t, label: [x]}]\n", "6:27: label: expected text, got a list"),
        ("    next: [{to: 'no id'}]\n", "6:17: 'no id' is not a valid id"),
    ],
)
def test_bad_fields(snippet: str, expected: str) -> None:
    source = "journey: x\nstages: [a]\ntouchpoints:\n  - id: t\n    stage: a\n" + snippet
    found = problems(source)
    assert any(p.startswith("j.yaml:" + expected) for p in found), found


def test_a_transition_is_immutable_and_small() -> None:
    t = Transition(to="x", probability=0.5)
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.to = "y"  # type: ignore[misc]
    assert not hasattr(t, "__dict__")  # slots: a million of them at scale


def test_missing_required_keys() -> None:
    found = problems("journey: x\nstages: [a]\ntouchpoints:\n  - id: t\n")
    assert found == ["j.yaml:4:5: missing required key 'stage'"]


def test_transition_rules() -> None:
    found = problems(
        """\
        journey: x
        stages: [a]
        touchpoints:
          - id: t
            stage: a
            volume: 100
            next:
              - {to: u, volume: 80}
              - {to: u, volume: 30}
          - id: u
            stage: a
            next:
              - {to: t, probability: 0.5}
              - {to: a, volume: 3}
        entries: [t]
        """
    )
    assert found == [
        "j.yaml:7:5: the transition volumes out of 't' add up to 110, more than its volume 100",
        "j.yaml:9:14: 't' already has a transition to 'u'; merge the two (first on line 8)",
        "j.yaml:14:14: 'a' is not a touchpoint or outcome (that is a stage; transitions go to"
        " touchpoints or outcomes)",
        "j.yaml:14:25: 'u' mixes `volume` and `probability` on its transitions; use one kind"
        " (a probability is on line 13)",
    ]


def test_ids_are_unique_across_touchpoints_and_outcomes() -> None:
    found = problems(
        "journey: x\nstages: [a, a]\ntouchpoints:\n  - {id: t, stage: a}\noutcomes:\n"
        "  - {id: t, result: lost}\n"
    )
    assert found == [
        "j.yaml:2:13: stage 'a' is declared twice (first on line 2)",
        "j.yaml:6:10: id 't' is used twice (touchpoints and outcomes share one set of ids)"
        " (first on line 4)",
    ]


def test_entries_must_be_touchpoints() -> None:
    found = problems(
        "journey: x\nstages: [a]\ntouchpoints:\n  - {id: t, stage: a, next: [o]}\n"
        "outcomes:\n  - {id: o, result: lost}\nentries: [tt, o]\n"
    )
    assert found == [
        "j.yaml:7:11: entry 'tt' is not a touchpoint (did you mean 't'?)",
        "j.yaml:7:15: entry 'o' is an outcome; entries are touchpoints",
    ]


def test_entries_with_volumes_are_checked_like_ids() -> None:
    found = problems(
        "journey: x\nstages: [a]\ntouchpoints:\n  - {id: t, stage: a, next: [o]}\n"
        "outcomes:\n  - {id: o, result: lost}\n"
        "entries: [{id: tt, volume: 3}, {id: t, volume: -1}, {id: t, count: 2}, 5]\n"
    )
    assert found == [
        "j.yaml:7:16: entry 'tt' is not a touchpoint (did you mean 't'?)",
        "j.yaml:7:48: volume: expected a number of customers, 0 or more, got -1",
        "j.yaml:7:61: unknown key 'count'",
        "j.yaml:7:72: entry 4 must be a mapping of keys ({id: ..., volume: ...}) or a"
        " touchpoint id, got 5",
    ]


def test_a_journey_without_any_entry_is_refused() -> None:
    found = problems(
        "journey: x\nstages: [a]\ntouchpoints:\n  - {id: t, stage: a, next: [u]}\n"
        "  - {id: u, stage: a, next: [t]}\n"
    )
    assert found == [
        "j.yaml:3:1: no entry: every touchpoint has an incoming transition;"
        " say where customers start with `entries: [...]`"
    ]


def test_empty_and_several_documents_and_non_mappings() -> None:
    assert problems("") == [
        "j.yaml:1:1: empty file: a journey needs `journey`, `stages` and `touchpoints`"
    ]
    assert problems("# only a comment\n")[0].startswith("j.yaml:1:1: empty file")
    assert problems(GOOD + "---\njourney: y\n") == [
        "j.yaml:15:1: invalid YAML: several YAML documents in one file; put one journey in each file"
    ]
    assert problems("- a\n- b\n") == [
        "j.yaml:1:1: a journey file must be a mapping of keys (journey:, stages:, ...)"
    ]
    assert problems("journey: [\n")[0].startswith("j.yaml:2:1: invalid YAML:")


def test_aliases_are_refused() -> None:
    found = problems("journey: &x mini\ntitle: *x\nstages: [a]\ntouchpoints: [{id: t, stage: a}]\n")
    assert found == [
        "j.yaml:1:10: YAML anchors and aliases (&name, *name) are not allowed:"
        " this anchored value is reused by an alias; write it out"
    ]


def test_an_alias_bomb_is_refused_quickly_and_cheaply(tmp_path: Path) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(
            f"{cur}: &{cur} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]"
        )
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("\n".join(lines) + "\n")
    assert bomb.stat().st_size < 800
    tracemalloc.start()
    with pytest.raises(JourneyError) as info:
        load(bomb)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 * 2**20
    assert any("aliases" in p.message for p in info.value.problems)


def test_merge_keys_and_foreign_tags_are_refused() -> None:
    assert "j.yaml:2:1: YAML merge keys (<<) are not allowed" in problems(
        "journey: x\n<<: {title: y}\n"
    )
    assert "j.yaml:1:10: unsupported YAML tag tag:yaml.org,2002:binary" in problems(
        "journey: !!binary aGVsbG8=\n"
    )


def test_dates_in_free_text_stay_text() -> None:
    j = loads(GOOD.replace("  - id: ad\n", "  - id: ad\n    when: 2024-05-01\n"), "m.yaml")
    assert j.touchpoints[0].when == "2024-05-01"


def test_not_utf8_names_line_and_column(tmp_path: Path) -> None:
    f = tmp_path / "latin.yaml"
    f.write_bytes(b"journey: x\ntitle: caf\xe9\n")
    with pytest.raises(JourneyError) as info:
        load(f)
    assert [str(p) for p in info.value.problems] == [
        f"{f}:2:11: not UTF-8 text (byte 0xe9); save the file as UTF-8"
    ]


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    f = tmp_path / "bom.yaml"
    f.write_bytes(b"\xef\xbb\xbf" + GOOD.encode())
    assert load(f).journey == "mini"


def test_oversized_files_are_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(loader.MAX_BYTES, "yaml", 100)
    f = tmp_path / "big.yaml"
    f.write_text(GOOD)
    with pytest.raises(
        JourneyError, match=r"big.yaml:1:1: file is 0.0 MiB; journeys over 0 KiB are refused"
    ):
        load(f)


def test_json_journeys_load_and_report_positions(tmp_path: Path) -> None:
    import yaml

    data = yaml.safe_load(GOOD)
    f = tmp_path / "mini.json"
    f.write_text(json.dumps(data, indent=2))
    assert load(f).journey == "mini"
    data["touchpoints"][0]["stage"] = "nope"
    f.write_text(json.dumps(data, indent=2))
    with pytest.raises(JourneyError) as info:
        load(f)
    (p,) = info.value.problems
    assert (p.line, p.column) == (10, 16)
    assert "stage 'nope' is not declared" in p.message


def test_json_syntax_errors_and_duplicate_keys(tmp_path: Path) -> None:
    f = tmp_path / "bad.json"
    f.write_text('{\n  "journey": "x",\n  "stages": [,]\n}\n')
    with pytest.raises(JourneyError, match=r"bad.json:3:14: invalid JSON"):
        load(f)
    f.write_text('{\n  "journey": "x",\n  "journey": "y"\n}\n')
    with pytest.raises(JourneyError, match=r"bad.json:3:3: key 'journey' is given twice"):
        load(f)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('{"journey": "x", "persona": {"name": "a", "name": "b"}}', "name"),
        ('{"stages": [{"id": "a",\n "id": "b"}]}', "id"),
        ('{"touchpoints": [{"id": "t", "next": [{"to": "u", "to": "v"}]}]}', "to"),
        ('{"touchpoints": [{"importance": {"customer": 1, "customer": 2}}]}', "customer"),
        ('{"unknown": {"deep": [{"k": 1, "k": 2}]}}', "k"),
    ],
)
def test_json_duplicate_keys_are_found_at_any_depth(tmp_path: Path, text: str, key: str) -> None:
    f = tmp_path / "dup.json"
    f.write_text(text)
    with pytest.raises(JourneyError) as info:
        load(f)
    second = text.index(f'"{key}"', text.index(f'"{key}"') + 1)
    line = text.count("\n", 0, second) + 1
    column = second - (text.rfind("\n", 0, second) + 1) + 1
    messages = [str(p) for p in info.value.problems]
    assert f"{f}:{line}:{column}: key '{key}' is given twice" in "\n".join(messages)


# (A newline before the colon is valid JSON too and takes the exact route as well,
# but PyYAML, which locates the duplicate, cannot read a key split from its colon
# over two lines: that rare file gets a syntax message instead.)
@pytest.mark.parametrize("space", [" ", "\t", "  \t "])
def test_a_key_spaced_from_its_colon_does_not_hide_a_duplicate(space: str) -> None:
    text = (
        '{"journey": "a", "journey": "b", "stages"' + space + ': ["s"],'
        ' "touchpoints": [{"id": "t", "stage": "s"}]}'
    )
    with pytest.raises(JourneyError, match=r"x.json:1:18: key 'journey' is given twice"):
        loads(text, "x.json")
    text = (
        '{"journey": "a", "stages": ["s"], "touchpoints": [{"id": "t", "stage": "s",'
        ' "next": [{"to": "u", "probability": 0.1, "probability"' + space + ": 0.9}]}]}"
    )
    with pytest.raises(JourneyError, match=r"key 'probability' is given twice"):
        loads(text, "x.json")


def test_json_text_that_looks_like_a_key_still_loads(tmp_path: Path) -> None:
    # `":` inside a value, and a space before a colon, send the file down the
    # exact route; they must not read as duplicates.
    data = yaml.safe_load(GOOD)
    data["touchpoints"][0]["description"] = 'she said ": fine" and \\": ok'
    f = tmp_path / "mini.json"
    f.write_text(json.dumps(data).replace('"journey":', '"journey" :'))
    assert load(f).touchpoints[0].description == 'she said ": fine" and \\": ok'


# Journey-shaped keys, so that the fast route's count meets the data it expects.
KEYS = ["journey", "persona", "stages", "touchpoints", "next", "importance", "to", 'a":']
# What may stand between a key and its colon; mostly nothing, as JSON writers do.
SPACES = ["", "", "", " ", "\t", "\n "]


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(alphabet='ab":\\ {}', max_size=4),
        lambda inner: (
            st.lists(inner, max_size=3)
            | st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(SPACES), inner), max_size=3)
        ),
        max_leaves=12,
    )
)
def test_json_fast_route_agrees_with_the_exact_one(value: object) -> None:
    text = _dump_with_pairs(value)
    try:
        exact = json.loads(text, object_pairs_hook=loader._json_pairs)
    except loader._DuplicateKey:
        with pytest.raises(loader._DuplicateKey):
            loader._loads_json(text)
        return
    assert loader._loads_json(text) == exact


def _dump_with_pairs(value: object) -> str:
    """JSON text where lists of (key, space, value) become objects, duplicates kept."""
    if isinstance(value, list) and value and all(isinstance(v, tuple) for v in value):
        items = (f"{json.dumps(k)}{space}: {_dump_with_pairs(v)}" for k, space, v in value)
        return "{" + ", ".join(items) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_dump_with_pairs(v) for v in value) + "]"
    return json.dumps(value)


def test_a_folder_loads_every_journey_and_refuses_shared_ids(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yml").write_text(GOOD.replace("journey: mini", "journey: other"))
    (tmp_path / "notes.txt").write_text("not a journey")
    assert [j.journey for j in load_all([tmp_path])] == ["mini", "other"]
    (tmp_path / "c.yaml").write_text(GOOD)
    with pytest.raises(JourneyError) as info:
        load_all([tmp_path])
    assert [str(p) for p in info.value.problems] == [
        f"{tmp_path / 'c.yaml'}:1:10: journey id 'mini' is already used by {tmp_path / 'a.yaml'}"
    ]


def test_problems_of_several_files_are_gathered(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("journey: A\nstages: [a]\ntouchpoints: [{id: t, stage: a}]\n")
    (tmp_path / "b.yaml").write_text("")
    with pytest.raises(JourneyError) as info:
        load_all([tmp_path])
    assert [p.file for p in info.value.problems] == [
        str(tmp_path / "a.yaml"),
        str(tmp_path / "b.yaml"),
    ]


def test_an_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(JourneyError, match="no journey files"):
        load_all([tmp_path])


def test_issues_beside_broken_items_keep_their_lines() -> None:
    # Broken items are dropped to check the rest; what is found in the rest must
    # still point at its own line, not at where it moved to, with any number of
    # items (indices 10 and up sort before 2 as text).
    broken = [f"  - {{id: b{i}, quality: 9}}\n" for i in range(12)]  # no stage: dropped
    source = (
        "journey: x\nstages: [a]\ntouchpoints:\n"
        + "".join(broken)
        + "  - id: t\n    stage: a\n    next: [u, u]\n"
        + "  - {id: u, stage: a, emotion: 7}\n"
        + "  - id: v\n    stage: a\n    next: [nowhere]\nentries: [t]\n"
    )
    found = problems(source)
    assert (
        "j.yaml:18:15: 't' already has a transition to 'u'; merge the two (first on line 18)"
        in found
    )
    assert "j.yaml:22:12: 'nowhere' is not a touchpoint or outcome" in found
    assert sum("missing required key 'stage'" in p for p in found) == 12


def test_issues_inside_an_item_after_dropped_items_keep_their_lines() -> None:
    # A dropped touchpoint before, and a dropped transition before, in one file.
    source = (
        "journey: x\nstages: [a]\ntouchpoints:\n"
        "  - {id: gone}\n"  # line 4: no stage, dropped
        "  - id: t\n    stage: a\n    next:\n"
        "      - {probability: 0.5}\n"  # line 8: no `to`, dropped
        "      - u\n"
        "      - nowhere\n"  # line 10
        "  - {id: u, stage: a}\nentries: [t]\n"
    )
    found = problems(source)
    assert "j.yaml:10:9: 'nowhere' is not a touchpoint or outcome" in found, found


def test_a_list_item_that_is_not_a_mapping_is_named_by_its_place() -> None:
    found = problems(
        "journey: x\nstages: [a, 3]\ntouchpoints: [5, {id: t, stage: a, next: [u, 7]}]\n"
        "outcomes: [x]\n"
    )
    assert "j.yaml:2:13: stage 2 must be a mapping of keys or a stage id, got 3" in found
    assert "j.yaml:3:15: touchpoint 1 must be a mapping of keys, got 5" in found
    assert (
        "j.yaml:3:46: transition 2 must be a mapping of keys ({to: ..., probability: ...})"
        " or the id it leads to, got 7"
    ) in found
    assert "j.yaml:4:12: outcome 1 must be a mapping of keys, got 'x'" in found


@pytest.mark.parametrize(
    "item",
    [
        "{id: b, stage: 5, colour: red}",  # the unknown key sorts before the broken one
        "{id: b, stage: a, next: [{to: 5, prob: 1}]}",
        "{title: Oops}",  # two required keys missing: dropped once, not twice
    ],
)
def test_several_errors_in_one_dropped_item(item: str) -> None:
    # The errors after the first that drops an item go with it; they must not drop
    # or crash on the item that moves into its place.
    source = (
        "journey: x\nstages: [a]\ntouchpoints:\n"
        "  - {id: t, stage: a, next: [c]}\n"
        f"  - {item}\n"
        "  - {id: c, stage: a, next: [nowhere]}\n"
        "entries: [t]\n"
    )
    found = problems(source)
    assert "j.yaml:6:30: 'nowhere' is not a touchpoint or outcome" in found, found


def test_an_error_in_a_dropped_item_does_not_reach_the_next_one() -> None:
    source = (
        "journey: x\nstages: [a]\ntouchpoints:\n"
        "  - {id: t, stage: 5, next: [{to: c, probability: 2}]}\n"
        "  - {id: c, stage: a, next: [{to: d, probability: 0.8}, {to: e, probability: 0.8}]}\n"
        "  - {id: d, stage: a}\n  - {id: e, stage: a}\nentries: [c]\n"
    )
    found = problems(source)
    assert any("the probabilities out of 'c' add up to 1.6" in p for p in found), found


# Hostile and unlucky input (issue #12) ---------------------------------------------

TINY = "journey: x\nstages: [s]\ntouchpoints: [{id: a, stage: s, next: [won]}]\noutcomes: [{id: won, result: success}]\n"


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        # 30,000 levels of flow nesting crashed PyYAML's C composer (signal 11).
        ("flow.yaml", "journey: x\ndescription: " + "[" * 30_000 + "]" * 30_000 + "\n", "2:78"),
        # Block sequences nest on one line too: `- - - x`.
        ("block.yaml", "journey: x\ndescription:\n  " + "- " * 30_000 + "x\n", "3:131"),
        # Python's JSON decoder stops with a RecursionError near 1,000 levels...
        ("deep.json", '{"journey": "x", "d": ' + "[" * 30_000 + "]" * 30_000 + "}", "1:87"),
        # ...and under that, the checks that explain validation errors recursed.
        ("less.json", '{"journey": "x", "d": ' + "[" * 400 + "]" * 400 + "}", "1:87"),
    ],
)
def test_deep_nesting_is_refused_where_it_starts(name: str, text: str, where: str) -> None:
    assert problems(text, name) == [
        f"{name}:{where}: nested more than 64 levels deep; a journey needs fewer than 10"
    ]


def test_deep_nesting_never_crashes_the_command(tmp_path: Path) -> None:
    import subprocess
    import sys

    f = tmp_path / "deep.yaml"
    f.write_text("journey: x\ndescription: " + "[" * 30_000 + "]" * 30_000 + "\n")
    proc = subprocess.run(
        [sys.executable, "-m", "journeymap", "validate", str(f)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert "deep.yaml:2:78: nested more than 64 levels deep" in proc.stderr


def test_numbers_too_long_for_python_are_a_problem_with_a_place() -> None:
    digits = "1" * 5000
    assert problems(TINY + f"title: {digits}\n") == [
        "j.yaml:5:8: number too long (5,000 characters)"
    ]
    text = '{"journey": "x", "title": ' + digits + ', "stages": ["s"]}'
    assert "j.json:1:27: number too long (5,000 characters)" in problems(text, "j.json")


def test_control_characters_in_the_text_are_placed_exactly() -> None:
    # The YAML reader refuses them raw; it used to be reported at 1:1 with a second line.
    assert problems(TINY + "title: ab\x7fc\n") == [
        "j.yaml:5:10: control character U+007F is not allowed in a journey file"
    ]
    assert problems("journey: x\n\n  title: \x00\n") == [
        "j.yaml:3:10: control character U+0000 is not allowed in a journey file"
    ]


@pytest.mark.parametrize(
    ("escape", "char"),
    [("\\f", "000C"), ("\\e]0;pwned\\a", "001B"), ("\\x9b", "009B"), ("\\0", "0000")],
)
def test_control_characters_from_yaml_escapes_are_refused(escape: str, char: str) -> None:
    # A title that clears or retitles the terminal, breaks Graphviz or the SVG's XML.
    found = problems(TINY + f'title: "a{escape}b"\n')
    assert found == [f"j.yaml:5:8: title: control character U+{char} is not allowed in text"]


def test_control_characters_and_lone_surrogates_from_json_escapes_are_refused() -> None:
    text = (
        '{"journey": "x", "title": "a\\ud800", "stages": ["s"],\n'
        ' "touchpoints": [{"id": "a", "stage": "s", "owner": "x\\u001b[2J"}]}'
    )
    assert problems(text, "j.json") == [
        "j.json:1:27: title: control character U+D800 is not allowed in text",
        "j.json:2:53: owner: control character U+001B is not allowed in text",
    ]
    # Escaped ordinary text, emoji as surrogate pairs included, is fine.
    good = json.dumps(yaml.safe_load(GOOD) | {"title": "Café 😀 \t tab"}, ensure_ascii=True)
    assert loads(good, "j.json").title == "Café 😀 \t tab"


def test_tags_on_collections_are_refused() -> None:
    found = problems(
        "journey: x\nstages: !!python/object/apply:os.system [s]\n"
        "touchpoints: [{id: a, stage: s}]\n"
    )
    assert found == [
        "j.yaml:2:9: unsupported YAML tag tag:yaml.org,2002:python/object/apply:os.system"
    ]
    assert "j.yaml:2:9: unsupported YAML tag tag:yaml.org,2002:set" in problems(
        "journey: x\nstages: !!set {a, b}\n"
    )


def test_only_regular_files_are_read(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    with pytest.raises(JourneyError, match="/dev/zero:1:1: not a regular file"):
        load("/dev/zero")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    # A FIFO nobody writes to blocked the command forever.
    proc = subprocess.run(
        [sys.executable, "-m", "journeymap", "validate", str(fifo)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert f"{fifo}:1:1: not a regular file" in proc.stderr


def test_a_json_key_split_from_its_colon_still_finds_the_duplicate() -> None:
    text = '{"journey": "x",\n "journey"\n : "y"}'
    assert "j.json:2:2: key 'journey' is given twice in this mapping (first on line 1)" in (
        problems(text, "j.json")
    )


def test_many_unknown_keys_are_each_placed(tmp_path: Path) -> None:
    # 50,000 of them took over a minute: each was looked up by a walk of the mapping.
    keys = "".join(f"  k{i}: 1\n" for i in range(3000))
    text = "journey: x\nstages: [s]\ntouchpoints:\n- id: a\n  stage: s\n" + keys
    found = problems(text)
    assert len(found) == 3000
    assert found[0] == "j.yaml:6:3: unknown key 'k0'"
    assert found[-1] == "j.yaml:3005:3: unknown key 'k2999'"


def test_suggestions_stop_after_a_budget_of_comparisons(monkeypatch: pytest.MonkeyPatch) -> None:
    # 4,000 misspelt ids among 4,000 ids took 50 s to suggest for, one by one.
    tps = "".join(f"  - {{id: t{i}, stage: s, next: [t{i}x]}}\n" for i in range(50))
    text = "journey: x\nstages: [s]\ntouchpoints:\n" + tps
    assert all("did you mean" in p for p in problems(text))
    monkeypatch.setattr(loader, "SUGGESTION_BUDGET", 10 * 50)
    found = problems(text)
    assert [("did you mean" in p) for p in found] == [True] * 10 + [False] * 40


def test_numbers_in_exponent_form_are_numbers() -> None:
    # YAML 1.1 (PyYAML) read 1e-9 and 1.0e308 as text: "Input should be a valid number".
    text = (
        "journey: x\nstages: [s]\ntouchpoints:\n"
        "  - {id: a, stage: s, volume: 2.5E6, next: [{to: won, volume: 1e6}, {to: b, volume: 1.5e+6}]}\n"
        "  - {id: b, stage: s, next: [{to: won, probability: 1e-9}, {to: a, probability: 0.5}]}\n"
        "outcomes: [{id: won, result: success}]\nentries: [a]\n"
        'description: "1e5"\n'
    )
    j = loads(text, "j.yaml")
    assert j.touchpoints[0].volume == 2.5e6
    assert [t.volume for t in j.touchpoints[0].next] == [1e6, 1.5e6]
    assert j.touchpoints[1].next[0].probability == 1e-9
    assert j.description == "1e5"  # quoted: still text


def test_explicit_tags_that_do_not_fit_their_value_are_problems() -> None:
    # Found by fuzzing: `!!float x` raised ValueError from deep inside the loader.
    found = problems("journey: x\nstages: [s]\na: !!float x\nb: !!bool maybe\nc: !!int 1x\n")
    assert "j.yaml:3:4: 'x' is not a valid number" in found
    assert "j.yaml:4:4: 'maybe' is not a valid boolean" in found
    assert "j.yaml:5:4: '1x' is not a valid integer" in found


@pytest.mark.parametrize(
    ("raw", "name", "where"),
    [
        (b"\r \x80", "cr.yaml", "2:2"),  # found by fuzzing: a bare CR is a line break in YAML
        (b"a: b\r\nc: \xff", "crlf.yaml", "2:4"),
        (b"a\xe2\x80\xa8b: \x80", "ls.yaml", "2:4"),  # U+2028 too
        (b'{"a":\r "\x80"}', "cr.json", "1:9"),  # JSON counts newlines only, like its decoder
    ],
)
def test_non_utf8_bytes_are_placed_with_the_files_own_line_breaks(
    tmp_path: Path, raw: bytes, name: str, where: str
) -> None:
    f = tmp_path / name
    f.write_bytes(raw)
    with pytest.raises(JourneyError) as info:
        load(f)
    assert str(info.value.problems[0]).startswith(f"{f}:{where}: not UTF-8 text")


def test_empty_tagged_scalars_and_raw_c1_in_json_are_problems() -> None:
    # From the review: `!!int ""` raised IndexError; raw DEL and C1 (CSI) in JSON
    # strings passed (Python's decoder refuses only U+0000-U+001F).
    found = problems("journey: x\nstages: [s]\na: !!int ''\nb: !!float ''\n")
    assert "j.yaml:3:4: '' is not a valid integer" in found
    assert "j.yaml:4:4: '' is not a valid number" in found
    text = '{"journey": "x", "title": "a\x9b2Jb", "stages": ["s"], "description": "\x7f"}'
    found = problems(text, "j.json")
    assert "j.json:1:27: title: control character U+009B is not allowed in text" in found
    assert "j.json:1:68: description: control character U+007F is not allowed in text" in found


# --- service and success, tags, asks, knows (issue #14) ------------------------------------

NEW_FIELDS = """\
journey: x
kind: clinet
stages: [a]
touchpoints:
  - id: apply
    stage: a
    initiative: frim
    tags: [billing, 2024]
    asks: work history
    next: [interview]
  - id: interview
    stage: a
    tags:
      - site visit
      - {visit: site}
    asks: [work history, [ID]]
    knows: [aply, done, 'no id']
    next: [done]
outcomes:
  - {id: done, result: success}
"""


def test_bad_new_fields_are_placed_with_did_you_mean() -> None:
    assert problems(NEW_FIELDS) == [
        "j.yaml:2:7: kind: 'clinet' is not allowed; 'candidate', 'client' or 'other'"
        " (did you mean 'client'?)",
        "j.yaml:7:17: initiative: 'frim' is not allowed; 'customer' or 'firm'"
        " (did you mean 'firm'?)",
        "j.yaml:8:21: tags item 2: expected text, got 2024 (write '2024' in quotes)",
        "j.yaml:9:11: asks: expected a list of texts, like [first, second], got 'work history'"
        " (a list is written in brackets: [work history])",
        "j.yaml:15:9: tags item 2: expected text, got a mapping",
        "j.yaml:16:26: asks item 2: expected text, got a list",
        # the touchpoint is checked against the others too, though it has field errors
        "j.yaml:17:13: knows: 'aply' is not a touchpoint (did you mean 'apply'?)",
        "j.yaml:17:19: knows: 'done' is an outcome; name the touchpoints whose history"
        " 'interview' knows",
        "j.yaml:17:25: 'no id' is not a valid id: use letters, digits, '-', '_' and '.',"
        " starting with a letter or digit, like 'no-id'",
    ]


def test_knows_names_touchpoints() -> None:
    found = problems(
        """\
        journey: x
        stages: [a]
        touchpoints:
          - id: apply
            stage: a
            next: [interview]
          - id: interview
            stage: a
            knows: [aply, done, apply, interveiw]
            next: [done]
        outcomes:
          - {id: done, result: success}
        """
    )
    assert found == [
        "j.yaml:9:13: knows: 'aply' is not a touchpoint (did you mean 'apply'?)",
        "j.yaml:9:19: knows: 'done' is an outcome; name the touchpoints whose history"
        " 'interview' knows",
        "j.yaml:9:32: knows: 'interveiw' is not a touchpoint (did you mean 'interview'?)",
    ]


def test_a_knows_problem_beside_a_broken_touchpoint_keeps_its_line() -> None:
    """The touchpoint before is dropped (a bad initiative) and the rest still checked."""
    found = problems(
        """\
        journey: x
        stages: [a]
        touchpoints:
          - {id: apply, stage: a, initiative: fimr, next: [interview]}
          - {id: interview, stage: a, knows: [intreview], next: [done]}
        outcomes: [{id: done, result: success}]
        """
    )
    assert found == [
        "j.yaml:4:39: initiative: 'fimr' is not allowed; 'customer' or 'firm'"
        " (did you mean 'firm'?)",
        "j.yaml:5:39: knows: 'intreview' is not a touchpoint (did you mean 'interview'?)",
    ]


def test_the_new_fields_load_from_json_with_positions(tmp_path: Path) -> None:
    good = {
        "journey": "j",
        "kind": "client",
        "stages": ["a"],
        "touchpoints": [
            {"id": "t", "stage": "a", "initiative": "firm", "tags": ["billing"], "next": ["u"]},
            {"id": "u", "stage": "a", "asks": ["order details"], "knows": ["t"]},
        ],
    }
    f = tmp_path / "j.json"
    f.write_text(json.dumps(good, indent=1))
    j = load(f)
    assert j.kind == "client"
    assert [tp.initiative for tp in j.touchpoints] == ["firm", "customer"]
    assert j.touchpoints[1].knows == ["t"]
    good["touchpoints"][1]["knows"] = ["x"]  # type: ignore[index]
    text = json.dumps(good, indent=1)
    f.write_text(text)
    with pytest.raises(JourneyError) as info:
        load(f)
    (problem,) = info.value.problems
    where = text.index('"x"')
    line = text.count("\n", 0, where) + 1
    assert (problem.line, problem.column) == (line, where - text.rindex("\n", 0, where))
    assert problem.message == "knows: 'x' is not a touchpoint"


def test_validate_places_bad_new_fields_from_the_command_line(tmp_path: Path) -> None:
    from .conftest import run_cli

    f = tmp_path / "j.yaml"
    f.write_text(NEW_FIELDS)
    r = run_cli("validate", f)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    assert lines[0] == (
        f"{f}:2:7: kind: 'clinet' is not allowed; 'candidate', 'client' or 'other'"
        " (did you mean 'client'?)"
    )
    assert f"{f}:7:17: initiative: 'frim' is not allowed; 'customer' or 'firm'" in lines[1]
    assert lines[-1] == "9 problems in 1 file"
