"""Graded completeness: a gap holds a de-escalation only if its rain could change the level."""

from __future__ import annotations

import numpy as np

from models import Criterion, Hysteresis, evaluate
from tests.models.helpers_risk import RIO, build_inputs

STEPS = 96 * 4  # 96 h of 15-minute steps


def test_an_old_gap_in_dry_weather_is_not_material() -> None:
    """One lost bucket 71 h ago while the zone neighbour read 0 cannot hold the zone unknown."""
    rain = np.zeros((2, STEPS))
    rain[0, 100] = np.nan
    result = evaluate(build_inputs(rain, zone=[0, 0]), RIO)
    assert result.criterion_unknown[0, Criterion.RAIN_96H]  # still a strict lower bound
    assert bool(result.zone_unknown[0])
    assert not bool(result.zone_unknown_material[0])


def test_one_lost_bucket_no_longer_latches_an_alert() -> None:
    """After a storm, a crisis held on a zone with one old gap steps down after the hold."""
    rain = np.zeros((2, STEPS))
    rain[0, 100] = np.nan
    result = evaluate(build_inputs(rain, zone=[0, 0]), RIO)
    held = Hysteresis(3600.0, level=3)
    for k in range(6):
        held = held.update(
            int(result.zone_level[0]),
            k * 900.0,
            unknown=bool(result.zone_unknown_material[0]),
        )
    assert held.level == 0


def test_a_gap_that_a_wet_neighbour_says_could_cross_a_threshold_is_material() -> None:
    """80 mm observed plus a gap when the neighbour had 30 mm could reach 100 mm: material."""
    rain = np.zeros((2, STEPS))
    rain[0, 200:208] = 10.0  # 80 mm, two days ago
    rain[0, 100] = np.nan
    rain[1, 100] = 30.0
    result = evaluate(build_inputs(rain, zone=[0, 0]), RIO)
    assert result.criterion_level[0, Criterion.RAIN_96H] == 0
    assert bool(result.zone_unknown_material[0])


def test_a_recent_gap_no_neighbour_saw_uses_the_record_rate_bound() -> None:
    """The newest bucket lost at both gauges, 20 mm in the hour: it could hide 31 mm, material."""
    rain = np.zeros((2, STEPS))
    rain[0, -4:-1] = 20.0 / 3
    rain[:, -1] = np.nan
    result = evaluate(build_inputs(rain, zone=[0, 0]), RIO)
    assert not bool(result.zone_degraded[0])
    assert bool(result.zone_unknown_material[0])


def test_a_gap_far_below_every_threshold_is_not_material_even_unseen() -> None:
    """Both gauges dry and lose the same bucket 3 days ago: the record rate cannot reach 100 mm."""
    rain = np.zeros((2, STEPS))
    rain[:, 50] = np.nan
    result = evaluate(build_inputs(rain, zone=[0, 0]), RIO)
    assert bool(result.zone_unknown[0])
    assert not bool(result.zone_unknown_material[0])


def test_a_degraded_zone_stays_materially_unknown() -> None:
    """A zone with no live station is unknown that matters, gaps or not."""
    rain = np.full((2, STEPS), np.nan)
    result = evaluate(build_inputs(rain, zone=[0, 0]), RIO)
    assert bool(result.zone_degraded[0])
    assert bool(result.zone_unknown_material[0])


def test_zone_peaks_agree_for_padded_and_lopsided_zones() -> None:
    """One big zone among single-station ones (the reduceat path) gives the plain nanmax."""
    from models.completeness import _zone_peaks  # noqa: PLC0415  private, tested directly

    rng = np.random.default_rng(3)
    zone = np.r_[np.zeros(21, dtype=np.int64), np.arange(1, 10)]
    clean = np.where(rng.random((30, 12)) < 0.3, np.nan, rng.random((30, 12))).astype(np.float32)
    with np.errstate(all="ignore"):
        peaks = _zone_peaks(clean, zone, 11)
        expected = np.stack(
            [np.fmax.reduce(clean[zone == z], axis=0) if (zone == z).any() else clean[0] * np.nan
             for z in range(11)]
        )  # fmt: skip
    np.testing.assert_array_equal(peaks, expected)
    small = _zone_peaks(clean[:24], np.r_[np.zeros(21, dtype=np.int64), [1, 1, 2]], 3)
    with np.errstate(all="ignore"):
        np.testing.assert_array_equal(small[0], np.fmax.reduce(clean[:21], axis=0))
