"""Heartbeats to opted-in subscriptions and fallback escalation of unacknowledged alerts."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import TYPE_CHECKING

import asyncpg
import pytest

from alerts.config import EvaluatorConfig
from alerts.evaluator import Evaluator
from alerts.store import acknowledge
from tests.alerts.test_evaluator import NOW, fill

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = pytest.mark.services

SUBSCRIBE = (
    "INSERT INTO webhook_subscriptions"
    " (url, secret, min_level, heartbeat, fallback, format, zones)"
    " VALUES ($1, 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=', $2, $3, $4, $5, ARRAY['rocinha'])"
    " RETURNING id"
)


def config(db: Database, **overrides: float) -> EvaluatorConfig:
    """Evaluator settings with a 60 s heartbeat and a 15 min fallback."""
    settings: dict[str, float] = {"heartbeat_s": 60.0, "fallback_min": 15.0}
    settings.update(overrides)
    return EvaluatorConfig(dsn=db.dsn_for("alerts"), network=db.network, **settings)  # type: ignore[arg-type]


async def storm(db: Database) -> None:
    """Dry history everywhere and 80 mm in the last hour over Rocinha."""
    for zone in [r["id"] for r in await db.fetch("SELECT id FROM zones")]:
        await fill(db, zone, NOW)
    await db.fetchval(
        "UPDATE readings SET value = 20 WHERE quantity = 'rain_mm' AND ts > $1"
        " AND station_id IN (SELECT id FROM stations WHERE zone_id = 'rocinha')",
        NOW - timedelta(hours=1),
    )
    await db.fetchval("SELECT encosta_refresh_rollup()")  # not via ingest


async def test_heartbeat_once_per_period_to_opted_in_only(database: Database) -> None:
    """Each period queues one heartbeat per opted-in subscription, JSON or CAP System."""
    json_sub = await database.fetchval(SUBSCRIBE, "http://127.0.0.1:9/a", 1, True, False, "json")
    cap_sub = await database.fetchval(SUBSCRIBE, "http://127.0.0.1:9/b", 1, True, False, "cap")
    await database.fetchval(SUBSCRIBE, "http://127.0.0.1:9/c", 1, False, False, "json")
    async with Evaluator(config(database)) as first, Evaluator(config(database)) as second:
        for evaluator in (first, second):  # two replicas in the same period: one heartbeat
            await evaluator.evaluate_once(NOW)
            await evaluator.evaluate_once(NOW + timedelta(seconds=5))
        await first.evaluate_once(NOW + timedelta(seconds=61))
    rows = await database.fetch(
        "SELECT subscription_id, content_type, payload, alert_id FROM outbox"
        " WHERE zone_id = '_heartbeat' ORDER BY id"
    )
    assert [r["subscription_id"] for r in rows] == [json_sub, cap_sub, json_sub, cap_sub]
    assert all(r["alert_id"] is None for r in rows)
    body = json.loads(rows[0]["payload"])
    assert body["type"] == "encosta.heartbeat"
    assert body["data"]["network"] == database.network
    assert rows[1]["content_type"] == "application/cap+xml"
    assert "<status>System</status>" in rows[1]["payload"]


async def test_unacknowledged_alert_goes_to_fallback_once(database: Database) -> None:
    """After the fallback time an unacknowledged alert is sent once to fallback subscriptions."""
    regular = await database.fetchval(SUBSCRIBE, "http://127.0.0.1:9/a", 1, False, False, "json")
    backup = await database.fetchval(SUBSCRIBE, "http://127.0.0.1:9/b", 2, False, True, "json")
    await storm(database)
    async with Evaluator(config(database, heartbeat_s=0)) as evaluator:
        await evaluator.evaluate_once(NOW)
        await evaluator.evaluate_once(NOW + timedelta(minutes=14))
        assert (
            await database.fetchval(
                "SELECT count(*) FROM outbox WHERE subscription_id = $1", backup
            )
            == 0
        )  # the fallback hears nothing of ordinary transitions, nor before its time
        await evaluator.evaluate_once(NOW + timedelta(minutes=16))
        await evaluator.evaluate_once(NOW + timedelta(minutes=30))
    rows = await database.fetch(
        "SELECT message_id, payload FROM outbox WHERE subscription_id = $1", backup
    )
    assert len(rows) == 1
    body = json.loads(rows[0]["payload"])
    assert body["type"] == "alert.unacknowledged"
    assert body["data"]["zone"]["id"] == "rocinha"
    assert body["data"]["evidence"]["unacknowledged_s"] == 16 * 60
    regular_types = [
        json.loads(r["payload"])["type"]
        for r in await database.fetch(
            "SELECT payload FROM outbox WHERE subscription_id = $1", regular
        )
    ]
    assert regular_types == ["alert.raised"]


async def test_acknowledged_alert_is_not_escalated(database: Database) -> None:
    """An alert acknowledged within the fallback time never reaches the fallback."""
    backup = await database.fetchval(SUBSCRIBE, "http://127.0.0.1:9/b", 1, False, True, "json")
    await storm(database)
    async with Evaluator(config(database, heartbeat_s=0)) as evaluator:
        await evaluator.evaluate_once(NOW)
        connection = await asyncpg.connect(database.dsn_for("api"))
        try:
            alert = await connection.fetchval("SELECT id FROM alerts WHERE kind = 'risk'")
            await acknowledge(connection, alert, "duty-officer", NOW + timedelta(minutes=5))
        finally:
            await connection.close()
        await evaluator.evaluate_once(NOW + timedelta(minutes=20))
    assert (
        await database.fetchval("SELECT count(*) FROM outbox WHERE subscription_id = $1", backup)
        == 0
    )
