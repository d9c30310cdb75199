"""Dead letters: a gone receiver dead-letters a message; after a fix, a replay delivers it once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg
import pytest

from alerts import deadletter
from alerts.signing import new_secret
from tests.alerts.receiver import Receiver
from tests.alerts.test_cli import encosta
from tests.alerts.test_dispatcher import fast, queue, run_dispatcher

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]


async def test_gone_receiver_fixed_then_replayed_gets_the_message_once(
    database: Database,
) -> None:
    """410 dead-letters at once; `encosta webhooks replay ID` after the fix delivers it once."""
    gone = True
    async with Receiver(respond=lambda _: (410, {}) if gone else (204, {})) as receiver:
        (message_id,) = await queue(database, receiver.url, new_secret(), 1)
        done = "SELECT status FROM outbox"
        await run_dispatcher(database, fast(database), done, "dead")
        code, out = await encosta(database, "dead")
        assert code == 0, out
        assert message_id in out
        assert "attempts=1 HTTP 410" in out
        gone = False
        code, out = await encosta(database, "replay", message_id)
        assert (code, out.strip()) == (0, f"replayed {message_id}")
        await run_dispatcher(database, fast(database), done, "delivered")
    assert [(m.headers["webhook-id"], m.status) for m in receiver.received] == [
        (message_id, 410),
        (message_id, 204),
    ]
    row = await database.fetch("SELECT attempts, last_error FROM outbox")
    assert [tuple(r) for r in row] == [(2, None)]
    assert (await encosta(database, "dead"))[1] == ""


async def test_replay_by_subscription_and_errors(database: Database) -> None:
    """Replay by subscription touches only its letters; a message that is not dead is an error."""
    ids = await queue(database, "http://127.0.0.1:9/", new_secret(), 3)
    zone = next(z.id for z in database.registry.zones if z.id != "rocinha")
    other = await queue(database, "http://127.0.0.1:9/other", new_secret(), 1, zone=zone)
    await database.fetchval("UPDATE outbox SET status = 'dead', last_error = 'HTTP 404'")
    await database.fetchval("UPDATE outbox SET status = 'delivered' WHERE message_id = $1", ids[2])
    subscription = await database.fetchval(
        "SELECT subscription_id FROM outbox WHERE message_id = $1", ids[0]
    )
    code, out = await encosta(database, "replay", "--subscription", str(subscription))
    assert (code, out.split()) == (0, ["replayed", ids[0], "replayed", ids[1]])
    connection = await asyncpg.connect(database.dsn_for("api"))
    try:
        assert [d.message_id for d in await deadletter.list_dead(connection)] == other
        with pytest.raises(deadletter.DeadLetterError, match="not a dead letter"):
            await deadletter.replay(connection, ids[2])
    finally:
        await connection.close()
    code, out = await encosta(database, "replay", ids[2])
    assert code == 2
    assert "is not a dead letter" in out
    assert (await encosta(database, "replay"))[0] == 2
