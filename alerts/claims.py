"""Who holds an outbox claim, and whether that claimer still lives.

A dispatcher is registered in ``outbox_dispatchers`` under an id from a sequence, and holds the
session-level advisory lock ``(NAMESPACE, id)`` on a dedicated connection for as long as it
runs; it renews ``heartbeat_at`` every second. The rows it claims carry ``claimed_by = id``.
Another dispatcher may take a claimed row when

- the claimer's lock is free: its session is gone (``kill -9``, a crash, a closed socket), so
  PostgreSQL released the lock; the row is claimable at the next scan, not after a lease;
- its heartbeat is older than ``stale_s``: the process is alive but frozen (SIGSTOP, a stalled
  host) and no longer renews;
- the claim is older than the lease (a live dispatcher lost track of a row it could not record).

While the claimer lives and renews, nobody else takes its rows: no double delivery. A frozen
claimer that wakes up notices the gap in its own renewals (:attr:`ClaimOwner.generation`
changes) and drops the claims it took before the gap instead of POSTing them; its late writes
are fenced anyway (every outcome is recorded ``WHERE claimed_by = id``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from typing import TYPE_CHECKING, Self

import asyncpg

from runtime.backoff import Backoff, Jitter

if TYPE_CHECKING:
    from types import TracebackType

log = logging.getLogger("encosta.alerts.claims")

NAMESPACE = 0x656E6364  # "encd": first key of the dispatchers' advisory locks (int4, positive)
_DB_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)
_TIMEOUT_S = 5.0

# Live claimers: the lock is held in this database and the heartbeat is fresh. Interpolated
# into the dispatcher's claim query; $3 is stale_s there.
LIVE = f"""
SELECT d.id FROM outbox_dispatchers d
WHERE d.heartbeat_at > now() - make_interval(secs => $3)
  AND EXISTS (
      SELECT 1 FROM pg_locks l
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = {NAMESPACE}::oid AND l.objid = d.id::oid)
"""  # noqa: S608  a constant, no input

_BEAT = """
INSERT INTO outbox_dispatchers (id, host, os_pid, backend_pid)
VALUES ($1, $2, $3, pg_backend_pid())
ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), backend_pid = pg_backend_pid()
"""

# Rows of dispatchers that are gone (lock free) for a minute: nothing refers to them any more
# that a scan would not already treat as free.
_CLEANUP = f"""
DELETE FROM outbox_dispatchers d
WHERE d.heartbeat_at < now() - interval '1 minute'
  AND NOT EXISTS (
      SELECT 1 FROM pg_locks l
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = {NAMESPACE}::oid AND l.objid = d.id::oid)
"""  # noqa: S608  a constant, no input


class ClaimOwner:
    """The identity a dispatcher claims outbox rows under; an async context manager.

    Entering takes an id, its advisory lock and registers it; :meth:`run` renews the heartbeat
    (and reconnects if the session is lost); leaving frees the pending rows still claimed,
    deletes the registration and closes the session, which releases the lock.
    """

    def __init__(self, dsn: str, stale_s: float) -> None:
        self.dsn = dsn
        self.stale_s = stale_s
        self.beat_s = min(1.0, stale_s / 4)
        self.id = 0
        self.generation = 0  # bumped when renewals had a gap of stale_s: claims may be lost
        self._last_ok = time.monotonic()
        self._conn: asyncpg.Connection | None = None
        self._stop = asyncio.Event()

    @property
    def fresh(self) -> bool:
        """Whether the last renewal is recent enough that our claims still stand."""
        return time.monotonic() - self._last_ok < self.stale_s

    async def __aenter__(self) -> Self:
        connection = await asyncpg.connect(
            self.dsn,
            timeout=_TIMEOUT_S,
            server_settings={"application_name": "encosta-outbox-claims"},
        )
        try:
            self.id = await connection.fetchval("SELECT nextval('outbox_dispatchers_id_seq')::int")
            await self._register(connection)
            await connection.execute(_CLEANUP)
        except BaseException:
            connection.terminate()
            raise
        self._conn = connection
        log.info("dispatcher registered", extra={"dispatcher": self.id})
        return self

    async def _register(self, connection: asyncpg.Connection) -> None:
        # The lock first: from the moment the row exists, its lock is held.
        await connection.execute("SELECT pg_advisory_lock($1, $2)", NAMESPACE, self.id)
        await connection.execute(_BEAT, self.id, socket.gethostname(), os.getpid())
        self._last_ok = time.monotonic()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        connection, self._conn = self._conn, None
        if connection is None:
            return
        try:
            async with asyncio.timeout(_TIMEOUT_S):
                await connection.execute(
                    "UPDATE outbox SET claimed_by = NULL WHERE claimed_by = $1", self.id
                )
                await connection.execute("DELETE FROM outbox_dispatchers WHERE id = $1", self.id)
                await connection.close()
        except _DB_ERRORS:
            connection.terminate()  # the session ends either way: the lock is freed

    def stop(self) -> None:
        """Make :meth:`run` return."""
        self._stop.set()

    async def _beat(self) -> None:
        if self._conn is None or self._conn.is_closed():
            self._conn = None
            connection = await asyncpg.connect(
                self.dsn,
                timeout=_TIMEOUT_S,
                server_settings={"application_name": "encosta-outbox-claims"},
            )
            try:
                await self._register(connection)
            except BaseException:
                connection.terminate()
                raise
            self._conn = connection
            self.generation += 1  # without our lock, others may have taken our claims
            log.warning("claims session re-established", extra={"dispatcher": self.id})
            return
        async with asyncio.timeout(_TIMEOUT_S):
            await self._conn.execute(_BEAT, self.id, socket.gethostname(), os.getpid())

    async def renew(self) -> None:
        """Renew the heartbeat once; after a gap of ``stale_s`` or more, bump the generation."""
        gap = time.monotonic() - self._last_ok
        await self._beat()
        if gap >= self.stale_s:
            self.generation += 1  # frozen or starved: our claims may be someone else's
            log.warning(
                "heartbeat gap; dropping claims taken before it",
                extra={"dispatcher": self.id, "gap_s": round(gap, 1)},
            )
        self._last_ok = time.monotonic()

    async def run(self) -> None:
        """Renew the heartbeat every ``beat_s`` until :meth:`stop`."""
        attempt = 0
        while not self._stop.is_set():
            try:
                await self.renew()
            except _DB_ERRORS as exc:
                attempt += 1
                log.warning(
                    "claims heartbeat failed", extra={"dispatcher": self.id, "error": repr(exc)}
                )
                if self._conn is not None and not self._conn.is_closed():
                    with contextlib.suppress(*_DB_ERRORS):
                        self._conn.terminate()
                self._conn = None
                wait = Backoff(self.beat_s, 10.0, jitter=Jitter.HALF).delay_s(attempt)
            else:
                attempt = 0
                wait = self.beat_s
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._stop.wait()
