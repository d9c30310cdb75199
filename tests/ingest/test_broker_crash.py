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


async def saved_after(path: Path, since_ns: int, limit_s: float = 120.0) -> None:
    """Wait for an autosave that began after ``since_ns``: the event, not a guess at its time.

    Mosquitto writes ``mosquitto.db.new`` and renames it, one save at a time. A save finished
    after ``since_ns`` may have begun before it, so wait for the one after that: it began after
    the first had finished. (On a loaded machine a save of 20,000 messages can take longer
    than the interval; a fixed sleep lost messages to that.)
    """

    def mtime() -> int:
        try:
            return path.stat().st_mtime_ns
        except FileNotFoundError:
            return 0

    first = 0  # the mtime of the first save that finished after since_ns
    async with asyncio.timeout(limit_s):
        for _ in iter(int, 1):  # polled: a file's mtime has no event to await
            now = mtime()
            if not first and now > since_ns:
                first = now
            elif first and now != first:
                return
            await asyncio.sleep(0.05)


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
        await saved_after(broker.config.mqtt_dir / "mosquitto.db", time.time_ns())
        await asyncio.to_thread(broker.kill)
        assert not port_open(broker.config.mqtt_port)
        await asyncio.to_thread(broker.start)
        async with running_ingest(config):
            stored = await database.wait_for_count(
                "SELECT count(*) FROM readings", 20_000, limit_s=120
            )
    assert stored == 20_000
