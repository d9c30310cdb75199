"""Graded completeness: how much rain the missing steps of each window could still hide.

A gap is unknown *rain*, not unknown *risk*: it matters only if the rain it may hide could
lift a criterion to a higher level. For each missing (or out-of-range) step of a station,
the rain it may hide is bounded by the wettest valid reading of a zone neighbour at that same
step — the network's own evidence of what fell then (a cell smaller than the station spacing
can escape it, the limitation that interpolation already has) — and, where no zone neighbour
reported at that step, or before the record begins, by ``gap_max_mm_per_h`` x step: the
regional record intensity (Rio 123.6 mm in 1 h at Barra/Riocentro, 15 February 2018;
Petrópolis 125.8 mm in the hour ending 17:15, 15 February 2022; ../shared/STORMS.md).

:func:`gap_bounds` returns that bound per window (1 h, 24 h, 96 h); :func:`models.evaluate`
marks a criterion unknown only while ``observed + bound`` reaches the next level's threshold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    from models.inputs import FloatArray, IntArray, StepWindows


def _zone_peaks(clean: npt.NDArray[Any], zone: IntArray, n_zones: int) -> npt.NDArray[Any]:
    """Wettest valid reading per zone and step ([zones, steps], NaN where none reported).

    Rows are laid out as [zones, rank in zone, steps] (NaN padded) and reduced with fmax:
    three times faster than ``fmax.reduceat`` over rows; reduceat serves when one zone is so
    much larger than the others that the padding would cost more memory than the array.
    """
    n, n_steps = clean.shape
    order = np.argsort(zone, kind="stable")
    zones_sorted = zone[order]
    starts = np.flatnonzero(np.r_[True, zones_sorted[1:] != zones_sorted[:-1]])
    present = zones_sorted[starts]
    peak = np.full((n_zones, n_steps), np.nan, dtype=clean.dtype)
    group = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, n]))
    rank = np.arange(n) - starts[group]
    size = int(rank.max()) + 1
    with np.errstate(invalid="ignore"):
        if starts.size * size <= 4 * n:
            padded = np.full((starts.size, size, n_steps), np.nan, dtype=clean.dtype)
            padded[group, rank] = clean[order]
            peak[present] = np.fmax.reduce(padded, axis=1)
        else:
            peak[present] = np.fmax.reduceat(clean[order], starts, axis=0)
    return peak


def gap_bounds(  # noqa: PLR0913, PLR0917  the array, its screen, the zones and two limits
    rain: npt.NDArray[Any],
    dirty: npt.NDArray[np.bool_],
    zone: IntArray,
    n_zones: int,
    win: StepWindows,
    gap_max_mm: float,
) -> FloatArray:
    """Upper bound (mm) of the rain hidden in each station's missing steps, [stations, 3].

    ``dirty`` marks rows with a missing or out-of-range step (:func:`models.rainfall.dirty_rows`);
    ``gap_max_mm`` is the per-step bound used where no zone neighbour reported.
    """
    n, n_steps = rain.shape
    lengths = (win.w1h, win.w24h, win.w96h)
    before = np.array([max(0, length - n_steps) for length in lengths], dtype=np.float64)
    out = np.broadcast_to(before * gap_max_mm, (n, 3)).copy()
    rows = np.flatnonzero(dirty)
    if not rows.size:
        return out
    with np.errstate(invalid="ignore"):
        valid = (rain >= 0) & (rain <= win.rain_max_mm)  # NaN compares False
    clean = np.where(valid, rain, np.nan)
    peak = _zone_peaks(clean, zone, n_zones)
    # Only the gaps are visited (a few per cent of the cells).
    row, step = np.nonzero(~valid[rows])
    neighbour = peak[zone[rows][row], step].astype(np.float64)
    unseen = np.isnan(neighbour)  # no neighbour reported: the record-rate bound
    seen_mm = np.where(unseen, 0.0, neighbour)
    m = rows.size
    for column, length in enumerate(lengths):
        inside = step >= max(0, n_steps - length)
        # Counted, then multiplied, so that the ring of the incremental path (where steps
        # before the record are NaN columns) gives the same float as ``before`` here.
        count = before[column] + np.bincount(row[inside & unseen], minlength=m)
        hidden = np.bincount(row[inside], weights=seen_mm[inside], minlength=m)
        out[rows, column] = count * gap_max_mm + hidden
    return out
