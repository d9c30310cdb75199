"""Observations for the model: the station table and the last hours of readings on a grid.

Readings are bucketed in SQL with ``time_bucket`` over an indexed ``ts`` range: rain is summed
per bucket, soil moisture is the bucket's newest value. A bucket without readings stays NaN,
never 0 — missing rain is unknown, not dry. The cells become the grid in
:func:`alerts.gridding.fill_grid`, which the offline backtest shares. The newest bucket is
the one containing ``now`` (partially filled: its rain is a lower bound, which can only
escalate, never clear).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from alerts import antecedent
from alerts.gridding import fill_grid
from models import StationParams, project_lonlat

if TYPE_CHECKING:
    import asyncpg
    import numpy.typing as npt


@dataclass(frozen=True, slots=True)
class StationTable:
    """Active stations of one network, in a fixed order, with zones as indices."""

    ids: tuple[str, ...]
    zone_ids: tuple[str, ...]
    zone: npt.NDArray[np.int64]
    x_m: npt.NDArray[np.float64]
    y_m: npt.NDArray[np.float64]
    params: StationParams
    expected_interval_s: npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Grid:
    """Readings of every station on a regular grid (newest step last), NaN where missing."""

    rain_mm: npt.NDArray[np.float32]
    vwc_m3m3: npt.NDArray[np.float32]
    last_seen_s: npt.NDArray[np.float64]  # epoch seconds of the newest reading, NaN if none
    end: datetime
    # [stations, ANTECEDENT_DAYS]: daily rain before the window (alerts.antecedent.record)
    antecedent_mm: npt.NDArray[np.float64] | None = None


async def load_stations(connection: asyncpg.Connection, network: str) -> StationTable:
    """The active stations of ``network`` and every zone of it (zones may have no station)."""
    zones = [
        r["id"]
        for r in await connection.fetch(
            "SELECT id FROM zones WHERE network = $1 ORDER BY id", network
        )
    ]
    rows = await connection.fetch(
        "SELECT id, zone_id, lat, lon, slope_deg, soil_depth_m, cohesion_kpa, friction_deg,"
        " unit_weight_knm3, vwc_residual, vwc_saturated, expected_interval_s,"
        " coalesce((SELECT max(d) FROM unnest(sensor_depths_m) AS d), 'NaN') AS probe_depth_m"
        " FROM stations WHERE network = $1 AND status = 'active' ORDER BY id",
        network,
    )
    return station_table(
        tuple(r["id"] for r in rows),
        tuple(zones),
        [r["zone_id"] for r in rows],
        lambda name: np.asarray([float(r[name]) for r in rows], dtype=np.float64),
    )


def station_table(
    ids: tuple[str, ...],
    zone_ids: tuple[str, ...],
    station_zones: Sequence[str],
    column: Callable[[str], npt.NDArray[np.float64]],
) -> StationTable:
    """The station table of ``ids`` (in order), their zones and their columns by field name.

    One construction for the live path (database rows) and the backtest (a registry).
    """
    index = {z: i for i, z in enumerate(zone_ids)}
    x, y = (
        (column("lat"), column("lon")) if not ids else project_lonlat(column("lat"), column("lon"))
    )
    return StationTable(
        ids=ids,
        zone_ids=zone_ids,
        zone=np.asarray([index[z] for z in station_zones], dtype=np.int64),
        x_m=x,
        y_m=y,
        params=StationParams(
            slope_deg=column("slope_deg"),
            soil_depth_m=column("soil_depth_m"),
            cohesion_kpa=column("cohesion_kpa"),
            friction_deg=column("friction_deg"),
            unit_weight_knm3=column("unit_weight_knm3"),
            vwc_residual=column("vwc_residual"),
            vwc_saturated=column("vwc_saturated"),
            probe_depth_m=column("probe_depth_m"),
        ),
        expected_interval_s=column("expected_interval_s"),
    )


_GRID_SQL = """
WITH s AS (SELECT id, (n - 1)::int AS i FROM unnest($4::text[]) WITH ORDINALITY AS u (id, n)),
cells AS (
    SELECT s.i, (extract(epoch FROM time_bucket($1::interval, r.ts) - $2::timestamptz)
                 / $5::float8)::int AS j,
           CASE WHEN r.quantity = 'rain_mm' THEN -1
                WHEN r.quantity = 'vwc' THEN 10000
                ELSE coalesce(substring(r.quantity FROM '^vwc_d([0-9]+)$')::int, -2) END AS pref,
           CASE WHEN r.quantity = 'rain_mm' THEN sum(r.value)
                ELSE last(r.value, r.ts) END AS value
    FROM readings r JOIN s ON s.id = r.station_id
    WHERE r.ts >= $2 AND r.ts < $3 AND (r.quantity = 'rain_mm' OR r.quantity LIKE 'vwc%')
    GROUP BY s.i, r.quantity, time_bucket($1::interval, r.ts)
)
SELECT coalesce(array_agg(i), '{}') AS i, coalesce(array_agg(j), '{}') AS j,
       coalesce(array_agg(pref), '{}') AS pref, coalesce(array_agg(value), '{}') AS value
FROM cells
"""
_SEEN_SQL = """
WITH s AS (SELECT id, (n - 1)::int AS i FROM unnest($3::text[]) WITH ORDINALITY AS u (id, n))
SELECT coalesce(array_agg(i), '{}') AS i, coalesce(array_agg(last), '{}') AS last FROM (
    SELECT s.i, extract(epoch FROM max(r.ts))::float8 AS last
    FROM readings r JOIN s ON s.id = r.station_id
    WHERE r.ts >= $1 AND r.ts < $2 GROUP BY s.i) seen
"""


async def load_grid(
    connection: asyncpg.Connection,
    stations: StationTable,
    now: datetime,
    step_minutes: int,
    window_h: int,
) -> Grid:
    """Readings of ``stations`` over the ``window_h`` hours up to ``now`` as a grid.

    SQL returns the cells as four parallel arrays (station index, step index, soil preference,
    value); the grid is filled by numpy fancy indexing, with no Python loop over rows. Soil
    moisture comes from plain ``vwc`` if a station has it, else from its deepest probe. The
    antecedent record is summed from raw readings too (:func:`alerts.antecedent.raw_days`).
    """
    step = timedelta(minutes=step_minutes)
    n_steps = window_h * 60 // step_minutes
    # time_bucket's default origin is aligned to the step for divisors of 60 minutes.
    end = await connection.fetchval("SELECT time_bucket($1::interval, $2::timestamptz)", step, now)
    start = end - (n_steps - 1) * step
    ids = list(stations.ids)
    cells = await connection.fetchrow(_GRID_SQL, step, start, end + step, ids, step.total_seconds())
    seen = await connection.fetchrow(_SEEN_SQL, start, end + step, ids)
    rain, vwc = fill_grid(
        len(ids),
        n_steps,
        np.asarray(cells["i"], dtype=np.int64),
        np.asarray(cells["j"], dtype=np.int64),
        np.asarray(cells["pref"], dtype=np.int64),
        np.asarray(cells["value"], dtype=np.float64),
    )
    last = np.full(len(ids), np.nan, dtype=np.float64)
    last[np.asarray(seen["i"], dtype=np.int64)] = np.asarray(seen["last"], dtype=np.float64)
    days = await antecedent.raw_days(connection, stations.ids, start)
    record = antecedent.record(days, rain, start, step.total_seconds())
    return Grid(rain, vwc, last, end, record)


def stale_mask(
    stations: StationTable, grid: Grid, now: datetime, intervals: int
) -> npt.NDArray[np.bool_]:
    """Stations with no reading for ``intervals`` of their expected interval (or none at all)."""
    age = np.where(np.isnan(grid.last_seen_s), np.inf, now.timestamp() - grid.last_seen_s)
    mask: npt.NDArray[np.bool_] = age > intervals * stations.expected_interval_s
    return mask
