"""The report in a real browser (Debian's Chromium through Playwright).

What a marketer or analyst does with the file: open it offline, sort and
filter the inventory, follow a finding to its touchpoint, and trust that
nothing from a journey file runs and nothing is fetched.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .test_analysis import LOOP
from .test_report import EVIL

ROOT = Path(__file__).resolve().parent.parent
Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    p = context.new_page()
    p.errors = []  # console errors and page errors
    p.requests = []  # every request the page makes
    p.dialogs = []
    p.on("console", lambda m: p.errors.append(m.text) if m.type == "error" else None)
    p.on("pageerror", lambda e: p.errors.append(str(e)))
    p.on("request", lambda r: p.requests.append(r.url))
    p.on("dialog", lambda d: (p.dialogs.append(d.message), d.dismiss()))
    yield p
    context.close()


def make_report(cli: Run, tmp_path: Path, *paths: Path) -> Path:
    out = tmp_path / "report.html"
    r = cli("report", *paths, "-o", out)
    assert r.returncode == 0, r.stderr
    return out


def test_the_examples_report_works_offline(cli: Run, tmp_path: Path, page: Any) -> None:
    out = make_report(cli, tmp_path, ROOT / "journeys")
    page.goto(out.as_uri())
    page.wait_for_load_state("load")
    assert page.errors == []
    assert page.requests == [out.as_uri()]  # the page itself, nothing else
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 100_000

    # sort the candidate inventory by quality, then back
    table = page.locator("#inv-candidate")
    header = table.locator("thead th", has_text="Quality")
    header.click()
    col = [h.inner_text().strip() for h in table.locator("thead th").all()].index("Quality")
    values = table.locator(f"tbody tr td:nth-child({col + 1})").all_inner_texts()
    numbers = [float(v) for v in values if v.strip()]
    assert numbers == sorted(numbers) and len(numbers) > 20
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    values = table.locator(f"tbody tr td:nth-child({col + 1})").all_inner_texts()
    numbers = [float(v) for v in values if v.strip()]
    assert numbers == sorted(numbers, reverse=True)

    # filter
    page.fill('input[data-table="inv-candidate"]', "payroll")
    visible = table.locator("tbody tr:visible")
    assert visible.count() == 3  # timesheet, pay-error, payday
    assert all("Payroll" in t for t in visible.all_inner_texts())
    page.fill('input[data-table="inv-candidate"]', "")
    assert table.locator("tbody tr:visible").count() > 30

    # a finding's link scrolls to its touchpoint
    link = page.locator("#journey-client a.finding", has_text="Order sits unfilled").first
    target = link.get_attribute("href")
    assert target == "#tp-client-order-waiting"
    page.evaluate("window.scrollTo(0, 0)")
    link.click()
    assert page.evaluate("location.hash") == target
    box = page.locator(target).bounding_box()
    assert box is not None and 0 <= box["y"] < 900  # in view
    assert page.errors == []


def test_nothing_from_a_journey_runs(cli: Run, tmp_path: Path, page: Any) -> None:
    text = LOOP.replace(
        "  - id: apply\n",
        f"  - id: apply\n    title: '{EVIL}'\n    owner: '{EVIL}'\n"
        "    quality: 1\n    importance: {customer: 5}\n    emotion: -2\n",
    )
    text = text.replace("  - id: start\n", "  - id: start\n    owner: Sales\n    emotion: 1\n")
    src = tmp_path / "evil.yaml"
    src.write_text(text)
    out = make_report(cli, tmp_path, src)
    page.goto(out.as_uri())
    page.wait_for_load_state("load")
    assert page.dialogs == []
    assert page.errors == []
    # shown literally in the map, the quadrant, the inventory, handoffs and paths
    # (the map wraps long titles over lines)
    for where in (".maps", ".inventory", ".owners", ".lost"):
        assert EVIL in " ".join(page.locator(where).inner_text().split()), where
    # the quadrant shortens labels; the whole title is its tooltip
    quadrant = page.locator(".quadrant-section").inner_text()
    assert "<script>alert(1)</script> …" in quadrant
    tips = page.locator(".quadrant-section svg title").all_text_contents()
    assert f"{EVIL}: importance 5, quality 1" in tips
