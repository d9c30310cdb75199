"""The 15-minute rollup (``readings_15m``), kept by ingest in the transaction of its readings.

For each (station, quantity, 15-minute bucket) the rollup holds the sum and count of the
stored readings and the newest one's value; each change stamps the writer's transaction id,
so a reader can ask for exactly what was committed since its last snapshot (the alert
evaluator's incremental grid, :mod:`alerts.window`). Only readings that were actually stored
are added: a duplicate or a conflicting re-send changes nothing, so the rollup always equals
an aggregate of ``readings`` (tested).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

BUCKET_S = 900
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_UPSERT = """
INSERT INTO readings_15m AS r (station_id, quantity, bucket, total, samples, last_ts, last_value)
SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[], $5::int[],
                     $6::timestamptz[], $7::float8[])
ON CONFLICT (station_id, quantity, bucket) DO UPDATE SET
    total = r.total + EXCLUDED.total,
    samples = r.samples + EXCLUDED.samples,
    last_value = CASE WHEN EXCLUDED.last_ts >= r.last_ts THEN EXCLUDED.last_value
                      ELSE r.last_value END,
    last_ts = greatest(r.last_ts, EXCLUDED.last_ts),
    xid = pg_current_xact_id()
"""


def bucket_of(ts: datetime) -> datetime:
    """The start of the 15-minute bucket holding ``ts`` (aligned like ``time_bucket``)."""
    seconds = (ts - _EPOCH).total_seconds()
    return datetime.fromtimestamp(seconds // BUCKET_S * BUCKET_S, UTC)


@dataclass(slots=True)
class _Bucket:
    total: float
    samples: int
    last_ts: datetime
    last_value: float


def summarise(
    rows: Iterable[tuple[str, str, datetime, float]],
) -> list[tuple[str, str, datetime, float, int, datetime, float]]:
    """(station, quantity, bucket, total, samples, last_ts, last_value) per bucket, sorted.

    Sorted by key, so that concurrent writers lock rollup rows in the same order.
    """
    acc: dict[tuple[str, str, datetime], _Bucket] = {}
    for station, quantity, ts, value in rows:
        key = (station, quantity, bucket_of(ts))
        entry = acc.get(key)
        if entry is None:
            acc[key] = _Bucket(value, 1, ts, value)
            continue
        entry.total += value
        entry.samples += 1
        if ts >= entry.last_ts:
            entry.last_ts, entry.last_value = ts, value
    return [
        (s, q, b, e.total, e.samples, e.last_ts, e.last_value)
        for (s, q, b), e in sorted(acc.items(), key=lambda item: item[0])
    ]


async def add(
    connection: asyncpg.Connection, rows: Iterable[tuple[str, str, datetime, float]]
) -> int:
    """Add newly stored readings to the rollup (inside the caller's transaction)."""
    summary = summarise(rows)
    if summary:
        await connection.execute(_UPSERT, *(list(column) for column in zip(*summary, strict=True)))
    return len(summary)
