"""Checks that need the whole journey: ids, references and numbers that must add up.

Pure: it returns issues with a path into the document (``("touchpoints", 3,
"next", 0, "to")``); the loader turns paths into line and column.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal

from .errors import did_you_mean
from .model import TOLERANCE, Journey, Outcome, Touchpoint

__all__ = ["Issue", "check"]

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Issue:
    path: Path
    message: str
    # Point at the key rather than its value (an unknown or duplicate key).
    at_key: bool = False
    # Where the first of two clashing things is, so the message can say so.
    first: Path | None = None
    first_note: str = "first on line"
    # Ids the issue is about, so it can be dropped when those parts were invalid.
    refs: tuple[str, ...] = ()


def check(journey: Journey) -> list[Issue]:
    return [
        *_ids(journey),
        *_stages(journey),
        *_transitions(journey),
        *_entries(journey),
        *_knows(journey),
    ]


def _ids(j: Journey) -> Iterator[Issue]:
    seen: dict[str, Path] = {}
    for i, stage in enumerate(j.stages):
        path: Path = ("stages", i)
        if stage.id in seen:
            yield Issue(
                (*path, "id"), f"stage '{stage.id}' is declared twice", first=seen[stage.id]
            )
        else:
            seen[stage.id] = path
    nodes: dict[str, Path] = {}
    groups: list[tuple[str, Sequence[Touchpoint | Outcome]]] = [
        ("touchpoints", j.touchpoints),
        ("outcomes", j.outcomes),
    ]
    for kind, items in groups:
        for i, node in enumerate(items):
            path = (kind, i)
            if node.id in nodes:
                yield Issue(
                    (*path, "id"),
                    f"id '{node.id}' is used twice (touchpoints and outcomes share one set of ids)",
                    first=nodes[node.id],
                )
            else:
                nodes[node.id] = path


def _stages(j: Journey) -> Iterator[Issue]:
    declared = [s.id for s in j.stages]
    for i, tp in enumerate(j.touchpoints):
        if tp.stage not in j.stage_index:
            yield Issue(
                ("touchpoints", i, "stage"),
                f"stage '{tp.stage}' is not declared under `stages`"
                + did_you_mean(tp.stage, declared),
                refs=(tp.stage,),
            )


def _transitions(j: Journey) -> Iterator[Issue]:
    ids = list(j.nodes)
    known = j.nodes.__contains__
    for i, tp in enumerate(j.touchpoints):
        nxt = tp.next
        if not nxt:
            continue
        base: Path = ("touchpoints", i)
        # The usual case is checked in a few passes over plain lists; only a bad
        # touchpoint is walked again transition by transition to say where (a
        # million transitions at scale).
        tos = [t.to for t in nxt]
        distinct = set(tos)
        if len(distinct) != len(tos) or not all(map(known, distinct)):
            yield from _targets(j, tp, base, ids)
        probs = [t.probability for t in nxt]
        volumes = [t.volume for t in nxt]
        has_p = probs.count(None) < len(nxt)
        has_v = volumes.count(None) < len(nxt)
        if has_p and has_v:
            yield Issue(
                (*base, "next", _first_given(volumes), "volume"),
                f"'{tp.id}' mixes `volume` and `probability` on its transitions; use one kind",
                first=(*base, "next", _first_given(probs), "probability"),
                first_note="a probability is on line",
            )
            continue
        if has_p:
            total = math.fsum([p for p in probs if p is not None])
            if total > 1 + TOLERANCE:
                yield Issue(
                    (*base, "next"),
                    f"the probabilities out of '{tp.id}' add up to {total:g}, more than 1",
                    at_key=True,
                )
        if has_v and tp.volume is not None:
            given = [v for v in volumes if v is not None]
            if _exceeds(given, tp.volume):
                yield Issue(
                    (*base, "next"),
                    f"the transition volumes out of '{tp.id}' add up to {_total(given)},"
                    f" more than its volume {tp.volume:g}",
                    at_key=True,
                )


def _exceeds(volumes: list[float], volume: float) -> bool:
    """Whether transition volumes add up to more than the touchpoint's volume.

    Relative only (an absolute slack let 1e-9 out of 1e-10 through: a transition
    of probability 10), and as shares of the volume, so that volumes near 1e308
    neither overflow the sum nor the comparison.
    """
    try:
        if math.fsum(volumes) <= volume:
            return False  # the usual case, without a division per transition
    except OverflowError:
        pass
    if volume == 0:
        return True
    try:
        return math.fsum([v / volume for v in volumes]) > 1 + TOLERANCE
    except OverflowError:  # shares beyond 1e308 in sum: far more than 1
        return True


def _total(volumes: list[float]) -> str:
    """The sum for a message, also where it is beyond the largest float."""
    top = max(volumes)
    scaled = math.fsum([v / top for v in volumes])
    if top * scaled < math.inf:
        return f"{top * scaled:g}"
    return format(Decimal(f"{Decimal(top) * Decimal(scaled):.6g}").normalize(), "g")


def _first_given(values: list[float | None]) -> int:
    return next(k for k, v in enumerate(values) if v is not None)


def _targets(j: Journey, tp: Touchpoint, base: Path, ids: list[str]) -> Iterator[Issue]:
    """Missing and repeated targets of one touchpoint's transitions."""
    targets: dict[str, int] = {}
    for k, t in enumerate(tp.next):
        where: Path = (*base, "next", k)
        if t.to not in j.nodes:
            hint = did_you_mean(t.to, ids)
            if t.to in j.stage_index and not hint:
                hint = " (that is a stage; transitions go to touchpoints or outcomes)"
            yield Issue(
                (*where, "to"), f"'{t.to}' is not a touchpoint or outcome" + hint, refs=(t.to,)
            )
        if t.to in targets:
            yield Issue(
                (*where, "to"),
                f"'{tp.id}' already has a transition to '{t.to}'; merge the two",
                first=(*base, "next", targets[t.to]),
            )
        else:
            targets[t.to] = k


def _entries(j: Journey) -> Iterator[Issue]:
    touchpoints = [tp.id for tp in j.touchpoints]
    if j.entries is None:
        if not j.entry_ids:
            yield Issue(
                ("touchpoints",),
                "no entry: every touchpoint has an incoming transition;"
                " say where customers start with `entries: [...]`",
                at_key=True,
            )
        return
    if not j.entries:
        yield Issue(("entries",), "`entries` is empty: name at least one touchpoint")
    for i, item in enumerate(j.entries):
        entry, at = (
            (item, ("entries", i)) if isinstance(item, str) else (item.id, ("entries", i, "id"))
        )
        node = j.nodes.get(entry)
        if node is None:
            yield Issue(
                at,
                f"entry '{entry}' is not a touchpoint" + did_you_mean(entry, touchpoints),
                refs=(entry,),
            )
        elif entry not in touchpoints:
            yield Issue(at, f"entry '{entry}' is an outcome; entries are touchpoints")


def _knows(j: Journey) -> Iterator[Issue]:
    """Each ``knows`` names a touchpoint: what a touchpoint knows is another one's history.

    An outcome has no history to know (customers end there), so it is refused with
    its own message rather than a suggestion. Journeys without ``knows`` (nearly all
    big ones) cost one pass over the touchpoints.
    """
    touchpoints: set[str] | None = None
    ids: list[str] = []
    for i, tp in enumerate(j.touchpoints):
        if not tp.knows:
            continue
        if touchpoints is None:
            ids = [t.id for t in j.touchpoints]
            touchpoints = set(ids)
        for k, ident in enumerate(tp.knows):
            if ident in touchpoints:
                continue
            where: Path = ("touchpoints", i, "knows", k)
            if ident in j.nodes:
                yield Issue(
                    where,
                    f"knows: '{ident}' is an outcome; name the touchpoints whose history"
                    f" '{tp.id}' knows",
                )
            else:
                yield Issue(
                    where,
                    f"knows: '{ident}' is not a touchpoint" + did_you_mean(ident, ids),
                    refs=(ident,),
                )
