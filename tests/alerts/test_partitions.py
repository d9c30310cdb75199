"""Two ``encosta alerts`` processes share a network's partitions; one dies, the other takes over."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import httpx
import pytest

from alerts.partitions import network_key, partition_of
from alerts.signing import new_secret
from tests.alerts.receiver import LOOPBACK_ENV, Receiver, free_port
from tests.alerts.test_evaluator import fill
from tests.alerts.test_metrics import total

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.conftest import Database

pytestmark = pytest.mark.services

INTERVAL_S = 1.0
OWNERS = (
    "SELECT objid::text::int AS partition, pid FROM pg_locks"
    " WHERE locktype = 'advisory' AND granted AND mode = 'ExclusiveLock' AND objsubid = 2"
    " AND classid = $1::int4::oid AND objid::text::bigint < 4"
)


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Started ``encosta alerts`` processes; killed at teardown."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


def start(db: Database, log: Path, metrics_port: int = 0) -> subprocess.Popen[bytes]:
    """``encosta alerts`` for ``db`` with four partitions, logging to ``log``."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "encosta", "alerts"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "ENCOSTA_PG_DSN": db.dsn_for("alerts"),
                "ENCOSTA_NETWORK": db.network,
                "ENCOSTA_ALERTS_INTERVAL_S": str(INTERVAL_S),
                "ENCOSTA_ALERTS_PARTITIONS": "4",
                "ENCOSTA_ALERTS_DISPATCH_INTERVAL_S": "0.2",
                "ENCOSTA_ALERTS_HEARTBEAT_S": "0",
                "ENCOSTA_ALERTS_METRICS_PORT": str(metrics_port),  # two processes: not shared
                **LOOPBACK_ENV,
            },
        )


async def evaluations(port: int) -> float:
    """How many evaluation cycles the process serving ``/metrics`` on ``port`` has run."""
    async with httpx.AsyncClient(timeout=5) as client:
        response = await client.get(f"http://127.0.0.1:{port}/metrics")
    return total(response.text, "encosta_alerts_evaluation_seconds_count")


async def owners(db: Database) -> dict[int, list[int]]:
    """Backend pids holding each partition lock of ``db``'s network."""
    held: dict[int, list[int]] = {}
    for row in await db.fetch(OWNERS, network_key(db.network)):
        held.setdefault(row["partition"], []).append(row["pid"])
    return held


def holders(held: dict[int, list[int]]) -> int:
    """How many sessions hold the partitions (0 unless all four are held)."""
    return len({p for pids in held.values() for p in pids}) if len(held) == 4 else 0


async def until(condition_sql: str, db: Database, expected: object, limit_s: float) -> None:
    """Poll ``condition_sql`` until it returns ``expected`` (at most ``limit_s``)."""
    async with asyncio.timeout(limit_s):
        while await db.fetchval(condition_sql) != expected:  # noqa: ASYNC110  DB state
            await asyncio.sleep(0.1)


async def rain(db: Database, mm_per_15min: float, since: datetime) -> None:
    """Set every rain reading after ``since`` to ``mm_per_15min`` at every station."""
    await db.fetchval(
        "UPDATE readings SET value = $1 WHERE quantity = 'rain_mm' AND ts > $2",
        mm_per_15min,
        since,
    )
    await db.fetchval("SELECT encosta_refresh_rollup()")  # not via ingest


async def test_two_processes_share_partitions_and_survive_kill(
    database: Database, processes: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """Each partition has one owner; raises and escalations are recorded and sent once."""
    now = datetime.now(UTC)
    zones = [r["id"] for r in await database.fetch("SELECT id FROM zones ORDER BY id")]
    for zone in zones:
        await fill(database, zone, now)
    assert len({partition_of(z, 4) for z in zones}) > 1  # the test spans several partitions
    async with Receiver() as receiver:
        await database.fetchval(
            "INSERT INTO webhook_subscriptions (url, secret, min_level) VALUES ($1, $2, 1)",
            receiver.url,
            new_secret(),
        )
        ports = [free_port() for _ in range(2)]
        processes += [start(database, tmp_path / f"alerts-{i}.log", ports[i]) for i in range(2)]
        async with asyncio.timeout(60):  # patience for a loaded machine, not a requirement
            while True:
                held = await owners(database)
                if holders(held) == 2:
                    break
                await asyncio.sleep(0.1)
        assert all(len(pids) == 1 for pids in held.values())

        await rain(database, 3.0, now - timedelta(hours=1))  # ~12 mm/h: raise below crisis
        raised = "SELECT count(*) FROM alert_events WHERE transition = 'raised'"
        await until(raised, database, len(zones), 60)

        processes[0].send_signal(signal.SIGKILL)
        processes[0].wait(timeout=10)
        # Counted in the survivor's own evaluation cycles, not in seconds, so that a loaded
        # machine's slow cycles do not fail the test: the dead session's locks are free at
        # once, and the survivor takes them at its next rebalance (one per cycle), or the one
        # after if the first came before the server noticed the death. The last cycle counted
        # may run between the takeover and our look at the locks.
        cycles_at_kill = await evaluations(ports[1])
        async with asyncio.timeout(60):  # patience for a loaded machine, not a requirement
            while holders(await owners(database)) != 1:  # noqa: ASYNC110  DB state
                await asyncio.sleep(0.05)
        cycles = await evaluations(ports[1]) - cycles_at_kill
        assert cycles <= 3, f"takeover after {cycles} of the survivor's cycles"

        below = await database.fetchval(
            "SELECT count(*) FROM alerts WHERE kind = 'risk' AND level < 3"
        )
        assert below > 0  # so the escalations below are real
        await rain(database, 20.0, now - timedelta(hours=1))  # 80 mm/h: crisis everywhere
        await until(
            "SELECT count(*) FROM alerts WHERE kind = 'risk' AND level = 3",
            database,
            len(zones),
            60,
        )
        await until("SELECT count(*) FROM outbox WHERE status <> 'delivered'", database, 0, 60)
    events = await database.fetch(
        "SELECT a.zone_id, e.transition FROM alert_events e JOIN alerts a ON a.id = e.alert_id"
        " WHERE a.kind = 'risk'"
    )
    per_zone = Counter((e["zone_id"], e["transition"]) for e in events)
    assert {z for z, t in per_zone if t == "raised"} == set(zones)
    assert all(n == 1 for n in per_zone.values()), per_zone
    assert sum(1 for _, t in per_zone if t == "escalated") == below
    assert await database.fetchval("SELECT count(*) FROM alerts WHERE kind = 'risk'") == len(zones)
    outbox = await database.fetchval("SELECT count(*) FROM outbox")
    assert outbox == await database.fetchval("SELECT count(*) FROM alert_events")
    bodies = {m.headers["webhook-id"]: json.loads(m.body) for m in receiver.received}
    assert len(bodies) == outbox  # every message arrived; duplicates share a webhook-id
    kinds = Counter((b["data"]["zone"]["id"], b["type"]) for b in bodies.values())
    assert all(kinds[(z, "alert.raised")] == 1 for z in zones)
