"""Webhook subscriptions: add, list, remove, and send a signed test message."""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import asyncpg

from alerts.audience import Audience
from alerts.destinations import Destinations
from alerts.errors import DestinationError, SubscriptionError
from alerts.sender import post, webhook_client
from alerts.signing import new_secret, secret_key

if TYPE_CHECKING:
    from alerts.config import DispatchConfig


@dataclass(frozen=True, slots=True)
class Subscription:
    """One webhook subscription (``zones`` None: every zone).

    ``heartbeat``: also receives the periodic ``encosta.heartbeat``; ``fallback``: receives
    only ``alert.unacknowledged`` escalations (docs/alerts.md "Fallback escalation").
    """

    id: int
    url: str
    secret: str
    min_level: int
    zones: tuple[str, ...] | None
    format: str
    enabled: bool
    heartbeat: bool = False
    fallback: bool = False
    audience: str = Audience.FULL
    # A siren's or broadcaster's receipt token: set only on the value :func:`add` returns
    # (the database keeps its hash, :func:`token_hash`).
    receipt_token: str | None = None


RECEIPT_TOKEN_PREFIX = "encr_"  # noqa: S105  a prefix, not a secret


def new_receipt_token() -> str:
    """A fresh random receipt token (32 bytes, URL-safe)."""
    return RECEIPT_TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the database keeps of a receipt token: its SHA-256, hex.

    A plain hash suffices (no salt, no stretching): the token is 256 random bits, not a
    password a dictionary could guess.
    """
    return hashlib.sha256(token.encode()).hexdigest()


def _from_row(row: asyncpg.Record) -> Subscription:
    zones = None if row["zones"] is None else tuple(row["zones"])
    return Subscription(
        row["id"],
        row["url"],
        row["secret"],
        row["min_level"],
        zones,
        row["format"],
        row["enabled"],
        row["heartbeat"],
        row["fallback"],
        row["audience"],
    )


async def add(  # noqa: PLR0913  one keyword per subscription field
    dsn: str,
    url: str,
    *,
    secret: str | None = None,
    min_level: int = 1,
    zones: list[str] | None = None,
    fmt: str = "json",
    heartbeat: bool = False,
    fallback: bool = False,
    audience: str = Audience.FULL,
    destinations: Destinations | None = None,
) -> Subscription:
    """Create a subscription (a fresh secret unless one is given); validate before writing.

    The URL must pass ``destinations`` (default: the strict policy, public addresses only).
    A ``siren`` or ``broadcast`` subscription is JSON, never a fallback, and gets a receipt
    token (returned here once, on ``receipt_token``).
    """
    try:
        await (destinations or Destinations()).check_url(url)
    except DestinationError as exc:
        raise SubscriptionError(str(exc)) from exc
    if fmt not in {"json", "cap"}:
        raise SubscriptionError(f"format {fmt!r}: use json or cap")
    if not 0 <= min_level <= 3:
        raise SubscriptionError(f"min level {min_level}: use 0..3")
    if audience not in set(Audience):
        raise SubscriptionError(f"audience {audience!r}: use full, siren or broadcast")
    token = None
    if audience != Audience.FULL:
        if fmt != "json" or fallback:
            raise SubscriptionError(
                f"a {audience} subscription is JSON and not a fallback: drop --format cap"
                " and --fallback"
            )
        token = new_receipt_token()
    secret = secret or new_secret()
    secret_key(secret)
    connection = await asyncpg.connect(dsn)
    try:
        if zones:
            known = {
                r["id"]
                for r in await connection.fetch(
                    "SELECT id FROM zones WHERE id = ANY($1::text[])", zones
                )
            }
            if missing := sorted(set(zones) - known):
                raise SubscriptionError(f"unknown zones {missing}: see the zones table")
        row = await connection.fetchrow(
            "INSERT INTO webhook_subscriptions"
            " (url, secret, min_level, zones, format, heartbeat, fallback, audience,"
            " ack_token_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
            url,
            secret,
            min_level,
            zones,
            fmt,
            heartbeat,
            fallback,
            audience,
            None if token is None else token_hash(token),
        )
    finally:
        await connection.close()
    return replace(_from_row(row), receipt_token=token)


async def list_all(dsn: str) -> list[Subscription]:
    """Every subscription, oldest first."""
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch("SELECT * FROM webhook_subscriptions ORDER BY id")
    finally:
        await connection.close()
    return [_from_row(r) for r in rows]


async def get(dsn: str, subscription: int) -> Subscription:
    """One subscription; raise :class:`SubscriptionError` if there is none with that id."""
    connection = await asyncpg.connect(dsn)
    try:
        row = await connection.fetchrow(
            "SELECT * FROM webhook_subscriptions WHERE id = $1", subscription
        )
    finally:
        await connection.close()
    if row is None:
        raise SubscriptionError(
            f"no subscription {subscription}: see `encosta webhooks list`",
            subscription=subscription,
        )
    return _from_row(row)


async def remove(dsn: str, subscription: int) -> None:
    """Delete a subscription and its queued and dead messages."""
    connection = await asyncpg.connect(dsn)
    try:
        status = await connection.execute(
            "DELETE FROM webhook_subscriptions WHERE id = $1", subscription
        )
    finally:
        await connection.close()
    if status.endswith(" 0"):
        raise SubscriptionError(
            f"no subscription {subscription}: see `encosta webhooks list`",
            subscription=subscription,
        )


async def send_test(config: DispatchConfig, subscription: int) -> str:
    """POST a signed ``encosta.test`` event to a subscription now; return its message id."""
    sub = await get(config.dsn, subscription)
    message_id = f"msg_test_{uuid.uuid4().hex}"
    body = json.dumps(
        {
            "type": "encosta.test",
            "timestamp": datetime.now(UTC).isoformat(),
            "data": {"subscription": sub.id},
        },
        separators=(",", ":"),
    )
    async with webhook_client(config) as http:
        await post(
            http,
            sub.url,
            secret=sub.secret,
            message_id=message_id,
            body=body.encode(),
            content_type="application/json",
        )
    return message_id
