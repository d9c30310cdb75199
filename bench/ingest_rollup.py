"""What the rollup maintenance costs ingest's writer, side by side in one run.

``BatchWriter.write`` commits a batch of readings and, in the same transaction, adds them to
``readings_15m`` and ``readings_rain_1d`` (:mod:`ingest.rollup`). Here the same batches are
written three ways, in alternating rounds on empty tables, so that the ratios are measured
under the same machine load (for this process only: the shipped code is unchanged):

* ``none``: ``ingest.rollup.add`` replaced by a no-op, the writer's ceiling;
* ``per reading``: the statement shipped before the batch was summarised (:data:`PER_READING`,
  kept here as the reference: every stored reading sent as four arrays, aggregated by
  PostgreSQL);
* ``shipped``: :func:`ingest.rollup.add` (one cell per station, quantity and bucket).

Three shapes, as the ingest service batches them (``ENCOSTA_INGEST_BATCH_READINGS`` 5,000):

* one-reading messages of the 40 Rio stations, one a second (a backlog's drain), 5,000 a batch;
* gateway messages of 100 five-minute records x (rain, soil moisture), 25 per batch;
* a national network: 20,000 stations reporting rain every 5 minutes, each batch 5,000
  different stations (no two readings of a batch share a cell: summarising gains nothing).

Every reading is stored (checked: the table holds exactly the readings written, and with a
rollup, its ``samples`` sum to them). Run: ``.venv/bin/python -m bench.ingest_rollup
[--readings 200000] [--rounds 3]``; the local stack must be up. About two minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Callable, Coroutine, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

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
NATIONAL = 20_000  # stations of the third shape
_ADD = rollup.add

# The rollup statement before the batch was summarised (main 8834bca), the reference.
PER_READING = """
WITH n AS MATERIALIZED (
    SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[])
        AS n (station_id, quantity, ts, value)
), daily AS (
    INSERT INTO readings_rain_1d AS d (station_id, day, total, samples)
    SELECT station_id, time_bucket(INTERVAL '1 day', ts), sum(value), count(*)
    FROM n
    WHERE quantity = 'rain_mm'
    GROUP BY 1, 2
    ORDER BY 1, 2
    ON CONFLICT (station_id, day) DO UPDATE SET
        total = d.total + EXCLUDED.total,
        samples = d.samples + EXCLUDED.samples,
        xid = pg_current_xact_id()
)
INSERT INTO readings_15m AS r (station_id, quantity, bucket, total, samples, last_ts, last_value)
SELECT station_id, quantity, time_bucket(INTERVAL '15 minutes', ts), sum(value), count(*),
       max(ts), last(value, ts)
FROM n
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
ON CONFLICT (station_id, quantity, bucket) DO UPDATE SET
    total = r.total + EXCLUDED.total,
    samples = r.samples + EXCLUDED.samples,
    last_value = CASE WHEN EXCLUDED.last_ts >= r.last_ts THEN EXCLUDED.last_value
                      ELSE r.last_value END,
    last_ts = greatest(r.last_ts, EXCLUDED.last_ts),
    xid = pg_current_xact_id()
"""


async def _per_reading(connection: asyncpg.Connection, rows: Iterable[Sequence[Any]]) -> None:
    """The rollup maintenance as it was: every reading's columns sent as arrays."""
    columns = [list(column) for column in zip(*(row[:4] for row in rows), strict=True)]
    if columns:
        await connection.execute(PER_READING, *columns)


VARIANTS: dict[
    str, Callable[[asyncpg.Connection, Iterable[Sequence[Any]]], Coroutine[Any, Any, None]]
]


async def _skip(*_args: object) -> None:
    """The rollup maintenance left out."""


VARIANTS = {"none": _skip, "per reading": _per_reading, "shipped": _ADD}


def batches(ids: list[str], readings: int, shape: str, start: datetime) -> list[list[Message]]:
    """``readings`` readings as batches of ``BATCH``, in one of the two message shapes."""
    network = "rio"
    if shape == "national":
        # Station k reports every 5 minutes at second k % 300 of its slot: 5,000 consecutive
        # messages are 5,000 stations.
        messages = [
            Message(
                f"encosta/{network}/n{k % NATIONAL}/readings",
                b"",
                [
                    Reading(
                        f"n{k % NATIONAL}",
                        "rain_mm",
                        start + timedelta(seconds=300 * (k // NATIONAL) + k % 300),
                        0.2,
                    )
                ],
                [],
                f"n{k % NATIONAL}",
            )
            for k in range(readings)
        ]
        return [messages[i : i + BATCH] for i in range(0, len(messages), BATCH)]
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
    dsn_owner: str, dsn_ingest: str, work: list[list[Message]], *, variant: str
) -> float:
    """Readings/s committed by the writer for ``work`` on empty tables."""
    connection = await asyncpg.connect(dsn_owner)
    await connection.execute("TRUNCATE readings, readings_15m, readings_rain_1d")
    await connection.close()
    rollup.add = VARIANTS[variant]  # type: ignore[assignment]
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
    if stored != total or rows != total or samples != (0 if variant == "none" else total):
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
    print(
        "| messages | readings/s: no rollup | per reading (before) | shipped |"
        " before / none | shipped / none | shipped / before |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    shapes = (
        ("single", "1 reading each, 40 stations"),
        ("gateway", "100 records x 2, 40 stations"),
        ("national", f"1 reading each, {NATIONAL:,} stations"),
    )
    async with database.fresh(cfg, DB, registry) as owner:
        dsn_ingest = cfg.dsn(DB, "encosta_ingest")
        for shape, label in shapes:
            work = batches(ids, args.readings, shape, start)
            rates: dict[str, list[float]] = {name: [] for name in VARIANTS}
            for _ in range(args.rounds):
                for name in VARIANTS:
                    rates[name].append(await round_rate(owner, dsn_ingest, work, variant=name))

            def ratio(a: str, b: str, r: dict[str, list[float]] = rates) -> float:
                return statistics.median(x / y for x, y in zip(r[a], r[b], strict=True))

            med = {name: statistics.median(v) for name, v in rates.items()}
            print(
                f"| {label} | {med['none']:,.0f} | {med['per reading']:,.0f}"
                f" | {med['shipped']:,.0f} | {ratio('per reading', 'none'):.2f}"
                f" | {ratio('shipped', 'none'):.2f} | {ratio('shipped', 'per reading'):.2f} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
