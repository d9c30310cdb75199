"""A broker killed with SIGKILL keeps what it acknowledged before its last autosave.

Mosquitto 2.0 does not write a message to disk before its PUBACK: it saves its whole state
every ``autosave_interval`` (1 s in deploy/mosquitto/mosquitto.conf.in). What was acknowledged
longer ago than that survives a crash; the window itself is measured by bench/broker_crash.py.
Each test runs a private broker, so that killing it disturbs no other test.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from encosta.stack import Mosquitto, StackConfig, free_port, port_open
from tests.conftest import Database, ingest_config, running_ingest
from tests.mqtt import NetworkAccounts, provisioned, publish

pytestmark = pytest.mark.services

AUTOSAVE_S = 1.0  # deploy/mosquitto/mosquitto.conf.in


@asynccontextmanager
async def private_broker(
    database: Database, tmp_path: Path
) -> AsyncIterator[tuple[Mosquitto, NetworkAccounts]]:
    """A broker of the test's own, with the network's accounts."""
    config = StackConfig(tmp_path / "broker", database.stack.pg_port, free_port())
    broker = Mosquitto(config)
    await asyncio.to_thread(broker.start)
    try:
        async with provisioned(config, database.registry) as accounts:
            yield broker, accounts
    finally:
        await asyncio.to_thread(broker.stop)


def test_autosave_interval_matches_the_shipped_config() -> None:
    """The interval these tests rely on is the one the stack and compose ship."""
    repo = Path(__file__).resolve().parents[2]
    for path in ("deploy/mosquitto/mosquitto.conf.in", "deploy/compose/mosquitto.conf"):
        lines = (repo / path).read_text().splitlines()
        assert f"autosave_interval {AUTOSAVE_S:g}" in lines, path
        assert "autosave_on_changes false" in lines, path
        assert "persistence true" in lines, path


async def test_acknowledged_messages_survive_kill_9_of_the_broker(
    database: Database, tmp_path: Path
) -> None:
    """20,000 readings queued for a stopped ingest, broker SIGKILLed after a save: none lost."""
    async with private_broker(database, tmp_path) as (broker, accounts):
        config = replace(
            ingest_config(database),
            mqtt_port=broker.config.mqtt_port,
            login=accounts.ingest_login,
        )
        async with running_ingest(config):
            pass  # creates the persistent session; ingest never unsubscribes
        now = time.time()
        messages = [
            (
                database.topic(f"rocinha-0{1 + i % 4}"),
                json.dumps({"records": [{"ts": now - 3600 + i * 0.1, "rain_mm": 0.2}]}).encode(),
            )
            for i in range(20_000)
        ]
        assert await publish(accounts.publisher, messages) == 20_000  # all PUBACKed
        await asyncio.sleep(3 * AUTOSAVE_S)  # past the next autosave
        await asyncio.to_thread(broker.kill)
        assert not port_open(broker.config.mqtt_port)
        await asyncio.to_thread(broker.start)
        async with running_ingest(config):
            stored = await database.wait_for_count(
                "SELECT count(*) FROM readings", 20_000, limit_s=120
            )
    assert stored == 20_000
