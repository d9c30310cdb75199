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


def _id_event(neighbour_at_gap_mm: float) -> tuple[bool, bool, int]:
    """Two gauges of one zone, 2 h of 4 mm per 15 min at gauge 0 with one bucket lost."""
    rain = np.zeros((2, STEPS))
    rain[0, -8:] = 4.0
    rain[0, -4] = np.nan
    rain[1, -4] = neighbour_at_gap_mm
    result = evaluate(build_inputs(rain, zone=[0, 0]), RIO)
    return (
        bool(result.criterion_unknown[0, Criterion.INTENSITY_DURATION]),
        bool(result.zone_unknown_material[0]),
        int(result.criterion_level[0, Criterion.INTENSITY_DURATION]),
    )


def test_a_gap_in_a_rain_event_the_neighbour_saw_dry_does_not_hold_the_id_level() -> None:
    """28 mm in 2 h (ID ratio 1.24, alert), a lost bucket the neighbour read 0 at: immaterial.

    The event's total is bounded by the neighbour, the ratio cannot reach 1.5 (crisis).
    """
    unknown, material, level = _id_event(0.0)
    assert level == 2
    assert unknown  # the event has a gap: the ratio is a lower bound
    assert not material


def test_a_gap_in_a_rain_event_that_could_lift_the_id_level_is_material() -> None:
    """The same event while the neighbour read 20 mm in the lost bucket: material.

    (28 + 20) mm in 2 h is ratio 2.1: a crisis the gap may hide.
    """
    unknown, material, level = _id_event(20.0)
    assert level == 2
    assert unknown
    assert material


def test_a_dry_gauge_is_not_suspect_for_neighbour_gaps_the_zone_saw_dry() -> None:
    """Three dry gauges, two with a lost bucket the others read 0 at: no "could be clogged".

    The gapped neighbours' hours are bounded at 0 mm, they cannot be the wet neighbours of a
    clogged gauge, so the dry gauge is not suspect and the zone is not material unknown.
    """
    rain = np.zeros((3, STEPS))
    rain[1, -2] = np.nan
    rain[2, -3] = np.nan
    result = evaluate(build_inputs(rain, zone=[0, 0, 0]), RIO)
    assert bool(result.zone_unknown[0])  # the gaps keep the sums lower bounds
    assert not bool(result.zone_unknown_material[0])


def test_a_dry_gauge_stays_suspect_when_gapped_neighbours_could_have_been_wet() -> None:
    """The same gaps while a fourth gauge read 6 mm at each of those steps: material.

    The gapped gauges may have had >= 5 mm in the hour, so the zone's verdicts may hide rain.
    """
    rain = np.zeros((4, STEPS))
    rain[1, -2] = np.nan
    rain[2, -3] = np.nan
    rain[3, -3:-1] = 6.0
    result = evaluate(build_inputs(rain, zone=[0, 0, 0, 0]), RIO)
    assert bool(result.zone_unknown_material[0])
