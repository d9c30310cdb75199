"""Readings that cross a threshold raise an alert whose signed webhook reaches a receiver."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
import standardwebhooks

from alerts.config import DispatchConfig, EvaluatorConfig
from alerts.service import AlertsService
from alerts.signing import new_secret
from tests.alerts.receiver import LOOPBACK, Receiver
from tests.alerts.test_evaluator import fill

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = pytest.mark.services


async def test_threshold_crossing_reaches_the_receiver(database: Database) -> None:
    """Heavy rain in Rocinha -> risk alert -> one verified webhook; stop() ends the service."""
    secret = new_secret()
    now = datetime.now(UTC)
    async with Receiver() as receiver:
        await database.fetchval(
            "INSERT INTO webhook_subscriptions (url, secret, min_level, zones)"
            " VALUES ($1, $2, 1, ARRAY['rocinha'])",
            receiver.url,
            secret,
        )
        await fill(database, "rocinha", now)
        service = AlertsService(
            EvaluatorConfig(
                dsn=database.dsn_for("alerts"),
                network=database.network,
                interval_s=0.1,
                metrics_port=0,
            ),
            DispatchConfig(
                dsn=database.dsn_for("alerts"), interval_s=0.05, drain_s=5, destinations=LOOPBACK
            ),
        )
        async with asyncio.TaskGroup() as tg:
            task = tg.create_task(service.run(), name="alerts-under-test")
            await asyncio.sleep(0.5)
            assert receiver.received == []  # dry weather: nothing to say
            await database.fetchval(
                "UPDATE readings SET value = 25 WHERE quantity = 'rain_mm' AND ts > $1"
                " AND station_id IN (SELECT id FROM stations WHERE zone_id = 'rocinha')",
                now - timedelta(hours=1),
            )
            await database.fetchval("SELECT encosta_refresh_rollup()")  # not via ingest
            async with asyncio.timeout(15):
                while not receiver.received:  # noqa: ASYNC110  the receiver records requests
                    await asyncio.sleep(0.05)
            service.stop()
        assert task.done()
    message = receiver.received[0]
    body = standardwebhooks.Webhook(secret).verify(message.body, message.headers)
    assert body["type"] == "alert.raised"
    assert body["data"]["zone"]["id"] == "rocinha"
    assert body["data"]["level"] == 3
    assert body["data"]["model_version"]
    assert len({m.headers["webhook-id"] for m in receiver.received}) == len(receiver.received)
    assert json.loads(message.body)["data"]["kind"] == "risk"
