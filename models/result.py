"""Levels, criteria and the model's result arrays."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from models.inputs import BoolArray, FloatArray, IntArray

MODEL_VERSION = "encosta-risk 1.1.0"
"""Version of the equations and level logic; alerts copy it into every alert's evidence."""


class Level(enum.IntEnum):
    """Operator levels. Alerta Rio's probabilities baixa/média/alta/muito alta map to 0-3."""

    NORMAL = 0
    ATTENTION = 1
    ALERT = 2
    CRISIS = 3


class Criterion(enum.IntEnum):
    """Columns of ``criterion_level`` and ``criterion_unknown``."""

    RAIN_1H = 0
    RAIN_24H = 1
    RAIN_96H = 2
    INTENSITY_DURATION = 3
    ANTECEDENT = 4
    SLOPE = 5


RAIN_CRITERIA = (
    Criterion.RAIN_1H,
    Criterion.RAIN_24H,
    Criterion.RAIN_96H,
    Criterion.INTENSITY_DURATION,
    Criterion.ANTECEDENT,
)


@dataclass(frozen=True, slots=True)
class ModelResult:
    """Everything the model concluded at the newest step; arrays over stations or zones.

    Levels are lower bounds proven by the data: where data is missing the matching
    ``*_unknown`` flag says the true level may be higher. Unknown is never "safe".
    """

    network: str
    model_version: str
    step_minutes: int
    # --- per station, shape [stations] unless noted ---
    acc_1h_mm: FloatArray
    acc_24h_mm: FloatArray
    acc_96h_mm: FloatArray
    missing_steps: IntArray
    """[stations, 3]: steps without valid rain in the 1 h / 24 h / 96 h windows."""
    api_mm: FloatArray
    event_active: BoolArray
    event_duration_h: FloatArray
    event_total_mm: FloatArray
    event_intensity_mm_h: FloatArray
    id_threshold_mm_h: FloatArray
    id_ratio: FloatArray
    """Mean event intensity over the ID threshold at the event's duration (NaN: no event)."""
    vwc_m3m3: FloatArray
    """Water content used for the factor of safety (NaN when stale, stuck or absent)."""
    wetness: FloatArray
    factor_of_safety: FloatArray
    criterion_level: npt.NDArray[np.int8]
    """[stations, 6], columns in :class:`Criterion` order."""
    criterion_unknown: BoolArray
    """[stations, 6]: missing or untrusted data; the criterion may be above its level."""
    criterion_estimated: BoolArray
    """[stations, 6]: the value includes rain interpolated from zone neighbours."""
    station_level: npt.NDArray[np.int8]
    station_criterion: npt.NDArray[np.int8]
    """Criterion that set the station level (the first one at that level)."""
    station_unknown: BoolArray
    estimated: BoolArray
    own_crisis: BoolArray
    """Crisis shown by the station's own data (counts towards zone corroboration)."""
    quality: npt.NDArray[np.uint8]
    """:class:`models.quality.QualityFlag` bits."""
    live: BoolArray
    zone: IntArray
    # --- per zone, shape [zones] ---
    zone_level: npt.NDArray[np.int8]
    zone_unknown: BoolArray
    zone_unknown_material: BoolArray
    """Unknown that could change the zone's level by the network's own evidence: a gap counts
    only while the rain it may hide — the wettest zone neighbour at that step, the record rate
    where none reported (:mod:`models.completeness`) — could reach the next level. This, not
    ``zone_unknown``, is what should hold a de-escalation."""
    zone_station: IntArray
    """Station that set the zone level (-1 for an empty zone)."""
    zone_crisis_stations: IntArray
    zone_corroborated: BoolArray
    zone_uncorroborated: BoolArray
    """A crisis was shown but not corroborated, so the zone level was held at alert."""
    zone_stations: IntArray
    zone_live: IntArray
    zone_live_needed: IntArray
    zone_degraded: BoolArray
    """Monitoring degraded: fewer live stations than needed."""
