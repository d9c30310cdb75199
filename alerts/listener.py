"""A LISTEN on one PostgreSQL channel that survives the loss of its connection.

A NOTIFY reaches only sessions that are listening when it commits. When the listening session
ends (a server restart, ``pg_terminate_backend``, a failover) nothing says so to the code that
waits for notifications: it would quietly fall back to polling. :meth:`ChannelListener.run`
notices (asyncpg's termination callback for a closed socket, a periodic ``SELECT 1`` for a
silent one), reconnects with capped, jittered backoff, LISTENs again, and calls ``on_notify``
once after reconnecting, because whatever was notified in the gap is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Self

import asyncpg

from runtime.backoff import Backoff, Jitter

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

log = logging.getLogger("encosta.alerts.listener")

_CHECK_S = 10.0  # a session lost without a closed socket is found within this
_CHECK_TIMEOUT_S = 5.0
_RECONNECT = Backoff(base_s=0.2, cap_s=10.0, jitter=Jitter.HALF)
_DB_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class ChannelListener:
    """LISTENs on ``channel`` and calls ``on_notify()`` per notification; reconnects in :meth:`run`.

    The session's ``application_name`` is ``name``, so operators can find it in
    ``pg_stat_activity``.
    """

    def __init__(self, dsn: str, channel: str, on_notify: Callable[[], None], name: str) -> None:
        self.dsn = dsn
        self.channel = channel
        self.name = name
        self._on_notify = on_notify
        self._conn: asyncpg.Connection | None = None
        self._lost = asyncio.Event()  # the session ended, or stop() was called
        self._stop = asyncio.Event()

    async def __aenter__(self) -> Self:
        await self._connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        await self._close()

    def stop(self) -> None:
        """Make :meth:`run` return."""
        self._stop.set()
        self._lost.set()

    async def _connect(self) -> None:
        self._lost.clear()
        connection = await asyncpg.connect(
            self.dsn, timeout=_CHECK_TIMEOUT_S, server_settings={"application_name": self.name}
        )
        connection.add_termination_listener(self._terminated)
        try:
            await connection.add_listener(self.channel, self._notified)
        except BaseException:
            await self._discard(connection)
            raise
        self._conn = connection

    def _terminated(self, connection: object) -> None:
        if connection is self._conn:  # not one that _close() is closing on purpose
            self._lost.set()

    def _notified(self, _conn: object, _pid: int, _channel: str, _payload: str) -> None:
        self._on_notify()

    @staticmethod
    async def _discard(connection: asyncpg.Connection) -> None:
        with contextlib.suppress(*_DB_ERRORS):
            async with asyncio.timeout(_CHECK_TIMEOUT_S):
                await connection.close()
        connection.terminate()  # no-op once closed; frees the socket if close() gave up

    async def _close(self) -> None:
        connection, self._conn = self._conn, None
        if connection is not None:
            await self._discard(connection)

    async def _alive(self) -> bool:
        if self._conn is None or self._conn.is_closed():
            return False
        try:
            async with asyncio.timeout(_CHECK_TIMEOUT_S):
                await self._conn.fetchval("SELECT 1")
        except _DB_ERRORS:
            return False
        return True

    async def run(self) -> None:
        """Keep listening until :meth:`stop`, reconnecting whenever the session is lost."""
        attempt = 0
        while not self._stop.is_set():
            if self._conn is not None:
                try:
                    async with asyncio.timeout(_CHECK_S):
                        await self._lost.wait()
                except TimeoutError:
                    if await self._alive():
                        continue
                if self._stop.is_set():
                    return
                log.warning("LISTEN session lost; reconnecting", extra={"channel": self.channel})
                await self._close()
            try:
                await self._connect()
            except _DB_ERRORS as exc:
                attempt += 1
                wait = _RECONNECT.delay_s(attempt)
                log.warning(
                    "LISTEN reconnect failed",
                    extra={"channel": self.channel, "error": repr(exc), "retry_in_s": wait},
                )
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await self._stop.wait()
                continue
            attempt = 0
            log.info("listening again", extra={"channel": self.channel})
            self._on_notify()  # notifications sent while no session listened are lost
