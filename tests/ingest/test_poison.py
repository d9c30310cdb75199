"""Poison messages through the real broker: each becomes a reject, the flow goes on, no restart.

Before the total decoder, one 400-digit number or a 2 KB document nested 1,000 deep ended the
service; the broker redelivered it from the persistent session on every restart, and a
retained copy stopped even a fresh replica. Here every hostile case of tests/ingest/hostile.py
is published (a few as retained messages, before ingest subscribes), then valid readings from
several stations; all of them must be accounted for by the same, never-restarted service.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from tests.conftest import Database, IngestProcess, ingest_config, running_ingest
from tests.ingest.hostile import Hostile, corpus
from tests.mqtt import publish

pytestmark = [pytest.mark.services, pytest.mark.slow]
RETAINED = ("int_400_digits", "arrays_1000_deep", "objects_1000_deep", "payload_10mb")
VALID_PER_STATION = 50


class Poison:
    """The messages of one run and what each must become."""

    def __init__(self, database: Database) -> None:
        self.database = database
        stations = [s.id for s in database.registry.stations]
        self.poison_station = stations[0]
        self.valid_stations = stations[1:4]
        self.retained_stations = stations[4 : 4 + len(RETAINED)]
        now = time.time()
        base = corpus(now, self.poison_station)
        by_name = {c.name: c for c in base}
        # Valid cases write the same key (station, rain_mm, now): give each its own time.
        self.cases = [
            c if c.reason else _named(corpus(now - 10 * (i + 1), self.poison_station), c.name)
            for i, c in enumerate(base)
        ]
        self.retained = [
            (database.topic(station), by_name[name].payload)
            for station, name in zip(self.retained_stations, RETAINED, strict=True)
        ]
        start = now - 3600
        self.valid = [
            (
                database.topic(station),
                json.dumps({"records": [{"ts": start + i, "rain_mm": 0.2}]}).encode(),
            )
            for station in self.valid_stations
            for i in range(VALID_PER_STATION)
        ]

    def messages(self) -> list[tuple[str, bytes]]:
        """The poison cases, each on the poison station's topic of its form."""
        return [
            (self.database.topic(self.poison_station, senml=c.senml), c.payload) for c in self.cases
        ]

    def expected_rejects(self) -> Counter[tuple[bytes, str]]:
        """(sha256 of the payload, reason) of each reject row the poison must leave, counted."""
        expected = Counter((_sha(c.payload), c.reason) for c in self.cases if c.reason)
        for (_, payload), name in zip(self.retained, RETAINED, strict=True):
            expected[_sha(payload), _named(self.cases, name).reason or ""] += 1
        return expected

    def expected_readings(self) -> int:
        """Readings the valid stations and the valid hostile cases must store."""
        return len(self.valid) + sum(c.readings for c in self.cases)

    async def clear_retained(self) -> None:
        """Remove the retained messages from the broker (an empty retained payload)."""
        port = self.database.publisher
        await publish(port, [(topic, b"") for topic, _ in self.retained], retain=True)

    async def check_stored(self) -> None:
        """Every valid reading stored once; every poison in rejects once, with its reason."""
        db = self.database
        expected = self.expected_rejects()
        await db.wait_for_count("SELECT count(*) FROM rejects", expected.total(), limit_s=120)
        stored = await db.wait_for_count(
            "SELECT count(*) FROM readings", self.expected_readings(), limit_s=120
        )
        assert stored == self.expected_readings()
        rows = await db.fetch(
            "SELECT raw_sha256, reason, length(raw) AS kept, raw_length FROM rejects"
        )
        assert Counter((bytes(r["raw_sha256"]), r["reason"]) for r in rows) == expected
        assert all(r["kept"] <= 4096 for r in rows)
        assert max(r["raw_length"] for r in rows) == 10 * 1024 * 1024 + 9
        per_station = await db.fetch(
            "SELECT station_id, count(*) AS n FROM readings WHERE station_id <> $1"
            " GROUP BY 1 ORDER BY 1",
            self.poison_station,
        )
        assert [(r["station_id"], r["n"]) for r in per_station] == [
            (s, VALID_PER_STATION) for s in sorted(self.valid_stations)
        ]


def _named(cases: list[Hostile], name: str) -> Hostile:
    return next(c for c in cases if c.name == name)


def _sha(payload: bytes) -> bytes:
    return hashlib.sha256(payload).digest()


async def _run(poison: Poison, started: Callable[[], Awaitable[None]]) -> None:
    port = poison.database.publisher
    await publish(port, poison.retained, retain=True)
    await started()
    await publish(port, poison.messages())
    await publish(port, poison.valid)
    await poison.check_stored()


async def test_poison_messages_are_rejected_and_ingest_carries_on(database: Database) -> None:
    """Every hostile message (some retained) is a reject; valid ones stored; no reconnect."""
    poison = Poison(database)
    port = database.publisher
    try:
        await publish(port, poison.retained, retain=True)
        async with running_ingest(ingest_config(database)) as service:
            await publish(port, poison.messages())
            await publish(port, poison.valid)
            await poison.check_stored()
            # One session from start to end: no message ever broke the connection.
            assert service.metrics.mqtt_connects._value.get() == 1
            assert service.metrics.rejected.labels("too_deep")._value.get() >= 3
            assert service.healthy() == (True, "mqtt=up db=up")
    finally:
        await poison.clear_retained()


async def test_poison_messages_do_not_restart_the_ingest_process(
    database: Database, tmp_path: Path, ingest_processes: list[IngestProcess]
) -> None:
    """As a process: after the poison and the valid readings, the same pid still runs."""
    poison = Poison(database)
    process = IngestProcess(ingest_config(database), tmp_path / "ingest.log")
    ingest_processes.append(process)

    pids: list[int] = []

    async def started() -> None:
        process.start()
        await process.wait_subscribed()
        assert process.process is not None
        pids.append(process.process.pid)

    try:
        await _run(poison, started)
        assert process.process is not None
        assert process.process.poll() is None, process.log.read_text()[-2000:]
        assert [process.process.pid] == pids  # started once, still that process
        log = process.log.read_text(errors="replace")
        assert log.count('"subscribed"') == 1  # never reconnected
        assert "broker connection lost" not in log
    finally:
        await poison.clear_retained()
