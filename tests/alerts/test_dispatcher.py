"""Webhook delivery: Standard Webhooks signatures, retries, ordering and dead letters."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING

import pytest
import standardwebhooks

from alerts.config import DispatchConfig
from alerts.dispatcher import WebhookDispatcher
from alerts.signing import new_secret
from tests.alerts.receiver import LOOPBACK, HangingReceiver, Receiver

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = pytest.mark.services


def fast(db: Database, **overrides: float) -> DispatchConfig:
    """Dispatcher settings with short backoff for tests."""
    settings: dict[str, float] = {
        "interval_s": 0.02,
        "backoff_base_s": 0.05,
        "backoff_max_s": 0.2,
        "timeout_s": 2.0,
    }
    settings.update(overrides)
    # The receivers are on loopback, which the default policy refuses: allowed explicitly.
    return DispatchConfig(dsn=db.dsn_for("alerts"), destinations=LOOPBACK, **settings)  # type: ignore[arg-type]


async def queue(
    db: Database, url: str, secret: str, messages: int, zone: str = "rocinha"
) -> list[str]:
    """A subscription to ``url`` and ``messages`` transitions of one alert in its outbox."""
    sub = await db.fetchval(
        "INSERT INTO webhook_subscriptions (url, secret) VALUES ($1, $2) RETURNING id", url, secret
    )
    alert = await db.fetchval(
        "INSERT INTO alerts (network, zone_id, kind, level, raised_at, updated_at)"
        " VALUES ($1, $2, 'risk', 1, now(), now()) RETURNING id",
        db.network,
        zone,
    )
    ids = []
    for seq in range(1, messages + 1):
        message_id = f"msg_{alert}_{seq}_{sub}"
        await db.fetchval(
            "INSERT INTO outbox (message_id, subscription_id, alert_id, seq, zone_id,"
            " content_type, payload) VALUES ($1, $2, $3, $4, $5, 'application/json', $6)",
            message_id,
            sub,
            alert,
            seq,
            zone,
            json.dumps({"seq": seq}),
        )
        ids.append(message_id)
    return ids


async def until(db: Database, sql: str, expected: object) -> None:
    """Poll ``sql`` until it returns ``expected`` (at most 15 s)."""
    async with asyncio.timeout(15):
        while await db.fetchval(sql) != expected:  # noqa: ASYNC110  the state is in the database
            await asyncio.sleep(0.02)


async def run_dispatcher(
    db: Database, config: DispatchConfig, done_sql: str, expected: object
) -> None:
    """Run a dispatcher in a task group until ``done_sql`` returns ``expected``, then stop it."""
    async with WebhookDispatcher(config) as dispatcher, asyncio.TaskGroup() as tg:
        tg.create_task(dispatcher.run(), name="dispatcher-under-test")
        try:
            await until(db, done_sql, expected)
        finally:
            dispatcher.stop()


async def test_messages_are_signed_per_standard_webhooks(database: Database) -> None:
    """The standardwebhooks library verifies every delivered message's signature."""
    secret = new_secret()
    async with Receiver() as receiver:
        ids = await queue(database, receiver.url + "/hook", secret, 3)
        await run_dispatcher(
            database, fast(database), "SELECT count(*) FROM outbox WHERE status = 'delivered'", 3
        )
    verifier = standardwebhooks.Webhook(secret)
    for message in receiver.received:
        assert verifier.verify(message.body, message.headers) is not None
    assert [m.headers["webhook-id"] for m in receiver.received] == ids
    assert receiver.received[0].headers["content-type"] == "application/json"


async def test_receiver_down_then_back_gets_each_message_once_in_order(
    database: Database,
) -> None:
    """Messages queued while the receiver is down all arrive once, in order, when it is back."""
    receiver = Receiver()
    ids = await queue(database, receiver.url, new_secret(), 5)
    async with WebhookDispatcher(fast(database)) as dispatcher, asyncio.TaskGroup() as tg:
        tg.create_task(dispatcher.run(), name="dispatcher-under-test")
        try:
            await until(database, "SELECT max(attempts) >= 3 FROM outbox", expected=True)
            assert (
                await database.fetchval("SELECT count(*) FROM outbox WHERE attempts > 0") == 1
            )  # only the queue head
            async with receiver:
                await until(database, "SELECT count(*) FROM outbox WHERE status = 'delivered'", 5)
        finally:
            dispatcher.stop()
    assert [m.headers["webhook-id"] for m in receiver.received] == ids


async def test_retryable_statuses_are_retried_and_gone_is_dead(database: Database) -> None:
    """503 and 429 (with Retry-After) are retried; 410 dead-letters without retry."""
    answers = [(503, {}), (429, {"retry-after": "0"}), (204, {}), (410, {}), (204, {})]
    async with Receiver(respond=lambda n: answers[n]) as receiver:
        ids = await queue(database, receiver.url, new_secret(), 3)
        await run_dispatcher(
            database, fast(database), "SELECT count(*) FROM outbox WHERE status <> 'pending'", 3
        )
    statuses = await database.fetch(
        "SELECT message_id, status, attempts, last_error FROM outbox ORDER BY id"
    )
    assert [(r["status"], r["attempts"]) for r in statuses] == [
        ("delivered", 3),
        ("dead", 1),
        ("delivered", 1),
    ]
    assert statuses[1]["last_error"] == "HTTP 410"
    assert [m.headers["webhook-id"] for m in receiver.received] == [ids[0]] * 3 + ids[1:]


async def test_message_older_than_max_age_goes_dead(database: Database) -> None:
    """A retryable failure of a message past the maximum age dead-letters it."""
    async with Receiver(respond=lambda _: (500, {})) as receiver:
        await queue(database, receiver.url, new_secret(), 1)
        await database.fetchval("UPDATE outbox SET created_at = now() - interval '2 hours'")
        await run_dispatcher(
            database, fast(database, max_age_s=3600), "SELECT status FROM outbox", "dead"
        )
    assert len(receiver.received) == 1


async def listener_pid(db: Database) -> int | None:
    """The backend pid of the dispatcher's LISTEN session, if one is connected."""
    pid: int | None = await db.fetchval(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'encosta-outbox-listener'"
        " AND datname = current_database()"
    )
    return pid


@pytest.mark.timeout(60)
async def test_listener_reconnects_after_its_backend_is_terminated(database: Database) -> None:
    """A terminated LISTEN session is replaced, and a NOTIFY, not polling, still wakes delivery."""
    async with Receiver() as receiver:
        sub_url = receiver.url + "/hook"
        await queue(database, sub_url, new_secret(), 0)
        # No poll while the test runs: a delivery can only come from the NOTIFY.
        config = fast(database, interval_s=3600.0)
        async with WebhookDispatcher(config) as dispatcher, asyncio.TaskGroup() as tg:
            tg.create_task(dispatcher.run(), name="dispatcher-under-test")
            try:
                first = await listener_pid(database)
                assert first is not None
                await asyncio.sleep(0.2)  # the dispatcher is idle, waiting for a NOTIFY
                await database.fetchval("SELECT pg_terminate_backend($1)", first)
                async with asyncio.timeout(10):
                    while (second := await listener_pid(database)) in {None, first}:  # noqa: ASYNC110  state is in the DB
                        await asyncio.sleep(0.05)
                await asyncio.sleep(0.5)  # the wake-up after reconnecting has been spent
                sub = await database.fetchval("SELECT id FROM webhook_subscriptions")
                alert = await database.fetchval("SELECT id FROM alerts")
                await database.fetchval(
                    "INSERT INTO outbox (message_id, subscription_id, alert_id, seq, zone_id,"
                    " content_type, payload) VALUES ('msg_after', $1, $2, 1, 'rocinha',"
                    " 'application/json', '{}')",
                    sub,
                    alert,
                )
                await database.fetchval("NOTIFY encosta_outbox")
                async with asyncio.timeout(30):  # patience for a loaded machine, not a bound
                    while not receiver.received:  # noqa: ASYNC110  the receiver records requests
                        await asyncio.sleep(0.02)
            finally:
                dispatcher.stop()
    assert second != first
    assert [m.headers["webhook-id"] for m in receiver.received] == ["msg_after"]


async def test_slow_and_dead_receivers_do_not_delay_the_others(database: Database) -> None:
    """A receiver that hangs and one that refuses connections leave a healthy one unaffected.

    The hanging delivery does not end while the test runs (its timeout is an hour), and the
    healthy messages are queued only once it hangs: they arrive only if nothing waits for it.
    """
    dead_url = Receiver().url + "/hook"  # nothing listens there
    async with HangingReceiver() as slow, Receiver() as healthy:
        await queue(database, slow.url, new_secret(), 3, zone="vidigal")
        await queue(database, dead_url, new_secret(), 3, zone="borel")
        config = fast(database, timeout_s=3600.0)
        async with WebhookDispatcher(config) as dispatcher, asyncio.TaskGroup() as tg:
            tg.create_task(dispatcher.run(), name="dispatcher-under-test")
            try:
                async with asyncio.timeout(30):  # patience for a loaded machine, not a bound
                    await slow.hung.wait()
                    ids = await queue(database, healthy.url + "/hook", new_secret(), 3)
                    while len(healthy.received) < 3:  # noqa: ASYNC110  receiver state
                        await asyncio.sleep(0.02)
                still_hung = slow.held >= 1 and not slow.received
            finally:
                dispatcher.stop()
                slow.release()  # the hung delivery ends, so the dispatcher can drain
    assert [m.headers["webhook-id"] for m in healthy.received] == ids
    assert still_hung, "the healthy messages arrived only after the hanging one ended"
