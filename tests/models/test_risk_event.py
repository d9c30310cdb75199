"""The coarse block scan of the current event equals the step-level scan and the reference."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models import StepWindows, evaluate
from models.event import current_event
from models.rainfall import dirty_rows
from tests.models.helpers_risk import RIO, build_inputs
from tests.models.test_risk_properties import reference_station


def clean_rain(seed: int, n: int, steps: int, spell: int) -> Any:
    """Gap-free quarter-millimetre rain: bursts separated by dry runs near the dry spell."""
    rng = np.random.default_rng(seed)
    rain = np.zeros((n, steps), dtype=np.float32)
    for row in rain:
        t = int(rng.integers(0, steps))
        while t < steps:
            length = int(rng.integers(1, 3 * spell))
            wet = rng.random(length) < rng.uniform(0.05, 1.0)
            amount = rng.integers(1, 40, length) * 0.25
            row[t : t + length] = (wet * amount)[: steps - t]
            t += length + int(rng.integers(spell - 3, spell + 3)) * int(rng.integers(0, 3))
    return rain


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([5, 15]), st.integers(60, 1200))
def test_block_scan_equals_step_scan(seed: int, step: int, steps: int) -> None:
    """Rows declared clean take the block scan; every field equals the step-level scan."""
    win = StepWindows.build(step, RIO)
    rain = clean_rain(seed, 24, steps, win.dry_spell)
    fast = current_event(rain, win, 0.0, np.ones(rain.shape[0], dtype=np.bool_))
    slow = current_event(rain, win, 0.0)
    for name in ("active", "steps", "total_mm", "missing", "truncated", "end"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_clean_rain_events_match_reference(seed: int) -> None:
    """Through ``evaluate`` (clean rows found by the model), events match the per-step loops."""
    rain = clean_rain(seed, 12, 420, StepWindows.build(15, RIO).dry_spell)
    result = evaluate(build_inputs(rain), RIO)
    for i, row in enumerate(rain):
        ref = reference_station(row, RIO)
        assert result.event_duration_h[i] * 4 == ref["event_steps"]
        assert result.event_total_mm[i] == ref["event_total"]


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([5, 15]), st.integers(60, 1200))
def test_block_scan_with_gaps_equals_step_scan(seed: int, step: int, steps: int) -> None:
    """Rows with gaps, negative, signed-zero or too-large values give the same event too."""
    win = StepWindows.build(step, RIO)
    rain = clean_rain(seed, 24, steps, win.dry_spell)
    rng = np.random.default_rng(seed)
    for value, rate in ((np.nan, 0.01), (-1.0, 0.002), (-0.0, 0.01), (999.0, 0.002)):
        rain[rng.random(rain.shape) < rate * rng.uniform(0, 2)] = value
    rain[: rng.integers(0, 12), -rng.integers(1, steps) :] = np.nan
    slow = current_event(rain, win, 0.0)
    for clean in (~dirty_rows(rain, win.rain_max_mm), np.zeros(rain.shape[0], dtype=np.bool_)):
        fast = current_event(rain, win, 0.0, clean)
        for name in ("active", "steps", "total_mm", "missing", "truncated", "end"):
            np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)
