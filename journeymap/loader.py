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
import math
import os
import re
import stat
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import yaml
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from . import model
from .errors import JourneyError, Problem, did_you_mean, suggestion_budget
from .validate import Issue, check

__all__ = [
    "MAX_BYTES",
    "SUFFIXES",
    "find_files",
    "gc_paused",
    "is_journey_name",
    "load",
    "load_all",
    "loads",
]

SUFFIXES = (".yaml", ".yml", ".json")
# Hand-written YAML journeys are kilobytes; a generated JSON journey of 100,000
# touchpoints is about 60 MB. Anything larger is almost surely not a journey.
MAX_BYTES = {"yaml": 32 * 2**20, "json": 512 * 2**20}
MAX_DEPTH = 64
# Theme and findings files are a few dozen lines.
SETTINGS_BYTES = 2**20
# Candidates compared for "did you mean" suggestions in one file, about a second's work.
SUGGESTION_BUDGET = 300_000

_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[valid-type,misc]
    """PyYAML's safe loader, reading numbers as YAML 1.2 (and JSON) write them.

    YAML 1.1 wants a dot and a signed exponent, so ``1e-9`` and ``2.5e6`` were text
    there, and a probability written that way was refused as "not a number".
    """


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)
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

    def __init__(self, name: str, text: str, kind: str = "yaml") -> None:
        self.name = name
        self.text = text
        self.kind = kind
        self._root: yaml.Node | None = None
        self._composed = False

    def compose(self) -> yaml.Node | None:
        """The node tree; raises a marked YAML error where the text is wrong."""
        return _compose_json(self.text) if self.kind == "json" else _compose(self.text)

    @property
    def root(self) -> yaml.Node | None:
        if not self._composed:
            self._composed = True
            try:
                self._root = self.compose()
            except yaml.YAMLError:
                self._root = None
        return self._root

    def problem(self, path: Path_, message: str, *, at_key: bool = False) -> Problem:
        line, column = _locate(self.root, path, at_key=at_key)
        return Problem(self.name, line, column, message)

    def mark_problem(self, mark: Any, message: str) -> Problem:
        return Problem(self.name, mark.line + 1, mark.column + 1, message)


class _TooDeep(yaml.MarkedYAMLError):
    """A value nested past :data:`MAX_DEPTH`, found while composing."""


def _compose(text: str) -> yaml.Node | None:
    """The node tree of a one-document YAML text, built without recursion.

    PyYAML's C composer recurses once per level of nesting: 60 KB of ``[`` crash
    the interpreter (a C stack overflow) before any check of ours could run. So
    the tree is built here from libyaml's event stream with an explicit stack,
    and a value nested more than :data:`MAX_DEPTH` levels deep is refused at its
    first event, before the rest of the file is even parsed. Anchors are resolved
    as PyYAML does (an alias is the anchored node itself), so that
    :func:`_construct` can refuse aliases where they are used.
    """
    loader = _Loader(text)
    try:
        return _compose_events(loader)
    except yaml.MarkedYAMLError as exc:
        # libyaml 0.2.6 (PyYAML 6.0.4) refuses nesting past 1,000 itself, while scanning
        # ahead for a possible key (up to 1,024 characters), so before our composer sees
        # the level where ours starts. The text up to that point holds that level: compose
        # it again to say where the nesting passes ours.
        mark = exc.problem_mark
        if mark is None or "nesting depth" not in str(exc.problem) or mark.index <= 0:
            raise
        prefix = _Loader(text[: mark.index])
        try:
            _compose_events(prefix)
        except _TooDeep as deeper:
            raise deeper from None
        except yaml.YAMLError:
            pass
        finally:
            prefix.dispose()
        raise
    finally:
        loader.dispose()


def _compose_events(loader: Any) -> yaml.Node | None:
    event: Any  # libyaml's events carry its own Mark type, which the stubs do not know
    loader.get_event()  # StreamStart
    if loader.check_event(yaml.StreamEndEvent):
        loader.get_event()
        return None
    start = loader.get_event()  # DocumentStart
    anchors: dict[str, yaml.Node] = {}
    # Open collections: [node, its list of children, is it a sequence, the pending key].
    # Events are told apart by their exact type, not isinstance: this loop runs
    # once per value of the file, a million times for a big journey.
    stack: list[list[Any]] = []
    root: yaml.Node | None = None
    scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
    ends = {yaml.SequenceEndEvent, yaml.MappingEndEvent}
    scalar_node, mapping_node, sequence_node = yaml.ScalarNode, yaml.MappingNode, yaml.SequenceNode
    resolve = loader.resolve
    get_event = loader.get_event
    while True:
        event = get_event()
        kind = type(event)
        node: yaml.Node
        if kind is scalar_event:
            tag = event.tag
            if tag is None or tag == "!":
                tag = resolve(scalar_node, event.value, event.implicit)
            node = scalar_node(tag, event.value, event.start_mark, event.end_mark, event.style)
        elif kind in ends:
            stack.pop()[0].end_mark = event.end_mark
            continue
        elif kind is alias_event:
            if event.anchor not in anchors:
                raise yaml.composer.ComposerError(
                    None, None, f"found undefined alias {event.anchor!r}", event.start_mark
                )
            node = anchors[event.anchor]
        elif kind is yaml.DocumentEndEvent:
            break
        else:
            if len(stack) > MAX_DEPTH:
                raise _TooDeep(
                    None, None, f"nested more than {MAX_DEPTH} levels deep", event.start_mark
                )
            cls = mapping_node if kind is yaml.MappingStartEvent else sequence_node
            tag = event.tag
            if tag is None or tag == "!":
                tag = resolve(cls, None, event.implicit)
            node = cls(tag, [], event.start_mark, None, flow_style=event.flow_style)
        if kind is not alias_event and event.anchor is not None:
            anchors[event.anchor] = node
        if stack:
            frame = stack[-1]
            if frame[2]:
                frame[1].append(node)
            elif frame[3] is None:
                frame[3] = node
            else:
                frame[1].append((frame[3], node))
                frame[3] = None
        else:
            root = node
        if kind is not scalar_event and kind is not alias_event:
            stack.append([node, node.value, node.__class__ is sequence_node, None])
    if not loader.check_event(yaml.StreamEndEvent):
        event = loader.get_event()
        raise yaml.composer.ComposerError(
            "expected a single document in the stream",
            start.start_mark,
            "but found another document",
            event.start_mark,
        )
    return root


class _JsonSyntax(yaml.MarkedYAMLError):
    """A JSON text our composer cannot read (the decoder had stopped earlier)."""


_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_JSON_WORDS = {"true": "bool", "false": "bool", "null": "null"}
# The decoder's own string reader (C), which the module's stubs do not show.
_scanstring: Any = getattr(json.decoder, "scanstring")  # noqa: B009


def _compose_json(text: str) -> yaml.Node | None:
    """The node tree of a JSON text, with the line and column of every value.

    Used only where positions are needed (a problem to report, a duplicate key,
    a file Python's decoder could not finish): the plain decoder does the usual
    work. It reads JSON as JSON, where PyYAML's reading of it as YAML stumbles
    on escapes such as lone surrogates and on a key split from its colon, and it
    builds the tree without recursion, refusing nesting past :data:`MAX_DEPTH`.
    """
    return _JsonComposer(text).compose()


class _JsonComposer:
    """One pass over a JSON text with an explicit stack of open collections."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = [0, *(m.end() for m in re.finditer("\n", text))]

    def mark(self, i: int) -> yaml.Mark:
        from bisect import bisect_right

        line = bisect_right(self.lines, i) - 1
        return yaml.Mark("<json>", i, line, i - self.lines[line], None, 0)

    def fail(self, message: str, i: int) -> _JsonSyntax:
        return _JsonSyntax(None, None, message, self.mark(i))

    def space(self, i: int) -> int:
        found = _JSON_SPACE.match(self.text, i)
        return i if found is None else found.end()

    def string(self, i: int) -> tuple[yaml.ScalarNode, int]:
        """The string starting at ``i`` as a node, and the index after it."""
        if not self.text.startswith('"', i):
            raise self.fail("expected a string in double quotes", i)
        try:
            value, end = _scanstring(self.text, i + 1, True)
        except ValueError:
            raise self.fail("unterminated or invalid string", i) from None
        return yaml.ScalarNode(_TAG + "str", value, self.mark(i), self.mark(end), style='"'), end

    def key(self, i: int, frame: list[Any]) -> int:
        """Read ``"key":`` into the open mapping's frame; the index after the colon."""
        frame[1], i = self.string(i)
        i = self.space(i)
        if not self.text.startswith(":", i):
            raise self.fail("expected ':' after a key", i)
        return self.space(i + 1)

    def scalar(self, i: int) -> tuple[yaml.ScalarNode, int]:
        text = self.text
        if text.startswith('"', i):
            return self.string(i)
        number = _JSON_NUMBER.match(text, i)
        if number is not None and number.end() > i:
            tag = "float" if number.group(1) or number.group(2) else "int"
            end = number.end()
            return yaml.ScalarNode(_TAG + tag, number.group(), self.mark(i), self.mark(end)), end
        for word, tag in _JSON_WORDS.items():
            if text.startswith(word, i):
                end = i + len(word)
                return yaml.ScalarNode(_TAG + tag, word, self.mark(i), self.mark(end)), end
        raise self.fail("expected a value", i)

    def compose(self) -> yaml.Node | None:
        text = self.text
        stack: list[list[Any]] = []  # open collections, each with its pending key
        root: yaml.Node | None = None
        i = self.space(0)
        if i == len(text):
            return None
        want_value = True
        while True:
            if want_value:
                c = text[i : i + 1]
                node: yaml.Node
                if c in ("{", "["):
                    if len(stack) > MAX_DEPTH:
                        raise _TooDeep(
                            None, None, f"nested more than {MAX_DEPTH} levels deep", self.mark(i)
                        )
                    kind = yaml.MappingNode if c == "{" else yaml.SequenceNode
                    tag = _TAG + ("map" if c == "{" else "seq")
                    node = kind(tag, [], self.mark(i), self.mark(i))
                else:
                    node, i = self.scalar(i)
                if not stack:
                    root = node
                elif isinstance(stack[-1][0], yaml.SequenceNode):
                    stack[-1][0].value.append(node)
                else:
                    stack[-1][0].value.append((stack[-1][1], node))
                want_value = False
                if isinstance(node, yaml.CollectionNode):
                    stack.append([node, None])
                    i = self.space(i + 1)
                    if text.startswith("}" if c == "{" else "]", i):
                        stack.pop()
                        node.end_mark = self.mark(i + 1)
                        i += 1
                    else:
                        want_value = True
                        if c == "{":
                            i = self.key(i, stack[-1])
                continue
            i = self.space(i)
            if not stack:
                if i != len(text):
                    raise self.fail("extra data after the value", i)
                return root
            frame = stack[-1]
            close = "}" if isinstance(frame[0], yaml.MappingNode) else "]"
            if text.startswith(",", i):
                i = self.space(i + 1)
                if close == "}":
                    i = self.key(i, frame)
                want_value = True
            elif text.startswith(close, i):
                stack.pop()
                frame[0].end_mark = self.mark(i + 1)
                i += 1
            else:
                raise self.fail(f"expected ',' or '{close}'", i)


# What YAML's reader accepts; anything else stops it, with a position in characters
# that is easier to find again in the text than to convert from libyaml's.
_UNPRINTABLE = re.compile(
    "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"
)


def _yaml_problem(src: _Source, exc: yaml.YAMLError) -> Problem:
    """One parse error of PyYAML as a problem with its line and column."""
    if isinstance(exc, yaml.reader.ReaderError):
        bad = _UNPRINTABLE.search(src.text)
        if bad is not None:
            line, column = _position(src.text, bad.start(), src.kind)
            return Problem(
                src.name,
                line,
                column,
                f"control character U+{ord(bad.group()):04X} is not allowed in a journey file",
            )
        return Problem(src.name, 1, 1, f"invalid YAML: {exc.reason}")
    if isinstance(exc, _TooDeep):
        return src.mark_problem(exc.problem_mark, f"{exc.problem}; a journey needs fewer than 10")
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        text = exc.problem or str(exc)
        if "expected a single document" in str(exc.context):
            text = "several YAML documents in one file; put one journey in each file"
        if mark is not None and src.kind == "yaml" and _in_tab_indent(src.text, mark.index):
            # PyYAML's own words ("found character that cannot start any token") do
            # not say that the invisible character is the problem.
            text = "a tab in the indentation; YAML does not allow tabs there: indent with spaces"
        if mark is not None:
            return src.mark_problem(mark, f"invalid YAML: {text}")
        return Problem(src.name, 1, 1, f"invalid YAML: {text}")
    return Problem(src.name, 1, 1, f"invalid YAML: {exc}")  # pragma: no cover - all are marked


def _in_tab_indent(text: str, index: int) -> bool:
    """Whether ``index`` lies in a line's leading whitespace, and that holds a tab."""
    start = max(text.rfind("\n", 0, index), text.rfind("\r", 0, index)) + 1
    end = start
    while end < len(text) and text[end] in " \t":
        end += 1
    return index <= end and "\t" in text[start:end]


# Line breaks as YAML counts them (and so PyYAML's marks, and editors); JSON, like
# Python's decoder, counts newlines only.
_BREAKS = {"yaml": re.compile("\r\n|[\r\n\x85\u2028\u2029]"), "json": re.compile("\n")}


def _position(text: str, index: int, kind: str = "yaml") -> tuple[int, int]:
    """Line and column (1-based) of a character index, with the file's line breaks."""
    line, start = 1, 0
    for found in _BREAKS[kind].finditer(text, 0, index):
        line, start = line + 1, found.end()
    return line, index - start + 1


def _locate(root: yaml.Node | None, path: Path_, *, at_key: bool) -> tuple[int, int]:
    """Line and column (1-based) of the node at ``path``, or of its nearest ancestor."""
    if root is None:
        return 1, 1
    node, key_node = root, None
    for part in path:
        child = key = None
        if isinstance(node, yaml.MappingNode):
            key, child = _keys(node).get(str(part), (None, None))
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


def _keys(node: yaml.MappingNode) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """A mapping node's entries by key (the first of equal keys), made once per node.

    Locating each of 50,000 unknown keys by a walk over the mapping was quadratic
    (over a minute); the index is kept on the node itself.
    """
    found: dict[str, tuple[yaml.Node, yaml.Node]] | None = getattr(node, "_journeymap_keys", None)
    if found is None:
        found = {}
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode):
                found.setdefault(k.value, (k, v))
        node._journeymap_keys = found  # type: ignore[attr-defined]
    return found


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
        if isinstance(n, yaml.CollectionNode) and n.tag not in (_TAG + "map", _TAG + "seq"):
            problems.append(src.mark_problem(n.start_mark, f"unsupported YAML tag {n.tag}"))
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
        kind = {_TAG + "int": "integer", _TAG + "float": "number", _TAG + "bool": "boolean"}.get(
            tag
        )
        if kind is not None:
            try:
                if tag == _TAG + "int":
                    return _SCALARS.construct_yaml_int(n)
                if tag == _TAG + "float":
                    return _SCALARS.construct_yaml_float(n)
                return _SCALARS.construct_yaml_bool(n)
            except (ValueError, KeyError, IndexError):  # IndexError: `!!int ""`
                # Python refuses integers of over 4,300 digits; an explicit tag
                # (`!!float x`) may name a type its value is not.
                if tag == _TAG + "int" and n.value.lstrip("+-").isdigit():
                    message = f"number too long ({len(n.value):,} characters)"
                else:
                    message = f"{n.value[:40]!r} is not a valid {kind}"
                problems.append(src.mark_problem(n.start_mark, message))
                return REFUSED
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
            data = _loads_json(src.text)
        except json.JSONDecodeError as exc:
            raise JourneyError(
                [Problem(src.name, exc.lineno, exc.colno, f"invalid JSON: {exc.msg}")]
            ) from None
        except (_DuplicateKey, RecursionError, ValueError):
            # A duplicate key, nesting deeper than the C decoder's recursion limit, an
            # integer of over 4,300 digits: the YAML route (JSON is YAML) finds the
            # place and says what is wrong there.
            pass
        else:
            return _refuse_controls(data, src, problems, _JSON_ESCAPES), problems
    try:
        root = src.compose()
    except yaml.YAMLError as exc:
        raise JourneyError([_yaml_problem(src, exc)]) from None
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
    return _refuse_controls(data, src, problems, _YAML_ESCAPES), problems


def _too_deep(data: Any) -> bool:
    """Whether parsed data nests past :data:`MAX_DEPTH`, without recursion.

    JSON's decoder stops only near a thousand levels, and the recursive walks
    that explain a validation error (copies, reprs) fail before that. A valid
    journey is a few levels deep, so only a file that fails validation is
    walked (a walk of every value of a big journey would cost a second).
    """
    todo: list[tuple[Any, int]] = [(data, 0)]
    while todo:
        value, depth = todo.pop()
        if depth > MAX_DEPTH:
            return True
        if type(value) is dict:
            todo.extend((v, depth + 1) for v in value.values() if type(v) in (dict, list))
        elif type(value) is list:
            todo.extend((v, depth + 1) for v in value if type(v) in (dict, list))
    return False


# Characters no journey text may hold: C0 and C1 controls but tab, line feed and
# carriage return, DEL, and lone surrogates (which no output can encode). They
# would reach terminals (a title that clears the screen or retitles the window),
# SVG and XML (where they are not allowed at all) and Graphviz.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# What can put them into parsed text: escapes, and raw characters the parser lets
# through (the YAML reader refuses all raw controls but NEL; the JSON decoder only
# refuses U+0000-U+001F, so DEL and C1 come raw). A file with none is not walked.
_YAML_ESCAPES = re.compile(r"\\[0abvfeNxuU]")
_JSON_ESCAPES = re.compile(r"\\(?:[bf]|u(?:00[01]|007[fF]|00[89]|[dD][89a-fA-F]))")
_C1 = re.compile("[\x80-\x9f]")


def _may_hold_controls(text: str, escapes: re.Pattern[str]) -> bool:
    """Whether parsed text could hold a control character: an escape, or raw DEL or C1.

    Cheap scans first (a 47 MB journey: the escapes 0.02 s; a character class over
    all of it would be 0.4 s): raw C1 is only possible in text that is not ASCII.
    """
    if escapes.search(text) or "\x7f" in text or "\x85" in text:
        return True
    return not text.isascii() and _C1.search(text) is not None


def _refuse_controls(
    data: Any, src: _Source, problems: list[Problem], escapes: re.Pattern[str]
) -> Any:
    """Report every string holding a control character, and leave it out."""
    if not _may_hold_controls(src.text, escapes):
        return data

    def bad(text: str) -> str | None:
        found = _CONTROL.search(text)
        return None if found is None else f"U+{ord(found.group()):04X}"

    todo: list[tuple[Any, Path_]] = [(data, ())]
    while todo:
        value, path = todo.pop()
        items: Iterable[tuple[Any, Any]]
        if type(value) is dict:
            items = list(value.items())
        elif type(value) is list:
            items = list(enumerate(value))
        else:
            continue
        for key, item in items:
            where = (*path, key)
            if type(key) is str and (char := bad(key)) is not None:
                problems.append(
                    src.problem(
                        where, f"control character {char} is not allowed in a key", at_key=True
                    )
                )
                del value[key]
            elif type(item) is str and (char := bad(item)) is not None:
                problems.append(
                    src.problem(
                        where,
                        f"{key}: control character {char} is not allowed in text"
                        if type(key) is str
                        else f"control character {char} is not allowed in text",
                    )
                )
                value[key] = REFUSED
            elif type(item) in (dict, list):
                todo.append((item, where))
    return data


# The items of each list, and what else the file may write instead of a mapping.
ITEMS = {
    "stages": ("stage", " or a stage id"),
    "touchpoints": ("touchpoint", ""),
    "outcomes": ("outcome", ""),
    "next": ("transition", " ({to: ..., probability: ...}) or the id it leads to"),
    "entries": ("entry", " ({id: ..., volume: ...}) or a touchpoint id"),
}

# What each key holds, in the words of the README, for the messages about a value of
# the wrong type or out of range: pydantic's own ("Input should be a valid dictionary
# or instance of Importance") speak of Python, not of the file.
_TEXT = "text"
_TEXTS = "a list of texts, like [first, second]"
_IDS = "a list of touchpoint ids, like [apply, screening]"
FORMS: dict[str, str] = {
    "journey": "the journey's id, a slug like candidate-temp",
    "title": _TEXT,
    "description": _TEXT,
    "kind": "candidate, client or other",
    "persona": "a mapping: {name: ..., description: ...}",
    "name": _TEXT,
    "stages": "a list of stages: ids, or mappings {id: ..., title: ...}",
    "touchpoints": "a list of touchpoints, each a mapping {id: ..., stage: ..., ...}",
    "outcomes": "a list of outcomes, each a mapping {id: ..., result: success or lost}",
    "entries": "a list of touchpoint ids, or of {id: ..., volume: ...}, like [apply]",
    "id": "an id (letters, digits, '-', '_' and '.')",
    "stage": "the id of a stage declared under `stages`",
    "channel": _TEXT,
    "owner": _TEXT,
    "when": _TEXT,
    "why": _TEXT,
    "frequency": _TEXT,
    "label": _TEXT,
    "volume": "a number of customers, 0 or more",
    "duration": "a number and a unit (s, m, h, d or w), like 15m, or several, like 1h 30m",
    "wait": "a number and a unit (s, m, h, d or w), like 2d, or several, like 3d 4h",
    "importance": "a mapping: {customer: 1..5, company: 1..5}",
    "customer": "a whole number from 1 (unimportant) to 5 (critical)",
    "company": "a whole number from 1 (unimportant) to 5 (critical)",
    "quality": "a whole number from 1 (poor) to 5 (excellent)",
    "emotion": "a number from -2 (very negative) through 0 (neutral) to 2 (very positive)",
    "pain_points": _TEXTS,
    "opportunities": _TEXTS,
    "tags": _TEXTS,
    "asks": _TEXTS,
    "knows": _IDS,
    "next": "a list of the ids that follow, or of transitions {to: ..., probability: ...}",
    "to": "the id of a touchpoint or outcome",
    "probability": "a share from 0 to 1, like 0.35 for 35%",
    "result": "success or lost",
}
ITEM_FORMS = {
    **dict.fromkeys(("pain_points", "opportunities", "tags", "asks"), _TEXT),
    "knows": "a touchpoint id",
    "entries": "a touchpoint id, or {id: ..., volume: ...} with how many start there",
}
# Pydantic's error types that mean "not this kind of value" or "out of range".
_WRONG_VALUE = re.compile(
    r"^(\w+_type|\w+_parsing|int_from_float|less_than(_equal)?|greater_than(_equal)?"
    r"|string_too_long|too_long|model_attributes_type)$"
)


def _form_of(loc: Sequence[str | int]) -> str | None:
    keys = [p for p in loc if isinstance(p, str)]
    if not keys:
        return None
    if len(loc) >= 2 and isinstance(loc[-1], int) and loc[-2] == keys[-1]:
        # An item of a list: `tags` item 2 is a text, `knows` item 1 an id.
        return ITEM_FORMS.get(keys[-1])
    return FORMS.get(keys[-1])


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def _hint(value: Any, form: str) -> str:
    """What to change in the written value, where its YAML type is the mistake."""
    if isinstance(value, str) and ("number" in form or "share" in form) and _is_number(value):
        return " (a number is written without quotes)"
    if isinstance(value, bool) and form == _TEXT:
        # YAML 1.1 reads yes, no, on, off, true and false unquoted as booleans.
        return " (yes, no, on and off are read as true or false: put the word in quotes)"
    if isinstance(value, int | float) and form == _TEXT:
        return f" (write '{value}' in quotes)"
    if isinstance(value, str) and value.strip() and form.startswith("a list"):
        shown = value if len(value) <= 40 else "..."
        return f" (a list is written in brackets: [{shown}])"
    return ""


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
    if len(loc) >= 2 and isinstance(loc[-1], int) and isinstance(loc[-2], str):
        field = f"{loc[-2]} item {loc[-1] + 1}"  # `tags` item 2, not "1"
    elif len(loc) >= 2 and loc[-2] == "importance":
        field = f"importance.{loc[-1]}"
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
                " (s, m, h, d or w), like 30s, 15m, 2h, 3d, 2w, or several, like 3d 4h",
                False,
            )
        slug = model.slug(str(value))
        like = f", like '{slug}'" if slug else ""
        if loc[:1] == ("stages",):
            like += "; or write the stage as {id: an-id, title: " + _short(value) + "}"
        return (
            f"{_short(value)} is not a valid id: use letters, digits, '-', '_' and '.',"
            f" starting with a letter or digit{like}",
            False,
        )
    if kind == "literal_error" and value is None:
        return f"{field}: empty; {err['msg'][len('Input should be ') :]}", False
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
    if kind == "string_too_short":
        return f"{field}: empty; write a word, or leave the item out", False
    form = _form_of(loc)
    if form is not None and _WRONG_VALUE.match(kind):
        got = "" if isinstance(value, dict | list) or value is None else f", got {_short(value)}"
        if isinstance(value, dict):
            got = ", got a mapping"
        elif isinstance(value, list):
            got = ", got a list"
        elif value is None:
            got = ", got nothing (an empty value)"
        if kind in ("string_too_long", "too_long"):
            limit = (err.get("ctx") or {}).get("max_length")
            unit = "characters" if kind == "string_too_long" else "items"
            return f"{field}: too long (at most {limit:,} {unit})", False
        return f"{field}: expected {form}{got}{_hint(value, form)}", False
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
        if _too_deep(data):
            raise JourneyError([_depth_problem(src)]) from None
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


def _depth_problem(src: _Source) -> Problem:
    """Where a file nests too deeply: the composer stops at the first such value."""
    try:
        src.compose()
    except yaml.YAMLError as exc:
        return _yaml_problem(src, exc)
    return Problem(src.name, 1, 1, f"nested more than {MAX_DEPTH} levels deep")  # pragma: no cover


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
    written: dict[str, str | None] = {}  # stand-in -> the value the file has there
    removed: list[Path_] = []
    for _ in range(4):
        # Last item first, so that a removal does not move what is still to remove;
        # the other errors inside an item already removed go with it.
        gone_now: list[Path_] = []
        for err in sorted(errors, key=lambda e: [_order(p) for p in e["loc"]], reverse=True):
            loc = tuple(err["loc"])
            if any(loc[: len(g)] == g for g in gone_now):
                continue
            gone = _prune(data, loc, dropped, written, extra=err["type"] in UNKNOWN_KEY)
            if gone is not None:
                removed.append(gone)
                gone_now.append(gone)
        try:
            journey = model.Journey.model_validate(data)
        except ValidationError as exc:
            errors = exc.errors(include_url=False)
            continue
        return [
            _moved_back(shown, removed)
            for i in check(journey)
            if not (set(i.refs) & dropped) and (shown := _as_written(i, written)) is not None
        ]
    return []


def _as_written(issue: Issue, written: dict[str, str | None]) -> Issue | None:
    """The issue in the file's words: a stand-in id replaced by the id as written.

    An issue about a part whose broken value was not text (``id: [x]``) cannot name
    it, and is left out.
    """
    message = issue.message
    for stand_in, was in written.items():
        if stand_in in message:
            if was is None:
                return None
            message = message.replace(f"'{stand_in}'", repr(was)).replace(stand_in, was)
    return issue if message == issue.message else replace(issue, message=message)


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


# Values standing in for a broken required key while the rest of a file is checked;
# ids no file can clash with in practice, and issues about them are never shown.
_STAND_INS = {
    ("stages", "id"): "journeymap.invalid.stage.{}",
    ("touchpoints", "id"): "journeymap.invalid.touchpoint.{}",
    ("touchpoints", "stage"): "journeymap.invalid.stage-of.{}",
    ("outcomes", "id"): "journeymap.invalid.outcome.{}",
    ("outcomes", "result"): "lost",
}


def _prune(
    data: dict[str, Any],
    loc: Path_,
    dropped: set[str],
    written: dict[str, str | None],
    *,
    extra: bool,
) -> Path_ | None:
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
    kind, index, key = (*loc, None, None, None)[:3]
    items = data.get(kind) if len(loc) == 3 and isinstance(kind, str) else None
    if (
        isinstance(key, str)
        and isinstance(kind, str)
        and (kind, key) in _STAND_INS
        and isinstance(index, int)
        and isinstance(items, list)
        and index < len(items)
        and isinstance(items[index], dict)
    ):
        # A broken required key (a touchpoint's id or stage, an outcome's result)
        # gets a stand-in instead of costing the whole item: the item's other
        # references (`next`, `knows`) are still checked in this same pass.
        item = items[index]
        was = item.get(key)
        if key == "id" and isinstance(was, str):
            dropped.add(was)  # what refers to the broken id is not told it is unknown
        stand_in = _STAND_INS[(kind, key)].format(index)
        item[key] = stand_in
        if key != "result":  # "lost" is a value, not an id: issues about an id 'lost' stay
            dropped.add(stand_in)
            written[stand_in] = was if isinstance(was, str) else None
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
    kind = kind or _kind(source)
    src = _Source(source, text, kind)
    with gc_paused(), suggestion_budget(SUGGESTION_BUDGET):
        data, problems = _parse(src, kind)
        return _validate(data, src, problems)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Parsing and validating a big journey makes millions of small objects, and
    none of them form cycles; Python's cyclic collector would rescan them again
    and again while they are made (2.5 times the whole load of a 100,000
    touchpoint journey; 4 times the reading of a sheet of 10,000 touchpoints).
    It runs again, once, when the work is done."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def read_regular(path: str | Path, limit: int, what: str) -> bytes:
    """At most ``limit`` bytes of a regular file; ValueError saying why not.

    Every file a user names (a journey, a theme, a config, a logo) is read this
    way. A device (``/dev/zero``) would be read without end and a FIFO would
    block the command forever, so the file is opened without blocking and
    checked on the open descriptor (no window between the check and the read),
    and never more than the limit is read, even from a file that grows meanwhile.
    ``what`` names such files in the messages ("journeys").
    """
    size = f"{limit / 2**20:g} MiB" if limit >= 2**20 else f"{limit // 1024} KiB"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ValueError(f"cannot read: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"not a regular file; {what} are read from ordinary files")
        if info.st_size > limit:
            raise ValueError(
                f"file is {info.st_size / 2**20:.1f} MiB; {what} over {size} are refused"
            )
        with os.fdopen(fd, "rb", closefd=False) as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise ValueError(f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(raw) > limit:
        raise ValueError(f"file is over {size}; {what} over {size} are refused")
    return raw


def _read(path: Path, name: str) -> str:
    """The text of a journey file (see :func:`read_regular`), as UTF-8."""
    kind = _kind(name)
    try:
        raw = read_regular(path, MAX_BYTES[kind], "journeys")
    except ValueError as exc:
        raise JourneyError([Problem(name, 1, 1, str(exc))]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", "replace").removeprefix("\ufeff")
        line, column = _position(before, len(before), kind)
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
            text = read_regular(p, SETTINGS_BYTES, f"{what}s").decode("utf-8")
        except (ValueError, UnicodeDecodeError) as exc:
            raise JourneyError([Problem(str(p), 1, 1, f"cannot read {what}: {exc}")]) from None
        text = text.removeprefix("\ufeff")
        self._src = _Source(str(p), text)
        try:
            root = _compose(text)
        except yaml.YAMLError as exc:
            raise JourneyError([_yaml_problem(self._src, exc)]) from None
        self._src._root, self._src._composed = root, True
        data: Any = _construct(root, self._src, self.problems) if root is not None else {}
        data = _refuse_controls(data, self._src, self.problems, _YAML_ESCAPES)
        if not isinstance(data, dict):
            self.problems.append(self._src.problem((), f"a {what} is a mapping of keys and values"))
            raise JourneyError(self.problems)
        self.data: dict[str, Any] = data

    def problem(self, path: Path_, message: str, *, at_key: bool = False) -> None:
        self.problems.append(self._src.problem(path, message, at_key=at_key))

    def position(self, path: Path_, *, at_key: bool = False) -> tuple[int, int]:
        """(line, column) of a key path, for a problem found later (e.g. against a log)."""
        return _locate(self._src.root, path, at_key=at_key)

    @property
    def name(self) -> str:
        return self._src.name

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


def is_journey_name(name: str) -> bool:
    """Whether a folder's file of this name is looked at as a journey.

    The schema for editors that ``init`` and ``schema`` put beside the journeys
    (``journey.schema.json``) is JSON but no journey, and a mapping for ``discover``
    (``recruiting.map.yaml``) is YAML but no journey.
    """
    lower = name.lower()
    return lower.endswith(SUFFIXES) and not lower.endswith(
        (".schema.json", ".map.yaml", ".map.yml")
    )


def find_files(paths: Iterable[str | Path]) -> list[Path]:
    """The journey files named by ``paths``: files as given, folders searched recursively."""
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            inside = sorted(f for f in p.rglob("*") if f.is_file() and is_journey_name(f.name))
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
            src = _Source(str(f), f.read_text("utf-8"), _kind(str(f)))
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
