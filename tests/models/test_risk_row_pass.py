"""The chunked row pass equals the whole-array screen, block sums and dot products."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from models import StepWindows
from models.antecedent import api_weights
from models.rainfall import _chunk_rows, block_sums, dirty_rows, row_pass
from tests.models.helpers_risk import RIO


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("step", "steps"), [(5, 1152), (15, 420), (5, 1150)])
def test_row_pass_across_chunks(dtype: type, step: int, steps: int) -> None:
    """Many chunks, a partial last chunk, bad values and gaps: same as the unchunked answers."""
    win = StepWindows.build(step, RIO)
    n = 3 * _chunk_rows(steps, np.dtype(dtype).itemsize) + 7
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
