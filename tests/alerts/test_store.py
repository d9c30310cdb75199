"""Transitions under concurrency, acknowledgement, and the full history of an episode."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

import asyncpg
import pytest

from alerts.errors import AlertsError
from alerts.store import Proposal, acknowledge, apply

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = pytest.mark.services

T0 = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)
HOLD = timedelta(minutes=60)


def proposal(level: int) -> Proposal:
    """A risk proposal for Rocinha at ``level``."""
    return Proposal(
        "rocinha", "Rocinha", "risk", level, unknown=False, evidence={"model_version": "test"}
    )


async def test_concurrent_raises_open_one_alert(database: Database) -> None:
    """Eight evaluations racing to raise the same zone leave one alert and one event."""
    connections = [await asyncpg.connect(database.dsn_for("alerts")) for _ in range(8)]
    try:
        results = await asyncio.gather(
            *(apply(c, database.network, proposal(2), T0, HOLD) for c in connections),
            return_exceptions=True,
        )
    finally:
        for connection in connections:
            await connection.close()
    raised = [r for r in results if not isinstance(r, BaseException) and r.transition]
    assert len(raised) >= 1
    assert all(
        isinstance(r, asyncpg.UniqueViolationError) for r in results if isinstance(r, BaseException)
    )
    assert await database.fetchval("SELECT count(*) FROM alerts") == 1
    assert await database.fetchval("SELECT count(*) FROM alert_events") == 1


async def test_episode_history_and_acknowledgement(database: Database) -> None:
    """Raise, acknowledge (once), escalate and clear produce numbered, ordered events."""
    await database.fetchval(
        "INSERT INTO webhook_subscriptions (url, secret, min_level)"
        " VALUES ('http://127.0.0.1:9/', 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=', 2)"
    )
    # the evaluator's role applies proposals, the API's acknowledges
    connection = await asyncpg.connect(database.dsn_for("alerts"))
    operator = await asyncpg.connect(database.dsn_for("api"))
    try:
        await apply(connection, database.network, proposal(2), T0, HOLD)
        alert = await connection.fetchval("SELECT id FROM alerts")
        assert await acknowledge(operator, alert, "duty-officer", T0) == 2
        assert await acknowledge(operator, alert, "someone-else", T0) == 2
        await apply(connection, database.network, proposal(3), T0 + HOLD / 4, HOLD)
        await apply(connection, database.network, proposal(0), T0 + HOLD / 2, HOLD)
        await apply(connection, database.network, proposal(0), T0 + 2 * HOLD, HOLD)
        with pytest.raises(AlertsError, match="not open"):
            await acknowledge(operator, alert, "duty-officer", T0 + 3 * HOLD)
    finally:
        await connection.close()
        await operator.close()
    events = await database.fetch(
        "SELECT seq, transition, from_level, to_level, actor FROM alert_events ORDER BY seq"
    )
    assert [tuple(e) for e in events] == [
        (1, "raised", 0, 2, None),
        (2, "acknowledged", 2, 2, "duty-officer"),
        (3, "escalated", 2, 3, None),
        (4, "cleared", 3, 0, None),
    ]
    assert await database.fetchval("SELECT status FROM alerts") == "cleared"
    outbox = await database.fetch("SELECT seq FROM outbox ORDER BY id")
    assert [r["seq"] for r in outbox] == [1, 2, 3, 4]


@pytest.mark.timeout(60)
async def test_acknowledgement_note_is_stored_and_sent(database: Database) -> None:
    """The note is kept on the acknowledged event and carried by its JSON and CAP messages."""
    for fmt in ("json", "cap"):
        await database.fetchval(
            "INSERT INTO webhook_subscriptions (url, secret, format)"
            " VALUES ('http://127.0.0.1:9/', 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=', $1)",
            fmt,
        )
    connection = await asyncpg.connect(database.dsn_for("alerts"))
    operator = await asyncpg.connect(database.dsn_for("api"))
    try:
        await apply(connection, database.network, proposal(2), T0, HOLD)
        alert = await connection.fetchval("SELECT id FROM alerts")
        note = "teams on the way & sirens on"
        assert await acknowledge(operator, alert, "duty-officer", T0, note=note) == 2
        assert await acknowledge(operator, alert, "other", T0, note="ignored") == 2
    finally:
        await connection.close()
        await operator.close()
    notes = await database.fetch("SELECT seq, note FROM alert_events ORDER BY seq")
    assert [tuple(r) for r in notes] == [(1, None), (2, note)]
    rows = await database.fetch(
        "SELECT o.payload, s.format FROM outbox o JOIN webhook_subscriptions s"
        " ON s.id = o.subscription_id WHERE o.seq = 2 ORDER BY s.id"
    )
    body = json.loads(rows[0]["payload"])
    assert (body["type"], body["data"]["note"]) == ("alert.acknowledged", note)
    cap = ET.fromstring(rows[1]["payload"])
    assert cap.findtext("{urn:oasis:names:tc:emergency:cap:1.2}note") == note
    raised = await database.fetchval("SELECT payload FROM outbox WHERE seq = 1 LIMIT 1")
    assert "note" not in json.loads(raised)["data"]
