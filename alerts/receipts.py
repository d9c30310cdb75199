"""Receipts: a siren controller or broadcaster saying what it did with a message.

``POST /alerts/{id}/receipts/{subscription}`` (:mod:`alerts.api.receipts`) calls
:func:`record`. The device authenticates with its subscription's own receipt token (shown
once by ``encosta webhooks add --audience siren|broadcast``), not the operator token: a box
on a pole or a messaging gateway holds a credential that can do one thing, append a receipt
for the messages it was sent, and a stolen one cannot acknowledge, delete or replay anything.

A receipt belongs to the alert's history (``alert_receipts``, migration 0014, append-only)
next to its transitions, but is not one: it takes no transition number and sends no webhook.
Recording the same (transition, subscription, action) twice keeps the first.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from structlog.contextvars import bound_contextvars

from alerts.audience import RECEIPT_ACTION, Audience
from alerts.errors import AlertsError
from alerts.records import get_alert
from alerts.subscriptions import token_hash

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger("encosta.alerts.receipts")


class ReceiptError(AlertsError):
    """A receipt refused; ``reason`` says why.

    ``token``: not this subscription's receipt token; ``conflict``: the wrong action for the
    audience, or a transition the subscription was never sent.
    """

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Receipt:
    """One recorded receipt."""

    alert_id: int
    seq: int
    subscription_id: int
    action: str
    actor: str
    note: str | None
    at: datetime


def _receipt(row: asyncpg.Record) -> Receipt:
    return Receipt(
        row["alert_id"],
        row["seq"],
        row["subscription_id"],
        row["action"],
        row["actor"],
        row["note"],
        row["at"],
    )


async def authenticate(connection: asyncpg.Connection, subscription_id: int, token: str) -> str:
    """The audience of ``subscription_id`` if ``token`` is its receipt token; else refuse.

    An unknown subscription is refused like a wrong token: the route tells nobody which
    subscriptions exist.
    """
    row = await connection.fetchrow(
        "SELECT audience, ack_token_hash FROM webhook_subscriptions WHERE id = $1",
        subscription_id,
    )
    stored = "" if row is None or row["ack_token_hash"] is None else row["ack_token_hash"]
    if not hmac.compare_digest(token_hash(token).encode(), stored.encode()) or row is None:
        raise ReceiptError(
            f"send Authorization: Bearer <the receipt token of subscription {subscription_id}>",
            reason="token",
        )
    audience: str = row["audience"]
    return audience


async def record(  # noqa: PLR0913  who, what, for which message, why
    connection: asyncpg.Connection,
    network: str,
    alert_id: int,
    subscription_id: int,
    *,
    audience: str,
    action: str,
    by: str,
    note: str | None = None,
    seq: int | None = None,
) -> Receipt:
    """Append a receipt for transition ``seq`` (default: the latest one sent to the device)."""
    expected = RECEIPT_ACTION[Audience(audience)]
    if action != expected:
        raise ReceiptError(
            f"a {audience} subscription records {expected!r}, not {action!r}", reason="conflict"
        )
    await get_alert(connection, network, alert_id)
    sent: int | None = await connection.fetchval(
        "SELECT max(seq) FROM outbox WHERE alert_id = $1 AND subscription_id = $2"
        " AND ($3::integer IS NULL OR seq = $3)",
        alert_id,
        subscription_id,
        seq,
    )
    if sent is None:
        which = "any transition" if seq is None else f"transition #{seq}"
        raise ReceiptError(
            f"subscription {subscription_id} was not sent {which} of alert {alert_id}",
            reason="conflict",
        )
    with bound_contextvars(alert_id=alert_id):
        async with connection.transaction():
            await connection.execute(
                "INSERT INTO alert_receipts (alert_id, seq, subscription_id, action, actor,"
                " note, at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING",
                alert_id,
                sent,
                subscription_id,
                action,
                by,
                note,
                datetime.now(UTC),
            )
            row = await connection.fetchrow(
                "SELECT * FROM alert_receipts WHERE alert_id = $1 AND seq = $2"
                " AND subscription_id = $3 AND action = $4",
                alert_id,
                sent,
                subscription_id,
                action,
            )
        log.info("receipt recorded", extra={"seq": sent, "action": action, "by": by})
    return _receipt(row)


async def alert_receipts(
    connection: asyncpg.Connection | asyncpg.Pool, alert_id: int
) -> list[Receipt]:
    """Every receipt of one alert, oldest first."""
    rows = await connection.fetch(
        "SELECT * FROM alert_receipts WHERE alert_id = $1 ORDER BY at, seq, subscription_id",
        alert_id,
    )
    return [_receipt(r) for r in rows]
