"""``journeymap init``: a first journey file to start from.

A newcomer's way in should not be a 500-line example. The starters are short,
commented journeys (candidate, client, blank) that show every key once,
validate and render as they are, and point editors at the schema on their
first line. They are Jinja2 templates under ``templates/init/``; what is
filled in (the id, the title, the file name in a comment) is escaped for
the YAML context it lands in.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from .errors import UsageError

__all__ = ["KINDS", "SCHEMA_FILE", "init_files", "starter"]

KINDS = ("candidate", "client", "blank")
#: The schema's file name beside the journey, as the starters' first line names it.
SCHEMA_FILE = "journey.schema.json"

# Characters that would end a YAML comment line, or that a terminal would act on.
_UNSAFE_IN_COMMENT = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _comment_safe(text: str) -> str:
    return _UNSAFE_IN_COMMENT.sub("\N{REPLACEMENT CHARACTER}", text)


def _title(ident: str) -> str:
    from .model import title_from_id

    title = title_from_id(ident)
    return title if title.lower().endswith("journey") else f"{title} journey"


def starter(kind: str = "candidate", *, journey_id: str | None = None, file: str = "") -> str:
    """The text of a starter journey of ``kind``; its id defaults to the kind."""
    import jinja2

    from .interop import SCHEMA_MODELINE
    from .model import SLUG
    from .report import _builtin_templates

    if kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    ident = journey_id or ("journey" if kind == "blank" else kind)
    if not re.match(SLUG, ident):
        raise UsageError(f"journey id {ident!r} is not a slug (like candidate-temp)")
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_builtin_templates("init"))),
        autoescape=False,  # YAML, not HTML: each value is escaped below for where it goes
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template(f"{kind}.yaml.j2").render(
        modeline=SCHEMA_MODELINE,
        id=ident,  # a slug: safe as a plain YAML scalar
        title=json.dumps(_title(ident), ensure_ascii=False),
        # the file name as it would be typed in a shell, in a comment line
        file=_comment_safe(shlex.quote(file or "journey.yaml")),
    )


def init_files(path: Path, kind: str = "candidate") -> dict[Path, bytes]:
    """The files ``init`` writes: the journey, and the schema beside it if missing.

    ``path`` is the journey file to create, or a folder to create ``journey.yaml``
    in. An existing journey file is never overwritten (a usage error); an
    existing schema is left as it is.
    """
    from .interop.schema import schema_json
    from .model import slug

    # A folder, or a name without a suffix (a folder to create): journey.yaml in it.
    target = path / "journey.yaml" if path.is_dir() or not path.suffix else path
    if target.suffix.lower() not in (".yaml", ".yml"):
        raise UsageError(f"{target}: a new journey file ends in .yaml or .yml")
    if target.exists() or target.is_symlink():
        raise UsageError(f"{target} exists; init never overwrites a file: choose another name")
    stem = slug(target.stem)[:100].strip("-")  # a journey id has at most 100 characters
    ident = stem if stem and stem != "journey" else None
    files = {target: starter(kind, journey_id=ident, file=target.name).encode("utf-8")}
    schema = target.parent / SCHEMA_FILE
    if not schema.exists():
        files[schema] = schema_json().encode("utf-8")
    return files
