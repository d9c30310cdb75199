"""Steady real rain is not a stuck gauge; a repeating gauge among dry neighbours still is."""

from __future__ import annotations

import numpy as np

from models import QualityFlag, evaluate
from tests.models.helpers_risk import RIO, build_inputs

STEPS = 96 * 4


def test_one_tip_per_interval_at_every_gauge_is_rain_not_a_fault() -> None:
    """0.2 mm every 15 minutes for 8 h at all three gauges: no STUCK flag, rain counted."""
    rain = np.zeros((3, STEPS))
    rain[:, -32:] = 0.2
    result = evaluate(build_inputs(rain, zone=[0, 0, 0]), RIO)
    assert not any(int(q) & QualityFlag.STUCK for q in result.quality)
    assert np.allclose(result.acc_24h_mm, 6.4)
    assert not bool(result.zone_unknown_material[0])


def test_a_gauge_repeating_a_value_while_its_neighbours_are_dry_is_stuck() -> None:
    """2.4 mm every 15 minutes for 8 h at one gauge, its neighbours at 0: STUCK."""
    rain = np.zeros((3, STEPS))
    rain[0, -32:] = 2.4
    result = evaluate(build_inputs(rain, zone=[0, 0, 0]), RIO)
    assert int(result.quality[0]) & QualityFlag.STUCK
