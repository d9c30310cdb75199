"""Heartbeat: a periodic message to opted-in subscriptions proving the alert engine is alive.

A receiver that stops hearing it knows the warning system itself is down — silence from a
warning system must never read as "all quiet". The heartbeat is queued in the outbox by the
evaluator that owns partition 0, after a successful evaluation, so it proves that evaluation
runs, not merely that a process exists. Its message id ``hb_<network>_<period>_<subscription>``
(period = Unix time // interval) makes it idempotent: during a handover two evaluators may try
the same period and the unique message id keeps one.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from alerts.payload import CAP_TYPE, JSON_TYPE, heartbeat_cap
from alerts.store import wake_dispatchers

if TYPE_CHECKING:
    from datetime import datetime

    import asyncpg

ZONE = "_heartbeat"  # outbox queue of heartbeats (ordered apart from every zone's alerts)


def heartbeat_json(
    network: str, period: int, at: datetime, interval_s: float, open_alerts: dict[str, int]
) -> str:
    """The JSON heartbeat body."""
    return json.dumps(
        {
            "type": "encosta.heartbeat",
            "timestamp": at.isoformat(),
            "data": {
                "network": network,
                "period": period,
                "interval_s": interval_s,
                "open_alerts": open_alerts,
            },
        },
        separators=(",", ":"),
    )


async def beat(
    connection: asyncpg.Connection, network: str, at: datetime, interval_s: float
) -> int:
    """Queue this period's heartbeat for every opted-in subscription; return how many new."""
    period = int(at.timestamp() // interval_s)
    async with connection.transaction():
        subscriptions = await connection.fetch(
            "SELECT id, format FROM webhook_subscriptions WHERE enabled AND heartbeat ORDER BY id"
        )
        if not subscriptions:
            return 0
        counts = {
            r["kind"]: r["n"]
            for r in await connection.fetch(
                "SELECT kind, count(*) AS n FROM alerts WHERE network = $1 AND status = 'open'"
                " GROUP BY kind",
                network,
            )
        }
        rows = []
        for sub in subscriptions:
            body = (
                heartbeat_cap(network, period, at)
                if sub["format"] == "cap"
                else heartbeat_json(network, period, at, interval_s, counts)
            )
            rows.append(
                (
                    f"hb_{network}_{period}_{sub['id']}",
                    sub["id"],
                    CAP_TYPE if sub["format"] == "cap" else JSON_TYPE,
                    body,
                )
            )
        status = await connection.fetch(
            "INSERT INTO outbox (message_id, subscription_id, zone_id, content_type, payload)"
            " SELECT m, s, $5, c, p FROM unnest($1::text[], $2::bigint[], $3::text[],"
            " $4::text[]) AS u (m, s, c, p)"
            " ON CONFLICT (message_id) DO NOTHING RETURNING id",
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            [r[3] for r in rows],
            ZONE,
        )
        if status:
            await wake_dispatchers(connection)
        return len(status)
