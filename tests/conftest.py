"""Shared fixtures: journeys from text, the CLI as a real process, a real browser."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from journeymap.loader import find_files, loads
from journeymap.model import Journey

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(find_files([ROOT / "journeys"]))
CHROMIUM = "/usr/bin/chromium"
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def journey(text: str, source: str = "test.yaml") -> Journey:
    """A journey from indented YAML text (dedented first)."""
    return loads(textwrap.dedent(text), source)


@pytest.fixture
def make_journey() -> Callable[..., Journey]:
    return journey


def run_cli(
    *args: str | os.PathLike[str], cwd: Path | None = None, **kw: Any
) -> subprocess.CompletedProcess[str]:
    """``journeymap ARGS`` as a real subprocess, the way users run it."""
    return subprocess.run(
        [sys.executable, "-m", "journeymap", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        **kw,
    )


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_cli


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright.

    Skipped with a reason when the browser is missing on a developer's
    machine; under CI (CI=true) a missing browser is a failure, never a skip.
    """
    missing = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing = "playwright is not installed (pip install -e '.[dev]')"
    if missing is None and not shutil.which(CHROMIUM):
        missing = f"{CHROMIUM} is missing (apt-get install chromium, or run ./run test)"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run under CI: {missing}")
        pytest.skip(missing)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        try:
            yield b
        finally:
            b.close()
