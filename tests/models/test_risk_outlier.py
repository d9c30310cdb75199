"""Spatial consistency: a wet outlier against dry zone neighbours does not raise a zone alert."""

from __future__ import annotations

import numpy as np

from models import Criterion, ModelState, QualityFlag, evaluate
from tests.models.helpers_risk import RIO, build_inputs

STEPS = 96 * 4


def test_one_wet_step_while_the_neighbours_are_dry_raises_no_alert() -> None:
    """A 40 mm bucket at one gauge, three dry neighbours reporting: no level, flagged."""
    rain = np.zeros((4, STEPS))
    rain[0, -2] = 40.0
    result = evaluate(build_inputs(rain, zone=[0, 0, 0, 0]), RIO)
    assert int(result.zone_level[0]) == 0
    assert result.criterion_level[0, Criterion.INTENSITY_DURATION] == 0
    assert int(result.quality[0]) & QualityFlag.OUT_OF_RANGE


def test_the_outlier_stays_out_after_the_hour_has_passed() -> None:
    """Six hours later the spike still does not make an ID event or a 24 h level."""
    rain = np.zeros((4, STEPS))
    rain[0, -25] = 40.0
    result = evaluate(build_inputs(rain, zone=[0, 0, 0, 0]), RIO)
    assert int(result.zone_level[0]) == 0


def test_heavy_rain_seen_by_the_neighbours_is_kept() -> None:
    """The same 40 mm step with neighbours reporting 5-8 mm is real rain: the zone is alerted."""
    rain = np.zeros((4, STEPS))
    rain[:, -2] = [40.0, 8.0, 5.0, 6.0]
    result = evaluate(build_inputs(rain, zone=[0, 0, 0, 0]), RIO)
    assert int(result.zone_level[0]) >= 2


def test_a_gauge_without_enough_reporting_neighbours_is_not_judged() -> None:
    """With one neighbour only (the clogged-gauge count is 2), a wet step is believed."""
    rain = np.zeros((2, STEPS))
    rain[0, -2] = 40.0
    result = evaluate(build_inputs(rain, zone=[0, 0]), RIO)
    assert result.criterion_level[0, Criterion.RAIN_1H] >= 2


def test_the_incremental_path_screens_the_same_outlier() -> None:
    """Pushed one step at a time, the outlier is screened as in the full evaluation."""
    rain = np.zeros((4, STEPS))
    rain[0, -2] = 40.0
    vwc = np.full(rain.shape, np.nan)
    state = ModelState(build_inputs(rain[:, :-3], vwc[:, :-3], zone=[0, 0, 0, 0]), RIO)
    for t in range(STEPS - 3, STEPS):
        state.push(rain[:, t], vwc[:, t])
    full = evaluate(build_inputs(rain, vwc, zone=[0, 0, 0, 0]), RIO)
    np.testing.assert_array_equal(state.result().zone_level, full.zone_level)
    np.testing.assert_array_equal(state.result().quality, full.quality)
