"""Reading journey files: bytes -> YAML/JSON data -> validated :class:`Journey`.

Every problem in a file is reported at once, each with the line and column a
text editor can jump to. YAML parsers forget where a value came from once it is
a Python object, so we keep the composed node tree (which has marks) and look
paths up in it only when there is something to report.
"""

from __future__ import annotations

import copy
import gc
import json
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import yaml
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from . import model
from .errors import JourneyError, Problem, did_you_mean
from .validate import Issue, check

__all__ = ["MAX_BYTES", "SUFFIXES", "find_files", "load", "load_all", "loads"]

SUFFIXES = (".yaml", ".yml", ".json")
# Hand-written YAML journeys are kilobytes; a generated JSON journey of 100,000
# touchpoints is about 60 MB. Anything larger is almost surely not a journey.
MAX_BYTES = {"yaml": 32 * 2**20, "json": 512 * 2**20}
MAX_DEPTH = 64

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCALARS = yaml.constructor.SafeConstructor()
_TAG = "tag:yaml.org,2002:"

Path_ = tuple[str | int, ...]


class _Refused:
    """Stands in for a value already reported (an alias, a foreign tag), so that
    validation does not report it a second time."""

    def __repr__(self) -> str:
        return "<refused>"


REFUSED = _Refused()


class _Source:
    """One file's text, with a lazily composed node tree for locating paths."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        self._root: yaml.Node | None = None
        self._composed = False

    @property
    def root(self) -> yaml.Node | None:
        if not self._composed:
            self._composed = True
            try:
                self._root = _compose(self.text)
            except yaml.YAMLError:
                self._root = None
        return self._root

    def problem(self, path: Path_, message: str, *, at_key: bool = False) -> Problem:
        line, column = _locate(self.root, path, at_key=at_key)
        return Problem(self.name, line, column, message)

    def mark_problem(self, mark: Any, message: str) -> Problem:
        return Problem(self.name, mark.line + 1, mark.column + 1, message)


def _compose(text: str) -> yaml.Node | None:
    loader = _Loader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _locate(root: yaml.Node | None, path: Path_, *, at_key: bool) -> tuple[int, int]:
    """Line and column (1-based) of the node at ``path``, or of its nearest ancestor."""
    if root is None:
        return 1, 1
    node, key_node = root, None
    for part in path:
        child = key = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    key, child = k, v
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
        if child is None:
            break
        node, key_node = child, key
    else:
        if at_key and key_node is not None:
            node = key_node
    return node.start_mark.line + 1, node.start_mark.column + 1


def _construct(node: yaml.Node, src: _Source, problems: list[Problem]) -> Any:
    """Plain Python data from the node tree, refusing what journeys never need.

    Aliases are refused outright: a few hundred bytes of nested aliases expand
    to gigabytes once anything walks the data (the "billion laughs").
    """
    seen: set[int] = set()

    def build(n: yaml.Node, depth: int) -> Any:
        if id(n) in seen:
            problems.append(
                src.mark_problem(
                    n.start_mark,
                    "YAML anchors and aliases (&name, *name) are not allowed:"
                    " this anchored value is reused by an alias; write it out",
                )
            )
            return REFUSED
        seen.add(id(n))
        if depth > MAX_DEPTH:
            problems.append(src.mark_problem(n.start_mark, "nested too deeply"))
            return REFUSED
        if isinstance(n, yaml.MappingNode):
            out: dict[str, Any] = {}
            firsts: dict[str, Any] = {}
            for k, v in n.value:
                if k.tag == _TAG + "merge":
                    problems.append(
                        src.mark_problem(k.start_mark, "YAML merge keys (<<) are not allowed")
                    )
                    continue
                if not isinstance(k, yaml.ScalarNode) or k.tag not in (_TAG + "str", _TAG + "int"):
                    problems.append(src.mark_problem(k.start_mark, "keys must be plain text"))
                    continue
                if k.value in firsts:
                    first = firsts[k.value]
                    problems.append(
                        src.mark_problem(
                            k.start_mark,
                            f"key '{k.value}' is given twice in this mapping"
                            f" (first on line {first.line + 1})",
                        )
                    )
                    continue
                firsts[k.value] = k.start_mark
                out[k.value] = build(v, depth + 1)
            return out
        if isinstance(n, yaml.SequenceNode):
            return [build(v, depth + 1) for v in n.value]
        return scalar(n)

    def scalar(n: yaml.Node) -> Any:
        assert isinstance(n, yaml.ScalarNode)
        tag = n.tag
        if tag == _TAG + "str":
            return n.value
        if tag == _TAG + "int":
            return _SCALARS.construct_yaml_int(n)
        if tag == _TAG + "float":
            return _SCALARS.construct_yaml_float(n)
        if tag == _TAG + "bool":
            return _SCALARS.construct_yaml_bool(n)
        if tag == _TAG + "null":
            return None
        if tag == _TAG + "timestamp":
            return n.value  # a date in free text ("when: 2024-05-01") stays text
        problems.append(src.mark_problem(n.start_mark, f"unsupported YAML tag {tag}"))
        return REFUSED

    return build(node, 0)


class _DuplicateKey(Exception):
    pass


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _DuplicateKey
    return out


def _key_count(data: Any) -> int:
    """How many entries the journey's mappings hold, where a journey has mappings.

    Mappings anywhere else are not counted, so the count can only fall short.
    """
    if type(data) is not dict:
        return 0
    n = len(data)
    persona = data.get("persona")
    if type(persona) is dict:
        n += len(persona)
    for part in ("stages", "outcomes"):
        items = data.get(part)
        if type(items) is list:
            n += sum([len(x) for x in items if type(x) is dict])
    touchpoints = data.get("touchpoints")
    for tp in touchpoints if type(touchpoints) is list else ():
        if type(tp) is not dict:
            continue
        n += len(tp)
        importance, nxt = tp.get("importance"), tp.get("next")
        if type(importance) is dict:
            n += len(importance)
        if type(nxt) is list:
            n += sum([len(t) for t in nxt if type(t) is dict])
    return n


# A quote, JSON whitespace, a colon: a key written as `"key" : value`, or a string
# value that starts with whitespace and a colon.
_SPACED_KEY = re.compile(r'"[ \t\r\n]+:')


def _loads_json(text: str) -> Any:
    """JSON data, refusing duplicate keys (which ``json`` silently overwrites).

    Checking every object as it is made costs a Python call per object, a third
    of the parse of a big journey. So parse plainly, then count. When no ``"`` is
    followed by whitespace and a colon, every key ends in ``":``; inside strings a
    bare ``"`` cannot occur, so the text holds at least as many ``":`` as the data
    holds keys, and exactly as many only if no key was dropped as a duplicate. Any
    doubt (``"a" : 1``, ``": x"`` in a value) sends the file down the slow, exact
    route; a key spaced from its colon must, or it would hide one duplicate.
    """
    data = json.loads(text)
    if not _SPACED_KEY.search(text) and text.count('":') == _key_count(data):
        return data
    return json.loads(text, object_pairs_hook=_json_pairs)


def _parse(src: _Source, kind: str) -> tuple[Any, list[Problem]]:
    """The file's data, and the problems found on the way (duplicate keys, aliases)."""
    problems: list[Problem] = []
    if kind == "json":
        try:
            return _loads_json(src.text), problems
        except json.JSONDecodeError as exc:
            raise JourneyError(
                [Problem(src.name, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}")]
            ) from None
        except _DuplicateKey:
            pass  # fall through: the YAML route finds the key and its line
    try:
        root = _compose(src.text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        text = exc.problem or str(exc)
        if "expected a single document" in str(exc.context):
            text = "several YAML documents in one file; put one journey in each file"
        raise JourneyError([src.mark_problem(mark, f"invalid YAML: {text}")]) from None
    except yaml.YAMLError as exc:  # pragma: no cover - every PyYAML error we know is marked
        raise JourneyError([Problem(src.name, 1, 1, f"invalid YAML: {exc}")]) from None
    except RecursionError:
        raise JourneyError([Problem(src.name, 1, 1, "nested too deeply")]) from None
    if root is None:
        raise JourneyError(
            [
                Problem(
                    src.name,
                    1,
                    1,
                    "empty file: a journey needs `journey`, `stages` and `touchpoints`",
                )
            ]
        )
    src._root, src._composed = root, True
    data = _construct(root, src, problems)
    return data, problems


# The items of each list, and what else the file may write instead of a mapping.
ITEMS = {
    "stages": ("stage", " or a stage id"),
    "touchpoints": ("touchpoint", ""),
    "outcomes": ("outcome", ""),
    "next": ("transition", " ({to: ..., probability: ...}) or the id it leads to"),
}

# What pydantic calls an unknown key: in a model, and in a dataclass (Transition).
UNKNOWN_KEY = ("extra_forbidden", "unexpected_keyword_argument")


def _fields(cls: type) -> dict[str, FieldInfo]:
    """The fields of a model or of a validated dataclass."""
    fields: dict[str, FieldInfo] = getattr(cls, "__pydantic_fields__")  # noqa: B009
    return fields


def _model_for(loc: Sequence[str | int]) -> type | None:
    """Which model a location's last key belongs to, to suggest its keys."""
    shapes: list[tuple[tuple[str | None, ...], type]] = [
        ((), model.Journey),
        (("persona",), model.Persona),
        (("stages", None), model.Stage),
        (("outcomes", None), model.Outcome),
        (("touchpoints", None), model.Touchpoint),
        (("touchpoints", None, "importance"), model.Importance),
        (("touchpoints", None, "next", None), model.Transition),
    ]
    parent = tuple(None if isinstance(p, int) else p for p in loc[:-1])
    for shape, cls in shapes:
        if parent == shape:
            return cls
    return None


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(err: Any) -> tuple[str, bool]:
    """A sentence for one pydantic error, and whether it points at a key."""
    loc = tuple(err["loc"])
    kind = err["type"]
    field = str(loc[-1]) if loc else "journey"
    value = err.get("input")
    if kind in UNKNOWN_KEY:
        cls = _model_for(loc)
        allowed = list(_fields(cls)) if cls else []
        return f"unknown key '{field}'" + did_you_mean(field, allowed), True
    if kind == "missing":
        return f"missing required key '{field}'", False
    if kind == "string_pattern_mismatch":
        if loc == ("journey",):
            return (
                f"journey id {_short(value)} is not a slug (lowercase letters, digits and"
                " single hyphens, like 'candidate-temp'): it names the output files",
                False,
            )
        if field in ("duration", "wait"):
            return (
                f"{field} {_short(value)} is not a duration: write a number and a unit"
                " (s, m, h, d or w), like 30s, 15m, 2h, 3d, 2w",
                False,
            )
        return (
            f"{_short(value)} is not a valid id: use letters, digits, '-', '_' and '.',"
            " starting with a letter or digit",
            False,
        )
    if kind == "literal_error":
        return (
            f"{field}: {_short(value)} is not allowed; {err['msg'][len('Input should be ') :]}",
            False,
        )
    if kind in ("model_type", "dataclass_type") and len(loc) >= 2 and isinstance(loc[-1], int):
        what, short = ITEMS.get(str(loc[-2]), ("item", ""))
        return f"{what} {loc[-1] + 1} must be a mapping of keys{short}, got {_short(value)}", False
    if kind == "finite_number":
        return f"{field}: must be a finite number, got {_short(value)}", False
    if kind == "too_short" and isinstance(value, list):
        return f"`{field}` is empty: give at least one", False
    msg = err["msg"]
    if isinstance(value, dict | list) or value is None:
        return f"{field}: {msg}", False
    return f"{field}: {msg}, got {_short(value)}", False


def _validate(data: Any, src: _Source, found: list[Problem]) -> model.Journey:
    problems = set(found)
    if not isinstance(data, dict):
        problems.add(
            src.problem((), "a journey file must be a mapping of keys (journey:, stages:, ...)")
        )
        raise JourneyError(sorted(problems))
    try:
        journey = model.Journey.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        for err in errors:
            if err.get("input") is REFUSED:
                continue
            text, at_key = _message(err)
            problems.add(src.problem(tuple(err["loc"]), text, at_key=at_key))
        problems.update(_issue_problem(src, i) for i in _check_what_is_valid(data, errors))
        raise JourneyError(sorted(problems)) from None
    problems.update(_issue_problem(src, i) for i in check(journey))
    if problems:
        raise JourneyError(sorted(problems))
    journey._source = src.name
    return journey


def _check_what_is_valid(data: dict[str, Any], errors: list[Any]) -> list[Issue]:
    """Cross-reference issues of the valid part of a file that has field errors.

    Users fix a file in one pass only if they see every error at once, so we
    drop what failed (an optional value, or the whole stage, touchpoint or
    outcome around a broken required one), validate the rest and check it.
    Issues about the ids of dropped parts would be noise, so they are left out.
    Dropping a list item moves the items after it; the issues' paths are moved
    back, so that each points at its own line.
    """
    data = copy.deepcopy(data)
    dropped: set[str] = set()
    removed: list[Path_] = []
    for _ in range(4):
        # Last item first, so that a removal does not move what is still to remove;
        # the other errors inside an item already removed go with it.
        gone_now: list[Path_] = []
        for err in sorted(errors, key=lambda e: [_order(p) for p in e["loc"]], reverse=True):
            loc = tuple(err["loc"])
            if any(loc[: len(g)] == g for g in gone_now):
                continue
            gone = _prune(data, loc, dropped, extra=err["type"] in UNKNOWN_KEY)
            if gone is not None:
                removed.append(gone)
                gone_now.append(gone)
        try:
            journey = model.Journey.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            continue
        return [_moved_back(i, removed) for i in check(journey) if not (set(i.refs) & dropped)]
    return []


def _order(part: str | int) -> tuple[int, str]:
    """Sorts the parts of locations as numbers where they are indices (10 after 9)."""
    return (part, "") if isinstance(part, int) else (-1, part)


def _moved_back(issue: Issue, removed: list[Path_]) -> Issue:
    """The issue with its paths as they were before ``removed`` items were dropped."""

    def back(path: Path_) -> Path_:
        out = list(path)
        for gone in reversed(removed):
            k = len(gone) - 1
            if len(out) > k and tuple(out[:k]) == gone[:k]:
                at = out[k]
                if isinstance(at, int) and at >= cast(int, gone[k]):
                    out[k] = at + 1
        return tuple(out)

    first = None if issue.first is None else back(issue.first)
    return replace(issue, path=back(issue.path), first=first)


_OPTIONAL = {
    name
    for cls in (model.Journey, model.Touchpoint, model.Transition, model.Stage, model.Outcome)
    for name, f in _fields(cls).items()
    if not f.is_required()
}


def _prune(data: dict[str, Any], loc: Path_, dropped: set[str], *, extra: bool) -> Path_ | None:
    """Remove the value at ``loc``, or the list item around it if it is required.

    Returns the path of the list item removed, if it was one.
    """
    if loc == ("journey",):
        data["journey"] = "invalid"
        return None
    if extra:
        parent: Any = data
        try:
            for part in loc[:-1]:
                parent = parent[part]
            parent.pop(loc[-1], None)
        except (KeyError, IndexError, TypeError, AttributeError):
            pass  # already gone with what held it
        return None
    parents: list[tuple[Any, str | int]] = []
    node: Any = data
    for part in loc:
        parents.append((node, part))
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
    for depth in range(len(parents) - 1, -1, -1):
        container, part = parents[depth]
        if (
            isinstance(container, dict)
            and part in _OPTIONAL
            and part not in ("stages", "touchpoints")
        ):
            container.pop(part, None)
            return None
        if isinstance(container, list) and isinstance(part, int) and part < len(container):
            item = container[part]
            ident = item.get("id") if isinstance(item, dict) else item
            if isinstance(ident, str):
                dropped.add(ident)
            del container[part]
            return tuple(loc[: depth + 1])
    return None


def _issue_problem(src: _Source, issue: Issue) -> Problem:
    message = issue.message
    if issue.first is not None:
        line, _ = _locate(src.root, issue.first, at_key=False)
        message += f" ({issue.first_note} {line})"
    return src.problem(issue.path, message, at_key=issue.at_key)


def _kind(name: str) -> str:
    return "json" if name.lower().endswith(".json") else "yaml"


def loads(text: str, source: str = "<string>", *, kind: str | None = None) -> model.Journey:
    """A journey from text; ``kind`` is ``yaml`` or ``json`` (default: from ``source``)."""
    src = _Source(source, text)
    with _gc_paused():
        data, problems = _parse(src, kind or _kind(source))
        return _validate(data, src, problems)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Parsing and validating a big journey makes millions of small objects, and
    none of them form cycles; Python's cyclic collector would rescan them again
    and again while they are made (2.5 times the whole load of a 100,000
    touchpoint journey). It runs again, once, when loading is done."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _read(path: Path, name: str) -> str:
    kind = _kind(name)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise JourneyError([Problem(name, 1, 1, f"cannot read: {exc.strerror}")]) from None
    limit = MAX_BYTES[kind]
    if size > limit:
        raise JourneyError(
            [
                Problem(
                    name,
                    1,
                    1,
                    f"file is {size / 2**20:.1f} MiB; journeys over {limit // 2**20} MiB are refused",
                )
            ]
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise JourneyError([Problem(name, 1, 1, f"cannot read: {exc.strerror}")]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before[before.rfind(b"\n") + 1 :].decode("utf-8", "replace")) + 1
        raise JourneyError(
            [
                Problem(
                    name,
                    line,
                    column,
                    f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8",
                )
            ]
        ) from None
    return text.removeprefix("\ufeff")


class Settings:
    """A small YAML settings file (a theme, a findings config) read the journey way:
    same refusals (aliases, duplicate keys, tags), same FILE:LINE:COLUMN messages.

    ``data`` is the top-level mapping; :meth:`problem` locates a key path in the
    file; :meth:`done` raises every problem gathered at once.
    """

    def __init__(self, path: str | Path, what: str) -> None:
        p = Path(path)
        self.path = p
        self.problems: list[Problem] = []
        try:
            text = p.read_text("utf-8").removeprefix("\ufeff")
        except (OSError, UnicodeDecodeError) as exc:
            raise JourneyError([Problem(str(p), 1, 1, f"cannot read {what}: {exc}")]) from None
        self._src = _Source(str(p), text)
        try:
            root = _compose(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            raise JourneyError(
                [self._src.mark_problem(mark, f"invalid YAML: {exc.problem or exc}")]
            ) from None
        except yaml.YAMLError as exc:  # pragma: no cover - PyYAML errors are marked
            raise JourneyError([Problem(str(p), 1, 1, f"invalid YAML: {exc}")]) from None
        data: Any = _construct(root, self._src, self.problems) if root is not None else {}
        if not isinstance(data, dict):
            self.problems.append(self._src.problem((), f"a {what} is a mapping of keys and values"))
            raise JourneyError(self.problems)
        self.data: dict[str, Any] = data

    def problem(self, path: Path_, message: str, *, at_key: bool = False) -> None:
        self.problems.append(self._src.problem(path, message, at_key=at_key))

    def unknown(self, path: Path_, key: str, known: Iterable[str], what: str) -> None:
        self.problem(
            (*path, key), f"unknown {what} '{key}'" + did_you_mean(key, known), at_key=True
        )

    def done(self) -> None:
        if self.problems:
            raise JourneyError(sorted(self.problems))


def load(path: str | Path) -> model.Journey:
    """One journey file (``.yaml``, ``.yml`` or ``.json``), validated."""
    p = Path(path)
    name = str(path)
    return loads(_read(p, name), name)


def find_files(paths: Iterable[str | Path]) -> list[Path]:
    """The journey files named by ``paths``: files as given, folders searched recursively."""
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            inside = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUFFIXES)
            if not inside:
                raise JourneyError(f"{p}: no journey files (*.yaml, *.yml, *.json) in this folder")
            found.extend(inside)
        elif p.exists():
            found.append(p)
        else:
            raise JourneyError(f"{p}: no such file or folder")
    return list(dict.fromkeys(found))


def load_all(paths: Iterable[str | Path]) -> list[model.Journey]:
    """Every journey under ``paths``, all problems of all files gathered into one error.

    Journey ids name output files, so two files may not share one.
    """
    problems: list[Problem] = []
    journeys: list[model.Journey] = []
    owners: dict[str, str] = {}
    for f in find_files(paths):
        try:
            j = load(f)
        except JourneyError as exc:
            problems.extend(exc.problems or [Problem(str(f), 1, 1, str(exc))])
            continue
        if j.journey in owners:
            src = _Source(str(f), f.read_text("utf-8"))
            problems.append(
                src.problem(
                    ("journey",), f"journey id '{j.journey}' is already used by {owners[j.journey]}"
                )
            )
            continue
        owners[j.journey] = str(f)
        journeys.append(j)
    if problems:
        raise JourneyError(problems)
    return journeys
