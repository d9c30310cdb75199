"""Station and zone levels: worst criterion, corroborated crisis, degraded monitoring.

Station level = the worst (highest) criterion level. Zone level = the worst station level,
except that crisis (3) needs corroboration so that one faulty gauge cannot call it: at least
``corroboration_stations`` stations at crisis on their *own* data (interpolated rain does not
count), or a rainfall crisis together with a slope (factor of safety) signal at or above
``soil_corroboration_level`` in the same zone. Uncorroborated crises are held at alert (2)
and reported as such.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from models.result import RAIN_CRITERIA, Criterion, Level

if TYPE_CHECKING:
    from models.config import Zone
    from models.inputs import BoolArray, IntArray


@dataclass(frozen=True, slots=True)
class ZoneLevels:
    """Per-zone aggregation (arrays of shape [zones])."""

    level: npt.NDArray[np.int8]
    unknown: BoolArray
    station: IntArray
    crisis_stations: IntArray
    corroborated: BoolArray
    uncorroborated: BoolArray
    stations: IntArray
    live: IntArray
    live_needed: IntArray
    degraded: BoolArray


def _any_per_zone(mask: BoolArray, zone: IntArray, n_zones: int) -> BoolArray:
    counts: BoolArray = np.bincount(zone, weights=mask, minlength=n_zones) > 0
    return counts


def aggregate_zones(  # noqa: PLR0913, PLR0917  the station arrays the zone rule reads
    station_level: npt.NDArray[np.int8],
    station_unknown: BoolArray,
    own_levels: npt.NDArray[np.int8],
    live: BoolArray,
    zone: IntArray,
    n_zones: int,
    rule: Zone,
) -> ZoneLevels:
    """Combine station levels into zone levels with the corroboration rule."""
    n = station_level.shape[0]
    level = np.zeros(n_zones, dtype=np.int8)
    np.maximum.at(level, zone, station_level)
    # Station deciding the zone: highest level, then lowest index (key = level*n + n-1-i).
    key = np.full(n_zones, -1, dtype=np.int64)
    np.maximum.at(key, zone, station_level.astype(np.int64) * n + (n - 1 - np.arange(n)))
    station = np.where(key >= 0, n - 1 - key % max(n, 1), -1)
    own_crisis = own_levels.max(axis=1, initial=0) >= Level.CRISIS
    crisis_stations = np.bincount(zone, weights=own_crisis, minlength=n_zones).astype(np.int64)
    rain_crisis = own_levels[:, list(RAIN_CRITERIA)].max(axis=1, initial=0) >= Level.CRISIS
    soil_signal = own_levels[:, Criterion.SLOPE] >= rule.soil_corroboration_level
    corroborated = (crisis_stations >= rule.corroboration_stations) | (
        _any_per_zone(rain_crisis, zone, n_zones) & _any_per_zone(soil_signal, zone, n_zones)
    )
    uncorroborated = (level >= Level.CRISIS) & ~corroborated
    level = np.where(uncorroborated, np.int8(Level.ALERT), level).astype(np.int8)
    unknown = _any_per_zone(station_unknown, zone, n_zones) & (level < Level.CRISIS)
    stations = np.bincount(zone, minlength=n_zones).astype(np.int64)
    live_count = np.bincount(zone, weights=live, minlength=n_zones).astype(np.int64)
    fraction_needed = np.ceil(stations * rule.min_live_fraction - 1e-9).astype(np.int64)
    needed = np.maximum(fraction_needed, rule.min_live_stations)
    return ZoneLevels(
        level=level,
        unknown=unknown | ((live_count < needed) & (level < Level.CRISIS)),
        station=station.astype(np.int64),
        crisis_stations=crisis_stations,
        corroborated=corroborated,
        uncorroborated=uncorroborated,
        stations=stations,
        live=live_count,
        live_needed=needed.astype(np.int64),
        degraded=live_count < needed,
    )
