"""Rolling rainfall accumulations over 1 h, 24 h and 96 h, and the API, for all stations.

Only the newest value of each rolling sum is needed, so one matrix product ``rain @ W`` with a
[steps, 4] weight matrix (ones over each window, API decay weights) reads the rain array once.
Rows holding a gap or an out-of-range value are found in the same spirit, with one integer
max over the array's bit patterns, and recomputed with masking; gaps are never read as zero
rain: they are counted in ``missing`` so levels can be flagged unknown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from models.antecedent import api_weights

if TYPE_CHECKING:
    from models.inputs import FloatArray, IntArray, StepWindows


def _as_float(rain_mm: npt.NDArray[Any]) -> npt.NDArray[Any]:
    if rain_mm.dtype in (np.float32, np.float64):
        return rain_mm
    return rain_mm.astype(np.float64)


def dirty_rows(values: npt.NDArray[Any], high: float) -> npt.NDArray[np.bool_]:
    """Rows holding NaN, a negative value, or a value above ``high``.

    For IEEE floats ``0 <= x <= high`` exactly when the bit pattern, read as an unsigned
    integer, is at most that of ``high`` (negatives have the sign bit, NaN and inf sort above
    every finite value), so one integer max per row answers all three questions.
    """
    uint = np.uint32 if values.dtype == np.float32 else np.uint64
    limit = np.array(high, dtype=values.dtype).view(uint)
    result: npt.NDArray[np.bool_] = values.view(uint).max(axis=1) > limit
    return result


def window_sums(
    rain_mm: npt.NDArray[Any], win: StepWindows
) -> tuple[FloatArray, IntArray, FloatArray]:
    """Observed accumulations, missing counts per window, and API at the newest step.

    Returns ``(acc_mm[stations, 3], missing[stations, 3], api_mm[stations])`` for the windows
    1 h, 24 h, 96 h. Steps before the first column count as missing.
    """
    rain = _as_float(rain_mm)
    n_steps = rain.shape[1]
    lengths = (win.w1h, win.w24h, win.w96h)
    weights = np.zeros((n_steps, 4), dtype=rain.dtype)
    for column, length in enumerate(lengths):
        weights[max(0, n_steps - length) :, column] = 1.0
    weights[:, 3] = api_weights(n_steps, win.k_step, rain.dtype)
    product = rain @ weights
    before = np.array([max(0, length - n_steps) for length in lengths], dtype=np.int64)
    acc = product[:, :3].astype(np.float64)
    api = product[:, 3].astype(np.float64)
    missing = np.broadcast_to(before, acc.shape).copy()
    dirty = np.flatnonzero(dirty_rows(rain, win.rain_max_mm))
    if dirty.size:
        sub = rain[dirty]
        valid = (sub >= 0.0) & (sub <= win.rain_max_mm)
        clean = np.where(valid, sub, sub.dtype.type(0.0))
        fixed = clean @ weights
        acc[dirty] = fixed[:, :3]
        api[dirty] = fixed[:, 3]
        # Counts below 2**24 are exact in float32, so BLAS can count the gaps too.
        gaps = (~valid).astype(rain.dtype) @ (weights[:, :3] > 0).astype(rain.dtype)
        missing[dirty] = np.rint(gaps).astype(np.int64) + before
    return acc, missing, api


def rolling_sum_mm(rain_mm: FloatArray, window_steps: int) -> tuple[FloatArray, IntArray]:
    """Full rolling-sum series (cumsum based) and missing counts, for dashboards and replays.

    Returns ``(sum_mm[stations, steps], missing[stations, steps])``; the window at step ``t``
    covers ``t - window_steps + 1 .. t`` and steps before the record count as missing.
    """
    valid = np.isfinite(rain_mm) & (rain_mm >= 0.0)
    clean = np.where(valid, rain_mm, 0.0).astype(np.float64)
    zero = np.zeros((rain_mm.shape[0], 1))
    sums = np.concatenate([zero, np.cumsum(clean, axis=1)], axis=1)
    gaps = np.concatenate([zero, np.cumsum(~valid, axis=1)], axis=1)
    hi = np.arange(1, rain_mm.shape[1] + 1)
    lo = np.maximum(hi - window_steps, 0)
    before = np.maximum(window_steps - hi, 0)
    total = sums[:, hi] - sums[:, lo]
    missing = (gaps[:, hi] - gaps[:, lo]).astype(np.int64) + before
    return total, missing
