"""``encosta demo``: the stack up, ingest running, a burst of readings published, a summary.

This grows into the storm replay; for now it publishes a synthetic shower over every station
(native JSON and SenML, one deliberately bad message) and prints what was stored.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import time

import aiomqtt
import asyncpg

from encosta import stack
from encosta.migrate import migrate
from encosta.registry import import_registry
from ingest.config import IngestConfig
from ingest.payload import OutRecord, encode_native, encode_senml
from ingest.service import IngestService
from ingest.stations import Registry, load_registry
from ingest.topic import PayloadForm, ReadingsTopic

REGISTRY = stack.REPO / "deploy" / "stations" / "rio-de-janeiro.toml"


def burst(registry: Registry, readings: int, now: float) -> list[tuple[str, bytes, int]]:
    """Messages of a passing shower: (topic, payload, readings in it), about ``readings``."""
    per_record = 3  # rain, vwc, battery
    steps = max(1, readings // (per_record * len(registry.stations)))
    out = []
    for index, station in enumerate(registry.stations):
        records = []
        for step in range(steps):
            ts = now - (steps - step) * 300.0
            rain = max(0.0, 6.0 * math.sin(math.pi * step / steps + index * 0.05))
            vwc = min(0.6, 0.22 + 0.004 * step)
            records.append(
                OutRecord(ts, {"rain_mm": round(rain, 1), "vwc": round(vwc, 3), "battery_v": 3.9})
            )
        senml = index % 4 == 0
        topic = ReadingsTopic(
            registry.network, station.id, PayloadForm.SENML if senml else PayloadForm.NATIVE
        )
        payload = encode_senml(station.id, records) if senml else encode_native(records, seq=1)
        out.append((str(topic), payload, len(records) * per_record))
    bad = ReadingsTopic(registry.network, registry.stations[0].id, PayloadForm.NATIVE)
    out.append((str(bad), b'{"records": [{"ts": "now", "rain_mm": -3}]}', 0))
    return out


async def _demo(readings: int) -> int:
    config = stack.StackConfig.from_env(os.environ)
    await asyncio.to_thread(stack.up, config)
    ingest = IngestConfig.from_env(os.environ)
    await migrate(ingest.dsn)
    registry = load_registry(REGISTRY)
    await import_registry(ingest.dsn, registry)
    connection = await asyncpg.connect(ingest.dsn)
    try:
        before = await connection.fetchval("SELECT count(*) FROM readings")
        service = IngestService(ingest)
        async with asyncio.TaskGroup() as group:
            task = group.create_task(service.run(), name="ingest")
            await asyncio.wait_for(service.ready.wait(), 30)
            messages = burst(registry, readings, time.time())
            expected = sum(m[2] for m in messages)
            started = time.perf_counter()
            async with aiomqtt.Client(
                ingest.mqtt_host, ingest.mqtt_port, identifier="encosta-demo-gateway"
            ) as client:
                for topic, payload, _ in messages:
                    await client.publish(topic, payload, qos=1)
            print(
                f"published {len(messages)} messages, {expected} readings "
                f"from {len(registry.stations)} stations"
            )
            deadline = time.monotonic() + 60
            stored = 0
            while time.monotonic() < deadline:
                stored = await connection.fetchval("SELECT count(*) FROM readings") - before
                if stored >= expected:
                    break
                await asyncio.sleep(0.2)
            elapsed = time.perf_counter() - started
            service.stop()
            await task
        await _summary(connection, stored, expected, elapsed)
    finally:
        await connection.close()
    return 0 if stored >= expected else 1


async def _summary(
    connection: asyncpg.Connection, stored: int, expected: int, elapsed: float
) -> None:
    rows = await connection.fetch(
        """
        SELECT z.name AS zone, count(DISTINCT s.id) AS stations,
               count(r.*) AS readings,
               coalesce(sum(r.value) FILTER (WHERE r.quantity = 'rain_mm'
                        AND r.ts > now() - INTERVAL '1 hour'), 0) AS rain_1h,
               max(r.ts) AS newest
        FROM zones z JOIN stations s ON s.zone_id = z.id
        LEFT JOIN readings r ON r.station_id = s.id
        GROUP BY z.name ORDER BY z.name
        """
    )
    print(f"\nstored {stored} new readings of {expected} in {elapsed:.2f} s\n")
    print(f"{'zone':32} {'stations':>8} {'readings':>9} {'rain 1h mm':>11}  newest")
    for r in rows:
        newest = r["newest"].strftime("%Y-%m-%d %H:%M UTC") if r["newest"] else "-"
        print(
            f"{r['zone']:32} {r['stations']:>8} {r['readings']:>9} "
            f"{r['rain_1h'] / max(1, r['stations']):>11.1f}  {newest}"
        )
    rejects = await connection.fetch(
        "SELECT reason, count(*) AS n FROM rejects GROUP BY reason ORDER BY reason"
    )
    print("\nrejects: " + (", ".join(f"{r['reason']}={r['n']}" for r in rejects) or "none"))


def run_demo(args: argparse.Namespace) -> int:
    """Entry point of ``encosta demo``."""
    return asyncio.run(_demo(args.readings))
