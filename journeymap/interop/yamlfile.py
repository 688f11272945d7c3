"""Journey data as a journey file people read and edit.

Every writer of journey files (``init``, the importers, and later the
discovery of journeys from event logs) goes through here, so that they all
write the same layout: keys in the model's order, block style, integral numbers
without ``.0``, and a first line that points editors at the schema.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ..errors import JourneyError, UsageError
from ..model import Journey

__all__ = ["SCHEMA_MODELINE", "check_output", "checked", "journey_data", "journey_yaml"]

#: The first line of every journey file journeymap writes: VS Code's YAML extension
#: (yaml-language-server) reads it and completes keys and flags errors as one types.
#: The schema is written by ``journeymap schema -o journey.schema.json``.
SCHEMA_MODELINE = "# yaml-language-server: $schema=journey.schema.json"


def _tidy(value: Any) -> Any:
    """Integral floats as ints (``volume: 6000``, not ``6000.0``), recursively."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, dict):
        return {k: _tidy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tidy(v) for v in value]
    return value


def journey_data(journey: Journey) -> dict[str, Any]:
    """The journey as the plain data of a file: only what differs from the defaults.

    Titles the model derived from ids are left out too, so a journey written
    from data without titles reads back the same.
    """
    from ..model import title_from_id

    data: dict[str, Any] = _tidy(journey.model_dump(mode="json", exclude_defaults=True))
    if data.get("title") == title_from_id(journey.journey) + " journey":
        del data["title"]
    for part in ("stages", "touchpoints", "outcomes"):
        for item in data.get(part, []):
            if item.get("title") == title_from_id(item["id"]):
                del item["title"]
    if "entries" in data:  # {id: apply} is written as the plain id, as people write it
        data["entries"] = [e["id"] if set(e) == {"id"} else e for e in data["entries"]]
    return data


class _Dumper(yaml.SafeDumper):
    """Block style, lists indented under their key, long text folded at 100 columns."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def journey_yaml(data: dict[str, Any], *, header: str = "") -> str:
    """YAML text of journey data, with the schema modeline and ``header`` comments first.

    ``header`` is a comment block (each line starting with ``#``) written under
    the modeline, e.g. where the journey was imported from.
    """
    body = yaml.dump(
        _tidy(data),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    lines = [SCHEMA_MODELINE]
    if header:
        for line in header.splitlines():
            lines.append(line if line.startswith("#") else f"# {line}".rstrip())
    return "\n".join(lines) + "\n" + body


def check_output(output: Path, force: bool) -> None:
    """Refuse, before any reading, an importer's output it must not write.

    A journey is written as YAML, to a file, and never over an existing one
    unless the user says ``--force``: an import is easy to run twice.
    """
    if output.suffix.lower() not in (".yaml", ".yml"):
        raise UsageError(f"{output}: a journey is written as YAML; name the output *.yaml")
    if output.is_dir():
        raise UsageError(f"{output} is a folder; name the journey file to write")
    if output.exists() and not force:
        raise UsageError(f"{output} exists already; give --force to overwrite it")


def checked(text: str, source: str) -> Journey:
    """The journey ``text`` holds, or JourneyError: what an importer made must load.

    ``source`` names the file the text came from in any message; an importer
    that builds a journey the loader refuses has a defect, but the user still
    gets the loader's message, and nothing is written.
    """
    from ..loader import loads

    try:
        return loads(text, source, kind="yaml")
    except JourneyError as exc:
        raise JourneyError(f"{source}: the journey made from it is not valid:\n{exc}") from None
