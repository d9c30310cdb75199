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

if TYPE_CHECKING:
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
    """A reading outside the plausible range within the stuck window (it is treated as missing)."""
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


def _trailing_true(mask: npt.NDArray[np.bool_]) -> IntArray:
    """Number of consecutive True values at the end of each row."""
    width = mask.shape[1]
    if width == 0:
        return np.zeros(mask.shape[0], dtype=np.int64)
    reverse = mask[:, ::-1]
    count = np.argmin(reverse, axis=1).astype(np.int64)
    result: IntArray = np.where(reverse.all(axis=1), width, count)
    return result


def _since(event: npt.NDArray[np.bool_], cap: int) -> IntArray:
    """Steps since the last True in each row (0: the newest step), ``cap`` if none."""
    count = _trailing_true(~event)
    return np.where(count >= event.shape[1], cap, np.minimum(count, cap))


def sensor_stats(
    rain_mm: npt.NDArray[Any], vwc_m3m3: npt.NDArray[Any], win: StepWindows, config: ModelConfig
) -> dict[str, npt.NDArray[Any]]:
    """Counters for quality and the soil criterion, from the trailing windows of the arrays.

    Flat runs count consecutive pairs of equal readings (soil moisture within the tolerance;
    rain equal and above zero), capped at ``stuck - 1``; ``since_*`` counters are capped at the
    window that makes them matter. :class:`models.state.ModelState` keeps the same counters.
    """
    q = config.quality
    vmax = q.vwc_max_m3m3
    rain = rain_mm[:, -(win.stuck + 1) :]
    vwc = vwc_m3m3[:, -(win.stuck + 1) :]
    rain_ok = (rain >= 0.0) & (rain <= win.rain_max_mm)
    vwc_ok = (vwc >= 0.0) & (vwc <= vmax)
    same_rain = (rain[:, 1:] == rain[:, :-1]) & (rain[:, 1:] > 0.0) & rain_ok[:, 1:]
    with np.errstate(invalid="ignore"):
        flat_vwc = np.abs(vwc[:, 1:] - vwc[:, :-1]) <= q.stuck_tolerance_vwc
    same_vwc = flat_vwc & vwc_ok[:, 1:] & vwc_ok[:, :-1]
    bad = ((rain < 0.0) | (rain > win.rain_max_mm)) | ((vwc < 0.0) | (vwc > vmax))
    seen = np.isfinite(rain_mm[:, -win.offline :]) | np.isfinite(vwc_m3m3[:, -win.offline :])
    fresh = vwc_ok[:, -win.offline :]
    vwc_age = _since(fresh, win.offline)
    tail = vwc[:, -fresh.shape[1] :]
    column = np.clip(fresh.shape[1] - 1 - vwc_age, 0, None)
    vwc_last = np.where(vwc_age < win.offline, tail[np.arange(tail.shape[0]), column], np.nan)
    vwc_seen = vwc_age < win.offline
    stale = np.flatnonzero(~vwc_seen)
    if stale.size:
        rows = vwc_m3m3[stale]
        vwc_seen[stale] = ((rows >= 0.0) & (rows <= vmax)).any(axis=1)
    return {
        "rain_flat_run": np.minimum(_trailing_true(same_rain), win.stuck - 1),
        "vwc_flat_run": np.minimum(_trailing_true(same_vwc), win.stuck - 1),
        "since_obs": _since(seen, win.offline),
        "since_bad": _since(bad[:, -win.stuck :], win.stuck),
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
    stuck_rain = summary.rain_flat_run >= win.stuck - 1
    has_soil = summary.vwc_seen if static.has_soil_sensor is None else static.has_soil_sensor
    stuck_vwc = (summary.vwc_flat_run >= win.stuck - 1) & has_soil
    out_of_range = summary.since_bad < win.stuck
    complete_1h = summary.missing[:, 0] == 0
    reporting = complete_1h & ~stuck_rain
    wet = reporting & (summary.acc_mm[:, 0] >= q.clog_neighbour_mm_1h)
    wet_in_zone = np.bincount(static.zone, weights=wet, minlength=static.n_zones)
    clogged = reporting & (summary.acc_mm[:, 0] == 0.0)
    clogged &= wet_in_zone[static.zone] >= q.clog_min_neighbours
    # Neighbours with gaps might be wet too: the verdict must not flip because data went missing.
    unsure = ~reporting
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
        vwc_trusted=~stuck_vwc & (summary.vwc_age < win.offline),
        live=flags == 0,
    )


def describe(flags: int) -> tuple[str, ...]:
    """Names of the set flags, e.g. ``("OFFLINE", "STUCK")``; empty when all is well."""
    return tuple(flag.name or "" for flag in QualityFlag if flag.value and flags & flag.value)
