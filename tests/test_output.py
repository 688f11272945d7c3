"""Writing files: all or nothing, with the permissions people expect."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from journeymap.errors import JourneyError
from journeymap.output import write_files


def test_files_are_written_with_the_usual_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        [path] = write_files({tmp_path / "out" / "a.svg": b"<svg/>"})
    finally:
        os.umask(old)
    assert path.read_bytes() == b"<svg/>"
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_a_failure_leaves_no_file_behind(tmp_path: Path) -> None:
    blocker = tmp_path / "taken"
    blocker.write_text("a file, not a folder")
    with pytest.raises(JourneyError, match="cannot write"):
        write_files({tmp_path / "ok.svg": b"1", blocker / "b.svg": b"2"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]
