"""``encosta alerts`` as a process: it takes ownership of its network and exits on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = pytest.mark.services


async def test_sigterm_drains_and_exits_zero(database: Database) -> None:
    """After SIGTERM the service stops both loops and exits 0 within the drain time."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "encosta",
        "alerts",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={
            **os.environ,
            "ENCOSTA_PG_DSN": database.dsn_for("alerts"),
            "ENCOSTA_NETWORK": database.network,
            "ENCOSTA_ALERTS_INTERVAL_S": "0.2",
            "ENCOSTA_ALERTS_DRAIN_S": "3",
            "ENCOSTA_ALERTS_METRICS_PORT": "0",
        },
    )
    assert process.stdout is not None
    try:
        async with asyncio.timeout(20):
            while b"evaluator owns partitions" not in await process.stdout.readline():
                assert process.returncode is None
        async with asyncio.timeout(20):
            query = "SELECT count(*) FROM alerts WHERE kind = 'data'"
            while not await database.fetchval(query):  # noqa: ASYNC110  state is in the DB
                await asyncio.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(10):
            await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0
