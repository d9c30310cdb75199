"""Prometheus metrics of the API: its requests, and the outbox read from the database at scrape.

The outbox figures are gauges set from one query per scrape, so any API replica reports the
same numbers and nothing has to run in the background.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from alerts.outbox import OutboxStatus

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

_OUTBOX = """
SELECT s.status, count(o.id) AS messages, coalesce(sum(o.attempts), 0) AS attempts
FROM unnest($1::text[]) AS s(status)
LEFT JOIN outbox o ON o.status = s.status
GROUP BY s.status
"""


class ApiMetrics:
    """The API's own registry: request counters and outbox gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "encosta_api_requests",
            "HTTP requests by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "encosta_api_request_seconds",
            "HTTP request latency by route template",
            ["route"],
            registry=self.registry,
        )
        self.outbox = Gauge(
            "encosta_outbox_messages",
            "outbox messages by status, read at scrape time",
            ["status"],
            registry=self.registry,
        )
        self.attempts = Gauge(
            "encosta_outbox_delivery_attempts",
            "delivery attempts of the messages still in the outbox, by status",
            ["status"],
            registry=self.registry,
        )
        self.dead = Gauge(
            "encosta_webhook_dead_letters",
            "dead letters waiting for a replay",
            registry=self.registry,
        )
        self.db_up = Gauge(
            "encosta_api_db_up",
            "1 if the last scrape could read the database",
            registry=self.registry,
        )

    async def scrape(self, pool: asyncpg.Pool) -> bytes:
        """Refresh the outbox gauges from the database, then render the text format."""
        try:
            rows = await pool.fetch(_OUTBOX, list(OutboxStatus), timeout=5)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            self.db_up.set(0)
        else:
            self.db_up.set(1)
            for row in rows:
                self.outbox.labels(row["status"]).set(row["messages"])
                self.attempts.labels(row["status"]).set(row["attempts"])
                if row["status"] == OutboxStatus.DEAD:
                    self.dead.set(row["messages"])
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts every request by route template (not raw path: ids would explode the labels)."""

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request through, recording its status and duration."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.requests.labels(scope["method"], route, str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
