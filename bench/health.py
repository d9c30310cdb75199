"""How long an idle ingest takes to report a database outage on /healthz, and its recovery.

Starts the ingest service (default probe settings unless the ``ENCOSTA_INGEST_DB_PROBE_*``
variables say otherwise) on a scratch database of the local stack, polls ``/healthz`` every
50 ms, stops PostgreSQL, and times the turn to 503 ``db=down``; starts it again and times the
turn back to 200. Run: ``.venv/bin/python -m bench.health`` (stops the local PostgreSQL!).
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import replace

import httpx

from bench import database
from bench.accounts import bench_login
from encosta import stack
from ingest.config import IngestConfig
from ingest.service import IngestService

NETWORK = "rio"
DB = "bench_health"


async def _until(client: httpx.AsyncClient, status: int) -> None:
    while True:
        try:
            if (await client.get("/healthz")).status_code == status:
                return
        except httpx.HTTPError:
            pass
        await asyncio.sleep(0.05)


async def _measure(
    config: IngestConfig, pg: stack.Postgres, port: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Seconds to 503 after stopping PostgreSQL and to 200 after starting it again."""
    service = IngestService(config)
    task = asyncio.create_task(service.run())
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as client:
            await service.ready.wait()
            await _until(client, 200)
            began = time.perf_counter()
            await asyncio.to_thread(pg.stop, "fast")
            returned = time.perf_counter()
            await _until(client, 503)
            down = (time.perf_counter() - returned, time.perf_counter() - began)
            began = time.perf_counter()
            await asyncio.to_thread(pg.start)
            returned = time.perf_counter()
            await _until(client, 200)
            up = (time.perf_counter() - returned, time.perf_counter() - began)
    finally:
        await asyncio.to_thread(pg.start)
        service.stop()
        await task
    return down, up


async def main() -> None:
    """Measure and print the two figures."""
    cfg = stack.StackConfig.from_env(os.environ)
    stack.up(cfg)
    pg = stack.Postgres(cfg)
    dsn = await database.create(cfg, DB)
    port = stack.free_port()
    async with bench_login(NETWORK) as login:
        config = replace(
            IngestConfig.from_env({**os.environ, "ENCOSTA_PG_DSN": dsn}),
            network=NETWORK,
            client_id="bench-health",
            share_group=None,
            metrics_port=port,
            session_expiry_s=60,
            login=login,
        )
        down, up = await _measure(config, pg, port)
    database.drop(cfg, DB)
    print(
        f"# bench/health.py  probe every {config.db_probe_s:g} s,"
        f" timeout {config.db_probe_timeout_s:g} s, idle ingest"
    )
    print(
        f"stop  -> 503 db=down: {down[0]:.2f} s after pg_ctl stop returned"
        f" ({down[1]:.2f} s from its start)"
    )
    print(
        f"start -> 200 db=up:   {up[0]:.2f} s after pg_ctl start returned"
        f" ({up[1]:.2f} s from its start)"
    )


if __name__ == "__main__":
    asyncio.run(main())
