"""Webhook dispatcher: delivers due outbox rows, signed, at least once, in order per queue.

A queue is (subscription, zone): message n+1 of a queue is not sent before message n is
delivered or dead, because a receiver that sees "cleared" before "raised" would be wrong. Rows
are claimed with ``FOR UPDATE SKIP LOCKED`` and leased by moving ``next_attempt_at`` ahead, so
several dispatchers can run and a dispatcher that dies mid-delivery is retried after the lease.
A retryable failure also holds back the subscription's other queued rows until the retry
time: one failing endpoint gets one stream of retries, not one per zone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Self

import asyncpg
import httpx

from alerts import signing
from alerts.backoff import delay_s, retry_after_s, retryable_status
from alerts.errors import AlertsError, DeliveryError
from alerts.listener import ChannelListener
from alerts.metrics import AlertsMetrics
from alerts.store import OUTBOX_CHANNEL

if TYPE_CHECKING:
    from types import TracebackType

    from alerts.config import DispatchConfig

log = logging.getLogger("encosta.alerts.dispatcher")

_CLAIM = """
WITH due AS (
    SELECT o.id FROM outbox o
    JOIN webhook_subscriptions s ON s.id = o.subscription_id AND s.enabled
    WHERE o.status = 'pending' AND o.next_attempt_at <= now()
      AND NOT EXISTS (
          SELECT 1 FROM outbox p
          WHERE p.status = 'pending' AND p.subscription_id = o.subscription_id
            AND p.zone_id = o.zone_id AND p.id < o.id)
    ORDER BY o.id
    LIMIT $1
    FOR UPDATE OF o SKIP LOCKED
)
UPDATE outbox o
SET attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => $2)
FROM due, webhook_subscriptions s
WHERE o.id = due.id AND s.id = o.subscription_id
RETURNING o.id, o.message_id, o.subscription_id, o.payload, o.content_type, o.attempts,
          extract(epoch FROM now() - o.created_at) AS age_s, s.url, s.secret
"""


_OUTCOME = {"delivered": "delivered", "pending": "retry", "dead": "dead"}  # metric label


@dataclass(frozen=True, slots=True)
class Outcome:
    """Result of one delivery attempt of one outbox row."""

    row_id: int
    status: str  # delivered | pending | dead
    error: str | None = None
    retry_in_s: float = 0.0
    latency_s: float = 0.0  # delivered: seconds from the outbox commit to the 2xx answer


class WebhookDispatcher:
    """Delivers the outbox; an async context manager owning a pool and an HTTP client."""

    def __init__(
        self,
        config: DispatchConfig,
        transport: httpx.AsyncBaseTransport | None = None,
        metrics: AlertsMetrics | None = None,
    ) -> None:
        self.config = config
        self.metrics = metrics or AlertsMetrics(config.interval_s)
        self._transport = transport
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._pool: asyncpg.Pool | None = None
        self._listener: ChannelListener | None = None
        self._http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Self:
        self._pool = await asyncpg.create_pool(self.config.dsn, min_size=1, max_size=4)
        # A commit that queues messages NOTIFYs: deliver at once rather than at the next poll.
        self._listener = await ChannelListener(
            self.config.dsn, OUTBOX_CHANNEL, self._wake.set, "encosta-outbox-listener"
        ).__aenter__()
        self._http = httpx.AsyncClient(
            timeout=self.config.timeout_s,
            transport=self._transport,
            follow_redirects=False,
            headers={"user-agent": "encosta-webhooks/1"},
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        async with asyncio.timeout(10):
            if self._http is not None:
                await self._http.aclose()
            if self._listener is not None:
                await self._listener.__aexit__(exc_type, exc, tb)
            if self._pool is not None:
                await self._pool.close()

    def stop(self) -> None:
        """Stop claiming rows; deliveries in flight finish (bounded by the HTTP timeout)."""
        self._stop.set()
        self._wake.set()
        if self._listener is not None:
            self._listener.stop()

    async def run(self) -> None:
        """Deliver until :meth:`stop`; when nothing is due, wait for a NOTIFY or the interval.

        Each delivery is recorded as soon as it finishes and the next head of its queue is
        claimed at once, while other deliveries are still in flight: a receiver that hangs
        until the HTTP timeout, or keeps failing, never holds back the others. At most
        ``batch`` deliveries are in flight. The LISTEN session is kept alive alongside.
        """
        assert self._listener is not None, "use WebhookDispatcher as an async context manager"
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._listener.run(), name="dispatcher-listener")
            await self._deliver(tg)

    async def _deliver(self, tg: asyncio.TaskGroup) -> None:
        in_flight: set[asyncio.Task[None]] = set()
        while not self._stop.is_set():
            self._wake.clear()
            capacity = self.config.batch - len(in_flight)
            try:
                rows = await self._claim(capacity) if capacity > 0 else []
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                log.exception("outbox scan failed; retrying")
                rows = []
            for row in rows:
                task = tg.create_task(self._deliver_one(row), name=f"deliver-{row['message_id']}")
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            if rows:
                continue
            try:
                async with asyncio.timeout(self.config.interval_s):
                    await self._wake.wait()
            except TimeoutError:
                pass
        # Deliveries in flight finish inside the task group (bounded by the HTTP timeout).

    async def deliver_due(self) -> int:
        """Claim the due heads of the queues, deliver them concurrently; return how many."""
        rows = await self._claim(self.config.batch)
        if rows:
            async with asyncio.TaskGroup() as tg:
                for row in rows:
                    tg.create_task(self._deliver_one(row), name=f"deliver-{row['message_id']}")
        return len(rows)

    async def _claim(self, limit: int) -> list[asyncpg.Record]:
        assert self._pool is not None, "use WebhookDispatcher as an async context manager"
        return list(await self._pool.fetch(_CLAIM, limit, self.config.lease_s))

    async def _deliver_one(self, row: asyncpg.Record) -> None:
        """Attempt one row and record the outcome in its own transaction."""
        assert self._pool is not None, "use WebhookDispatcher as an async context manager"
        outcome = await self._attempt(row)
        self.metrics.attempts.labels(_OUTCOME[outcome.status]).inc()
        if outcome.status == "delivered":
            self.metrics.delivery.observe(outcome.latency_s)
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                await self._record(connection, outcome, row["subscription_id"])
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            # The row stays leased; when the lease runs out it is attempted again (at least
            # once: the receiver deduplicates by webhook-id).
            log.exception("could not record a delivery outcome", extra={"id": row["id"]})
        self._wake.set()  # the next message of this queue may now be due

    async def _attempt(self, row: asyncpg.Record) -> Outcome:
        body = row["payload"].encode()
        started = time.monotonic()
        try:
            await self.post(row["url"], row["secret"], row["message_id"], body, row["content_type"])
        except DeliveryError as exc:
            age_s = float(row["age_s"])
            if not exc.retryable or age_s >= self.config.max_age_s:
                reason = str(exc) if not exc.retryable else f"{exc} (gave up after {age_s:.0f} s)"
                log.warning(
                    "webhook dead-lettered",
                    extra={"message_id": row["message_id"], "error": reason},
                )
                return Outcome(row["id"], "dead", reason)
            wait = delay_s(
                row["attempts"],
                self.config.backoff_base_s,
                self.config.backoff_max_s,
                exc.retry_after_s,
            )
            return Outcome(row["id"], "pending", str(exc), wait)
        except AlertsError as exc:  # a malformed secret: retrying will not help
            return Outcome(row["id"], "dead", str(exc))
        return Outcome(
            row["id"], "delivered", latency_s=float(row["age_s"]) + time.monotonic() - started
        )

    async def post(
        self, url: str, secret: str, message_id: str, body: bytes, content_type: str
    ) -> None:
        """POST one signed message; raise :class:`DeliveryError` unless answered 2xx."""
        assert self._http is not None, "use WebhookDispatcher as an async context manager"
        headers = signing.headers(secret, message_id, int(time.time()), body)
        headers["content-type"] = content_type
        try:
            response = await self._http.post(url, content=body, headers=headers)
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True) from exc
        if response.is_success:
            return
        status = response.status_code
        raise DeliveryError(
            f"HTTP {status}",
            retryable=retryable_status(status),
            status=status,
            retry_after_s=retry_after_s(response.headers.get("retry-after"), datetime.now(UTC)),
        )

    @staticmethod
    async def _record(
        connection: asyncpg.Connection, outcome: Outcome, subscription_id: int
    ) -> None:
        if outcome.status == "delivered":
            await connection.execute(
                "UPDATE outbox SET status = 'delivered', delivered_at = now(), last_error = NULL"
                " WHERE id = $1",
                outcome.row_id,
            )
        elif outcome.status == "dead":
            await connection.execute(
                "UPDATE outbox SET status = 'dead', last_error = $2 WHERE id = $1",
                outcome.row_id,
                outcome.error,
            )
        else:
            retry_at = await connection.fetchval(
                "UPDATE outbox SET last_error = $2,"
                " next_attempt_at = now() + make_interval(secs => $3)"
                " WHERE id = $1 RETURNING next_attempt_at",
                outcome.row_id,
                outcome.error,
                outcome.retry_in_s,
            )
            await connection.execute(
                "UPDATE outbox SET next_attempt_at = greatest(next_attempt_at, $2)"
                " WHERE subscription_id = $1 AND status = 'pending'",
                subscription_id,
                retry_at,
            )
