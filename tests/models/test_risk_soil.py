"""Soil-moisture plausibility: a probe above its station's saturation is a fault, not m = 1."""

from __future__ import annotations

import numpy as np

from models import Criterion, QualityFlag, evaluate
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
