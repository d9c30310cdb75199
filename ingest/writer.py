"""Commit batches of readings and rejects to TimescaleDB, retrying until the database answers.

A batch is COPYed into ``readings`` in one transaction with the batch's rejects and its
15-minute rollup (:mod:`ingest.rollup`): a batch is
either committed whole or not at all, so the caller acknowledges its messages only after
``write`` returns. While the database is down or failing over, ``write`` keeps retrying with
capped, jittered backoff; it never drops a batch.

A reading whose key (station, quantity, ts) is already stored is a duplicate when its value is
the same (counted, nothing written) and a ``conflicting_value`` reject when it is not: the
stored value stays, and the reject row names both. A batch refused for its data, or failing
for any reason but an unavailable database, is committed message by message; the message at
fault becomes a reject (``storage_error`` or ``internal_error``), so ``write`` never raises
and never loops on one message.

Rejects keep a bounded prefix of the raw bytes (``reject_raw_bytes``), the full length and a
SHA-256, and a detail of at most :data:`DETAIL_CHARS` characters.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import TracebackType
from typing import Self

import asyncpg

from ingest import rollup
from ingest.metrics import IngestMetrics
from ingest.payload import Reading, Rejected
from ingest.reasons import Reason
from runtime.backoff import Backoff

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
# The database refuses the data itself (e.g. a character PostgreSQL text cannot hold, a
# constraint): retrying the same batch would fail forever.
_DATA_ERRORS = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError)
_STAGE = "ingest_stage"
# Waits from 0.1 s up to 10 s: short enough to catch a failover, long enough not to hammer it.
_DB_RETRY = Backoff(base_s=0.1, cap_s=10.0)
_COLUMNS = ("station_id", "quantity", "ts", "value", "received_at")
DETAIL_CHARS = 1000  # of a reject's detail; a quoted hostile value must not fill the table
_INSERT_REJECTS = (
    "INSERT INTO rejects (topic, station_id, reason, detail, record_index, raw, raw_length,"
    " raw_sha256, message_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
    " ON CONFLICT (message_hash, record_index) DO NOTHING"
)


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


async def _prepare(connection: asyncpg.Connection) -> None:
    # ``msg``: the index in its batch of the message a row came from, to name a conflict's
    # message in its reject.
    await connection.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_STAGE} (station_id text, quantity text,"
        " ts timestamptz, value double precision, received_at timestamptz, msg integer)"
        " ON COMMIT DELETE ROWS"
    )


@dataclass(frozen=True, slots=True)
class Conflict:
    """A reading whose key is stored with another value: the value sent and the one kept."""

    message: int  # index in the batch
    station_id: str
    quantity: str
    ts: datetime
    sent: float
    stored: float


async def _insert(
    connection: asyncpg.Connection,
    rows: Sequence[tuple[object, ...]],
    messages: Sequence[Message],
) -> tuple[int, list[Conflict]]:
    """Insert ``rows``, skipping keys already stored; return how many were new and conflicts.

    Duplicates are rare (a re-sent backlog, a redelivery after a crash), so the batch is first
    COPYed straight into the hypertable inside a savepoint, at raw COPY speed; only when that
    hits the primary key does it go through the staging table and ``ON CONFLICT DO NOTHING``,
    and then, in the same transaction, the rows whose stored value differs are the conflicts
    (a key twice in the batch with two values included: the first is stored).
    """
    try:
        async with connection.transaction():
            await connection.copy_records_to_table("readings", records=rows, columns=_COLUMNS)
    except asyncpg.UniqueViolationError:
        pass
    else:
        await rollup.add(connection, rows)
        return len(rows), []
    owners = (index for index, m in enumerate(messages) for _ in m.readings)
    staged = [(*row, owner) for row, owner in zip(rows, owners, strict=True)]
    await connection.copy_records_to_table(_STAGE, records=staged)
    inserted = await connection.fetch(
        f"INSERT INTO readings ({', '.join(_COLUMNS)})"  # noqa: S608  constants only
        f" SELECT {', '.join(_COLUMNS)} FROM {_STAGE} ORDER BY msg ON CONFLICT DO NOTHING"
        " RETURNING station_id, quantity, ts, value"
    )
    await rollup.add(connection, inserted)
    conflicts = await connection.fetch(
        f"SELECT s.msg, s.station_id, s.quantity, s.ts, s.value AS sent, r.value AS stored"  # noqa: S608
        f" FROM {_STAGE} s JOIN readings r USING (station_id, quantity, ts)"
        " WHERE r.value IS DISTINCT FROM s.value ORDER BY s.msg"
    )
    return len(inserted), [Conflict(*c) for c in conflicts]


def _text(value: str) -> str:
    """``value`` as PostgreSQL text holds it: no NUL, no lone surrogate (UTF-8 cannot carry one)."""
    return value.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _conflict_reject(conflict: Conflict) -> Rejected:
    ts = conflict.ts.astimezone(UTC).isoformat()
    return Rejected(
        Reason.CONFLICTING_VALUE,
        f"{conflict.station_id} {conflict.quantity} at {ts}: sent {conflict.sent!r},"
        f" stored {conflict.stored!r} (the stored value is kept)",
        b"",
    )


class BatchWriter:
    """Writes batches through a small asyncpg pool. Use as an async context manager."""

    def __init__(
        self,
        dsn: str,
        metrics: IngestMetrics,
        pool_size: int = 2,
        *,
        reject_raw_bytes: int = 4096,
    ) -> None:
        self.dsn = dsn
        self.metrics = metrics
        self.pool_size = pool_size
        self.reject_raw_bytes = reject_raw_bytes
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

        A batch the database refuses for its *data* (a value it cannot store), or that fails
        with an unexpected exception, is committed message by message, and a message that still
        fails goes to ``rejects`` with reason ``storage_error`` (or ``internal_error``): one
        poison message never stalls the flow. A database error is retried, since dropping
        readings because of, say, a missing table would lose data. Never raises but
        cancellation.
        """
        try:
            return await self._commit_retrying(messages)
        except Exception as exc:  # one message must never end ingest
            log.exception(
                "batch refused; isolating the message at fault",
                extra={"error": repr(exc), "messages": len(messages)},
            )
            return await self._isolate(messages)

    async def _commit_retrying(self, messages: Sequence[Message]) -> int:
        """Commit, retrying every database error but a data error (which the caller handles).

        Anything else (not a database error) is raised too: retrying it would loop.
        """
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
                delay = _DB_RETRY.delay_s(attempt + 1)
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
            except Exception as exc:  # see write()
                reason = (
                    Reason.STORAGE_ERROR if isinstance(exc, _DATA_ERRORS) else Reason.INTERNAL_ERROR
                )
                log.exception(
                    "message refused by the database; kept in rejects",
                    extra={"topic": message.topic, "error": repr(exc), "reason": reason.value},
                )
                self.metrics.rejected.labels(reason.value).inc()
                refused = Rejected(reason, f"{type(exc).__name__}: {exc}", message.payload)
                try:
                    await self._commit_retrying([replace(message, readings=[], rejects=[refused])])
                except Exception:  # see write()
                    # Last resort, never expected: even the reject row is refused. Logged with
                    # a bounded prefix so that an operator can recover it; the service goes on.
                    log.critical(
                        "message could not be stored even as a reject",
                        exc_info=True,
                        extra={
                            "topic": message.topic,
                            "payload_length": len(message.payload),
                            "payload_hex": message.payload[: self.reject_raw_bytes].hex(),
                        },
                    )
        return stored

    async def _reset_connections(self) -> None:
        """Drop pooled connections after a failure: the next attempt starts on fresh ones."""
        assert self._pool is not None
        self._pool.terminate()
        self._pool = await self._new_pool()

    def reject_row(self, message: Message, reject: Rejected, digest: bytes) -> tuple[object, ...]:
        """The ``rejects`` row of ``reject``, its detail and raw bytes bounded.

        Topic, station, reason, detail, record index, raw prefix, full length, SHA-256 and
        ``digest`` (the key that records a redelivered message once).
        """
        raw = reject.raw
        return (
            # PostgreSQL text holds no NUL; MQTT forbids it in topics, a broker may not check.
            _text(message.topic),
            message.station_id,
            reject.reason.value,
            _text(reject.detail[:DETAIL_CHARS]),
            -1 if reject.record_index is None else reject.record_index,
            raw[: self.reject_raw_bytes],
            len(raw),
            hashlib.sha256(raw).digest(),
            digest,
        )

    async def _commit(self, messages: Sequence[Message]) -> int:
        assert self._pool is not None
        rows = [
            (r.station_id, r.quantity, r.ts, r.value, received)
            for m in messages
            for received in (datetime.fromtimestamp(m.received, UTC),)
            for r in m.readings
        ]
        rejects = [self.reject_row(m, j, m.digest) for m in messages for j in m.rejects]
        conflicts: list[Conflict] = []
        async with self._pool.acquire() as connection, connection.transaction():
            stored = 0
            if rows:
                stored, conflicts = await _insert(connection, rows, messages)
                # One NOTIFY per batch, delivered at commit, wakes the alert evaluators.
                network = next(m.topic.split("/")[1] for m in messages if m.readings)
                await connection.execute("SELECT pg_notify('encosta_readings', $1)", network)
            for conflict in conflicts:
                message = messages[conflict.message]
                # One row per conflicting reading of a message, however often it is redelivered.
                key = f"{conflict.station_id}/{conflict.quantity}/{conflict.ts.isoformat()}"
                digest = hashlib.blake2b(message.digest + key.encode(), digest_size=16).digest()
                reject = replace(_conflict_reject(conflict), raw=message.payload)
                rejects.append(self.reject_row(message, reject, digest))
            if rejects:
                await connection.executemany(_INSERT_REJECTS, rejects)
        self.metrics.batch_size.observe(len(rows))
        self.metrics.stored.inc(stored)
        self.metrics.duplicates.inc(len(rows) - stored - len(conflicts))
        if conflicts:
            self.metrics.rejected.labels(Reason.CONFLICTING_VALUE.value).inc(len(conflicts))
        return stored

    async def ping(self, timeout_s: float) -> bool:
        """Whether the database answers ``SELECT 1`` within ``timeout_s`` (the health probe).

        The answer is the writer's health until the next probe or commit says otherwise.
        """
        assert self._pool is not None
        try:
            async with asyncio.timeout(timeout_s):
                await self._pool.fetchval("SELECT 1")
        except (*RETRYABLE, asyncpg.PostgresError) as exc:
            log.debug("database probe failed", extra={"error": repr(exc)})
            reachable = False
        else:
            reachable = True
        self.healthy = reachable
        self.metrics.db_up.set(1 if reachable else 0)
        return reachable

    async def known_stations(self, network: str) -> frozenset[str]:
        """Ids of the registered stations of ``network`` (retrying like ``write``)."""
        assert self._pool is not None
        attempt = 0
        while True:
            try:
                rows = await self._pool.fetch(
                    "SELECT id FROM stations WHERE network = $1 AND status <> 'retired'", network
                )
            except (*RETRYABLE, asyncpg.PostgresError) as exc:
                # Any database error (a role without SELECT, say) is waited out, never fatal.
                delay = _DB_RETRY.delay_s(attempt + 1)
                log.warning(
                    "cannot read the station registry, retrying",
                    extra={"error": repr(exc), "delay_s": delay},
                )
                attempt += 1
                await asyncio.sleep(delay)
                continue
            return frozenset(r["id"] for r in rows)
