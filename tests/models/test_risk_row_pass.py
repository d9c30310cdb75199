"""The chunked row pass equals the whole-array screen, block sums and dot products."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import ModelInputs, StationParams, StepWindows, evaluate
from models.antecedent import api_weights
from models.event import current_event, first_blocks
from models.rainfall import ROW_BLOCK, block_sums, dirty_rows, row_pass
from tests.models.helpers_risk import RIO
from tests.models.test_risk_event import clean_rain


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("step", "steps"), [(5, 1152), (15, 420), (5, 1150)])
def test_row_pass_across_chunks(dtype: type, step: int, steps: int) -> None:
    """Many chunks, a partial last chunk, bad values and gaps: same as the unchunked answers."""
    win = StepWindows.build(step, RIO)
    n = 3 * ROW_BLOCK + 7
    rng = np.random.default_rng(steps)
    rain: npt.NDArray[Any] = (
        rng.integers(0, 40, (n, steps)) * (rng.random((n, steps)) < 0.3) * 0.25
    ).astype(dtype)
    for value, rate in ((np.nan, 1e-4), (-1.0, 1e-5), (-0.0, 1e-4), (999.0, 1e-5), (np.inf, 1e-5)):
        rain[rng.random(rain.shape) < rate] = value
    blocks = min(steps // win.w1h, 32)
    dirty, long, hourly = row_pass(rain, win, blocks)
    np.testing.assert_array_equal(dirty, dirty_rows(rain, win.rain_max_mm))
    assert dirty.any()
    assert not dirty.all()
    clean = ~dirty
    np.testing.assert_array_equal(
        hourly[clean], block_sums(rain, win.w1h, blocks)[clean].astype(dtype)
    )
    np.testing.assert_array_equal(long[clean, 0], rain[clean, -win.w96h :].sum(axis=1))
    expected = rain[clean].astype(np.float64) @ api_weights(steps, win.k_step)
    np.testing.assert_allclose(long[clean, 1], expected, rtol=1e-5)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([5, 15]), st.integers(200, 1200))
def test_event_scan_with_row_pass_hourly_equals_step_scan(seed: int, step: int, steps: int) -> None:
    """The block scan fed the row pass's hourly sums (gaps and bad values too) = the step scan."""
    win = StepWindows.build(step, RIO)
    rain = clean_rain(seed, 40, steps, win.dry_spell)
    rng = np.random.default_rng(seed)
    for value, rate in ((np.nan, 0.002), (-1.0, 0.0005), (-0.0, 0.002), (np.inf, 0.0005)):
        rain[rng.random(rain.shape) < rate * rng.uniform(0, 2)] = value
    blocks = min(steps // win.w1h, max(first_blocks(steps, win), win.w24h // win.w1h))
    dirty, _, hourly = row_pass(rain, win, blocks)
    fast = current_event(rain, win, 0.0, ~dirty, hourly if blocks else None)
    slow = current_event(rain, win, 0.0)
    for name in ("active", "steps", "total_mm", "missing", "truncated", "end"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(slow, name), err_msg=name)


def test_no_stations() -> None:
    """An empty network evaluates to empty arrays (the event scan builds no window view)."""
    rain = np.zeros((0, 1152), dtype=np.float32)
    params = StationParams.defaults(0, RIO)
    inputs = ModelInputs.build(rain, rain, 5, np.zeros(0, dtype=np.int64), [], [], params, 1)
    result = evaluate(inputs, RIO)
    assert result.station_level.shape == (0,)
    assert result.zone_level.shape == (1,)
