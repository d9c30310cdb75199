"""Spatial consistency of rain: a wet outlier against dry zone neighbours is not evidence.

The counterpart of the clogged gauge (a gauge at zero while its neighbours report rain). A
step of at least ``outlier_min_mm_per_h`` x step — 100 mm/h, 25 mm in 15 minutes, the Rio
operations centre's *alert* stage for 15-minute rain (../shared/STORMS.md) — at one gauge
while at least ``clog_min_neighbours`` zone neighbours reported at that same step and all of
them read at most ``outlier_neighbour_mm_per_h`` x step (4 mm/h, 1 mm in 15 minutes: a few
bucket tips) is physically implausible for one community's slope: the zone's gauges lie
within a few hundred metres to about a kilometre of each other, well inside a convective
core (several kilometres). Such a step is screened as out of range (treated as missing, the
station flagged ``OUT_OF_RANGE`` for the stuck window), so it neither raises a level nor, as
a gap, keeps the zone unknown: graded completeness bounds its hidden rain by the dry
neighbours. A gauge with fewer reporting neighbours is not judged.

Limitation: a core smaller than the gauge spacing, or the first step of a cell whose edge
reaches one gauge a quarter of an hour before the others, can be screened; the next step,
with the neighbours wet, is kept. More rain at one gauge can therefore lower its level (the
screen is the one exception to monotonicity); below 25 mm per 15 minutes nothing changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    from models.config import ModelConfig
    from models.inputs import IntArray

SCREENED_MM = -1.0
"""What a screened step becomes: an out-of-range value, missing to every criterion."""


def wet_outliers(
    rain: npt.NDArray[Any], zone: IntArray, step_minutes: int, config: ModelConfig
) -> npt.NDArray[np.bool_]:
    """Cells of ``rain`` [stations, steps] that are wet outliers against their zone."""
    q = config.quality
    per_h = step_minutes / 60.0
    low, dry = q.outlier_min_mm_per_h * per_h, q.outlier_neighbour_mm_per_h * per_h
    high = q.rain_max_mm_per_h * per_h
    out = np.zeros(rain.shape, dtype=np.bool_)
    with np.errstate(invalid="ignore"):
        row, step = np.nonzero((rain >= low) & (rain <= high))
    if not row.size:
        return out
    order = np.argsort(zone, kind="stable")
    counts = np.bincount(zone)
    starts = np.r_[0, np.cumsum(counts)[:-1]]
    size = int(counts.max())
    members = np.full((counts.size, size), -1, dtype=np.int64)
    rank = np.arange(zone.size) - starts[zone[order]]
    members[zone[order], rank] = order
    peers = members[zone[row]]  # [candidates, size]
    others = (peers >= 0) & (peers != row[:, None])
    values = rain[np.where(others, peers, 0), step[:, None]]
    with np.errstate(invalid="ignore"):
        reporting = others & (values >= 0) & (values <= high)
        wet = reporting & (values > dry)
    judged = reporting.sum(axis=1) >= q.clog_min_neighbours
    out[row[judged & ~wet.any(axis=1)], step[judged & ~wet.any(axis=1)]] = True
    return out


def screen(
    rain: npt.NDArray[Any], zone: IntArray, step_minutes: int, config: ModelConfig
) -> npt.NDArray[Any]:
    """``rain`` with wet outliers set to :data:`SCREENED_MM` (a copy only when one is found)."""
    mask = wet_outliers(rain, zone, step_minutes, config)
    if not mask.any():
        return rain
    screened = np.array(rain, copy=True)
    screened[mask] = SCREENED_MM
    return screened
