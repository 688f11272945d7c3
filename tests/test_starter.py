"""``journeymap init``: a first journey that validates and renders as it is."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from journeymap.interop.schema import schema_json
from journeymap.loader import loads
from journeymap.model import Journey, Outcome, Persona, Stage, Touchpoint, Transition
from journeymap.starter import starter

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.mark.parametrize("kind", ["candidate", "client", "blank"])
def test_init_writes_a_journey_that_validates_and_renders(
    cli: Run, tmp_path: Path, kind: str
) -> None:
    r = cli("init", "--kind", kind, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["wrote journey.yaml", "wrote journey.schema.json"]
    text = (tmp_path / "journey.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=journey.schema.json\n")
    assert (tmp_path / "journey.schema.json").read_text() == schema_json()
    assert cli("validate", "journey.yaml", cwd=tmp_path).returncode == 0
    for view in ("flow", "canvas"):
        r = cli("render", "journey.yaml", "--view", view, "-o", "out", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    # The folder holds the schema too: it is not mistaken for a journey.
    assert cli("analyze", ".", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("kind", ["candidate", "client"])
def test_the_staffing_starters_show_every_key_once(kind: str) -> None:
    text = starter(kind)
    data = yaml.safe_load(text)
    j = loads(text, "journey.yaml")
    assert {o.result for o in j.outcomes} == {"success", "lost"}
    keys: dict[type, set[str]] = {Journey: set(data)}
    if data.get("persona"):
        keys[Persona] = set(data["persona"])
    keys[Stage] = {k for s in data["stages"] if isinstance(s, dict) for k in s}
    keys[Touchpoint] = {k for t in data["touchpoints"] for k in t}
    keys[Transition] = {
        k for t in data["touchpoints"] for n in t.get("next", []) if isinstance(n, dict) for k in n
    }
    keys[Outcome] = {k for o in data["outcomes"] for k in o}
    for cls, shown in keys.items():
        fields = set(getattr(cls, "__pydantic_fields__"))  # noqa: B009
        assert shown == fields, (cls.__name__, fields - shown)
    # a bare id and a bare title among the stages, and a transition by id alone
    assert any(isinstance(s, str) for s in data["stages"])


def test_init_never_overwrites(cli: Run, tmp_path: Path) -> None:
    mine = tmp_path / "journey.yaml"
    mine.write_text("journey: mine\n")
    r = cli("init", cwd=tmp_path)
    assert r.returncode == 2
    assert "journey.yaml exists; init never overwrites" in r.stderr
    assert mine.read_text() == "journey: mine\n"
    assert not (tmp_path / "journey.schema.json").exists()  # nothing at all was written


def test_init_keeps_an_existing_schema_and_names_the_journey_after_its_file(
    cli: Run, tmp_path: Path
) -> None:
    (tmp_path / "journey.schema.json").write_text("{}")
    r = cli("init", "temp-workers.yaml", "--kind", "client", cwd=tmp_path)
    assert r.stdout.splitlines() == ["wrote temp-workers.yaml"]
    j = loads((tmp_path / "temp-workers.yaml").read_text(), "temp-workers.yaml")
    assert (j.journey, j.title, j.kind) == ("temp-workers", "Temp workers journey", "client")
    assert (tmp_path / "journey.schema.json").read_text() == "{}"


def test_init_into_a_folder_and_refusals(cli: Run, tmp_path: Path) -> None:
    (tmp_path / "new").mkdir()
    assert cli("init", "new", cwd=tmp_path).returncode == 0
    assert (tmp_path / "new" / "journey.yaml").is_file()
    r = cli("init", "notes.txt", cwd=tmp_path)
    assert r.returncode == 2 and "ends in .yaml or .yml" in r.stderr
    r = cli("init", "--kind", "freelancer", cwd=tmp_path)
    assert r.returncode == 2


def test_what_is_filled_in_cannot_break_the_yaml() -> None:
    text = starter("blank", file="evil\nkind: client\n.yaml")
    assert "\nkind: client\n.yaml" not in text
    assert loads(text, "j.yaml").kind == "other"


def test_odd_file_names_still_give_a_valid_journey(cli: Run, tmp_path: Path) -> None:
    long_name = "a" * 150 + ".yaml"
    assert cli("init", long_name, cwd=tmp_path).returncode == 0
    assert loads((tmp_path / long_name).read_text(), long_name).journey == "a" * 100
    name = "Copy of my journey (2).yaml"
    assert cli("init", name, cwd=tmp_path).returncode == 0
    text = (tmp_path / name).read_text()
    assert "journeymap validate 'Copy of my journey (2).yaml'" in text  # pastes into a shell
    j = loads(text, name)
    assert (j.journey, j.title) == ("copy-of-my-journey-2", "Copy of my journey 2 journey")
    assert cli("init", "my-journey.yaml", cwd=tmp_path).returncode == 0
    assert loads((tmp_path / "my-journey.yaml").read_text(), "m.yaml").title == "My journey"
    # a name without a suffix is a folder, made if needed
    assert cli("init", "workshop", cwd=tmp_path).returncode == 0
    assert (tmp_path / "workshop" / "journey.yaml").is_file()
