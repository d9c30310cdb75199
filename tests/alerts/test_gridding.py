"""The evaluator's gridding in numpy: rain summed per bucket, newest soil value, probe choice."""

from __future__ import annotations

import numpy as np

from alerts.gridding import OTHER, PLAIN_VWC, RAIN, bucket_cells, fill_grid, soil_preference


def test_soil_preference_matches_the_sql_codes() -> None:
    """Rain -1, plain vwc 10000, a probe its depth in cm, anything else -2."""
    assert soil_preference("rain_mm") == RAIN
    assert soil_preference("vwc") == PLAIN_VWC
    assert soil_preference("vwc_d60") == 60
    assert soil_preference("battery_v") == OTHER


def test_buckets_sum_rain_and_keep_the_newest_soil_value_of_the_deepest_probe() -> None:
    """Two rain tips in one bucket add up; the 1 m probe's newest value wins over 0.3 m."""
    station = np.array([0, 0, 0, 0, 0, 1], dtype=np.int64)
    pref = np.array([RAIN, RAIN, 30, 100, 100, RAIN], dtype=np.int64)
    ts = np.array([10.0, 20.0, 30.0, 50.0, 40.0, 950.0])
    value = np.array([0.2, 0.4, 0.15, 0.33, 0.30, 1.0])
    cells = bucket_cells(station, pref, ts, value, 0.0, 900.0, 2)
    rain, vwc = fill_grid(2, 2, *cells)
    assert np.isclose(rain[0, 0], 0.6)
    assert np.isnan(rain[0, 1])  # missing is NaN, never 0
    assert rain[1, 1] == 1.0
    assert np.isclose(vwc[0, 0], 0.33)  # newest by device time, not by arrival order
    assert np.isnan(vwc[1]).all()


def test_readings_outside_the_window_are_dropped() -> None:
    """A reading before the start or at the end of the window is not gridded."""
    cells = bucket_cells(
        np.array([0, 0], dtype=np.int64),
        np.array([RAIN, RAIN], dtype=np.int64),
        np.array([-1.0, 1800.0]),
        np.array([5.0, 5.0]),
        0.0,
        900.0,
        2,
    )
    assert len(cells[0]) == 0
