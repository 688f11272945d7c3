"""Findings: a lint for journeys.

Each rule looks for one way customers get lost or badly served, and names the
touchpoint (or stage) to look at. Severities say what a CI job should stop on:
``error`` for what loses customers for certain (traps, loops with no way out),
``warning`` for what usually does, ``info`` for what is worth knowing.
Thresholds and severities can be changed in a config file (``--config``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields, replace
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import coverage
from .errors import did_you_mean
from .graph import backend
from .model import DURATION, ID, Journey, Touchpoint, parse_duration

if TYPE_CHECKING:
    from .graph import Flow
    from .timing import Timing

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
    "no-proactive-touch": ("info", "the firm never reaches out first in this stage"),
    "overlooked": ("warning", "a touchpoint journeys of this kind should have is missing"),
    "asked-again": ("warning", "customers are asked for the same thing twice on one path"),
    "slow-stage": ("info", "customers spend a large share of the time to success in this stage"),
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
    slow_stage: float = 0.5  # a stage taking more than this share of the time to success


@dataclass(frozen=True)
class Config:
    thresholds: Thresholds = field(default_factory=Thresholds)
    severity: dict[str, str] = field(default_factory=dict)  # rule -> severity or "off"
    # Changes to the built-in checklists (see coverage.items): kind -> tag -> the
    # words that also count, or None to remove the built-in item.
    checklists: dict[str, dict[str, tuple[str, ...] | None]] = field(default_factory=dict)
    # The stages no-proactive-touch checks; None: the last two of each journey.
    proactive_stages: tuple[str, ...] | None = None

    def severity_of(self, rule: str) -> str:
        return self.severity.get(rule, RULES[rule][0])


_KEYS = ("thresholds", "rules", "checklists", "proactive_stages")


def load_config(path: str | Path) -> Config:
    """A findings config file::

    thresholds: {important: 4, poor: 2, long_wait: 1w, negative_emotion: -1,
                 negative_stretch: 2, slow_stage: 0.5}
    rules: {handoff: off, rework: warning}
    checklists:                 # changes to the built-in checklists, by journey kind
      client:
        billing: [invoice, credit note]   # same tag: these words instead
        references: off                   # no longer checked
        safety-walk: [safety audit]       # a new item
    proactive_stages: [service, growth]   # default: the last two stages of each journey

    One config serves many journeys, so stage ids a journey does not have are
    ignored for that journey rather than refused.
    """
    from .loader import Settings

    f = Settings(path, "findings config")
    thresholds = Thresholds()
    severity: dict[str, str] = {}
    checklists: dict[str, dict[str, tuple[str, ...] | None]] = {}
    proactive: tuple[str, ...] | None = None
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
        elif key == "checklists":
            checklists = _checklists(f, value)
        elif key == "proactive_stages":
            proactive = _stage_ids(f, value)
        else:
            f.unknown((), key, _KEYS, "key")
    f.done()
    return Config(thresholds, severity, checklists=checklists, proactive_stages=proactive)


def _checklists(f: Any, value: Any) -> dict[str, dict[str, tuple[str, ...] | None]]:
    """``checklists: {KIND: {TAG: [words...] | off}}``, each mistake at its place."""
    if not isinstance(value, dict):
        f.problem(
            ("checklists",),
            "checklists: a mapping of journey kinds (candidate, client, other)"
            " to {tag: [words] or off}",
        )
        return {}
    found: dict[str, dict[str, tuple[str, ...] | None]] = {}
    for kind, tags in value.items():
        where: tuple[str | int, ...] = ("checklists", kind)
        if kind not in coverage.KINDS:
            f.unknown(("checklists",), kind, coverage.KINDS, "journey kind")
            continue
        if not isinstance(tags, dict):
            f.problem(where, f"{kind}: a mapping of tags to their words ([invoice, ...]) or off")
            continue
        built_in = coverage.CHECKLISTS[kind]
        changes: dict[str, tuple[str, ...] | None] = {}
        for tag, words in tags.items():
            if not coverage.words(tag):
                f.problem((*where, tag), f"tag '{tag}' has no letters or digits", at_key=True)
            elif words is False or words == "off":
                if tag in built_in:
                    changes[tag] = None
                else:
                    f.problem(
                        (*where, tag),
                        f"the {kind} checklist has no item '{tag}' to turn off"
                        + did_you_mean(tag, list(built_in)),
                        at_key=True,
                    )
            elif not isinstance(words, list):
                f.problem(
                    (*where, tag), f"{tag}: a list of words such as [invoice, credit note], or off"
                )
            else:
                good = True
                for k, word in enumerate(words):
                    if not isinstance(word, str):
                        f.problem((*where, tag, k), f"{tag}: a word or phrase, got {word!r}")
                        good = False
                    elif not coverage.words(word):
                        f.problem(
                            (*where, tag, k), f"{tag}: {word!r} has no letters or digits to match"
                        )
                        good = False
                if good:
                    changes[tag] = tuple(words)
        found[kind] = changes
    return found


def _stage_ids(f: Any, value: Any) -> tuple[str, ...] | None:
    """``proactive_stages: [ids]``: stage ids, checked only for their form."""
    if not isinstance(value, list):
        f.problem(("proactive_stages",), "proactive_stages: a list of stage ids")
        return None
    ids: list[str] = []
    for k, ident in enumerate(value):
        if not isinstance(ident, str) or not re.match(ID, ident):
            f.problem(("proactive_stages", k), f"proactive_stages: {ident!r} is not a stage id")
        else:
            ids.append(ident)
    return tuple(ids)


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
        elif key == "slow_stage":
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0 < v <= 1:
                f.problem(where, f"{key}: a share of the time to success, above 0 and at most 1")
            else:
                values[key] = float(v)
        else:  # long_wait
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
    # The time analysis, asked for only by the slow-stage rule, which runs last: a
    # big journey's is computed meanwhile in another process (journeymap.parallel).
    timing: Callable[[], Timing] | None = None

    @cached_property
    def stage_shares(self) -> dict[str, float]:
        """Each stage's share of the expected time to success."""
        return {} if self.timing is None else self.timing().stage_shares

    @cached_property
    def success_mean_s(self) -> float | None:
        return None if self.timing is None else self.timing().success_mean_s

    @cached_property
    def quoted(self) -> list[str]:
        """Each node's title in quotes, by node number, as messages name them."""
        j = self.journey
        return [f"“{tp.title}”" for tp in j.touchpoints] + [f"“{o.title}”" for o in j.outcomes]


def find(facts: _Facts, config: Config | None = None) -> list[Finding]:
    """Every finding, errors first, then by rule and subject.

    Most rules give all their findings the rule's severity. A graded rule (see
    :data:`_GRADED`) gives each finding its own default instead, unless the config
    names a severity for the rule, which then holds for all of them.
    """
    config = config or Config()
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    # (severity rank, rule) -> (subject, message) tuples, which sort in C: a big
    # journey has 100,000s of findings.
    found: dict[tuple[int, str], list[tuple[str, str]]] = {}
    for rule, grade in _GRADED.items():
        chosen = config.severity.get(rule)
        if chosen == "off":
            continue
        # A list per severity, looked up once per change of severity (100,000s of items).
        level: str | None = None
        items: list[tuple[str, str]] = []
        for graded, subject, message in grade(facts, config):
            if graded != level:
                level = graded
                items = found.setdefault((rank[chosen or level], rule), [])
            items.append((subject, message))
    # The plain rules after the graded ones: slow-stage, the last, may wait for the
    # time analysis (see _Facts.timing).
    for rule, make in _RULES.items():
        severity = config.severity_of(rule)
        if severity != "off":
            found.setdefault((rank[severity], rule), []).extend(make(facts, config))
    out: list[Finding] = []
    for (at, rule), items in sorted(found.items()):
        out.extend(Finding(rule, SEVERITIES[at], s, m) for s, m in sorted(items))
    return out


def subjects(facts: _Facts, config: Config | None, rule: str) -> list[str]:
    """The subjects one plain rule finds, as :func:`find` would list them (none when
    the config turns it off): for a map, which marks one rule's findings only."""
    config = config or Config()
    if config.severity_of(rule) == "off":
        return []
    return sorted(subject for subject, _ in _RULES[rule](facts, config))


Found = Iterator[tuple[str, str]]
Graded = Iterator[tuple[str, str, str]]  # (severity, subject, message)


def _title(j: Journey, ident: str) -> str:
    return f"“{j.nodes[ident].title}”"


def _dead_ends(x: _Facts, c: Config) -> Found:
    for i in x.dead_ends:
        yield i, f"{_title(x.journey, i)} has no next step: every customer who gets here is lost"


def _unreachable(x: _Facts, c: Config) -> Found:
    for i in x.unreachable:
        yield i, f"{_title(x.journey, i)} cannot be reached from any entry"


def _traps(x: _Facts, c: Config) -> Found:
    for i in x.traps:
        yield i, f"from {_title(x.journey, i)} no success outcome can be reached"


def _closed(x: _Facts, c: Config) -> Found:
    for loop in x.closed_loops:
        yield loop[0], f"customers who enter the loop of {_names(x.journey, loop)} never leave it"


def _empty_stages(x: _Facts, c: Config) -> Found:
    for s in x.journey.stages:
        if not x.journey.touchpoints_in(s.id):
            yield s.id, f"stage “{s.title}” has no touchpoints"


def _no_owner(x: _Facts, c: Config) -> Found:
    for tp in x.journey.touchpoints:
        if not tp.owner:
            hint = " (indirect touchpoints need someone watching them too)"
            text = f"“{tp.title}” has no owner"
            yield tp.id, text + (hint if tp.interaction == "indirect" else "")


def _important_but_poor(x: _Facts, c: Config) -> Found:
    for tp in x.journey.touchpoints:
        imp = tp.importance.customer if tp.importance else None
        if (
            imp is not None
            and tp.quality is not None
            and imp >= c.thresholds.important
            and tp.quality <= c.thresholds.poor
        ):
            yield (
                tp.id,
                (
                    f"“{tp.title}” matters to customers (importance {imp}/5) "
                    f"but works poorly (quality {tp.quality}/5)"
                ),
            )


def _long_waits(x: _Facts, c: Config) -> Found:
    limit = parse_duration(c.thresholds.long_wait)
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


def _handoffs(x: _Facts, c: Config) -> Graded:
    """One finding per touchpoint that passes customers to other owners.

    Per touchpoint, not per transition: the place to fix a handoff is where it
    starts, and a journey of a million transitions should not read a million lines.
    The message names each receiving owner (alphabetically) with the touchpoints
    handed to it (in file order); the grouping is one sort of arrays, as nearly
    every touchpoint of a big journey hands off somewhere.

    A journey that records ``knows`` anywhere says which handoffs carry the history
    along: there, a handoff to touchpoints that do not know the one handing over is
    a warning (the customer has to tell it all again), and one to touchpoints that
    know it stays info, each touchpoint's two kinds in two findings. A journey
    without ``knows`` says nothing either way, so its handoffs stay info.
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
    known = _known_handoffs(x, pick)
    if known is None:
        yield from [("info", subject, text) for subject, text in _handoff_groups(x, pick, b, names)]
        return
    yield from [
        ("info", subject, text + ", who know what came before")
        for subject, text in _handoff_groups(x, pick[known], b, names)
    ]
    yield from [
        ("warning", subject, text + ", who do not know what came before")
        for subject, text in _handoff_groups(x, pick[~known], b, names)
    ]


def _known_handoffs(x: _Facts, pick: np.ndarray) -> np.ndarray | None:
    """Per transition in ``pick``, whether its target knows its source; None without ``knows``."""
    f, tps = x.flow, x.journey.touchpoints
    pairs = [
        i * f.n + f.index[ident]
        for i, tp in enumerate(tps)
        if tp.knows
        for ident in tp.knows
        if ident in f.index
    ]
    if not pairs:
        return None
    # A sorted search, not np.isin: that sorts by np.unique, which imports numpy.ma
    # (4 ms of every analysis).
    known = np.sort(np.asarray(pairs, dtype=np.int64))
    wanted = f.dst[pick] * f.n + f.src[pick]
    at = np.minimum(np.searchsorted(known, wanted), len(known) - 1)
    return np.asarray(known[at] == wanted)


def _handoff_groups(x: _Facts, pick: np.ndarray, receiver: np.ndarray, names: list[str]) -> Found:
    """The handoff transitions ``pick`` as one sentence per touchpoint they leave.

    ``receiver`` holds each transition's receiving owner (a number into ``names``).
    """
    if not pick.size:
        return
    f, tps = x.flow, x.journey.touchpoints
    pick = pick[np.lexsort((pick, receiver[pick], f.src[pick]))]
    src, to = f.src[pick], receiver[pick]
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
    # One comprehension, not a loop of yields: nearly every touchpoint hands off.
    senders = [tps[i] for i in part_src[bounds[:-1]].tolist()]
    texts = ["; ".join(parts[lo:hi]) for lo, hi in pairwise(bounds)]
    yield from [
        (tp.id, f"{tp.owner} hands customers from “{tp.title}” to {text}")
        for tp, text in zip(senders, texts, strict=True)
    ]


def _rework(x: _Facts, c: Config) -> Found:
    f, j = x.flow, x.journey
    stage = np.full(f.n, -1, dtype=np.int64)
    order = j.stage_index
    stage[: f.n_touchpoints] = [order[tp.stage] for tp in j.touchpoints]
    back = (stage[f.dst] >= 0) & (stage[f.dst] < stage[f.src])
    quoted = x.quoted
    for tp, targets in _grouped(x, back):
        titles = ", ".join(quoted[k] for k in targets)
        yield tp.id, f"from “{tp.title}” customers go back to an earlier stage: {titles}"


def _negative_stretches(x: _Facts, config: Config) -> Found:
    """Longest runs of negative touchpoints, each loop among them counted once per node."""
    j, f = x.journey, x.flow
    sp = backend(f.n)
    emotion = np.array(
        [np.nan if tp.emotion is None else tp.emotion for tp in j.touchpoints]
        + [np.nan] * (f.n - f.n_touchpoints)
    )
    bad = np.zeros(f.n, dtype=bool)
    bad[: f.n_touchpoints] = emotion[: f.n_touchpoints] <= config.thresholds.negative_emotion
    keep = bad[f.src] & bad[f.dst]
    m = sp.csr_matrix((np.ones(int(keep.sum())), (f.src[keep], f.dst[keep])), shape=(f.n, f.n))
    count, labels = sp.connected_components(m, directed=True, connection="strong")
    # Plain lists, not numpy scalars one at a time: 100,000s of nodes and transitions.
    members: dict[int, list[int]] = {}
    where = np.flatnonzero(bad)
    for i, label in zip(where.tolist(), labels[where].tolist(), strict=True):
        members.setdefault(label, []).append(i)
    la, lb = labels[f.src[keep]], labels[f.dst[keep]]
    cross = la != lb
    succ: dict[int, set[int]] = {}
    for a, b in zip(la[cross].tolist(), lb[cross].tolist(), strict=True):
        succ.setdefault(a, set()).add(b)
    has_pred = set(lb[cross].tolist())
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
        if length >= config.thresholds.negative_stretch:
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


def _single_points(x: _Facts, c: Config) -> Found:
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
    sp = backend(f.n)
    chain = f.chain
    n = f.n
    if not f.success.any() or not len(f.entries):
        return []
    # One path from a virtual start (n) through the entries to a virtual end (n + 1).
    succ_rows = np.concatenate(
        [chain.tocoo().row, np.full(len(f.entries), n), np.flatnonzero(f.success)]
    )
    succ_cols = np.concatenate([chain.tocoo().col, f.entries, np.full(int(f.success.sum()), n + 1)])
    g = sp.csr_matrix(
        (np.ones(len(succ_rows), dtype=np.int8), (succ_rows, succ_cols)), shape=(n + 2, n + 2)
    )
    _, pred = sp.breadth_first_order(g, n, directed=True, return_predecessors=True)
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


def _no_proactive(x: _Facts, c: Config) -> Found:
    """Stages where every touchpoint waits for the customer to start it.

    Service answers; success calls first (the account manager who rings in October
    because this client panics every November). The stages checked are the
    config's ``proactive_stages`` that the journey has, or by default its last two,
    where keeping a customer is won or lost. A stage without touchpoints is left
    to ``empty-stage``.
    """
    j = x.journey
    if c.proactive_stages is None:
        stages = j.stages[-2:]
    else:
        wanted = set(c.proactive_stages)
        stages = [s for s in j.stages if s.id in wanted]
    for stage in stages:
        tps = j.touchpoints_in(stage.id)
        if tps and all(tp.initiative != "firm" for tp in tps):
            who = "its one touchpoint is not" if len(tps) == 1 else f"none of its {len(tps)} is"
            yield (
                stage.id,
                f"the firm never reaches out first in stage “{stage.title}”: "
                f"{who} marked initiative: firm",
            )


def _overlooked(x: _Facts, c: Config) -> Found:
    """Checklist items of the journey's kind that no touchpoint covers (see coverage)."""
    j = x.journey
    for item in coverage.checklist(j, c):
        if not item.covered:
            looked = ", ".join((item.tag, *item.words))
            yield (
                j.journey,
                f"no touchpoint of this {j.kind} journey covers “{item.tag}”"
                f" (looked for {looked} in tags, titles and channels)",
            )


#: Touchpoints with a repeated ask compared in one journey; the rest are left out,
#: and a finding says so. The pass over the graph carries a set of this many bits
#: per node: 2,000 askers spread over a journey of 100,000 touchpoints and 1,000,000
#: transitions without loops (the worst case) take half a second and 25 MB of sets.
MAX_ASKERS = 2_000
#: Pairs listed in one journey; the rest are counted in one more finding.
MAX_ASKED_AGAIN = 10_000
# Up to this many askers, one breadth-first search each (C); more share one pass.
_SEARCHES = 32


def _asked_again(x: _Facts, c: Config) -> Found:
    """Two touchpoints on one path from an entry that ask for the same thing.

    "Don't make the customer work for you": what the customer gave once (a work
    history, ID documents) should not be asked for again. Asks are the same when
    they are equal ignoring case and runs of whitespace. A pair counts when the
    first is reached from an entry and the second from the first, over declared
    transitions (a transition of probability 0 is still a way the firm built).
    The finding is on the later one; in a loop, where either can come first, the
    one later in the file.

    Journeys where few touchpoints ask cost one pass over the touchpoints and a
    search from each asker; many askers share one pass over the condensation (see
    :func:`_reachable_among`). Work and output are capped by :data:`MAX_ASKERS`
    and :data:`MAX_ASKED_AGAIN`, each cap said in a finding when reached.
    """
    j, f = x.journey, x.flow
    unreachable = set(x.unreachable)
    askers: dict[str, list[int]] = {}  # an ask, normalised -> touchpoints, in file order
    written: dict[tuple[int, str], str] = {}  # (touchpoint, ask) -> the ask as written
    for i, tp in enumerate(j.touchpoints):
        if not tp.asks or tp.id in unreachable:
            continue
        for text in tp.asks:
            key = " ".join(text.casefold().split())
            if key and (i, key) not in written:
                written[i, key] = text
                askers.setdefault(key, []).append(i)
    repeated = {key: who for key, who in askers.items() if len(who) > 1}
    if not repeated:
        return
    sources = sorted({i for who in repeated.values() for i in who})
    if len(sources) > MAX_ASKERS:
        yield (
            j.journey,
            f"{len(sources):,} touchpoints ask for something another one asks for: only"
            f" the first {MAX_ASKERS:,} were compared",
        )
        sources = sources[:MAX_ASKERS]
        kept = set(sources)
        repeated = {key: [i for i in who if i in kept] for key, who in repeated.items()}
    bit = {i: 1 << k for k, i in enumerate(sources)}
    reach = _reachable_among(f, sources)
    labels = f.components[1]
    tps, quoted = j.touchpoints, x.quoted
    shown = ordered = mutual = 0
    for key, who in repeated.items():
        members = 0
        for i in who:
            members |= bit[i]
        # Two askers that reach each other are one loop (one component), and the pair
        # is found from both: counted once, from the one later in the file.
        in_loop: dict[int, int] = {}
        for label in labels[who].tolist():
            in_loop[label] = in_loop.get(label, 0) + 1
        mutual += sum(k * (k - 1) // 2 for k in in_loop.values())
        for a in who:
            hits = reach[a] & members & ~bit[a]
            ordered += hits.bit_count()
            while hits and shown < MAX_ASKED_AGAIN:
                low = hits & -hits
                hits ^= low
                b = sources[low.bit_length() - 1]
                if b < a and reach[b] & bit[a]:
                    continue  # either can come first: the pair is counted from b
                shown += 1
                yield (
                    tps[b].id,
                    f"{quoted[b]} asks for “{written[b, key]}” again:"
                    f" {quoted[a]} already asked for it",
                )
    if ordered - mutual > shown:
        yield (
            j.journey,
            f"{ordered - mutual - shown:,} more pairs of touchpoints ask for the same thing"
            f" (only the first {MAX_ASKED_AGAIN:,} are listed)",
        )


def _reachable_among(f: Flow, sources: list[int]) -> dict[int, int]:
    """For each source touchpoint, the sources it reaches, as bits (source k is 1 << k).

    Over every declared transition; a source's own bit is never set. Few sources:
    one breadth-first search each, in C. Many: :func:`_reach_by_condensation`.
    """
    position = np.full(f.n, -1, dtype=np.int64)
    position[sources] = np.arange(len(sources))
    if len(sources) > _SEARCHES:
        return _reach_by_condensation(f, sources, position)
    breadth_first_order = backend(f.n).breadth_first_order
    # float64 once, or every search converts the whole graph again
    graph = f.adjacency.astype(np.float64)
    reach: dict[int, int] = {}
    for s in sources:
        found = position[breadth_first_order(graph, s, directed=True, return_predecessors=False)]
        reach[s] = sum(1 << k for k in found[found >= 0].tolist()) & ~(1 << int(position[s]))
    return reach


def _reach_by_condensation(f: Flow, sources: list[int], position: np.ndarray) -> dict[int, int]:
    """:func:`_reachable_among` for many sources, in one pass.

    Every node of a path between two sources is reached from a source and reaches
    one, so only that part of the graph is kept (two searches in C). Its loops
    are each one node (the condensation, a DAG); the sources each node reaches are
    carried back from the last nodes to the first as Python integers, one OR per
    transition, whatever the number of sources.
    """
    _, labels = f.components
    starts = np.asarray(sources, dtype=np.int64)
    between = f.reachable(starts) & f.reachable(starts, reverse=True)
    keep = between[f.src] & between[f.dst]
    # the components kept, renumbered 0..m-1 in order
    comps = np.flatnonzero(np.bincount(labels[between], minlength=len(labels)))
    cs = np.searchsorted(comps, labels[f.src[keep]])
    cd = np.searchsorted(comps, labels[f.dst[keep]])
    m = len(comps)
    cross = np.sort(cs[cs != cd] * m + cd[cs != cd])  # each edge of the condensation once
    cross = cross[np.r_[True, cross[1:] != cross[:-1]]] if len(cross) else cross
    heads = (cross % m).tolist()
    starts_at = np.searchsorted(cross // m, np.arange(m + 1)).tolist()
    own = [0] * m
    for s, c in zip(sources, np.searchsorted(comps, labels[starts]).tolist(), strict=True):
        own[c] |= 1 << int(position[s])
    # Kahn's order of the condensation, then each node after all it leads to.
    indegree = [0] * m
    for h in heads:
        indegree[h] += 1
    order = [c for c in range(m) if not indegree[c]]
    for c in order:  # the list grows while it is walked
        for h in heads[starts_at[c] : starts_at[c + 1]]:
            indegree[h] -= 1
            if not indegree[h]:
                order.append(h)
    reach = own[:]
    for c in reversed(order):
        bits = reach[c]
        for h in heads[starts_at[c] : starts_at[c + 1]]:
            bits |= reach[h]
        reach[c] = bits
    where = np.searchsorted(comps, labels[starts]).tolist()
    return {s: reach[c] & ~(1 << int(position[s])) for s, c in zip(sources, where, strict=True)}


def _slow_stages(x: _Facts, c: Config) -> Found:
    """Stages that take more than ``slow_stage`` of the expected time to success.

    Measured over the customers who succeed (the time of a transition counts
    for the stage it leaves), so a stage nobody successful passes through, or a
    journey whose times are all unwritten, finds nothing.
    """
    from .timing import human_duration

    limit = c.thresholds.slow_stage
    titles = {s.id: s.title for s in x.journey.stages}
    total = x.success_mean_s
    for stage, share in x.stage_shares.items():
        if share > limit:
            spent = (
                ""
                if total is None
                else f" ({human_duration(share * total)} of {human_duration(total)})"
            )
            yield (
                stage,
                f"customers who succeed spend {share:.0%} of their expected time to success"
                f" in stage “{titles.get(stage, stage)}”{spent}",
            )


_RULES: dict[str, Callable[[_Facts, Config], Found]] = {
    "trap": _traps,
    "closed-loop": _closed,
    "dead-end": _dead_ends,
    "unreachable": _unreachable,
    "empty-stage": _empty_stages,
    "no-owner": _no_owner,
    "important-but-poor": _important_but_poor,
    "long-wait": _long_waits,
    "negative-stretch": _negative_stretches,
    "single-point-of-failure": _single_points,
    "rework": _rework,
    "no-proactive-touch": _no_proactive,
    "overlooked": _overlooked,
    "asked-again": _asked_again,
    "slow-stage": _slow_stages,
}

#: Rules that give each finding its own default severity (see :func:`find`).
_GRADED: dict[str, Callable[[_Facts, Config], Graded]] = {
    "handoff": _handoffs,
}
