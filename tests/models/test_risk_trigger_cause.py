"""Cause-trigger gate: an intensity-duration exceedance is an alert only on a primed slope."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import numpy as np
import pytest

from models import ConfigError, Criterion, ModelInputs, ModelState, StationParams, evaluate
from models.config.loader import load_config
from models.inputs import FloatArray
from tests.models.helpers_risk import RIO, build_inputs

STEPS = 96 * 4
UNGATED = dataclasses.replace(
    RIO, intensity_duration=dataclasses.replace(RIO.intensity_duration, cause_level=0)
)


def _burst(vwc: float) -> tuple[np.ndarray, np.ndarray]:
    """20 mm in the last hour (ID ratio 1.35 at D = 1 h: alert) on a probe reading ``vwc``."""
    rain = np.zeros((1, STEPS))
    rain[0, -4:] = 5.0
    jitter = 0.002 * (np.arange(STEPS) % 2)  # a live probe is never flat (flat: STUCK)
    return rain, (vwc + jitter)[None, :]


def _id_level(inputs: ModelInputs, config: object = RIO) -> int:
    result = evaluate(inputs, config)  # type: ignore[arg-type]
    return int(result.criterion_level[0, Criterion.INTENSITY_DURATION])


def test_the_presets_gate_the_trigger_at_attention() -> None:
    """Both shipped presets take the gate (cause_level 1)."""
    assert RIO.intensity_duration.cause_level == 1


def test_a_convective_burst_on_a_dry_slope_is_attention_not_alert() -> None:
    """Vwc 0.15 (FS 1.68, no slope level), API 20 mm: the burst's ID ratio 1.35 is capped.

    Without the gate the same burst is an alert (level 2).
    """
    rain, vwc = _burst(0.15)
    inputs = build_inputs(rain, vwc)
    result = evaluate(inputs, RIO)
    assert result.criterion_level[0, Criterion.SLOPE] == 0
    assert result.id_ratio[0] == pytest.approx(20.0 / 14.82, rel=1e-3)
    assert _id_level(inputs) == 1
    assert _id_level(inputs, UNGATED) == 2
    assert result.station_level[0] == 1  # rain_1h 20 mm is attention as well


def test_the_same_burst_on_a_wet_slope_is_an_alert() -> None:
    """Vwc 0.30 (Se 0.625, FS 1.26: slope at attention): the slope is primed, ID counts."""
    rain, vwc = _burst(0.30)
    inputs = build_inputs(rain, vwc)
    assert evaluate(inputs, RIO).criterion_level[0, Criterion.SLOPE] == 1
    assert _id_level(inputs) == 2


def test_without_a_soil_reading_the_cause_is_unknown_and_the_trigger_counts() -> None:
    """A rain-only gauge (no probe): no data is never safe, the ID level is not capped."""
    rain, _ = _burst(0.15)
    assert _id_level(build_inputs(rain)) == 2


def _wet_month(rain: FloatArray, vwc: FloatArray) -> ModelInputs:
    """One station whose 30 days before the window had 20 mm each (API >= 120 mm)."""
    return ModelInputs.build(
        rain, vwc, 15, np.zeros(1, dtype=np.int64), np.zeros(1), np.zeros(1),
        StationParams.defaults(1, RIO), antecedent_daily_mm=np.full((1, 30), 20.0),
    )  # fmt: skip


def test_a_wet_month_primes_a_slope_whose_probe_reads_dry() -> None:
    """30 days of 20 mm before the window: API >= 120 mm (attention), so the burst counts."""
    rain, vwc = _burst(0.15)
    base = build_inputs(rain, vwc)
    inputs = _wet_month(rain, vwc)
    result = evaluate(inputs, RIO)
    assert result.criterion_level[0, Criterion.ANTECEDENT] >= 1
    assert _id_level(inputs) == 2
    assert _id_level(base) == 1


def test_cause_level_is_range_checked(tmp_path: Path) -> None:
    """A cause level outside 0-3 is refused, naming the field."""
    text = (Path(__file__).resolve().parents[2] / "models/config/rio.toml").read_text()
    assert "cause_level = 1" in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("cause_level = 1", "cause_level = 4"))
    tomllib.loads(bad.read_text())  # still valid TOML
    with pytest.raises(ConfigError, match="cause_level"):
        load_config(bad)


UNGATED_24H = dataclasses.replace(
    RIO, rain_levels=dataclasses.replace(RIO.rain_levels, cause_level_24h=0)
)


def _day_of_rain(vwc: float) -> tuple[np.ndarray, np.ndarray]:
    """105 mm over the last 24 h in 0.9-1.275 mm steps (24 h alert row: 100 mm).

    The 1 h sum stays at 4.4 mm (no level), the API below 120 mm: only the 24 h sum alerts.
    """
    rain = np.zeros((1, STEPS))
    rain[0, -96:] = np.tile([0.9, 1.2, 1.0, 1.275], 24)
    jitter = 0.002 * (np.arange(STEPS) % 2)
    return rain, (vwc + jitter)[None, :]


def test_the_presets_gate_the_24h_accumulation_at_attention() -> None:
    """Both shipped presets gate the 24 h sum as they gate the ID curve (cause level 1)."""
    assert RIO.rain_levels.cause_level_24h == 1


def test_a_day_of_rain_on_a_dry_slope_is_attention_not_alert() -> None:
    """105 mm in 24 h, probe at vwc 0.15 (FS 1.68), API < 120 mm: the 24 h level is capped.

    The 24 h total is event rainfall, a trigger like the ID curve; without a cause (slope or
    antecedent index at attention) it is attention. Ungated, the same day is an alert.
    """
    rain, vwc = _day_of_rain(0.15)
    inputs = build_inputs(rain, vwc)
    result = evaluate(inputs, RIO)
    assert result.acc_24h_mm[0] == pytest.approx(105.0, rel=1e-4)
    assert result.criterion_level[0, Criterion.SLOPE] == 0
    assert result.criterion_level[0, Criterion.ANTECEDENT] == 0
    assert result.criterion_level[0, Criterion.RAIN_24H] == 1
    assert result.station_level[0] == 1
    ungated = evaluate(inputs, UNGATED_24H)
    assert ungated.criterion_level[0, Criterion.RAIN_24H] == 2
    assert ungated.station_level[0] == 2


def test_the_same_day_on_a_wet_slope_is_an_alert() -> None:
    """Vwc 0.30 (slope at attention): primed, the 24 h sum keeps its alert level."""
    rain, vwc = _day_of_rain(0.30)
    result = evaluate(build_inputs(rain, vwc), RIO)
    assert result.criterion_level[0, Criterion.SLOPE] == 1
    assert result.criterion_level[0, Criterion.RAIN_24H] == 2
    assert result.station_level[0] == 2


def test_a_day_of_rain_without_a_probe_alerts() -> None:
    """A rain-only gauge: the cause is unknown, never safe, so the 24 h level counts."""
    rain, _ = _day_of_rain(0.15)
    assert evaluate(build_inputs(rain), RIO).criterion_level[0, Criterion.RAIN_24H] == 2


def test_a_wet_month_primes_the_24h_accumulation() -> None:
    """30 days of 20 mm before the window (API >= 120 mm): the dry-probe day alerts."""
    rain, vwc = _day_of_rain(0.15)
    inputs = _wet_month(rain, vwc)
    result = evaluate(inputs, RIO)
    assert result.criterion_level[0, Criterion.ANTECEDENT] >= 1
    assert result.criterion_level[0, Criterion.RAIN_24H] == 2


def test_the_incremental_state_gates_the_24h_accumulation_too() -> None:
    """ModelState's result equals the full evaluation on the dry-slope day."""
    rain, vwc = _day_of_rain(0.15)
    inputs = build_inputs(rain, vwc)
    start = STEPS - 120
    state = ModelState(build_inputs(rain[:, :start], vwc[:, :start]), RIO)
    for k in range(start, STEPS):
        state.push(rain[:, k], vwc[:, k])
    assert state.result().criterion_level[0, Criterion.RAIN_24H] == 1
    np.testing.assert_array_equal(
        state.result().criterion_level, evaluate(inputs, RIO).criterion_level
    )
