"""/healthz tells the truth while ingest is idle: the database is probed, not only written."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from encosta import stack
from tests.conftest import Database, ingest_config, running_ingest
from tests.ingest.test_ingest import free_port

pytestmark = [pytest.mark.services, pytest.mark.slow]


async def _wait_for_health(client: httpx.AsyncClient, status: int, limit_s: float = 60) -> str:
    """Poll /healthz until it answers ``status``; return its body (or the last one seen)."""
    body = ""
    async with asyncio.timeout(limit_s):
        while True:
            try:
                response = await client.get("/healthz")
            except httpx.HTTPError:
                await asyncio.sleep(0.2)
                continue
            body = response.text
            if response.status_code == status:
                return body
            await asyncio.sleep(0.2)


async def test_idle_ingest_reports_a_database_outage_and_recovery(database: Database) -> None:
    """With no traffic, stopping PostgreSQL turns /healthz 503 db=down; restarting, 200 again."""
    pg = stack.Postgres(database.stack)
    port = free_port()
    config = ingest_config(database, metrics_port=port, db_probe_s=0.5, db_probe_timeout_s=0.5)
    try:
        async with (
            running_ingest(config) as service,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
        ):
            assert await _wait_for_health(client, 200) == "mqtt=up db=up"
            retries_before = service.metrics.db_retries._value.get()
            await asyncio.to_thread(pg.stop, "fast")
            assert await _wait_for_health(client, 503) == "mqtt=up db=down"
            assert service.metrics.db_up._value.get() == 0
            # Idle: no batch was written, so only the probe can have noticed.
            assert service.metrics.db_retries._value.get() == retries_before
            await asyncio.to_thread(pg.start)
            assert await _wait_for_health(client, 200) == "mqtt=up db=up"
            assert service.metrics.db_up._value.get() == 1
    finally:
        await asyncio.to_thread(pg.start)
