"""Exactly-once storage per key: conflicting re-sends, SenML relative time, bounded rejects."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from datetime import UTC, datetime

import pytest

from ingest.metrics import IngestMetrics
from ingest.payload import Reading, Rejected
from ingest.reasons import Reason
from ingest.service import IngestService
from ingest.writer import BatchWriter, Message
from tests.conftest import Database, ingest_config, running_ingest
from tests.mqtt import publish

pytestmark = pytest.mark.services


async def committed(service: IngestService, count: int) -> None:
    """Wait until ``count`` messages are committed (and so acknowledged)."""
    for _ in range(1200):
        if service.metrics.messages._value.get() >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"fewer than {count} messages committed")


async def test_conflicting_resend_is_a_reject_once_and_identical_resend_a_duplicate(
    database: Database,
) -> None:
    """Same key, other value: one conflicting_value reject naming both; same value: duplicate."""
    ts = time.time() - 600
    topic = database.topic("vidigal-01")
    original = json.dumps({"seq": 1, "records": [{"ts": ts, "rain_mm": 4.0}]}).encode()
    conflicting = json.dumps({"seq": 2, "records": [{"ts": ts, "rain_mm": 5.0}]}).encode()
    async with running_ingest(ingest_config(database)) as service:
        await publish(database.publisher, [(topic, original)])
        await database.wait_for_count("SELECT count(*) FROM readings", 1, settle_s=0)
        # The conflicting message twice (a re-send of the same bytes), the original again.
        await publish(database.publisher, [(topic, conflicting)] * 2 + [(topic, original)])
        await database.wait_for_count("SELECT count(*) FROM rejects", 1, settle_s=1)
        metrics = service.metrics
        await committed(service, 4)
        duplicates = metrics.duplicates._value.get()
        conflicts = metrics.rejected.labels("conflicting_value")._value.get()
    rows = await database.fetch("SELECT reason, detail, raw, station_id FROM rejects")
    assert [(r["reason"], r["station_id"], bytes(r["raw"])) for r in rows] == [
        ("conflicting_value", "vidigal-01", conflicting)
    ]
    assert "sent 5.0" in rows[0]["detail"]
    assert "stored 4.0" in rows[0]["detail"]
    assert await database.fetchval("SELECT array_agg(value) FROM readings") == [4.0]
    assert duplicates == 1  # the identical re-send only
    assert conflicts == 2  # seen on both deliveries, recorded once


async def test_writer_records_a_conflict_once_across_redeliveries(database: Database) -> None:
    """The writer given the same conflicting message again (a redelivery) records it once."""
    now = datetime.now(UTC)
    stored = Message(
        "encosta/x/borel-01/readings",
        b"a",
        [Reading("borel-01", "rain_mm", now, 1.0)],
        [],
        "borel-01",
    )
    # Two values for one key inside one message as well: the first is stored.
    clash = Message(
        "encosta/x/borel-01/readings",
        b"b",
        [
            Reading("borel-01", "rain_mm", now, 2.0),
            Reading("borel-01", "vwc", now, 0.2),
            Reading("borel-01", "vwc", now, 0.3),
        ],
        [],
        "borel-01",
    )
    async with BatchWriter(database.dsn, IngestMetrics()) as writer:
        assert await writer.write([stored]) == 1
        assert await writer.write([clash]) == 1
        assert await writer.write([clash]) == 0
    rows = await database.fetch("SELECT detail FROM rejects ORDER BY detail")
    assert len(rows) == 2
    assert "rain_mm" in rows[0]["detail"]
    assert "sent 2.0, stored 1.0" in rows[0]["detail"]
    assert "sent 0.3, stored 0.2" in rows[1]["detail"]
    values = await database.fetch("SELECT quantity, value FROM readings ORDER BY quantity")
    assert [(r["quantity"], r["value"]) for r in values] == [("rain_mm", 1.0), ("vwc", 0.2)]


async def test_senml_relative_time_sent_twice_never_stores_twice(database: Database) -> None:
    """A SenML pack with receiver-relative time, sent twice seconds apart, stores no reading."""
    topic = database.topic("prazeres-01", senml=True)
    pack = json.dumps(
        [{"bn": "urn:dev:encosta:prazeres-01:", "n": "rain", "u": "mm", "v": 3.0}]
    ).encode()
    async with running_ingest(ingest_config(database)) as service:
        await publish(database.publisher, [(topic, pack)])
        await asyncio.sleep(1.5)  # the receive clock moves on between the two copies
        await publish(database.publisher, [(topic, pack)])
        await committed(service, 2)
    assert await database.fetchval("SELECT count(*) FROM readings") == 0
    rows = await database.fetch("SELECT reason, detail FROM rejects")
    assert [r["reason"] for r in rows] == ["relative_time"]
    assert "RFC 8428" in rows[0]["detail"]


async def test_rejects_keep_a_bounded_prefix_its_length_and_hash(database: Database) -> None:
    """A reject stores the first reject_raw_bytes bytes, the full length, SHA-256; detail cut."""
    payload = bytes(range(256)) * 40  # 10,240 bytes
    reject = Rejected(Reason.MALFORMED_JSON, "x" * 5000, payload)
    message = Message("encosta/x/borel-02/readings", payload, [], [reject], "borel-02")
    async with BatchWriter(database.dsn, IngestMetrics(), reject_raw_bytes=100) as writer:
        await writer.write([message])
    row = (await database.fetch("SELECT raw, raw_length, raw_sha256, detail FROM rejects"))[0]
    assert bytes(row["raw"]) == payload[:100]
    assert row["raw_length"] == len(payload)
    assert bytes(row["raw_sha256"]) == hashlib.sha256(payload).digest()
    assert len(row["detail"]) == 1000


async def test_rejects_table_bounds_rows_from_any_writer(database: Database) -> None:
    """Rows written without length and hash get them; the table caps raw at 1 MiB itself."""
    big = b"z" * (2 << 20)
    await database.fetchval(
        "INSERT INTO rejects (topic, reason, detail, raw, message_hash)"
        " VALUES ('t', 'out_of_range', $1, $2, '\\x01'::bytea) RETURNING id",
        "d" * 10_000,
        big,
    )
    row = (await database.fetch("SELECT raw, raw_length, raw_sha256, detail FROM rejects"))[0]
    assert len(row["raw"]) == 1 << 20
    assert row["raw_length"] == len(big)
    assert bytes(row["raw_sha256"]) == hashlib.sha256(big).digest()
    assert len(row["detail"]) == 4000


async def test_writer_isolates_an_unexpected_exception_as_internal_error(
    database: Database,
) -> None:
    """A message that makes the writer raise (not a database error) is one internal_error row."""
    now = datetime.now(UTC)
    good = Message(
        "encosta/x/borel-03/readings",
        b"ok",
        [Reading("borel-03", "rain_mm", now, 1.0)],
        [],
        "borel-03",
    )
    broken = Message("encosta/x/borel-04/readings", b"bug", [None], [], "borel-04")  # type: ignore[list-item]
    metrics = IngestMetrics()
    async with BatchWriter(database.dsn, metrics) as writer:
        assert await writer.write([good, broken]) == 1
    rows = await database.fetch("SELECT reason, detail, raw FROM rejects")
    assert [(r["reason"], bytes(r["raw"])) for r in rows] == [("internal_error", b"bug")]
    assert rows[0]["detail"].startswith("AttributeError")
    assert await database.fetchval("SELECT count(*) FROM readings") == 1
    assert metrics.rejected.labels("internal_error")._value.get() == 1
