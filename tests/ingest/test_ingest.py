"""The ingest service against real Mosquitto and TimescaleDB."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from datetime import UTC, datetime

import httpx
import pytest

from ingest.metrics import IngestMetrics
from ingest.payload import Reading
from ingest.reasons import Reason
from ingest.writer import BatchWriter, Message
from tests.conftest import Database, ingest_config, running_ingest
from tests.ingest.streams import batched_lines, stream_lines
from tests.ingest.test_payload import NOT_FROM_INPUT, REASON_CASES
from tests.mqtt import mosquitto_pub, publish

pytestmark = pytest.mark.services


async def test_readings_from_mosquitto_pub_are_stored(database: Database) -> None:
    """Readings published by a third-party client land in the hypertable with their values."""
    async with running_ingest(ingest_config(database)):
        now = time.time()
        lines = [
            json.dumps(
                {"records": [{"ts": now - 60, "rain_mm": 2.5, "vwc": 0.33, "battery_v": 3.9}]}
            ).encode()
        ]
        await mosquitto_pub(database.publisher, database.topic("rocinha-01"), lines)
        assert await database.wait_for_count("SELECT count(*) FROM readings", 3) == 3
    rows = await database.fetch("SELECT quantity, value FROM readings ORDER BY quantity")
    assert [(r["quantity"], r["value"]) for r in rows] == [
        ("battery_v", 3.9),
        ("rain_mm", 2.5),
        ("vwc", 0.33),
    ]


async def test_duplicates_are_stored_once(database: Database) -> None:
    """The same readings sent three times, in one message and across messages, count once."""
    now = time.time()
    record = {"ts": now - 300, "rain_mm": 4.0}
    payload = json.dumps({"records": [record, record]}).encode()
    async with running_ingest(ingest_config(database)):
        await mosquitto_pub(
            database.publisher, database.topic("vidigal-02"), [payload, payload, payload]
        )
        await database.wait_for_count("SELECT count(*) FROM readings", 1)
        await asyncio.sleep(1)
    assert await database.fetchval("SELECT count(*) FROM readings") == 1
    assert await database.fetchval("SELECT sum(value) FROM readings") == 4.0


async def test_every_reject_reason_produces_its_row(database: Database) -> None:
    """Each kind of bad input lands in rejects with topic, raw bytes and reason."""
    messages: list[tuple[str, bytes]] = []
    for reason, topic, payload, limits in REASON_CASES:
        if limits or reason in {"bad_topic", "network_mismatch", "ts_future", "ts_past"}:
            continue  # produced below with live time and limits
        parts = topic.split("/")
        station = "ghost" if reason == "unknown_station" else "borel-01"
        text = payload.replace(b"st-2", b"other").replace(b"st-1", station.encode())
        text = text.replace(str(1_795_000_000.0).encode(), str(time.time()).encode())
        messages.append((database.topic(station, senml=parts[-1] == "senml"), text))
    now = time.time()
    station = database.topic("borel-01")
    messages += [
        (station, json.dumps({"records": [{"ts": now + 3600, "rain_mm": 1}]}).encode()),
        (station, json.dumps({"records": [{"ts": now - 40 * 86400, "rain_mm": 1}]}).encode()),
        (station, b"{" + b" " * 300_000 + b"}"),
        (
            station,
            json.dumps({"records": [{"ts": now - i, "rain_mm": 1} for i in range(1001)]}).encode(),
        ),
        (station, json.dumps({"records": [{"ts": now - 5, "rain_mm": 1.25}]}).encode()),
    ]
    expected = {r.value for r in Reason} - {"bad_topic", "network_mismatch"} - NOT_FROM_INPUT
    async with running_ingest(ingest_config(database)):
        await publish(database.publisher, messages)
        await database.wait_for_count("SELECT count(DISTINCT reason) FROM rejects", len(expected))
        assert await database.wait_for_count("SELECT count(*) FROM readings", 1) == 1
    rows = await database.fetch("SELECT reason, topic, raw FROM rejects")
    assert {r["reason"] for r in rows} == expected
    assert all(r["raw"] and r["topic"].startswith(f"encosta/{database.network}/") for r in rows)
    assert await database.fetchval("SELECT value FROM readings") == 1.25


async def test_batched_gateway_messages_and_senml(database: Database) -> None:
    """Backlog bursts of 100 records and SenML packs are stored record for record."""
    lines = batched_lines(50, 100)
    senml = [
        json.dumps(
            [
                {
                    "bn": "urn:dev:encosta:prazeres-03:",
                    "bt": time.time() - 600,
                    "n": "rain",
                    "u": "mm",
                    "v": 0.5,
                },
                {"n": "vwc_d60", "u": "/", "v": 0.41},
            ]
        ).encode()
    ]
    async with running_ingest(ingest_config(database)):
        await mosquitto_pub(database.publisher, database.topic("alemao-03"), lines)
        await mosquitto_pub(database.publisher, database.topic("prazeres-03", senml=True), senml)
        total = await database.wait_for_count("SELECT count(*) FROM readings", 50 * 100 * 2 + 2)
    assert total == 50 * 100 * 2 + 2
    assert await database.fetchval(
        "SELECT value FROM readings WHERE quantity = 'vwc_d60'"
    ) == pytest.approx(0.41)


async def test_messages_published_while_ingest_is_down_are_delivered(
    database: Database,
) -> None:
    """The persistent session keeps QoS 1 messages while ingest is stopped (never unsubscribed)."""
    config = ingest_config(database)
    async with running_ingest(config):
        pass  # creates the session and subscription, then disconnects without unsubscribing
    await mosquitto_pub(database.publisher, database.topic("santa-marta-01"), stream_lines(500))
    async with running_ingest(config):
        assert await database.wait_for_count("SELECT count(*) FROM readings", 500) == 500


async def test_metrics_and_healthz_endpoints(database: Database) -> None:
    """/healthz answers 200 when connected; /metrics counts stored and rejected readings."""
    port = free_port()
    async with running_ingest(ingest_config(database, metrics_port=port)):
        lines = [*stream_lines(10), b"{not json"]
        await mosquitto_pub(database.publisher, database.topic("rocinha-03"), lines)
        await database.wait_for_count("SELECT count(*) FROM readings", 10)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            health = await client.get("/healthz")
            metrics = (await client.get("/metrics")).text
            missing = await client.get("/nope")
    assert health.status_code == 200
    assert health.text == "mqtt=up db=up"
    assert "encosta_ingest_readings_stored_total 10.0" in metrics
    assert 'encosta_ingest_rejected_total{reason="malformed_json"} 1.0' in metrics
    assert missing.status_code == 404


def free_port() -> int:
    """A TCP port free on loopback right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_value_the_database_refuses_goes_to_rejects_alone(database: Database) -> None:
    """A poison message goes to rejects as storage_error; its batch neighbours are stored."""
    now = datetime.now(UTC)
    good = Message(
        "encosta/x/rocinha-01/readings",
        b"good",
        [Reading("rocinha-01", "rain_mm", now, 1.5)],
        [],
        "rocinha-01",
    )
    bad = Message(
        "encosta/x/rocinha-02/readings",
        b"bad",
        [Reading("rocinha-02", "rain_mm\x00", now, 2.0)],
        [],
        "rocinha-02",
    )
    later = Message(
        "encosta/x/rocinha-03/readings",
        b"later",
        [Reading("rocinha-03", "rain_mm", now, 3.5)],
        [],
        "rocinha-03",
    )
    async with BatchWriter(database.dsn_for("ingest"), IngestMetrics()) as writer:
        stored = await writer.write([good, bad, later])
    assert stored == 2
    rows = await database.fetch("SELECT station_id, value FROM readings ORDER BY station_id")
    assert [(r["station_id"], r["value"]) for r in rows] == [
        ("rocinha-01", 1.5),
        ("rocinha-03", 3.5),
    ]
    rejects = await database.fetch("SELECT reason, raw, topic FROM rejects")
    assert [(r["reason"], bytes(r["raw"])) for r in rejects] == [("storage_error", b"bad")]
