"""Colours and fonts of the maps.

Colour is never the only carrier of meaning: every state also has a shape,
a border style or a word, so the maps survive grayscale printers and
colour-blind readers.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

__all__ = ["THEMES", "Theme", "get_theme"]


@dataclass(frozen=True)
class Theme:
    name: str = "default"
    font: str = "DejaVu Sans"
    text: str = "#1f2933"
    muted: str = "#52606d"
    background: str = "#ffffff"
    stage_fill: str = "#f4f7fb"
    stage_border: str = "#c5d0de"
    touchpoint_fill: str = "#ffffff"
    touchpoint_border: str = "#3b6ea8"
    backstage_fill: str = "#eef0f3"
    backstage_border: str = "#7b8794"
    dead_fill: str = "#fde4e1"
    dead_border: str = "#b42318"
    trap_fill: str = "#fff1d6"
    trap_border: str = "#b54708"
    success_fill: str = "#e3f4e1"
    success_border: str = "#1e7b34"
    lost_fill: str = "#fde4e1"
    lost_border: str = "#b42318"
    edge: str = "#5f6b7a"
    rework_edge: str = "#7a3ea8"
    emotion_positive: str = "#1e7b34"
    emotion_negative: str = "#b42318"
    accent: str = "#3b6ea8"
    title: str | None = None  # replaces the journey title on the map
    logo: str | None = None  # an image file shown beside the title (canvas, report)

    @classmethod
    def from_file(cls, path: str | Path) -> Theme:
        """A user theme: a YAML mapping of the fields above; ``base`` names a built-in theme."""
        from .loader import Settings

        p = Path(path)
        f = Settings(p, "theme file")
        data = dict(f.data)
        known = {fl.name for fl in fields(cls)} - {"name"}
        base_name = str(data.pop("base", "default"))
        base = THEMES.get(base_name)
        if base is None:
            f.problem(
                ("base",),
                f"no built-in theme named '{base_name}'; use one of {', '.join(THEMES)}",
            )
            base = THEMES["default"]
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                f.unknown((), key, known, "theme key")
            elif not isinstance(value, str):
                f.problem((key,), f"{key}: expected text, got {value!r}")
            else:
                values[key] = value
        if "logo" in values:
            logo = (p.parent / values["logo"]).resolve()
            if not logo.is_file():
                f.problem(("logo",), f"logo image not found: {logo}")
            values["logo"] = str(logo)
        f.done()
        return replace(base, name=p.stem, **values)


THEMES: dict[str, Theme] = {
    "default": Theme(),
    # Light ink, strong contrast in grayscale: borders and words carry the meaning.
    "print": Theme(
        name="print",
        text="#000000",
        muted="#333333",
        stage_fill="#ffffff",
        stage_border="#777777",
        touchpoint_fill="#ffffff",
        touchpoint_border="#222222",
        backstage_fill="#ffffff",
        backstage_border="#555555",
        dead_fill="#ffffff",
        dead_border="#000000",
        trap_fill="#ffffff",
        trap_border="#000000",
        success_fill="#ffffff",
        success_border="#000000",
        lost_fill="#ffffff",
        lost_border="#000000",
        edge="#333333",
        rework_edge="#333333",
        emotion_positive="#000000",
        emotion_negative="#000000",
        accent="#000000",
    ),
    # Okabe-Ito colours, distinguishable with every common colour-vision deficiency.
    "colorblind": Theme(
        name="colorblind",
        touchpoint_border="#0072B2",
        dead_fill="#f9e0cc",
        dead_border="#D55E00",
        trap_fill="#fdf3c4",
        trap_border="#E69F00",
        success_fill="#d5ecf7",
        success_border="#0072B2",
        lost_fill="#f9e0cc",
        lost_border="#D55E00",
        rework_edge="#CC79A7",
        emotion_positive="#0072B2",
        emotion_negative="#D55E00",
        accent="#009E73",
    ),
}


def get_theme(name_or_path: str | None) -> Theme:
    """A built-in theme by name, or a user theme file."""
    if name_or_path is None:
        return THEMES["default"]
    if name_or_path in THEMES:
        return THEMES[name_or_path]
    return Theme.from_file(name_or_path)
