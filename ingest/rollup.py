"""The rollups kept by ingest in the transaction of their readings.

``readings_15m`` (migration 0008) is the evaluator's window; ``readings_rain_1d`` (0009),
daily rain per station, is the model's 30-day antecedent record (:mod:`alerts.antecedent`).

For each (station, quantity, 15-minute bucket) the rollup holds the sum and count of the
stored readings and the newest one's value; each change stamps the writer's transaction id,
so a reader can ask for exactly what was committed since its last snapshot (the alert
evaluator's incremental grid, :mod:`alerts.window`). Only readings that were actually stored
are added: a duplicate or a conflicting re-send changes nothing, so the rollup always equals
an aggregate of ``readings`` (tested).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import asyncpg

BUCKET_S = 900  # the rollup's bucket: 15 minutes, the evaluator's step

# The readings travel once, as four arrays, and are summarised by PostgreSQL (C, not a Python
# loop) into both rollups in one statement (the daily rain as a data-modifying CTE); ordered by
# key, so that concurrent writers lock rollup rows in the same order.
_ADD = """
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


async def add(
    connection: asyncpg.Connection, rows: Iterable[tuple[str, str, datetime, float]]
) -> None:
    """Add newly stored readings to the rollups (inside the caller's transaction)."""
    columns = [list(column) for column in zip(*rows, strict=True)]
    if columns:
        await connection.execute(_ADD, *columns)
