"""Webhook dispatcher: delivers due outbox rows, signed, at least once, in order per queue.

A queue is (subscription, zone): message n+1 of a queue is not sent before message n is
delivered or dead, because a receiver that sees "cleared" before "raised" would be wrong. Rows
are claimed with ``FOR UPDATE SKIP LOCKED`` under the dispatcher's :class:`ClaimOwner` id, so
several dispatchers can run; the claims of one that dies are free as soon as its database
session ends, those of a frozen one once its heartbeat is stale (:mod:`alerts.claims`).
A retryable failure also holds back the subscription's other queued rows until the retry
time: one failing endpoint gets one stream of retries, not one per zone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import asyncpg
import httpx
from structlog.contextvars import bound_contextvars

from alerts.claims import LIVE, ClaimOwner
from alerts.errors import AlertsError, DeliveryError
from alerts.listener import ChannelListener
from alerts.metrics import AlertsMetrics
from alerts.outbox import OutboxStatus
from alerts.sender import post, webhook_client
from alerts.store import OUTBOX_CHANNEL
from runtime.resource import StackedResource

if TYPE_CHECKING:
    from alerts.config import DispatchConfig

log = logging.getLogger("encosta.alerts.dispatcher")
# asyncpg raises InternalClientError ("another operation is in progress") when a pooled
# connection is terminated mid-query: a database outage like the others, not a crash.
_DB_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)

_CLAIM = f"""
WITH live AS ({LIVE}),
due AS (
    SELECT o.id FROM outbox o
    JOIN webhook_subscriptions s ON s.id = o.subscription_id AND s.enabled
    WHERE o.status = 'pending' AND o.next_attempt_at <= now()
      AND (o.claimed_by IS NULL
           OR o.claimed_at < now() - make_interval(secs => $2)
           OR (o.claimed_by <> $4 AND o.claimed_by NOT IN (SELECT id FROM live)))
      AND NOT EXISTS (
          SELECT 1 FROM outbox p
          WHERE p.status = 'pending' AND p.subscription_id = o.subscription_id
            AND p.zone_id = o.zone_id AND p.id < o.id)
    ORDER BY o.id
    LIMIT $1
    FOR UPDATE OF o SKIP LOCKED
)
UPDATE outbox o
SET attempts = o.attempts + 1, claimed_by = $4, claimed_at = now()
FROM due, webhook_subscriptions s
WHERE o.id = due.id AND s.id = o.subscription_id
RETURNING o.id, o.message_id, o.subscription_id, o.alert_id, o.zone_id, o.payload,
          o.content_type, o.attempts,
          extract(epoch FROM now() - o.created_at) AS age_s, s.url, s.secret
"""  # noqa: S608  a constant, no input


_OUTCOME = {  # metric label of an attempt's outcome
    OutboxStatus.DELIVERED: "delivered",
    OutboxStatus.PENDING: "retry",
    OutboxStatus.DEAD: "dead",
}


@dataclass(frozen=True, slots=True)
class Outcome:
    """Result of one delivery attempt of one outbox row."""

    row_id: int
    status: OutboxStatus
    error: str | None = None
    retry_in_s: float = 0.0
    latency_s: float = 0.0  # delivered: seconds from the outbox commit to the 2xx answer


class WebhookDispatcher(StackedResource):
    """Delivers the outbox; an async context manager owning a pool and an HTTP client."""

    close_timeout_s = 10.0

    def __init__(self, config: DispatchConfig, metrics: AlertsMetrics | None = None) -> None:
        self.config = config
        self.metrics = metrics or AlertsMetrics(config.interval_s)
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._pool: asyncpg.Pool | None = None
        self._listener: ChannelListener | None = None
        self._http: httpx.AsyncClient | None = None
        self._owner: ClaimOwner | None = None

    @property
    def generation(self) -> int:
        """The claim owner's generation: claims taken in an older one may belong to others."""
        return 0 if self._owner is None else self._owner.generation

    @property
    def owner_id(self) -> int:
        """The id this dispatcher claims rows under (``outbox.claimed_by``); 0 before entering."""
        return 0 if self._owner is None else self._owner.id

    async def open(self, stack: contextlib.AsyncExitStack) -> None:
        """The pool, the claim owner, the LISTEN connection and the HTTP client."""
        self._pool = await asyncpg.create_pool(self.config.dsn, min_size=1, max_size=4)
        stack.push_async_callback(self._pool.close)
        self._owner = await stack.enter_async_context(
            ClaimOwner(self.config.dsn, self.config.claim_stale_s)
        )
        # A commit that queues messages NOTIFYs: deliver at once rather than at the next poll.
        self._listener = await stack.enter_async_context(
            ChannelListener(
                self.config.dsn, OUTBOX_CHANNEL, self._wake.set, "encosta-outbox-listener"
            )
        )
        self._http = webhook_client(self.config)
        stack.push_async_callback(self._http.aclose)

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
        assert self._owner is not None
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self._listener.run(), name="dispatcher-listener")
            tg.create_task(self._owner.run(), name="dispatcher-claims-heartbeat")
            await self._deliver(tg)
            self._owner.stop()

    async def _deliver(self, tg: asyncio.TaskGroup) -> None:
        in_flight: set[asyncio.Task[None]] = set()
        while not self._stop.is_set():
            self._wake.clear()
            capacity = self.config.batch - len(in_flight)
            try:
                generation = self.generation
                rows = await self._claim(capacity) if capacity > 0 else []
            except _DB_ERRORS:
                log.exception("outbox scan failed; retrying")
                rows = []
            for row in rows:
                task = tg.create_task(
                    self._deliver_one(row, generation), name=f"deliver-{row['message_id']}"
                )
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
            if rows:
                continue
            try:
                async with asyncio.timeout(self.config.interval_s):
                    await self._wake.wait()
            except TimeoutError:
                pass
        # Deliveries in flight finish (bounded by the HTTP timeout) while the heartbeat still
        # runs: their claims must stay ours until they are recorded.
        if in_flight:
            await asyncio.wait(set(in_flight))

    async def _claim(self, limit: int) -> list[asyncpg.Record]:
        assert self._pool is not None, "use WebhookDispatcher as an async context manager"
        assert self._owner is not None
        return list(
            await self._pool.fetch(
                _CLAIM, limit, self.config.lease_s, self.config.claim_stale_s, self._owner.id
            )
        )

    async def _release(self, row: asyncpg.Record) -> None:
        """Give a claim back unattempted: it is due again at once, for any dispatcher."""
        assert self._pool is not None
        with contextlib.suppress(*_DB_ERRORS):
            await self._pool.execute(
                "UPDATE outbox SET claimed_by = NULL, attempts = attempts - 1"
                " WHERE id = $1 AND claimed_by = $2 AND status = 'pending'",
                row["id"],
                self.owner_id,
            )

    async def _deliver_one(self, row: asyncpg.Record, generation: int) -> None:
        """Attempt one row claimed in ``generation``, its zone and alert bound to every log line."""
        with bound_contextvars(zone=row["zone_id"], alert_id=row["alert_id"]):
            await self._deliver_bound(row, generation)

    async def _deliver_bound(self, row: asyncpg.Record, generation: int) -> None:
        """Attempt one row claimed in ``generation``; record the outcome in its own transaction."""
        assert self._pool is not None, "use WebhookDispatcher as an async context manager"
        assert self._owner is not None
        if generation != self._owner.generation or not self._owner.fresh:
            # We were frozen or cut off since the claim: another dispatcher may be delivering
            # it now. Do not POST; hand the claim back.
            log.warning("claim dropped after a heartbeat gap", extra={"id": row["id"]})
            await self._release(row)
            self._wake.set()
            return
        outcome = await self._attempt(row)
        self.metrics.attempts.labels(_OUTCOME[outcome.status]).inc()
        if outcome.status is OutboxStatus.DELIVERED:
            self.metrics.delivery.observe(outcome.latency_s)
        try:
            async with self._pool.acquire() as connection, connection.transaction():
                await self._record(connection, outcome, row["subscription_id"], self.owner_id)
        except _DB_ERRORS:
            # The row stays claimed by us; it is attempted again when our session ends or the
            # claim outlives the lease (at least once: the receiver deduplicates by webhook-id).
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
                return Outcome(row["id"], OutboxStatus.DEAD, reason)
            wait = self.config.backoff.delay_s(row["attempts"], at_least_s=exc.retry_after_s)
            return Outcome(row["id"], OutboxStatus.PENDING, str(exc), wait)
        except AlertsError as exc:  # a malformed secret: retrying will not help
            return Outcome(row["id"], OutboxStatus.DEAD, str(exc))
        return Outcome(
            row["id"],
            OutboxStatus.DELIVERED,
            latency_s=float(row["age_s"]) + time.monotonic() - started,
        )

    async def post(
        self, url: str, secret: str, message_id: str, body: bytes, content_type: str
    ) -> None:
        """POST one signed message; raise :class:`DeliveryError` unless answered 2xx."""
        assert self._http is not None, "use WebhookDispatcher as an async context manager"
        await post(
            self._http,
            url,
            secret=secret,
            message_id=message_id,
            body=body,
            content_type=content_type,
        )

    @staticmethod
    async def _record(
        connection: asyncpg.Connection, outcome: Outcome, subscription_id: int, owner: int
    ) -> None:
        # Fenced on the claim: a dispatcher whose claim was taken over (it froze, or lost its
        # session) must not overwrite what the new claimer records.
        if outcome.status is OutboxStatus.DELIVERED:
            await connection.execute(
                "UPDATE outbox SET status = 'delivered', delivered_at = now(), last_error = NULL,"
                " claimed_by = NULL WHERE id = $1 AND claimed_by = $2",
                outcome.row_id,
                owner,
            )
        elif outcome.status is OutboxStatus.DEAD:
            await connection.execute(
                "UPDATE outbox SET status = 'dead', last_error = $2, claimed_by = NULL"
                " WHERE id = $1 AND claimed_by = $3",
                outcome.row_id,
                outcome.error,
                owner,
            )
        else:
            retry_at = await connection.fetchval(
                "UPDATE outbox SET last_error = $2, claimed_by = NULL,"
                " next_attempt_at = now() + make_interval(secs => $3)"
                " WHERE id = $1 AND claimed_by = $4 RETURNING next_attempt_at",
                outcome.row_id,
                outcome.error,
                outcome.retry_in_s,
                owner,
            )
            if retry_at is None:
                return
            await connection.execute(
                "UPDATE outbox SET next_attempt_at = greatest(next_attempt_at, $2)"
                " WHERE subscription_id = $1 AND status = 'pending'",
                subscription_id,
                retry_at,
            )
