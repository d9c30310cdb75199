"""Context bound per zone and alert reaches the log lines of the real code paths."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

import asyncpg
import pytest
import structlog

from alerts import records
from alerts.signing import new_secret
from encosta import logs
from tests.alerts.receiver import Receiver
from tests.alerts.test_api import raise_alert
from tests.alerts.test_dispatcher import fast, queue, run_dispatcher

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Logging as the services configure it (JSON), into a buffer; restored after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    out = io.StringIO()
    logs.configure("INFO", json_logs=True, stream=out)
    yield out
    root.handlers[:], level = saved
    root.setLevel(level)
    structlog.reset_defaults()


def entries(out: io.StringIO, msg: str) -> list[dict[str, object]]:
    """The JSON log entries whose message is ``msg``."""
    found = [json.loads(line) for line in out.getvalue().splitlines()]
    return [e for e in found if e.get("msg") == msg]


async def test_a_dead_letter_is_logged_with_its_zone_and_alert(
    database: Database, json_lines: io.StringIO
) -> None:
    """The dispatcher binds the message's zone and alert id around its delivery."""
    async with Receiver(respond=lambda _: (410, {})) as receiver:
        await queue(database, receiver.url, new_secret(), 1)
        await run_dispatcher(database, fast(database), "SELECT status FROM outbox", "dead")
    alert = await database.fetchval("SELECT alert_id FROM outbox")
    (entry,) = entries(json_lines, "webhook dead-lettered")
    assert entry["zone"] == "rocinha"
    assert entry["alert_id"] == alert
    assert entry["level"] == "warning"


async def test_an_acknowledgement_is_logged_with_its_zone_and_alert(
    database: Database, json_lines: io.StringIO
) -> None:
    """``alerts.records.acknowledge`` (API and CLI) binds the alert id and zone."""
    alert = await raise_alert(database, "vidigal", 2)
    connection = await asyncpg.connect(database.dsn_for("api"))
    try:
        await records.acknowledge(connection, database.network, alert, "duty-1", "seen")
    finally:
        await connection.close()
    (entry,) = entries(json_lines, "alert acknowledged")
    assert entry["zone"] == "vidigal"
    assert entry["alert_id"] == alert
    assert entry["by"] == "duty-1"
