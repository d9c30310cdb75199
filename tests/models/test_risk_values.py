"""Hand-checked values: Caine curve, factor of safety, accumulations across a gap."""

from __future__ import annotations

import math

import numpy as np
import pytest

from models import factor_of_safety, id_threshold_mm_h, rolling_sum_mm, vertical_depth_m
from models.evaluate import evaluate
from models.result import Criterion
from tests.models.helpers_risk import RIO, build_inputs


@pytest.mark.parametrize(
    ("duration_h", "expected_mm_h"),
    [(1.0, 14.82), (10.0, 6.0374), (24.0, 4.2911), (0.5, 19.42), (96.0, 2.499)],
)
def test_caine_curve_at_several_durations(duration_h: float, expected_mm_h: float) -> None:
    """Caine (1980) I = 14.82 D^-0.39 matches values worked out by hand."""
    value = id_threshold_mm_h(np.array([duration_h]), 14.82, 0.39)[0]
    assert value == pytest.approx(expected_mm_h, rel=1e-4)


def _fs_by_hand(m: float, suction_kpa: float = 0.0) -> float:
    """Infinite slope written out for beta 30 deg, z 2 m, c' 5 kPa, phi' 33 deg, gamma 18."""
    beta, phi = math.radians(30.0), math.radians(33.0)
    gamma, gamma_w, z, c = 18.0, 9.81, 2.0, 5.0
    normal_stress = (gamma - m * gamma_w) * z * math.cos(beta) ** 2
    shear_stress = gamma * z * math.sin(beta) * math.cos(beta)
    apparent_cohesion = suction_kpa * (1.0 - m)
    return (c + apparent_cohesion + normal_stress * math.tan(phi)) / shear_stress


@pytest.mark.parametrize(("m", "expected"), [(0.0, 1.4456), (1.0, 0.8325)])
def test_factor_of_safety_dry_and_saturated(m: float, expected: float) -> None:
    """FS for a dry (m=0) and saturated (m=1) slope equals the hand calculation."""
    one = np.array([1.0])
    fs = factor_of_safety(np.array([m]), 30 * one, 2 * one, 5 * one, 33 * one, 18 * one, 9.81)
    assert fs[0] == pytest.approx(_fs_by_hand(m), rel=1e-12)
    assert fs[0] == pytest.approx(expected, abs=1e-4)


@pytest.mark.parametrize(
    ("m", "expected"),
    # By hand: shear stress 18*2*sin30*cos30 = 15.5885 kPa; normal stress (18 - 9.81 m)*2*0.75;
    # m=0: (5 + 8 + 27 tan33) / 15.5885; m=0.5: (5 + 4 + 19.643 tan33) / 15.5885; m=1: no suction.
    [(0.0, 1.9588), (0.5, 1.3956), (1.0, 0.8325)],
)
def test_factor_of_safety_with_suction_cohesion(m: float, expected: float) -> None:
    """Suction adds c_s (1 - m) to the cohesion: full when dry, none when saturated."""
    one = np.array([1.0])
    fs = factor_of_safety(
        np.array([m]),
        30 * one,
        2 * one,
        5 * one,
        33 * one,
        18 * one,
        9.81,
        suction_cohesion_kpa=8.0,
    )
    assert fs[0] == pytest.approx(_fs_by_hand(m, 8.0), rel=1e-12)
    assert fs[0] == pytest.approx(expected, abs=1e-4)


def test_suction_term_defaults_to_zero() -> None:
    """Without the keyword the FS is the suction-free (saturated-strength) expression."""
    one = np.array([1.0])
    args = (np.array([0.3]), 30 * one, 2 * one, 5 * one, 33 * one, 18 * one, 9.81)
    explicit = factor_of_safety(*args, suction_cohesion_kpa=0.0)
    assert factor_of_safety(*args)[0] == explicit[0] == pytest.approx(_fs_by_hand(0.3))


def test_evaluation_uses_the_configured_suction_cohesion() -> None:
    """The evaluated FS of a station carries the config's suction term at its wetness."""
    rain = np.zeros((1, 384), dtype=np.float32)
    # A live probe (it moves, so it is not flat-lined) whose last reading is 0.25:
    # m = (0.25 - 0.05) / (0.45 - 0.05) = 0.5 on the preset's default slope (the case above).
    vwc = (0.25 + 0.002 * ((np.arange(384) + 1) % 2))[None, :].astype(np.float32)
    result = evaluate(build_inputs(rain, vwc), RIO)
    assert RIO.slope.suction_cohesion_kpa == 8.0
    assert result.factor_of_safety[0] == pytest.approx(1.3956, abs=1e-4)
    assert result.criterion_level[0, Criterion.SLOPE] == 0


def test_flat_ground_is_stable() -> None:
    """A zero slope has no driving stress: FS is infinite, not a division error."""
    one = np.array([1.0])
    fs = factor_of_safety(one, 0 * one, 2 * one, 5 * one, 33 * one, 18 * one, 9.81)
    assert np.isinf(fs[0])


def test_vertical_depth_from_slope_normal_thickness() -> None:
    """Slope-normal thickness t converts to vertical depth t / cos(beta)."""
    z = vertical_depth_m(np.array([math.cos(math.radians(30.0))]), np.array([30.0]))
    assert z[0] == pytest.approx(1.0)


def test_accumulations_across_a_gap() -> None:
    """A gap is counted as missing, not as zero rain, and the level is flagged unknown."""
    rain = np.zeros((1, 384), dtype=np.float32)
    rain[0, -4:] = [5.0, np.nan, 5.0, 2.5]  # 15-min steps: the last hour has one gap
    rain[0, -50] = 40.0  # 12.5 h ago: inside 24 h
    result = evaluate(build_inputs(rain), RIO)
    assert result.acc_1h_mm[0] == pytest.approx(12.5)
    assert result.acc_24h_mm[0] == pytest.approx(52.5)
    assert list(result.missing_steps[0]) == [1, 1, 1]
    assert result.criterion_level[0, Criterion.RAIN_1H] == 1
    assert result.criterion_unknown[0, Criterion.RAIN_1H]
    assert result.station_unknown[0]


def test_rolling_sum_series_counts_gaps() -> None:
    """The cumsum-based rolling series skips NaN and counts it, and pre-record steps."""
    rain = np.array([[1.0, np.nan, 2.0, 3.0]])
    total, missing = rolling_sum_mm(rain, 2)
    np.testing.assert_allclose(total, [[1.0, 1.0, 2.0, 5.0]])
    np.testing.assert_array_equal(missing, [[1, 1, 1, 0]])
