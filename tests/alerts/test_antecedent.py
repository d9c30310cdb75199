"""The 30-day antecedent record: built once for every path, served by the daily rollup."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import numpy as np
import pytest

from alerts.antecedent import ANTECEDENT_DAYS, record
from alerts.observations import load_grid, load_stations
from alerts.window import IncrementalGrid
from ingest.metrics import IngestMetrics
from ingest.payload import Reading
from ingest.writer import BatchWriter, Message
from tests.conftest import Database

NOW = datetime(2026, 11, 30, 12, 7, tzinfo=UTC)
STATIONS = ("rocinha-01", "vidigal-01")


def test_the_first_days_rain_before_the_window_is_counted_once() -> None:
    """The newest entry: the day before plus the first day's rain outside the window."""
    start = datetime(2026, 11, 26, 12, 15, tzinfo=UTC)  # 47 steps of 15 min before midnight
    days = np.zeros((1, ANTECEDENT_DAYS + 1))
    days[0, 0] = 7.0  # the oldest day
    days[0, -2] = 2.0  # the day before the window's first day
    days[0, -1] = 10.0  # the window's first day: 4 mm in the window, 6 mm before it
    window = np.full((1, 384), np.nan, dtype=np.float32)
    window[0, 0] = 1.0
    window[0, 46] = 3.0  # the last step before midnight
    window[0, 47] = 50.0  # after midnight: another day, not the first day's
    out = record(days, window, start, 900)
    assert out.shape == (1, ANTECEDENT_DAYS)
    assert out[0, 0] == 7.0
    assert out[0, -1] == pytest.approx(2.0 + 6.0)
    assert np.nansum(out) + np.nansum(window[0, :47]) == pytest.approx(days.sum())


def _message(readings: list[Reading]) -> Message:
    return Message("encosta/x/s/readings", repr(readings).encode(), readings, [], None)


@pytest.mark.services
async def test_daily_rollup_serves_the_record_and_late_days(database: Database) -> None:
    """35 days of rain through ingest: the rollup's record equals raw readings', late data too."""
    first = NOW - timedelta(days=35)
    hours = int((NOW - first) / timedelta(hours=1))
    readings = [
        Reading(s, "rain_mm", first + timedelta(hours=h), 0.5 * ((h + n) % 4))
        for h in range(hours)
        for n, s in enumerate(STATIONS)
    ]
    window = IncrementalGrid(15, 96)
    async with BatchWriter(database.dsn_for("ingest"), IngestMetrics()) as writer:
        await writer.write([_message(readings)])
        connection = await asyncpg.connect(database.dsn_for("alerts"))
        try:
            stations = await load_stations(connection, database.network)
            cycles = [
                (NOW, []),
                # Late: a gauge's backlog of 12 days ago (inside the record, outside the window).
                (NOW + timedelta(minutes=5), [Reading(STATIONS[0], "rain_mm", NOW - timedelta(
                    days=12, minutes=7), 40.0)]),
                # The window's first day moves on: a new day enters the record.
                (NOW + timedelta(days=1), []),
            ]  # fmt: skip
            for at, late in cycles:
                if late:
                    await writer.write([_message(late)])
                incremental = await window.refresh(connection, stations, at)
                full = await load_grid(connection, stations, at, 15, 96)
                assert incremental.antecedent_mm is not None
                assert full.antecedent_mm is not None
                np.testing.assert_allclose(incremental.antecedent_mm, full.antecedent_mm, atol=1e-4)
                assert window.changed
                if late:
                    assert window.daily.rows_read == 1  # only the late day was read again
                    index = stations.ids.index(STATIONS[0])
                    assert incremental.antecedent_mm[index].max() >= 40.0
            assert window.full_reads == 1
            unchanged = await window.refresh(connection, stations, cycles[-1][0])
            assert not window.changed
            assert window.daily.rows_read == 0
            assert unchanged.antecedent_mm is not None
        finally:
            await connection.close()
    daily = await database.fetch(
        "SELECT station_id, day, total, samples FROM readings_rain_1d ORDER BY 1, 2"
    )
    grouped = await database.fetch(
        "SELECT station_id, time_bucket('1 day', ts) AS day, sum(value) AS total,"
        " count(*)::int AS samples FROM readings WHERE quantity = 'rain_mm'"
        " GROUP BY 1, 2 ORDER BY 1, 2"
    )
    assert [(r["station_id"], r["day"], r["samples"]) for r in daily] == [
        (r["station_id"], r["day"], r["samples"]) for r in grouped
    ]
    assert [r["total"] for r in daily] == pytest.approx([r["total"] for r in grouped])
    assert len(daily) >= 2 * 35
