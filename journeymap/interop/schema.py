"""The JSON Schema of a journey file, for editors.

VS Code's YAML extension (yaml-language-server) reads a schema named in a
file's first line and then completes keys, shows what each means, and flags
wrong values as one types. The structure comes from the model (pydantic), so it
cannot drift from what the loader accepts; what pydantic cannot know is added
here: the words a user reads on hover (the same as the README's), and the
shorthands the model's validators accept (a stage written as a bare id or
title, a transition as the bare id it leads to).

The loader stays the judge: it also checks what a schema cannot say (ids that
must exist, probabilities that must add up).
"""

from __future__ import annotations

import json
from typing import Any

from ..model import ID, Journey

__all__ = ["DESCRIPTIONS", "journey_schema", "schema_json"]

#: What each key means, by model and key, as a user reads it on hover.
DESCRIPTIONS: dict[str, dict[str, str]] = {
    "Journey": {
        "": "One customer journey: its stages, touchpoints, transitions and outcomes.",
        "journey": "The journey's id: a lowercase slug (candidate-temp), unique within a"
        " folder; it names the output files.",
        "title": "The journey's title; defaults from the id.",
        "description": "What the journey covers.",
        "kind": "Which side of a staffing firm the journey maps, and so which built-in"
        " checklist of touchpoints applies: candidate, client or other (none).",
        "persona": "Who travels this journey.",
        "stages": "The stages, in order, left to right. A bare string is shorthand: an id"
        " (awareness), or a title whose slug becomes the id (Follow up -> follow-up).",
        "touchpoints": "Every interaction between the customer and the firm.",
        "outcomes": "Where journeys end: in a success, or lost.",
        "entries": "Where customers start: touchpoint ids, or {id, volume} with how many"
        " start there; default: the touchpoints that nothing leads to.",
    },
    "Entry": {
        "": "An entry with how many customers start there.",
        "id": "The id of the touchpoint where they start.",
        "volume": "How many customers start here (not the touchpoint's own volume, which"
        " counts everyone who passes through it).",
    },
    "Persona": {
        "": "Who travels this journey.",
        "name": "The persona's name.",
        "description": "Who they are and what they want.",
    },
    "Stage": {
        "": "A stage of the journey: a column of the maps.",
        "id": "The stage's id, used by touchpoints' `stage`.",
        "title": "The stage's title; defaults from the id.",
        "description": "What happens in this stage.",
    },
    "Touchpoint": {
        "": "One interaction between the customer and the firm.",
        "id": "The touchpoint's id: letters, digits, '-', '_' and '.'.",
        "title": "What the customer sees it as; defaults from the id.",
        "stage": "The id of the stage it belongs to.",
        "channel": "WHERE the interaction happens (job board, phone, office).",
        "owner": "WHO at the firm owns it.",
        "description": "WHAT happens.",
        "when": "WHEN it happens (free text).",
        "why": "WHY it exists, for the customer and the firm.",
        "interaction": "direct, or indirect (a referral, a review site).",
        "layer": "frontstage (the customer sees it) or backstage (the firm's work behind it).",
        "volume": "How many customers reach it.",
        "frequency": "How often it happens (free text).",
        "duration": "How long it takes: a number and s, m, h, d or w (15m, 2d), or several"
        " (1h 30m).",
        "importance": "How much it matters, 1..5, to the customer and to the company.",
        "quality": "How well it works today: 1 (poor) to 5 (excellent).",
        "emotion": "How the customer feels here: -2 (very negative) to +2 (very positive).",
        "pain_points": "What goes wrong here for the customer.",
        "opportunities": "What could be better.",
        "initiative": "Who starts it: customer (reactive service, the default) or firm"
        " (proactive success: the firm reaches out first).",
        "tags": "Free words (billing, site visit), read by the checklist of overlooked"
        " touchpoints.",
        "asks": "What the customer must provide here (work history, ID documents).",
        "knows": "Touchpoints whose history this one knows: a handoff from them is not a cold one.",
        "next": "Where customers go from here: ids, or transitions with a probability or"
        " volume, a wait and a label.",
    },
    "Importance": {
        "": "How much the touchpoint matters, 1 (unimportant) to 5 (critical).",
        "customer": "To the customer, 1..5.",
        "company": "To the company, 1..5.",
    },
    "Transition": {
        "": "One way out of a touchpoint.",
        "to": "The id of the touchpoint or outcome it leads to.",
        "probability": "The share of the customers here who go there, 0..1. Give"
        " probabilities or volumes at one touchpoint, never both.",
        "volume": "How many of the customers here go there.",
        "wait": "The typical wait before the next touchpoint: a number and s, m, h, d or w"
        " (2d), or several (3d 4h 12m 5s).",
        "label": "What the customer does (clicks Apply).",
    },
    "Outcome": {
        "": "Where a journey ends.",
        "id": "The outcome's id: letters, digits, '-', '_' and '.'.",
        "title": "The outcome's title; defaults from the id.",
        "result": "success (placed, order filled) or lost (gave up, went elsewhere).",
        "description": "What this outcome means.",
    },
}


def _tidy(node: Any) -> Any:
    """Pydantic's per-key ``title`` ("Pain Points") shows on hover before our words: drop it."""
    if isinstance(node, dict):
        return {k: _tidy(v) for k, v in node.items() if k != "title" or isinstance(v, dict)}
    if isinstance(node, list):
        return [_tidy(v) for v in node]
    return node


def journey_schema() -> dict[str, Any]:
    """The schema as data: JSON Schema draft-07, what VS Code's YAML extension supports."""
    raw = Journey.model_json_schema(ref_template="#/definitions/{model}")
    defs: dict[str, Any] = raw.pop("$defs")
    models = {"Journey": raw, **defs}
    for name, schema in models.items():
        words = DESCRIPTIONS[name]
        schema["description"] = words[""]
        for key, prop in schema.get("properties", {}).items():
            prop["description"] = words[key]
    # The shorthands of the model's "before" validators.
    stage_ref = {"$ref": "#/definitions/Stage"}
    raw["properties"]["stages"]["items"] = {
        "anyOf": [
            {
                "type": "string",
                "minLength": 1,
                "description": "A stage id, or a title whose slug is the id.",
            },
            stage_ref,
        ]
    }
    touchpoint = defs["Touchpoint"]["properties"]
    touchpoint["next"]["items"] = {
        "anyOf": [
            {
                "type": "string",
                "pattern": ID,
                "description": "The id of the touchpoint or outcome it leads to.",
            },
            {"$ref": "#/definitions/Transition"},
        ]
    }
    entries = raw["properties"]["entries"]
    for option in entries["anyOf"]:
        if option.get("type") == "array":
            option["items"] = {
                "anyOf": [
                    {
                        "type": "string",
                        "pattern": ID,
                        "description": "The id of a touchpoint where customers start.",
                    },
                    {"$ref": "#/definitions/Entry"},
                ]
            }
    schema = {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "journeymap journey",
        **_tidy(raw),
        "definitions": _tidy(defs),
    }
    return schema


def schema_json() -> str:
    """The schema as the text of ``journey.schema.json``: stable, sorted, one trailing newline."""
    return json.dumps(journey_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
