"""The report in a real browser (Debian's Chromium through Playwright).

What a marketer or analyst does with the file: open it offline, sort and
filter the inventory, follow a finding to its touchpoint, print it, and trust
that nothing from a journey file runs and nothing is fetched.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from io import BytesIO
from pathlib import Path
from typing import Any

import pypdf
import pytest

from .test_analysis import LOOP
from .test_report import EVIL

ROOT = Path(__file__).resolve().parent.parent
Run = Callable[..., subprocess.CompletedProcess[str]]


def _context(browser: Any, **options: Any) -> Any:
    """A browser context that records every request and lets only file:// through."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, **options)
    context.requests = []

    def route(r: Any) -> None:
        context.requests.append(r.request.url)
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            r.abort()

    context.route("**/*", route)
    return context


def _page(context: Any) -> Any:
    p = context.new_page()
    p.errors = []  # console errors and page errors
    p.requests = []  # every request the page makes, routed or not
    p.dialogs = []
    p.on("console", lambda m: p.errors.append(m.text) if m.type == "error" else None)
    p.on("pageerror", lambda e: p.errors.append(str(e)))
    p.on("request", lambda r: p.requests.append(r.url))
    p.on("dialog", lambda d: (p.dialogs.append(d.message), d.dismiss()))
    return p


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = _context(browser)
    yield _page(context)
    context.close()


def make_report(cli: Run, tmp_path: Path, *paths: Path) -> Path:
    out = tmp_path / "report.html"
    r = cli("report", *paths, "-o", out)
    assert r.returncode == 0, r.stderr
    return out


def column(table: Any, name: str) -> list[str]:
    """The texts of one column, touchpoint by touchpoint, in the order shown."""
    heads = [h.inner_text().strip() for h in table.locator("thead th").all()]
    col = heads.index(name) + 1
    return [
        t.strip()
        for t in table.locator(f"tbody > tr:first-child > :nth-child({col})").all_inner_texts()
    ]


def test_the_examples_report_works_offline(cli: Run, tmp_path: Path, page: Any) -> None:
    out = make_report(cli, tmp_path, ROOT / "journeys")
    page.goto(out.as_uri())
    page.wait_for_load_state("load")
    assert page.errors == []
    assert page.requests == [out.as_uri()]  # the page itself, nothing else
    assert page.context.requests == [out.as_uri()]
    # nothing wider than the window: the inventory wraps instead of scrolling sideways
    assert page.evaluate("document.documentElement.scrollWidth") <= 1400
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 100_000

    # sort the candidate inventory by quality, then back; blanks stay last
    table = page.locator("#inv-candidate")
    header = table.locator("thead th", has_text="Quality")
    header.click()
    values = column(table, "Quality")
    numbers = [float(v) for v in values if v]
    assert numbers == sorted(numbers) and len(numbers) > 20
    assert values[: len(numbers)] == [v for v in values if v]
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    numbers = [float(v) for v in column(table, "Quality") if v]
    assert numbers == sorted(numbers, reverse=True)
    # a touchpoint's details move with it
    first = table.locator("tbody").first
    assert first.locator("tr").first.locator("th").inner_text().strip() != ""
    # emotion sorts as signed numbers
    table.locator("thead th", has_text="Emotion").click()
    emotions = [float(v) for v in column(table, "Emotion") if v]
    assert emotions == sorted(emotions) and emotions[0] < 0 < emotions[-1]

    # filter: every word must match, whole touchpoints are hidden
    page.fill('input[data-table="inv-candidate"]', "payroll weekly")
    visible = table.locator("tbody:visible")
    assert 0 < visible.count() < 10
    for text in visible.all_inner_texts():
        assert "payroll" in text.lower() and "weekly" in text.lower()
    hidden = table.locator("tbody:not(:visible)").all_inner_texts()
    assert hidden and not any("payroll" in t.lower() and "weekly" in t.lower() for t in hidden)
    assert "shown" in page.locator("#count-candidate").inner_text()
    page.fill('input[data-table="inv-candidate"]', "")
    assert table.locator("tbody:visible").count() == table.locator("tbody").count()

    # a finding's link scrolls to its touchpoint
    link = page.locator("#journey-client a.finding", has_text="Order sits unfilled").first
    target = link.get_attribute("href")
    assert target == "#tp-client--order-waiting"
    page.evaluate("window.scrollTo(0, 0)")
    link.click()
    assert page.evaluate("location.hash") == target
    box = page.locator(target).bounding_box()
    assert box is not None and 0 <= box["y"] < 900  # in view
    # and a card on the canvas does too
    page.evaluate("window.scrollTo(0, 0)")
    page.locator('#journey-candidate .maps a[href="#tp-candidate--payday"]').last.click()
    assert page.evaluate("location.hash") == "#tp-candidate--payday"
    box = page.locator("#tp-candidate--payday").bounding_box()
    assert box is not None and 0 <= box["y"] < 900
    assert page.errors == []


def test_the_report_reads_without_javascript(cli: Run, tmp_path: Path, browser: Any) -> None:
    out = make_report(cli, tmp_path, ROOT / "journeys")
    context = _context(browser, java_script_enabled=False)
    p = _page(context)
    try:
        p.goto(out.as_uri())
        table = p.locator("#inv-client")
        assert table.locator("tbody:visible").count() == table.locator("tbody").count() > 30
        assert table.locator("thead th[aria-sort]").count() == 0  # our script never ran
        text = table.inner_text()
        for word in ("Pain points", "Opportunities", "What", "Importance to customer"):
            assert word in text
        assert context.requests == [out.as_uri()]
    finally:
        context.close()


def test_the_page_uses_its_width_with_margins(cli: Run, tmp_path: Path, page: Any) -> None:
    # A stylesheet slip once capped every journey at 720 px without its margins.
    out = make_report(cli, tmp_path, ROOT / "journeys" / "candidate.yaml")
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(out.as_uri())
    box = page.evaluate(
        "(() => { const a = document.querySelector('article.journey');"
        " const s = getComputedStyle(a);"
        " return [a.getBoundingClientRect().width, s.paddingLeft, s.paddingRight]; })()"
    )
    assert box[0] > 1200 and box[1] == "40px" and box[2] == "40px", box
    chart = page.locator("svg.time").bounding_box()
    assert chart is not None and 300 < chart["width"] <= 720


def test_the_menu_stays_in_view_with_a_way_back_to_the_top(
    cli: Run, tmp_path: Path, page: Any
) -> None:
    out = make_report(cli, tmp_path, ROOT / "journeys" / "candidate.yaml")
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(out.as_uri() + "#inventory-candidate")
    menu = page.locator("nav.toc").first
    box = menu.bounding_box()
    assert box is not None and abs(box["y"]) < 1, box  # at the top of the window, far down
    assert page.evaluate("window.scrollY") > 2000
    heading = page.locator("#inventory-candidate h3").bounding_box()
    assert heading is not None and heading["y"] >= box["y"] + box["height"]  # not under it
    menu.locator("a.to-top").click()
    page.wait_for_function("window.scrollY < 400")


def test_it_prints_on_landscape_pages(cli: Run, tmp_path: Path, page: Any) -> None:
    out = make_report(cli, tmp_path, ROOT / "journeys" / "candidate.yaml")
    page.goto(out.as_uri())
    page.emulate_media(media="print")
    # nothing sticks out to the right of the page: no cut tables
    overflow = page.evaluate(
        "Array.from(document.querySelectorAll('table, svg, section'))"
        ".filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)"
        ".map(e => e.tagName + '.' + e.className)"
    )
    assert overflow == []
    for paper in ("A4", "A3"):
        pdf = page.pdf(format=paper, print_background=True)
        pages = pypdf.PdfReader(BytesIO(pdf)).pages
        assert len(pages) > 5
        assert all(float(p.mediabox.width) > float(p.mediabox.height) for p in pages)  # landscape


def test_nothing_from_a_journey_runs(cli: Run, tmp_path: Path, page: Any) -> None:
    text = LOOP.replace("journey: loop\n", f"journey: loop\ntitle: '{EVIL}'\nkind: client\n")
    text = text.replace("stages: [a, b]", f"stages: [{{id: a, title: '{EVIL}'}}, b]")
    text = text.replace(
        "  - id: start\n",
        f"  - id: start\n    title: '{EVIL}'\n    owner: '{EVIL}'\n    channel: '{EVIL}'\n"
        "    quality: 1\n    importance: {customer: 5}\n    emotion: -2\n"
        "    tags: [billing]\n    initiative: firm\n",
    )
    text = text.replace("  - id: apply\n", "  - id: apply\n    owner: Sales\n    emotion: 1\n")
    src = tmp_path / "evil.yaml"
    src.write_text(text)
    out = make_report(cli, tmp_path, src)
    page.goto(out.as_uri())
    page.wait_for_load_state("load")
    assert page.dialogs == []
    assert page.errors == []
    assert page.title() == EVIL
    # shown literally in every section (the maps wrap long titles over lines)
    sections = page.locator("article section").all()
    assert len(sections) == 10
    for section in sections:
        shown = " ".join(section.inner_text().split())
        tips = " ".join(section.locator("svg title").all_text_contents())
        assert EVIL in shown or EVIL in tips, section.get_attribute("class")
    for where in (
        ".summary",
        ".maps",
        ".lost",
        ".findings",
        ".inventory",
        ".stages",
        ".owners",
        ".service",
        ".checklist",
    ):
        assert EVIL in " ".join(page.locator(where).inner_text().split()), where
    # the quadrant shortens labels; the whole title is its tooltip
    quadrant = page.locator(".quadrant-section").inner_text()
    assert "<script>alert(1)</script> …" in quadrant
    tips = page.locator(".quadrant-section svg title").all_text_contents()
    assert f"{EVIL}: importance 5, quality 1" in tips
    # and in each map: the flow map and the canvas
    maps = page.locator(".maps svg")
    assert maps.count() == 2
    for i in range(2):
        words = maps.nth(i).evaluate(
            "svg => Array.from(svg.querySelectorAll('text')).map(t => t.textContent).join(' ')"
        )
        assert EVIL in " ".join(words.split()), i
    assert page.locator("script").count() == 1


HOSTILE = "x</style><script>alert(1)</script>"


def test_nothing_from_a_theme_runs(cli: Run, tmp_path: Path, page: Any) -> None:
    """A colleague's theme: code in a colour or the font is refused with its line; its
    free-text title, like a hostile journey title, is shown and never run, in the
    report and in the canvas SVG opened on its own."""
    src = tmp_path / "loop.yaml"
    src.write_text(LOOP.replace("journey: loop\n", f"journey: loop\ntitle: '{HOSTILE}'\n"))
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "font: 'x; } body { display:none } .y {'\n"
        "accent: '#000\"/><script>alert(1)</script><rect x=\"'\n"
    )
    done = cli("report", src, "-o", tmp_path / "bad.html", "--theme", bad)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{bad}:1:" in done.stderr and f"{bad}:2:" in done.stderr
    assert not (tmp_path / "bad.html").exists()
    theme = tmp_path / "brand.yaml"
    theme.write_text(f"title: '{HOSTILE} & co'\nfont: DejaVu Sans\naccent: rebeccapurple\n")
    out = tmp_path / "report.html"
    done = cli("report", src, "-o", out, "--theme", theme)
    assert done.returncode == 0, done.stderr
    done = cli("render", src, "-o", tmp_path, "--view", "canvas", "--theme", theme)
    assert done.returncode == 0, done.stderr
    for target in (out, tmp_path / "loop-canvas.svg"):
        page.goto(target.as_uri())
        page.wait_for_load_state("load")
        assert page.dialogs == [] and page.errors == [], target
        canvas = page.locator("svg.jm-canvas")
        assert canvas.is_visible()
        words = canvas.evaluate(
            "svg => Array.from(svg.querySelectorAll('text')).map(t => t.textContent).join(' ')"
        )
        assert f"{HOSTILE} & co" in " ".join(words.split()), target
        fill = canvas.evaluate("svg => getComputedStyle(svg.querySelector('text')).fontFamily")
        assert fill.startswith('"DejaVu Sans"'), fill
    page.goto(out.as_uri())
    assert page.locator("script").count() == 1
    assert page.title() == HOSTILE
    assert page.locator("h1").inner_text() == HOSTILE


def test_printed_it_starts_on_page_1_and_keeps_headings_with_their_maps(
    cli: Run, tmp_path: Path, page: Any
) -> None:
    out = make_report(cli, tmp_path, ROOT / "journeys" / "candidate.yaml")
    page.goto(out.as_uri())
    page.emulate_media(media="print")
    for paper in ("A4", "A3"):
        pdf = page.pdf(format=paper, print_background=True)
        texts = [p.extract_text() for p in pypdf.PdfReader(BytesIO(pdf)).pages]
        # Page 1 holds the journey, not only the report's header; the on-screen menu
        # is not printed.
        assert "Candidate journey" in texts[0] and "Summary" in texts[0], paper
        assert "↑ Top" not in texts[0], paper
        # The canvas heading is on the page that draws the canvas (its row labels).
        where = [i for i, t in enumerate(texts) if "The journey canvas" in t]
        assert len(where) == 1, paper
        assert "Backstage" in texts[where[0]] and "Touchpoints" in texts[where[0]], paper
        heading = [i for i, t in enumerate(texts) if "The journey map" in t]
        assert heading and "Legend" in texts[heading[0]], paper  # the flow map with it
