"""The incremental evaluator records exactly the transitions of a full re-evaluation.

One storm, readings through ingest's real writer (which keeps the rollups) every 5 minutes of
simulated time, with late data (a backlog of hours-old rain) and re-sends in the middle; the
evaluator runs every 5 minutes the way the service does. The same storm is then evaluated
again from scratch by an evaluator whose window re-reads every raw reading each cycle
(:func:`alerts.observations.load_grid`, the path before the rollup, which never skips the
model): the transitions per zone, kind and time must be identical.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from alerts.config import EvaluatorConfig
from alerts.evaluator import Evaluator
from alerts.observations import Grid, StationTable, load_grid
from ingest.metrics import IngestMetrics
from ingest.payload import Reading
from ingest.writer import BatchWriter, Message

if TYPE_CHECKING:
    import asyncpg

    from tests.conftest import Database

pytestmark = pytest.mark.services

T0 = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
EVERY = timedelta(minutes=5)
CYCLES = 9 * 12  # nine hours of 5-minute reports
LATE_AT = 40  # the cycle at which rocinha's backlog arrives
RESEND_AT = 60  # the cycle at which vidigal re-sends its storm


@dataclass(slots=True)
class FullWindow:
    """The window the way it was before the rollup: every raw reading re-read each cycle."""

    step_minutes: int
    window_h: int
    changed: bool = True  # never lets the evaluator skip the model

    async def refresh(
        self, connection: asyncpg.Connection, stations: StationTable, now: datetime
    ) -> Grid:
        """The full re-read (alerts.observations.load_grid)."""
        return await load_grid(connection, stations, now, self.step_minutes, self.window_h)


def storm_rain(zone: str, k: int) -> float:
    """Rain in 5 minutes at cycle ``k``: a two-hour storm over vidigal, drizzle elsewhere."""
    if zone == "vidigal" and 6 <= k < 30:
        return 2.5 if k < 18 else 4.0
    return 0.2 if k % 6 == 0 else 0.0


def message(readings: list[Reading]) -> Message:
    """One MQTT message's worth of readings."""
    return Message("encosta/x/s/readings", repr(readings).encode(), readings, [], None)


async def run_storm(db: Database, *, full: bool) -> list[tuple[str, str, str, str, int, int]]:
    """Play the storm through ingest and the evaluator; return every transition recorded."""
    rows = await db.fetch("SELECT id, zone_id FROM stations WHERE network = $1", db.network)
    zones = {r["id"]: r["zone_id"] for r in rows}
    silent = min(s for s, z in zones.items() if z == "borel")  # goes quiet at cycle 20: stale
    cfg = EvaluatorConfig(dsn=db.dsn_for("alerts"), network=db.network, fallback_min=0)
    recorded = []
    async with (
        BatchWriter(db.dsn_for("ingest"), IngestMetrics()) as writer,
        Evaluator(cfg) as evaluator,
    ):
        if full:
            evaluator._window = FullWindow(cfg.step_minutes, cfg.window_h)  # type: ignore[assignment]
        for k in range(CYCLES):
            ts = T0 + k * EVERY
            batch = [
                Reading(s, q, ts, storm_rain(z, k) if q == "rain_mm" else 0.2 + 0.002 * (k % 5))
                for s, z in sorted(zones.items())
                if s != silent or k < 20
                for q in ("rain_mm", "vwc_d60")
            ]
            if k == LATE_AT:  # rocinha's gauges send three hours they could not send before
                batch += [
                    Reading(s, "rain_mm", T0 + j * EVERY + timedelta(seconds=30), 3.0)
                    for s, z in sorted(zones.items())
                    if z == "rocinha"
                    for j in range(3, 27)
                ]
            if k == RESEND_AT:  # vidigal re-sends its whole storm (duplicates: nothing new)
                batch += [
                    Reading(s, "rain_mm", T0 + j * EVERY, storm_rain(z, j))
                    for s, z in sorted(zones.items())
                    if z == "vidigal"
                    for j in range(6, 30)
                ]
            await writer.write([message(batch)])
            at = ts + timedelta(minutes=1)
            recorded += [
                (at.isoformat(), p.zone_id, p.kind, str(s.transition), s.from_level, s.to_level)
                for p, s in await evaluator.evaluate_once(at)
            ]
            # A second cycle with nothing new: the incremental path skips the model.
            recorded += [
                (at.isoformat(), p.zone_id, p.kind, str(s.transition), s.from_level, s.to_level)
                for p, s in await evaluator.evaluate_once(at + timedelta(seconds=20))
            ]
        if not full:
            assert evaluator.model_skips >= CYCLES  # every second cycle reused the result
            assert evaluator.model_runs >= CYCLES // 3  # each new step ran the model
            # The model state was kept: built once, fed new steps, late data rebuilt its zones.
            assert evaluator.incremental.rebuilds == 1
            assert evaluator.incremental.zones_rebuilt >= 1  # rocinha's backlog
            assert evaluator.incremental.pushes >= CYCLES // 3
            assert evaluator.registry_loads == 1  # the station table was read once
    return recorded


async def _stored(db: Database) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The stored model results (the newest evaluation of each step), in a fixed order."""
    stations = await db.fetch(
        "SELECT step, station_id, level, criterion, unknown, estimated, quality, live,"
        " round(rain_1h_mm::numeric, 3), round(rain_24h_mm::numeric, 3),"
        " round(rain_96h_mm::numeric, 3), round(api_mm::numeric, 3),"
        " round(factor_of_safety::numeric, 4) FROM station_results ORDER BY 1, 2"
    )
    zones = await db.fetch(
        "SELECT step, zone_id, level, criterion, unknown, unknown_material, degraded,"
        " corroborated, live_stations FROM zone_results ORDER BY 1, 2"
    )
    return [tuple(r) for r in stations], [tuple(r) for r in zones]


async def test_incremental_transitions_equal_the_full_reevaluation(database: Database) -> None:
    """Same storm, late data and re-sends: the same transitions per zone, kind and time."""
    await database.fetchval(
        "INSERT INTO readings (station_id, quantity, ts, value)"
        " SELECT s.id, q.quantity, $2::timestamptz + k * interval '15 minutes',"
        "        CASE q.quantity WHEN 'rain_mm' THEN 0 ELSE 0.2 END"
        " FROM stations s, (VALUES ('rain_mm'), ('vwc_d60')) q (quantity),"
        "      generate_series(-384, -1) k WHERE s.network = $1",
        database.network,
        T0,
    )  # four dry days before the storm
    await database.fetchval("SELECT encosta_refresh_rollup()")
    incremental = await run_storm(database, full=False)
    stored = await _stored(database)
    # The same data again from scratch: forget the alerts, keep the readings.
    await database.fetchval("TRUNCATE alerts CASCADE")
    await database.fetchval("DELETE FROM readings WHERE ts >= $1", T0)
    await database.fetchval("DELETE FROM readings_15m WHERE bucket >= $1", T0)
    await database.fetchval("SELECT encosta_refresh_rollup($1)", T0 - timedelta(days=1))
    full = await run_storm(database, full=True)
    assert incremental == full
    # The model's results, per step, station and zone: levels, criteria, unknown flags, values.
    assert stored == await _stored(database)
    assert len(stored[0]) >= CYCLES // 3 * 40
    kinds = {(t[1], t[2], t[3]) for t in full}
    assert ("vidigal", "risk", "raised") in kinds
    assert ("vidigal", "risk", "escalated") in kinds
    assert ("rocinha", "risk", "raised") in kinds  # raised by the late backlog
    assert ("borel", "data", "raised") in kinds  # the silent gauge
    late = min(t[0] for t in full if t[1] == "rocinha" and t[2] == "risk")
    assert late == (T0 + LATE_AT * EVERY + timedelta(minutes=1)).isoformat()
