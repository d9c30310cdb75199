"""Nothing lost, nothing duplicated: kill -9, a database outage, replicas on a shared group."""

from __future__ import annotations

import asyncio
import signal
from dataclasses import replace
from pathlib import Path

import pytest

from encosta import stack
from ingest.accounts import SHARE_GROUP
from ingest.service import IngestService
from tests.conftest import Database, IngestProcess, ingest_config, running_ingest
from tests.ingest.streams import stream_lines
from tests.mqtt import mosquitto_pub

pytestmark = [pytest.mark.services, pytest.mark.slow]
STREAM = 20_000


async def test_kill_9_mid_stream_loses_and_duplicates_nothing(
    database: Database, tmp_path: Path, ingest_processes: list[IngestProcess]
) -> None:
    """Kill -9 mid-stream of 20,000 readings: after restart exactly the readings sent."""
    process = IngestProcess(ingest_config(database), tmp_path / "ingest.log")
    ingest_processes.append(process)
    process.start()
    await process.wait_subscribed()
    lines = stream_lines(STREAM)
    publisher = asyncio.create_task(
        mosquitto_pub(database.publisher, database.topic("rocinha-02"), lines)
    )
    # Kill once part of the stream is committed, while the rest is still arriving.
    await database.wait_for_count(
        "SELECT count(*) FROM readings", STREAM // 10, limit_s=60, settle_s=0
    )
    process.kill(signal.SIGKILL)
    killed_at = int(await database.fetchval("SELECT count(*) FROM readings"))
    assert killed_at < STREAM, "the kill must land mid-stream for this test to mean anything"
    await publisher
    process.start()
    await process.wait_subscribed(count=2)
    stored = await database.wait_for_count("SELECT count(*) FROM readings", STREAM, limit_s=90)
    assert stored == STREAM
    assert await database.fetchval("SELECT count(DISTINCT ts) FROM readings") == STREAM


async def test_sigterm_drains_and_restart_resumes(
    database: Database, tmp_path: Path, ingest_processes: list[IngestProcess]
) -> None:
    """SIGTERM mid-stream: ingest commits what it holds and exits 0; the rest arrives after."""
    process = IngestProcess(ingest_config(database), tmp_path / "ingest.log")
    ingest_processes.append(process)
    process.start()
    await process.wait_subscribed()
    lines = stream_lines(5000)
    publisher = asyncio.create_task(
        mosquitto_pub(database.publisher, database.topic("borel-02"), lines)
    )
    await database.wait_for_count("SELECT count(*) FROM readings", 500, limit_s=60, settle_s=0)
    process.kill(signal.SIGTERM)
    assert process.process is not None
    assert process.process.returncode == 0, process.log.read_text()[-2000:]
    await publisher
    process.start()
    await process.wait_subscribed(count=2)
    assert await database.wait_for_count("SELECT count(*) FROM readings", 5000) == 5000


async def test_database_outage_mid_stream_loses_nothing(database: Database) -> None:
    """PostgreSQL down for seconds mid-stream: ingest retries, resumes, stores exactly all."""
    pg = stack.Postgres(database.stack)
    config = ingest_config(database)
    lines = stream_lines(STREAM)
    first, during, after = lines[:5000], lines[5000:15000], lines[15000:]
    topic = database.topic("vidigal-03")
    port = database.publisher
    try:
        async with running_ingest(config) as service:
            await mosquitto_pub(port, topic, first)
            assert await database.wait_for_count("SELECT count(*) FROM readings", 5000) == 5000
            await asyncio.to_thread(pg.stop, "fast")
            await mosquitto_pub(port, topic, during)  # received, cannot be committed
            await asyncio.sleep(5)
            assert service.metrics.db_retries._value.get() > 0
            assert not service.healthy()[0]
            await asyncio.to_thread(pg.start)
            await mosquitto_pub(port, topic, after)
            stored = await database.wait_for_count(
                "SELECT count(*) FROM readings", STREAM, limit_s=90
            )
            assert service.healthy()[0]
    finally:
        await asyncio.to_thread(pg.start)
    assert stored == STREAM


async def test_two_replicas_on_a_shared_subscription_store_each_reading_once(
    database: Database, tmp_path: Path, ingest_processes: list[IngestProcess]
) -> None:
    """Two ingest processes on one shared subscription store every reading exactly once."""
    group = SHARE_GROUP  # the deployment's: only ingest accounts may join it
    for index in (1, 2):
        config = replace(
            ingest_config(database),
            share_group=group,
            client_id=f"ingest-{database.network}-{index}",
        )
        process = IngestProcess(config, tmp_path / f"ingest-{index}.log")
        ingest_processes.append(process)
        process.start()
    for process in ingest_processes:
        await process.wait_subscribed()
    lines = stream_lines(10_000)
    await asyncio.gather(
        mosquitto_pub(database.publisher, database.topic("babilonia-01"), lines[::2]),
        mosquitto_pub(database.publisher, database.topic("babilonia-02"), lines[1::2]),
    )
    assert await database.wait_for_count("SELECT count(*) FROM readings", 10_000) == 10_000
    for process in ingest_processes:
        process.kill(signal.SIGTERM)
    # Both processes committed something: the broker really shared the stream.
    for process in ingest_processes:
        assert "ingest stopped" in process.log.read_text()
    per_station = await database.fetch(
        "SELECT station_id, count(*) AS n FROM readings GROUP BY 1 ORDER BY 1"
    )
    assert [(r["station_id"], r["n"]) for r in per_station] == [
        ("babilonia-01", 5000),
        ("babilonia-02", 5000),
    ]


async def test_broker_restart_mid_stream_loses_nothing(database: Database) -> None:
    """Mosquitto restarted mid-stream: ingest reconnects, stores exactly the readings sent."""
    broker = stack.Mosquitto(database.stack)
    lines = stream_lines(6000)
    topic = database.topic("alemao-04")
    port = database.publisher
    try:
        async with running_ingest(ingest_config(database)) as service:
            await mosquitto_pub(port, topic, lines[:3000])
            assert await database.wait_for_count("SELECT count(*) FROM readings", 3000) == 3000
            await asyncio.to_thread(broker.stop)
            await asyncio.sleep(1)
            assert service.metrics.mqtt_connected._value.get() == 0
            await asyncio.to_thread(broker.start)
            await mosquitto_pub(port, topic, lines[3000:])
            stored = await database.wait_for_count(
                "SELECT count(*) FROM readings", 6000, limit_s=90
            )
            assert service.metrics.mqtt_connects._value.get() >= 2
    finally:
        await asyncio.to_thread(broker.start)
    assert stored == 6000


async def test_sigterm_while_the_database_is_down_at_start_exits(database: Database) -> None:
    """Started while PostgreSQL is unreachable, ingest waits; stop() still ends it promptly."""
    config = replace(ingest_config(database), dsn="postgresql://postgres@127.0.0.1:9/nowhere")
    service = IngestService(config)
    task = asyncio.create_task(service.run())
    await asyncio.sleep(1.0)
    assert not task.done()  # still trying to read the registry
    service.stop()
    async with asyncio.timeout(5):
        await task
