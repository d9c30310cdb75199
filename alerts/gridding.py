"""Readings to the model's grid: the numpy half of the evaluator's gridding, shared.

The live evaluator buckets readings in SQL (``alerts.observations``: ``time_bucket``, rain
summed per bucket, soil moisture the bucket's newest value per quantity) and hands the cells
to :func:`fill_grid`. The offline backtest has no database: :func:`bucket_cells` does the
same aggregation in numpy on decoded readings, and the same :func:`fill_grid` builds the
grid. Both therefore share the choice of soil quantity (:func:`soil_preference`: plain
``vwc`` if a station has it, else its deepest probe) and the rule that a bucket without
readings stays NaN — missing rain is unknown, never 0.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt

RAIN = -1  # preference code of rain_mm
OTHER = -2  # a quantity the model does not read
PLAIN_VWC = 10000  # plain ``vwc`` wins over every probe depth
_DEPTH = re.compile(r"^vwc_d([0-9]+)$")

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def soil_preference(quantity: str) -> int:
    """The SQL's preference code of a quantity: -1 rain, depth in cm for a probe, 10000 vwc."""
    if quantity == "rain_mm":
        return RAIN
    if quantity == "vwc":
        return PLAIN_VWC
    match = _DEPTH.fullmatch(quantity)
    return int(match.group(1)) if match else OTHER


def bucket_cells(  # noqa: PLR0913, PLR0917  the columns of the readings table and the grid's frame
    station: IntArray,
    pref: IntArray,
    ts_s: FloatArray,
    value: FloatArray,
    start_s: float,
    step_s: float,
    n_steps: int,
) -> tuple[IntArray, IntArray, IntArray, FloatArray]:
    """Cells (station, step, preference, value) of readings in ``[start, start + n·step)``.

    The numpy twin of the evaluator's SQL: rain is summed per (station, bucket), every soil
    quantity keeps the value of its newest reading in the bucket. ``pref`` codes come from
    :func:`soil_preference`; readings coded ``OTHER`` are dropped.
    """
    j = np.floor((ts_s - start_s) / step_s).astype(np.int64)
    keep = (j >= 0) & (j < n_steps) & (pref != OTHER)
    station, pref, ts_s, value, j = station[keep], pref[keep], ts_s[keep], value[keep], j[keep]
    # One key per (station, quantity, bucket); the preference code identifies the quantity.
    width = PLAIN_VWC + 2
    key = (station * width + (pref + 1)) * n_steps + j
    is_rain = pref == RAIN
    rain_keys, rain_inverse = np.unique(key[is_rain], return_inverse=True)
    rain_sum = np.bincount(rain_inverse, weights=value[is_rain], minlength=len(rain_keys))
    soil = ~is_rain
    order = np.lexsort((ts_s[soil], key[soil]))  # by key, then by time: the last is newest
    soil_key = key[soil][order]
    last = np.ones(len(soil_key), dtype=np.bool_)
    last[:-1] = soil_key[1:] != soil_key[:-1]
    soil_keys = soil_key[last]
    soil_value = value[soil][order][last]
    keys = np.concatenate([rain_keys, soil_keys])
    values = np.concatenate([rain_sum, soil_value])
    cell_j = keys % n_steps
    rest = keys // n_steps
    return rest // width, cell_j, rest % width - 1, values


def fill_grid(  # noqa: PLR0913, PLR0917  the shape and the four cell columns
    n_stations: int, n_steps: int, i: IntArray, j: IntArray, pref: IntArray, value: FloatArray
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Rain and soil-moisture grids (float32, NaN where missing) from bucketed cells.

    No Python loop over cells: numpy fancy indexing. Soil moisture comes from the station's
    most preferred quantity (plain ``vwc``, else the deepest probe).
    """
    rain = np.full((n_stations, n_steps), np.nan, dtype=np.float32)
    vwc = np.full_like(rain, np.nan)
    is_rain = pref == RAIN
    rain[i[is_rain], j[is_rain]] = value[is_rain]
    best = np.full(n_stations, OTHER, dtype=np.int64)
    soil = pref >= 0
    np.maximum.at(best, i[soil], pref[soil])
    chosen = soil & (pref == best[i])
    vwc[i[chosen], j[chosen]] = value[chosen]
    return rain, vwc
