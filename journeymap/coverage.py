"""Coverage: what a journey has, against what every journey of its kind should have.

Staffing firms forget the same touchpoints again and again: billing, site visits,
references, the quote, the follow-up after an assignment ends. A journey says
which side of the firm it maps with ``kind: candidate | client | other``; each
kind has a checklist of items, and each item is a tag with the words that also
count for it. The findings (``overlooked``), the metrics and the report all read
the checklist from here, so they agree on what covers what.

Pure: no I/O, no analysis. The config (:class:`journeymap.findings.Config`) may
change the built-in checklists; see :func:`items`.

**Matching.** A touchpoint covers an item when the item's tag or one of its words
occurs in one of the touchpoint's tags, in its title or in its channel, as whole
words. Each text is cut into words at everything that is not a letter or a digit
(so ``follow-up``, ``follow up`` and ``Follow_Up`` are the same two words), with a
possessive ``'s`` dropped, compared case-insensitively (``casefold``), and each word
reduced to a rough singular so that plurals count: ``-ies`` becomes ``-y``
(``deliveries``), ``-sses``, ``-xes``, ``-ches`` and ``-shes`` lose ``-es``
(``addresses``, ``taxes``, ``matches``) and any other word of three letters or more
ending in ``s`` loses it (``invoices``, ``visits``, ``check-ins``, ``follow-ups``),
except after ``s``, ``u`` or ``i`` (``business``, ``status``, ``analysis``). Both sides go
through the same rule, so a phrase such as ``site visit`` matches "On-site visits
every month" but not "site" alone, and ``pay`` matches "pays" but not "payroll"
(which is therefore one of its words). A phrase never spans two tags, or a title
and a channel.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from .model import Journey, Touchpoint

if TYPE_CHECKING:
    from .findings import Config

__all__ = [
    "CHECKLISTS",
    "INITIATIVES",
    "KINDS",
    "CheckItem",
    "checklist",
    "initiative_by_stage",
    "items",
    "words",
]

KINDS = ("candidate", "client", "other")
INITIATIVES = ("customer", "firm")

# Words that count for an item besides its tag. Each list is what staffing firms
# actually call the touchpoint in titles and channels; the tag itself always counts.
_FOLLOW_UP = (
    "followup",
    "assignment end",
    "end of assignment",
    "after the assignment",
    "after an assignment",
    "after assignment",
    "post assignment",
    "debrief",
    "exit interview",
)

#: The built-in checklists by journey kind: tag -> the words that also count.
CHECKLISTS: Mapping[str, Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "client": MappingProxyType(
            {
                "billing": (
                    "invoice",
                    "invoicing",
                    "credit note",
                    "payment terms",
                    "accounts receivable",
                    "remittance",
                ),
                "site-visit": (
                    "field visit",
                    "site walk",
                    "site tour",
                    "site assessment",
                    "workplace visit",
                    "plant visit",
                    "walkthrough",
                ),
                "references": (
                    "reference call",
                    "testimonial",
                    "case study",
                    "success story",
                ),
                "quote": (
                    "quotation",
                    "pricing",
                    "price",
                    "rate card",
                    "bill rate",
                    "markup",
                    "proposal",
                ),
                "order": (
                    "job order",
                    "order placement",
                    "requisition",
                    "staffing request",
                    "request staff",
                ),
                "problem-resolution": (
                    "problem",
                    "complaint",
                    "dispute",
                    "escalation",
                    "issue",
                    "replacement",
                    "service recovery",
                ),
                "follow-up": _FOLLOW_UP,
            }
        ),
        "candidate": MappingProxyType(
            {
                "pay": (
                    "payroll",
                    "paycheck",
                    "paycheque",
                    "payday",
                    "payslip",
                    "pay stub",
                    "pay card",
                    "paid",
                    "wage",
                    "salary",
                    "direct deposit",
                ),
                "reference-check": (
                    "reference",
                    "referee",
                    "employment verification",
                ),
                "training": (
                    "orientation",
                    "onboarding",
                    "induction",
                    "safety briefing",
                    "course",
                    "e-learning",
                ),
                "check-in": (
                    "checkup",
                    "check up",
                    "welfare call",
                    "wellbeing call",
                    "touch base",
                    "first week call",
                ),
                "follow-up": _FOLLOW_UP,
            }
        ),
        "other": MappingProxyType({}),
    }
)


@dataclass(frozen=True)
class CheckItem:
    """One item of a journey's checklist and the touchpoints that cover it."""

    tag: str
    words: tuple[str, ...]  # what also counts, besides the tag
    covered_by: tuple[str, ...]  # touchpoint ids, in file order

    @property
    def covered(self) -> bool:
        return bool(self.covered_by)

    def to_dict(self) -> dict[str, Any]:
        return {"tag": self.tag, "words": list(self.words), "covered_by": list(self.covered_by)}


def items(kind: str, config: Config | None = None) -> dict[str, tuple[str, ...]]:
    """The checklist of a kind of journey: tag -> the words that also count, in order.

    The built-in items first, in their order; the config's ``checklists`` for the
    kind then replace an item's words (same tag, same place), remove it (``None``,
    written ``off`` in the file) or add new items at the end, in the config's order.
    """
    found = dict(CHECKLISTS.get(kind, {}))
    changes = config.checklists.get(kind, {}) if config is not None else {}
    for tag, said in changes.items():
        if said is None:
            found.pop(tag, None)
        else:
            found[tag] = tuple(said)
    return found


def checklist(journey: Journey, config: Config | None = None) -> list[CheckItem]:
    """The journey's checklist (by its ``kind``), each item with what covers it.

    Empty for a kind without items (``other``, unless the config adds some), and
    then free: nothing is read. Otherwise one pass over the touchpoints, looking
    each run of up to as many words as the longest phrase up in a table, so the
    cost grows with the touchpoints' words, not with the number of items.
    """
    wanted = items(journey.kind, config)
    if not wanted:
        return []
    phrases: dict[str, list[int]] = {}
    for k, (tag, extra) in enumerate(wanted.items()):
        for phrase in (tag, *extra):
            key = " ".join(words(phrase))
            if key:
                phrases.setdefault(key, []).append(k)
    longest = max((key.count(" ") + 1 for key in phrases), default=0)
    covered: list[list[str]] = [[] for _ in wanted]
    cache: dict[str, list[str]] = {}
    for tp in journey.touchpoints:
        hit: set[int] = set()
        for text in _texts(tp):
            toks = cache.get(text)
            if toks is None:
                toks = cache[text] = words(text)
            for n in range(1, min(longest, len(toks)) + 1):
                for start in range(len(toks) - n + 1):
                    found = phrases.get(" ".join(toks[start : start + n]))
                    if found:
                        hit.update(found)
        for k in hit:
            covered[k].append(tp.id)
    return [
        CheckItem(tag, extra, tuple(ids))
        for (tag, extra), ids in zip(wanted.items(), covered, strict=True)
    ]


def _texts(tp: Touchpoint) -> list[str]:
    """The texts a checklist reads: each tag, the title, the channel."""
    return [*tp.tags, tp.title, *([tp.channel] if tp.channel else [])]


_WORD = re.compile(r"[^\W_]+")
_POSSESSIVE = re.compile(r"['\u2019]s\b", re.IGNORECASE)


def words(text: str) -> list[str]:
    """The words of a text as the checklist compares them (see the module's docstring)."""
    text = _POSSESSIVE.sub("", text.casefold())
    return [_singular(w) for w in _WORD.findall(text)]


def _singular(word: str) -> str:
    if len(word) < 3 or not word.endswith("s"):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]
    if word.endswith(("ss", "us", "is")):
        return word
    return word[:-1]


def initiative_by_stage(journey: Journey) -> dict[str, dict[str, int]]:
    """How many touchpoints of each stage the customer starts and the firm starts.

    ``{stage id: {"customer": n, "firm": n}}`` for every stage, in stage order
    (stages without touchpoints have zeros). The customer starting a touchpoint
    is service (reactive); the firm starting it is success (proactive).
    """
    counts = {s.id: dict.fromkeys(INITIATIVES, 0) for s in journey.stages}
    for tp in journey.touchpoints:
        stage = counts.get(tp.stage)
        if stage is not None:
            stage[tp.initiative] += 1
    return counts
