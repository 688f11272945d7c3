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


def test_a_folder_in_the_way_is_found_before_anything_is_replaced(tmp_path: Path) -> None:
    # Issue #12: with out/client.svg a folder, render replaced out/candidate.svg, then failed.
    (tmp_path / "candidate.svg").write_bytes(b"old")
    (tmp_path / "client.svg").mkdir()
    with pytest.raises(JourneyError, match="a folder is in the way"):
        write_files({tmp_path / "candidate.svg": b"new", tmp_path / "client.svg": b"new"})
    assert (tmp_path / "candidate.svg").read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["candidate.svg", "client.svg"]


# A child process writes five files; `trigger` decides when it signals itself.
CHILD = """
import os, signal, sys
from collections.abc import Mapping
from pathlib import Path
import journeymap.output as output

out = Path(sys.argv[1])
when = sys.argv[2]
files = {out / f"{k}.svg": b"new" for k in range(5)}

class Files(Mapping):
    def __getitem__(self, key): return files[key]
    def __iter__(self): return iter(files)
    def __len__(self): return len(files)
    def items(self):
        for k, (path, data) in enumerate(files.items()):
            if when == "staging" and k == 3:
                os.kill(os.getpid(), signal.SIGTERM)
            yield path, data

replace = os.replace
def replace_then_stop(a, b):
    replace(a, b)
    if when == "renaming" and b.name == "0.svg":
        os.kill(os.getpid(), signal.SIGTERM)
os.replace = replace_then_stop
output.write_files(Files())
print("finished")
"""


@pytest.mark.parametrize("when", ["staging", "renaming"])
def test_a_stop_signal_never_leaves_temporary_files_or_half_a_set(
    tmp_path: Path, when: str
) -> None:
    import signal
    import subprocess
    import sys

    out = tmp_path / "out"
    out.mkdir()
    for k in range(5):
        (out / f"{k}.svg").write_bytes(b"old")
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(out), when], capture_output=True, timeout=60
    )
    assert proc.returncode == -signal.SIGTERM, proc.stderr
    assert b"finished" not in proc.stdout
    assert sorted(p.name for p in out.iterdir()) == [f"{k}.svg" for k in range(5)]
    contents = {(out / f"{k}.svg").read_bytes() for k in range(5)}
    # Stopped while staging: nothing replaced; while renaming: every file replaced.
    assert contents == ({b"old"} if when == "staging" else {b"new"})
