"""Soil-moisture plausibility: a probe above its station's saturation is a fault, not m = 1."""

from __future__ import annotations

import numpy as np

from models import Criterion, ModelState, QualityFlag, evaluate
from tests.models.helpers_risk import RIO, build_inputs

STEPS = 96 * 4
WOBBLE = 0.002 * (np.arange(STEPS) % 2)  # a live probe's noise, above the stuck tolerance


def test_probes_above_saturation_make_no_crisis_on_a_dry_day() -> None:
    """Three probes at 0.60 where theta_s is 0.45, no rain: no level, flagged, slope unknown."""
    rain = np.zeros((3, STEPS))
    vwc = np.full((3, STEPS), 0.60) + WOBBLE
    result = evaluate(build_inputs(rain, vwc, zone=[0, 0, 0]), RIO)
    assert int(result.zone_level[0]) == 0
    assert (result.criterion_level[:, Criterion.SLOPE] == 0).all()
    assert result.criterion_unknown[:, Criterion.SLOPE].all()
    assert all(int(q) & QualityFlag.OUT_OF_RANGE for q in result.quality)


def test_a_probe_near_saturation_within_the_tolerance_is_believed() -> None:
    """0.47 against theta_s 0.45 is within probe accuracy: the saturated slope is at crisis."""
    rain = np.zeros((1, STEPS))
    vwc = np.full((1, STEPS), 0.47) + WOBBLE
    result = evaluate(build_inputs(rain, vwc), RIO)
    assert result.criterion_level[0, Criterion.SLOPE] == 3
    assert not result.criterion_unknown[0, Criterion.SLOPE]


def _jump(rain_mm: float) -> tuple[int, bool, int]:
    """A probe at 0.25 jumps to 0.44 six steps before the end; zone level, slope unknown, flags."""
    n = 3
    rain = np.full((n, STEPS), rain_mm)
    vwc = np.full((n, STEPS), 0.25) + WOBBLE
    vwc[0, -6:] = 0.44 + WOBBLE[-6:]
    result = evaluate(build_inputs(rain, vwc, zone=[0, 0, 0]), RIO)
    return (
        int(result.zone_level[0]),
        bool(result.criterion_unknown[0, Criterion.SLOPE]),
        int(result.quality[0]),
    )


def test_a_soil_moisture_jump_without_rain_is_a_fault() -> None:
    """+0.19 in one step after a dry day: no water arrived, so the probe is out of range."""
    level, unknown, flags = _jump(0.0)
    assert level == 0
    assert unknown
    assert flags & QualityFlag.OUT_OF_RANGE


def test_a_soil_moisture_jump_with_rain_is_believed() -> None:
    """The same jump during rain is water arriving: the probe is trusted."""
    _level, unknown, flags = _jump(0.2)
    assert not unknown
    assert not flags & QualityFlag.OUT_OF_RANGE


def test_the_incremental_path_screens_the_same_jump() -> None:
    """ModelState flags the dry-day jump as the full evaluation does."""
    n = 3
    rain = np.zeros((n, STEPS))
    vwc = np.full((n, STEPS), 0.25) + WOBBLE
    vwc[0, -6:] = 0.44 + WOBBLE[-6:]
    inputs = build_inputs(rain[:, :-8], vwc[:, :-8], zone=[0, 0, 0])
    state = ModelState(inputs, RIO)
    for k in range(STEPS - 8, STEPS):
        state.push(rain[:, k], vwc[:, k])
    full = evaluate(build_inputs(rain, vwc, zone=[0, 0, 0]), RIO)
    incremental = state.result()
    assert int(incremental.quality[0]) == int(full.quality[0])
    assert int(incremental.quality[0]) & QualityFlag.OUT_OF_RANGE
