"""The evaluator stores the model's output per step, station and zone (alerts/results.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from alerts.evaluator import Evaluator
from alerts.partitions import partition_of
from tests.alerts.test_evaluator import NOW, config, fill

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = pytest.mark.services

STEP = NOW.replace(minute=NOW.minute // 15 * 15, second=0, microsecond=0)


async def _heavy_rain(database: Database) -> None:
    await fill(database, "rocinha", NOW)
    await database.fetchval(
        "UPDATE readings SET value = 20 WHERE quantity = 'rain_mm' AND ts > $1"
        " AND station_id IN (SELECT id FROM stations WHERE zone_id = 'rocinha')",
        NOW - timedelta(hours=1),
    )
    await database.fetchval("SELECT encosta_refresh_rollup()")


async def test_results_rows_per_step_station_and_zone(database: Database) -> None:
    """One row per station and zone at the evaluated step, with the numbers behind the level."""
    await _heavy_rain(database)
    async with Evaluator(config(database)) as evaluator:
        await evaluator.evaluate_once(NOW)
    stations = await database.fetchval("SELECT count(*) FROM stations")
    zones = await database.fetchval("SELECT count(*) FROM zones")
    assert await database.fetchval("SELECT count(*) FROM station_results") == stations
    assert await database.fetchval("SELECT count(*) FROM zone_results") == zones
    assert await database.fetchval("SELECT DISTINCT step FROM station_results") == STEP
    [zone] = await database.fetch("SELECT * FROM zone_results WHERE zone_id = 'rocinha'")
    assert zone["level"] == 3
    assert zone["corroborated"]
    assert zone["max_rain_1h_mm"] == pytest.approx(80.0)
    assert zone["station_id"] is not None
    assert zone["value"] >= zone["threshold"] > 0
    rows = await database.fetch(
        "SELECT * FROM station_results WHERE zone_id = 'rocinha' ORDER BY station_id"
    )
    assert {r["level"] for r in rows} == {3}
    assert all(r["rain_1h_mm"] == pytest.approx(80.0) for r in rows)
    assert all(r["rain_24h_mm"] == pytest.approx(80.0) for r in rows)
    # 0.2 m³/m³ for 96 h is a flat-lined probe: no factor of safety, stored as unknown
    assert all(r["quality"] & 2 for r in rows)  # QualityFlag.STUCK
    assert all(r["factor_of_safety"] is None and r["vwc_m3m3"] is None for r in rows)
    dry = await database.fetch(
        "SELECT * FROM station_results WHERE zone_id <> 'rocinha' AND zone_id <> ''"
    )
    # silent stations: their level is a lower bound, flagged unknown and offline
    assert dry
    assert all(r["unknown"] for r in dry)
    assert all(r["quality"] & 1 for r in dry)  # QualityFlag.OFFLINE
    assert all(not r["live"] for r in dry)


async def test_results_are_written_once_per_step(database: Database) -> None:
    """A step evaluated again overwrites its changed rows; the next step adds new ones.

    With nothing new the evaluator reuses the step's result (alerts.evaluator: the model is
    skipped) and its rows stay as written; a reading that changes the step re-evaluates it,
    and only the rows whose values changed are written again (alerts.results.StoredStep).
    """
    await _heavy_rain(database)
    async with Evaluator(config(database)) as evaluator:
        await evaluator.evaluate_once(NOW)
        first = await database.fetchval("SELECT max(evaluated_at) FROM zone_results")
        await evaluator.evaluate_once(NOW + timedelta(seconds=20))  # same step, nothing new
        assert await database.fetchval("SELECT min(evaluated_at) FROM zone_results") == first
        await database.fetchval(  # a late reading in the step: it is evaluated again
            "UPDATE readings SET value = 21 WHERE quantity = 'rain_mm' AND ts = $1"
            " AND station_id IN (SELECT id FROM stations WHERE zone_id = 'rocinha')",
            NOW,
        )
        await database.fetchval("SELECT encosta_refresh_rollup()")
        await evaluator.evaluate_once(NOW + timedelta(seconds=30))  # same step
        assert await database.fetchval("SELECT count(DISTINCT step) FROM zone_results") == 1
        rewritten = await database.fetch(  # rocinha's values changed (21 mm): written again
            "SELECT zone_id, max_rain_1h_mm FROM zone_results WHERE evaluated_at > $1", first
        )
        assert [r["zone_id"] for r in rewritten] == ["rocinha"]
        assert rewritten[0]["max_rain_1h_mm"] > 80.0
        changed = await database.fetchval(
            "SELECT count(*) FROM station_results WHERE evaluated_at > $1", first
        )
        in_zone = await database.fetchval("SELECT count(*) FROM stations WHERE zone_id = 'rocinha'")
        assert 0 < changed <= in_zone  # the zone's stations, not the network's
        zones = await database.fetchval("SELECT count(*) FROM zones")
        assert await database.fetchval("SELECT count(*) FROM zone_results") == zones
        await evaluator.evaluate_once(NOW + timedelta(minutes=15))
    zones = await database.fetchval("SELECT count(*) FROM zones")
    assert await database.fetchval("SELECT count(*) FROM zone_results") == 2 * zones
    assert await database.fetchval("SELECT count(DISTINCT step) FROM station_results") == 2


async def test_only_owned_zones_are_written(database: Database) -> None:
    """Partitions held by another evaluator are left to it: no two replicas write one row."""
    await _heavy_rain(database)
    zone_ids = [r["id"] for r in await database.fetch("SELECT id FROM zones")]
    cfg = config(database)
    owned = frozenset({partition_of("rocinha", cfg.partitions)})
    async with Evaluator(cfg) as evaluator:
        await evaluator.evaluate_once(NOW, partitions=owned)
    written = {r["zone_id"] for r in await database.fetch("SELECT zone_id FROM zone_results")}
    assert written == {z for z in zone_ids if partition_of(z, cfg.partitions) in owned}
    assert "rocinha" in written
    station_zones = {
        r["zone_id"] for r in await database.fetch("SELECT DISTINCT zone_id FROM station_results")
    }
    assert station_zones == written
