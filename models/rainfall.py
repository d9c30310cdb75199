"""Rolling rainfall accumulations over 1 h, 24 h and 96 h, and the API, for all stations.

Only the newest value of each rolling sum is needed, so each is a product with fixed weights
(ones over the window's trailing columns, API decay weights over the record), never a rolling
series. Rows holding a gap or an out-of-range value are found with one integer max over the
array's bit patterns and recomputed with masking; gaps are never read as zero rain: they are
counted in ``missing`` so levels can be flagged unknown. :func:`row_pass` does the whole-array
work of the full evaluation in one chunked read; :func:`window_sums` also works on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from models.antecedent import api_weights

if TYPE_CHECKING:
    from models.inputs import FloatArray, IntArray, StepWindows


def as_float(rain_mm: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """The array itself when float32 or float64, else a float64 copy."""
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


def block_sums(values: npt.NDArray[Any], size: int, blocks: int) -> npt.NDArray[Any]:
    """Sums of the last ``blocks`` blocks of ``size`` steps per row ([rows, blocks], oldest first).

    One stacked matrix-vector product over the trailing ``blocks * size`` columns (NaN and
    out-of-range values are summed as they are: use on rows known to be clean).
    """
    n_steps = values.shape[1]
    tail = values[:, n_steps - blocks * size :].reshape(values.shape[0], blocks, size)
    result: npt.NDArray[Any] = tail @ np.ones(size, dtype=values.dtype)
    return result


def _long_weights(n_steps: int, win: StepWindows, dtype: npt.DTypeLike) -> npt.NDArray[Any]:
    """[2, steps]: ones over the trailing 96 h, and the API decay weights over the record."""
    weights = np.zeros((2, n_steps), dtype=dtype)
    weights[0, max(0, n_steps - win.w96h) :] = 1.0
    weights[1] = api_weights(n_steps, win.k_step, dtype)
    return weights


ROW_BLOCK = 64
"""Rows per chunk of :func:`row_pass`: the chunk (~0.3 MB at 96 h of 5-minute float32 steps)
stays in the core's cache while it is read three times, and its [64, steps] x [steps, 2]
product stays below OpenBLAS's threading threshold (threads only add jitter here). Larger
chunks (up to 1 MB) measured no faster in the full evaluation, and a chunk height that is not
a multiple of the BLAS kernel's row tile changes the last bit of some float32 sums."""


def row_pass(
    rain: npt.NDArray[Any], win: StepWindows, blocks: int
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[Any], npt.NDArray[Any]]:
    """Everything the evaluation needs from the whole array, reading it from memory once.

    Returns ``(dirty[rows], long[rows, 2], hourly[rows, blocks])``: :func:`dirty_rows`, the
    raw 96 h sum and API dot products (exact only for clean rows), and :func:`block_sums` of
    ``w1h`` steps. Works in chunks of :data:`ROW_BLOCK` rows so that the three reductions
    read each chunk from cache rather than the array three times from memory; every result is
    written in place (``out=``) into arrays allocated once per call.
    """
    n, n_steps = rain.shape
    weights = np.ascontiguousarray(_long_weights(n_steps, win, rain.dtype).T)
    uint = np.uint32 if rain.dtype == np.float32 else np.uint64
    limit = np.array(win.rain_max_mm, dtype=rain.dtype).view(uint)
    bits = rain.view(uint)
    top = np.empty(n, dtype=uint)
    long = np.empty((n, 2), dtype=rain.dtype)
    hourly = np.empty((n, blocks), dtype=rain.dtype)
    size = win.w1h
    ones = np.ones(size, dtype=rain.dtype)
    tail = n_steps - blocks * size
    # inf or huge values make NaN or overflow in the products of their (dirty) rows only.
    with np.errstate(invalid="ignore", over="ignore"):
        for low in range(0, n, ROW_BLOCK):
            high = min(n, low + ROW_BLOCK)
            chunk = rain[low:high]
            np.matmul(chunk, weights, out=long[low:high])
            np.max(bits[low:high], axis=1, out=top[low:high])
            if blocks:
                hours = chunk[:, tail:].reshape(high - low, blocks, size)
                np.matmul(hours, ones, out=hourly[low:high])
    dirty: npt.NDArray[np.bool_] = np.greater(top, limit)
    return dirty, long, hourly


def window_sums(
    rain_mm: npt.NDArray[Any],
    win: StepWindows,
    dirty: npt.NDArray[np.bool_] | None = None,
    hourly: npt.NDArray[Any] | None = None,
    long: npt.NDArray[Any] | None = None,
) -> tuple[FloatArray, IntArray, FloatArray]:
    """Observed accumulations, missing counts per window, and API at the newest step.

    Returns ``(acc_mm[stations, 3], missing[stations, 3], api_mm[stations])`` for the windows
    1 h, 24 h, 96 h. Steps before the first column count as missing. ``dirty`` is
    :func:`dirty_rows` of the array when the caller already has it; ``hourly``, the
    :func:`block_sums` of 1-hour blocks, spares reading the last 24 h again when it covers them;
    ``long``, the raw 96 h and API dot products of :func:`row_pass`, spares the whole array.
    """
    rain = as_float(rain_mm)
    n, n_steps = rain.shape
    lengths = (win.w1h, win.w24h, win.w96h)
    weights = np.zeros((4, n_steps), dtype=rain.dtype)
    for column, length in enumerate(lengths):
        weights[column, max(0, n_steps - length) :] = 1.0
    weights[3] = api_weights(n_steps, win.k_step, rain.dtype)
    # Without row_pass: row-wise dot products (single-threaded BLAS dots, steady under load,
    # unlike a threaded matrix product); the 1 h and 24 h sums read only their trailing columns.
    acc = np.empty((n, 3), dtype=np.float64)
    api = np.empty(n, dtype=np.float64)
    both = np.vecdot(rain[:, None, :], weights[2:]) if long is None else long
    acc[:, 2], api[:] = both[:, 0], both[:, 1]
    if hourly is not None and hourly.shape[1] * win.w1h >= win.w24h and n_steps >= win.w24h:
        acc[:, 0] = hourly[:, -1]
        acc[:, 1] = hourly[:, -(win.w24h // win.w1h) :].sum(axis=1)
    else:
        for column, length in enumerate(lengths[:2]):
            low = max(0, n_steps - length)
            acc[:, column] = np.vecdot(rain[:, low:], weights[column, low:])
    before = np.array([max(0, length - n_steps) for length in lengths], dtype=np.int64)
    missing = np.broadcast_to(before, acc.shape).copy()
    if dirty is None:
        dirty = dirty_rows(rain, win.rain_max_mm)
    rows = np.flatnonzero(dirty)
    if rows.size:
        sub = rain[rows]
        valid = (sub >= 0.0) & (sub <= win.rain_max_mm)
        clean = np.where(valid, sub, sub.dtype.type(0.0))
        fixed = np.vecdot(clean[:, None, :], weights)
        acc[rows] = fixed[:, :3]
        api[rows] = fixed[:, 3]
        # Counts below 2**24 are exact in float32, so dot products can count the gaps too.
        gaps = np.vecdot((~valid).astype(rain.dtype)[:, None, :], weights[:3] > 0)
        missing[rows] = np.rint(gaps).astype(np.int64) + before
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
