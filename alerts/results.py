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

Within one step the evaluator re-evaluates as the open bucket fills (every coalesced burst of
readings); with a :class:`StoredStep` it passes, only the rows whose values differ from what
it stored for that step are replaced (a burst touches a few stations and their zones), so
PostgreSQL's work follows what changed. ``evaluated_at`` is then when a row's values were
last written, not when the step was last evaluated. A new step, another set of owned zones,
another station set or a failed write writes the step's rows in full.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import asyncpg
import numpy as np

from models import Criterion
from models.evidence import thresholds

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
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
# Only the rows that changed within a step (the primary keys' own columns).
_FORGET_STATION_ROWS = (
    "DELETE FROM station_results WHERE step = $1 AND station_id = ANY($2::text[])"
)
_KEY = 1  # station_id / zone_id: the column after the step in both tables' rows


@dataclass
class StoredStep:
    """What :func:`store_results` last wrote for one evaluator: its step, zones and rows."""

    step: datetime | None = None
    zones: tuple[str, ...] = ()
    station_rows: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    zone_rows: dict[str, tuple[Any, ...]] = field(default_factory=dict)

    def forget(self) -> None:
        """The database may not hold what was last written: write the next step in full."""
        self.step = None
        self.station_rows, self.zone_rows = {}, {}

    def changed(
        self, step: datetime, zones: tuple[str, ...], stations: Sequence[tuple[Any, ...]],
        zone_rows: Sequence[tuple[Any, ...]],
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]] | None:  # fmt: skip
        """The rows that differ from the stored ones, or None when all must be written."""
        if step != self.step or zones != self.zones or len(stations) != len(self.station_rows):
            return None
        if any(row[_KEY] not in self.station_rows for row in stations):
            return None  # another station set: write the step in full
        return (
            [row for row in stations if self.station_rows[row[_KEY]] != row],
            [row for row in zone_rows if self.zone_rows.get(row[_KEY]) != row],
        )

    def remember(
        self, step: datetime, zones: tuple[str, ...], stations: Sequence[tuple[Any, ...]],
        zone_rows: Sequence[tuple[Any, ...]],
    ) -> None:  # fmt: skip
        """Add what a committed write of ``step`` stored (a full write forgets first)."""
        self.step, self.zones = step, zones
        self.station_rows.update((row[_KEY], row) for row in stations)
        self.zone_rows.update((row[_KEY], row) for row in zone_rows)


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


async def _replace(
    connection: asyncpg.Connection,
    step: datetime,
    st_rows: list[tuple[Any, ...]],
    z_rows: list[tuple[Any, ...]],
    *,
    changed_only: bool,
) -> None:
    """Write the rows (first deleting their old versions when only changed rows are written)."""
    if st_rows:
        if changed_only:
            await connection.execute(_FORGET_STATION_ROWS, step, [r[_KEY] for r in st_rows])
        await connection.copy_records_to_table(
            "station_results", records=st_rows, columns=STATION_COLUMNS
        )
    if z_rows:
        if changed_only:
            await connection.execute(_FORGET_ZONES, step, [r[_KEY] for r in z_rows])
        await connection.copy_records_to_table("zone_results", records=z_rows, columns=ZONE_COLUMNS)


async def store_results(  # noqa: PLR0913, PLR0917  the evaluator's one call
    connection: asyncpg.Connection,
    result: ModelResult,
    config: ModelConfig,
    stations: StationTable,
    step: datetime,
    mine: Callable[[str], bool] = lambda _zone: True,
    stored: StoredStep | None = None,
) -> int:
    """Store (or replace) step ``step``'s results of the zones ``mine`` accepts; the rows.

    With ``stored`` (kept by the caller between calls), a step written before is updated with
    only its changed rows. A failure is logged and counted as zero rows, never raised: the
    alert lifecycle must not wait for the dashboards' table.
    """
    owned = np.array([mine(z) for z in stations.zone_ids], dtype=np.bool_)
    if not owned.any():
        return 0
    station_keep = owned[result.zone]
    zones = [z for z, kept in zip(stations.zone_ids, owned, strict=True) if kept]
    version = result.model_version
    station_rows = _rows(step, station_columns(result, config, stations, station_keep), version)
    zone_rows = _rows(step, zone_columns(result, config, stations, owned), version)
    key = tuple(zones)
    delta = None if stored is None else stored.changed(step, key, station_rows, zone_rows)
    st_rows, z_rows = (station_rows, zone_rows) if delta is None else delta
    if not st_rows and not z_rows:
        return 0  # the step's rows already hold these values
    try:
        async with connection.transaction():
            if delta is None:
                await connection.execute(_FORGET_STATIONS, step, zones)
                await connection.execute(_FORGET_ZONES, step, zones)
            await _replace(connection, step, st_rows, z_rows, changed_only=delta is not None)
    except (asyncpg.PostgresError, asyncpg.InterfaceError):
        log.exception("model results of step %s not stored", step.isoformat())
        if stored is not None:
            stored.forget()
        return 0
    if stored is not None:
        if delta is None:
            stored.forget()  # a full write: the step holds exactly these rows now
        stored.remember(step, key, st_rows, z_rows)
    return len(st_rows) + len(z_rows)


def _rows(step: datetime, columns: list[list[Any]], version: str) -> list[tuple[Any, ...]]:
    """COPY records: the step, the columns, the model version (one tuple per row)."""
    n = len(columns[0])
    return list(zip([step] * n, *columns, [version] * n, strict=True))
