"""Requests/s of the public routes: database up, under ingest load, and stopped.

Starts ``encosta api`` in a child process on a scratch database holding Rio's registry and one
open alert, and drives it with ``--clients`` concurrent HTTP/1.1 keep-alive clients for
``--seconds`` per phase. Side by side in one run: the DB-backed ops route ``/zones`` and the
snapshot-backed ``/public/zones`` and ``/public/alerts.atom`` (with and without a matching
``If-None-Match``), with the database idle, under a concurrent insert load (a child process
writing readings as fast as it can), and stopped (``pg_ctl stop``: this stops the local
PostgreSQL of ENCOSTA_PG_PORT for a few seconds). The database's committed transactions per
1000 requests show what each route costs it.

Run: ``.venv/bin/python -m bench.public [--seconds 5] [--clients 32]``.
``--stations N`` measures instead where the snapshot's time goes for a network of ``N``
stations (:mod:`bench.public_snapshot`; no HTTP, the database is not stopped).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from alerts.store import Proposal, apply
from bench import database, public_snapshot
from encosta import stack

DB = "bench_public"
ROUTES: tuple[tuple[str, dict[str, str]], ...] = (
    ("/zones", {}),
    ("/public/zones", {}),
    ("/public/alerts.atom", {}),
    ("/public/alerts.atom", {"If-None-Match": "etag"}),
)


def _ingest_load(dsn: str, stop: multiprocessing.synchronize.Event) -> None:
    """Insert readings of every station in batches of 500 until ``stop`` is set."""

    async def run() -> None:
        connection = await asyncpg.connect(dsn)
        stations = [r["id"] for r in await connection.fetch("SELECT id FROM stations")]
        t = datetime(2020, 1, 1, tzinfo=UTC)
        while not stop.is_set():
            rows = []
            for _ in range(10):
                t += timedelta(seconds=1)
                rows += [(s, "rain_mm", t, 0.2, t) for s in stations]
            await connection.copy_records_to_table(
                "readings",
                records=rows,
                columns=["station_id", "quantity", "ts", "value", "received_at"],
            )
        await connection.close()

    asyncio.run(run())


async def _commits(dsn: str) -> int:
    connection = await asyncpg.connect(dsn)
    try:
        value: int = await connection.fetchval(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
        )
        return value
    finally:
        await connection.close()


async def _drive(
    base: str, path: str, headers: dict[str, str], clients: int, seconds: float
) -> tuple[float, dict[int, int]]:
    """(requests/s, count by status) of ``clients`` clients looping for ``seconds``."""
    statuses: dict[int, int] = {}
    deadline = time.perf_counter() + seconds

    async def one() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            while time.perf_counter() < deadline:
                try:
                    status = (await client.get(path, headers=headers)).status_code
                except httpx.HTTPError:
                    status = 0
                statuses[status] = statuses.get(status, 0) + 1

    began = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(clients)))
    return sum(statuses.values()) / (time.perf_counter() - began), statuses


async def _phase(label: str, base: str, dsn: str | None, clients: int, seconds: float) -> list[str]:
    lines = []
    async with httpx.AsyncClient(base_url=base) as client:
        etag = (await client.get("/public/alerts.atom")).headers.get("etag", "")
    for path, headers in ROUTES:
        sent = dict.fromkeys(headers, etag)
        # The statistics collector flushes a backend's counts up to a second late.
        if dsn:
            await asyncio.sleep(2)
        before = await _commits(dsn) if dsn else None
        rate, statuses = await _drive(base, path, sent, clients, seconds)
        cost = ""
        if dsn and before is not None:
            await asyncio.sleep(2)
            commits = await _commits(dsn) - before - 1
            cost = f"{1000 * commits / max(1, sum(statuses.values())):.1f}"
        name = path + (" (304)" if headers else "")
        lines.append(f"| {label} | `{name}` | {rate:,.0f} | {statuses} | {cost} |")
        print(lines[-1], flush=True)
    return lines


async def _raise(dsn: str) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        proposal = Proposal("rocinha", "Rocinha", "risk", 2, unknown=False, evidence={})
        await apply(connection, "rio", proposal, datetime.now(UTC), timedelta(hours=1))
    finally:
        await connection.close()


async def main(seconds: float, clients: int) -> None:
    """Run the three phases and print one Markdown table."""
    cfg = stack.StackConfig.from_env(os.environ)
    stack.up(cfg)
    pg = stack.Postgres(cfg)
    dsn = await database.create(cfg, DB)
    await _raise(dsn)
    port = stack.free_port()
    env = {
        **os.environ,
        "ENCOSTA_API_PG_DSN": dsn,
        "ENCOSTA_NETWORK": "rio",
        "ENCOSTA_API_PORT": str(port),
        "ENCOSTA_LOG_LEVEL": "WARNING",
    }
    api = subprocess.Popen(  # noqa: ASYNC220  started once, before the event loop is busy
        [sys.executable, "-m", "encosta.cli", "--log-level", "WARNING", "api"], env=env
    )
    base = f"http://127.0.0.1:{port}"
    print("| database | route | requests/s | statuses | DB commits per 1000 requests |")
    print("| --- | --- | --- | --- | --- |")
    try:
        async with httpx.AsyncClient(base_url=base) as client:
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/public/zones")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
        await _phase("up, idle", base, dsn, clients, seconds)
        stop = multiprocessing.Event()
        load = multiprocessing.Process(target=_ingest_load, args=(dsn, stop))
        load.start()
        try:
            await asyncio.sleep(1)
            await _phase("up, ingest load", base, None, clients, seconds)
        finally:
            stop.set()
            load.join(30)
        await asyncio.to_thread(pg.stop, "fast")
        try:
            await _phase("stopped", base, None, clients, seconds)
        finally:
            await asyncio.to_thread(pg.start)
    finally:
        api.terminate()
        api.wait(15)
        database.drop(cfg, DB)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per route and phase")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument(
        "--stations", type=int, default=0, help="N: time the snapshot of N stations instead"
    )
    parser.add_argument("--repeat", type=int, default=5, help="with --stations: runs per step")
    args = parser.parse_args()
    if args.stations:
        asyncio.run(public_snapshot.run(args.stations, args.repeat))
    else:
        asyncio.run(main(args.seconds, args.clients))
