"""The JSON Schema for editors: built from the model, so it accepts what the loader does."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from journeymap.interop.schema import DESCRIPTIONS, journey_schema, schema_json
from journeymap.model import Importance, Journey, Outcome, Persona, Stage, Touchpoint, Transition
from journeymap.starter import KINDS, starter

from ..conftest import EXAMPLES, ROOT

Run = Callable[..., subprocess.CompletedProcess[str]]
VALIDATOR = jsonschema.Draft7Validator(journey_schema())


def errors(data: Any) -> list[str]:
    return [e.message for e in VALIDATOR.iter_errors(data)]


def test_it_is_a_valid_draft_7_schema() -> None:
    # Draft 7 is what VS Code's YAML extension (yaml-language-server) validates with.
    jsonschema.Draft7Validator.check_schema(journey_schema())
    assert "$defs" not in schema_json()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_it_accepts_the_examples(path: Path) -> None:
    assert errors(yaml.safe_load(path.read_text())) == []


@pytest.mark.parametrize("kind", KINDS)
def test_it_accepts_the_starters(kind: str) -> None:
    assert errors(yaml.safe_load(starter(kind))) == []


MINIMAL = {"journey": "x", "stages": ["a"], "touchpoints": [{"id": "t", "stage": "a"}]}


@pytest.mark.parametrize(
    ("change", "wanted"),
    [
        (lambda d: d.update(colour="red"), "Additional properties are not allowed"),
        (lambda d: d["touchpoints"][0].update(emotion=3), "3 is not valid"),
        (lambda d: d["touchpoints"][0].update(duration="2 days"), "'2 days' is not valid"),
        (lambda d: d["touchpoints"][0].pop("stage"), "'stage' is a required property"),
        (lambda d: d["touchpoints"][0].update(initiative="frim"), "is not one of"),
        (lambda d: d["touchpoints"][0].update(next=[{"to": "x", "probabilty": 1}]), "not valid"),
        (lambda d: d.update(journey="Candidate Journey"), "does not match"),
        (lambda d: d.update(stages=[]), "should be non-empty"),
    ],
)
def test_it_rejects_bad_files(change: Callable[[dict[str, Any]], object], wanted: str) -> None:
    data = json.loads(json.dumps(MINIMAL))
    assert errors(data) == []
    change(data)
    found = errors(data)
    assert any(wanted in e for e in found), found


def test_every_key_has_words_for_the_editor() -> None:
    models = (Journey, Persona, Stage, Touchpoint, Importance, Transition, Outcome)
    for cls in models:
        fields = set(getattr(cls, "__pydantic_fields__"))  # noqa: B009
        assert set(DESCRIPTIONS[cls.__name__]) - {""} == fields, cls.__name__
    schema = journey_schema()
    for name, part in [("Journey", schema), *schema["definitions"].items()]:
        assert part["description"] == DESCRIPTIONS[name][""]
        for key, prop in part["properties"].items():
            assert prop["description"], (name, key)
            assert "title" not in prop or isinstance(prop["title"], dict)


def test_the_command_prints_it_and_the_examples_carry_it(cli: Run, tmp_path: Path) -> None:
    r = cli("schema")
    assert r.returncode == 0 and r.stdout == schema_json()
    r = cli("schema", "-o", tmp_path / "journey.schema.json")
    assert (tmp_path / "journey.schema.json").read_text() == schema_json()
    # journeys/ ships the schema its files name on their first line: kept up to date.
    assert (ROOT / "journeys" / "journey.schema.json").read_text() == schema_json()
    for path in EXAMPLES:
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=journey.schema.json"
