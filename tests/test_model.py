"""The model: Touchpoint.shares(), the one place volumes and probabilities become shares,
and the fields that need no whole journey to check."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from journeymap.model import (
    Journey,
    Touchpoint,
    Transition,
    format_duration,
    parse_duration,
    title_from_id,
)


def tp(volume: float | None = None, *transitions: dict[str, object]) -> Touchpoint:
    return Touchpoint.model_validate(
        {"id": "t", "stage": "s", "volume": volume, "next": list(transitions)}
    )


def test_touchpoint_volume_divides_transition_volumes() -> None:
    shares, drop = tp(1000, {"to": "a", "volume": 300}, {"to": "b", "volume": 200}).shares()
    assert shares == [0.3, 0.2]
    assert drop == pytest.approx(0.5)


def test_transition_volumes_alone_split_by_their_sum() -> None:
    shares, drop = tp(None, {"to": "a", "volume": 300}, {"to": "b", "volume": 100}).shares()
    assert shares == [0.75, 0.25]
    assert drop == 0.0


def test_probabilities_are_taken_as_given_and_the_rest_is_drop_off() -> None:
    shares, drop = tp(
        None, {"to": "a", "probability": 0.3}, {"to": "b", "probability": 0.5}
    ).shares()
    assert shares == [0.3, 0.5]
    assert drop == pytest.approx(0.2)


def test_unnumbered_transitions_share_what_is_left_equally() -> None:
    shares, drop = tp(None, {"to": "a", "probability": 0.4}, "b", "c").shares()
    assert shares == [0.4, pytest.approx(0.3), pytest.approx(0.3)]
    assert drop == 0.0


def test_no_numbers_split_equally_without_drop_off() -> None:
    shares, drop = tp(None, "a", "b", "c").shares()
    assert shares == [pytest.approx(1 / 3)] * 3
    assert drop == 0.0


def test_a_dead_end_has_no_transitions_and_no_drop_off() -> None:
    assert tp(500).shares() == ([], 0.0)


def test_zero_volume_touchpoint_gives_zero_shares() -> None:
    shares, drop = tp(0, {"to": "a", "volume": 0}).shares()
    assert shares == [0.0]
    assert drop == 1.0


@given(st.lists(st.floats(0, 1), min_size=1, max_size=6), st.integers(0, 4))
def test_shares_and_drop_off_never_exceed_one(ps: list[float], free: int) -> None:
    scale = max(1.0, math.fsum(ps))
    transitions: list[dict[str, object] | str] = [
        {"to": f"n{i}", "probability": p / scale} for i, p in enumerate(ps)
    ]
    transitions += [f"f{i}" for i in range(free)]
    shares, drop = tp(None, *transitions).shares()  # type: ignore[arg-type]
    assert all(0 <= s <= 1 for s in shares)
    assert math.fsum(shares) + drop == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("2h", 7200), ("1.5d", 129600), ("2w", 1209600)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert Transition(to="x", wait=text).wait_seconds == seconds


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("3d 4h 12m 5s", 274325), ("1h30m", 5400), (" 2d 0.5h ", 174600), ("0.25s", 0.25)],
)
def test_durations_of_several_parts(text: str, seconds: float) -> None:
    # What a wait measured in an event log looks like.
    assert parse_duration(text) == seconds
    assert Transition(to="x", wait=text).wait_seconds == seconds


@pytest.mark.parametrize("text", ["3d4", "d", "3 days", "1h -5m", "1h,5m", ""])
def test_what_is_not_a_duration(text: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)
    with pytest.raises(ValidationError):
        Transition(to="x", wait=text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0s"),
        (0.25, "0.25s"),
        (1, "1s"),
        (59.5, "1m"),
        (5400, "1h 30m"),
        (86400, "1d"),
        (274325.4, "3d 4h 12m 5s"),
        (14 * 86400, "14d"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False))
def test_formatted_durations_read_back_to_the_second(seconds: float) -> None:
    back = parse_duration(format_duration(seconds))
    assert abs(back - seconds) <= (0.0005 if seconds < 1 else 0.5)


def test_titles_default_from_ids() -> None:
    assert title_from_id("job-posting") == "Job posting"
    assert tp().title == "T"


def test_numbers_that_add_up_to_one_in_decimal_leave_nothing() -> None:
    # 0.01 + 0.29 + 0.7 is 1 - 1.1e-16 in binary: that rest is noise, not a share
    # for the unnumbered transition (it made a loop singular) nor a drop-off.
    shares, drop = tp(
        None,
        {"to": "a", "probability": 0.01},
        {"to": "b", "probability": 0.29},
        {"to": "c", "probability": 0.7},
        "d",
    ).shares()
    assert shares[3] == 0.0
    assert drop == 0.0
    shares, drop = tp(
        22, {"to": "a", "volume": 1}, {"to": "b", "volume": 6}, {"to": "c", "volume": 15}, "d"
    ).shares()
    assert shares[3] == 0.0
    assert drop == 0.0


def test_a_sum_just_above_one_is_scaled_to_one() -> None:
    shares, drop = tp(
        None, {"to": "a", "probability": 0.99999999999999}, {"to": "b", "probability": 9e-10}
    ).shares()
    assert math.fsum(shares) <= 1.0 + 2**-52
    assert drop == 0.0


def test_volumes_near_the_largest_float_are_shared_without_overflow() -> None:
    shares, drop = tp(None, {"to": "a", "volume": 1e308}, {"to": "b", "volume": 1e308}).shares()
    assert shares == [0.5, 0.5]
    assert drop == 0.0


def test_shares_stay_probabilities_without_the_loaders_checks() -> None:
    # Built directly, a volume may exceed its touchpoint's: paths.py takes -log p.
    shares, drop = tp(1e-10, {"to": "a", "volume": 1e-9}).shares()
    assert shares == [1.0]
    assert drop == 0.0


def test_subnormal_shares_are_zero() -> None:
    shares, drop = tp(
        None, {"to": "a", "probability": 1.0}, {"to": "b", "probability": 5e-324}
    ).shares()
    assert shares == [1.0, 0.0]
    assert drop == 0.0


# --- service and success, tags, asks, knows (issue #14) ------------------------------------


def test_new_fields_default_to_saying_nothing() -> None:
    t = Touchpoint.model_validate({"id": "t", "stage": "s"})
    assert (t.initiative, t.tags, t.asks, t.knows) == ("customer", [], [], [])
    j = Journey.model_validate(
        {"journey": "j", "stages": ["s"], "touchpoints": [{"id": "t", "stage": "s"}]}
    )
    assert j.kind == "other"


def test_new_fields_keep_what_is_written() -> None:
    t = Touchpoint.model_validate(
        {
            "id": "t",
            "stage": "s",
            "initiative": "firm",
            "tags": ["billing", "site visit"],
            "asks": ["work history"],
            "knows": ["a", "b.c"],
        }
    )
    assert t.initiative == "firm"
    assert t.tags == ["billing", "site visit"]
    assert t.asks == ["work history"]
    assert t.knows == ["a", "b.c"]


@pytest.mark.parametrize(
    ("data", "wanted"),
    [
        ({"initiative": "frim"}, "'customer' or 'firm' (did you mean 'firm'?)"),
        ({"initiative": "Customer"}, "(did you mean 'customer'?)"),
        ({"initiative": 1}, "Input should be 'customer' or 'firm'"),
        ({"tags": "billing"}, "Input should be a valid list"),
        ({"asks": [3]}, "Input should be a valid string"),
        ({"knows": ["no id"]}, "String should match pattern"),
    ],
)
def test_bad_new_fields_are_refused(data: dict[str, object], wanted: str) -> None:
    with pytest.raises(ValidationError) as info:
        Touchpoint.model_validate({"id": "t", "stage": "s", **data})
    assert wanted in str(info.value)


def test_an_empty_tag_or_ask_is_refused_where_it_is() -> None:
    from journeymap.errors import JourneyError
    from journeymap.loader import loads

    text = 'journey: e\nstages: [s]\ntouchpoints:\n  - id: a\n    stage: s\n    asks: ["work history", ""]\n'
    try:
        loads(text, "e.yaml")
    except JourneyError as exc:
        assert "e.yaml:6:28: asks item 2: empty; write a word, or leave the item out" in str(exc)
    else:
        raise AssertionError("an empty ask was accepted")
