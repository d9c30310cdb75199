"""The model's output, stored: one row per evaluated step and station, and per step and zone.

Grafana draws the factor of safety, the zone-level timeline and the storm overview from these
rows (migration 0010, ``station_results`` and ``zone_results``). The evaluator calls
:func:`store_results` once per evaluation with the model's result and the evaluated step (the
15-minute bucket of the newest data). Rows are built column by column with numpy, with no
Python object per station, and sent by binary COPY after deleting what an earlier evaluation
of the same step wrote for the same zones, in one transaction: a step evaluated again (late
data, a replica taking over) replaces its rows, so the tables hold the newest evaluation of
each step, once. Delete-then-COPY costs half of an ``INSERT … SELECT FROM unnest(…) ON
CONFLICT DO UPDATE`` of the same rows (bench/results.py, docs/benchmarks.md).

Only the zones this evaluator owns (and their stations) are written, so replicas that share
a network never write the same rows.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import asyncpg
import numpy as np

from models import Criterion
from models.evidence import thresholds

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    import numpy.typing as npt

    from alerts.observations import StationTable
    from models import ModelConfig, ModelResult

log = logging.getLogger("encosta.alerts.results")

_CRITERIA = np.array([c.name.lower() for c in Criterion], dtype=object)

STATION_COLUMNS = (
    *("step", "station_id", "zone_id", "level", "criterion", "value", "threshold", "unknown"),
    *("estimated", "factor_of_safety", "vwc_m3m3", "rain_1h_mm", "rain_24h_mm", "rain_96h_mm"),
    *("api_mm", "event_intensity_mm_h", "id_threshold_mm_h", "quality", "live", "model_version"),
)
ZONE_COLUMNS = (
    *("step", "zone_id", "level", "criterion", "value", "threshold", "station_id", "unknown"),
    *("unknown_material", "crisis_stations", "corroborated", "degraded", "stations"),
    *("live_stations", "min_factor_of_safety", "max_rain_1h_mm", "max_rain_24h_mm"),
    *("max_rain_96h_mm", "model_version"),
)
# What an earlier evaluation of the step wrote for these zones, replaced in the same
# transaction (the primary keys (station_id, step) and (zone_id, step) keep one row each).
_FORGET_STATIONS = "DELETE FROM station_results WHERE step = $1 AND zone_id = ANY($2::text[])"
_FORGET_ZONES = "DELETE FROM zone_results WHERE step = $1 AND zone_id = ANY($2::text[])"


def _floats(values: npt.NDArray[Any]) -> list[float | None]:
    """A column for PostgreSQL: NaN and infinities are unknown (NULL), never a number."""
    column = np.asarray(values, dtype=np.float64)
    out: list[float | None] = column.tolist()
    for i in np.flatnonzero(~np.isfinite(column)):
        out[i] = None
    return out


def deciding_values(
    result: ModelResult, config: ModelConfig
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per station: the value and threshold of the criterion that set its level.

    The threshold is the one of the level reached, or of level 1 at level 0 (the distance
    still to go), as in :func:`models.evidence.station_evidence`; intensity-duration ratios are
    turned into mm/h with the station's curve.
    """
    values = np.stack(
        [
            result.acc_1h_mm,
            result.acc_24h_mm,
            result.acc_96h_mm,
            result.event_intensity_mm_h,
            result.api_mm,
            result.factor_of_safety,
        ],
        axis=1,
    ).astype(np.float64)
    table = np.array([thresholds(config, c) for c in Criterion], dtype=np.float64)  # [6, 3]
    criterion = result.station_criterion.astype(np.int64)
    rows = np.arange(len(criterion))
    level_index = np.maximum(result.station_level.astype(np.int64), 1) - 1
    threshold = table[criterion, level_index]
    curve = np.asarray(result.id_threshold_mm_h, dtype=np.float64)
    is_id = criterion == Criterion.INTENSITY_DURATION
    threshold = np.where(is_id, threshold * curve, threshold)
    return values[rows, criterion], threshold


def _zone_reduce(
    result: ModelResult, values: npt.NDArray[Any], n_zones: int, *, lowest: bool
) -> npt.NDArray[np.float64]:
    """The lowest (or highest) finite value of each zone's stations; NaN where none is known."""
    column = np.asarray(values, dtype=np.float64)
    fill = np.inf if lowest else -np.inf
    out = np.full(n_zones, fill)
    known = np.isfinite(column)
    (np.minimum if lowest else np.maximum).at(out, result.zone[known], column[known])
    out[np.isinf(out)] = np.nan
    return out


def station_columns(
    result: ModelResult, config: ModelConfig, stations: StationTable, keep: npt.NDArray[np.bool_]
) -> list[list[Any]]:
    """The station rows of ``keep``, column by column (:data:`STATION_COLUMNS` [1:-1])."""
    value, threshold = deciding_values(result, config)
    ids = np.array(stations.ids, dtype=object)
    zones = np.array(stations.zone_ids, dtype=object)[result.zone]
    criterion = result.station_criterion.astype(np.int64)
    unknown = (
        result.criterion_unknown[np.arange(len(criterion)), criterion] | result.station_unknown
    )
    return [
        ids[keep].tolist(),
        zones[keep].tolist(),
        result.station_level[keep].astype(np.int16).tolist(),
        _CRITERIA[criterion[keep]].tolist(),
        _floats(value[keep]),
        _floats(threshold[keep]),
        unknown[keep].tolist(),
        result.estimated[keep].tolist(),
        _floats(result.factor_of_safety[keep]),
        _floats(result.vwc_m3m3[keep]),
        _floats(result.acc_1h_mm[keep]),
        _floats(result.acc_24h_mm[keep]),
        _floats(result.acc_96h_mm[keep]),
        _floats(result.api_mm[keep]),
        _floats(result.event_intensity_mm_h[keep]),
        _floats(result.id_threshold_mm_h[keep]),
        result.quality[keep].astype(np.int16).tolist(),
        result.live[keep].tolist(),
    ]


def zone_columns(
    result: ModelResult, config: ModelConfig, stations: StationTable, keep: npt.NDArray[np.bool_]
) -> list[list[Any]]:
    """The zone rows of ``keep``, column by column (:data:`ZONE_COLUMNS` [1:-1])."""
    n_zones = len(stations.zone_ids)
    value, threshold = deciding_values(result, config)
    deciding = result.zone_station.astype(np.int64)
    has = deciding >= 0
    at = np.where(has, deciding, 0)
    ids = np.array(stations.ids, dtype=object)
    nothing = np.full(n_zones, None, dtype=object)  # an empty zone has no deciding station
    criterion = np.where(has, _CRITERIA[result.station_criterion[at].astype(np.int64)], nothing)
    zone_value = np.where(has, value[at], np.nan)
    zone_threshold = np.where(has, threshold[at], np.nan)
    station = np.where(has, ids[at], nothing)
    return [
        np.array(stations.zone_ids, dtype=object)[keep].tolist(),
        result.zone_level[keep].astype(np.int16).tolist(),
        criterion[keep].tolist(),
        _floats(zone_value[keep]),
        _floats(zone_threshold[keep]),
        station[keep].tolist(),
        result.zone_unknown[keep].tolist(),
        result.zone_unknown_material[keep].tolist(),
        result.zone_crisis_stations[keep].astype(np.int32).tolist(),
        result.zone_corroborated[keep].tolist(),
        result.zone_degraded[keep].tolist(),
        result.zone_stations[keep].astype(np.int32).tolist(),
        result.zone_live[keep].astype(np.int32).tolist(),
        _floats(_zone_reduce(result, result.factor_of_safety, n_zones, lowest=True)[keep]),
        _floats(_zone_reduce(result, result.acc_1h_mm, n_zones, lowest=False)[keep]),
        _floats(_zone_reduce(result, result.acc_24h_mm, n_zones, lowest=False)[keep]),
        _floats(_zone_reduce(result, result.acc_96h_mm, n_zones, lowest=False)[keep]),
    ]


async def store_results(  # noqa: PLR0913, PLR0917  the evaluator's one call
    connection: asyncpg.Connection,
    result: ModelResult,
    config: ModelConfig,
    stations: StationTable,
    step: datetime,
    mine: Callable[[str], bool] = lambda _zone: True,
) -> int:
    """Store (or replace) step ``step``'s results of the zones ``mine`` accepts; the rows.

    A failure is logged and counted as zero rows, never raised: the alert lifecycle must not
    wait for the dashboards' table.
    """
    owned = np.array([mine(z) for z in stations.zone_ids], dtype=np.bool_)
    if not owned.any():
        return 0
    station_keep = owned[result.zone]
    zones = [z for z, kept in zip(stations.zone_ids, owned, strict=True) if kept]
    version = result.model_version
    station_rows = _rows(step, station_columns(result, config, stations, station_keep), version)
    zone_rows = _rows(step, zone_columns(result, config, stations, owned), version)
    try:
        async with connection.transaction():
            await connection.execute(_FORGET_STATIONS, step, zones)
            await connection.execute(_FORGET_ZONES, step, zones)
            await connection.copy_records_to_table(
                "station_results", records=station_rows, columns=STATION_COLUMNS
            )
            await connection.copy_records_to_table(
                "zone_results", records=zone_rows, columns=ZONE_COLUMNS
            )
    except (asyncpg.PostgresError, asyncpg.InterfaceError):
        log.exception("model results of step %s not stored", step.isoformat())
        return 0
    return len(station_rows) + len(zone_rows)


def _rows(step: datetime, columns: list[list[Any]], version: str) -> list[tuple[Any, ...]]:
    """COPY records: the step, the columns, the model version (one tuple per row)."""
    n = len(columns[0])
    return list(zip([step] * n, *columns, [version] * n, strict=True))
