"""Observations for the model: the station table and the last hours of readings on a grid.

Readings are bucketed in SQL with ``time_bucket`` over an indexed ``ts`` range: rain is summed
per bucket, soil moisture is the bucket's newest value. A bucket without readings stays NaN,
never 0 — missing rain is unknown, not dry. The newest bucket is the one containing ``now``
(partially filled: its rain is a lower bound, which can only escalate, never clear).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from models import StationParams, project_lonlat

if TYPE_CHECKING:
    import asyncpg
    import numpy.typing as npt

_DEPTH = re.compile(r"^vwc_d(\d+)$")


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
    last_seen: tuple[datetime | None, ...]
    end: datetime


async def load_stations(connection: asyncpg.Connection, network: str) -> StationTable:
    """The active stations of ``network`` and every zone of it (zones may have no station)."""
    zones = [r["id"] for r in await connection.fetch(
        "SELECT id FROM zones WHERE network = $1 ORDER BY id", network)]
    rows = await connection.fetch(
        "SELECT id, zone_id, lat, lon, slope_deg, soil_depth_m, cohesion_kpa, friction_deg,"
        " unit_weight_knm3, vwc_residual, vwc_saturated, expected_interval_s"
        " FROM stations WHERE network = $1 AND status = 'active' ORDER BY id",
        network,
    )
    index = {z: i for i, z in enumerate(zones)}

    def column(name: str) -> npt.NDArray[np.float64]:
        return np.asarray([float(r[name]) for r in rows], dtype=np.float64)

    x, y = (column("lat"), column("lon")) if not rows else project_lonlat(
        column("lat"), column("lon"))
    return StationTable(
        ids=tuple(r["id"] for r in rows),
        zone_ids=tuple(zones),
        zone=np.asarray([index[r["zone_id"]] for r in rows], dtype=np.int64),
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
        ),
        expected_interval_s=column("expected_interval_s"),
    )


def _soil_rank(quantity: str) -> int:
    """Preference of a soil quantity: plain ``vwc`` first, then the deepest probe."""
    if quantity == "vwc":
        return 10_000
    match = _DEPTH.fullmatch(quantity)
    return int(match.group(1)) if match else -1


async def load_grid(
    connection: asyncpg.Connection,
    stations: StationTable,
    now: datetime,
    step_minutes: int,
    window_h: int,
) -> Grid:
    """Readings of ``stations`` over the ``window_h`` hours up to ``now`` as a grid."""
    step = timedelta(minutes=step_minutes)
    n_steps = window_h * 60 // step_minutes
    # time_bucket's default origin is aligned to the step for divisors of 60 minutes.
    end = await connection.fetchval("SELECT time_bucket($1::interval, $2::timestamptz)",
                                    step, now)
    start = end - (n_steps - 1) * step
    rows = await connection.fetch(
        "SELECT station_id, quantity, time_bucket($1::interval, ts) AS bucket,"
        " CASE WHEN quantity = 'rain_mm' THEN sum(value) ELSE last(value, ts) END AS value"
        " FROM readings"
        " WHERE ts >= $2 AND ts < $3 AND station_id = ANY($4::text[])"
        " AND (quantity = 'rain_mm' OR quantity LIKE 'vwc%')"
        " GROUP BY station_id, quantity, bucket",
        step, start, end + step, list(stations.ids),
    )
    seen = await connection.fetch(
        "SELECT station_id, max(ts) AS last FROM readings"
        " WHERE ts >= $1 AND ts < $2 AND station_id = ANY($3::text[]) GROUP BY station_id",
        start, end + step, list(stations.ids),
    )
    index = {s: i for i, s in enumerate(stations.ids)}
    rain = np.full((len(index), n_steps), np.nan, dtype=np.float32)
    vwc = np.full_like(rain, np.nan)
    soil_choice: dict[int, str] = {}
    for r in rows:
        if r["quantity"] != "rain_mm":
            i = index[r["station_id"]]
            best = soil_choice.get(i)
            if best is None or _soil_rank(r["quantity"]) > _soil_rank(best):
                soil_choice[i] = r["quantity"]
    step_s = step.total_seconds()
    for r in rows:
        i = index[r["station_id"]]
        j = int((r["bucket"] - start).total_seconds() // step_s)
        if r["quantity"] == "rain_mm":
            rain[i, j] = r["value"]
        elif soil_choice.get(i) == r["quantity"]:
            vwc[i, j] = r["value"]
    last: list[datetime | None] = [None] * len(index)
    for r in seen:
        last[index[r["station_id"]]] = r["last"]
    return Grid(rain, vwc, tuple(last), end)


def stale_mask(stations: StationTable, grid: Grid, now: datetime,
               intervals: int) -> npt.NDArray[np.bool_]:
    """Stations with no reading for ``intervals`` of their expected interval (or none at all)."""
    age = np.asarray(
        [np.inf if t is None else (now - t).total_seconds() for t in grid.last_seen],
        dtype=np.float64,
    )
    mask: npt.NDArray[np.bool_] = age > intervals * stations.expected_interval_s
    return mask
