"""``/stations``: the registry with newest device time, battery and data quality."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, HTTPException, Path

from alerts.api.context import DB_RESPONSES, NOT_FOUND, Context
from alerts.api.schemas import IDENTIFIER, Quality, Station

if TYPE_CHECKING:
    import asyncpg

router = APIRouter(tags=["stations"], responses=DB_RESPONSES)

# "Latest" is the newest device time, never the last received (ThingsBoard #1769).
_SELECT = """
SELECT s.id, s.zone_id, s.name, s.lat, s.lon, s.status, s.expected_interval_s,
       seen.ts AS last_seen, extract(epoch FROM now() - seen.ts)::float8 AS age_s,
       battery.value AS battery_v, battery.ts AS battery_at
FROM stations s
LEFT JOIN LATERAL (
    SELECT r.ts FROM readings r WHERE r.station_id = s.id ORDER BY r.ts DESC LIMIT 1
) seen ON true
LEFT JOIN LATERAL (
    SELECT r.value, r.ts FROM readings r
    WHERE r.station_id = s.id AND r.quantity = 'battery_v' ORDER BY r.ts DESC LIMIT 1
) battery ON true
WHERE s.network = $1 AND ($2::text IS NULL OR s.id = $2)
ORDER BY s.id
"""


def quality(age_s: float | None, interval_s: float, stale_intervals: int) -> Quality:
    """Data quality from the seconds since the newest reading and the expected interval.

    One missed interval is tolerated as ``ok`` (a report is due, not overdue); past the stale
    threshold the station is ``offline`` — the same threshold that raises the zone's data alert.
    """
    if age_s is None:
        return "never"
    if age_s <= 2 * interval_s:
        return "ok"
    if age_s <= stale_intervals * interval_s:
        return "late"
    return "offline"


def _station(row: asyncpg.Record, stale_intervals: int) -> Station:
    age = None if row["age_s"] is None else max(0.0, row["age_s"])
    return Station(
        id=row["id"],
        zone=row["zone_id"],
        name=row["name"],
        lat=row["lat"],
        lon=row["lon"],
        status=row["status"],
        expected_interval_s=row["expected_interval_s"],
        last_seen=row["last_seen"],
        seconds_since_last_seen=age,
        battery_v=row["battery_v"],
        battery_at=row["battery_at"],
        data_quality=quality(age, row["expected_interval_s"], stale_intervals),
    )


@router.get("/stations")
async def list_stations(context: Context) -> list[Station]:
    """Every station of the network."""
    rows = await context.pool.fetch(_SELECT, context.config.network, None)
    return [_station(r, context.config.stale_intervals) for r in rows]


@router.get("/stations/{station_id}", responses=NOT_FOUND)
async def get_station(
    station_id: Annotated[str, Path(pattern=IDENTIFIER)], context: Context
) -> Station:
    """One station of the network."""
    rows = await context.pool.fetch(_SELECT, context.config.network, station_id)
    if not rows:
        raise HTTPException(
            404,
            f"no station {station_id!r} in network {context.config.network!r}: see GET /stations",
        )
    return _station(rows[0], context.config.stale_intervals)
