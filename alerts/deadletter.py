"""Dead letters: outbox messages the dispatcher gave up on, listed and replayed.

A message goes dead on a non-retryable answer (400, 404, 410 …), a redirect, or when it is
still failing after the maximum age. Replaying sets it back to ``pending`` and due now; its
``attempts`` count and ``last_error`` are kept so the history of what failed stays visible.
The dispatcher's per-(subscription, zone) ordering applies again: a replayed message is sent
before newer pending messages of its queue. Used by ``encosta webhooks dead|replay`` and the
ops API; every function takes an asyncpg connection or pool.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from alerts.errors import AlertsError

if TYPE_CHECKING:
    import asyncpg

_COLUMNS = "message_id, subscription_id, alert_id, seq, zone_id, attempts, last_error, created_at"


class DeadLetterError(AlertsError):
    """A message to replay is not a dead letter (``.message_id``)."""

    def __init__(self, message: str, *, message_id: str) -> None:
        super().__init__(message)
        self.message_id = message_id


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One dead outbox message."""

    message_id: str
    subscription_id: int
    alert_id: int | None  # None: a heartbeat, which belongs to no alert
    seq: int | None
    zone_id: str
    attempts: int
    last_error: str | None
    created_at: datetime


async def list_dead(
    db: asyncpg.Connection | asyncpg.Pool, *, subscription: int | None = None, limit: int = 1000
) -> list[DeadLetter]:
    """Dead letters, oldest first, of one subscription or of all."""
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM outbox WHERE status = 'dead'"  # noqa: S608  constant columns
        " AND ($1::bigint IS NULL OR subscription_id = $1) ORDER BY id LIMIT $2",
        subscription,
        limit,
    )
    return [DeadLetter(**dict(row)) for row in rows]


async def replay(db: asyncpg.Connection | asyncpg.Pool, message_id: str) -> str:
    """Set one dead letter back to pending, due now; raise :class:`DeadLetterError` if not dead."""
    replayed = await db.fetchval(
        "UPDATE outbox SET status = 'pending', next_attempt_at = now()"
        " WHERE message_id = $1 AND status = 'dead' RETURNING message_id",
        message_id,
    )
    if replayed is None:
        raise DeadLetterError(
            f"{message_id!r} is not a dead letter: see `encosta webhooks dead`",
            message_id=message_id,
        )
    return message_id


async def replay_all(
    db: asyncpg.Connection | asyncpg.Pool, *, subscription: int | None = None
) -> list[str]:
    """Set every dead letter (of ``subscription``, if given) back to pending; return their ids."""
    rows = await db.fetch(
        "UPDATE outbox SET status = 'pending', next_attempt_at = now()"
        " WHERE status = 'dead' AND ($1::bigint IS NULL OR subscription_id = $1)"
        " RETURNING id, message_id",
        subscription,
    )
    return [row["message_id"] for row in sorted(rows, key=lambda r: r["id"])]
