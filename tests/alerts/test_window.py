"""The incremental window equals the full re-read of raw readings, cycle after cycle.

Readings go through ingest's real writer (which keeps the rollup); the grid that
``IncrementalGrid`` keeps is compared with ``load_grid`` (the full path) after new data, late
data, re-sends with the same or another value, time moving forward and backward, and a bulk
load by the owner followed by ``encosta_refresh_rollup``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import numpy as np
import pytest

from alerts.observations import Grid, load_grid, load_stations
from alerts.window import IncrementalGrid
from ingest.metrics import IngestMetrics
from ingest.payload import Reading
from ingest.writer import BatchWriter, Message
from tests.conftest import Database

pytestmark = pytest.mark.services

NOW = datetime(2026, 11, 30, 12, 7, tzinfo=UTC)
STATIONS = ("rocinha-01", "rocinha-02", "vidigal-01", "borel-01")


def _message(readings: list[Reading]) -> Message:
    return Message("encosta/x/s/readings", repr(readings).encode(), readings, [], None)


def _readings(start: datetime, steps: int, every_min: int = 5, rain: float = 0.4) -> list[Reading]:
    out = []
    for k in range(steps):
        ts = start + timedelta(minutes=every_min * k)
        for n, station in enumerate(STATIONS):
            out.append(Reading(station, "rain_mm", ts, rain * ((k + n) % 3)))
            out.append(Reading(station, "vwc_d60", ts, 0.2 + 0.001 * (k % 7)))
            if n == 0:
                out.append(Reading(station, "vwc_d30", ts, 0.3))  # a shallower probe: not chosen
                out.append(Reading(station, "battery_v", ts, 3.9))
    return out


async def _compare(db: Database, window: IncrementalGrid, at: datetime) -> Grid:
    connection = await asyncpg.connect(db.dsn_for("alerts"))
    try:
        stations = await load_stations(connection, db.network)
        incremental = await window.refresh(connection, stations, at)
        full = await load_grid(connection, stations, at, 15, 96)
    finally:
        await connection.close()
    assert incremental.end == full.end
    np.testing.assert_allclose(incremental.rain_mm, full.rain_mm, rtol=1e-6, equal_nan=True)
    np.testing.assert_array_equal(incremental.vwc_m3m3, full.vwc_m3m3)
    np.testing.assert_array_equal(incremental.last_seen_s, full.last_seen_s)
    assert incremental.antecedent_mm is not None
    assert full.antecedent_mm is not None
    np.testing.assert_allclose(incremental.antecedent_mm, full.antecedent_mm, atol=1e-4)
    return incremental


async def test_incremental_window_equals_the_full_read(database: Database) -> None:
    """New, late, duplicate and conflicting data; time forward, a jump, backward: grids equal."""
    window = IncrementalGrid(15, 96)
    async with BatchWriter(database.dsn_for("ingest"), IngestMetrics()) as writer:
        await writer.write([_message(_readings(NOW - timedelta(hours=100), 12 * 100))])
        first = await _compare(database, window, NOW)
        assert window.full_reads == 1
        assert np.isfinite(first.rain_mm).sum() > 0
        # New data in the current bucket and the next, then a cycle one step later.
        await writer.write([_message(_readings(NOW, 4))])
        await _compare(database, window, NOW + timedelta(minutes=15))
        read_new = window.rows_read
        # Late data 30 h back, a duplicate and a conflicting re-send of stored readings.
        late = _readings(NOW - timedelta(hours=30, minutes=2), 1, rain=5.0)
        late = [r for r in late if r.quantity == "rain_mm"]
        stored = _readings(NOW - timedelta(hours=10), 2)
        conflicting = [Reading(r.station_id, r.quantity, r.ts, r.value + 1.0) for r in stored]
        await writer.write([_message(late), _message(stored), _message(conflicting)])
        grid = await _compare(database, window, NOW + timedelta(minutes=16))
        assert window.full_reads == 1  # still incremental
        assert window.rows_read <= len(late) + 8  # only the touched buckets were read
        assert np.nanmax(grid.rain_mm) >= 5.0
        # Two hours without data, then time goes backwards (a replay): a full read again.
        await _compare(database, window, NOW + timedelta(hours=2))
        await _compare(database, window, NOW - timedelta(hours=1))
        assert window.full_reads == 2
    assert read_new > 0
    # A bulk load by the owner, summarised by encosta_refresh_rollup.
    await database.fetchval(
        "INSERT INTO readings (station_id, quantity, ts, value)"
        " SELECT 'vidigal-01', 'rain_mm', g + interval '1 minute', 9.0"
        " FROM generate_series($1::timestamptz - interval '3 hours', $1, interval '5 minutes') g",
        NOW - timedelta(hours=1, minutes=30),
    )
    assert await database.fetchval("SELECT encosta_refresh_rollup()") > 0
    assert await database.fetchval("SELECT encosta_refresh_rollup()") == 0  # nothing differs
    await _compare(database, window, NOW - timedelta(hours=1))
    assert window.full_reads == 2


async def test_rollup_equals_an_aggregate_of_readings(database: Database) -> None:
    """After duplicates, conflicts and late data, readings_15m is exactly readings grouped."""
    async with BatchWriter(database.dsn_for("ingest"), IngestMetrics()) as writer:
        base = _readings(NOW - timedelta(hours=3), 36)
        await writer.write([_message(base)])
        await writer.write([_message(base[:50]), _message(_readings(NOW, 3))])
        await writer.write(
            [_message([Reading(r.station_id, r.quantity, r.ts, r.value + 2) for r in base[:9]])]
        )
    mismatch = await database.fetchval(
        "SELECT count(*) FROM (SELECT station_id, quantity, time_bucket('15 minutes', ts) AS b,"
        " sum(value) AS t, count(*)::int AS n, max(ts) AS l, last(value, ts) AS v"
        " FROM readings GROUP BY 1, 2, 3) a"
        " FULL JOIN readings_15m r ON (r.station_id, r.quantity, r.bucket) = (a.station_id,"
        " a.quantity, a.b)"
        " WHERE r.bucket IS NULL OR a.b IS NULL OR abs(r.total - a.t) > 1e-9 OR r.samples <> a.n"
        " OR r.last_ts <> a.l OR r.last_value <> a.v"
    )
    assert mismatch == 0
    assert await database.fetchval("SELECT count(*) FROM readings_15m") > 0


def test_one_bucket_width_for_writer_reader_and_schema() -> None:
    """Ingest writes, the evaluator reads and the migration defines the same 15-minute bucket."""
    from pathlib import Path  # noqa: PLC0415

    from alerts import window  # noqa: PLC0415
    from ingest import rollup  # noqa: PLC0415

    migration = Path(__file__).resolve().parents[2] / "encosta/migrations/0008_rollup.sql"
    assert rollup.BUCKET_S == window.BUCKET_S == 900
    assert "time_bucket(INTERVAL '15 minutes'" in migration.read_text()
    assert "time_bucket(INTERVAL '15 minutes'" in rollup._ADD


async def test_the_windows_sql_chooses_soil_quantities_like_the_gridding(
    database: Database,
) -> None:
    """The SQL preference code equals alerts.gridding.soil_preference for every kind of name."""
    from alerts.gridding import soil_preference  # noqa: PLC0415
    from alerts.window import PREF_SQL  # noqa: PLC0415

    names = ["rain_mm", "vwc", "vwc_d60", "vwc_d5", "vwc_d999", "battery_v", "vwc_dx", "vwc_d"]
    rows = await database.fetch(
        f"SELECT q, ({PREF_SQL.format(q='q')})::int4 AS pref FROM unnest($1::text[]) AS q",
        names,
    )
    assert {r["q"]: r["pref"] for r in rows} == {n: soil_preference(n) for n in names}
