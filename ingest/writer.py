"""Commit batches of readings and rejects to TimescaleDB, retrying until the database answers.

A batch is COPYed into a per-connection staging table and moved into ``readings`` with
``ON CONFLICT DO NOTHING`` in one transaction, with the batch's rejects: a batch is either
committed whole or not at all, so the caller acknowledges its messages only after ``write``
returns. While the database is down or failing over, ``write`` keeps retrying with capped,
jittered backoff; it never drops a batch.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import asyncpg

from ingest.metrics import IngestMetrics
from ingest.payload import Reading, Rejected
from ingest.reasons import Reason

log = logging.getLogger("encosta.ingest.writer")

# Errors after which the same batch can succeed later: the server is down, restarting,
# failing over, or the connection broke.
RETRYABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # a connection left mid-protocol by a server crash
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
)
# The database refuses the data itself (e.g. a character PostgreSQL text cannot hold):
# retrying the same batch would fail forever.
_DATA_ERRORS = (asyncpg.DataError,)
_STAGE = "ingest_stage"
_COLUMNS = ("station_id", "quantity", "ts", "value", "received_at")


@dataclass(slots=True)
class Message:
    """One received MQTT message, decoded, waiting for its batch to commit."""

    topic: str
    payload: bytes
    readings: list[Reading]
    rejects: list[Rejected]
    station_id: str | None
    mid: int = 0
    qos: int = 1
    generation: int = 0
    received: float = field(default_factory=time.time)

    @property
    def digest(self) -> bytes:
        """Identity of the message for recording its rejects once across redeliveries."""
        return hashlib.blake2b(self.topic.encode() + b"\0" + self.payload, digest_size=16).digest()


def backoff(attempt: int, cap: float = 10.0) -> float:
    """Capped, jittered exponential backoff in seconds (full jitter)."""
    return random.uniform(0, min(cap, 0.1 * 2 ** min(attempt, 10)))  # noqa: S311


async def _prepare(connection: asyncpg.Connection) -> None:
    await connection.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (station_id text, quantity text,"
        " ts timestamptz, value double precision, received_at timestamptz)"
        " ON COMMIT DELETE ROWS"
    )


async def _insert(connection: asyncpg.Connection, rows: Sequence[tuple[object, ...]]) -> int:
    """Insert ``rows``, skipping readings already stored; return how many were new.

    Duplicates are rare (a re-sent backlog, a redelivery after a crash), so the batch is first
    COPYed straight into the hypertable inside a savepoint, at raw COPY speed; only when that
    hits the primary key does it go through the staging table and ``ON CONFLICT DO NOTHING``.
    """
    try:
        async with connection.transaction():
            await connection.copy_records_to_table("readings", records=rows, columns=_COLUMNS)
    except asyncpg.UniqueViolationError:
        pass
    else:
        return len(rows)
    await connection.copy_records_to_table(_STAGE, records=rows)
    status = await connection.execute(
        f"INSERT INTO readings ({', '.join(_COLUMNS)})"  # noqa: S608  constants only
        f" SELECT {', '.join(_COLUMNS)} FROM {_STAGE} ON CONFLICT DO NOTHING"
    )
    return int(status.rsplit(" ", 1)[1])


class BatchWriter:
    """Writes batches through a small asyncpg pool. Use as an async context manager."""

    def __init__(self, dsn: str, metrics: IngestMetrics, pool_size: int = 2) -> None:
        self.dsn = dsn
        self.metrics = metrics
        self.pool_size = pool_size
        self.healthy = True  # until a call fails
        self._pool: asyncpg.Pool | None = None

    async def __aenter__(self) -> Self:
        self._pool = await self._new_pool()
        return self

    async def _new_pool(self) -> asyncpg.Pool:
        # min_size=0: the pool connects lazily, so ingest starts (and holds messages
        # unacknowledged) even while the database is down.
        return await asyncpg.create_pool(
            self.dsn,
            min_size=0,
            max_size=self.pool_size,
            init=_prepare,
            command_timeout=60,
            max_inactive_connection_lifetime=300,
        )

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._pool is not None:
            try:
                async with asyncio.timeout(5):
                    await self._pool.close()
            except TimeoutError:
                self._pool.terminate()

    async def write(self, messages: Sequence[Message]) -> int:
        """Commit ``messages``; retry until it succeeds; return the new readings stored.

        A batch the database refuses for its *data* (a value it cannot store) is committed
        message by message, and a message that still fails goes to ``rejects`` with reason
        ``storage_error``: one poison message never stalls the flow. Any other error is
        retried, since dropping readings because of, say, a missing table would lose data.
        """
        try:
            return await self._commit_retrying(messages)
        except _DATA_ERRORS as exc:
            log.exception(
                "batch refused for its data; isolating the message at fault",
                extra={"error": repr(exc), "messages": len(messages)},
            )
            return await self._isolate(messages)

    async def _commit_retrying(self, messages: Sequence[Message]) -> int:
        """Commit, retrying every error but a data error (which the caller handles)."""
        attempt = 0
        while True:
            started = time.perf_counter()
            try:
                stored = await self._commit(messages)
            except _DATA_ERRORS:
                raise
            except (*RETRYABLE, asyncpg.PostgresError) as exc:
                self.healthy = False
                self.metrics.db_up.set(0)
                self.metrics.db_retries.inc()
                await self._reset_connections()
                delay = backoff(attempt)
                log.warning(
                    "database unavailable, retrying batch",
                    extra={
                        "error": repr(exc),
                        "attempt": attempt,
                        "delay_s": delay,
                        "messages": len(messages),
                    },
                )
                attempt += 1
                await asyncio.sleep(delay)
                continue
            self.healthy = True
            self.metrics.db_up.set(1)
            self.metrics.batch_seconds.observe(time.perf_counter() - started)
            return stored

    async def _isolate(self, messages: Sequence[Message]) -> int:
        stored = 0
        for message in messages:
            try:
                stored += await self._commit_retrying([message])
            except _DATA_ERRORS as exc:
                log.exception(
                    "message refused by the database; kept in rejects",
                    extra={"topic": message.topic, "error": repr(exc)},
                )
                refused = Rejected(Reason.STORAGE_ERROR, str(exc)[:500], message.payload)
                topic = message.topic.replace("\x00", "\ufffd")
                try:
                    await self._commit_retrying(
                        [replace(message, readings=[], rejects=[refused], topic=topic)]
                    )
                except _DATA_ERRORS:
                    # Last resort, never expected: even the reject row is refused. Logged whole
                    # so that an operator can recover it; the service goes on.
                    log.critical(
                        "message could not be stored even as a reject",
                        extra={"topic": topic, "payload_hex": message.payload.hex()},
                    )
        return stored

    async def _reset_connections(self) -> None:
        """Drop pooled connections after a failure: the next attempt starts on fresh ones."""
        assert self._pool is not None
        self._pool.terminate()
        self._pool = await self._new_pool()

    async def _commit(self, messages: Sequence[Message]) -> int:
        assert self._pool is not None
        rows = [
            (r.station_id, r.quantity, r.ts, r.value, received)
            for m in messages
            for received in (datetime.fromtimestamp(m.received, UTC),)
            for r in m.readings
        ]
        rejects = [
            (
                m.topic,
                m.station_id,
                j.reason.value,
                j.detail,
                -1 if j.record_index is None else j.record_index,
                j.raw,
                m.digest,
            )
            for m in messages
            for j in m.rejects
        ]
        async with self._pool.acquire() as connection, connection.transaction():
            stored = 0
            if rows:
                stored = await _insert(connection, rows)
                # One NOTIFY per batch, delivered at commit, wakes the alert evaluators.
                network = next(m.topic.split("/")[1] for m in messages if m.readings)
                await connection.execute("SELECT pg_notify('encosta_readings', $1)", network)
            if rejects:
                await connection.executemany(
                    "INSERT INTO rejects (topic, station_id, reason, detail, record_index, raw,"
                    " message_hash) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                    " ON CONFLICT (message_hash, record_index) DO NOTHING",
                    rejects,
                )
        self.metrics.batch_size.observe(len(rows))
        self.metrics.stored.inc(stored)
        self.metrics.duplicates.inc(len(rows) - stored)
        return stored

    async def known_stations(self, network: str) -> frozenset[str]:
        """Ids of the registered stations of ``network`` (retrying like ``write``)."""
        assert self._pool is not None
        attempt = 0
        while True:
            try:
                rows = await self._pool.fetch(
                    "SELECT id FROM stations WHERE network = $1 AND status <> 'retired'", network
                )
            except RETRYABLE as exc:
                delay = backoff(attempt)
                log.warning(
                    "cannot read the station registry, retrying",
                    extra={"error": repr(exc), "delay_s": delay},
                )
                attempt += 1
                await asyncio.sleep(delay)
                continue
            return frozenset(r["id"] for r in rows)
