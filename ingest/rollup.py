"""The rollups kept by ingest in the transaction of their readings.

``readings_15m`` (migration 0008) is the evaluator's window; ``readings_rain_1d`` (0009),
daily rain per station, is the model's 30-day antecedent record (:mod:`alerts.antecedent`).

For each (station, quantity, 15-minute bucket) the rollup holds the sum and count of the
stored readings and the newest one's value; each change stamps the writer's transaction id,
so a reader can ask for exactly what was committed since its last snapshot (the alert
evaluator's incremental grid, :mod:`alerts.window`). Only readings that were actually stored
are added: a duplicate or a conflicting re-send changes nothing, so the rollup always equals
an aggregate of ``readings`` (tested).

A batch is first summarised here, one cell per (station, quantity, bucket) it touches
(:func:`summarise`): a gateway's message of 100 five-minute records, or a backlog of one
station's messages, becomes a third or less of the rows, and the statement then travels and
upserts cells, not readings. The statement groups the cells again by PostgreSQL's own
``time_bucket``, so the SQL stays the rollup's definition (the same as
``encosta_refresh_rollup``'s) whatever the summary did.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import asyncpg

BUCKET_S = 900  # the rollup's bucket: 15 minutes, the evaluator's step

# One batch's cells: station, quantity, newest device time, sum, count, newest value.
Cells = tuple[list[str], list[str], list[datetime], list[float], list[int], list[float]]

# The cells travel once, as six arrays, into both rollups in one statement (the daily rain as
# a data-modifying CTE); ordered by key, so that concurrent writers lock rollup rows in the
# same order. The grouping makes each key appear once (ON CONFLICT cannot touch a row twice).
_ADD = """
WITH n AS MATERIALIZED (
    SELECT station_id, quantity, time_bucket(INTERVAL '15 minutes', last_ts) AS bucket,
           sum(total) AS total, sum(samples)::int AS samples, max(last_ts) AS last_ts,
           last(last_value, last_ts) AS last_value
    FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::float8[], $5::int4[],
                $6::float8[]) AS n (station_id, quantity, last_ts, total, samples, last_value)
    GROUP BY 1, 2, 3
), daily AS (
    INSERT INTO readings_rain_1d AS d (station_id, day, total, samples)
    SELECT station_id, time_bucket(INTERVAL '1 day', bucket), sum(total), sum(samples)
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
SELECT station_id, quantity, bucket, total, samples, last_ts, last_value
FROM n
ORDER BY 1, 2, 3
ON CONFLICT (station_id, quantity, bucket) DO UPDATE SET
    total = r.total + EXCLUDED.total,
    samples = r.samples + EXCLUDED.samples,
    last_value = CASE WHEN EXCLUDED.last_ts >= r.last_ts THEN EXCLUDED.last_value
                      ELSE r.last_value END,
    last_ts = greatest(r.last_ts, EXCLUDED.last_ts),
    xid = pg_current_xact_id()
"""


def summarise(rows: Iterable[Sequence[Any]]) -> Cells:
    """The cells of ``rows`` (station, quantity, aware ts, value, ...): one per bucket touched.

    Each cell holds its readings' sum and count and the newest reading's time and value, the
    way the rollup aggregates them. The bucket is the epoch's floor to :data:`BUCKET_S`
    (``time_bucket``'s origin, 2000-01-03, is a multiple of it); a float epoch separates
    microseconds exactly for any time before 2200. One dictionary pass, about 0.4 µs a reading.
    """
    cells: dict[tuple[str, str, float], list[Any]] = {}
    get = cells.get
    for row in rows:
        station, quantity, ts, value = row[0], row[1], row[2], row[3]
        epoch = ts.timestamp()
        key = (station, quantity, epoch // BUCKET_S)
        cell = get(key)
        if cell is None:
            cells[key] = [station, quantity, ts, value, 1, value, epoch]
        else:
            cell[3] += value
            cell[4] += 1
            if epoch > cell[6]:
                cell[2] = ts
                cell[5] = value
                cell[6] = epoch
    if not cells:
        return [], [], [], [], [], []
    stations, quantities, last_ts, totals, samples, last_values, _ = map(
        list, zip(*cells.values(), strict=True)
    )
    return stations, quantities, last_ts, totals, samples, last_values


async def add(connection: asyncpg.Connection, rows: Iterable[Sequence[Any]]) -> None:
    """Add newly stored readings to the rollups (inside the caller's transaction)."""
    cells = summarise(rows)
    if cells[0]:
        await connection.execute(_ADD, *cells)
