"""Evaluation cycle at network scale: what one ``Evaluator.evaluate_once`` costs as stations grow.

The generator: the Rio registry's 40 stations repeated with jittered positions (±0.05°) until
``N`` stations, in zones of 25, network ``benchnet``; 96 h of 5-minute readings per station
(rain: 0.2 mm with probability 0.1 per reading, drawn by numpy per seed, UTC day and block of
1,000 stations; soil moisture 0.25 at the deepest probe), bulk-loaded as binary COPY built by
numpy (no Python object per row), one COPY per UTC day in (station, quantity, time) order, the
bench's session with ``synchronous_commit`` off. The evaluator then runs the way the service
does (its own role, every zone, the shipped ``rio`` preset), and each cycle is split into its
parts (:class:`Phases`: the station table, the window and its rollup COPY, daily rain and
antecedent record, the model, proposals, stored results, transitions).

Between steady cycles every station reports once (rain and soil, through ingest's writer, which
keeps the rollup), as a 5-minute network does. Reported per size: load time, the first (cold)
cycle, the median of ``--cycles`` steady cycles of the incremental evaluator side by side with
the full re-read of the same window (raw readings -> grid -> model, the path before the
rollup) in the same run, their ratio, an idle cycle (nothing new), a cycle after late data
(one station in ten sends rain from 30 h ago), PostgreSQL's CPU per steady cycle (every
process of this stack's cluster, from /proc), and the bench process's peak resident memory
from the end of the load (``VmHWM`` reset through ``/proc/self/clear_refs``).

``--load rollup`` writes the history straight into the rollups the evaluator reads (as the
raw readings would make them, another draw of the same rain) and raw readings for the last
hour only: 100,000 stations have 230 M raw readings in 96 h; no full re-read is timed then.
``--rebuild-indexes`` drops the rollup's primary key and xid index for that load and builds
them after it (faster than 77 M index insertions, docs/benchmarks.md).

``--latency SECONDS`` measures instead reading -> webhook through the real chain (Mosquitto ->
ingest service -> TimescaleDB -> evaluator -> outbox -> dispatcher -> a loopback receiver) for
the first size: every station reports rain and soil moisture every 5 minutes, spread evenly
over the 5 minutes (one QoS 1 message each), for SECONDS; every ``--probe-s`` the 25 stations
of the next zone report heavy rain in that reporting stream, timed from the first of those
publishes to the arrival of the zone's ``alert.raised`` webhook. PostgreSQL's CPU over the
run (the backends serving the benchmark's database: ingest's, the evaluator's and the
dispatcher's connections, so that another database on the cluster does not count) is reported
as a share of wall time (of one core).

Run: ``.venv/bin/python -m bench.evaluator [--sizes 100,1000] [--cycles 3]`` (10,000 stations:
~6 min with the full re-reads; ``--sizes 100000 --load rollup --rebuild-indexes``: ~7 min and
~12 GB of disk, dropped afterwards). The local stack must be up.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import itertools
import json
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self

import aiomqtt
import asyncpg
import numpy as np
import numpy.typing as npt

from alerts import evaluator as evaluator_module
from alerts import reports as alerts_reports
from alerts import window as window_module
from alerts.antecedent import DailyRain
from alerts.config import DispatchConfig, EvaluatorConfig
from alerts.destinations import Destinations
from alerts.evaluator import Evaluator
from alerts.incremental import IncrementalModel
from alerts.observations import load_grid, load_stations
from alerts.service import AlertsService
from alerts.signing import new_secret
from alerts.window import BUCKET_S, IncrementalGrid
from bench import database
from bench.accounts import bench_login
from bench.alerts import Receiver
from encosta import stack
from ingest.config import IngestConfig
from ingest.metrics import IngestMetrics
from ingest.payload import Reading
from ingest.service import IngestService
from ingest.writer import BatchWriter, Message
from models import ModelInputs, evaluate, load_preset
from models.sliding import SlidingState
from registry.format import Registry, Station, Zone, load_registry

NETWORK = "benchnet"
# The writer NOTIFYs the network named by the topic (a topic without one was refused: the
# steady cycles measured before this read no new readings).
_TOPIC = f"encosta/{NETWORK}/bench/readings"
ZONE_SIZE = 25
_TICKS = os.sysconf("SC_CLK_TCK")


def synthetic(stations: int, seed: int = 0) -> Registry:
    """``stations`` stations from the Rio registry's, jittered, in zones of ``ZONE_SIZE``."""
    base = load_registry(stack.REPO / "deploy" / "stations" / "rio-de-janeiro.toml")
    rng = np.random.default_rng(seed)
    zones = [
        Zone(f"z{z:05d}", f"Zone {z}", "bench")
        for z in range((stations + ZONE_SIZE - 1) // ZONE_SIZE)
    ]
    out = []
    for i in range(stations):
        s: Station = base.stations[i % len(base.stations)]
        out.append(
            replace(
                s,
                id=f"b{i:06d}",
                zone=zones[i // ZONE_SIZE].id,
                name=f"bench {i}",
                lat=s.lat + float(rng.uniform(-0.05, 0.05)),
                lon=s.lon + float(rng.uniform(-0.05, 0.05)),
                status="active",
            )
        )
    return Registry(NETWORK, tuple(zones), tuple(out))


# The generator's rows travel as binary COPY built by numpy (no Python object per row), one
# COPY per UTC day in (station, quantity, time) order, which is the primary key's order inside
# each daily chunk, so the index grows at its right edge instead of at random pages.
_PG_EPOCH = 946_684_800  # 2000-01-01 UTC, binary COPY's timestamp origin
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = b"\xff\xff"
_QUANTITIES = np.array([b"rain_mm", b"vwc_d60"])
_RAIN_P = 0.1  # a 5-minute reading is 0.2 mm with this probability, else 0
_BLOCK = 1000  # stations per generated block: ~15 MB of rows, the bench's RSS stays small


def _copy_rows(columns: list[tuple[str, npt.NDArray[Any]]]) -> bytes:
    """Binary COPY tuples of equal-length columns: 'S<n>' text, 'ts' epoch s, 'f8', 'i4'."""
    fields: list[tuple[str, str]] = [("n", ">i2")]
    for k, (kind, _) in enumerate(columns):
        fields += [
            (f"l{k}", ">i4"),
            (f"v{k}", {"ts": ">i8", "f8": ">f8", "i4": ">i4"}.get(kind, kind)),
        ]
    rows = np.empty(len(columns[0][1]), dtype=np.dtype(fields))
    rows["n"] = len(columns)
    for k, (kind, values) in enumerate(columns):
        rows[f"l{k}"] = rows.dtype[f"v{k}"].itemsize
        rows[f"v{k}"] = (values - _PG_EPOCH) * 1_000_000 if kind == "ts" else values
    return rows.tobytes()


def _ids(registry: Registry) -> npt.NDArray[np.bytes_]:
    ids = np.array([s.id.encode() for s in registry.stations])
    if len({len(i) for i in ids}) != 1:
        raise ValueError("the generator needs station ids of one length")
    return ids


def _rain(seed: int, day: int, block: int, shape: tuple[int, ...]) -> npt.NDArray[np.bool_]:
    """Whether each 5-minute reading of the block rained (deterministic per seed, day, block)."""
    return np.random.default_rng((seed, day, block)).random(shape) < _RAIN_P


async def _copy_days(
    connection: asyncpg.Connection,
    table: str,
    columns: list[str],
    days: dict[int, npt.NDArray[np.int64]],
    blocks: Callable[[int, npt.NDArray[np.int64]], Iterator[bytes]],
) -> None:
    """One COPY into ``table`` per day, the day's rows built block by block of stations."""
    for day, times in days.items():

        async def source(
            day: int = day, times: npt.NDArray[np.int64] = times
        ) -> AsyncIterator[bytes]:
            yield _COPY_HEADER
            for rows in blocks(day, times):
                yield rows
            yield _COPY_TRAILER

        await connection.copy_to_table(table, source=source(), columns=columns, format="binary")


def _blocks(
    n: int, rows: Callable[[int, int, npt.NDArray[np.int64]], bytes]
) -> Callable[[int, npt.NDArray[np.int64]], Iterator[bytes]]:
    """A day's rows of ``n`` stations, ``_BLOCK`` stations at a time."""

    def blocks(day: int, times: npt.NDArray[np.int64]) -> Iterator[bytes]:
        for b in range(0, n, _BLOCK):
            yield rows(day, b, times)

    return blocks


def _by_day(times: npt.NDArray[np.int64]) -> dict[int, npt.NDArray[np.int64]]:
    return {int(d): times[times // 86400 == d] for d in np.unique(times // 86400)}


async def load_raw(
    connection: asyncpg.Connection, registry: Registry, first: int, last: int, seed: int = 0
) -> None:
    """5-minute rain and soil readings of every station from ``first`` to ``last`` (epoch s)."""
    ids = _ids(registry)

    def rows(day: int, b: int, times: npt.NDArray[np.int64]) -> bytes:
        block = ids[b : b + _BLOCK]
        s, m = len(block), len(times)
        rain = np.where(_rain(seed, day, b, (s, m)), 0.2, 0.0)
        values = np.stack([rain, np.full((s, m), 0.25)], axis=1)  # (station, quantity, time)
        return _copy_rows(
            [
                ("S7", np.repeat(block, 2 * m)),
                ("S7", np.tile(np.repeat(_QUANTITIES, m), s)),
                ("ts", np.tile(times, 2 * s)),
                ("f8", values.ravel()),
            ]
        )

    times = np.arange(first, last + 1, 300, dtype=np.int64)
    await _copy_days(
        connection,
        "readings",
        ["station_id", "quantity", "ts", "value"],
        _by_day(times),
        _blocks(len(ids), rows),
    )


async def load_rollups(
    connection: asyncpg.Connection, registry: Registry, first: int, last: int, seed: int = 0
) -> None:
    """The rollups as 5-minute readings from ``first`` to ``last`` (epoch s) would make them.

    ``readings_15m`` and ``readings_rain_1d``: three readings a bucket, the rain drawn as
    :func:`load_raw` draws it (another draw: not the same readings).
    """
    ids = _ids(registry)
    daily: dict[int, npt.NDArray[np.float64]] = {}
    buckets: dict[int, int] = {}

    def rows(day: int, b: int, times: npt.NDArray[np.int64]) -> bytes:
        block = ids[b : b + _BLOCK]
        s, m = len(block), len(times)
        wet = _rain(seed, day, b, (s, m, 3))
        rain = 0.2 * wet.sum(axis=2)
        total = np.stack([rain, np.full((s, m), 0.75)], axis=1).ravel()
        last_value = np.stack([0.2 * wet[:, :, 2], np.full((s, m), 0.25)], axis=1).ravel()
        daily.setdefault(day, np.zeros(len(ids)))[b : b + s] = rain.sum(axis=1)
        buckets[day] = m
        bucket = np.tile(times, 2 * s)
        return _copy_rows(
            [
                ("S7", np.repeat(block, 2 * m)),
                ("S7", np.tile(np.repeat(_QUANTITIES, m), s)),
                ("ts", bucket),
                ("f8", total),
                ("i4", np.full(len(bucket), 3, dtype=np.int32)),
                ("ts", bucket + 600),
                ("f8", last_value),
            ]
        )

    times = np.arange(first // BUCKET_S * BUCKET_S, last + 1, BUCKET_S, dtype=np.int64)
    columns = ["station_id", "quantity", "bucket", "total", "samples", "last_ts", "last_value"]
    await _copy_days(connection, "readings_15m", columns, _by_day(times), _blocks(len(ids), rows))

    def day_rows(day: int, b: int, _times: npt.NDArray[np.int64]) -> bytes:
        block = ids[b : b + _BLOCK]
        return _copy_rows(
            [
                ("S7", block),
                ("ts", np.full(len(block), day * 86400, dtype=np.int64)),
                ("f8", daily[day][b : b + len(block)]),
                ("i4", np.full(len(block), 3 * buckets[day], dtype=np.int32)),
            ]
        )

    for day in daily:
        await _copy_days(
            connection, "readings_rain_1d", ["station_id", "day", "total", "samples"],
            {day: np.empty(0, np.int64)}, _blocks(len(ids), day_rows),
        )  # fmt: skip


# The rollup's primary key and xid index, dropped for the bulk load and built once after it
# when ``rebuild`` (one sort per chunk instead of 77 M index insertions).
_INDEXES = (
    ("ALTER TABLE readings_15m DROP CONSTRAINT readings_15m_pkey",
     "ALTER TABLE readings_15m ADD PRIMARY KEY (station_id, quantity, bucket)"),
    ("DROP INDEX readings_15m_xid_idx",
     "CREATE INDEX readings_15m_xid_idx ON readings_15m (xid)"),
)  # fmt: skip


def _cluster_cpu_s(pg_dir: Path) -> float:
    """User + system CPU seconds of every process of this stack's PostgreSQL cluster."""
    postmaster = int((pg_dir / "postmaster.pid").read_text().split()[0])
    total = 0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(proc.name), int(fields[1])
        if postmaster in {pid, ppid}:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


def _backends_cpu_s(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each of ``pids`` still alive (PostgreSQL backends)."""
    out = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[pid] = (int(fields[11]) + int(fields[12])) / _TICKS
    return out


async def _backends(owner: str, name: str) -> list[int]:
    """The backends serving database ``name`` now (the services' long-lived connections)."""
    connection = await asyncpg.connect(owner)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name
        )
    finally:
        await connection.close()
    return [r["pid"] for r in rows]


# Where PostgreSQL's time goes (pg_stat_statements, when the cluster preloads it: see
# docs/benchmarks.md): the top statements by total time, per role (ingest or evaluator).
_TOP_STATEMENTS = """
SELECT r.rolname AS role, s.calls, s.total_exec_time / 1000 AS total_s,
       s.total_exec_time / greatest(s.calls, 1) AS mean_ms,
       left(regexp_replace(s.query, '\\s+', ' ', 'g'), 90) AS query
FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = $1)
ORDER BY s.total_exec_time DESC LIMIT $2
"""


async def _statements_on(dsn: str) -> bool:
    """Reset pg_stat_statements if the cluster preloads it; whether it does."""
    connection = await asyncpg.connect(dsn)
    try:
        preload = await connection.fetchval("SHOW shared_preload_libraries")
        if "pg_stat_statements" not in preload:
            return False
        await connection.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        await connection.execute("SELECT pg_stat_statements_reset()")
    finally:
        await connection.close()
    return True


async def _top_statements(dsn: str, name: str, cycles: float, limit: int = 15) -> list[str]:
    """Table rows: role, calls, calls per cycle, total s, mean ms, the statement."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(_TOP_STATEMENTS, name, limit)
        totals = await connection.fetch(
            "SELECT r.rolname AS role, sum(s.calls)::int8 AS calls,"
            " (sum(s.total_exec_time) / 1000)::float8 AS total_s,"
            " (sum(s.total_plan_time) / 1000)::float8 AS plan_s FROM pg_stat_statements s"
            " JOIN pg_roles r ON r.oid = s.userid"
            " WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = $1) GROUP BY 1",
            name,
        )
    finally:
        await connection.close()
    out = [
        f"| {r['role']} | (all) | {r['calls']:,} | {r['calls'] / max(cycles, 1):.1f} |"
        f" {r['total_s']:.2f} s | planning {r['plan_s']:.2f} s |"
        for r in totals
    ]
    out += [
        f"| {r['role']} | `{r['query']}` | {r['calls']:,} | {r['calls'] / max(cycles, 1):.1f} |"
        f" {r['total_s']:.2f} s | {r['mean_ms']:.2f} ms |"
        for r in rows
    ]
    return out


def _rss_mb(field: str = "VmRSS:") -> float:
    """This process's resident memory (``VmHWM:``: its peak so far), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field):
            return int(line.split()[1]) / 1024
    return float("nan")


class Phases:
    """Seconds spent in each part of ``Evaluator.evaluate_once``, summed while active.

    The bench wraps the names the evaluator module calls (its window's refresh, the model in
    its thread, the proposals, the stored results, the alert transitions), for the bench's
    process only: the evaluator's code is unchanged.
    """

    _WRAPPED = (
        ("stations (registry signature, and reload on change)", Evaluator, "_stations"),
        ("stations: reload", evaluator_module, "load_stations"),
        ("window", IncrementalGrid, "refresh"),
        ("window: rollup COPY", asyncpg.Connection, "copy_from_query"),
        ("window: daily rain", DailyRain, "refresh"),
        ("window: antecedent record", window_module, "record"),
        ("stale mask", evaluator_module, "stale_mask"),
        ("model (full evaluate)", evaluator_module, "evaluate"),
        ("model (incremental)", IncrementalModel, "evaluate"),
        ("model: state rebuilt", SlidingState, "__init__"),
        ("model: splice", SlidingState, "splice"),
        ("model: push", SlidingState, "push"),
        ("model: result", SlidingState, "result"),
        ("model inputs", ModelInputs, "build"),
        ("data proposals", evaluator_module, "data_proposals"),
        ("risk proposals", evaluator_module, "risk_proposals"),
        ("store results", evaluator_module, "store_results"),
        ("reports", alerts_reports, "amend"),
        ("open states", evaluator_module, "open_states"),
        ("transitions", evaluator_module, "apply"),
    )

    def __init__(self) -> None:
        self.seconds = {n: 0.0 for n, _, _ in self._WRAPPED}
        self._saved: list[tuple[object, str, object]] = []

    def _wrap(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        if inspect.iscoroutinefunction(original):

            async def timed_async(*args: object, **kwargs: object) -> object:
                started = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    self.seconds[name] += time.perf_counter() - started

            return timed_async

        def timed(*args: object, **kwargs: object) -> object:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - started

        return timed

    def __enter__(self) -> Self:
        for name, owner, attribute in self._WRAPPED:
            original = inspect.getattr_static(owner, attribute)
            self._saved.append((owner, attribute, original))
            wrapped = self._wrap(name, getattr(owner, attribute))
            if isinstance(original, (staticmethod, classmethod)):
                wrapped = staticmethod(wrapped)  # already bound to its class
            setattr(owner, attribute, wrapped)
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, attribute, original in reversed(self._saved):
            setattr(owner, attribute, original)
        self._saved.clear()


async def _next_readings(writer: BatchWriter, ids: tuple[str, ...], at: datetime) -> None:
    """One 5-minute report of every station (rain and soil), through ingest's writer."""
    readings = [Reading(i, q, at, v) for i in ids for q, v in (("rain_mm", 0.2), ("vwc_d60", 0.26))]
    await writer.write([Message(_TOPIC, b"", readings, [], None)])


async def _late_readings(writer: BatchWriter, ids: tuple[str, ...], at: datetime) -> None:
    """A backlog: one station in ten sends rain it measured 30 h ago."""
    readings = [Reading(i, "rain_mm", at, 3.0) for i in ids[::10]]
    await writer.write([Message(_TOPIC, b"", readings, [], None)])


async def load(
    connection: asyncpg.Connection,
    registry: Registry,
    now: datetime,
    how: str,
    *,
    rebuild: bool = False,
) -> dict[str, float]:
    """Load the history; return the seconds of each phase.

    Raw readings summarised by ``encosta_refresh_rollup``, or the rollups and raw readings
    for the last hour only.
    """
    # The bench's own session: its bulk load need not wait for the WAL flush, and index
    # builds sort in memory.
    await connection.execute(
        "SET synchronous_commit = off; SET maintenance_work_mem = '512MB'; SET work_mem = '256MB'"
    )
    phases: dict[str, float] = {}
    started = time.perf_counter()
    end = int(now.timestamp())
    if how == "raw":
        await load_raw(connection, registry, end - 96 * 3600, end)
        phases["raw_s"] = time.perf_counter() - started
        await connection.execute("SELECT encosta_refresh_rollup()")  # bulk-loaded, not by ingest
        phases["refresh_s"] = time.perf_counter() - started - phases["raw_s"]
        return phases
    if rebuild:
        for drop, _ in _INDEXES:
            await connection.execute(drop)
    await load_rollups(connection, registry, end - 96 * 3600, end - 3600)
    phases["rollup_s"] = time.perf_counter() - started
    if rebuild:
        for _, build in _INDEXES:
            await connection.execute(build)
        phases["index_s"] = time.perf_counter() - started - phases["rollup_s"]
    mark = time.perf_counter()
    await load_raw(connection, registry, end - 55 * 60, end)
    await connection.execute("SELECT encosta_refresh_rollup($1)", now - timedelta(hours=1))
    # The refresh summed today's rain from the last hour's raw readings only: today's day
    # again from the 15-minute rollup, which holds the whole day.
    await connection.execute(_FIX_TODAY, now - timedelta(hours=1))
    phases["recent_s"] = time.perf_counter() - mark
    return phases


_FIX_TODAY = """
UPDATE readings_rain_1d d SET total = r.total, samples = r.samples
FROM (SELECT station_id, time_bucket('1 day', bucket) AS day, sum(total) AS total,
             sum(samples)::int AS samples
      FROM readings_15m
      WHERE quantity = 'rain_mm' AND bucket >= time_bucket('1 day', $1::timestamptz)
      GROUP BY 1, 2) r
WHERE d.station_id = r.station_id AND d.day = r.day
"""


async def measure(  # noqa: PLR0913, PLR0915  one linear script, read top to bottom
    cfg: stack.StackConfig,
    size: int,
    cycles: int,
    full_cycles: int,
    how: str = "raw",
    *,
    rebuild: bool = False,
) -> dict[str, float]:
    """Load a network of ``size`` stations and time full and incremental cycles side by side."""
    name = f"bench_evaluator_{size}"
    registry = synthetic(size)
    owner = await database.create(cfg, name, registry)
    now = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)
    connection = await asyncpg.connect(owner)
    try:
        started = time.perf_counter()
        phases = await load(connection, registry, now, how, rebuild=rebuild)
        load_s = time.perf_counter() - started
        rows = int(
            await connection.fetchval(
                "SELECT count(*) FROM readings"
                if how == "raw"
                else "SELECT sum(samples) FROM readings_15m"
            )
        )
        await connection.execute("ANALYZE readings; ANALYZE readings_15m")
        load_s = time.perf_counter() - started  # with ANALYZE: what the evaluator then meets
    finally:
        await connection.close()
    # The peak resident memory counts from here: the generator's blocks are not the evaluator's.
    Path("/proc/self/clear_refs").write_text("5")  # noqa: ASYNC240  nothing else runs yet
    config = EvaluatorConfig(
        dsn=cfg.dsn(name, "encosta_alerts"), network=NETWORK, heartbeat_s=0.0, fallback_min=0.0
    )
    model = load_preset(config.preset)
    out: dict[str, float] = {"stations": size, "rows": rows, "load_s": load_s, **phases}
    steady: list[float] = []
    full: list[float] = []
    cpu: list[float] = []
    rss_before = _rss_mb()
    async with (
        BatchWriter(cfg.dsn(name, "encosta_ingest"), IngestMetrics()) as writer,
        Evaluator(config) as evaluator,
    ):
        started = time.perf_counter()
        await evaluator.evaluate_once(now)
        out["cold_s"] = time.perf_counter() - started
        connection = await asyncpg.connect(config.dsn)
        try:
            table = await load_stations(connection, NETWORK)
            with Phases() as parts:
                for cycle in range(1, cycles + 1):
                    at = now + timedelta(minutes=5 * cycle)
                    await _next_readings(writer, table.ids, at - timedelta(seconds=30))
                    before = _cluster_cpu_s(cfg.pg_dir)
                    started = time.perf_counter()
                    await evaluator.evaluate_once(at)
                    steady.append(time.perf_counter() - started)
                    cpu.append(_cluster_cpu_s(cfg.pg_dir) - before)
            # Where a steady cycle's time goes (mean seconds per cycle).
            out |= {f"steady {k}": v / cycles for k, v in parts.seconds.items()}
            # Nothing new, same step: the window reads nothing and the model is skipped.
            skips = evaluator.model_skips
            with Phases() as parts:
                started = time.perf_counter()
                await evaluator.evaluate_once(at + timedelta(seconds=20))
                out["idle_s"] = time.perf_counter() - started
            out |= {f"idle {k}": v for k, v in parts.seconds.items() if v}
            out["idle_skipped"] = evaluator.model_skips - skips
            at = now + timedelta(minutes=5 * cycles + 1)
            await _late_readings(writer, table.ids, at - timedelta(hours=30))
            with Phases() as parts:
                started = time.perf_counter()
                await evaluator.evaluate_once(at)
                out["late_s"] = time.perf_counter() - started
            out["rebuilds"] = evaluator.incremental.rebuilds
            out["zones_rebuilt"] = evaluator.incremental.zones_rebuilt
            out["registry_loads"] = evaluator.registry_loads
            out |= {f"late {k}": v for k, v in parts.seconds.items() if v}
            # Peak memory of the incremental evaluation, before the full re-read adds its own.
            out["rss_mb"] = _rss_mb("VmHWM:")
            for _ in range(full_cycles):
                # The full re-read of the same window, side by side in the same run.
                started = time.perf_counter()
                grid = await load_grid(connection, table, at, config.step_minutes, config.window_h)
                inputs = ModelInputs.build(
                    grid.rain_mm, grid.vwc_m3m3, config.step_minutes, table.zone, table.x_m,
                    table.y_m, table.params, n_zones=len(table.zone_ids),
                )  # fmt: skip
                evaluate(inputs, model)
                full.append(time.perf_counter() - started)
            sizes = await connection.fetchrow(
                "SELECT hypertable_size('readings') AS raw,"
                " hypertable_size('readings_15m') + hypertable_size('readings_rain_1d') AS roll,"
                " (SELECT count(*) FROM readings) AS n"
            )
        finally:
            await connection.close()
    # Per stored raw reading (the rollup load stores one hour of them: no figure then).
    per = sizes["n"] if how == "raw" else float("nan")
    out["bytes_per_reading"] = sizes["raw"] / per
    out["rollup_bytes_per_reading"] = sizes["roll"] / per
    out["rss_growth_mb"] = out["rss_mb"] - rss_before
    # 5-minute reports of rain and soil moisture: 2 x 12 x 24 x 365 readings a station-year.
    out["mb_per_station_year"] = (
        (out["bytes_per_reading"] + out["rollup_bytes_per_reading"]) * 2 * 12 * 24 * 365 / 1e6
    )
    out["steady_s"] = statistics.median(steady)
    out["full_s"] = statistics.median(full) if full else float("nan")
    out["ratio"] = out["full_s"] / out["steady_s"]
    out["pg_cpu_s"] = statistics.median(cpu)
    database.drop(cfg, name)
    return out


async def _report(client: aiomqtt.Client, ids: tuple[str, ...], every_s: float) -> None:
    """Every station reports once per ``every_s``, spread evenly, until cancelled."""
    gap = every_s / len(ids)
    started = time.monotonic()
    for k in itertools.count():
        sid = ids[k % len(ids)]
        record = {"ts": datetime.now(UTC).isoformat(), "rain_mm": 0.0, "vwc_d60": 0.25}
        await client.publish(
            f"encosta/{NETWORK}/{sid}/readings", json.dumps({"records": [record]}), qos=1
        )
        await asyncio.sleep(max(0.0, started + (k + 1) * gap - time.monotonic()))


async def latency(  # noqa: PLR0915  one linear script, read top to bottom
    cfg: stack.StackConfig, size: int, seconds: float, probe_s: float
) -> dict[str, float]:
    """Reading -> webhook latency under every station's 5-minute reports."""
    name = f"bench_latency_{size}"
    registry = synthetic(size)
    owner = await database.create(cfg, name, registry)
    now = datetime.now(UTC)
    receiver = Receiver()
    connection = await asyncpg.connect(owner)
    try:
        await load(connection, registry, now, "rollup")
        await connection.execute("ANALYZE readings_15m")
        zones: dict[str, list[str]] = {}
        for row in await connection.fetch("SELECT id, zone_id FROM stations ORDER BY id"):
            zones.setdefault(row["zone_id"], []).append(row["id"])
    finally:
        await connection.close()
    ids = tuple(sid for members in zones.values() for sid in members)
    alerts_dsn = cfg.dsn(name, "encosta_alerts")
    out: dict[str, float] = {"stations": size, "seconds": seconds}
    async with bench_login(NETWORK) as login, receiver:
        connection = await asyncpg.connect(owner)
        await connection.execute(
            "INSERT INTO webhook_subscriptions (url, secret, min_level) VALUES ($1, $2, 1)",
            receiver.url,
            new_secret(),
        )
        await connection.close()
        ingest = IngestService(
            IngestConfig(
                dsn=cfg.dsn(name, "encosta_ingest"), mqtt_port=cfg.mqtt_port, network=NETWORK,
                share_group=None, client_id="bench-latency", metrics_port=0,
                session_expiry_s=60, login=login,
            )
        )  # fmt: skip
        alerts = AlertsService(
            EvaluatorConfig(dsn=alerts_dsn, network=NETWORK, heartbeat_s=0, fallback_min=0),
            DispatchConfig(dsn=alerts_dsn, destinations=Destinations.loopback()),
        )
        latencies: list[float] = []
        statements: list[str] = []
        async with asyncio.TaskGroup() as tg:
            tg.create_task(ingest.run(), name="bench-ingest")
            tg.create_task(alerts.run(), name="bench-alerts")
            await asyncio.wait_for(ingest.ready.wait(), 60)
            async with aiomqtt.Client(
                "127.0.0.1", cfg.mqtt_port, **login.client_options()
            ) as client:
                reporter = tg.create_task(_report(client, ids, 300.0))
                await asyncio.sleep(60)  # the cold start and a first minute of reports
                # This database's backends only: other benchmarks may share the cluster.
                pids = await _backends(owner, name)
                profiled = await _statements_on(cfg.dsn(name))
                cycles_before = _evaluation_samples(alerts)[
                    "encosta_alerts_evaluation_seconds_count"
                ]
                cpu_before, wall_before = _backends_cpu_s(pids), time.perf_counter()
                for zone in itertools.islice(zones, int(seconds // probe_s)):
                    started = time.time()
                    heavy = {"ts": datetime.now(UTC).isoformat(), "rain_mm": 60.0}
                    for sid in zones[zone]:
                        await client.publish(
                            f"encosta/{NETWORK}/{sid}/readings",
                            json.dumps({"records": [heavy]}),
                            qos=1,
                        )
                    latencies.append(await receiver.wait_raised(zone, 120) - started)
                    await asyncio.sleep(max(0.0, started + probe_s - time.time()))
                wall = time.perf_counter() - wall_before
                cpu_after = _backends_cpu_s(pids)
                used = sum(cpu_after[p] - cpu_before[p] for p in cpu_after if p in cpu_before)
                out["pg_busy"] = used / wall
                out["backends"] = len(pids)
                samples = _evaluation_samples(alerts)
                out["cycles"] = samples["encosta_alerts_evaluation_seconds_count"]
                out["cycle_mean_s"] = samples["encosta_alerts_evaluation_seconds_sum"] / max(
                    1.0, out["cycles"]
                )
                out["probe_cycles"] = out["cycles"] - cycles_before
                if profiled:
                    statements = await _top_statements(cfg.dsn(name), name, out["probe_cycles"])
                reporter.cancel()
            ingest.stop()
            alerts.stop()
    latencies.sort()
    out["probes"] = len(latencies)
    out["p50_s"] = statistics.median(latencies)
    out["p99_s"] = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    out["max_s"] = latencies[-1]
    out["rss_mb"] = _rss_mb("VmHWM:")
    database.drop(cfg, name)
    if statements:
        print(
            f"# pg_stat_statements over the probing window ({out['probe_cycles']:.0f} cycles)\n"
            "| role | statement | calls | per cycle | total | mean |\n| --- | --- | ---: | ---: |"
            " ---: | ---: |"
        )
        print("\n".join(statements), flush=True)
    return out


def _evaluation_samples(alerts: AlertsService) -> dict[str, float]:
    """The service's evaluation-time histogram so far (``..._count`` is the cycles run)."""
    return {m.name: m.value for m in next(iter(alerts.metrics.evaluation.collect())).samples}


async def main() -> int:
    """Measure each size and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000", help="comma-separated station counts")
    parser.add_argument("--cycles", type=int, default=3, help="steady cycles after the first")
    parser.add_argument(
        "--full-cycles",
        type=int,
        default=3,
        help="full re-reads timed after the incremental cycles (about 9 s each per 1,000 stations;"
        " 0 with --load rollup, which loads no raw history)",
    )
    parser.add_argument(
        "--load",
        choices=("raw", "rollup"),
        default="raw",
        help="history as raw readings (summarised by encosta_refresh_rollup) or straight into"
        " the rollups (for 100,000 stations)",
    )
    parser.add_argument(
        "--rebuild-indexes",
        action="store_true",
        help="with --load rollup: drop the rollup's indexes for the load, build them after",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="measure reading -> webhook for SECONDS under 5-minute reports (first size only)",
    )
    parser.add_argument("--probe-s", type=float, default=15.0, help="seconds between probes")
    args = parser.parse_args()
    cfg = stack.StackConfig.from_env(os.environ)
    stack.up(cfg)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.latency > 0:
        print(f"# bench/evaluator.py --latency {args.latency} sizes={sizes[0]}", flush=True)
        found = await latency(cfg, sizes[0], args.latency, args.probe_s)
        print(
            f"| {found['stations']:,.0f} | {found['probes']:.0f} | {found['p50_s']:.2f} s |"
            f" {found['p99_s']:.2f} s | {found['max_s']:.2f} s | {100 * found['pg_busy']:.1f} % |"
            f" {found['rss_mb']:.0f} MB | {found['cycles']:.0f} cycles"
            f" ({found['probe_cycles']:.0f} while probing), {1000 * found['cycle_mean_s']:.0f}"
            " ms mean |"
        )
        return 0
    print(f"# bench/evaluator.py sizes={args.sizes} cycles={args.cycles}", flush=True)
    results = []
    for size in sizes:
        full_cycles = 0 if args.load == "rollup" else max(1, args.full_cycles)
        result = await measure(
            cfg, size, args.cycles, full_cycles, args.load, rebuild=args.rebuild_indexes
        )
        results.append(result)
        print(f"{size} stations: {result}", flush=True)
    print(
        "| stations | readings | cold start | steady cycle (incremental) | full re-read "
        "| ratio | idle cycle (model skipped) | late-data cycle | PostgreSQL CPU per steady cycle"
        " | peak RSS (incremental) | bytes per reading (raw + rollup) | MB per station-year |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r['stations']:,.0f} | {r['rows']:,.0f} | {r['cold_s']:.2f} s | "
            f"{r['steady_s'] * 1000:.0f} ms | {r['full_s']:.2f} s | {r['ratio']:.0f}x | "
            f"{r['idle_s'] * 1000:.0f} ms | {r['late_s'] * 1000:.0f} ms | "
            f"{r['pg_cpu_s']:.2f} s | {r['rss_mb']:.0f} MB | "
            f"{r['bytes_per_reading']:.0f} + {r['rollup_bytes_per_reading']:.0f} | "
            f"{r['mb_per_station_year']:.0f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
