"""The journey model: what a journey file means, independent of YAML.

Pydantic checks the shape of one file (types, ranges, unknown keys); the
cross-references between parts (stages, ids, probabilities) are checked in
:mod:`journeymap.validate`, because they need the whole journey at once.
"""

from __future__ import annotations

import math
import re
from functools import cached_property
from typing import Annotated, Any, Literal, cast

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)
from pydantic.dataclasses import dataclass as validated_dataclass
from pydantic_core import PydanticCustomError

from .errors import did_you_mean

__all__ = [
    "DURATION_UNITS",
    "NEGLIGIBLE",
    "TOLERANCE",
    "Entry",
    "Importance",
    "Initiative",
    "Journey",
    "Kind",
    "Outcome",
    "Persona",
    "Stage",
    "Touchpoint",
    "Transition",
    "format_duration",
    "parse_duration",
    "slug",
]

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
# Touchpoint, outcome and stage ids are more lenient than the journey id (which
# names output files) but still safe inside URLs, HTML anchors and DOT ids.
ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
# One or more parts, each a number and a unit, largest unit first or not: ``2d``,
# ``1.5h``, ``3d 4h 12m 5s`` (what a wait measured in an event log looks like), ``0.25s``.
DURATION = r"^\s*\d+(?:\.\d+)?\s*[smhdw](?:\s*\d+(?:\.\d+)?\s*[smhdw])*\s*$"
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}

Id = Annotated[str, Field(pattern=ID, max_length=200)]
Duration = Annotated[str, Field(pattern=DURATION)]
Count = Annotated[float, Field(ge=0, allow_inf_nan=False, strict=True)]
Score = Annotated[int, Field(ge=1, le=5, strict=True)]
Text = Annotated[str, Field(max_length=10_000)]
# A word or phrase that must say something: an empty tag or ask would match nothing.
Word = Annotated[str, Field(min_length=1, max_length=10_000)]


def _one_of(*allowed: str) -> BeforeValidator:
    """Refuse a value outside ``allowed`` with a "did you mean" (``initiative: frim``).

    Pydantic's own refusal of a ``Literal`` names the choices but not the closest
    one. The error keeps pydantic's ``literal_error`` type and wording, so the
    loader words and places it like every other refused choice. It runs only for
    a key that is written (a default is never validated): free for files without it.
    """
    quoted = [f"'{a}'" for a in allowed]
    expected = f"{', '.join(quoted[:-1])} or {quoted[-1]}" if len(quoted) > 1 else quoted[0]

    def check(value: Any) -> Any:
        if isinstance(value, str) and value in allowed:
            return value
        hint = did_you_mean(value, allowed) if isinstance(value, str) else ""
        raise PydanticCustomError("literal_error", f"Input should be {expected}{hint}")

    return BeforeValidator(check)


#: Who starts a touchpoint: the customer (reactive service) or the firm (proactive success).
Initiative = Annotated[Literal["customer", "firm"], _one_of("customer", "firm")]
#: Which kind of journey a file holds; it picks the built-in checklist (see coverage).
Kind = Annotated[Literal["candidate", "client", "other"], _one_of("candidate", "client", "other")]

# Numbers that add up to 1 within this (relative) tolerance add up to 1; see
# Touchpoint.shares. The loader refuses sums above 1 beyond it.
TOLERANCE = 1e-9
# A share below this is 0 (see Touchpoint.shares).
NEGLIGIBLE = 1e-300


def parse_duration(text: str) -> float:
    """Seconds in a duration such as ``2d``, ``1.5h`` or ``3d 4h 12m 5s``."""
    if re.match(DURATION, text) is None:
        raise ValueError(f"not a duration: {text!r}")
    return math.fsum(float(n) * DURATION_UNITS[unit] for n, unit in DURATION_PART.findall(text))


def format_duration(seconds: float) -> str:
    """``seconds`` as a duration the loader reads back, rounded to the second.

    Days, hours, minutes and seconds, leaving out the parts that are 0 (``2d``,
    ``1h 30m``, ``3d 4h 12m 5s``): what people write, and what ``discover`` writes
    for a median wait. Below a second, seconds with up to three decimals (``0.25s``).
    """
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError(f"not a duration: {seconds!r}")
    if seconds < 1:
        text = f"{seconds:.3f}".rstrip("0").rstrip(".")
        return f"{text or '0'}s"
    whole = round(seconds)
    parts = []
    for unit in ("d", "h", "m", "s"):
        size = DURATION_UNITS[unit]
        count, whole = divmod(whole, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts)


def slug(text: str) -> str:
    """``Follow up`` -> ``follow-up``: the id a title gives (ASCII letters and digits)."""
    import unicodedata

    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")[:200]


def title_from_id(ident: str) -> str:
    words = re.split(r"[-_.]+", ident)
    text = " ".join(w for w in words if w)
    return text[:1].upper() + text[1:]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class Persona(_Strict):
    name: Text
    description: Text | None = None


class Stage(_Strict):
    id: Id
    title: Text = ""
    description: Text | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # `- awareness` is shorthand for `- {id: awareness}`; `- Follow up`, which
        # is no id, for `- {id: follow-up, title: Follow up}`: newcomers write titles.
        if not isinstance(data, str):
            return data
        if re.match(ID, data) or not (ident := slug(data)):
            return {"id": data}
        return {"id": ident, "title": data.strip()}

    @model_validator(mode="after")
    def _default_title(self) -> Stage:
        if not self.title:
            object.__setattr__(self, "title", title_from_id(self.id))
        return self


class Importance(_Strict):
    customer: Score | None = None
    company: Score | None = None


@validated_dataclass(
    frozen=True, slots=True, config=ConfigDict(extra="forbid", hide_input_in_errors=True)
)
class Transition:
    """One way out of a touchpoint.

    A validated dataclass with slots, not a model like the rest: a generated or
    merged journey holds a million of them, and these are built in two thirds of
    the time and take less memory. Validation and errors are the same.
    """

    to: Id
    probability: Annotated[float, Field(ge=0, le=1, allow_inf_nan=False, strict=True)] | None = None
    volume: Count | None = None
    wait: Duration | None = None
    label: Text | None = None

    @property
    def wait_seconds(self) -> float | None:
        return None if self.wait is None else parse_duration(self.wait)


class Touchpoint(_Strict):
    id: Id
    title: Text = ""
    stage: Id
    channel: Text | None = None
    owner: Text | None = None
    description: Text | None = None
    when: Text | None = None
    why: Text | None = None
    interaction: Literal["direct", "indirect"] = "direct"
    layer: Literal["frontstage", "backstage"] = "frontstage"
    volume: Count | None = None
    frequency: Text | None = None
    duration: Duration | None = None
    importance: Importance | None = None
    quality: Score | None = None
    emotion: Annotated[float, Field(ge=-2, le=2, allow_inf_nan=False, strict=True)] | None = None
    pain_points: list[Text] = Field(default_factory=list)
    opportunities: list[Text] = Field(default_factory=list)
    # Who starts it: the customer (service, reactive) or the firm (success, proactive).
    initiative: Initiative = "customer"
    # Free words ("billing", "site visit"), matched by the checklist of overlooked touchpoints.
    tags: list[Word] = Field(default_factory=list)
    # What the customer must provide here ("work history", "ID documents").
    asks: list[Word] = Field(default_factory=list)
    # Touchpoints whose history this one knows: a handoff from them is not a cold one.
    knows: list[Id] = Field(default_factory=list)
    next: list[Transition] = Field(default_factory=list)

    @field_validator("next", mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        # `next: [apply]` is shorthand for `next: [{to: apply}]`. One call per
        # touchpoint, not per transition: big journeys have a million of those.
        if isinstance(data, list):
            return [{"to": t} if isinstance(t, str) else t for t in data]
        return data

    @model_validator(mode="after")
    def _default_title(self) -> Touchpoint:
        if not self.title:
            object.__setattr__(self, "title", title_from_id(self.id))
        return self

    @property
    def duration_seconds(self) -> float | None:
        return None if self.duration is None else parse_duration(self.duration)

    def shares(self) -> tuple[list[float], float]:
        """The probability of each transition out of here, and the drop-off.

        This is the one place that turns volumes and probabilities into shares
        (see the README, "What the analysis means"); every analysis and every map
        uses it, and :mod:`journeymap.paths` takes -log of what it returns, so it
        guarantees, for any touchpoint (even one built without the loader's
        checks): every share and the drop-off are finite and in [0, 1], and they
        add up to 1 (to rounding) unless there are no numbers to say so.

        The arithmetic, decided once:

        - Numbers that add up to 1 within :data:`TOLERANCE` (relative) add up to
          1: what is left is float noise (0.01 + 0.29 + 0.7 is 1 - 1.1e-16 in
          binary), not customers, so the drop-off and the unnumbered transitions
          get 0 and the numbers are scaled to add up to exactly 1. The loader
          refuses sums above 1 beyond the tolerance; here they are scaled down too.
        - Volumes are divided, never summed to a total that could overflow: the
          touchpoint's volume divides each, and without one they are scaled by
          the largest before they are added up (1e308 + 1e308 is fine).
        - A share below :data:`NEGLIGIBLE` is 0: no rate of customers is that
          small, and subnormal numbers lose their precision.
        """
        nxt = self.next
        if not nxt:
            return [], 0.0
        # Few passes over plain lists: this runs once per touchpoint of journeys
        # with a million transitions.
        volumes = [t.volume for t in nxt]
        known: list[float | None]
        if volumes.count(None) < len(volumes):
            base = self.volume
            if base is None:
                given = [v for v in volumes if v is not None]
                try:
                    base = math.fsum(given)
                except OverflowError:  # volumes near 1e308: add them up scaled
                    top = max(given)
                    volumes = [None if v is None else v / top for v in volumes]
                    base = math.fsum([v / top for v in given])
            known = [None if v is None else (v / base if base else 0.0) for v in volumes]
        else:
            known = [t.probability for t in nxt]
        unnumbered = known.count(None)
        numbered = cast(list[float], [p for p in known if p is not None] if unnumbered else known)
        try:
            total = math.fsum(numbered)
        except OverflowError:
            total = math.inf
        shares: list[float]
        drop = 0.0
        if total >= 1.0 - TOLERANCE:
            if total > 1.0 and not total < math.inf:
                # Only without the loader's checks (a volume far above its touchpoint's).
                known = [None if p is None else min(p, 1.0) for p in known]
                total = math.fsum([p for p in known if p is not None])
            if total == 1.0:
                shares = [0.0 if p is None else p for p in known]
            else:
                shares = [0.0 if p is None else p / total for p in known]
        elif unnumbered:
            rest = (1.0 - total) / unnumbered
            shares = [rest if p is None else p for p in known]
        else:
            shares = cast(list[float], known)
            drop = 1.0 - total
        if min(shares) < NEGLIGIBLE and any(0.0 < p < NEGLIGIBLE for p in shares):
            shares = [p if p >= NEGLIGIBLE else 0.0 for p in shares]
        return shares, drop


class Outcome(_Strict):
    id: Id
    title: Text = ""
    result: Literal["success", "lost"]
    description: Text | None = None

    @model_validator(mode="after")
    def _default_title(self) -> Outcome:
        if not self.title:
            object.__setattr__(self, "title", title_from_id(self.id))
        return self


class Entry(_Strict):
    """An entry with how many customers start there: ``{id: apply, volume: 916}``.

    Separate from the touchpoint's own volume, which counts everyone who passes
    through it (those who come back included): a journey discovered from an event
    log knows both, and the share starting at each entry must follow the starts.
    """

    id: Id
    volume: Count | None = None


class Journey(_Strict):
    journey: Annotated[str, Field(pattern=SLUG, max_length=100)]
    title: Text = ""
    description: Text | None = None
    # candidate | client | other: which built-in checklist of touchpoints applies.
    kind: Kind = "other"
    persona: Persona | None = None
    stages: Annotated[list[Stage], Field(min_length=1)]
    touchpoints: Annotated[list[Touchpoint], Field(min_length=1)]
    outcomes: list[Outcome] = Field(default_factory=list)
    # Touchpoint ids, or {id, volume} with how many customers start there.
    entries: list[Entry] | None = None

    # Where the journey was read from; set by the loader, never by the file.
    _source: str = PrivateAttr(default="<memory>")

    @field_validator("entries", mode="before")
    @classmethod
    def _entry_shorthand(cls, data: Any) -> Any:
        # `entries: [apply]` is shorthand for `entries: [{id: apply}]`.
        if isinstance(data, list):
            return [{"id": e} if isinstance(e, str) else e for e in data]
        return data

    @model_validator(mode="after")
    def _default_title(self) -> Journey:
        if not self.title:
            object.__setattr__(self, "title", title_from_id(self.journey) + " journey")
        return self

    @property
    def source(self) -> str:
        """The file this journey was loaded from, for messages and output names."""
        return self._source

    @cached_property
    def stage_index(self) -> dict[str, int]:
        return {s.id: i for i, s in enumerate(self.stages)}

    @cached_property
    def nodes(self) -> dict[str, Touchpoint | Outcome]:
        """Touchpoints then outcomes by id: the nodes of the journey graph."""
        found: dict[str, Touchpoint | Outcome] = {}
        every: list[Touchpoint | Outcome] = [*self.touchpoints, *self.outcomes]
        for node in every:
            found.setdefault(node.id, node)
        return found

    @cached_property
    def entry_ids(self) -> list[str]:
        """Declared entries, or the touchpoints nothing leads to."""
        if self.entries is not None:
            return list(dict.fromkeys(e.id for e in self.entries))
        targets = {t.to for tp in self.touchpoints for t in tp.next}
        return [tp.id for tp in self.touchpoints if tp.id not in targets]

    @cached_property
    def entry_volumes(self) -> dict[str, float]:
        """How many start at each entry, where ``entries`` says (the first of repeats)."""
        found: dict[str, float] = {}
        for e in self.entries or ():
            if e.volume is not None:
                found.setdefault(e.id, e.volume)
        return found

    @cached_property
    def _by_stage(self) -> dict[str, list[Touchpoint]]:
        found: dict[str, list[Touchpoint]] = {}
        for tp in self.touchpoints:
            found.setdefault(tp.stage, []).append(tp)
        return found

    def touchpoints_in(self, stage_id: str) -> list[Touchpoint]:
        """The stage's touchpoints in file order (a new list: callers may keep it)."""
        return list(self._by_stage.get(stage_id, ()))
