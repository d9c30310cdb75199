"""A daily antecedent record longer than the 96 h grid lets the API see older rain."""

from __future__ import annotations

import numpy as np

from models import Criterion, ModelInputs, ModelState, StationParams, evaluate
from tests.models.helpers_risk import RIO

STEPS = 96 * 4


def _inputs(daily: np.ndarray | None) -> ModelInputs:
    rain = np.zeros((1, STEPS))
    rain[0, -40:] = np.tile([2.0, 3.0], 20)  # 100 mm over the last 10 h, not flat
    return ModelInputs.build(
        rain, np.full(rain.shape, np.nan), 15, [0], [0.0], [0.0],
        StationParams.defaults(1, RIO), antecedent_daily_mm=daily,
    )  # fmt: skip


def test_thirty_wet_days_before_the_window_raise_the_api_above_the_96h_sum() -> None:
    """10 mm a day for 30 days before the grid adds k^4 x sum k^d x 10 mm (about 43 mm)."""
    without = evaluate(_inputs(None), RIO)
    daily = np.full((1, 30), 10.0)
    with_record = evaluate(_inputs(daily), RIO)
    k = RIO.antecedent.k_daily
    expected = 10.0 * sum(k**d for d in range(30)) * k**4
    assert np.isclose(with_record.api_mm[0] - without.api_mm[0], expected, rtol=1e-5)
    assert with_record.api_mm[0] > with_record.acc_96h_mm[0]
    assert with_record.criterion_level[0, Criterion.ANTECEDENT] >= 1


def test_missing_days_add_nothing_and_the_incremental_path_agrees() -> None:
    """NaN days count as no rain (a lower bound); ModelState starts from the same API."""
    daily = np.full((1, 30), 10.0)
    daily[0, ::2] = np.nan
    inputs = _inputs(daily)
    full = evaluate(inputs, RIO)
    assert full.api_mm[0] < evaluate(_inputs(np.full((1, 30), 10.0)), RIO).api_mm[0]
    state = ModelState(inputs, RIO)
    assert np.isclose(state.result().api_mm[0], full.api_mm[0], rtol=1e-6)
