"""Colours and fonts of the maps.

Colour is never the only carrier of meaning: every state also has a shape,
a border style or a word, so the maps survive grayscale printers and
colour-blind readers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import JourneyError, UsageError, did_you_mean

__all__ = [
    "COLOR_NAMES",
    "LOGO_LIMIT",
    "THEMES",
    "Theme",
    "check_color",
    "check_font",
    "get_theme",
    "read_logo",
]

#: The CSS colour keywords, as the hex they stand for. A theme may name a colour
#: by keyword, but every output gets the hex: Graphviz's X11 names differ from
#: CSS's for some (gray is #bebebe there), and only hex is safe in any context.
# fmt: off
COLOR_NAMES: dict[str, str] = {
    "aliceblue": "#f0f8ff", "antiquewhite": "#faebd7", "aqua": "#00ffff", "aquamarine": "#7fffd4",
    "azure": "#f0ffff", "beige": "#f5f5dc", "bisque": "#ffe4c4", "black": "#000000",
    "blanchedalmond": "#ffebcd", "blue": "#0000ff", "blueviolet": "#8a2be2", "brown": "#a52a2a",
    "burlywood": "#deb887", "cadetblue": "#5f9ea0", "chartreuse": "#7fff00",
    "chocolate": "#d2691e", "coral": "#ff7f50", "cornflowerblue": "#6495ed",
    "cornsilk": "#fff8dc", "crimson": "#dc143c", "cyan": "#00ffff", "darkblue": "#00008b",
    "darkcyan": "#008b8b", "darkgoldenrod": "#b8860b", "darkgray": "#a9a9a9",
    "darkgreen": "#006400", "darkgrey": "#a9a9a9", "darkkhaki": "#bdb76b",
    "darkmagenta": "#8b008b", "darkolivegreen": "#556b2f", "darkorange": "#ff8c00",
    "darkorchid": "#9932cc", "darkred": "#8b0000", "darksalmon": "#e9967a",
    "darkseagreen": "#8fbc8f", "darkslateblue": "#483d8b", "darkslategray": "#2f4f4f",
    "darkslategrey": "#2f4f4f", "darkturquoise": "#00ced1", "darkviolet": "#9400d3",
    "deeppink": "#ff1493", "deepskyblue": "#00bfff", "dimgray": "#696969", "dimgrey": "#696969",
    "dodgerblue": "#1e90ff", "firebrick": "#b22222", "floralwhite": "#fffaf0",
    "forestgreen": "#228b22", "fuchsia": "#ff00ff", "gainsboro": "#dcdcdc",
    "ghostwhite": "#f8f8ff", "gold": "#ffd700", "goldenrod": "#daa520", "gray": "#808080",
    "green": "#008000", "greenyellow": "#adff2f", "grey": "#808080", "honeydew": "#f0fff0",
    "hotpink": "#ff69b4", "indianred": "#cd5c5c", "indigo": "#4b0082", "ivory": "#fffff0",
    "khaki": "#f0e68c", "lavender": "#e6e6fa", "lavenderblush": "#fff0f5", "lawngreen": "#7cfc00",
    "lemonchiffon": "#fffacd", "lightblue": "#add8e6", "lightcoral": "#f08080",
    "lightcyan": "#e0ffff", "lightgoldenrodyellow": "#fafad2", "lightgray": "#d3d3d3",
    "lightgreen": "#90ee90", "lightgrey": "#d3d3d3", "lightpink": "#ffb6c1",
    "lightsalmon": "#ffa07a", "lightseagreen": "#20b2aa", "lightskyblue": "#87cefa",
    "lightslategray": "#778899", "lightslategrey": "#778899", "lightsteelblue": "#b0c4de",
    "lightyellow": "#ffffe0", "lime": "#00ff00", "limegreen": "#32cd32", "linen": "#faf0e6",
    "magenta": "#ff00ff", "maroon": "#800000", "mediumaquamarine": "#66cdaa",
    "mediumblue": "#0000cd", "mediumorchid": "#ba55d3", "mediumpurple": "#9370db",
    "mediumseagreen": "#3cb371", "mediumslateblue": "#7b68ee", "mediumspringgreen": "#00fa9a",
    "mediumturquoise": "#48d1cc", "mediumvioletred": "#c71585", "midnightblue": "#191970",
    "mintcream": "#f5fffa", "mistyrose": "#ffe4e1", "moccasin": "#ffe4b5",
    "navajowhite": "#ffdead", "navy": "#000080", "oldlace": "#fdf5e6", "olive": "#808000",
    "olivedrab": "#6b8e23", "orange": "#ffa500", "orangered": "#ff4500", "orchid": "#da70d6",
    "palegoldenrod": "#eee8aa", "palegreen": "#98fb98", "paleturquoise": "#afeeee",
    "palevioletred": "#db7093", "papayawhip": "#ffefd5", "peachpuff": "#ffdab9",
    "peru": "#cd853f", "pink": "#ffc0cb", "plum": "#dda0dd", "powderblue": "#b0e0e6",
    "purple": "#800080", "rebeccapurple": "#663399", "red": "#ff0000", "rosybrown": "#bc8f8f",
    "royalblue": "#4169e1", "saddlebrown": "#8b4513", "salmon": "#fa8072",
    "sandybrown": "#f4a460", "seagreen": "#2e8b57", "seashell": "#fff5ee", "sienna": "#a0522d",
    "silver": "#c0c0c0", "skyblue": "#87ceeb", "slateblue": "#6a5acd", "slategray": "#708090",
    "slategrey": "#708090", "snow": "#fffafa", "springgreen": "#00ff7f", "steelblue": "#4682b4",
    "tan": "#d2b48c", "teal": "#008080", "thistle": "#d8bfd8", "tomato": "#ff6347",
    "turquoise": "#40e0d0", "violet": "#ee82ee", "wheat": "#f5deb3", "white": "#ffffff",
    "whitesmoke": "#f5f5f5", "yellow": "#ffff00", "yellowgreen": "#9acd32",
    "transparent": "#ffffff00",
}
# fmt: on
_HEX = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
#: One font family name: letters, digits, spaces, hyphens, underscores, periods.
_FAMILY = re.compile(r"[\w .-]+")
_NOT_COLORS = frozenset({"name", "font", "title", "logo"})
#: Largest logo read, in bytes: a logo goes into every SVG and report as a data URI.
LOGO_LIMIT = 1 << 20


def check_color(value: str) -> str | None:
    """``value`` as ``#rrggbb`` or ``#rrggbbaa`` if it is a colour, else None.

    Theme values go into SVG attributes, CSS and DOT; a value that is only ever a
    hex colour cannot close a quote or a rule anywhere, whatever the output. Short
    ``#rgb`` is written out in full because Graphviz does not read it.
    """
    text = value.strip()
    named = COLOR_NAMES.get(text.lower())
    if named is not None:
        return named
    if _HEX.fullmatch(text) is None:
        return None
    if len(text) == 4:
        text = "#" + "".join(c * 2 for c in text[1:])
    return text.lower()


def check_font(value: str) -> str | None:
    """``value`` as a comma-separated list of font family names, or None.

    Names only (letters, digits, spaces, hyphens, underscores, periods): no quote,
    semicolon or brace can reach the CSS or the DOT the font is written into.
    """
    if len(value) > 300:
        return None
    families = [f.strip() for f in value.split(",")]
    for family in families:
        if _FAMILY.fullmatch(family) is None or not any(c.isalnum() for c in family):
            return None
    return ", ".join(families)


_IMAGE_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def read_logo(path: str | Path) -> tuple[str, bytes]:
    """A logo's MIME type and bytes, if it is a real image: else ValueError saying why.

    The logo is embedded in every canvas and report, which a colleague's theme
    can point anywhere; so only a regular file of at most :data:`LOGO_LIMIT`
    bytes whose content is PNG, JPEG, GIF, WebP or a static SVG (no script, no
    event handler, no reference outside itself) is read, whatever its name says.
    """
    from .loader import read_regular

    p = Path(path)
    if not p.exists():
        raise ValueError(f"logo image not found: {p}")
    try:
        data = read_regular(p, LOGO_LIMIT, "logos")
    except ValueError as exc:
        raise ValueError(f"the logo {p}: {exc}") from None
    for magic, kind in _IMAGE_MAGIC:
        if data.startswith(magic):
            return kind, data
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp", data
    problem = _svg_problem(data)
    if problem is None:
        return "image/svg+xml", data
    raise ValueError(f"the logo {p} is not a PNG, JPEG, GIF, WebP or safe SVG image: {problem}")


_SAFE_REF = re.compile(r"#|data:image/(?:png|jpeg|gif|webp)[;,]", re.I)
_CSS_URL = re.compile(r"url\(\s*['\"]?\s*(?!#)", re.I)


def _svg_problem(data: bytes) -> str | None:
    """Why ``data`` is not an SVG that is safe to embed, or None if it is."""
    import xml.etree.ElementTree as ET

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8 text"
    lowered = text.lower()
    # DTDs bring entities (billion laughs, external files); stylesheet PIs fetch
    if "<!doctype" in lowered or "<!entity" in lowered:
        return "it has a DOCTYPE"
    if "<?xml-stylesheet" in lowered:
        return "it loads a stylesheet"
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        return f"not well-formed XML ({exc})"
    if root.tag.rpartition("}")[2] != "svg":
        return "its root element is not <svg>"
    for el in root.iter():
        tag = el.tag.rpartition("}")[2].lower() if isinstance(el.tag, str) else ""
        if tag in ("script", "foreignobject", "iframe", "embed", "object"):
            return f"it has a <{tag}> element"
        if tag == "style" and (_CSS_URL.search(el.text or "") or "@import" in (el.text or "")):
            return "its style loads a URL"
        for name, value in el.attrib.items():
            local = name.rpartition("}")[2].lower()
            if local.startswith("on"):
                return f"it has an event handler ({local})"
            if local in ("href", "src") and not _SAFE_REF.match(value.strip()):
                return f"it refers to {value[:60]!r}"
            if "javascript:" in value.lower() or (local == "style" and _CSS_URL.search(value)):
                return f"its {local} attribute loads {value[:60]!r}"
            if tag in ("set", "animate") and local == "attributename" and "href" in value.lower():
                return "it animates a link"
    return None


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
    # A step an event log shows that the journey does not declare (report --log).
    undeclared_edge: str = "#d9480f"
    emotion_positive: str = "#1e7b34"
    emotion_negative: str = "#b42318"
    accent: str = "#3b6ea8"
    title: str | None = None  # replaces the journey title on the map
    logo: str | None = None  # an image file shown beside the title (canvas, report)

    def __post_init__(self) -> None:
        """Refuse a colour or font that is not one, however the theme was made.

        A theme file's values are checked (with their line) in :meth:`from_file`;
        this catches themes built in Python, so no theme value that reaches an
        SVG, CSS or DOT text can be anything but a hex colour or a font name.
        """
        for fl in fields(self):
            value = getattr(self, fl.name)
            if fl.name == "font":
                good = check_font(value)
            elif fl.name in _NOT_COLORS:
                continue
            else:
                good = check_color(value)
            if good is None:
                raise JourneyError(f"theme {self.name}: {fl.name}: not a valid value: {value!r}")
            object.__setattr__(self, fl.name, good)

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
            elif key == "font":
                font = check_font(value)
                if font is None:
                    f.problem(
                        (key,),
                        f"font: {value!r} is not a font family name (letters, digits, spaces,"
                        " hyphens, underscores and periods; several separated by commas)",
                    )
                values[key] = font
            elif key not in _NOT_COLORS:
                color = check_color(value)
                if color is None:
                    f.problem(
                        (key,),
                        f"{key}: {value!r} is not a colour (#rgb, #rrggbb, #rrggbbaa or a CSS"
                        " colour name such as 'navy')",
                    )
                values[key] = color
            else:
                values[key] = value
        if "logo" in values:
            logo = (p.parent / values["logo"]).resolve()
            try:
                read_logo(logo)
            except ValueError as exc:
                f.problem(("logo",), f"logo: {exc}")
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
        undeclared_edge="#000000",
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
        undeclared_edge="#E69F00",
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
    if not Path(name_or_path).exists():
        # A misspelt name, most likely: say what exists rather than "no such file".
        raise UsageError(
            f"--theme {name_or_path!r}: no built-in theme or theme file by that name"
            + did_you_mean(name_or_path, list(THEMES))
            + f"; built-in themes: {', '.join(THEMES)}; or give a theme file (YAML)"
        )
    return Theme.from_file(name_or_path)
