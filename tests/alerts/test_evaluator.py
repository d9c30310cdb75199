"""The evaluator turns gridded readings into risk and data alerts with outbox messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from alerts.config import EvaluatorConfig
from alerts.evaluator import Evaluator

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = pytest.mark.services

NOW = datetime(2026, 11, 24, 19, 7, tzinfo=UTC)
SUBSCRIBE = (
    "INSERT INTO webhook_subscriptions (url, secret, min_level, zones, format)"
    " VALUES ($1, 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=', $2, $3, $4) RETURNING id"
)


async def fill(db: Database, zone: str, until: datetime, rain_mm: float = 0.0) -> None:
    """Readings every 15 minutes for 96 h up to ``until`` at every station of ``zone``."""
    await db.fetchval(
        "INSERT INTO readings (station_id, quantity, ts, value)"
        " SELECT s.id, q.quantity, g, CASE q.quantity WHEN 'rain_mm' THEN $3 ELSE 0.2 END"
        " FROM stations s, (VALUES ('rain_mm'), ('vwc_d60')) q (quantity),"
        " generate_series($2::timestamptz - interval '96 hours', $2, interval '15 minutes') g"
        " WHERE s.zone_id = $1"
        " ON CONFLICT (station_id, quantity, ts) DO UPDATE SET value = excluded.value",
        zone,
        until,
        rain_mm,
    )
    # Written here, not through ingest: the evaluator's rollup is brought up to date by hand.
    await db.fetchval("SELECT encosta_refresh_rollup()")


def config(db: Database) -> EvaluatorConfig:
    """Evaluator settings for ``db``'s network."""
    return EvaluatorConfig(dsn=db.dsn_for("alerts"), network=db.network)


async def test_heavy_rain_raises_risk_alert_with_outbox_rows(database: Database) -> None:
    """80 mm in an hour over a zone raises one risk alert and one message per subscription."""
    sub_all = await database.fetchval(SUBSCRIBE, "http://127.0.0.1:9/a", 1, None, "json")
    await database.fetchval(SUBSCRIBE, "http://127.0.0.1:9/b", 1, ["vidigal"], "json")
    cap = await database.fetchval(SUBSCRIBE, "http://127.0.0.1:9/c", 2, ["rocinha"], "cap")
    await fill(database, "rocinha", NOW)
    await database.fetchval(
        "UPDATE readings SET value = 20 WHERE quantity = 'rain_mm' AND ts > $1"
        " AND station_id IN (SELECT id FROM stations WHERE zone_id = 'rocinha')",
        NOW - timedelta(hours=1),
    )
    await database.fetchval("SELECT encosta_refresh_rollup()")  # not via ingest
    async with Evaluator(config(database)) as evaluator:
        changes = await evaluator.evaluate_once(NOW)
        again = await evaluator.evaluate_once(NOW + timedelta(seconds=5))
    risk = [(p.zone_id, s.to_level) for p, s in changes if p.kind == "risk"]
    assert risk == [("rocinha", 3)]
    assert not [c for c in again if c[0].kind == "risk"]
    alert = await database.fetch("SELECT * FROM alerts WHERE kind = 'risk'")
    assert [(a["zone_id"], a["level"], a["status"]) for a in alert] == [("rocinha", 3, "open")]
    event = await database.fetch("SELECT * FROM alert_events WHERE alert_id = $1", alert[0]["id"])
    assert event[0]["transition"] == "raised"
    assert '"model_version"' in event[0]["evidence"]
    rows = await database.fetch(
        "SELECT subscription_id, content_type, message_id FROM outbox WHERE alert_id = $1"
        " ORDER BY subscription_id",
        alert[0]["id"],
    )
    assert [r["subscription_id"] for r in rows] == [sub_all, cap]
    assert rows[1]["content_type"] == "application/cap+xml"
    assert rows[0]["message_id"] == f"msg_{alert[0]['id']}_1_{sub_all}"


async def test_silent_stations_raise_data_alerts(database: Database) -> None:
    """Zones whose stations sent nothing get a data alert; a reporting zone does not."""
    await fill(database, "rocinha", NOW)
    async with Evaluator(config(database)) as evaluator:
        await evaluator.evaluate_once(NOW)
    rows = await database.fetch("SELECT zone_id, level FROM alerts WHERE kind = 'data'")
    zones = {r["zone_id"]: r["level"] for r in rows}
    assert "rocinha" not in zones
    assert "vidigal" in zones
    assert set(zones.values()) == {2}
    risk = await database.fetchval("SELECT count(*) FROM alerts WHERE kind = 'risk'")
    assert risk == 0


async def test_partitions_are_shared_fairly_and_taken_over(database: Database) -> None:
    """Two evaluators split four partitions two and two; the survivor takes all four."""
    async with Evaluator(config(database)) as first:
        assert await first.rebalance() == {0, 1, 2, 3}
        async with Evaluator(config(database)) as second:
            assert await second.rebalance() == set()  # all taken: first must give some back
            assert len(await first.rebalance()) == 2
            assert len(await second.rebalance()) == 2
            assert first.owned.isdisjoint(second.owned)
        assert await first.rebalance() == {0, 1, 2, 3}


async def test_late_reading_inside_the_window_raises(database: Database) -> None:
    """A reading that arrives late, with a ts hours old, enters its window and raises."""
    await fill(database, "rocinha", NOW)
    async with Evaluator(config(database)) as evaluator:
        assert not [c for c in await evaluator.evaluate_once(NOW) if c[0].kind == "risk"]
        await database.fetchval(
            "UPDATE readings SET value = 12, received_at = $2 WHERE quantity = 'rain_mm'"
            " AND ts > $1 AND ts <= $1 + interval '4 hours'"
            " AND station_id IN (SELECT id FROM stations WHERE zone_id = 'rocinha')",
            NOW - timedelta(hours=10),
            NOW + timedelta(seconds=5),
        )
        await database.fetchval("SELECT encosta_refresh_rollup()")  # not via ingest
        changes = await evaluator.evaluate_once(NOW + timedelta(seconds=5))
    risk = [
        (p.zone_id, s.transition, p.evidence["criteria"][0]["criterion"])
        for p, s in changes
        if p.kind == "risk"
    ]
    assert [(z, str(t)) for z, t, _ in risk] == [("rocinha", "raised")]


async def test_station_table_is_read_again_only_when_the_registry_changes(
    database: Database,
) -> None:
    """Cycles reuse the station table; an update or a delete of a station reloads it."""
    await fill(database, "rocinha", NOW)
    station = await database.fetchval(
        "SELECT min(id) FROM stations WHERE zone_id = 'rocinha' AND network = $1", database.network
    )
    async with Evaluator(config(database)) as evaluator:
        await evaluator.evaluate_once(NOW)
        await evaluator.evaluate_once(NOW + timedelta(minutes=15))
        assert evaluator.registry_loads == 1
        assert evaluator.incremental.rebuilds == 1  # the new step was pushed
        assert evaluator.incremental.pushes >= 3
        await database.fetchval(
            "UPDATE stations SET slope_deg = slope_deg + 5 WHERE id = $1", station
        )
        await evaluator.evaluate_once(NOW + timedelta(minutes=16))
        assert evaluator.registry_loads == 2
        assert evaluator.incremental.rebuilds == 2  # new parameters: the state is rebuilt
        assert evaluator._registry is not None
        table = evaluator._registry[1]
        slope = table.params.slope_deg[table.ids.index(station)]
        expected = await database.fetchval("SELECT slope_deg FROM stations WHERE id = $1", station)
        assert slope == pytest.approx(expected)
        await database.fetchval("UPDATE stations SET status = 'retired' WHERE id = $1", station)
        await evaluator.evaluate_once(NOW + timedelta(minutes=17))
        assert evaluator.registry_loads == 3
        assert station not in evaluator._registry[1].ids
