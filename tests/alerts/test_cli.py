"""``encosta webhooks add|list|test|remove`` against the real database and a local receiver."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import TYPE_CHECKING

import pytest
import standardwebhooks

from tests.alerts.receiver import LOOPBACK_ENV, Receiver

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = pytest.mark.services


async def encosta(db: Database, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """Run ``encosta webhooks --dsn DSN ARGS`` as encosta_api in a child; return (code, output).

    ``env`` (default: loopback allowed, for the local receivers) is added to the environment.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "encosta",
        "webhooks",
        "--dsn",
        db.dsn_for("api"),
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={
            **os.environ,
            "ENCOSTA_LOG_LEVEL": "WARNING",
            **(LOOPBACK_ENV if env is None else env),
        },
    )
    async with asyncio.timeout(20):
        out, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_webhooks_add_list_test_remove(database: Database) -> None:
    """A subscription can be added, listed, sent a verifiable test message and removed."""
    async with Receiver() as receiver:
        code, out = await encosta(
            database,
            "add",
            receiver.url + "/civil-defence",
            "--min-level",
            "2",
            "--zone",
            "rocinha",
            "--format",
            "cap",
        )
        assert code == 0, out
        secret = out.split("secret ")[1].strip()
        sub_id = out.split()[1]
        code, out = await encosta(database, "list")
        assert code == 0
        assert "level>=alert cap  zones=rocinha" in out  # level 2, by name
        code, out = await encosta(database, "test", sub_id)
        assert code == 0, out
        assert len(receiver.received) == 1
        message = receiver.received[0]
        assert standardwebhooks.Webhook(secret).verify(message.body, message.headers)
        assert (await encosta(database, "remove", sub_id))[0] == 0
    assert await database.fetchval("SELECT count(*) FROM webhook_subscriptions") == 0


async def test_bad_input_exits_2_with_a_message(database: Database) -> None:
    """An unknown zone or subscription id is reported, not a traceback."""
    code, out = await encosta(database, "add", "http://127.0.0.1:9/", "--zone", "atlantis")
    assert code == 2
    assert "unknown zones ['atlantis']" in out
    code, out = await encosta(database, "remove", "999")
    assert code == 2
    assert "no subscription 999" in out


@pytest.mark.timeout(60)
async def test_webhooks_add_heartbeat_and_fallback_flags(database: Database) -> None:
    """--heartbeat and --fallback are stored on the subscription and shown by list."""
    code, out = await encosta(database, "add", "http://127.0.0.1:9/hb", "--heartbeat")
    assert code == 0, out
    code, out = await encosta(database, "add", "http://127.0.0.1:9/fb", "--fallback")
    assert code == 0, out
    code, out = await encosta(database, "add", "http://127.0.0.1:9/plain")
    assert code == 0, out
    rows = await database.fetch(
        "SELECT url, heartbeat, fallback FROM webhook_subscriptions ORDER BY id"
    )
    assert [tuple(r) for r in rows] == [
        ("http://127.0.0.1:9/hb", True, False),
        ("http://127.0.0.1:9/fb", False, True),
        ("http://127.0.0.1:9/plain", False, False),
    ]
    code, out = await encosta(database, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].endswith("http://127.0.0.1:9/hb heartbeat")
    assert lines[1].endswith("http://127.0.0.1:9/fb fallback")
    assert lines[2].endswith("http://127.0.0.1:9/plain")
