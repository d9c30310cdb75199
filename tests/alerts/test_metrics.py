"""``/metrics`` and ``/healthz`` of the ``encosta alerts`` process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import TYPE_CHECKING

import asyncpg
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from alerts.metrics import AlertsMetrics
from alerts.signing import new_secret
from tests.alerts.receiver import LOOPBACK_ENV, Receiver, free_port

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Database

INTERVAL_S = 0.3


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text exposition by (name, labels)."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples(text).items() if n == name and wanted <= ls)


@pytest.mark.timeout(10)
def test_healthz_fails_on_a_stale_evaluation_or_a_lost_database() -> None:
    """Healthy while ticks are fresh; 503 past 3 x interval or when the database is down."""
    now = [1000.0]
    metrics = AlertsMetrics(interval_s=5, clock=lambda: now[0])
    assert metrics.healthy()[0]
    now[0] += 15.5
    ok, detail = metrics.healthy()
    assert not ok
    assert "last_evaluation_age_s=15.5" in detail
    metrics.evaluated()
    assert metrics.healthy() == (True, "db=up last_evaluation_age_s=0.0")
    metrics.db_ok = False
    assert metrics.healthy() == (False, "db=down last_evaluation_age_s=0.0")


async def wait_for(client: httpx.AsyncClient, path: str, check: object, limit_s: float) -> str:
    """GET ``path`` until ``check(response)`` holds; return the last body."""
    assert callable(check)
    async with asyncio.timeout(limit_s):
        while True:
            try:
                response = await client.get(path)
            except httpx.TransportError:
                response = None
            if response is not None and check(response):
                return response.text
            await asyncio.sleep(0.1)


async def set_connections(db: Database, *, allowed: bool) -> None:
    """Allow or refuse connections to ``db``; refusing also ends the ones open."""
    admin = await asyncpg.connect(db.stack.dsn("postgres"))
    try:
        await admin.execute(f'ALTER DATABASE "{db.name}" WITH ALLOW_CONNECTIONS {allowed}')
        # A connection whose startup was under way when ALLOW_CONNECTIONS changed can outlive
        # one round of terminations: repeat until none of the database's backends is left.
        for _ in range(0 if allowed else 50):
            ended = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1",
                db.name,
            )
            if not ended:
                break
            await asyncio.sleep(0.2)
    finally:
        await admin.close()


@pytest.mark.services
@pytest.mark.timeout(120)
async def test_metrics_and_healthz_of_a_running_service(database: Database, tmp_path: Path) -> None:
    """The process reports its work on /metrics; /healthz is 503 while its database is away."""
    port = free_port()
    async with Receiver() as receiver:
        await database.fetchval(
            "INSERT INTO webhook_subscriptions (url, secret, min_level) VALUES ($1, $2, 1)",
            receiver.url,
            new_secret(),
        )
        with (tmp_path / "alerts.log").open("ab") as log:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "encosta",
                "alerts",
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
                env={
                    **os.environ,
                    "ENCOSTA_PG_DSN": database.dsn_for("alerts"),
                    "ENCOSTA_NETWORK": database.network,
                    "ENCOSTA_ALERTS_INTERVAL_S": str(INTERVAL_S),
                    "ENCOSTA_ALERTS_DISPATCH_INTERVAL_S": "0.1",
                    "ENCOSTA_ALERTS_HEARTBEAT_S": "0",
                    "ENCOSTA_ALERTS_METRICS_PORT": str(port),
                    **LOOPBACK_ENV,
                },
            )
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
                # No readings at all: every zone gets a data alert, delivered to the receiver.
                text = await wait_for(
                    client,
                    "/metrics",
                    lambda r: (
                        total(r.text, "encosta_alerts_delivery_seconds_count") > 0
                        # observed when the evaluation that raised the alerts has returned
                        and total(r.text, "encosta_alerts_evaluation_seconds_count") > 0
                    ),
                    limit_s=30,
                )
                assert total(text, "encosta_alerts_transitions_total", kind="data") > 0
                assert total(text, "encosta_alerts_transitions_total", transition="raised") > 0
                assert total(text, "encosta_alerts_delivery_attempts_total", outcome="delivered")
                assert total(text, "encosta_alerts_evaluation_seconds_count") > 0
                assert total(text, "encosta_alerts_owned_partitions") == 4
                assert total(text, "encosta_alerts_last_evaluation_timestamp_seconds") > 0
                assert total(text, "encosta_alerts_db_up") == 1
                assert ("encosta_alerts_outbox_backlog", frozenset()) in samples(text)
                # Healthy means "evaluated within 3 intervals": wait for it rather than sample
                # once, so a busy machine's slow evaluation does not fail the test.
                await wait_for(client, "/healthz", lambda r: r.status_code == 200, limit_s=15)

                await set_connections(database, allowed=False)
                try:
                    # A bound on the wait for the event, not a speed asserted: on a loaded
                    # machine 10 s ran out once in four clean-clone runs.
                    detail = await wait_for(
                        client, "/healthz", lambda r: r.status_code == 503, limit_s=45
                    )
                    assert "db=down" in detail
                finally:
                    await set_connections(database, allowed=True)
                await wait_for(client, "/healthz", lambda r: r.status_code == 200, limit_s=20)
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(20):
                assert await process.wait() == 0
        finally:
            if process.returncode is None:
                process.kill()
                async with asyncio.timeout(10):
                    await process.wait()
    assert receiver.received
