"""Outbox claims after a dispatcher is killed (kill -9) or frozen (SIGSTOP), with real processes.

A dispatcher in its own ``encosta alerts`` process claims a crisis message for a receiver that
hangs; it is then killed or frozen, the receiver is healed, and another dispatcher must
deliver the message without waiting out a lease. Latency figures are measured by
``bench/alerts.py --claims`` (docs/reliability.md, "Alerts and the API"), not asserted here.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from alerts.config import DispatchConfig
from alerts.dispatcher import WebhookDispatcher
from alerts.errors import ConfigError
from alerts.signing import new_secret
from tests.alerts.receiver import LOOPBACK_ENV, HangingReceiver
from tests.alerts.test_dispatcher import fast

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import Database

pytestmark = [pytest.mark.timeout(120)]

CLAIMED = "SELECT claimed_by FROM outbox WHERE message_id = $1"


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Started ``encosta alerts`` processes; killed (and continued, if stopped) at teardown."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.kill()
            process.wait(timeout=10)


def start_alerts(db: Database, log: Path, **env: str) -> subprocess.Popen[bytes]:
    """``encosta alerts`` for ``db`` (long HTTP timeout: a hung delivery stays in flight)."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "encosta", "alerts"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "ENCOSTA_PG_DSN": db.dsn,
                "ENCOSTA_NETWORK": db.network,
                "ENCOSTA_ALERTS_DISPATCH_INTERVAL_S": "0.1",
                "ENCOSTA_ALERTS_TIMEOUT_S": "120",
                "ENCOSTA_ALERTS_HEARTBEAT_S": "0",
                "ENCOSTA_ALERTS_METRICS_PORT": "0",
                **LOOPBACK_ENV,
                **env,
            },
        )


async def crisis(db: Database, url: str) -> str:
    """A crisis escalation queued for a subscription to ``url`` (crisis only: min level 3)."""
    sub = await db.fetchval(
        "INSERT INTO webhook_subscriptions (url, secret, min_level, zones)"
        " VALUES ($1, $2, 3, '{rocinha}') RETURNING id",
        url,
        new_secret(),
    )
    alert = await db.fetchval(
        "INSERT INTO alerts (network, zone_id, kind, level, raised_at, updated_at)"
        " VALUES ($1, 'rocinha', 'risk', 3, now(), now()) RETURNING id",
        db.network,
    )
    message_id = f"msg_{alert}_2_{sub}"
    await db.fetchval(
        "INSERT INTO outbox (message_id, subscription_id, alert_id, seq, zone_id, content_type,"
        " payload) VALUES ($1, $2, $3, 2, 'rocinha', 'application/json', $4)",
        message_id,
        sub,
        alert,
        json.dumps({"type": "alert.escalated", "level": 3}),
    )
    return message_id


async def claimed_and_hung(db: Database, receiver: HangingReceiver, message_id: str) -> int:
    """Wait until a dispatcher has claimed ``message_id`` and its POST hangs; the claimer id."""
    async with asyncio.timeout(60):  # a process start on a loaded machine
        await receiver.hung.wait()
        while (owner := await db.fetchval(CLAIMED, message_id)) is None:  # noqa: ASYNC110  DB state
            await asyncio.sleep(0.05)
    return int(owner)


@pytest.mark.services
async def test_kill_9_releases_the_claim_for_the_next_dispatcher(
    database: Database, processes: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """A message claimed by a dispatcher killed with -9 is delivered by the next one, once."""
    async with HangingReceiver() as receiver:
        message_id = await crisis(database, receiver.url)
        processes.append(start_alerts(database, tmp_path / "a.log"))
        first = await claimed_and_hung(database, receiver, message_id)
        processes[0].send_signal(signal.SIGKILL)
        processes[0].wait(timeout=10)
        receiver.heal()
        # The claim still names the dead dispatcher and next_attempt_at was not pushed ahead:
        # only its session's end frees it.
        assert await database.fetchval(CLAIMED, message_id) == first
        config = replace(fast(database), timeout_s=5.0)
        async with WebhookDispatcher(config) as second, asyncio.TaskGroup() as tg:
            tg.create_task(second.run(), name="second-dispatcher")
            try:
                async with asyncio.timeout(60):
                    await receiver.arrived.wait()
                    while (  # noqa: ASYNC110  DB state
                        await database.fetchval(
                            "SELECT status FROM outbox WHERE message_id = $1", message_id
                        )
                        != "delivered"
                    ):
                        await asyncio.sleep(0.05)
            finally:
                second.stop()
        assert second.owner_id != first
    assert receiver.received == [message_id]
    row = await database.fetch(
        "SELECT attempts, claimed_by FROM outbox WHERE message_id = $1", message_id
    )
    assert (row[0]["attempts"], row[0]["claimed_by"]) == (2, None)


@pytest.mark.services
async def test_live_dispatcher_keeps_its_claim(database: Database) -> None:
    """While its claimer lives and renews, another dispatcher leaves an in-flight row alone."""
    async with HangingReceiver() as receiver:
        message_id = await crisis(database, receiver.url)
        config = replace(fast(database), timeout_s=60.0, claim_stale_s=2.0)
        async with WebhookDispatcher(config) as one, asyncio.TaskGroup() as tg:
            tg.create_task(one.run(), name="first-dispatcher")
            first = await claimed_and_hung(database, receiver, message_id)
            async with WebhookDispatcher(config) as two:
                tg.create_task(two.run(), name="second-dispatcher")
                # Past the stale time, many scans of the second dispatcher later:
                await asyncio.sleep(3 * config.claim_stale_s)
                still = await database.fetchval(CLAIMED, message_id)
                held = receiver.held
                two.stop()
                receiver.release()
                one.stop()
    assert first == one.owner_id
    assert still == first
    assert held == 1  # one POST in flight, not two


@pytest.mark.services
async def test_frozen_dispatcher_claim_is_taken_over_and_fenced(
    database: Database, processes: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """SIGSTOP: its claim is taken after the stale time; once thawed it overwrites nothing."""
    async with HangingReceiver() as receiver:
        message_id = await crisis(database, receiver.url)
        log = tmp_path / "a.log"
        processes.append(start_alerts(database, log, ENCOSTA_ALERTS_CLAIM_STALE_S="2"))
        first = await claimed_and_hung(database, receiver, message_id)
        processes[0].send_signal(signal.SIGSTOP)
        receiver.heal()
        config = replace(fast(database), timeout_s=5.0, claim_stale_s=2.0)
        async with WebhookDispatcher(config) as second, asyncio.TaskGroup() as tg:
            tg.create_task(second.run(), name="second-dispatcher")
            try:
                async with asyncio.timeout(60):
                    await receiver.arrived.wait()
                    status = "SELECT status FROM outbox WHERE message_id = $1"
                    while await database.fetchval(status, message_id) != "delivered":  # noqa: ASYNC110
                        await asyncio.sleep(0.05)
                # Thaw the frozen one and drop its hung request: it fails, and the outcome it
                # tries to record (a retry) must not undo the delivery.
                processes[0].send_signal(signal.SIGCONT)
                receiver.release()
                async with asyncio.timeout(30):
                    while "heartbeat gap" not in log.read_text(errors="replace"):  # noqa: ASYNC110
                        await asyncio.sleep(0.1)
                await asyncio.sleep(1.0)  # its failed POST is recorded (fenced) by now
            finally:
                second.stop()
    assert processes[0].poll() is None  # thawed, alive
    assert receiver.received == [message_id]
    row = await database.fetch(
        "SELECT status, claimed_by, last_error FROM outbox WHERE message_id = $1", message_id
    )
    assert (row[0]["status"], row[0]["claimed_by"], row[0]["last_error"]) == (
        "delivered",
        None,
        None,
    )
    assert second.owner_id != first


def test_claim_settings_from_env() -> None:
    """ENCOSTA_ALERTS_CLAIM_STALE_S defaults to 10 s; the lease stays a backstop of 60 s+."""
    default = DispatchConfig.from_env({})
    assert (default.claim_stale_s, default.lease_s) == (10.0, 60.0)
    assert DispatchConfig.from_env({"ENCOSTA_ALERTS_CLAIM_STALE_S": "3"}).claim_stale_s == 3.0
    with pytest.raises(ConfigError, match="ENCOSTA_ALERTS_CLAIM_STALE_S"):
        DispatchConfig.from_env({"ENCOSTA_ALERTS_CLAIM_STALE_S": "0.1"})
