"""What must hold for every journey the loader accepts, whatever its numbers."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings

from journeymap.analysis import analyze
from journeymap.errors import JourneyError
from journeymap.graph import flow
from journeymap.loader import loads
from journeymap.model import Journey

from .strategies import dumps, journey_dicts

# Deterministic and quick: the same 200 journeys on every run, no deadline
# (the first analysis imports scipy).
FUZZ = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)


def _load(d: dict[str, Any]) -> Journey | None:
    try:
        return loads(dumps(d, "json"), "x.json")
    except JourneyError:
        return None  # refused with a message: fine


@FUZZ
@given(journey_dicts())
def test_shares_and_analysis_are_probabilities_that_add_up(d: dict[str, Any]) -> None:
    journey = _load(d)
    if journey is None:
        return
    # Shares: what paths.py takes -log of.
    for tp in journey.touchpoints:
        shares, drop = tp.shares()
        assert all(math.isfinite(p) and 0.0 <= p <= 1.0 for p in shares), (tp.id, shares)
        assert math.isfinite(drop) and 0.0 <= drop <= 1.0, (tp.id, drop)
        if shares:
            assert math.fsum(shares) + drop <= 1.0 + 1e-12, (tp.id, shares, drop)
    f = flow(journey)
    assert np.all((f.prob >= 0) & (f.prob <= 1))
    assert np.all((f.drop >= 0) & (f.drop <= 1))
    # The analysis: finite, probabilities, and everyone ends somewhere.
    a = analyze(journey)
    json.dumps(a.to_dict(), allow_nan=False)  # no NaN or infinity anywhere
    for entry, p in a.success_probability.items():
        assert 0.0 <= p <= 1.0, (entry, p)
    assert 0.0 <= a.success_share <= 1.0
    for leak in a.leaks:
        assert 0.0 < leak.share <= 1.0, leak
    for share in a.drop_off.values():
        assert 0.0 < share <= 1.0
    total = a.success_share + math.fsum(leak.share for leak in a.leaks)
    assert abs(total - 1.0) <= 1e-9, (a.success_share, a.leaks)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(journey_dicts())
def test_yaml_and_json_give_the_same_journey(d: dict[str, Any]) -> None:
    # The helper's two forms must be interchangeable for fuzzing the loader.
    try:
        from_json = loads(dumps(d, "json"), "x.json")
    except JourneyError:
        return
    from_yaml = loads(dumps(d, "yaml"), "x.yaml")
    assert from_yaml.model_dump() == from_json.model_dump()
