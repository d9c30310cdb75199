"""Prometheus metrics and ``/healthz`` of the ``encosta alerts`` process.

The evaluator and the dispatcher update the counters and histograms as they work; the outbox
backlog is a gauge refreshed by :meth:`AlertsMetrics.watch`, which also tells ``/healthz``
whether the database answers. Served by :class:`runtime.probe.ProbeServer` on
``ENCOSTA_ALERTS_METRICS_PORT``.

``/healthz`` is 503 when the database did not answer the last check, or when the evaluation
loop has not completed a tick for ``3 x interval`` (stuck, or failing on every tick). A
replica that owns no partition completes its ticks too (it rebalances and finds nothing to
evaluate), so a healthy standby stays 200.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import asyncpg
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

if TYPE_CHECKING:
    from alerts.lifecycle import Step

log = logging.getLogger("encosta.alerts.metrics")

_BACKLOG = "SELECT count(*) FROM outbox WHERE status = 'pending'"
_CHECK_TIMEOUT_S = 2.0
STALE_INTERVALS = 3  # /healthz fails when the last completed tick is older than this many


class AlertsMetrics:
    """The alerts process's own registry, and its health as ``/healthz`` reports it."""

    def __init__(self, interval_s: float, clock: Callable[[], float] = time.time) -> None:
        self.interval_s = interval_s
        self._clock = clock
        self._last = clock()  # the grace period of the first evaluation starts at creation
        self.db_ok = True  # until a check says otherwise; the first tick proves it either way
        self.registry = r = CollectorRegistry()
        self.backlog = Gauge("encosta_alerts_outbox_backlog", "pending outbox messages", registry=r)
        self.attempts = Counter(
            "encosta_alerts_delivery_attempts",
            "webhook delivery attempts by outcome (delivered, retry, dead)",
            ["outcome"],
            registry=r,
        )
        self.delivery = Histogram(
            "encosta_alerts_delivery_seconds",
            "from a message's commit to the outbox to its 2xx answer",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
            registry=r,
        )
        self.transitions = Counter(
            "encosta_alerts_transitions",
            "alert transitions recorded by this process, by kind, transition and new level",
            ["kind", "transition", "level"],
            registry=r,
        )
        self.evaluation = Histogram(
            "encosta_alerts_evaluation_seconds",
            "duration of one evaluation of the owned zones",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.owned = Gauge(
            "encosta_alerts_owned_partitions", "zone partitions this process owns", registry=r
        )
        self.last_evaluation = Gauge(
            "encosta_alerts_last_evaluation_timestamp_seconds",
            "Unix time of the last evaluation tick that completed without error",
            registry=r,
        )
        self.db_up = Gauge(
            "encosta_alerts_db_up", "1 if the database answered the last check", registry=r
        )
        self.db_up.set(1)

    def transition(self, kind: str, step: Step) -> None:
        """Count one recorded transition."""
        self.transitions.labels(kind, str(step.transition), str(step.to_level)).inc()

    def evaluated(self) -> None:
        """An evaluation tick completed without error."""
        self._last = self._clock()
        self.last_evaluation.set(self._last)

    def healthy(self) -> tuple[bool, str]:
        """``/healthz``: the database answers and the evaluation loop completes its ticks."""
        age_s = self._clock() - self._last
        fresh = age_s <= STALE_INTERVALS * self.interval_s
        detail = f"db={'up' if self.db_ok else 'down'} last_evaluation_age_s={age_s:.1f}"
        return self.db_ok and fresh, detail

    async def watch(self, dsn: str, stopping: asyncio.Event) -> None:
        """Every interval until ``stopping``: check the database and read the outbox backlog."""
        async with asyncpg.create_pool(dsn, min_size=0, max_size=1) as pool:
            while not stopping.is_set():
                try:
                    async with asyncio.timeout(_CHECK_TIMEOUT_S):  # connecting included
                        backlog = await pool.fetchval(_BACKLOG)
                except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    if self.db_ok:
                        log.warning("database check failed", exc_info=True)
                    self.db_ok = False
                else:
                    self.db_ok = True
                    self.backlog.set(backlog)
                self.db_up.set(1 if self.db_ok else 0)
                try:
                    async with asyncio.timeout(self.interval_s):
                        await stopping.wait()
                except TimeoutError:
                    pass
