"""Findings: a lint for journeys.

Each rule looks for one way customers get lost or badly served, and names the
touchpoint (or stage) to look at. Severities say what a CI job should stop on:
``error`` for what loses customers for certain (traps, loops with no way out),
``warning`` for what usually does, ``info`` for what is worth knowing.
Thresholds and severities can be changed in a config file (``--config``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .model import DURATION, Journey, Touchpoint, parse_duration

if TYPE_CHECKING:
    from .graph import Flow

__all__ = ["RULES", "SEVERITIES", "Config", "Finding", "Thresholds", "find", "load_config"]

SEVERITIES = ("error", "warning", "info")

#: rule id -> (default severity, what it finds)
RULES: dict[str, tuple[str, str]] = {
    "trap": ("error", "reachable, but no success outcome can be reached from it"),
    "closed-loop": ("error", "a loop that customers enter and never leave"),
    "dead-end": ("warning", "a touchpoint with no next step"),
    "unreachable": ("warning", "no entry leads here"),
    "empty-stage": ("warning", "a stage with no touchpoints"),
    "no-owner": ("warning", "nobody at the firm owns this touchpoint"),
    "important-but-poor": ("warning", "important to the customer, but works poorly"),
    "long-wait": ("warning", "customers wait long between two touchpoints"),
    "negative-stretch": ("warning", "several touchpoints in a row where customers feel bad"),
    "handoff": ("info", "customers are passed from one owner to another"),
    "single-point-of-failure": ("info", "every successful journey passes through here"),
    "rework": ("info", "a transition back to an earlier stage"),
}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    subject: str  # the touchpoint, outcome or stage concerned
    message: str

    def to_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "subject": self.subject,
            "message": self.message,
        }


@dataclass(frozen=True)
class Thresholds:
    important: int = 4  # importance to the customer at or above this is important
    poor: int = 2  # quality at or below this is poor
    long_wait: str = "1w"  # a wait at or above this is long
    negative_emotion: float = -1  # emotion at or below this is negative
    negative_stretch: int = 2  # this many negative touchpoints in a row make a stretch


@dataclass(frozen=True)
class Config:
    thresholds: Thresholds = field(default_factory=Thresholds)
    severity: dict[str, str] = field(default_factory=dict)  # rule -> severity or "off"

    def severity_of(self, rule: str) -> str:
        return self.severity.get(rule, RULES[rule][0])


def load_config(path: str | Path) -> Config:
    """A findings config file::

    thresholds: {important: 4, poor: 2, long_wait: 1w, negative_emotion: -1,
                 negative_stretch: 2}
    rules: {handoff: off, rework: warning}
    """
    from .loader import Settings

    f = Settings(path, "findings config")
    thresholds = Thresholds()
    severity: dict[str, str] = {}
    for key, value in f.data.items():
        if key == "thresholds":
            thresholds = _thresholds(f, value)
        elif key == "rules":
            if not isinstance(value, dict):
                f.problem(("rules",), "rules: a mapping of rule ids to error, warning, info or off")
                continue
            for rule, level in value.items():
                if rule not in RULES:
                    f.unknown(("rules",), rule, RULES, "rule")
                elif level not in (*SEVERITIES, "off") and level is not False:
                    f.problem(("rules", rule), f"{rule}: use error, warning, info or off")
                else:
                    severity[rule] = "off" if level is False else level
        else:
            f.unknown((), key, ["thresholds", "rules"], "key")
    f.done()
    return Config(thresholds, severity)


def _thresholds(f: Any, value: Any) -> Thresholds:
    if not isinstance(value, dict):
        f.problem(("thresholds",), "thresholds: a mapping such as {important: 4, poor: 2}")
        return Thresholds()
    known = {fl.name: fl for fl in fields(Thresholds)}
    values: dict[str, Any] = {}
    for key, v in value.items():
        where = ("thresholds", key)
        if key not in known:
            f.unknown(("thresholds",), key, known, "threshold")
        elif key in ("important", "poor"):
            if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 5:
                f.problem(where, f"{key}: a score from 1 to 5")
            else:
                values[key] = v
        elif key == "negative_stretch":
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                f.problem(where, f"{key}: a whole number of touchpoints, 1 or more")
            else:
                values[key] = v
        elif key == "negative_emotion":
            if isinstance(v, bool) or not isinstance(v, int | float) or not -2 <= v <= 2:
                f.problem(where, f"{key}: an emotion from -2 to 2")
            else:
                values[key] = v
        else:  # long_wait
            import re

            if not isinstance(v, str) or not re.match(DURATION, v):
                f.problem(where, f"{key}: a duration such as 3d or 2w")
            else:
                values[key] = v
    return replace(Thresholds(), **values)


# --- the rules ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Facts:
    """What the analysis already knows, passed in so nothing is computed twice."""

    journey: Journey
    flow: Flow
    dead_ends: list[str]
    unreachable: list[str]
    traps: list[str]
    closed_loops: list[list[str]]

    @cached_property
    def quoted(self) -> list[str]:
        """Each node's title in quotes, by node number, as messages name them."""
        j = self.journey
        return [f"“{tp.title}”" for tp in j.touchpoints] + [f"“{o.title}”" for o in j.outcomes]


def find(facts: _Facts, config: Config | None = None) -> list[Finding]:
    """Every finding, errors first, then by rule and subject."""
    config = config or Config()
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    ruled = sorted(
        (rank[severity], rule, make, severity)
        for rule, make in _RULES.items()
        if (severity := config.severity_of(rule)) != "off"
    )
    out: list[Finding] = []
    for _, rule, make, severity in ruled:
        # (subject, message) tuples sort in C: a big journey has 100,000s of findings
        out.extend(Finding(rule, severity, s, m) for s, m in sorted(make(facts, config.thresholds)))
    return out


Found = Iterator[tuple[str, str]]


def _title(j: Journey, ident: str) -> str:
    return f"“{j.nodes[ident].title}”"


def _dead_ends(x: _Facts, t: Thresholds) -> Found:
    for i in x.dead_ends:
        yield i, f"{_title(x.journey, i)} has no next step: every customer who gets here is lost"


def _unreachable(x: _Facts, t: Thresholds) -> Found:
    for i in x.unreachable:
        yield i, f"{_title(x.journey, i)} cannot be reached from any entry"


def _traps(x: _Facts, t: Thresholds) -> Found:
    for i in x.traps:
        yield i, f"from {_title(x.journey, i)} no success outcome can be reached"


def _closed(x: _Facts, t: Thresholds) -> Found:
    for loop in x.closed_loops:
        yield loop[0], f"customers who enter the loop of {_names(x.journey, loop)} never leave it"


def _empty_stages(x: _Facts, t: Thresholds) -> Found:
    for s in x.journey.stages:
        if not x.journey.touchpoints_in(s.id):
            yield s.id, f"stage “{s.title}” has no touchpoints"


def _no_owner(x: _Facts, t: Thresholds) -> Found:
    for tp in x.journey.touchpoints:
        if not tp.owner:
            hint = " (indirect touchpoints need someone watching them too)"
            text = f"“{tp.title}” has no owner"
            yield tp.id, text + (hint if tp.interaction == "indirect" else "")


def _important_but_poor(x: _Facts, t: Thresholds) -> Found:
    for tp in x.journey.touchpoints:
        imp = tp.importance.customer if tp.importance else None
        if (
            imp is not None
            and tp.quality is not None
            and imp >= t.important
            and tp.quality <= t.poor
        ):
            yield (
                tp.id,
                (
                    f"“{tp.title}” matters to customers (importance {imp}/5) "
                    f"but works poorly (quality {tp.quality}/5)"
                ),
            )


def _long_waits(x: _Facts, t: Thresholds) -> Found:
    limit = parse_duration(t.long_wait)
    for tp in x.journey.touchpoints:
        for tr in tp.next:
            if tr.wait is not None and parse_duration(tr.wait) >= limit:
                target = _title(x.journey, tr.to)
                yield tp.id, f"customers wait {tr.wait} between “{tp.title}” and {target}"


def _grouped(x: _Facts, mask: np.ndarray) -> Iterator[tuple[Touchpoint, list[int]]]:
    """The transitions picked by ``mask``, grouped by the touchpoint they leave.

    Yields each touchpoint with the node numbers it leads to, in file order. Plain
    lists and slices: a journey of a million transitions has 100,000s of groups.
    """
    f, tps = x.flow, x.journey.touchpoints
    src = f.src[mask]
    dst = f.dst[mask].tolist()
    bounds = _runs(src)
    for k, s in enumerate(src[bounds[:-1]].tolist()):
        yield tps[s], dst[bounds[k] : bounds[k + 1]]


def _runs(*keys: np.ndarray) -> list[int]:
    """Where the runs of equal keys start, then the end: run k is [b[k], b[k + 1])."""
    n = len(keys[0])
    if not n:
        return [0]
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for key in keys:
        change[1:] |= key[1:] != key[:-1]
    return [*np.flatnonzero(change).tolist(), n]


def _handoffs(x: _Facts, t: Thresholds) -> Found:
    """One finding per touchpoint that passes customers to other owners.

    Per touchpoint, not per transition: the place to fix a handoff is where it
    starts, and a journey of a million transitions should not read a million lines.
    The message names each receiving owner (alphabetically) with the touchpoints
    handed to it (in file order); the grouping is one sort of arrays, as nearly
    every touchpoint of a big journey hands off somewhere.
    """
    f, tps = x.flow, x.journey.touchpoints
    names = sorted({tp.owner for tp in tps if tp.owner})
    rank = {name: i for i, name in enumerate(names)}
    owner = np.full(f.n, -1, dtype=np.int64)
    owner[: f.n_touchpoints] = [rank.get(tp.owner or "", -1) for tp in tps]
    a, b = owner[f.src], owner[f.dst]
    pick = np.flatnonzero((a >= 0) & (b >= 0) & (a != b))
    if not pick.size:
        return
    pick = pick[np.lexsort((pick, b[pick], f.src[pick]))]
    src, to = f.src[pick], b[pick]
    # A part is one (touchpoint, receiving owner); a finding is one touchpoint.
    cuts = _runs(src, to)
    quoted = x.quoted
    titles = [quoted[k] for k in f.dst[pick].tolist()]
    parts = [
        f"{names[o]} ({', '.join(titles[cuts[k] : cuts[k + 1]])})"
        for k, o in enumerate(to[cuts[:-1]].tolist())
    ]
    part_src = src[cuts[:-1]]
    bounds = _runs(part_src)
    for k, i in enumerate(part_src[bounds[:-1]].tolist()):
        tp = tps[i]
        text = "; ".join(parts[bounds[k] : bounds[k + 1]])
        yield tp.id, f"{tp.owner} hands customers from “{tp.title}” to {text}"


def _rework(x: _Facts, t: Thresholds) -> Found:
    f, j = x.flow, x.journey
    stage = np.full(f.n, -1, dtype=np.int64)
    order = j.stage_index
    stage[: f.n_touchpoints] = [order[tp.stage] for tp in j.touchpoints]
    back = (stage[f.dst] >= 0) & (stage[f.dst] < stage[f.src])
    quoted = x.quoted
    for tp, targets in _grouped(x, back):
        titles = ", ".join(quoted[k] for k in targets)
        yield tp.id, f"from “{tp.title}” customers go back to an earlier stage: {titles}"


def _negative_stretches(x: _Facts, t: Thresholds) -> Found:
    """Longest runs of negative touchpoints, each loop among them counted once per node."""
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    j, f = x.journey, x.flow
    emotion = np.array(
        [np.nan if tp.emotion is None else tp.emotion for tp in j.touchpoints]
        + [np.nan] * (f.n - f.n_touchpoints)
    )
    bad = np.zeros(f.n, dtype=bool)
    bad[: f.n_touchpoints] = emotion[: f.n_touchpoints] <= t.negative_emotion
    keep = bad[f.src] & bad[f.dst]
    m = sp.csr_matrix((np.ones(int(keep.sum())), (f.src[keep], f.dst[keep])), shape=(f.n, f.n))
    count, labels = connected_components(m, directed=True, connection="strong")
    members: dict[int, list[int]] = {}
    for i in np.flatnonzero(bad):
        members.setdefault(int(labels[i]), []).append(int(i))
    succ: dict[int, set[int]] = {}
    has_pred: set[int] = set()
    for a, b in zip(f.src[keep].tolist(), f.dst[keep].tolist(), strict=True):
        la, lb = int(labels[a]), int(labels[b])
        if la != lb:
            succ.setdefault(la, set()).add(lb)
            has_pred.add(lb)
    from .paths import _topological

    order = [c for c in _topological(count, succ) if c in members]
    best: dict[int, tuple[int, list[int]]] = {}
    for c in reversed(order):
        tail = max(
            (best[d] for d in succ.get(c, ())),
            key=lambda v: (v[0], [-i for i in v[1]]),
            default=(0, []),
        )
        best[c] = (len(members[c]) + tail[0], [c, *tail[1]])
    for c in order:
        if c in has_pred:
            continue
        length, chain = best[c]
        if length >= t.negative_stretch:
            names = [
                _names(j, [f.ids[i] for i in members[k][:3]], len(members[k])) for k in chain[:6]
            ]
            if len(chain) > 6:
                names.append("…")
            first = f.ids[members[c][0]]
            yield (
                first,
                f"{length} touchpoints in a row where customers feel bad: " + " -> ".join(names),
            )


def _names(j: Journey, ids: list[str], total: int | None = None, most: int = 3) -> str:
    """Titles of a group of touchpoints: the first few of a big one, and how many more."""
    total = len(ids) if total is None else total
    shown = " / ".join(_title(j, i) for i in ids[:most])
    return shown + (f" and {total - most} more" if total > most else "")


def _single_points(x: _Facts, t: Thresholds) -> Found:
    entries = set(x.journey.entry_ids)
    for i in dominators(x.flow):
        ident = x.flow.ids[i]
        if i < x.flow.n_touchpoints and ident not in entries:
            yield (
                ident,
                (
                    f"every successful journey passes through {_title(x.journey, ident)}: "
                    "a single point of failure"
                ),
            )


def dominators(f: Flow) -> list[int]:
    """Nodes on every path (p > 0) from the entries to a success outcome, in path order.

    Linear time: the dominators all lie on any one entry-to-success path P; walking P,
    a node P[i+1] is on every path exactly when nothing reached from P[0..i] (through
    nodes off P) lands beyond it.
    """
    from scipy.sparse.csgraph import breadth_first_order

    chain = f.chain
    n = f.n
    if not f.success.any() or not len(f.entries):
        return []
    # One path from a virtual start (n) through the entries to a virtual end (n + 1).
    import scipy.sparse as sp

    succ_rows = np.concatenate(
        [chain.tocoo().row, np.full(len(f.entries), n), np.flatnonzero(f.success)]
    )
    succ_cols = np.concatenate([chain.tocoo().col, f.entries, np.full(int(f.success.sum()), n + 1)])
    g = sp.csr_matrix(
        (np.ones(len(succ_rows), dtype=np.int8), (succ_rows, succ_cols)), shape=(n + 2, n + 2)
    )
    _, pred = breadth_first_order(g, n, directed=True, return_predecessors=True)
    if pred[n + 1] < 0:
        return []
    path = [n + 1]
    while path[-1] != n:
        path.append(int(pred[path[-1]]))
    path.reverse()
    pos = np.full(n + 2, -1)
    pos[path] = np.arange(len(path))
    indptr, indices = g.indptr.tolist(), g.indices.tolist()
    posl = pos.tolist()
    visited = [False] * (n + 2)
    reach = 0
    found: list[int] = []
    last = len(path) - 1
    for i in range(last):
        stack = [path[i]]
        visited[path[i]] = True
        while stack:
            u = stack.pop()
            for k in range(indptr[u], indptr[u + 1]):
                w = indices[k]
                pw = posl[w]
                if pw >= 0:
                    if pw > reach:
                        reach = pw
                elif not visited[w]:
                    visited[w] = True
                    stack.append(w)
        if reach == i + 1 and i + 1 < last:
            found.append(path[i + 1])
    return found


_RULES = {
    "trap": _traps,
    "closed-loop": _closed,
    "dead-end": _dead_ends,
    "unreachable": _unreachable,
    "empty-stage": _empty_stages,
    "no-owner": _no_owner,
    "important-but-poor": _important_but_poor,
    "long-wait": _long_waits,
    "negative-stretch": _negative_stretches,
    "handoff": _handoffs,
    "single-point-of-failure": _single_points,
    "rework": _rework,
}
