"""What changed between two versions of a journey, and what it does to the customers.

A journey file is reviewed in a pull request, where a line diff shows that
``probability: 0.35`` became ``0.25`` but not that the touchpoint now loses
10% of its customers, nor that the success probability of every entry moved.
:func:`diff` compares the two journeys as journeys (items matched by id, each
field old -> new, the drop-off a changed probability causes) and runs the
analysis on both sides to tell the effect on the customers.

Everything here is pure but :func:`compare`, :func:`read_side`,
:func:`read_git` and :func:`git_driver_sides`, which read the two sides: a
file, or ``REV:PATH`` through git (``git cat-file blob``, never ``git show``, which may run the
textconv filters that a diff driver installs, and so call this again), or the
seven arguments git gives an external diff driver.
"""

from __future__ import annotations

import math
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analysis import _clean
from .errors import JourneyError, Problem, UsageError
from .model import Journey, Outcome, Stage, Touchpoint, Transition

if TYPE_CHECKING:
    from .analysis import Analysis
    from .findings import Config, Finding
    from .fixes import Fix
    from .timing import OutcomeTime

__all__ = [
    "KINDS",
    "LEAKS",
    "Change",
    "FieldChange",
    "JourneyDiff",
    "LeakShift",
    "Shift",
    "compare",
    "diff",
    "git_driver_sides",
    "read_git",
    "read_side",
]

#: The kinds of items compared, in the order they are reported.
KINDS = ("stage", "touchpoint", "outcome", "transition")
#: How many leaks are reported: the largest changes.
LEAKS = 5
#: Longer values are cut (around their first difference) in text and Markdown; JSON has them whole.
SHOWN = 80
#: Git gets this long to hand over one blob.
GIT_TIMEOUT = 60

# Fields that hold a share (shown as a percentage); both are derived, never written.
_SHARES = ("drop_off", "share")
_NESTED = {"importance": ("customer", "company"), "persona": ("name", "description")}


def _names(cls: Any, skip: Iterable[str] = ()) -> tuple[str, ...]:
    """The model's fields in file order, a nested model's as ``importance.customer``."""
    out: list[str] = []
    for name in cls.model_fields:
        if name in _NESTED:
            out.extend(f"{name}.{sub}" for sub in _NESTED[name])
        elif name not in skip:
            out.append(name)
    return tuple(out)


_STAGE_FIELDS = _names(Stage, ("id",))
_TOUCHPOINT_FIELDS = (*_names(Touchpoint, ("id", "next")), "drop_off")
_OUTCOME_FIELDS = _names(Outcome, ("id",))
_TRANSITION_FIELDS = ("probability", "volume", "wait", "label", "share")
_JOURNEY_FIELDS = ("journey", "title", "description", "kind", "persona.name", "persona.description")
# What an added or removed item is shown with.
_SUMMARY = {
    "stage": ("title",),
    "touchpoint": ("title", "stage"),
    "outcome": ("title", "result"),
    "transition": ("share",),
}


@dataclass(frozen=True)
class FieldChange:
    """One field, before and after (None where it is not set, or the item is absent)."""

    field: str
    old: Any
    new: Any

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "old": self.old, "new": self.new}


@dataclass(frozen=True)
class Change:
    """An item added, removed or changed.

    ``key`` is the id, or ``(from, to)`` for a transition. ``fields`` are the
    fields that differ for a changed item; for an added or removed one, the
    few that say what it is (a touchpoint's title and stage, a transition's share).
    """

    kind: str
    key: str | tuple[str, str]
    change: str  # added | removed | changed
    fields: tuple[FieldChange, ...]

    @property
    def label(self) -> str:
        return " -> ".join(self.key) if isinstance(self.key, tuple) else self.key

    def to_dict(self) -> dict[str, Any]:
        where: dict[str, Any] = (
            {"from": self.key[0], "to": self.key[1]}
            if isinstance(self.key, tuple)
            else {"id": self.key}
        )
        return {**where, "fields": [f.to_dict() for f in self.fields]}


@dataclass(frozen=True)
class Shift:
    """A share before and after; None on a side that does not have it."""

    old: float | None
    new: float | None

    @property
    def change(self) -> float | None:
        if self.old is None or self.new is None:
            return None
        return _clean(self.new - self.old)

    def to_dict(self) -> dict[str, Any]:
        return {"old": self.old, "new": self.new, "change": self.change}


@dataclass(frozen=True)
class LeakShift:
    """The share of the customers who start that is lost at one place, before and after.

    0 on a side where nobody is lost there (or the place does not exist).
    """

    node: str
    kind: str
    old: float
    new: float

    @property
    def change(self) -> float:
        return _clean(self.new - self.old)

    def to_dict(self) -> dict[str, Any]:
        return {
            "node": self.node,
            "kind": self.kind,
            "old": self.old,
            "new": self.new,
            "change": self.change,
        }


@dataclass(frozen=True)
class Side:
    """What names one side of a diff: where it was read, and the journey's id and title."""

    source: str
    journey: str
    title: str

    def to_dict(self) -> dict[str, str]:
        return {"source": self.source, "journey": self.journey, "title": self.title}


@dataclass(frozen=True)
class JourneyDiff:
    """Two versions of a journey compared; :meth:`to_dict` is the stable JSON form.

    ``old`` or ``new`` is None when that side does not exist (a file added or
    deleted, as git reports it): everything is then added or removed.
    """

    old: Side | None
    new: Side | None
    journey: tuple[FieldChange, ...]
    changes: tuple[Change, ...]
    success_probability: dict[str, Shift]
    success_share: Shift
    leaks: tuple[LeakShift, ...]
    appeared: tuple[Finding, ...]
    disappeared: tuple[Finding, ...]
    time_to_success: dict[str, tuple[OutcomeTime, OutcomeTime]]
    fix_first: tuple[tuple[Fix, str] | None, tuple[Fix, str] | None]
    #: Touchpoints on both sides: how big the JSON gets.
    size: int = field(default=0, compare=False)

    @property
    def changed(self) -> bool:
        """Whether the journeys differ (comments, layout and file order do not count)."""
        return bool(self.journey or self.changes)

    def of_kind(self, kind: str, change: str | None = None) -> list[Change]:
        return [c for c in self.changes if c.kind == kind and change in (None, c.change)]

    def to_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {
            "old": None if self.old is None else self.old.to_dict(),
            "new": None if self.new is None else self.new.to_dict(),
            "changed": self.changed,
            "journey": [f.to_dict() for f in self.journey],
        }
        for kind in KINDS:
            found[f"{kind}s"] = {
                how: [c.to_dict() for c in self.of_kind(kind, how)]
                for how in ("added", "removed", "changed")
            }

        def top(side: tuple[Fix, str] | None) -> dict[str, Any] | None:
            return None if side is None else {**side[0].to_dict(), "text": side[1]}

        found["customers"] = {
            "success_probability": {e: s.to_dict() for e, s in self.success_probability.items()},
            "success_share": self.success_share.to_dict(),
            "leaks": [leak.to_dict() for leak in self.leaks],
            "findings": {
                "appeared": [f.to_dict() for f in self.appeared],
                "disappeared": [f.to_dict() for f in self.disappeared],
            },
            "time_to_success": {
                entry: {"old": _times(old), "new": _times(new)}
                for entry, (old, new) in self.time_to_success.items()
            },
            "fix_first": {"old": top(self.fix_first[0]), "new": top(self.fix_first[1])},
        }
        return found

    def text(self) -> str:
        """For a terminal (the CLI escapes control characters)."""
        return _text(self)

    def markdown(self) -> str:
        """A pull-request comment: the effect on the customers first, then tables."""
        return _markdown(self)


def _times(t: OutcomeTime) -> dict[str, float | None]:
    return {"mean_s": t.mean_s, "p50_s": t.p50_s, "p90_s": t.p90_s}


# Comparing ---------------------------------------------------------------------


def _get(item: Any, name: str) -> Any:
    for part in name.split("."):
        if item is None:
            return None
        item = getattr(item, part)
    return list(item) if isinstance(item, list) else item


def _fields(
    names: Sequence[str], old: Any, new: Any, derived: Callable[[Any, str], Any]
) -> tuple[FieldChange, ...]:
    """The fields that differ; ``derived`` gives the fields that are not attributes."""
    out = []
    for name in names:
        a = derived(old, name) if name in _SHARES else _get(old, name)
        b = derived(new, name) if name in _SHARES else _get(new, name)
        if a != b:
            out.append(FieldChange(name, a, b))
    return tuple(out)


def _drop_off(tp: Any, name: str) -> float | None:
    return None if tp is None else _clean(tp.shares()[1])


def _summary(kind: str, item: Any, derived: Callable[[Any, str], Any], *, added: bool) -> Change:
    names = _SUMMARY[kind]
    values = [derived(item, n) if n in _SHARES else _get(item, n) for n in names]
    fields = tuple(
        FieldChange(n, None, v) if added else FieldChange(n, v, None)
        for n, v in zip(names, values, strict=True)
    )
    key = item[0] if kind == "transition" else item.id
    return Change(kind, key, "added" if added else "removed", fields)


def _items(
    kind: str,
    old: dict[Any, Any],
    new: dict[Any, Any],
    names: Sequence[str],
    derived: Callable[[Any, str], Any] = _drop_off,
) -> list[Change]:
    """Added and changed items in NEW's order, then the removed ones in OLD's."""
    out: list[Change] = []
    for key, item in new.items():
        was = old.get(key)
        if was is None:
            out.append(_summary(kind, item, derived, added=True))
        elif was != item:
            fields = _fields(names, was, item, derived)
            if fields:
                out.append(Change(kind, key, "changed", fields))
    out.extend(
        _summary(kind, item, derived, added=False) for k, item in old.items() if k not in new
    )
    return out


# A transition with what it needs to be compared: its key, itself, and its share.
_Edge = tuple[tuple[str, str], Transition, float]


def _edges(tp: Touchpoint | None) -> dict[tuple[str, str], _Edge]:
    if tp is None:
        return {}
    shares, _ = tp.shares()
    return {
        (tp.id, t.to): ((tp.id, t.to), t, _clean(p)) for t, p in zip(tp.next, shares, strict=True)
    }


def _edge_field(edge: _Edge | None, name: str) -> Any:
    if edge is None:
        return None
    return edge[2] if name == "share" else getattr(edge[1], name)


def _transitions(old: Journey | None, new: Journey | None) -> list[Change]:
    """Transitions keyed by (from, to), added and changed in NEW's order, then the
    removed ones in OLD's. A share is a field only where the written probability
    does not already say it (volumes, unnumbered ways, rounding). A touchpoint
    equal on both sides has the same transitions: most of a big journey is skipped."""
    before = {} if old is None else _by_id(old.touchpoints)
    after = {} if new is None else _by_id(new.touchpoints)
    same = {k for k, tp in after.items() if before.get(k) == tp}
    out: list[Change] = []
    for key, tp in after.items():
        if key in same:
            continue
        a = _edges(before.get(key))
        for edge_key, edge in _edges(tp).items():
            was = a.get(edge_key)
            if was is None:
                out.append(_summary("transition", edge, _edge_field, added=True))
                continue
            fields = [
                FieldChange(n, _edge_field(was, n), _edge_field(edge, n))
                for n in _TRANSITION_FIELDS
                if _edge_field(was, n) != _edge_field(edge, n)
            ]
            if (
                fields
                and fields[-1].field == "share"
                and was[1].probability == was[2]
                and edge[1].probability == edge[2]
            ):
                fields.pop()
            if fields:
                out.append(Change("transition", edge_key, "changed", tuple(fields)))
    for key, tp in before.items():
        if key in same:
            continue
        now = {(key, t.to) for t in after[key].next} if key in after else set()
        out.extend(
            _summary("transition", e, _edge_field, added=False)
            for k, e in _edges(tp).items()
            if k not in now
        )
    return out


def _entries(j: Journey) -> list[str]:
    """The entries, each with how many start there where the file says."""
    starts = j.entry_volumes
    return [e if e not in starts else f"{e} ({starts[e]:g} start)" for e in j.entry_ids]


def _journey_fields(old: Journey | None, new: Journey | None) -> tuple[FieldChange, ...]:
    if old is None or new is None:
        return ()
    out = list(_fields(_JOURNEY_FIELDS, old, new, _drop_off))
    if old.entry_ids != new.entry_ids or old.entry_volumes != new.entry_volumes:
        out.append(FieldChange("entries", _entries(old), _entries(new)))
    # Stages are columns left to right: moving one is a change, adding one is not.
    common = {s.id for s in old.stages} & {s.id for s in new.stages}
    before = [s.id for s in old.stages if s.id in common]
    after = [s.id for s in new.stages if s.id in common]
    if before != after:
        out.append(FieldChange("stage_order", before, after))
    return tuple(out)


def _by_id(items: Iterable[Any]) -> dict[str, Any]:
    return {item.id: item for item in items}


def structure(
    old: Journey | None, new: Journey | None
) -> tuple[tuple[FieldChange, ...], tuple[Change, ...]]:
    """The journey's own fields that changed, and every item added, removed or changed."""

    def of(j: Journey | None, part: str) -> dict[str, Any]:
        return {} if j is None else _by_id(getattr(j, part))

    changes = [
        *_items("stage", of(old, "stages"), of(new, "stages"), _STAGE_FIELDS),
        *_items("touchpoint", of(old, "touchpoints"), of(new, "touchpoints"), _TOUCHPOINT_FIELDS),
        *_items("outcome", of(old, "outcomes"), of(new, "outcomes"), _OUTCOME_FIELDS),
        *_transitions(old, new),
    ]
    return _journey_fields(old, new), tuple(changes)


# What it does to the customers ----------------------------------------------------


def _leaks(old: Analysis | None, new: Analysis | None) -> tuple[LeakShift, ...]:
    """The :data:`LEAKS` largest changes, by (node, kind); ties by node and kind."""
    a = {(x.node, x.kind): x.share for x in old.leaks} if old else {}
    b = {(x.node, x.kind): x.share for x in new.leaks} if new else {}
    keys = sorted({*a, *b})
    shifts = [LeakShift(n, k, a.get((n, k), 0.0), b.get((n, k), 0.0)) for n, k in keys]
    moved = [s for s in shifts if s.change != 0]
    moved.sort(key=lambda s: (-abs(s.change), s.node, s.kind))
    return tuple(moved[:LEAKS])


def _findings(
    old: Analysis | None, new: Analysis | None
) -> tuple[tuple[Finding, ...], tuple[Finding, ...]]:
    """Findings keyed by (rule, subject) that appear or disappear.

    A rule can find one subject several times (``asked-again`` for each thing
    asked again): within a key, findings with the same message are the same,
    and the rest are paired in order, so a finding whose wording changed (a
    touchpoint renamed) neither appears nor disappears; only the surplus does.
    """
    a = list(old.findings) if old else []
    b = list(new.findings) if new else []

    def groups(items: list[Finding]) -> dict[tuple[str, str], list[Finding]]:
        found: dict[tuple[str, str], list[Finding]] = {}
        for f in items:
            found.setdefault((f.rule, f.subject), []).append(f)
        return found

    ga, gb = groups(a), groups(b)
    gone: set[int] = set()
    came: set[int] = set()
    for key in {*ga, *gb}:
        before, after = list(ga.get(key, [])), list(gb.get(key, []))
        for f in list(after):
            same = next((g for g in before if g.message == f.message), None)
            if same is not None:
                before.remove(same)
                after.remove(f)
        surplus = len(after) - len(before)
        came.update(id(f) for f in after[len(after) - max(surplus, 0) :])
        gone.update(id(f) for f in before[len(before) - max(-surplus, 0) :])
    return tuple(f for f in b if id(f) in came), tuple(f for f in a if id(f) in gone)


def _top_fix(j: Journey | None, a: Analysis | None) -> tuple[Fix, str] | None:
    from .fixes import describe, gain_text

    if j is None or a is None:
        return None
    fix = next((x for x in a.fix_first if x.gain > 0 or (x.gain_max or 0) > 0), None)
    if fix is None:
        return None
    titles = {k: n.title for k, n in j.nodes.items()}
    return fix, f"{describe(fix, titles)}: {gain_text(fix)} per 1,000 who start"


def _time(old: Analysis | None, new: Analysis | None) -> dict[str, tuple[OutcomeTime, OutcomeTime]]:
    from .timing import SUCCESS

    if old is None or new is None:
        return {}
    found = {}
    for entry, records in new.time.entries.items():
        before = old.time.entries.get(entry, {}).get(SUCCESS)
        if before is not None and SUCCESS in records:
            found[entry] = (before, records[SUCCESS])
    return found


def diff(old: Journey | None, new: Journey | None, config: Config | None = None) -> JourneyDiff:
    """Compare two versions of a journey: what changed, and what it does to the customers.

    ``config`` tunes the findings of both sides alike. Either side may be None
    (a file added or deleted), not both.
    """
    from .analysis import analyze

    if old is None and new is None:
        raise UsageError("nothing to compare: both sides are empty")
    fields, changes = structure(old, new)
    a = analyze(old, config) if old is not None else None
    b = analyze(new, config) if new is not None else None
    pa = a.success_probability if a else {}
    pb = b.success_probability if b else {}
    appeared, disappeared = _findings(a, b)
    return JourneyDiff(
        old=None if old is None else Side(old.source, old.journey, old.title),
        new=None if new is None else Side(new.source, new.journey, new.title),
        journey=fields,
        changes=changes,
        success_probability={e: Shift(pa.get(e), pb.get(e)) for e in sorted({*pa, *pb})},
        success_share=Shift(a.success_share if a else None, b.success_share if b else None),
        leaks=_leaks(a, b),
        appeared=appeared,
        disappeared=disappeared,
        time_to_success=_time(a, b),
        fix_first=(_top_fix(old, a), _top_fix(new, b)),
        size=sum(len(j.touchpoints) for j in (old, new) if j is not None),
    )


# Showing ---------------------------------------------------------------------------


def _num(value: float) -> str:
    if float(value).is_integer() and abs(value) < 2**53:
        return f"{int(value)}"
    return repr(float(value))


def _value(name: str, value: Any) -> str:
    """A field's value for people; JSON has the exact one."""
    if value is None or value == []:
        return "—"
    if isinstance(value, list):
        return "; ".join(_value(name, v) for v in value)
    if isinstance(value, int | float):
        return _pct(value) if name in _SHARES else _num(value)
    return _line(str(value))


def _pair(name: str, old: Any, new: Any, width: int = SHOWN) -> tuple[str, str]:
    """Both values for people, long ones cut to the same window around the first difference."""
    a, b = _value(name, old), _value(name, new)
    if len(a) <= width and len(b) <= width:
        return a, b
    same = next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )
    start = max(0, same - width // 3)

    def cut(s: str) -> str:
        part = s[start : start + width]
        return ("…" if start else "") + part + ("…" if start + width < len(s) else "")

    return cut(a), cut(b)


def _points(change: float | None) -> str:
    """A change of a share in percentage points, three significant digits: ``+2.9 points``."""
    if change is None:
        return ""
    p = change * 100
    if p == 0:
        return "unchanged"
    if abs(p) < 0.001:
        return f"{'+' if p > 0 else '-'}<0.001 points"
    return f"{p:+.3g} points"


def _pct(p: float | None) -> str:
    """A share to three significant digits: a diff must show what moved (2.96% -> 2.81%),
    where the analysis's table rounds to 3%."""
    if p is None:
        return "—"
    v = p * 100
    if v in (0, 100):
        return f"{v:.0f}%"
    if v < 0.001:
        return "<0.001%"
    text = f"{v:.{max(0, 2 - math.floor(math.log10(v)))}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return ">99.9%" if text == "100" else f"{text}%"


def _line(text: str) -> str:
    """Text on one line: a title may hold line breaks, a listing may not."""
    return " ".join(text.splitlines())


def _name(s: Side | None) -> str:
    return "(none)" if s is None else _line(f"{s.title} ({s.journey})")


def _counts(d: JourneyDiff) -> str:
    """``1 touchpoint changed, 2 transitions added``; or ``no changes``."""
    parts = []
    if d.journey:
        parts.append(f"{len(d.journey)} journey field{'s' * (len(d.journey) != 1)} changed")
    for kind in KINDS:
        for how in ("added", "removed", "changed"):
            n = len(d.of_kind(kind, how))
            if n:
                parts.append(f"{n:,} {kind}{'s' * (n != 1)} {how}")
    return ", ".join(parts) or "no changes"


def _headline(d: JourneyDiff, arrow: str = "->") -> str:
    """What it does to the customers, in one line (without the journey's name)."""
    s = d.success_share
    if s.old is None:
        return f"a new journey: {_pct(s.new)} of the customers who start end in a success"
    if s.new is None:
        return f"the journey is removed: {_pct(s.old)} of its customers ended in a success"
    if s.change == 0:
        return f"success unchanged at {_pct(s.new)} of the customers who start"
    return f"success {_pct(s.old)} {arrow} {_pct(s.new)} of the customers who start ({_points(s.change)})"


def _text(d: JourneyDiff) -> str:
    old_src = "/dev/null" if d.old is None else d.old.source
    new_src = "/dev/null" if d.new is None else d.new.source
    title = _name(d.new) if d.old is None else _name(d.old)
    if d.old and d.new and (d.old.journey, d.old.title) != (d.new.journey, d.new.title):
        title = f"{_name(d.old)} -> {_name(d.new)}"
    head = f"{title}: {_headline(d)}"
    lines = [f"{old_src} -> {new_src}", head, "=" * min(len(head), 100)]
    lines.extend(_customers_text(d))
    lines.append("")
    lines.append(f"Changes: {_counts(d)}")
    for f in d.journey:
        a, b = _pair(f.field, f.old, f.new)
        lines.append(f"  ~ journey {f.field}: {a} -> {b}")
    marks = {"added": "+", "removed": "-", "changed": "~"}
    for c in d.changes:
        if c.change == "changed":
            lines.append(f"  ~ {c.kind} {c.label}")
            for f in c.fields:
                a, b = _pair(f.field, f.old, f.new)
                lines.append(f"      {f.field}: {a} -> {b}")
        else:
            what = ", ".join(
                f"{f.field} {_value(f.field, f.new if c.change == 'added' else f.old)}"
                for f in c.fields
            )
            lines.append(f"  {marks[c.change]} {c.kind} {c.label} ({what})")
    return "\n".join(lines)


def _customers_text(d: JourneyDiff) -> list[str]:

    lines = ["Success probability by entry (of the customers who start there):"]
    width = max((len(e) for e in d.success_probability), default=0)
    width = max(width, len("all who start"))
    for entry, s in d.success_probability.items():
        change = (
            _points(s.change)
            if s.change is not None
            else "(only before)"
            if s.new is None
            else "(only after)"
        )
        lines.append(f"  {entry:<{width}}  {_pct(s.old):>7} -> {_pct(s.new):>7}  {change}")
    s = d.success_share
    lines.append(
        f"  {'all who start':<{width}}  {_pct(s.old):>7} -> {_pct(s.new):>7}  {_points(s.change)}"
    )
    if d.leaks:
        lines.append(
            f"Leaks, the {len(d.leaks)} largest changes (share of all who start lost there):"
        )
        w = max(len(x.node) for x in d.leaks)
        for x in d.leaks:
            lines.append(
                f"  {x.node:<{w}}  {x.kind:<9} {_pct(x.old):>7} -> {_pct(x.new):>7}  {_points(x.change)}"
            )
    else:
        lines.append("Leaks: no change")
    for name, found, mark in (
        ("appear", d.appeared, "+"),
        ("disappear", d.disappeared, "-"),
    ):
        if found:
            lines.append(f"Findings that {name} ({len(found)}):")
            lines.extend(
                f"  {mark} {f.severity:<7} {f.rule:<24} {f.subject}: {_line(f.message)}"
                for f in found
            )
    if not d.appeared and not d.disappeared:
        lines.append("Findings: none appear or disappear")

    moved = _moved_times(d)
    if moved:
        lines.append("Time to success by entry, of those who succeed (mean / median / 90% within):")
        w = max(len(e) for e in moved)
        lines.extend(f"  {e:<{w}}  {a} -> {b}" for e, (a, b) in moved.items())
    fixes = _fix_change(d)
    if fixes:
        lines.append("Fix first, the top change:")
        lines.append(f"  before: {_line(fixes[0])}")
        lines.append(f"  after:  {_line(fixes[1])}")
    return lines


def _moved_times(d: JourneyDiff) -> dict[str, tuple[str, str]]:
    """Time to success (mean / median / 90%) per entry, where it changed as people read it:
    a mean 2 s longer over 16 weeks is no news."""
    from .timing import human_duration

    def show(t: OutcomeTime) -> str:
        return " / ".join(
            "?" if v is None else human_duration(v) for v in (t.mean_s, t.p50_s, t.p90_s)
        )

    shown = {e: (show(a), show(b)) for e, (a, b) in d.time_to_success.items()}
    return {e: pair for e, pair in shown.items() if pair[0] != pair[1]}


def _fix_change(d: JourneyDiff) -> tuple[str, str] | None:
    """The top fix before and after, where it is another fix (not the same one with
    another gain); None when it did not change, or a side is missing."""
    before, after = d.fix_first
    if d.old is None or d.new is None:
        return None
    key = [None if x is None else (x[0].subject, x[0].kind) for x in (before, after)]
    if key[0] == key[1]:
        return None
    nothing = "nothing to fix"
    return (nothing if before is None else before[1], nothing if after is None else after[1])


def _markdown(d: JourneyDiff) -> str:
    from .report import _md_cell as cell
    from .report import _md_code as code
    from .report import _md_finalize

    def esc(text: str) -> str:  # our own numbers: only <0.001% and >99.9% need it
        return text.replace("<", "&lt;").replace(">", "&gt;")

    def pct(p: float | None) -> str:
        return esc(_pct(p))

    def points(change: float | None) -> str:
        return esc(_points(change))

    def value(text: str) -> str:  # a number stays as written (0.35, not 0\.35)
        return str(_md_finalize(text))

    def name(s: Side | None) -> str:
        return "(none)" if s is None else f"{cell(s.title)} ({code(s.journey)})"

    title = name(d.new) if d.old is None else name(d.old)
    if d.old and d.new and (d.old.journey, d.old.title) != (d.new.journey, d.new.title):
        title = f"{name(d.old)} → {name(d.new)}"
    old_src = "/dev/null" if d.old is None else d.old.source
    new_src = "/dev/null" if d.new is None else d.new.source
    out = [
        f"### {title}: {esc(_headline(d, '→'))}",
        "",
        f"{code(old_src)} → {code(new_src)}: {cell(_counts(d))}.",
        "",
        "| Success probability | Before | After | Change |",
        "|---|--:|--:|--:|",
    ]
    for entry, s in d.success_probability.items():
        change = (
            points(s.change)
            if s.change is not None
            else "only before"
            if s.new is None
            else "only after"
        )
        out.append(f"| {code(entry)} | {pct(s.old)} | {pct(s.new)} | {change} |")
    s = d.success_share
    out.append(f"| **all who start** | {pct(s.old)} | {pct(s.new)} | {points(s.change)} |")
    if d.leaks:
        out += [
            "",
            f"**Leaks**, the {len(d.leaks)} largest changes (share of all who start lost there):",
            "",
            "| Where | How | Before | After | Change |",
            "|---|---|--:|--:|--:|",
        ]
        out.extend(
            f"| {code(x.node)} | {x.kind} | {pct(x.old)} | {pct(x.new)} | {points(x.change)} |"
            for x in d.leaks
        )
    for label, found in (("appear", d.appeared), ("disappear", d.disappeared)):
        if found:
            out += ["", f"**Findings that {label}** ({len(found)}):", ""]
            out.extend(
                f"- {f.severity} {code(f.rule)} at {code(f.subject)}: {cell(f.message)}"
                for f in found
            )

    moved = _moved_times(d)
    if moved:
        out += [
            "",
            "**Time to success**, of those who succeed (mean / median / 90% within):",
            "",
            "| Entry | Before | After |",
            "|---|--:|--:|",
        ]
        out.extend(f"| {code(e)} | {a} | {b} |" for e, (a, b) in moved.items())
    fixes = _fix_change(d)
    if fixes:
        out += [
            "",
            f"**Fix first**, the top change: before, {cell(fixes[0])}; after, {cell(fixes[1])}.",
        ]
    if d.changed:
        out += [
            "",
            "#### Changes",
            "",
            "| | What | Id | Field | Before | After |",
            "|---|---|---|---|---|---|",
        ]
        for f in d.journey:
            a, b = _pair(f.field, f.old, f.new)
            out.append(f"| changed | journey | | {code(f.field)} | {value(a)} | {value(b)} |")
        for c in d.changes:
            ident = " → ".join(code(k) for k in c.key) if isinstance(c.key, tuple) else code(c.key)
            for f in c.fields:
                a, b = _pair(f.field, f.old, f.new)
                out.append(
                    f"| {c.change} | {c.kind} | {ident} | {code(f.field)} | {value(a)} | {value(b)} |"
                )
    return "\n".join(out) + "\n"


# Reading the two sides ------------------------------------------------------------


def _decode(raw: bytes, name: str) -> str:
    from .loader import _kind, _position

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start].decode("utf-8", "replace").removeprefix("\ufeff")
        line, column = _position(before, len(before), _kind(name))
        raise JourneyError(
            [Problem(name, line, column, f"not UTF-8 text (byte 0x{raw[exc.start]:02x})")]
        ) from None
    return text.removeprefix("\ufeff")


def _git_message(err: bytes) -> str:
    lines = [line.strip() for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
    text = lines[0] if lines else "git failed"
    return text.removeprefix("fatal: ").removeprefix("error: ")


def read_git(spec: str, cwd: str | Path | None = None) -> Journey:
    """The journey at ``REV:PATH`` in the git repository of ``cwd`` (the current folder).

    ``git cat-file blob`` as a process with an argument list (no shell), never
    more than the loader's size limit read. PATH is from the repository's top,
    or ``./PATH`` from the current folder, as git reads it. Git never asks for a
    password here (a partial clone fetching the blob would be told no).
    """
    from .loader import MAX_BYTES, _kind, loads

    def fail(message: str) -> JourneyError:
        return JourneyError([Problem(spec, 1, 1, message)])

    if spec.startswith("-"):
        raise UsageError(f"{spec}: no such file, and a git revision cannot start with '-'")
    limit = MAX_BYTES[_kind(spec)]
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0"}
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                ["git", "cat-file", "blob", spec],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
                cwd=cwd,
                env=env,
            )
        except OSError as exc:
            raise fail(
                f"no such file, and git, which would read it as REV:PATH, cannot run"
                f" ({exc.strerror or exc})"
            ) from None
        assert proc.stdout is not None
        with proc:
            raw = proc.stdout.read(limit + 1)
            if len(raw) > limit:
                proc.kill()
            try:
                code = proc.wait(GIT_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise fail(f"git did not answer in {GIT_TIMEOUT} s") from None
        if len(raw) > limit:
            size = f"{limit / 2**20:g} MiB"
            raise fail(f"over {size}; journeys over {size} are refused")
        if code != 0:
            err.seek(0)
            message = _git_message(err.read(4096))
            if "not a git repository" in message:
                raise fail("no such file, and no git repository here to read it from as REV:PATH")
            raise fail(f"no such file, and git cannot read it as REV:PATH: {message}")
    return loads(_decode(raw, spec), spec)


def _read_file(path: str, name: str) -> Journey:
    from .loader import _read, loads

    return loads(_read(Path(path), name), name)


def read_side(spec: str, cwd: str | Path | None = None) -> Journey | None:
    """One side named on the command line: a file, ``/dev/null`` (no journey), or ``REV:PATH``.

    A file that exists wins over git, even with a ``:`` in its name.
    """
    if spec == os.devnull:
        return None
    where = Path(cwd or ".") / spec
    if ":" not in spec or where.exists() or where.is_symlink():
        return _read_file(str(where) if cwd else spec, spec)
    return read_git(spec, cwd)


def _both(
    readers: Sequence[tuple[str, Callable[[], Journey | None]]],
) -> tuple[Journey | None, Journey | None]:
    """Both sides read, the problems of both reported at once."""
    problems: list[Problem] = []
    sides: list[Journey | None] = []
    for name, read in readers:
        try:
            sides.append(read())
        except UsageError:
            raise
        except JourneyError as exc:
            problems.extend(exc.problems or [Problem(name, 1, 1, str(exc))])
            sides.append(None)
    if problems:
        raise JourneyError(problems)
    return sides[0], sides[1]


def git_driver_sides(args: Sequence[str]) -> tuple[Journey | None, Journey | None]:
    """The two sides from what git gives an external diff driver.

    ``path old-file old-hex old-mode new-file new-hex new-mode``, and for a
    rename two more, the new path and git's rename message. The files are
    read as files (never as REV:PATH), and named ``a/PATH`` and ``b/PATH`` as
    git names them; ``/dev/null`` is the missing side of an added or deleted file.
    """
    if len(args) not in (7, 9):
        raise UsageError(f"git gives an external diff 7 or 9 arguments, not {len(args)}")
    path, old_file, new_file = args[0], args[1], args[4]
    new_path = args[7] if len(args) == 9 else path

    def side(file: str, name: str) -> Callable[[], Journey | None]:
        return lambda: None if file == os.devnull else _read_file(file, name)

    return _both(
        [
            (f"a/{path}", side(old_file, f"a/{path}")),
            (f"b/{new_path}", side(new_file, f"b/{new_path}")),
        ]
    )


def compare(
    args: Sequence[str], config: Config | None = None, cwd: str | Path | None = None
) -> JourneyDiff:
    """``journeymap diff``: OLD and NEW (see :func:`read_side`), or the arguments git
    gives an external diff driver (see :func:`git_driver_sides`), compared.

    The journeys read are moved out of the cyclic garbage collector's sight, as
    the CLI's other commands do: its passes over two big journeys' millions of
    objects would take longer than the comparison.
    """
    import gc

    if len(args) not in (2, 7, 9):
        raise UsageError(
            f"diff compares OLD and NEW, 2 arguments, not {len(args)}"
            " (or the 7 or 9 that git gives an external diff driver)"
        )
    gc.disable()
    try:
        if len(args) == 2:
            old, new = _both([(a, partial(read_side, a, cwd)) for a in args])
        else:
            old, new = git_driver_sides(args)
        gc.freeze()
    finally:
        gc.enable()
    return diff(old, new, config)
