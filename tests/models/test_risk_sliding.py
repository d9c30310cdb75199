"""The sliding-window state equals the full evaluation of the same 96 h window, step by step.

What the live evaluator does (alerts.incremental): a state started from the window, a push per
new step, the open bucket pushed on top and undone, late data spliced in per zone. Each
result is compared with :func:`models.evaluate` on exactly the window (and antecedent record)
the full path would evaluate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import ModelResult, evaluate
from models.inputs import StepWindows
from models.sliding import SlidingState
from tests.models.helpers_risk import RIO, build_inputs
from tests.models.test_risk_properties import random_rain

W = StepWindows.build(15, RIO).w96h  # 384 steps of 15 minutes
N = 20
ZONES = np.arange(N) // 4


def series(seed: int, extra: int) -> tuple[npt.NDArray[Any], npt.NDArray[Any], npt.NDArray[Any]]:
    """Rain with storms, gaps and bad values; soil with outages; a daily record."""
    rng = np.random.default_rng(seed)
    steps = W + extra
    rain = random_rain(seed, n=N, steps=steps)
    # A long storm over zone 1 that crosses the window's start as it slides, and an outage.
    rain[4:8, W - 200 : W + 40] = 2.5
    rain[9, W - 10 : W + 30] = np.nan
    rain[12:16, -6:] = 12.0  # a burst at the end: criteria reach high levels
    vwc = (0.2 + 0.01 * rng.integers(0, 30, rain.shape)).astype(np.float32)
    vwc[rng.random(rain.shape) < 0.05] = np.nan
    vwc[3, : W + 20] = np.nan  # a probe that reports only after a while
    vwc[7, W // 2 :] = np.nan  # a probe that dies: it leaves the window later
    daily = (rng.integers(0, 80, (N, 30)) * 0.5).astype(np.float64)
    return rain, vwc, daily


def full(rain: npt.NDArray[Any], vwc: npt.NDArray[Any], end: int, daily: Any) -> ModelResult:
    """The full path: the window of W steps ending at column ``end`` (inclusive)."""
    window = slice(end + 1 - W, end + 1)
    inputs = build_inputs(rain[:, window], vwc[:, window], zone=ZONES)
    inputs = type(inputs)(inputs.rain_mm, inputs.vwc_m3m3, 15, inputs.static, daily)
    return evaluate(inputs, RIO)


def start(rain: npt.NDArray[Any], vwc: npt.NDArray[Any], upto: int) -> SlidingState:
    """A state from the window's columns before ``upto`` (the full window ends at W - 1)."""
    first = upto + 1 - W
    low = max(0, first)
    inputs = build_inputs(rain[:, low:upto], vwc[:, low:upto], zone=ZONES)
    return SlidingState(inputs, RIO)


def same(ours: ModelResult, theirs: ModelResult, where: str) -> None:
    """Levels, unknown flags and zones equal; values equal up to float summation order."""
    for name in (
        "station_level", "station_unknown", "criterion_level", "criterion_unknown",
        "criterion_estimated", "zone_level", "zone_unknown", "zone_unknown_material",
        "quality", "live", "event_active", "zone_corroborated", "zone_degraded",
    ):  # fmt: skip
        np.testing.assert_array_equal(
            getattr(ours, name), getattr(theirs, name), err_msg=f"{name} at {where}"
        )
    for name in ("acc_1h_mm", "acc_24h_mm", "acc_96h_mm", "api_mm", "event_total_mm",
                 "event_duration_h", "id_ratio", "factor_of_safety"):  # fmt: skip
        np.testing.assert_allclose(
            getattr(ours, name), getattr(theirs, name), rtol=1e-5, atol=1e-4,
            err_msg=f"{name} at {where}",
        )  # fmt: skip


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_sliding_equals_full_window(seed: int) -> None:
    """Push by push, past a whole revolution of the ring: equal to the full window's result."""
    extra = W + 30
    rain, vwc, daily = series(seed, extra)
    state = start(rain, vwc, W - 1)
    for end in range(W - 1, W + extra):
        state.push(rain[:, end], vwc[:, end])
        if end % 7 == 0 or end >= W + extra - 3 or end in {W - 1, 2 * W - 1, 2 * W}:
            same(state.result(daily), full(rain, vwc, end, daily), f"column {end}")


def test_open_bucket_is_undone_and_pushed_again() -> None:
    """The newest bucket pushed empty, undone and pushed with its readings: as if pushed once."""
    rain, vwc, daily = series(1, 40)
    state = start(rain, vwc, W + 10)
    empty = np.full(N, np.nan)
    for end in range(W + 10, W + 40):
        mark = state.mark()
        state.push(empty, empty)  # the open bucket, nothing arrived yet
        provisional = rain.copy()
        provisional[:, end] = np.nan
        same(state.result(daily), full(provisional, _blank(vwc, end), end, daily), f"empty {end}")
        state.rollback(mark)
        state.push(rain[:, end], vwc[:, end])
        same(state.result(daily), full(rain, vwc, end, daily), f"column {end}")


def _blank(values: npt.NDArray[Any], end: int) -> npt.NDArray[Any]:
    out = values.copy()
    out[:, end] = np.nan
    return out


def test_two_open_buckets_roll_back_newest_first() -> None:
    """Two tentative steps undone in reverse order leave exactly the committed state."""
    rain, vwc, _ = series(2, 10)
    state = start(rain, vwc, W + 5)
    before = {k: v.copy() for k, v in vars(state).items() if isinstance(v, np.ndarray)}
    marks = []
    for end in (W + 5, W + 6):
        marks.append(state.mark())
        state.push(rain[:, end], vwc[:, end])
    for mark in reversed(marks):
        state.rollback(mark)
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(state, name), value, err_msg=name)


@pytest.mark.parametrize("late_zone", [0, 1, 3])
def test_late_data_spliced_per_zone(late_zone: int) -> None:
    """Late rain in an old step of one zone: that zone rebuilt and spliced equals the full path."""
    rain, vwc, daily = series(3, 60)
    state = start(rain, vwc, W + 20)
    for end in range(W + 20, W + 50):
        state.push(rain[:, end], vwc[:, end])
    late = rain.copy()
    rows = np.flatnonzero(np.equal(ZONES, late_zone))
    late[rows, W + 5 : W + 9] = 30.0  # a backlog hours old: heavy rain, one gauge re-sent
    late[rows[0], W + 30] = np.nan
    low = W + 50 - W
    sub = build_inputs(late[rows, low : W + 50], vwc[rows, low : W + 50], zone=np.zeros(rows.size))
    state.splice(rows, np.array([late_zone]), SlidingState(sub, RIO))
    same(state.result(daily), full(late, vwc, W + 49, daily), "after the splice")
    for end in range(W + 50, W + 60):
        state.push(late[:, end], vwc[:, end])
        same(state.result(daily), full(late, vwc, end, daily), f"column {end}")


def test_empty_newest_buckets_during_a_storm() -> None:
    """A storm whose newest buckets are all empty (readings not yet in): gaps, not zero rain."""
    rain, vwc, daily = series(4, 20)
    rain[:, W + 10 :] = np.nan
    vwc[:, W + 10 :] = np.nan
    state = start(rain, vwc, W)
    for end in range(W, W + 20):
        state.push(rain[:, end], vwc[:, end])
        result = state.result(daily)
        same(result, full(rain, vwc, end, daily), f"column {end}")
    assert result.zone_degraded.all()  # silence is degraded monitoring, never all clear
