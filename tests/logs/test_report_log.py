"""report --log: a declared journey checked against an event log, in the report and on its map."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from journeymap.interop import checked, journey_data, journey_yaml
from journeymap.loader import load
from journeymap.logs import compare
from journeymap.logs.readers import LogOptions
from journeymap.report import report_html, report_markdown
from tests.logs.test_readers import DATA

ROOT = Path(__file__).resolve().parents[2]
LOG = DATA / "recruiting-red.jsonocel.gz"
MAP = ROOT / "journeys" / "recruiting.map.yaml"


def declared_text() -> str:
    """The observed recruiting journey as a team might have declared it: one step
    left out, and far fewer rejections after the interview than the log shows."""
    data = journey_data(load(ROOT / "journeys" / "recruiting-observed.yaml"))
    data["journey"] = "recruiting-declared"
    for tp in data["touchpoints"]:
        if tp["id"] == "screening-call":
            tp["next"] = [t for t in tp["next"] if t["to"] != "manager-consulted"]
        if tp["id"] == "interview":
            for t in tp["next"]:
                if t["to"] == "rejected":
                    t["volume"] = 186
    return journey_yaml(data)


@pytest.fixture(scope="module")
def declared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("declared") / "recruiting-declared.yaml"
    path.write_text(declared_text(), encoding="utf-8")
    return path


def test_the_report_says_how_the_journey_fits_the_log(declared: Path) -> None:
    j = checked(declared.read_text(encoding="utf-8"), str(declared))
    c = compare(j, [LOG], options=LogOptions(object_type="applications"), mapping=MAP)
    assert (c.cases, c.fitting_cases) == (916, 722)
    html = report_html([j], observed={j.journey: c})
    section = html[html.index('id="observed-recruiting-declared"') :]
    section = section[: section.index("</section>")]
    text = re.sub(r"<[^>]+>", " ", section)
    text = " ".join(text.split())
    assert "79% of the 916 cases (722) follow a declared path from an entry" in text
    assert "Interview Rejected 42% 70% 65% – 74% 311" in text
    assert "First screening Hiring manager consulted 194" in text
    assert 'href="#observed-recruiting-declared"' in html  # in the menu
    # The map draws the log: the undeclared step, dashed and labelled, with its count.
    ident = "edge-screening-call--manager-consulted".replace("-", "&#45;")
    start = html.index(f'<g id="svg-recruiting-declared--flow-{ident}" class="edge">')
    edge = html[start : html.index('" class="', html.index('" class="', start) + 1)]
    assert "NOT DECLARED" in edge and "seen 194" in edge
    assert "stroke-dasharray" in edge
    md = report_markdown([j], observed={j.journey: c})
    assert "### Observed: the journey against the event log" in md
    assert "| Interview | Rejected | 42% | 70% | 65% – 74% | 311 |" in md
    assert "| First screening | Hiring manager consulted | 194 |" in md
    # Without a log, none of it.
    plain = report_html([j])
    assert "observed-recruiting-declared" not in plain and "NOT DECLARED" not in plain


def test_report_log_through_the_cli(cli: Any, declared: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    r = cli(
        "report",
        declared,
        "--log",
        LOG,
        "--object-type",
        "applications",
        "--map",
        MAP,
        "-o",
        out,
    )
    assert r.returncode == 0, r.stderr
    assert 'id="observed-recruiting-declared"' in out.read_text(encoding="utf-8")
    # Log options without a log, and a log with several journeys, are usage errors.
    r = cli("report", declared, "--object-type", "applications", "-o", out)
    assert r.returncode == 2 and "give it with --log LOG" in r.stderr
    r = cli("report", ROOT / "journeys", "--log", LOG, "-o", out)
    assert r.returncode == 2 and "checks one journey" in r.stderr
    # A log the readers refuse: exit 1, the file named, nothing written.
    bad = tmp_path / "bad.csv"
    bad.write_text("case_id,activity,timestamp\n1,a,never\n", encoding="utf-8")
    target = tmp_path / "r2.html"
    r = cli("report", declared, "--log", bad, "-o", target)
    assert r.returncode == 1 and f"{bad}:2:" in r.stderr and not target.exists()
