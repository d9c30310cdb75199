"""Fallback escalation: an alert nobody acknowledged in time goes to the fallback contacts.

An open alert at or above a fallback subscription's minimum level that has not been
acknowledged ``after`` its raise is sent once (per episode) to every matching fallback
subscription as ``alert.unacknowledged``, through the outbox in the same transaction that
marks the alert (``alerts.fallback_at``). Rows are locked with ``SKIP LOCKED``, so two
evaluators during a handover cannot both send it; each evaluator handles its own zones.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alerts.geometry import zone_circle
from alerts.lifecycle import Transition
from alerts.payload import AlertEvent, render
from alerts.store import wake_dispatchers
from models import MODEL_VERSION

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime, timedelta

    import asyncpg

UNACKNOWLEDGED = Transition.UNACKNOWLEDGED.value


async def escalate(
    connection: asyncpg.Connection,
    network: str,
    zones: Sequence[str],
    at: datetime,
    after: timedelta,
) -> int:
    """Queue fallback messages for alerts of ``zones`` unacknowledged for ``after``."""
    async with connection.transaction():
        alerts = await connection.fetch(
            "SELECT a.id, a.seq, a.zone_id, a.kind, a.level, a.raised_at, z.name AS zone_name"
            " FROM alerts a JOIN zones z ON z.id = a.zone_id"
            " WHERE a.network = $1 AND a.status = 'open' AND a.acknowledged_at IS NULL"
            " AND a.fallback_at IS NULL AND a.raised_at <= $2 AND a.zone_id = ANY($3::text[])"
            " FOR UPDATE OF a SKIP LOCKED",
            network,
            at - after,
            list(zones),
        )
        queued = 0
        for alert in alerts:
            subscriptions = await connection.fetch(
                "SELECT id, format FROM webhook_subscriptions WHERE enabled AND fallback"
                " AND (zones IS NULL OR $1 = ANY(zones)) AND min_level <= $2 ORDER BY id",
                alert["zone_id"],
                alert["level"],
            )
            event = AlertEvent(
                alert["id"],
                alert["seq"],
                network,
                alert["zone_id"],
                alert["zone_name"],
                alert["kind"],
                UNACKNOWLEDGED,
                alert["level"],
                alert["level"],
                at,
                {
                    "model_version": MODEL_VERSION,
                    "raised_at": alert["raised_at"].isoformat(),
                    "unacknowledged_s": round((at - alert["raised_at"]).total_seconds()),
                },
                circle=await zone_circle(connection, alert["zone_id"]),
            )
            for sub in subscriptions:
                content_type, body = render(event, sub["format"])
                await connection.execute(
                    "INSERT INTO outbox (message_id, subscription_id, alert_id, seq, zone_id,"
                    " content_type, payload) VALUES ($1, $2, $3, $4, $5, $6, $7)"
                    " ON CONFLICT (message_id) DO NOTHING",
                    f"msg_{alert['id']}_fallback_{sub['id']}",
                    sub["id"],
                    alert["id"],
                    alert["seq"],
                    alert["zone_id"],
                    content_type,
                    body,
                )
                queued += 1
            await connection.execute(
                "UPDATE alerts SET fallback_at = $2 WHERE id = $1", alert["id"], at
            )
        if queued:
            await wake_dispatchers(connection)
        return queued
