"""The evaluator's window, kept in memory and fed only what changed: the incremental grid.

The full path (:func:`alerts.observations.load_grid`) re-aggregates every raw reading of the
window each cycle, so a cycle costs what the window holds. Here the grid of the previous cycle
is kept, moved forward when time crosses a step, and updated from the 15-minute rollup that
ingest maintains (:mod:`ingest.rollup`) with only:

* the buckets that entered the window since the previous cycle, and
* the buckets whose rollup row a transaction committed since the previous cycle's snapshot
  (``pg_visible_in_snapshot`` on the row's ``xid``): late and re-sent data, wherever in the
  window it falls.

A rollup row holds its bucket's whole aggregate, so applying it overwrites the cell: the grid
always equals what :func:`load_grid` would return for the same data (tested side by side). The
whole window is read again only on the first cycle, when the station table changes, or when
time goes backwards (a replay). Rows travel as binary COPY parsed by numpy in chunks, with no
Python object per row.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from alerts.antecedent import DailyRain, record
from alerts.gridding import OTHER, PLAIN_VWC, RAIN
from alerts.observations import Grid, StationTable

if TYPE_CHECKING:
    import asyncpg
    import numpy.typing as npt

# i (station index), j (step index), pref (-1 rain, >= 0 soil probe preference, -2 other),
# value (rain total or newest soil value), last (epoch of the bucket's newest reading)
_ROW = np.dtype(
    [
        ("n", ">i2"),
        ("li", ">i4"),
        ("i", ">i4"),
        ("lj", ">i4"),
        ("j", ">i4"),
        ("lp", ">i4"),
        ("pref", ">i4"),
        ("lv", ">i4"),
        ("value", ">f4"),
        ("ll", ">i4"),
        ("last", ">f8"),
    ]
)
# The rollup's bucket (migration 0008, which ingest.rollup writes): the evaluator's step.
BUCKET_S = 900
_HEADER = 11 + 4 + 4  # PGCOPY signature, flags, header extension length (0)

# alerts.gridding.soil_preference in SQL (a test compares them): vwc_d<cm> gives the depth,
# read without a regular expression per row (twice as fast as one).
PREF_SQL = (
    f"CASE WHEN {{q}} = 'rain_mm' THEN {RAIN} WHEN {{q}} = 'vwc' THEN {PLAIN_VWC}"
    " WHEN left({q}, 5) = 'vwc_d' AND length({q}) BETWEEN 6 AND 14"
    " AND ltrim(substr({q}, 6), '0123456789') = '' THEN substr({q}, 6)::int4"
    f" ELSE {OTHER} END"
)
_SELECT = f"""
SELECT s.i,
       ((extract(epoch FROM r.bucket) - $2::float8) / $3::float8)::int4 AS j,
       ({PREF_SQL.format(q="r.quantity")})::int4,
       (CASE WHEN r.quantity = 'rain_mm' THEN r.total ELSE r.last_value END)::float4,
       extract(epoch FROM r.last_ts)::float8
FROM readings_15m r
JOIN (SELECT id, (n - 1)::int4 AS i FROM unnest($1::text[]) WITH ORDINALITY AS u (id, n)) s
  ON s.id = r.station_id
"""  # noqa: S608  constants only
# The whole window (first cycle, or after a reset); $4, $5: first and last bucket.
_WINDOW = _SELECT + "WHERE r.bucket >= $4 AND r.bucket <= $5"
# What entered the window ($6 < bucket <= $5) and what changed since snapshot $7 inside it.
_CHANGES = (
    f"({_SELECT} WHERE r.bucket > $6 AND r.bucket <= $5) UNION ALL ({_SELECT}"
    " WHERE r.bucket >= $4 AND r.bucket <= $6"
    " AND r.xid >= pg_snapshot_xmin($7::text::pg_snapshot)"
    " AND NOT pg_visible_in_snapshot(r.xid, $7::text::pg_snapshot))"
)


# A refresh that moves the window more steps than this reads what changed by binary COPY (many
# rows); a shorter one (every cycle of a running evaluator) by a prepared statement.
FETCH_STEPS = 4


@dataclass(slots=True)
class _Parser:
    """Binary COPY rows to the grid, chunk by chunk (a row may straddle two chunks)."""

    window: IncrementalGrid
    pending: bytes = b""
    started: bool = False
    rows: int = 0

    async def __call__(self, chunk: bytes) -> None:
        data = self.pending + chunk
        if not self.started:
            if len(data) < _HEADER:
                self.pending = data
                return
            (extension,) = struct.unpack(">I", data[15:19])
            data = data[_HEADER + extension :]
            self.started = True
        whole = len(data) // _ROW.itemsize * _ROW.itemsize
        rows = np.frombuffer(data[:whole], dtype=_ROW)
        self.pending = data[whole:]
        if len(rows):
            self.rows += len(rows)
            self.window.apply(
                rows["i"].astype(np.int64),
                rows["j"].astype(np.int64),
                rows["pref"].astype(np.int64),
                rows["value"].astype(np.float32),
                rows["last"].astype(np.float64),
            )

    def rows_of(self, records: list[asyncpg.Record]) -> None:
        """Rows fetched by a prepared statement (the columns of :data:`_SELECT`)."""
        if not records:
            return
        i, j, pref, value, last = zip(*records, strict=True)
        self.rows += len(records)
        self.window.apply(
            np.array(i, dtype=np.int64),
            np.array(j, dtype=np.int64),
            np.array(pref, dtype=np.int64),
            np.array(value, dtype=np.float32),
            np.array(last, dtype=np.float64),
        )

    def finish(self) -> None:
        """Check that exactly the trailer is left."""
        if self.pending not in {b"", b"\xff\xff"}:
            raise ValueError(f"binary COPY ended with {len(self.pending)} stray bytes")


@dataclass(slots=True)
class IncrementalGrid:
    """One network's window of readings, moved forward and updated from the rollup."""

    step_minutes: int
    window_h: int
    ids: tuple[str, ...] = ()
    end: datetime | None = None
    snapshot: str | None = None
    rain: npt.NDArray[np.float32] = field(default_factory=lambda: np.empty((0, 0), np.float32))
    vwc: npt.NDArray[np.float32] = field(default_factory=lambda: np.empty((0, 0), np.float32))
    best: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    last: npt.NDArray[np.float64] = field(default_factory=lambda: np.empty(0, np.float64))
    relearn: npt.NDArray[np.bool_] = field(default_factory=lambda: np.empty(0, np.bool_))
    # Per station, the oldest column the last refresh wrote (n_steps: none; 0 after a full
    # read): what alerts.incremental rebuilds when it lies before the newest steps.
    first_write: npt.NDArray[np.int64] = field(default_factory=lambda: np.empty(0, np.int64))
    rows_read: int = 0  # rows read from the rollup by the last refresh (for benchmarks)
    full_reads: int = 0
    # Whether the last refresh changed the grid: a full read, a new step, or rows read.
    changed: bool = True
    # The antecedent record's days, refreshed in the same transaction (alerts.antecedent).
    daily: DailyRain = field(default_factory=DailyRain)

    def __post_init__(self) -> None:
        if self.step_minutes * 60 != BUCKET_S:
            raise ValueError(
                f"the incremental grid steps by the rollup's {BUCKET_S // 60} minutes, "
                f"not {self.step_minutes}"
            )

    @property
    def n_steps(self) -> int:
        """Steps in the window."""
        return self.window_h * 3600 // BUCKET_S

    def _reset(self, ids: tuple[str, ...]) -> None:
        self.ids = ids
        self.rain = np.full((len(ids), self.n_steps), np.nan, dtype=np.float32)
        self.vwc = np.full_like(self.rain, np.nan)
        self.best = np.full(len(ids), OTHER, dtype=np.int64)
        self.last = np.full(len(ids), np.nan, dtype=np.float64)
        self.relearn = np.zeros(len(ids), dtype=np.bool_)
        self.end = None
        self.snapshot = None

    def _shift(self, steps: int) -> None:
        """Move the window ``steps`` forward: the oldest columns leave, new ones are NaN."""
        if steps >= self.n_steps:
            self.rain.fill(np.nan)
            self.vwc.fill(np.nan)
            return
        had_soil = ~np.isnan(self.vwc).all(axis=1)
        for grid in (self.rain, self.vwc):
            grid[:, :-steps] = grid[:, steps:]
            grid[:, -steps:] = np.nan
        # A station whose chosen probe left the window may have another one in it: the full
        # path would choose that one, so forget the choice (its soil row is read again).
        lost = had_soil & np.isnan(self.vwc).all(axis=1) & (self.best >= 0)
        self.best[lost] = OTHER
        self.relearn |= lost

    def apply(
        self,
        i: npt.NDArray[np.int64],
        j: npt.NDArray[np.int64],
        pref: npt.NDArray[np.int64],
        value: npt.NDArray[np.float32],
        last: npt.NDArray[np.float64],
    ) -> None:
        """Write rollup rows into the grid (each overwrites its cell)."""
        np.fmax.at(self.last, i, last)
        inside = (j >= 0) & (j < self.n_steps)
        i, j, pref, value = i[inside], j[inside], pref[inside], value[inside]
        np.minimum.at(self.first_write, i, j)
        rain = pref == RAIN
        self.rain[i[rain], j[rain]] = value[rain]
        soil = pref >= 0
        if soil.any():
            best = self.best.copy()
            np.maximum.at(best, i[soil], pref[soil])
            raised = best > self.best
            self.vwc[raised] = np.nan  # a better probe appeared: its values replace the other's
            self.first_write[raised] = 0
            self.best = best
            chosen = soil & (pref == best[i])
            self.vwc[i[chosen], j[chosen]] = value[chosen]

    async def refresh(
        self, connection: asyncpg.Connection, stations: StationTable, now: datetime
    ) -> Grid:
        """The window ending at ``now``'s step, reading only what changed since last time.

        The grid's rain and soil arrays are the window's own (no copy): read them before the
        next refresh.
        """
        step = timedelta(seconds=BUCKET_S)
        # The bucket holding ``now``, as time_bucket aligns it (its origin is a multiple of it).
        end = datetime.fromtimestamp(now.timestamp() // BUCKET_S * BUCKET_S, UTC)
        start = end - (self.n_steps - 1) * step
        previous = self.end
        full = stations.ids != self.ids or previous is None or end < previous
        if full:
            self._reset(stations.ids)
        elif previous is not None and end > previous:
            self._shift(int((end - previous) / step))
        relearn = self.relearn.copy()
        self.relearn[:] = False
        self.first_write = np.full(len(stations.ids), 0 if full else self.n_steps, np.int64)
        parser = _Parser(self)
        args: list[object] = [list(stations.ids), start.timestamp(), float(BUCKET_S), start, end]
        async with connection.transaction(isolation="repeatable_read", readonly=True):
            snapshot = await connection.fetchval("SELECT pg_current_snapshot()::text")
            if full:
                await connection.copy_from_query(_WINDOW, *args, output=parser, format="binary")
            elif previous is not None and end - previous <= FETCH_STEPS * step:
                # A running evaluator's cycle: a few rows. A prepared statement sends the ids
                # as one binary parameter; copy_from_query would inline them as a literal of
                # 10,000 strings, quoted in a round trip and parsed again each cycle. Custom
                # plans: a generic one could not use the xid index for this snapshot.
                await connection.execute("SET LOCAL plan_cache_mode = force_custom_plan")
                parser.rows_of(await connection.fetch(_CHANGES, *args, self.end, self.snapshot))
            else:
                await connection.copy_from_query(
                    _CHANGES, *args, self.end, self.snapshot, output=parser, format="binary"
                )
            if relearn.any():
                # Stations whose probe left the window: their whole window, for another probe.
                ids = [
                    sid if again else "" for sid, again in zip(stations.ids, relearn, strict=True)
                ]
                await connection.copy_from_query(
                    _WINDOW, ids, *args[1:5], output=parser, format="binary"
                )
            days = await self.daily.refresh(connection, stations.ids, start, self.snapshot or "")
        parser.finish()
        self.changed = full or end != previous or parser.rows > 0 or self.daily.changed
        self.end, self.snapshot = end, snapshot
        self.rows_read = parser.rows
        self.full_reads += int(full)
        # The arrays themselves, not copies (two 150 MB copies a cycle at 100,000 stations):
        # the grid is valid until the next refresh, which the evaluator awaits in turn.
        return Grid(
            self.rain,
            self.vwc,
            self.last.copy(),
            end,
            record(days, self.rain, start, BUCKET_S),
        )
