"""MAPPING.yaml: what an event log cannot say about its activities.

A log knows activities, cases and times. Which stage an activity belongs to,
which activities end a journey (and whether well or badly), what a touchpoint
is called and who owns it, and which activities are noise: those a person
says, once, in a small YAML file read the way journey files are read (same
refusals, same FILE:LINE:COLUMN messages)::

    journey: recruiting            # the discovered journey's id (default: the output name)
    title: Recruiting, as observed
    stages:                        # activity -> stage, stages in order of first mention
      submit application: Apply
      screen application: Screening
    touchpoints:                   # activity -> touchpoint fields
      submit application: {id: apply, channel: careers site, owner: Recruiting}
    outcomes:                      # activity -> success | lost (or {result, id, title})
      offer accepted and hired: success
      send rejection: lost
    ignore: [update record]        # activities left out of every case

Activity names match the log's case-insensitively, ignoring surrounding spaces.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import JourneyError, Problem, did_you_mean

__all__ = ["Mapping", "OutcomeSpec", "read_mapping"]

_KEYS = ("journey", "title", "description", "kind", "stages", "touchpoints", "outcomes", "ignore")
# Touchpoint fields a mapping may set: not the ones the log decides (volume, next).
_TOUCHPOINT_KEYS = (
    "id",
    "title",
    "stage",
    "channel",
    "owner",
    "description",
    "when",
    "why",
    "interaction",
    "layer",
    "frequency",
    "duration",
    "importance",
    "quality",
    "emotion",
    "pain_points",
    "opportunities",
    "initiative",
    "tags",
    "asks",
)
_OUTCOME_KEYS = ("result", "id", "title", "description")


@dataclass(frozen=True)
class OutcomeSpec:
    """An activity that ends a journey: how, and what to call the outcome."""

    result: Literal["success", "lost"]
    id: str | None = None
    title: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Mapping:
    """A read MAPPING.yaml, keyed by activity name as the mapping writes it.

    ``where`` keeps each activity's (line, column) in the mapping file, so that a
    name the log does not know is reported where it is written.
    """

    source: str = "<no mapping>"
    journey: str | None = None
    title: str | None = None
    description: str | None = None
    kind: str | None = None
    stages: dict[str, str] = field(default_factory=dict)
    touchpoints: dict[str, dict[str, Any]] = field(default_factory=dict)
    outcomes: dict[str, OutcomeSpec] = field(default_factory=dict)
    ignore: tuple[str, ...] = ()
    where: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)

    def named(self) -> dict[str, list[str]]:
        """Every activity the mapping names, by the part that names it."""
        return {
            "stages": list(self.stages),
            "touchpoints": list(self.touchpoints),
            "outcomes": list(self.outcomes),
            "ignore": list(self.ignore),
        }

    def stage_order(self) -> list[str]:
        """The stages in the order the mapping first mentions them."""
        return list(dict.fromkeys(self.stages.values()))

    def resolve(self, activities: list[str]) -> dict[str, str]:
        """The log's activity for each activity the mapping names, or a JourneyError.

        Exact names first, then ignoring case and surrounding spaces. Names the
        log does not have are listed, each where the mapping writes it, with the
        closest activity of the log.
        """
        exact = set(activities)
        folded: dict[str, list[str]] = {}
        for a in activities:
            folded.setdefault(_fold(a), []).append(a)
        found: dict[str, str] = {}
        problems: list[Problem] = []
        for part, names in self.named().items():
            for name in names:
                if name in exact:
                    found[name] = name
                    continue
                matches = folded.get(_fold(name), [])
                line, column = self.where.get((part, name), (1, 1))
                if len(matches) == 1:
                    found[name] = matches[0]
                elif matches:
                    problems.append(
                        Problem(
                            self.source,
                            line,
                            column,
                            f"{part}: '{name}' matches several activities of the log"
                            f" ({', '.join(sorted(matches))}); write it exactly",
                        )
                    )
                else:
                    problems.append(
                        Problem(
                            self.source,
                            line,
                            column,
                            f"{part}: the log has no activity '{name}'"
                            + did_you_mean(name, activities),
                        )
                    )
        if problems:
            raise JourneyError(sorted(problems))
        return found


def _fold(name: str) -> str:
    return " ".join(name.split()).casefold()


def read_mapping(path: str | Path) -> Mapping:
    """MAPPING.yaml, checked key by key; every problem at once, with its place."""
    from pydantic import ValidationError

    from ..loader import Settings, _message
    from ..model import ID, Touchpoint

    s = Settings(path, "mapping")
    data = s.data
    where: dict[tuple[str, str], tuple[int, int]] = {}

    def place(part: str, name: str) -> None:
        where[(part, name)] = s.position((part, name), at_key=True)

    for key in data:
        if key not in _KEYS:
            s.unknown((), str(key), _KEYS, "key of a mapping")
    texts: dict[str, str | None] = {}
    for key in ("journey", "title", "description", "kind"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            s.problem((key,), f"{key}: expected text, got {value!r}")
            value = None
        texts[key] = value
    if texts["kind"] not in (None, "candidate", "client", "other"):
        s.problem(
            ("kind",),
            "kind: candidate, client or other"
            + did_you_mean(texts["kind"] or "", ["candidate", "client", "other"]),
        )

    stages: dict[str, str] = {}
    raw = data.get("stages") or {}
    if not isinstance(raw, dict):
        s.problem(
            ("stages",), "stages: a mapping of activity: stage, like {submit application: Apply}"
        )
        raw = {}
    for activity, stage in raw.items():
        if not isinstance(stage, str) or not stage.strip():
            s.problem(
                ("stages", activity),
                f"stages: the stage of '{activity}' must be a stage name, got {stage!r}",
            )
            continue
        stages[str(activity)] = stage.strip()
        place("stages", str(activity))

    touchpoints: dict[str, dict[str, Any]] = {}
    raw = data.get("touchpoints") or {}
    if not isinstance(raw, dict):
        s.problem(
            ("touchpoints",), "touchpoints: a mapping of activity: {id: ..., title: ..., ...}"
        )
        raw = {}
    known_stages = set(stages.values())
    for activity, fields in raw.items():
        name = str(activity)
        if not isinstance(fields, dict):
            s.problem(
                ("touchpoints", activity),
                f"touchpoints: '{name}' needs a mapping of touchpoint fields, like {{id: apply, owner: Recruiting}}",
            )
            continue
        place("touchpoints", name)
        good: dict[str, Any] = {}
        for key, value in fields.items():
            if key not in _TOUCHPOINT_KEYS:
                hint = (
                    " (the log decides volumes and transitions)"
                    if key in ("volume", "next")
                    else did_you_mean(str(key), _TOUCHPOINT_KEYS)
                )
                s.problem(
                    ("touchpoints", activity, key),
                    f"unknown touchpoint field '{key}'{hint}",
                    at_key=True,
                )
                continue
            good[str(key)] = value
        stage = good.get("stage")
        if stage is not None and stage not in known_stages:
            s.problem(
                ("touchpoints", activity, "stage"),
                f"stage '{stage}' is not one of the stages the mapping names"
                + did_you_mean(str(stage), sorted(known_stages)),
            )
        if "id" in good and not (isinstance(good["id"], str) and re.match(ID, good["id"])):
            s.problem(
                ("touchpoints", activity, "id"),
                f"{good['id']!r} is not a valid id: use letters, digits, '-', '_' and '.'",
            )
        # The values are checked as a touchpoint would be, so a wrong one is reported here.
        probe = {k: v for k, v in good.items() if k not in ("id", "stage")}
        try:
            Touchpoint.model_validate({"id": "x", "stage": "x", **probe})
        except ValidationError as exc:
            for err in exc.errors():
                text, at_key = _message(err)
                s.problem(("touchpoints", activity, *err["loc"]), text, at_key=at_key)
        touchpoints[name] = good

    outcomes: dict[str, OutcomeSpec] = {}
    raw = data.get("outcomes") or {}
    if not isinstance(raw, dict):
        s.problem(("outcomes",), "outcomes: a mapping of activity: success or lost")
        raw = {}
    for activity, spec in raw.items():
        name = str(activity)
        place("outcomes", name)
        if isinstance(spec, str):
            spec = {"result": spec}
        if not isinstance(spec, dict):
            s.problem(
                ("outcomes", activity),
                f"outcomes: '{name}' is success or lost, or {{result: ..., id: ..., title: ...}}",
            )
            continue
        bad = [k for k in spec if k not in _OUTCOME_KEYS]
        for k in bad:
            s.unknown(("outcomes", activity), str(k), _OUTCOME_KEYS, "field of an outcome")
        result = spec.get("result")
        if result not in ("success", "lost"):
            s.problem(
                ("outcomes", activity)
                + (
                    ("result",)
                    if "result" in spec and isinstance(data["outcomes"][activity], dict)
                    else ()
                ),
                f"outcomes: '{name}' must end in success or lost, got {result!r}"
                + (did_you_mean(result, ["success", "lost"]) if isinstance(result, str) else ""),
            )
            continue
        ident = spec.get("id")
        if ident is not None and not (isinstance(ident, str) and re.match(ID, ident)):
            s.problem(
                ("outcomes", activity, "id"),
                f"{ident!r} is not a valid id: use letters, digits, '-', '_' and '.'",
            )
            continue
        outcomes[name] = OutcomeSpec(result, ident, spec.get("title"), spec.get("description"))

    ignore: list[str] = []
    raw = data.get("ignore") or []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list):
        s.problem(("ignore",), "ignore: a list of activities, like [update record]")
        raw = []
    for i, name in enumerate(raw):
        if not isinstance(name, str):
            s.problem(("ignore", i), f"ignore: expected an activity name, got {name!r}")
            continue
        where[("ignore", name)] = s.position(("ignore", i))
        ignore.append(name)

    for name in outcomes:
        if name in stages or name in touchpoints:
            line, column = where[("outcomes", name)]
            s.problems.append(
                Problem(
                    s.name,
                    line,
                    column,
                    f"outcomes: '{name}' is also mapped as a touchpoint; an activity is one or the other",
                )
            )
    for name in ignore:
        for part, names in (
            ("stages", stages),
            ("touchpoints", touchpoints),
            ("outcomes", outcomes),
        ):
            if name in names:
                line, column = where[("ignore", name)]
                s.problems.append(
                    Problem(s.name, line, column, f"ignore: '{name}' is also named under {part}")
                )
    s.done()
    return Mapping(
        source=str(path),
        journey=texts["journey"],
        title=texts["title"],
        description=texts["description"],
        kind=texts["kind"],
        stages=stages,
        touchpoints=touchpoints,
        outcomes=outcomes,
        ignore=tuple(ignore),
        where=where,
    )
