"""Where the public snapshot's time goes at scale: ``bench.public --stations N``.

A scratch database holds ``bench.evaluator.synthetic(N)`` (zones of 25 stations), a day of
readings per station (see ``_HISTORY``), an open risk alert in every third zone and a data
alert in every twentieth. In one run, side by side: each query of
:func:`alerts.api.snapshot.read_snapshot` timed alone, the whole snapshot read (queries and the
Python that builds it), and every public body rendered from it (``/public/zones``, the Atom
feed, the status page, every zone's feed, every alert's CAP document by identifier). The
median of ``--repeat`` runs each, in milliseconds.
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import asyncpg

from alerts.api import public, snapshot, status_page
from alerts.api.config import ApiConfig
from alerts.store import Proposal, apply
from bench import database
from bench.evaluator import NETWORK, synthetic
from encosta import stack

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

DB = "bench_public_snapshot"
# The zones query before it read each station's newest reading once (kept to measure against):
# two correlated subqueries per zone, each probing every station of the zone.
ZONES_BEFORE = """
SELECT z.id, z.name,
       (SELECT max(seen.ts) FROM stations s LEFT JOIN LATERAL (
            SELECT r.ts FROM readings r WHERE r.station_id = s.id ORDER BY r.ts DESC LIMIT 1
        ) seen ON true WHERE s.zone_id = z.id) AS last_data,
       (SELECT bool_or(seen.ts > now() - make_interval(secs => s.expected_interval_s * $2))
        FROM stations s LEFT JOIN LATERAL (
            SELECT r.ts FROM readings r WHERE r.station_id = s.id ORDER BY r.ts DESC LIMIT 1
        ) seen ON true WHERE s.zone_id = z.id AND s.status = 'active') AS any_live
FROM zones z WHERE z.network = $1 ORDER BY z.id
"""
# A day of readings every 15 minutes, three quantities, the newest a minute old; every 50th
# station went silent two days ago (its zone's snapshot must look further back).
_HISTORY = """
INSERT INTO readings (station_id, quantity, ts, value, received_at)
SELECT s.id, q, t, 0.2, t
FROM (SELECT id, CASE WHEN row_number() OVER (ORDER BY id) % 50 = 0 THEN interval '2 days'
                      ELSE interval '0' END AS silent FROM stations) s,
     unnest(ARRAY['rain_mm', 'vwc_d30', 'vwc_d60']) q,
     generate_series($1::timestamptz - s.silent - interval '24 hours', $1::timestamptz - s.silent,
                     interval '15 minutes') t
"""


def _ms(samples: list[float]) -> str:
    return f"{1000 * statistics.median(samples):.1f}"


async def _timed(call: Callable[[], Awaitable[object]], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        await call()
        samples.append(time.perf_counter() - began)
    return samples


def _timed_sync(call: Callable[[], object], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        call()
        samples.append(time.perf_counter() - began)
    return samples


async def _load(dsn: str, zones: list[str]) -> None:
    connection = await asyncpg.connect(dsn)
    try:
        now = datetime.now(UTC)
        await connection.execute(_HISTORY, now - timedelta(minutes=1))
        for i, zone in enumerate(zones):
            if i % 3 == 0:
                risk = Proposal(zone, zone, "risk", 1 + i % 3, unknown=False, evidence={})
                await apply(connection, NETWORK, risk, now, timedelta(hours=1))
            if i % 20 == 0:
                data = Proposal(zone, zone, "data", 1, unknown=False, evidence={})
                await apply(connection, NETWORK, data, now, timedelta(hours=1))
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


async def run(stations: int, repeat: int) -> None:
    """Build the scratch network, print one Markdown table of medians."""
    cfg = stack.StackConfig.from_env(os.environ)
    stack.up(cfg)
    registry = synthetic(stations)
    async with database.fresh(cfg, DB, registry) as dsn:
        zone_ids = [z.id for z in registry.zones]
        await _load(dsn, zone_ids)
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
        try:
            rows = []
            async with pool.acquire() as connection:
                before = await connection.fetch(ZONES_BEFORE, NETWORK, 4.0)
                zones_sql: str = getattr(snapshot, "_ZONES")  # noqa: B009 (the module's private SQL, measured)
                after = await connection.fetch(zones_sql, NETWORK, 4.0)
                if [tuple(r) for r in before] != [tuple(r) for r in after]:
                    raise SystemExit("the zones query's answer changed")
                queries = ("ZONES_BEFORE", "_ZONES", "_OPEN", "_EVENTS", "_STATIONS", "_CHANGED")
                for name in (*queries, "_POINTS"):
                    sql: str = ZONES_BEFORE if name == "ZONES_BEFORE" else getattr(snapshot, name)
                    zones_query = name in {"_ZONES", "ZONES_BEFORE"}
                    args: tuple[object, ...] = (NETWORK, 4.0) if zones_query else (NETWORK,)

                    async def query(sql: str = sql, args: tuple[object, ...] = args) -> None:
                        await connection.fetch(sql, *args)

                    rows.append((f"query `{name}`", await _timed(query, repeat)))
            built: list[snapshot.Snapshot] = []

            async def read() -> None:
                built.append(await snapshot.read_snapshot(pool, NETWORK, 4, len(built) + 1))

            rows.append(("`read_snapshot` (queries + build)", await _timed(read, repeat)))
            snap = built[-1]
            config = ApiConfig(dsn="", network=NETWORK)
            rows.append(
                ("render `/public/zones`", _timed_sync(lambda: public.zones_json(snap), repeat))
            )
            rows.append(
                (
                    "render `/public/alerts.atom`",
                    _timed_sync(lambda: public.feed(snap, config, None), repeat),
                )
            )
            rows.append(
                (
                    "render `/status`",
                    _timed_sync(lambda: status_page.render(snap, "http://x"), repeat),
                )
            )

            def zone_feeds() -> None:
                for zone_id in zone_ids:
                    public.feed(snap, config, zone_id)

            def caps() -> None:
                for alert in snap.alerts:
                    snap.alert(alert.identifier)

            rows.append((f"render all {len(zone_ids)} zone feeds", _timed_sync(zone_feeds, repeat)))
            rows.append((f"look up all {len(snap.alerts)} CAP ids", _timed_sync(caps, repeat)))
        finally:
            await pool.close()
    print(
        f"{stations:,} stations, {len(zone_ids)} zones, {len(snap.alerts)} open alerts;"
        f" median of {repeat} (ms); load average {os.getloadavg()[0]:.2f}"
    )
    print("| step | ms |")
    print("| --- | --- |")
    for label, samples in rows:
        print(f"| {label} | {_ms(samples)} |")
