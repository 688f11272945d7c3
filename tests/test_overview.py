"""The stage overview: what the report draws for journeys too large to draw whole."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

import pytest

from journeymap.analysis import analyze
from journeymap.loader import load
from journeymap.model import Journey
from journeymap.overview import OVERVIEW_FROM, overview_svg, stage_flows
from journeymap.report import INVENTORY_PAGE, LONG_LIST, report_html, report_markdown

ROOT = Path(__file__).resolve().parent.parent


def generated(touchpoints: int, transitions: int) -> Journey:
    spec = importlib.util.spec_from_file_location("generate", ROOT / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return Journey.model_validate(module.journey(touchpoints, transitions))


@pytest.fixture(scope="module")
def big() -> Journey:
    return generated(OVERVIEW_FROM + 100, 3 * (OVERVIEW_FROM + 100))


@pytest.mark.parametrize("name", ["candidate", "client", "recruiting-observed"])
def test_the_stages_add_up_to_the_analysis(name: str) -> None:
    j = load(ROOT / "journeys" / f"{name}.yaml")
    a = analyze(j)
    fl = stage_flows(j, a)
    # Every customer who starts is lost in some stage or succeeds from one.
    assert sum(fl.lost) + sum(fl.success) == pytest.approx(1.0, abs=1e-9)
    assert sum(fl.success) == pytest.approx(a.success_share, abs=1e-9)
    assert sum(fl.touchpoints) == len(j.touchpoints)
    # What enters a stage either moves on, is lost there, or succeeds from there
    # (visits within the stage cancel out).
    for i in range(len(j.stages)):
        out = sum(m for (s, _), m in fl.moves.items() if s == i)
        assert fl.enter[i] == pytest.approx(out + fl.lost[i] + fl.success[i], abs=1e-9)


def test_the_overview_draws_every_stage_and_the_flows(big: Journey) -> None:
    a = analyze(big)
    svg = overview_svg(big, a)
    for s in big.stages:
        assert f'id="overview-stage-{s.id}"' in svg
    assert "lost here" in svg and "enter: " in svg and "✔ success" in svg
    assert len(svg) < 200_000  # a drawing of stages, not of 600 touchpoints


def test_a_big_journey_s_report_shows_its_stages_and_stays_small(big: Journey) -> None:
    html = report_html([big])
    assert 'svg" class="overview"' in html
    assert "too many to draw one by one" in html
    assert "journey canvas" not in html.lower()
    assert 'class="node"' not in html  # no touchpoint-by-touchpoint map
    # Long lists show their largest part and say so.
    a = analyze(big)
    if len(a.leaks) > LONG_LIST:
        assert f"The {LONG_LIST} largest of" in html
    rows = re.findall(r'<tbody id="tp-[^"]+" class="tp[^"]*"', html)
    assert len(rows) == len(big.touchpoints)
    assert sum(" later" in r for r in rows) == len(big.touchpoints) - INVENTORY_PAGE
    assert "Show all" in html
    md = report_markdown([big])
    assert "### Touchpoint inventory" in md


def test_a_small_journey_keeps_its_full_maps() -> None:
    html = report_html([load(ROOT / "journeys" / "candidate.yaml")])
    assert 'svg" class="overview"' not in html and 'class="node"' in html
    assert " later" not in html and "Show all" not in html


def test_the_paged_inventory_in_a_browser(browser: Any, big: Journey, tmp_path: Path) -> None:
    path = tmp_path / "big.html"
    path.write_text(report_html([big]), encoding="utf-8")
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(path.as_uri())
    shown = "Array.from(document.querySelectorAll('table.inv > tbody.tp')).filter(b => b.offsetParent !== null).length"
    assert page.evaluate(shown) == INVENTORY_PAGE
    # Filtering searches every touchpoint, the later ones too.
    last = big.touchpoints[-1]
    page.fill("input.filter", last.id)
    assert page.evaluate(shown) == 1
    page.fill("input.filter", "")
    assert page.evaluate(shown) == INVENTORY_PAGE
    # A link to a touchpoint past the first page shows it.
    page.evaluate(f"location.hash = '#tp-{last.id}'")
    page.wait_for_function(f"document.getElementById('tp-{last.id}').offsetParent !== null")
    assert page.evaluate(shown) == len(big.touchpoints)
    context.close()
    # Without JavaScript, every row is there.
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(path.as_uri())
    assert page.locator(f"#tp-{last.id}").is_visible()
    context.close()
