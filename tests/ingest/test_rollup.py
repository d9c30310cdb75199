"""The batch summary the rollups are written from equals the per-reading aggregate.

:func:`ingest.rollup.summarise` turns a batch into one cell per (station, quantity, 15-minute
bucket) before the upsert. The unit tests compare it with a reading-by-reading reference;
the database tests write batches with several readings per cell (out of order, on and just
before bucket and day boundaries), re-sends with the same and another value and late data
through the real writer, and compare both rollups with an aggregate of ``readings``.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from ingest import rollup
from ingest.metrics import IngestMetrics
from ingest.payload import Reading
from ingest.writer import BatchWriter, Message
from tests.conftest import Database

# A bucket boundary that is also a UTC day's start.
MIDNIGHT = datetime(2026, 11, 30, tzinfo=UTC)
US = timedelta(microseconds=1)
STATIONS = ("rocinha-01", "rocinha-02", "vidigal-01")
Row = tuple[str, str, datetime, float]
Cell = tuple[float, int, datetime, float]  # sum, count, newest time, newest value


def _reference(rows: list[Row]) -> dict[tuple[str, str, int], Cell]:
    """Reading by reading: bucket by integer microseconds, sum, count, newest time and value."""
    out: dict[tuple[str, str, int], Cell] = {}
    for station, quantity, ts, value in rows:
        micros = (ts - datetime(1970, 1, 1, tzinfo=UTC)) // US
        key = (station, quantity, micros // (rollup.BUCKET_S * 1_000_000))
        total, samples, last_ts, last_value = out.get(key, (0.0, 0, ts, value))
        newer = samples == 0 or ts > last_ts
        out[key] = (
            total + value,
            samples + 1,
            ts if newer else last_ts,
            value if newer else last_value,
        )
    return out


def _cells(rows: list[Row]) -> dict[tuple[str, str, int], Cell]:
    cells = rollup.summarise(rows)
    assert len({len(column) for column in cells}) == 1
    out: dict[tuple[str, str, int], Cell] = {}
    for station, quantity, last_ts, total, samples, last_value in zip(*cells, strict=True):
        micros = (last_ts - datetime(1970, 1, 1, tzinfo=UTC)) // US
        key = (station, quantity, micros // (rollup.BUCKET_S * 1_000_000))
        assert key not in out, f"two cells for {key}"
        out[key] = (total, samples, last_ts, last_value)
    return out


def _boundary_rows() -> list[Row]:
    """Readings on, just before and just after bucket and day boundaries, shuffled."""
    rows = []
    for b in range(-2, 3):
        edge = MIDNIGHT + timedelta(seconds=rollup.BUCKET_S * b)
        for offset in (-US, timedelta(0), US, timedelta(minutes=5), timedelta(minutes=10)):
            for n, station in enumerate(STATIONS):
                rows.append((station, "rain_mm", edge + offset, 0.2 * (n + 1) + b * 0.01))
                rows.append((station, "vwc_d60", edge + offset, 0.3 + n * 0.01 + b * 0.001))
    random.Random(7).shuffle(rows)
    return rows


def test_summary_equals_the_per_reading_aggregate() -> None:
    """Cells on bucket edges (1 µs either side), out of order: as reading by reading."""
    rows = _boundary_rows()
    cells = _cells(rows)
    reference = _reference(rows)
    assert cells.keys() == reference.keys()
    for key, (total, samples, last_ts, last_value) in reference.items():
        got = cells[key]
        assert got[0] == pytest.approx(total, abs=1e-12)
        assert got[1:] == (samples, last_ts, last_value), key
    # The newest reading decides the cell's value, not the arrival order.
    assert len(cells) < len(rows)
    assert sum(c[1] for c in cells.values()) == len(rows)


def test_summary_of_far_times_and_of_nothing() -> None:
    """1 µs before a boundary stays in its bucket far from now too; an empty batch is empty."""
    for year in (1971, 2100, 2199):
        edge = datetime(year, 6, 1, tzinfo=UTC)
        rows = [("s", "rain_mm", edge - US, 1.0), ("s", "rain_mm", edge, 2.0)]
        assert _cells(rows) == _reference(rows)
        assert len(_cells(rows)) == 2
    assert rollup.summarise([]) == ([], [], [], [], [], [])


def _message(readings: list[Reading]) -> Message:
    return Message("encosta/x/s/readings", repr(readings).encode(), readings, [], None)


_MISMATCH_15M = """
SELECT count(*) FROM (SELECT station_id, quantity, time_bucket('15 minutes', ts) AS b,
    sum(value) AS t, count(*)::int AS n, max(ts) AS l, last(value, ts) AS v
    FROM readings GROUP BY 1, 2, 3) a
FULL JOIN readings_15m r ON (r.station_id, r.quantity, r.bucket) = (a.station_id, a.quantity, a.b)
WHERE r.bucket IS NULL OR a.b IS NULL OR abs(r.total - a.t) > 1e-9 OR r.samples <> a.n
    OR r.last_ts <> a.l OR r.last_value <> a.v
"""
_MISMATCH_1D = """
SELECT count(*) FROM (SELECT station_id, time_bucket('1 day', ts) AS d, sum(value) AS t,
    count(*)::int AS n FROM readings WHERE quantity = 'rain_mm' GROUP BY 1, 2) a
FULL JOIN readings_rain_1d r ON (r.station_id, r.day) = (a.station_id, a.d)
WHERE r.day IS NULL OR a.d IS NULL OR abs(r.total - a.t) > 1e-9 OR r.samples <> a.n
"""


@pytest.mark.services
async def test_rollups_equal_readings_after_resends_conflicts_and_late_data(
    database: Database,
) -> None:
    """Several readings a cell per batch, re-sent, conflicting, late: both rollups exact."""
    rows = _boundary_rows()
    readings = [Reading(*row) for row in rows]
    half = len(readings) // 2
    async with BatchWriter(database.dsn_for("ingest"), IngestMetrics()) as writer:
        assert await writer.write([_message(readings[:half])]) == half
        # The rest, with a re-send of part of the first batch in the same batch (staging path).
        assert await writer.write([_message(readings[half:]), _message(readings[:10])]) == (
            len(readings) - half
        )
        assert await database.fetchval(_MISMATCH_15M) == 0
        assert await database.fetchval(_MISMATCH_1D) == 0
        before = await database.fetchval("SELECT sum(samples) FROM readings_15m")
        # A whole re-send, then a conflicting one: nothing stored, the rollups unchanged.
        assert await writer.write([_message(readings)]) == 0
        changed = [Reading(r.station_id, r.quantity, r.ts, r.value + 1) for r in readings[:20]]
        assert await writer.write([_message(changed)]) == 0
        assert await database.fetchval("SELECT sum(samples) FROM readings_15m") == before
        # Late data: into a stored cell (older than its newest reading), and a new cell of a
        # stored day (two readings, the newer sent first).
        old = MIDNIGHT - timedelta(hours=2)
        late = [
            Reading("rocinha-01", "rain_mm", MIDNIGHT - timedelta(minutes=29), 5.0),
            Reading("rocinha-01", "vwc_d60", old + timedelta(minutes=14), 0.9),
            Reading("rocinha-01", "vwc_d60", old + timedelta(minutes=2), 0.1),
        ]
        xid_before = await database.fetchval("SELECT max(xid::text::bigint) FROM readings_15m")
        assert await writer.write([_message(late)]) == len(late)
    assert await database.fetchval(_MISMATCH_15M) == 0
    assert await database.fetchval(_MISMATCH_1D) == 0
    assert await database.fetchval("SELECT sum(samples) FROM readings_15m") == before + len(late)
    # The late batch stamped exactly the cells it touched (what the evaluator re-reads).
    touched = await database.fetchval(
        "SELECT count(*) FROM readings_15m WHERE xid::text::bigint > $1", xid_before
    )
    assert touched == 2
    newest = await database.fetchval(
        "SELECT last_value FROM readings_15m WHERE station_id = 'rocinha-01'"
        " AND quantity = 'vwc_d60' AND bucket = $1",
        old,
    )
    assert newest == 0.9
