"""Data-quality states per station: offline, stuck, out of range, clogged gauge.

Each is a distinct bit of :class:`QualityFlag` so an operator sees *why* a station is not
trusted. No data means unknown risk, never "safe": a flagged gauge's rain is not used as
evidence of low rain (its windows are marked unknown and estimated from neighbours).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from models.rainfall import as_float, dirty_rows

if TYPE_CHECKING:
    from collections.abc import Callable

    from models.config import ModelConfig
    from models.inputs import BoolArray, IntArray, StationStatic, StepWindows
    from models.summary import WindowSummary


class QualityFlag(enum.IntFlag):
    """Bits of the per-station ``quality`` array (uint8)."""

    OK = 0
    OFFLINE = 1
    """No reading of any kind for ``offline_intervals`` grid steps."""
    STUCK = 2
    """Flat-lined: the same soil-moisture value, or the same non-zero rain, for the stuck window."""
    OUT_OF_RANGE = 4
    """A reading outside the plausible range within the stuck window (it is treated as missing):
    negative or too much rain, a wet outlier against the zone, soil moisture outside 0-0.7 or
    above the station's saturated water content plus the probe tolerance, or a soil-moisture
    jump after a rainless day in the zone."""
    CLOGGED = 8
    """Gauge reads zero for the last hour while enough zone neighbours report rain."""


@dataclass(frozen=True, slots=True)
class QualityState:
    """Flags and what they imply for the criteria (arrays of shape [stations])."""

    flags: npt.NDArray[np.uint8]
    rain_trusted: BoolArray
    rain_stuck: BoolArray
    """Flat-lined gauge: its readings are not even a lower bound."""
    rain_suspect: BoolArray
    """Reads zero while neighbours with gaps might be wet: maybe clogged, so level unknown."""
    vwc_trusted: BoolArray
    live: BoolArray


_NARROW = 8
"""Windows up to this many columns are counted column by column (cheaper than argmin)."""

_SHALLOW = 8
"""Flat runs are followed pair by pair on the shrinking set of rows for this many pairs."""


def _trailing_true(mask: npt.NDArray[np.bool_]) -> IntArray:
    """Number of consecutive True values at the end of each row."""
    width = mask.shape[1]
    if width <= _NARROW:
        count = np.zeros(mask.shape[0], dtype=np.int64)
        alive = np.ones(mask.shape[0], dtype=np.bool_)
        for column in range(width - 1, -1, -1):
            alive &= mask[:, column]
            count += alive
        return count
    reverse = mask[:, ::-1]
    count = np.argmin(reverse, axis=1).astype(np.int64)
    result: IntArray = np.where(reverse.all(axis=1), width, count)
    return result


def _since(event: npt.NDArray[np.bool_], cap: int) -> IntArray:
    """Steps since the last True in each row (0: the newest step), ``cap`` if none."""
    count = _trailing_true(~event)
    return np.where(count >= event.shape[1], cap, np.minimum(count, cap))


def _pair_runs(
    window: npt.NDArray[Any],
    flat: Callable[[npt.NDArray[Any], npt.NDArray[Any]], npt.NDArray[np.bool_]],
    cap: int,
) -> IntArray:
    """Trailing count of consecutive flat pairs ``flat(older, newer)`` per row, capped at ``cap``.

    Followed pair by pair over the rows still flat (most runs end within a pair or two); rows
    still flat after :data:`_SHALLOW` pairs get the whole window at once.
    """
    n, width = window.shape
    run = np.zeros(n, dtype=np.int64)
    if width < 2:
        return run
    alive = np.flatnonzero(flat(window[:, -2], window[:, -1]))
    run[alive] = 1
    pair = 1
    while alive.size and pair < min(cap, width - 1):
        if pair == _SHALLOW:
            sub = window[alive]
            run[alive] = _trailing_true(flat(sub[:, :-1], sub[:, 1:]))
            break
        alive = alive[flat(window[alive, width - 2 - pair], window[alive, width - 1 - pair])]
        run[alive] += 1
        pair += 1
    return np.minimum(run, cap)


def _flat_run_counts(
    rain: npt.NDArray[Any], vwc: npt.NDArray[Any], win: StepWindows, config: ModelConfig
) -> tuple[IntArray, IntArray]:
    """Flat-run counters: equal non-zero rain, soil moisture within the tolerance."""
    q = config.quality
    vmax, high, tolerance = q.vwc_max_m3m3, win.rain_max_mm, q.stuck_tolerance_vwc

    def same_rain(older: npt.NDArray[Any], newer: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
        result: npt.NDArray[np.bool_] = (newer == older) & (newer > 0.0) & (newer <= high)
        return result

    def same_vwc(older: npt.NDArray[Any], newer: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
        with np.errstate(invalid="ignore"):
            near = np.abs(newer - older) <= tolerance
        result: npt.NDArray[np.bool_] = (
            near & (newer >= 0.0) & (newer <= vmax) & (older >= 0.0) & (older <= vmax)
        )
        return result

    cap = win.stuck - 1
    return _pair_runs(rain, same_rain, cap), _pair_runs(vwc, same_vwc, cap)


def vwc_rise(
    window: npt.NDArray[Any], newest: npt.NDArray[Any], vmax: float
) -> npt.NDArray[np.float64]:
    """Rise of ``newest`` (the newest valid soil reading) over the lowest valid one in ``window``.

    m3/m3; 0 where there is no valid reading. The window is the stuck window's.
    """
    low = np.min(np.where((window >= 0.0) & (window <= vmax), window, np.inf), axis=1)
    rise = np.where(np.isfinite(low) & np.isfinite(newest), newest - low, 0.0)
    return np.asarray(rise, dtype=np.float64)


def sensor_stats(
    rain_mm: npt.NDArray[Any],
    vwc_m3m3: npt.NDArray[Any],
    win: StepWindows,
    config: ModelConfig,
    dirty: BoolArray | None = None,
) -> dict[str, npt.NDArray[Any]]:
    """Counters for quality and the soil criterion, from the trailing windows of the arrays.

    Flat runs count consecutive pairs of equal readings (soil moisture within the tolerance;
    rain equal and above zero), capped at ``stuck - 1``; ``since_*`` counters are capped at the
    window that makes them matter. :class:`models.state.ModelState` keeps the same counters.
    Rows are screened first: only rows whose newest pair is flat can have a flat run, and only
    rows with a value outside ``[0, max]`` (one integer max over the bit patterns, as in
    :func:`models.rainfall.dirty_rows`) can have a bad reading, so the step-level windows are
    built for those rows only. ``dirty`` (:func:`models.rainfall.dirty_rows` of the whole rain
    array) spares the screen of the rain window when the caller already has it.
    """
    q = config.quality
    vmax = q.vwc_max_m3m3
    n = rain_mm.shape[0]
    # A compact copy of a trailing window that is screened whole: one sweep over the rows'
    # cold cache lines. With ``dirty`` known, rain is read only at a few columns and rows.
    rain = as_float(rain_mm[:, -(win.stuck + 1) :])
    if dirty is None:
        rain = np.ascontiguousarray(rain)
    vwc = np.ascontiguousarray(as_float(vwc_m3m3[:, -(win.stuck + 1) :]))
    rain_flat, vwc_flat = _flat_run_counts(rain, vwc, win, config)
    since_bad = np.full(n, win.stuck, dtype=np.int64)
    recent_r, recent_v = rain[:, -win.stuck :], vwc[:, -win.stuck :]
    suspect = dirty_rows(recent_r, win.rain_max_mm) if dirty is None else dirty.copy()
    suspect |= dirty_rows(recent_v, vmax)
    rows = np.flatnonzero(suspect)
    if rows.size:
        r, v = recent_r[rows], recent_v[rows]
        bad = (r < 0.0) | (r > win.rain_max_mm) | (v < 0.0) | (v > vmax)
        since_bad[rows] = _since(bad, win.stuck)
    inside = win.offline <= rain.shape[1]
    last_r = rain[:, -win.offline :] if inside else rain_mm[:, -win.offline :]
    last_v = vwc[:, -win.offline :] if inside else vwc_m3m3[:, -win.offline :]
    seen = np.isfinite(last_r) | np.isfinite(last_v)
    fresh = (last_v >= 0.0) & (last_v <= vmax)
    vwc_age = _since(fresh, win.offline)
    column = np.clip(fresh.shape[1] - 1 - vwc_age, 0, None)
    vwc_last = np.where(vwc_age < win.offline, last_v[np.arange(n), column], np.nan)
    vwc_seen = vwc_age < win.offline
    stale = np.flatnonzero(~vwc_seen)
    if stale.size:
        rows_v = vwc_m3m3[stale]
        vwc_seen[stale] = ((rows_v >= 0.0) & (rows_v <= vmax)).any(axis=1)
    return {
        "vwc_rise": vwc_rise(vwc, vwc_last, vmax),
        "rain_flat_run": rain_flat,
        "vwc_flat_run": vwc_flat,
        "since_obs": _since(seen, win.offline),
        "since_bad": since_bad,
        "vwc_last": vwc_last.astype(np.float64),
        "vwc_age": vwc_age,
        "vwc_seen": vwc_seen,
    }


def assess(
    summary: WindowSummary, static: StationStatic, win: StepWindows, config: ModelConfig
) -> QualityState:
    """Turn the counters into flags; a clogged gauge is judged against its zone neighbours."""
    q = config.quality
    offline = summary.since_obs >= win.offline
    complete_1h = summary.missing[:, 0] == 0
    # Identical non-zero totals are how a steady rain reads on a tipping bucket (one tip per
    # interval): a flat run is a stuck logger only while no zone neighbour reports rain in
    # the last hour too (issue 9, cause 4).
    raining = complete_1h & (summary.acc_mm[:, 0] > 0.0)
    raining_in_zone = np.bincount(static.zone, weights=raining, minlength=static.n_zones)
    corroborated = raining_in_zone[static.zone] - raining >= 1
    stuck_rain = (summary.rain_flat_run >= win.stuck - 1) & ~corroborated
    has_soil = summary.vwc_seen if static.has_soil_sensor is None else static.has_soil_sensor
    stuck_vwc = (summary.vwc_flat_run >= win.stuck - 1) & has_soil
    # A probe reading above its station's saturated water content (beyond the probe's
    # accuracy) is a fault, not a saturated slope (issue 9, cause 3).
    with np.errstate(invalid="ignore"):
        oversaturated = summary.vwc_last > static.params.vwc_saturated + q.vwc_saturation_tolerance
    # Water content rises only when water arrives: a jump of the probe over its lowest reading
    # in the stuck window while neither the station nor any zone neighbour recorded rain for
    # 24 h is a fault (a spike, a calibration jump), not a wetting slope (issue 9, cause 3).
    dry_24h = summary.acc_mm[:, 1] == 0.0
    wet_zone = np.bincount(static.zone, weights=~dry_24h, minlength=static.n_zones) > 0
    jumped = np.zeros(oversaturated.shape, dtype=np.bool_)
    if summary.vwc_rise is not None:
        jumped = (summary.vwc_rise >= q.vwc_jump_m3m3) & dry_24h & ~wet_zone[static.zone]
    oversaturated |= jumped
    out_of_range = (summary.since_bad < win.stuck) | oversaturated
    reporting = complete_1h & ~stuck_rain
    wet = reporting & (summary.acc_mm[:, 0] >= q.clog_neighbour_mm_1h)
    wet_in_zone = np.bincount(static.zone, weights=wet, minlength=static.n_zones)
    clogged = reporting & (summary.acc_mm[:, 0] == 0.0)
    clogged &= wet_in_zone[static.zone] >= q.clog_min_neighbours
    # Neighbours with gaps might be wet too: the verdict must not flip because data went missing.
    # Graded (models.completeness): a gap counts only while the hour's observed rain plus what
    # its gaps may hide (the neighbours' readings at those steps) could reach the wet mark.
    unsure = ~reporting
    bound = summary.gap_bound_mm
    if bound is not None:
        could_be_wet = summary.acc_mm[:, 0] + bound[:, 0] >= q.clog_neighbour_mm_1h
        unsure = stuck_rain | (~complete_1h & could_be_wet)
    unsure_in_zone = np.bincount(static.zone, weights=unsure, minlength=static.n_zones)
    suspect = reporting & (summary.acc_mm[:, 0] == 0.0) & ~clogged
    suspect &= (wet_in_zone + unsure_in_zone)[static.zone] >= q.clog_min_neighbours
    flags = (
        offline * QualityFlag.OFFLINE.value
        | (stuck_rain | stuck_vwc) * QualityFlag.STUCK.value
        | out_of_range * QualityFlag.OUT_OF_RANGE.value
        | clogged * QualityFlag.CLOGGED.value
    ).astype(np.uint8)
    return QualityState(
        flags=flags,
        rain_trusted=~(stuck_rain | clogged),
        rain_stuck=stuck_rain,
        rain_suspect=suspect,
        vwc_trusted=~stuck_vwc & ~oversaturated & (summary.vwc_age < win.offline),
        live=flags == 0,
    )


def describe(flags: int) -> tuple[str, ...]:
    """Names of the set flags, e.g. ``("OFFLINE", "STUCK")``; empty when all is well."""
    return tuple(flag.name or "" for flag in QualityFlag if flag.value and flags & flag.value)
