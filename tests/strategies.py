"""Hypothesis strategies for journey files, for property tests and fuzzing.

    from tests.strategies import journey_dicts, dumps

    @given(journey_dicts())
    def test_something(d: dict[str, Any]) -> None:
        journey = loads(dumps(d, "json"), "x.json")

:func:`journey_dicts` draws plain dicts in the shape of a journey file: stages,
touchpoints with random transitions (self-loops, cycles, dead ends, targets
that are outcomes), numbers as probabilities or volumes (with or without the
touchpoint's volume, some transitions unnumbered), outcomes of both kinds and
entries with and without volumes. The numbers lean towards the awkward ones:
0, 1, the extremes of floats (5e-324, 1e-300, 1e308), sums that are 1 only in
decimal (0.01 + 0.29 + 0.7), loops that customers almost never leave. Most
drawn journeys are valid; some are not on purpose (volumes above their
touchpoint's, probabilities above 1 in sum), so callers must accept that the
loader refuses a journey with :class:`journeymap.errors.JourneyError`.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from hypothesis import strategies as st

__all__ = [
    "AWKWARD_PROBABILITIES",
    "AWKWARD_VOLUMES",
    "SPECIAL_PROBABILITIES",
    "SPECIAL_VOLUMES",
    "dumps",
    "journey_dicts",
]

# Probabilities that broke, or nearly broke, the arithmetic once.
AWKWARD_PROBABILITIES = [
    0.0,
    1.0,
    5e-324,
    1e-300,
    1e-9,
    9e-10,
    0.01,
    0.29,
    0.7,
    0.1,
    0.2,
    0.3,
    0.5,
    0.999999999,
    0.99999999999999,
    1 - 2**-53,
]
AWKWARD_VOLUMES = [0.0, 1.0, 6.0, 15.0, 5e-324, 1e-300, 1e-10, 1e-9, 1e308, 1.7e308, 1e300]

# Numbers of one touchpoint that each broke the arithmetic once: sums that are 1
# only in decimal (0.01 + 0.29 + 0.7 is 1 - 1.1e-16 in binary), loops left
# through a tiny exit when the first goes back into the loop, sums just above 1.
SPECIAL_PROBABILITIES = [
    (0.01, 0.29, 0.7),
    (0.1, 0.2, 0.7),
    (0.3, 0.3, 0.4),
    (0.99999999999999, 9e-10),
    (0.999999999, 1e-9),
    (1.0, 1e-300),
    (1.0, 5e-324),
    (0.9999999999, 1e-300),
    (0.5, 0.5 + 1e-10),
]
SPECIAL_VOLUMES = [
    (1.0, 6.0, 15.0),
    (1e308, 1e308),
    (1.7e308, 1e308, 1.7e308),
    (1e-9,),
    (1e308, 5e-324),
    (5e-324, 5e-324),
]
_probability = st.one_of(st.sampled_from(AWKWARD_PROBABILITIES), st.floats(0, 1))
_volume = st.one_of(
    st.sampled_from(AWKWARD_VOLUMES),
    st.integers(0, 1000).map(float),
    st.floats(0, 1e308, allow_nan=False, allow_infinity=False),
)
# Built once: hypothesis validates every new strategy object on first draw.
_maybe_probability = st.none() | _probability
_maybe_volume = st.none() | _volume
_kinds = st.sampled_from(["none", "probability", "volume", "volume"])
_special_probabilities = st.sampled_from(SPECIAL_PROBABILITIES)
_special_volumes = st.sampled_from(SPECIAL_VOLUMES)
_room = st.sampled_from([1.0, 1.0, 1 - 1e-10, 1 + 1e-10, 1.5, 4.0])


@st.composite
def _numbers(draw: st.DrawFn, count: int) -> tuple[str, list[float | None], float | None]:
    """How the transitions of one touchpoint are numbered.

    Returns the kind (``none``, ``probability``, ``volume``), one number or
    None (unnumbered) per transition, and the touchpoint's volume.
    """
    kind = draw(_kinds)
    if kind == "none" or count == 0:
        return "none", [None] * count, draw(_maybe_volume)
    values: list[float | None]
    if draw(st.integers(0, 2)) == 0:
        special = draw(_special_probabilities if kind == "probability" else _special_volumes)
        values = [*special[:count], *[None] * (count - len(special))]
    else:
        number = _probability if kind == "probability" else _volume
        maybe = _maybe_probability if kind == "probability" else _maybe_volume
        values = [draw(maybe) for _ in range(count)]
        if all(v is None for v in values):
            values[0] = draw(number)
    if kind == "probability":
        given = [v for v in values if v is not None]
        total = sum(given)
        if total > 1 + 1e-9 and draw(st.integers(0, 9)):  # mostly valid, sometimes not
            values = [None if v is None else v / total for v in values]
        return kind, values, draw(_maybe_volume)
    given = [v for v in values if v is not None]
    choice = draw(st.integers(0, 5))
    if choice == 0:
        volume = None
    elif choice == 1:
        volume = draw(_volume)  # perhaps less than the transitions': refused
    else:
        # At least the transitions' sum, perhaps with room for drop-off.
        top = max(given)
        volume = top * sum(v / top for v in given) if top else 0.0
        volume = min(volume * draw(_room), 1.7e308)
        if draw(st.integers(0, 9)) == 0:
            volume = max(0.0, volume - 5e-10)  # an absolute slack let this through once
    return kind, values, volume


@st.composite
def journey_dicts(
    draw: st.DrawFn, *, max_touchpoints: int = 7, max_outcomes: int = 3
) -> dict[str, Any]:
    """A journey file as a dict (see the module docstring)."""
    n = draw(st.integers(1, max_touchpoints))
    stages = [f"s{k}" for k in range(draw(st.integers(1, 3)))]
    tps = [f"t{i}" for i in range(n)]
    results = draw(
        st.lists(st.sampled_from(["success", "lost"]), min_size=0, max_size=max_outcomes)
    )
    outcomes = [{"id": f"o{k}", "result": r} for k, r in enumerate(results)]
    targets = tps + [o["id"] for o in outcomes]
    touchpoints: list[dict[str, Any]] = []
    for ident in tps:
        tos = draw(st.lists(st.sampled_from(targets), unique=True, max_size=4))
        if ident not in tos and draw(st.integers(0, 3)) == 0:
            tos = [ident, *tos]  # a self-loop, getting the first (often largest) number
        kind, values, volume = draw(_numbers(len(tos)))
        nxt: list[Any] = []
        for to, value in zip(tos, values, strict=True):
            if value is None:
                nxt.append(to if draw(st.booleans()) else {"to": to})
            else:
                nxt.append({"to": to, kind: value})
        tp: dict[str, Any] = {"id": ident, "stage": draw(st.sampled_from(stages))}
        if volume is not None:
            tp["volume"] = volume
        if nxt:
            tp["next"] = nxt
        touchpoints.append(tp)
    journey: dict[str, Any] = {
        "journey": "fuzz",
        "stages": stages,
        "touchpoints": touchpoints,
        "outcomes": outcomes,
    }
    # Declared entries most of the time: with loops, often nothing is without
    # an incoming transition and the loader asks for them.
    if draw(st.integers(0, 9)):
        journey["entries"] = draw(st.lists(st.sampled_from(tps), min_size=1, max_size=3))
    return journey


def dumps(journey: dict[str, Any], kind: Literal["json", "yaml"] = "json") -> str:
    """The journey as the text of a file, for :func:`journeymap.loader.loads`.

    JSON keeps every float exactly (Python writes the shortest repr that reads
    back the same); YAML too, through PyYAML, which writes floats in the YAML
    1.1 form (``1.0e-300``) that it reads back as floats.
    """
    if kind == "json":
        return json.dumps(journey, allow_nan=False)
    import yaml

    return str(yaml.safe_dump(journey, sort_keys=False))
