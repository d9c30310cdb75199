"""What the rollup maintenance costs ingest's writer, side by side in one run.

``BatchWriter.write`` commits a batch of readings and, in the same transaction, adds them to
``readings_15m`` and ``readings_rain_1d`` (:mod:`ingest.rollup`). Here the same batches are
written with that maintenance as shipped and with ``ingest.rollup.add`` replaced by a no-op
(for this process only: the shipped code is unchanged), in alternating rounds on a fresh
table each time, so the ratio is measured under the same machine load. Two shapes, as the
ingest service batches them (``ENCOSTA_INGEST_BATCH_READINGS`` 5,000):

* one-reading messages (a station's 5-minute report of rain), 5,000 per batch;
* gateway messages of 100 records x (rain, soil moisture), 25 per batch (5,000 readings).

Readings go to the 40 Rio stations, distinct timestamps, so every one is stored (checked:
the table holds exactly the readings written, and with the rollup on, its ``samples`` sum to
them). Run: ``.venv/bin/python -m bench.ingest_rollup [--readings 200000] [--rounds 3]``;
the local stack must be up. About a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import asyncpg

from bench import database
from encosta import stack
from ingest import rollup
from ingest.metrics import IngestMetrics
from ingest.payload import Reading
from ingest.writer import BatchWriter, Message
from registry.format import load_registry

DB = "bench_ingest_rollup"
BATCH = 5000
_ADD = rollup.add


async def _skip(*_args: object) -> None:
    """The rollup maintenance left out."""


def batches(ids: list[str], readings: int, shape: str, start: datetime) -> list[list[Message]]:
    """``readings`` readings as batches of ``BATCH``, in one of the two message shapes."""
    network = "rio"
    if shape == "single":
        messages = [
            Message(
                f"encosta/{network}/{ids[k % len(ids)]}/readings",
                b"",
                [Reading(ids[k % len(ids)], "rain_mm", start + timedelta(seconds=k), 0.2)],
                [],
                ids[k % len(ids)],
            )
            for k in range(readings)
        ]
        return [messages[i : i + BATCH] for i in range(0, len(messages), BATCH)]
    messages = []
    for m in range(readings // 200):
        sid = ids[m % len(ids)]
        first = start + timedelta(minutes=5 * 100 * (m // len(ids)))
        records = [
            Reading(sid, q, first + timedelta(minutes=5 * r), v)
            for r in range(100)
            for q, v in (("rain_mm", 0.2 * (r % 7 == 0)), ("vwc_d60", 0.25))
        ]
        messages.append(Message(f"encosta/{network}/{sid}/readings", b"", records, [], sid))
    per = BATCH // 200
    return [messages[i : i + per] for i in range(0, len(messages), per)]


async def round_rate(
    dsn_owner: str, dsn_ingest: str, work: list[list[Message]], *, keep: bool
) -> float:
    """Readings/s committed by the writer for ``work`` on empty tables."""
    connection = await asyncpg.connect(dsn_owner)
    await connection.execute("TRUNCATE readings, readings_15m, readings_rain_1d")
    await connection.close()
    rollup.add = _ADD if keep else _skip  # type: ignore[assignment]
    total = sum(len(m.readings) for batch in work for m in batch)
    try:
        async with BatchWriter(dsn_ingest, IngestMetrics()) as writer:
            started = time.perf_counter()
            stored = 0
            for batch in work:
                stored += await writer.write(batch)
            elapsed = time.perf_counter() - started
    finally:
        rollup.add = _ADD
    connection = await asyncpg.connect(dsn_owner)
    try:
        rows = await connection.fetchval("SELECT count(*) FROM readings")
        samples = await connection.fetchval("SELECT coalesce(sum(samples), 0) FROM readings_15m")
    finally:
        await connection.close()
    if stored != total or rows != total or samples != (total if keep else 0):
        raise AssertionError(f"wrote {total}, stored {stored}, rows {rows}, rollup {samples}")
    return total / elapsed


async def main() -> int:
    """Alternate rounds with and without the rollup maintenance; print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readings", type=int, default=200_000, help="readings per round")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each variant")
    args = parser.parse_args()
    cfg = stack.StackConfig.from_env(os.environ)
    stack.up(cfg)
    registry = load_registry(database.RIO)
    ids = [s.id for s in registry.stations]
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)
    print(f"# bench/ingest_rollup.py readings={args.readings} rounds={args.rounds}", flush=True)
    print("| messages | readings/s without rollup | with rollup (shipped) | with / without |")
    print("| --- | ---: | ---: | ---: |")
    async with database.fresh(cfg, DB, registry) as owner:
        dsn_ingest = cfg.dsn(DB, "encosta_ingest")
        for shape, label in (("single", "1 reading each"), ("gateway", "100 records x 2")):
            work = batches(ids, args.readings, shape, start)
            without: list[float] = []
            with_: list[float] = []
            for _ in range(args.rounds):
                without.append(await round_rate(owner, dsn_ingest, work, keep=False))
                with_.append(await round_rate(owner, dsn_ingest, work, keep=True))
            ratio = statistics.median(w / o for w, o in zip(with_, without, strict=True))
            print(
                f"| {label} | {statistics.median(without):,.0f} | {statistics.median(with_):,.0f}"
                f" | {ratio:.2f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
