"""The wheel: what users get from `pip install`, built the way pip builds it."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIP_WHEEL = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]


def test_the_wheel_carries_the_top_level_templates(tmp_path: Path) -> None:
    # templates/ sits at the top of the repository; the build puts it into the package.
    # Built from another directory: `pip install /path/to/journeymap` works from anywhere.
    subprocess.run(
        [*PIP_WHEEL, "-w", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        cwd=tmp_path,
    )
    [wheel] = tmp_path.glob("journeymap-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {n for n in names if n.startswith("journeymap/templates/")}
    top = ROOT / "templates"
    expected = {
        f"journeymap/templates/{p.relative_to(top).as_posix()}"
        for p in top.rglob("*")
        if p.is_file()
    }
    assert {"report", "init"} <= {p.name for p in top.iterdir()}
    assert expected and shipped == expected
    assert "journeymap/py.typed" in names
    assert "journeymap/interop/__init__.py" in names  # every sub-package
    assert not any(n.startswith(("tests/", "fuzz/", "benchmarks/", "output/")) for n in names)


def test_the_report_finds_its_templates() -> None:
    from journeymap.report import _builtin_templates

    folder = _builtin_templates()
    assert (folder / "report.html.j2").is_file()


def test_output_is_kept_empty_by_its_own_ignore_file() -> None:
    # ./run render writes into output/; renders are never committed, the folder is.
    ignore = ROOT / "output" / ".gitignore"
    assert ignore.read_text().split("\n")[1:3] == ["*", "!.gitignore"]
    if (ROOT / ".git").exists():
        git = ["git", "-C", str(ROOT)]
        tracked = subprocess.run(
            [*git, "ls-files", "output"], capture_output=True, text=True, check=True
        )
        assert tracked.stdout.split() == ["output/.gitignore"]
        ignored = subprocess.run([*git, "check-ignore", "-q", "output/candidate.svg"])
        assert ignored.returncode == 0
