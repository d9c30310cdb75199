"""Flat-run and bad-reading counters equal per-station loops, for runs of every length."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from models import StepWindows
from models.quality import sensor_stats
from tests.models.helpers_risk import RIO


def flat_run(values: list[float], same: Any, cap: int) -> int:
    """Consecutive flat pairs at the end of one station's window, capped."""
    run = 0
    for older, newer in zip(values[-2::-1], values[:0:-1], strict=True):
        if not same(older, newer):
            break
        run += 1
    return min(run, cap)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([5, 15]), st.integers(1, 120))
def test_flat_runs_and_bad_readings_match_loops(seed: int, step: int, steps: int) -> None:
    """Planted runs of 0 to beyond the stuck window give the counts of an obvious loop."""
    win = StepWindows.build(step, RIO)
    q = RIO.quality
    rng = np.random.default_rng(seed)
    n = 30
    rain = (rng.integers(0, 8, (n, steps)) * 0.25).astype(np.float32)
    vwc = rng.uniform(0.05, 0.5, (n, steps))
    for i in range(n):
        length = min(steps, int(rng.integers(0, win.stuck + 4)))
        if length:
            rain[i, -length:] = rain[i, -1] if i % 3 else 0.5
            vwc[i, -length:] = vwc[i, -1] + rng.uniform(-1, 1, length) * q.stuck_tolerance_vwc / 4
    rain[rng.random(rain.shape) < 0.01] = np.nan
    vwc[rng.random(vwc.shape) < 0.01] = np.nan
    rain[rng.random(rain.shape) < 0.005] = -1.0
    vwc[rng.random(vwc.shape) < 0.005] = 0.9
    stats = sensor_stats(rain, vwc, win, RIO)
    high, vmax, cap = win.rain_max_mm, q.vwc_max_m3m3, win.stuck - 1

    def same_rain(older: float, newer: float) -> bool:
        return bool(newer == older and 0.0 < newer <= high)

    def same_vwc(older: float, newer: float) -> bool:
        ok = 0.0 <= older <= vmax and 0.0 <= newer <= vmax
        return bool(ok and abs(newer - older) <= q.stuck_tolerance_vwc)

    for i in range(n):
        r = [float(x) for x in rain[i, -(win.stuck + 1) :]]
        v = [float(x) for x in vwc[i, -(win.stuck + 1) :]]
        assert stats["rain_flat_run"][i] == flat_run(r, same_rain, cap)
        assert stats["vwc_flat_run"][i] == flat_run(v, same_vwc, cap)
        bad = [
            not (0.0 <= a <= high or math.isnan(a)) or not (0.0 <= b <= vmax or math.isnan(b))
            for a, b in zip(r[-win.stuck :], v[-win.stuck :], strict=True)
        ]
        since = next((k for k, flag in enumerate(reversed(bad)) if flag), win.stuck)
        assert stats["since_bad"][i] == since
