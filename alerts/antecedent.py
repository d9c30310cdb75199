"""The model's 30-day antecedent record: daily rain before the window, from a daily rollup.

The 96 h window cannot carry the antecedent precipitation index's memory (weeks), so the model
takes daily totals of the days before the window (``ModelInputs.antecedent_daily_mm``, see
:func:`models.antecedent.prior_api`). Ingest keeps daily rain per station and UTC day in
``readings_rain_1d`` (migration 0009, :mod:`ingest.rollup`): 30 rows per station instead of
2,880 rows of the 15-minute rollup. The record is built the same way for the live evaluator
and the backtest by :func:`record`:

* ``ANTECEDENT_DAYS`` entries, oldest first; the newest holds the day before the window's
  first day **plus** the part of the window's first day before the window starts, so no rain
  is missed or counted twice (that part is the day's total minus the window's own cells);
* :func:`models.antecedent.prior_api` weighs entry ``a`` days old by ``k_daily ** a`` at the
  window's start: each day is weighed as if it had fallen up to one day later than it did, so
  the index is an upper bound by at most ``1 / k_daily`` — early, never late, to warn.

:class:`DailyRain` keeps the days of the record between cycles and reads only the days that
entered it and the rows committed since its previous snapshot (late data), like
:mod:`alerts.window`, inside the same repeatable-read transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import asyncpg
    import numpy.typing as npt

ANTECEDENT_DAYS = 30
DAY_S = 86400

# ($1 ids, $2 first day, $3 last day): one row per station-day, i, j (day index from $2), total.
_ROWS = """
SELECT s.i, ((extract(epoch FROM d.day) - extract(epoch FROM $2::timestamptz)) / 86400)::int4 AS j,
       d.total
FROM readings_rain_1d d
JOIN (SELECT id, (n - 1)::int4 AS i FROM unnest($1::text[]) WITH ORDINALITY AS u (id, n)) s
  ON s.id = d.station_id
"""
# The rows of a query as three arrays (one round trip, one row).
_ARRAYS = """
SELECT coalesce(array_agg(c.i), '{{}}') AS i, coalesce(array_agg(c.j), '{{}}') AS j,
       coalesce(array_agg(c.total), '{{}}') AS total
FROM ({rows}) c
"""
_ALL = _ARRAYS.format(rows=_ROWS + "WHERE d.day >= $2 AND d.day <= $3")
# Days that entered ($4 < day <= $3) and rows committed since snapshot $5 among the others:
# two disjoint branches, so that the second can use the xid index, as alerts.window's query
# does (one OR of both took 17 ms a cycle at 10,000 stations, pg_stat_statements in
# bench/evaluator.py --latency, against 1.6 ms for the window's two branches).
_CHANGES = _ARRAYS.format(
    rows=f"""({_ROWS} WHERE d.day > $4 AND d.day >= $2 AND d.day <= $3) UNION ALL ({_ROWS}
      WHERE d.day >= $2 AND d.day <= $4 AND d.day <= $3
        AND d.xid >= pg_snapshot_xmin($5::text::pg_snapshot)
        AND NOT pg_visible_in_snapshot(d.xid, $5::text::pg_snapshot))"""
)
# The full path's reference (no rollup): the same days summed from raw readings.
_RAW = _ARRAYS.format(
    rows="""
    SELECT s.i, ((extract(epoch FROM time_bucket(INTERVAL '1 day', r.ts))
                  - extract(epoch FROM $2::timestamptz)) / 86400)::int4 AS j,
           sum(r.value) AS total
    FROM readings r
    JOIN (SELECT id, (n - 1)::int4 AS i FROM unnest($1::text[]) WITH ORDINALITY AS u (id, n)) s
      ON s.id = r.station_id
    WHERE r.quantity = 'rain_mm' AND r.ts >= $2 AND r.ts < $3::timestamptz + INTERVAL '1 day'
    GROUP BY 1, 2"""
)


def first_day(start: datetime) -> datetime:
    """The UTC day (as ``time_bucket('1 day')`` aligns it) holding ``start``."""
    return datetime.fromtimestamp(start.timestamp() // DAY_S * DAY_S, UTC)


def record(
    days_mm: npt.NDArray[np.float64],
    window_rain_mm: npt.NDArray[np.floating],
    start: datetime,
    step_s: float,
) -> npt.NDArray[np.float64]:
    """The antecedent record [stations, ANTECEDENT_DAYS] the model takes (oldest first).

    ``days_mm`` [stations, ANTECEDENT_DAYS + 1]: daily rain of the days before the window's
    first day and of that day itself (last column), NaN where nothing was stored;
    ``window_rain_mm`` [stations, steps]: the window's rain from ``start``, step ``step_s``.
    """
    if days_mm.shape[1] != ANTECEDENT_DAYS + 1:
        raise ValueError(f"expected {ANTECEDENT_DAYS + 1} days, got {days_mm.shape[1]}")
    out = np.nan_to_num(days_mm[:, :-1].astype(np.float64), nan=0.0)
    midnight = (first_day(start) + timedelta(days=1)).timestamp()
    inside = min(window_rain_mm.shape[1], max(0, round((midnight - start.timestamp()) / step_s)))
    in_window = np.nansum(window_rain_mm[:, :inside].astype(np.float64), axis=1)
    before = np.nan_to_num(days_mm[:, -1], nan=0.0) - in_window
    out[:, -1] += np.maximum(before, 0.0)  # float rounding never makes rain negative
    return out


def _fill(days: npt.NDArray[np.float64], row: asyncpg.Record) -> int:
    i = np.asarray(row["i"], dtype=np.int64)
    j = np.asarray(row["j"], dtype=np.int64)
    inside = (j >= 0) & (j < days.shape[1])
    days[i[inside], j[inside]] = np.asarray(row["total"], dtype=np.float64)[inside]
    return len(i)


async def raw_days(
    connection: asyncpg.Connection, ids: tuple[str, ...], start: datetime
) -> npt.NDArray[np.float64]:
    """Daily rain of the record's days summed from raw readings (the full path, no rollup)."""
    days = np.full((len(ids), ANTECEDENT_DAYS + 1), np.nan)
    first = first_day(start) - timedelta(days=ANTECEDENT_DAYS)
    _fill(days, await connection.fetchrow(_RAW, list(ids), first, first_day(start)))
    return days


@dataclass(slots=True)
class DailyRain:
    """The record's days of one network, moved forward and updated from ``readings_rain_1d``."""

    ids: tuple[str, ...] = ()
    day: datetime | None = None  # the window's first day at the last refresh
    days: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty((0, 0)))
    rows_read: int = 0
    changed: bool = True

    async def refresh(
        self, connection: asyncpg.Connection, ids: tuple[str, ...], start: datetime, snapshot: str
    ) -> npt.NDArray[np.float64]:
        """The days for a window starting at ``start``; call inside the window's transaction.

        ``snapshot`` is the snapshot of the previous refresh's transaction (ignored on a full
        read); the caller keeps the current one for the next call.
        """
        day = first_day(start)
        first = day - timedelta(days=ANTECEDENT_DAYS)
        full = ids != self.ids or self.day is None or day < self.day or not snapshot
        args: list[object] = [list(ids), first, day]
        if full:
            self.ids = ids
            self.days = np.full((len(ids), ANTECEDENT_DAYS + 1), np.nan)
            row = await connection.fetchrow(_ALL, *args)
        else:
            assert self.day is not None
            shift = (day - self.day).days
            if shift:
                self.days[:, :-shift] = self.days[:, shift:]
                self.days[:, -shift:] = np.nan
            row = await connection.fetchrow(_CHANGES, *args, self.day, snapshot)
        self.rows_read = _fill(self.days, row)
        self.changed = full or day != self.day or self.rows_read > 0
        self.day = day
        return self.days
