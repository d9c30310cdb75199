"""Incremental path equals the full evaluation; quality flags, zones and evidence."""

from __future__ import annotations

import dataclasses

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models import (
    MODEL_VERSION,
    ModelState,
    QualityFlag,
    evaluate,
    station_evidence,
    summarise,
    zone_evidence,
)
from tests.models.helpers_risk import RIO, build_inputs
from tests.models.test_risk_properties import random_rain


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([5, 15]))
def test_incremental_equals_full(seed: int, step: int) -> None:
    """Pushing steps one by one gives the same statistics and levels as evaluating it all."""
    rng = np.random.default_rng(seed)
    rain = random_rain(seed, n=16, steps=int(rng.integers(20, 500)))
    vwc = (0.2 + 0.01 * rng.integers(0, 20, rain.shape)).astype(np.float32)
    vwc[rng.random(rain.shape) < 0.05] = np.nan
    zones = np.arange(16) // 4
    split = int(rng.integers(1, rain.shape[1]))
    state = ModelState(
        build_inputs(rain[:, :split], vwc[:, :split], step_minutes=step, zone=zones), RIO
    )
    for t in range(split, rain.shape[1]):
        state.push(rain[:, t], vwc[:, t])
    full_inputs = build_inputs(rain, vwc, step_minutes=step, zone=zones)
    ours, theirs = state.summary(), summarise(full_inputs, RIO)
    for field in dataclasses.fields(ours):
        a, b = getattr(ours, field.name), getattr(theirs, field.name)
        if field.name == "api_mm":
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-3)
        else:
            np.testing.assert_array_equal(a, b, err_msg=field.name)
    expected = evaluate(full_inputs, RIO)
    np.testing.assert_array_equal(state.result().station_level, expected.station_level)
    np.testing.assert_array_equal(state.result().zone_level, expected.zone_level)


def _quiet(n: int = 4, steps: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return np.zeros((n, steps)), rng.uniform(0.2, 0.3, (n, steps))


def test_quality_flags_are_distinct() -> None:
    """Offline, stuck, out-of-range and clogged each set their own flag."""
    rain, vwc = _quiet(5)
    rain[0, -6:] = vwc[0, -6:] = np.nan  # offline
    vwc[1, -30:] = 0.25  # stuck soil sensor
    rain[2, -3] = 999.0  # out of range
    rain[[3, 4], -4:] = 3.0  # neighbours wet, station 0..2 zero: station 1 and 2 clogged?
    result = evaluate(build_inputs(rain, vwc, zone=np.zeros(5)), RIO)
    assert result.quality[0] & QualityFlag.OFFLINE
    assert result.quality[1] & QualityFlag.STUCK
    assert result.quality[2] & QualityFlag.OUT_OF_RANGE
    assert result.quality[1] & QualityFlag.CLOGGED
    assert not result.quality[3]
    assert result.station_unknown[0]


def test_one_gauge_cannot_call_a_crisis() -> None:
    """A single station at crisis holds the zone at alert; a second one corroborates it."""
    rain, vwc = _quiet(3)
    vwc[:] = 0.1  # dry soil: no slope signal to corroborate with
    rain[0, -4:] = 20.0  # 80 mm in 1 h
    result = evaluate(build_inputs(rain, vwc, zone=np.zeros(3)), RIO)
    assert result.station_level[0] == 3
    assert result.zone_level[0] == 2
    assert result.zone_uncorroborated[0]
    rain[1, -4:] = 20.0
    result = evaluate(build_inputs(rain, vwc, zone=np.zeros(3)), RIO)
    assert result.zone_level[0] == 3
    assert result.zone_corroborated[0]


def test_silent_gauge_is_estimated_from_neighbours() -> None:
    """A gauge that went silent takes IDW rain from its zone and is flagged estimated."""
    rain, vwc = _quiet(3)
    rain[:, -8:] = 5.0
    rain[2, -8:] = np.nan
    result = evaluate(build_inputs(rain, vwc, zone=np.zeros(3)), RIO)
    assert result.estimated[2]
    assert result.acc_1h_mm[2] == 20.0
    assert result.station_unknown[2]
    assert result.station_level[2] == 1


def test_degraded_zone_when_few_live_stations() -> None:
    """Too few live stations in a zone is reported as degraded monitoring and unknown."""
    rain, vwc = _quiet(3)
    rain[:2, -6:] = vwc[:2, -6:] = np.nan
    result = evaluate(build_inputs(rain, vwc, zone=np.zeros(3)), RIO)
    assert result.zone_degraded[0]
    assert result.zone_unknown[0]


def test_evidence_names_criterion_value_and_threshold() -> None:
    """Station and zone evidence carry criterion, value, threshold, unit and model version."""
    rain, vwc = _quiet(3)
    rain[:2, -4:] = 8.0  # 32 mm in 1 h: level 2 (alta) in the Rio table
    result = evaluate(build_inputs(rain, vwc, zone=np.zeros(3)), RIO)
    records = station_evidence(result, RIO, 0)
    assert records[0].level == result.station_level[0]
    top = next(e for e in records if e.criterion == "rain_1h")
    assert (top.criterion, top.value, top.threshold, top.unit, top.level) == (
        "rain_1h", 32.0, 30.0, "mm", 2,
    )  # fmt: skip
    zone = zone_evidence(result, RIO, 0)
    assert zone[0].level == result.zone_level[0] or result.zone_uncorroborated[0]
    assert {e.criterion for e in zone} >= {"corroboration", "live_stations"}
    assert all(e.model_version == MODEL_VERSION for e in zone)
