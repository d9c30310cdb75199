"""Properties on random inputs: monotonicity, missing data, and a slow reference."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from models import Criterion, ModelConfig, StepWindows, evaluate, factor_of_safety, wetness
from tests.models.helpers_risk import RIO, build_inputs

SEEDS = st.integers(min_value=0, max_value=2**32 - 1)
FAST = settings(max_examples=40, deadline=None)
TABLE = (Criterion.RAIN_1H, Criterion.RAIN_24H, Criterion.RAIN_96H, Criterion.ANTECEDENT)


def random_rain(seed: int, n: int = 12, steps: int = 420, gaps: float = 0.02) -> Any:
    """Quarter-millimetre rain (exact in float32) with storms, gaps and a few bad values."""
    rng = np.random.default_rng(seed)
    wet = rng.random((n, steps)) < rng.uniform(0.05, 0.6)
    rain = (wet * rng.integers(1, 40, (n, steps)) * 0.25).astype(np.float32)
    rain[rng.random((n, steps)) < gaps] = np.nan
    rain[rng.random((n, steps)) < 0.002] = -1.0
    return rain


def _level(value: float, table: tuple[float, float, float]) -> int:
    return sum(value >= t for t in table)


def reference_station(row: npt.NDArray[Any], config: ModelConfig) -> dict[str, Any]:
    """Obvious loops for one station: window sums, API recursion, event, levels."""
    win = StepWindows.build(15, config)
    vals = [float(x) if 0.0 <= x <= win.rain_max_mm else None for x in row]
    out: dict[str, Any] = {}
    for name, length, table in (
        ("1h", win.w1h, config.rain_levels.rain_1h_mm),
        ("24h", win.w24h, config.rain_levels.rain_24h_mm),
        ("96h", win.w96h, config.rain_levels.rain_96h_mm),
    ):
        window = vals[-length:]
        out[name] = sum(v for v in window if v is not None)
        out[name + "_missing"] = sum(v is None for v in window) + max(0, length - len(vals))
        out[name + "_level"] = _level(out[name], table)
    api = 0.0
    for v in vals:
        api = win.k_step * api + (v or 0.0)
    out["api"] = api
    out["api_level"] = _level(api, config.antecedent.levels_mm)
    non_dry = [v is None or v > 0.0 for v in vals]
    out["event_steps"], out["event_total"] = 0, 0.0
    if any(non_dry):
        end = max(i for i, d in enumerate(non_dry) if d)
        if len(vals) - 1 - end < win.dry_spell:
            start = end
            while True:
                prev = start - 1
                while prev >= 0 and not non_dry[prev]:
                    prev -= 1
                if prev < 0 or start - prev - 1 >= win.dry_spell:
                    break
                start = prev
            # The event starts at its first recorded rain: leading gaps are missing history.
            rained = [i for i in range(start, end + 1) if (vals[i] or 0.0) > 0.0]
            start = rained[0] if rained else start
            out["event_steps"] = end - start + 1
            out["event_total"] = sum(v for v in vals[start : end + 1] if v is not None)
    stuck = win.stuck
    tail = [float(x) for x in row[-stuck:]]
    out["stuck"] = len(tail) == stuck and tail[0] > 0 and all(x == tail[0] for x in tail)
    return out


def reference_fs(vwc: float, config: ModelConfig) -> float:
    """The infinite slope with suction cohesion, written out for the config's default slope."""
    s = config.slope
    m = min(1.0, max(0.0, (vwc - s.vwc_residual) / (s.vwc_saturated - s.vwc_residual)))
    beta, phi = math.radians(s.slope_deg), math.radians(s.friction_deg)
    z, gamma = s.soil_depth_m, s.unit_weight_knm3
    cohesion = s.cohesion_kpa + s.suction_cohesion_kpa * (1.0 - m)
    normal = (gamma - m * s.water_unit_weight_knm3) * z * math.cos(beta) ** 2
    return (cohesion + normal * math.tan(phi)) / (gamma * z * math.sin(beta) * math.cos(beta))


@FAST
@given(SEEDS)
def test_vectorised_equals_reference(seed: int) -> None:
    """Accumulations, gaps, API, events and table levels match the per-station loops."""
    rain = random_rain(seed)
    vwc = np.random.default_rng(seed).uniform(0.05, 0.5, rain.shape)
    result = evaluate(build_inputs(rain, vwc), RIO)
    for i, row in enumerate(rain):
        ref = reference_station(row, RIO)
        if result.quality[i] == 0:  # a trusted probe: its last reading gives the FS
            assert math.isclose(result.factor_of_safety[i], reference_fs(vwc[i, -1], RIO))
        if ref["stuck"]:
            continue
        got = (result.acc_1h_mm[i], result.acc_24h_mm[i], result.acc_96h_mm[i])
        assert got == (ref["1h"], ref["24h"], ref["96h"])
        assert list(result.missing_steps[i]) == [
            ref["1h_missing"],
            ref["24h_missing"],
            ref["96h_missing"],
        ]
        assert math.isclose(result.api_mm[i], ref["api"], rel_tol=1e-4, abs_tol=1e-3)
        assert result.event_duration_h[i] * 4 == ref["event_steps"]
        assert result.event_total_mm[i] == ref["event_total"]
        levels = [ref["1h_level"], ref["24h_level"], ref["96h_level"]]
        assert list(result.criterion_level[i, :3]) == levels


@FAST
@given(SEEDS)
def test_adding_rain_never_lowers_a_rainfall_level(seed: int) -> None:
    """More rain anywhere never lowers a 1 h / 24 h / 96 h / API level or the table maximum."""
    rain = random_rain(seed)
    rng = np.random.default_rng(seed + 1)
    more = rain + (rng.random(rain.shape) < 0.1) * rng.integers(1, 40, rain.shape) * 0.25
    more = np.where(rain >= 0, more, rain).astype(np.float32)
    zones = np.arange(rain.shape[0]) // 4
    before = evaluate(build_inputs(rain, zone=zones), RIO).criterion_level[:, list(TABLE)]
    after = evaluate(build_inputs(more, zone=zones), RIO).criterion_level[:, list(TABLE)]
    assert (after >= before).all()


@FAST
@given(SEEDS)
def test_missing_data_never_lowers_a_level_silently(seed: int) -> None:
    """Blanking readings never lowers a known station or zone level: it is flagged unknown.

    The newest soil reading is kept: an older one inside the offline window legitimately
    stands in for it, which is staleness, not missing data read as safe.
    """
    rain = random_rain(seed)
    rng = np.random.default_rng(seed + 2)
    vwc = rng.uniform(0.05, 0.5, rain.shape)
    holes = rng.random(rain.shape) < rng.uniform(0.01, 0.2)
    soil_holes = holes.copy()
    soil_holes[:, -1] = False
    zones = np.arange(rain.shape[0]) // 4
    full = evaluate(build_inputs(rain, vwc, zone=zones), RIO)
    gappy = evaluate(
        build_inputs(np.where(holes, np.nan, rain), np.where(soil_holes, np.nan, vwc), zone=zones),
        RIO,
    )
    lowered = gappy.criterion_level < full.criterion_level
    assert not (lowered & ~gappy.criterion_unknown).any()
    assert not ((gappy.station_level < full.station_level) & ~gappy.station_unknown).any()
    assert not ((gappy.zone_level < full.zone_level) & ~gappy.zone_unknown).any()


@FAST
@given(
    st.floats(0.0, 0.7),
    st.floats(0.0, 0.7),
    st.floats(5.0, 60.0),
    st.floats(0.2, 5.0),
    st.floats(0.0, 20.0),
    st.floats(20.0, 40.0),
    st.floats(0.0, 50.0),
)
def test_wetter_soil_never_raises_the_factor_of_safety(  # noqa: PLR0917  array-in/array-out physics signature
    vwc_a: float,
    vwc_b: float,
    slope: float,
    depth: float,
    cohesion: float,
    phi: float,
    suction: float,
) -> None:
    """FS is non-increasing in volumetric water content for any slope, soil and suction."""
    low, high = sorted((vwc_a, vwc_b))
    one = np.ones(1)
    m = wetness(np.array([low, high]), 0.05 * one, 0.45 * one)
    fs = factor_of_safety(
        m, slope * one, depth * one, cohesion * one, phi * one, 18 * one, 9.81,
        suction_cohesion_kpa=suction,
    )  # fmt: skip
    assert fs[1] <= fs[0] + 1e-12
