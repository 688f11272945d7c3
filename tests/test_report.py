"""The report as text: sections, anchors, escaping, templates, determinism."""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import pytest

from journeymap import load
from journeymap.errors import JourneyError
from journeymap.loader import find_files
from journeymap.model import Journey
from journeymap.paths import ROUTES_CAP
from journeymap.report import emotion_svg, quadrant_svg, report_html, report_markdown

from .test_analysis import LOOP

Run = Callable[..., subprocess.CompletedProcess[str]]
Make = Callable[..., Journey]
EXAMPLES = sorted(find_files([Path(__file__).resolve().parent.parent / "journeys"]))
EVIL = '<script>alert(1)</script> & "quotes"'


class Ids(HTMLParser):
    """Every id, link and external reference in a page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.links: list[str] = []
        self.external: list[str] = []
        self.scripts = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        d = dict(attrs)
        if d.get("id"):
            self.ids.append(str(d["id"]))
        for key in ("href", "xlink:href", "src"):
            value = d.get(key)
            if value and value.startswith("#"):
                self.links.append(value[1:])
            elif value:
                self.external.append(value)
        if tag == "script":
            self.scripts += 1
        if tag == "link":
            self.external.append(str(d))


def parse(html: str) -> Ids:
    p = Ids()
    p.feed(html)
    return p


def test_the_folder_report_has_every_section_and_no_dangling_link() -> None:
    journeys = [load(f) for f in EXAMPLES]
    html = report_html(journeys)
    page = parse(html)
    assert len(page.ids) == len(set(page.ids)), "ids must be unique on the page"
    assert set(page.links) <= set(page.ids), set(page.links) - set(page.ids)
    assert page.external == []  # nothing is fetched: no src, no href out, no <link>
    assert page.scripts == 1  # ours, inline
    for j in journeys:
        assert f'id="journey-{j.journey}"' in html
        for tp in j.touchpoints:
            assert f'id="tp-{j.journey}--{tp.id}"' in html
    for heading in (
        "Journeys side by side",
        "Summary",
        "The journey map",
        "Where customers get lost",
        "Findings",
        "Touchpoint inventory",
        "Importance versus quality",
        "Stage by stage",
        "Handoffs and ownership",
    ):
        assert f">{heading}<" in html, heading
    assert "@media print" in html and "@page" in html


def test_a_single_journey_uses_plain_anchors(make_journey: Make) -> None:
    html = report_html([make_journey(LOOP)])
    assert 'id="tp-apply"' in html
    assert "Journeys side by side" not in html
    # the map's nodes link to the inventory
    assert 'xlink:href="#tp-apply"' in html


def test_sections_without_data_are_left_out(make_journey: Make) -> None:
    html = report_html([make_journey(LOOP)])  # no quality, importance, emotion or owners
    assert "Importance versus quality" not in html
    assert "Handoffs and ownership" in html  # touchpoints with no owner are listed
    assert '<div class="chart"><svg xmlns="http://www.w3.org/2000/svg" class="emotion"' not in html


def test_text_from_the_journey_is_shown_literally(make_journey: Make) -> None:
    text = LOOP.replace("  - id: apply\n", f"  - id: apply\n    title: '{EVIL}'\n    owner: x\n")
    html = report_html([make_journey(text)])
    assert "<script>alert(1)" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt; &amp;") >= 3
    md = report_markdown([make_journey(text)])
    assert "<script>" not in md and r"&lt;script&gt;alert\(1\)&lt;/script&gt;" in md


def test_same_input_same_bytes() -> None:
    journeys = [load(f) for f in EXAMPLES]
    assert report_html(journeys) == report_html([load(f) for f in EXAMPLES])
    assert report_markdown(journeys) == report_markdown([load(f) for f in EXAMPLES])


def test_markdown_has_the_same_content() -> None:
    md = report_markdown([load(f) for f in EXAMPLES])
    for heading in ("## Candidate journey", "### Where customers get lost", "### Findings",
                    "### Touchpoint inventory", "### Handoffs"):  # fmt: skip
        assert heading in md
    # tables keep their shape: every row of a table has as many cells as its header
    for block in re.findall(r"(?:^\|.*\|\n)+", md, flags=re.M):
        counts = {len(re.findall(r"(?<!\\)\|", line)) for line in block.splitlines()}
        assert len(counts) == 1, block


def test_a_firms_own_templates_replace_ours(make_journey: Make, tmp_path: Path) -> None:
    (tmp_path / "report.css").write_text("body { color: rebeccapurple; }\n")
    html = report_html([make_journey(LOOP)], template_dir=tmp_path)
    assert "rebeccapurple" in html and "Touchpoint inventory" in html  # the rest is ours
    (tmp_path / "report.html.j2").write_text("{{ title }} {{ nope }}")
    with pytest.raises(JourneyError, match=r"template \S*report\.html\.j2:1: 'nope' is undefined"):
        report_html([make_journey(LOOP)], template_dir=tmp_path)
    (tmp_path / "report.html.j2").write_text("<h1>{{ title }}</h1>{% for s in sections %}")
    with pytest.raises(JourneyError, match="template"):
        report_html([make_journey(LOOP)], template_dir=tmp_path)


def test_a_template_folder_cannot_reach_files_outside_it(
    make_journey: Make, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-LINE")
    folder = tmp_path / "templates"
    folder.mkdir()
    # A link that leads out of the folder is as if the file were not there: ours is used.
    (folder / "report.css").symlink_to(secret)
    html = report_html([make_journey(LOOP)], template_dir=folder)
    assert "TOP-SECRET-LINE" not in html and "Touchpoint inventory" in html
    (folder / "report.html.j2").write_text('{% include "../secret.txt" %}')
    with pytest.raises(JourneyError, match=r"secret\.txt"):
        report_html([make_journey(LOOP)], template_dir=folder)


def test_the_quadrant_shades_the_important_but_poor_corner() -> None:
    j = load(EXAMPLES[0])
    svg = quadrant_svg(j, "")
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    bad = [g for g in root.iter(f"{ns}g") if "pt-bad" in (g.get("class") or "")]
    expected = {
        tp.title
        for tp in j.touchpoints
        if tp.importance and (tp.importance.customer or 0) >= 4 and (tp.quality or 5) <= 2
    }
    titles = {str(g.find(f"{ns}title").text).split(": importance")[0] for g in bad}  # type: ignore[union-attr]
    assert titles == expected and expected
    assert "Important but poor" in svg


# Two journeys whose ids would collide under "tp-<journey>-<id>": a/b-c and a-b/c.
COLLIDE_A = """\
journey: a
stages: [s]
touchpoints:
  - id: b-c
    stage: s
    owner: Sales
    next: [done]
outcomes:
  - {id: done, result: success}
"""
COLLIDE_B = COLLIDE_A.replace("journey: a", "journey: a-b").replace("b-c", "c")


def test_anchors_stay_unique_across_journeys(make_journey: Make) -> None:
    html = report_html([make_journey(COLLIDE_A), make_journey(COLLIDE_B)])
    page = parse(html)
    assert len(page.ids) == len(set(page.ids))
    assert 'id="tp-a--b-c"' in html and 'id="tp-a-b--c"' in html
    assert set(page.links) <= set(page.ids)


HANDOFFS = """\
journey: h
stages: [s, t]
touchpoints:
  - id: ad
    stage: s
    owner: Marketing
    volume: 1000000
    emotion: 2
    next:
      - {to: call, wait: 2d}
      - {to: form}
  - id: call
    stage: t
    owner: Sales
    next: [won]
  - id: form
    stage: t
    owner: Marketing
    next: [orphan-next]
  - id: orphan-next
    stage: t
    next: [won]
outcomes:
  - {id: won, result: success}
"""


def test_handoffs_and_owners_as_the_findings_say(make_journey: Make) -> None:
    html = report_html([make_journey(HANDOFFS)])
    owners = html[html.index('<section class="owners"') :]
    owners = owners[: owners.index("</section>")]
    # by hand: ad (Marketing) -> call (Sales) is the one handoff, with its wait;
    # ad -> form stays with Marketing; form -> orphan-next has no owner on one side
    rows = re.findall(r"<tr><td><a href=\"#tp-(\w[\w-]*)\">.*?</tr>", owners)
    assert rows == ["ad"]
    assert "<td>2d</td>" in owners
    assert re.search(r'No owner:</strong> <a href="#tp-orphan-next">orphan next</a>', owners, re.I)
    # a million customers reads as people write it, and feelings carry their sign
    assert ">1,000,000<" in html and '<td class="num">+2</td>' in html


def test_canvas_cards_link_to_their_touchpoint(make_journey: Make) -> None:
    html = report_html([make_journey(HANDOFFS)])
    for ident in ("ad", "call", "form", "orphan-next", "won"):
        assert re.search(f'<a href="#tp-{ident}"><g class="cv-card" id="svg-h--canvas-', html)
        assert f'xlink:href="#tp-{ident}"' in html  # and the flow map's nodes


def test_findings_are_grouped_by_severity_then_rule() -> None:
    html = report_html([load(EXAMPLES[0])])
    findings = html[html.index('<section class="findings"') :]
    findings = findings[: findings.index("</section>")]
    severities = re.findall(r'<span class="sev sev-(\w+)">', findings)
    assert severities == ["error", "warning", "info"]
    total = 0
    for block in findings.split('<span class="sev sev-')[1:]:
        rules = re.findall(r"<h5><code>([\w-]+)</code> (\d+)", block)
        assert len({r for r, _ in rules}) == len(rules)  # one heading per rule and severity
        total += sum(int(n) for _, n in rules)
    assert total == findings.count('class="finding"')


def test_the_emotion_curve_names_stages_without_overprinting() -> None:
    j = load(EXAMPLES[0])
    root = ET.fromstring(emotion_svg(j))
    ns = "{http://www.w3.org/2000/svg}"
    names = [t for t in root.iter(f"{ns}text") if t.get("class") == "stage-name"]
    assert [str(t.find(f"{ns}title").text) for t in names] == [s.title for s in j.stages]  # type: ignore[union-attr]
    xs = [float(str(t.get("x"))) for t in names]
    for x0, x1, t in zip(xs[:-1], xs[1:], names[:-1], strict=True):
        assert len(str(t.find(f"{ns}title").tail)) * 6.2 <= x1 - x0  # type: ignore[union-attr]


def test_markdown_shows_titles_as_text_never_images_links_or_html(make_journey: Make) -> None:
    image, link = "![x](http://evil/x.png)", "[click](javascript:alert(1))"
    text = LOOP.replace("journey: loop\n", f"journey: loop\ntitle: '# {image} | <b>x</b>'\n")
    text = text.replace(
        "  - id: apply\n", f"  - id: apply\n    title: '{link}'\n    owner: 'a|b'\n"
    )
    md = report_markdown([make_journey(text)])
    for live in ("![x](", "](http", "](javascript", "[click]", "<b>"):
        assert live not in md, live
    assert "\n## \\# \\!\\[x\\]\\(http://evil/x.png\\) \\| &lt;b&gt;x&lt;/b&gt;\n" in md
    assert r"\[click\]\(javascript:alert\(1\)\)" in md
    assert "| a\\|b |" in md  # owner in the inventory table, its pipe escaped
    for block in re.findall(r"(?:^\|.*\|\n)+", md, flags=re.M):  # tables keep their shape
        counts = {len(re.findall(r"(?<!\\)\|", line)) for line in block.splitlines()}
        assert len(counts) == 1, block


def test_a_failing_template_names_its_file_and_line(make_journey: Make, tmp_path: Path) -> None:
    path = tmp_path / "report.html.j2"
    path.write_text("<h1>{{ title }}</h1>\n\n{{ 1/0 }}\n")
    with pytest.raises(JourneyError) as info:
        report_html([make_journey(LOOP)], template_dir=tmp_path)
    assert str(info.value) == f"template {path}:3: ZeroDivisionError: division by zero"
    path.write_text("ok\n{% include 'missing.j2' %}\n")
    with pytest.raises(JourneyError, match=rf"template {re.escape(str(path))}:2: no template"):
        report_html([make_journey(LOOP)], template_dir=tmp_path)
    (tmp_path / "report.md.j2").write_text("# {{ title }}\n{% if %}\n")
    with pytest.raises(JourneyError, match=r"template \S*report\.md\.j2:2: "):
        report_markdown([make_journey(LOOP)], template_dir=tmp_path)


@pytest.mark.parametrize(
    "escape",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ sections[0].__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{% set x = sections.append(1) %}{{ x }}",
    ],
)
def test_templates_run_in_a_sandbox(make_journey: Make, tmp_path: Path, escape: str) -> None:
    (tmp_path / "report.html.j2").write_text(f"<h1>{{{{ title }}}}</h1>\n{escape}\n")
    with pytest.raises(JourneyError, match=r"template \S*report\.html\.j2:2: .*(unsafe|undefined)"):
        report_html([make_journey(LOOP)], template_dir=tmp_path)


def test_a_failing_template_through_the_cli(cli: Run, tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "report.html.j2").write_text("a\n{{ 1/0 }}\n")
    src = tmp_path / "loop.yaml"
    src.write_text(LOOP)
    done = cli("report", src, "-o", tmp_path / "r.html", "--template", tmp_path / "t")
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "report.html.j2:2: ZeroDivisionError" in done.stderr + done.stdout


def test_a_saturated_route_count_reads_at_least(
    make_journey: Make, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The count stops at ROUTES_CAP; the report said "1,000,000,000,000,000,000 routes".
    import journeymap.paths

    monkeypatch.setattr(journeymap.paths, "count_routes", lambda *a, **k: ROUTES_CAP)
    j = make_journey(LOOP)
    assert "at least 1,000,000,000,000,000,000" in report_html([j])
    assert "at least 1,000,000,000,000,000,000 routes" in report_markdown([j])


def test_markdown_values_without_a_digit_are_escaped_not_taken_for_numbers() -> None:
    # "-" or "+" alone passed as a number and could start a list item in a custom template.
    from journeymap.report import _md_finalize

    assert _md_finalize("-") != "-" and _md_finalize("+") != "+"
    assert _md_finalize("35%") == "35%" and _md_finalize("-1,200.5") == "-1,200.5"


def test_time_to_success_is_a_table_and_a_chart_with_titles_escaped() -> None:
    from journeymap.report import time_svg

    j = load(EXAMPLES[0])
    html = report_html([j])
    assert (
        "Time to success by entry" in html
        and '<svg xmlns="http://www.w3.org/2000/svg" class="time"' in html
    )
    assert "### Time to success" in report_markdown([j])
    text = LOOP.replace("  - id: start\n", f"  - id: start\n    title: '{EVIL}'\n")
    text = text.replace(
        "{to: placed, probability: 0.6}", "{to: placed, probability: 0.6, wait: 2w}"
    )
    from journeymap.analysis import analyze
    from journeymap.loader import loads

    evil = loads(text, "evil.yaml")
    svg = time_svg(evil, analyze(evil))
    root = ET.fromstring(svg)  # well-formed: the title did not break out
    assert "<script>" not in svg
    assert any(EVIL[:20] in "".join(t.itertext()) for t in root.iter())


SPARSE = """\
journey: sparse
stages: [a, b]
touchpoints:
  - {id: t1, stage: a, owner: Sales, quality: 2, next: [t2]}
  - {id: t2, stage: b, owner: Sales, next: [won]}
outcomes:
  - {id: won, result: success}
"""


def _inventory_headers(html: str, journey: str) -> list[str]:
    table = html[html.index(f'id="inv-{journey}"') :]
    head = table[: table.index("</thead>")]
    return re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', head)


def test_the_inventory_leaves_out_columns_no_touchpoint_fills(
    make_journey: Callable[..., Journey],
) -> None:
    html = report_html([make_journey(SPARSE)])
    assert _inventory_headers(html, "sparse") == [
        "Touchpoint",
        "Stage",
        "Who (owner)",
        "Layer",
        "Interaction",
        "Quality",
    ]
    # an outcome's row spans the table as wide as its header
    assert '<td>Outcome</td><td colspan="4">' in html
    md = report_markdown([make_journey(SPARSE)])
    block = md[md.index("### Touchpoint inventory") :].split("\n\n")[1]
    rows = block.splitlines()
    assert rows[0] == "| Touchpoint | Stage | Owner | Layer | Interaction | Quality |"
    assert {row.count("|") for row in rows} == {7}


def test_the_examples_inventory_keeps_every_column() -> None:
    # The declared examples fill every column; an observed journey has only what a log says.
    for path in [p for p in EXAMPLES if not p.stem.endswith("-observed")]:
        j = load(path)
        assert len(_inventory_headers(report_html([j]), j.journey)) == 13


def test_findings_that_differ_only_in_their_subject_are_one_entry() -> None:
    from journeymap import analyze

    j = load(Path(__file__).resolve().parent.parent / "journeys" / "candidate.yaml")
    html = report_html([j])
    spofs = [f for f in analyze(j).findings if f.rule == "single-point-of-failure"]
    assert len(spofs) >= 3
    [entry] = re.findall(r'<p class="same">(.*?)</p>', html.split("single-point-of-failure")[1])
    assert entry.startswith("every successful journey passes through …: a single point of failure")
    assert entry.count('class="finding"') == len(spofs)
    # findings with messages of their own stay one per line
    assert '<li><a class="finding"' in html
