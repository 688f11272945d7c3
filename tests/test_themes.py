"""Theme files: values checked where they are read, with the line of each mistake."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from journeymap.errors import JourneyError
from journeymap.themes import LOGO_LIMIT, Theme, check_color, check_font, read_logo

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 16


def theme_file(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "brand.yaml"
    p.write_text(textwrap.dedent(text))
    return p


def problems(path: Path) -> list[str]:
    with pytest.raises(JourneyError) as info:
        Theme.from_file(path)
    return str(info.value).splitlines()


def test_colours_and_fonts_that_would_inject_code_are_refused_with_their_place(
    tmp_path: Path,
) -> None:
    p = theme_file(
        tmp_path,
        """\
        font: "x; } body { display:none } .y {"
        accent: '#000"/><script>alert(1)</script><rect x="'
        text: "red; background: url(http://evil/x)"
        edge: "#12345"
        muted: navy
        """,
    )
    lines = problems(p)
    assert len(lines) == 4, lines
    assert re.fullmatch(
        rf"{re.escape(str(p))}:1:\d+: font: .* is not a font family name .*", lines[0]
    )
    assert lines[1].startswith(f"{p}:2:") and "accent" in lines[1] and "not a colour" in lines[1]
    assert lines[2].startswith(f"{p}:3:") and "text" in lines[2]
    assert lines[3].startswith(f"{p}:4:") and "edge" in lines[3]


def test_good_values_are_read_and_written_as_hex(tmp_path: Path) -> None:
    p = theme_file(
        tmp_path,
        """\
        font: "Open Sans, Noto_Sans-2.0, sans-serif"
        accent: "#ABC"
        text: Navy
        edge: "#11223344"
        background: transparent
        title: "Ours <b>&</b>"
        """,
    )
    t = Theme.from_file(p)
    assert t.font == "Open Sans, Noto_Sans-2.0, sans-serif"
    assert (t.accent, t.text, t.edge, t.background) == (
        "#aabbcc",
        "#000080",
        "#11223344",
        "#ffffff00",
    )
    assert t.title == "Ours <b>&</b>"  # free text: escaped where it is drawn


def test_themes_made_in_python_are_checked_too() -> None:
    with pytest.raises(JourneyError, match="accent"):
        Theme(accent='#000"/><script>')
    with pytest.raises(JourneyError, match="font"):
        Theme(font="a{}")
    assert Theme(accent="#FFF").accent == "#ffffff"
    assert check_color("rgb(1,2,3)") is None and check_font("") is None


@pytest.mark.parametrize(
    ("name", "content", "why"),
    [
        ("logo.png", b"root:x:0:0:root:/root:/bin/bash\n", "not a PNG, JPEG, GIF, WebP or safe SVG"),
        ("logo.png", PNG + b"\0" * LOGO_LIMIT, "logos over 1 MiB are refused"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "<script>"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "event handler"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
                     b'<image x:href="file:///etc/passwd"/></svg>', "refers to 'file:///etc/passwd'"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><use href="http://evil/x.svg#a"/></svg>', "refers to"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(http://e/x)"/></svg>', "loads"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import "http://e/x.css";</style></svg>',
         "style loads"),
        ("logo.svg", b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>', "DOCTYPE"),
        ("logo.svg", b"<html><body>not svg</body></html>", "root element is not <svg>"),
        ("logo.svg", b"<svg", "not well-formed"),
    ],
)  # fmt: skip
def test_a_logo_must_be_a_real_safe_image(
    tmp_path: Path, name: str, content: bytes, why: str
) -> None:
    (tmp_path / name).write_bytes(content)
    p = theme_file(tmp_path, f"accent: navy\nlogo: {name}\n")
    lines = problems(p)
    assert len(lines) == 1
    assert lines[0].startswith(f"{p}:2:") and "logo" in lines[0]
    assert why in lines[0]


def test_a_logo_that_is_not_there_or_not_a_file(tmp_path: Path) -> None:
    p = theme_file(tmp_path, "logo: /etc\n")
    assert "not a regular file" in problems(p)[0]
    p = theme_file(tmp_path, "logo: nowhere.png\n")
    assert "logo image not found" in problems(p)[0]
    (tmp_path / "link.png").symlink_to("/etc/passwd")
    p = theme_file(tmp_path, "logo: link.png\n")
    assert "not a PNG" in problems(p)[0]


def test_real_images_are_accepted_whatever_their_name(tmp_path: Path) -> None:
    cases = {
        "a.png": (PNG, "image/png"),
        "b.jpg": (b"\xff\xd8\xff\xe0" + b"\0" * 8, "image/jpeg"),
        "c.gif": (b"GIF89a" + b"\0" * 8, "image/gif"),
        "d.webp": (b"RIFF\0\0\0\0WEBPVP8 ", "image/webp"),
        "e.svg": (
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
            b'<defs><circle id="c" r="4"/></defs><use x:href="#c"/>'
            b'<image href="data:image/png;base64,iVBORw0KGgo="/></svg>',
            "image/svg+xml",
        ),
        "f.txt": (PNG, "image/png"),
    }
    for name, (content, kind) in cases.items():
        (tmp_path / name).write_bytes(content)
        assert read_logo(tmp_path / name) == (kind, content), name
        t = Theme.from_file(theme_file(tmp_path, f"logo: {name}\n"))
        assert t.logo == str((tmp_path / name).resolve())


def test_a_theme_config_or_logo_that_is_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    # The review found `--theme fifo.yaml` and `--config fifo.yaml` waiting forever.
    import os
    import subprocess
    import sys

    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    journey = tmp_path / "j.yaml"
    journey.write_text(
        "journey: j\nstages: [s]\ntouchpoints: [{id: a, stage: s, next: [won]}]\n"
        "outcomes: [{id: won, result: success}]\n"
    )
    for args in (["render", str(journey), "--theme", str(fifo), "-o", str(tmp_path / "out")],
                 ["analyze", str(journey), "--config", str(fifo)]):  # fmt: skip
        proc = subprocess.run(
            [sys.executable, "-m", "journeymap", *args], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 1, proc.stderr
        assert "not a regular file" in proc.stderr
    os.mkfifo(tmp_path / "logo.png")
    p = theme_file(tmp_path, "logo: logo.png\n")
    assert "not a regular file" in problems(p)[0]
