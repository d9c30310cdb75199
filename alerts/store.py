"""Alert rows, their history and outbox messages, written together in one transaction.

A transition is decided under a row lock on the open alert (``SELECT ... FOR UPDATE``); when
there is no open alert the partial unique index ``alerts_one_open_idx`` stops a concurrent
second raise. The event and one outbox row per matching subscription commit with it, so a
transition is never recorded without its messages nor sent without being recorded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from alerts import audience
from alerts.errors import AlertsError
from alerts.geometry import zone_circle
from alerts.lifecycle import AlertState, Step, Transition, advance
from alerts.payload import AlertEvent
from models import MODEL_VERSION

if TYPE_CHECKING:
    from datetime import datetime, timedelta

    import asyncpg


@dataclass(frozen=True, slots=True)
class Proposal:
    """What the model says about one (zone, kind) at one evaluation."""

    zone_id: str
    zone_name: str
    kind: str  # an AlertKind value
    level: int
    unknown: bool
    evidence: dict[str, Any]


OUTBOX_CHANNEL = "encosta_outbox"  # NOTIFYed with each commit that queues messages


async def wake_dispatchers(connection: asyncpg.Connection) -> None:
    """NOTIFY the dispatchers; delivered when (and only if) the transaction commits."""
    await connection.execute(f"NOTIFY {OUTBOX_CHANNEL}")


async def _event(  # noqa: PLR0913  keyword-only: the identity and outcome of one transition
    connection: asyncpg.Connection,
    network: str,
    proposal: Proposal,
    *,
    ids: tuple[int, int],
    step: Step,
    at: datetime,
) -> AlertEvent:
    alert_id, seq = ids
    earlier = await connection.fetch(
        "SELECT seq, at FROM alert_events WHERE alert_id = $1 AND seq < $2 ORDER BY seq",
        alert_id,
        seq,
    )
    return AlertEvent(
        alert_id,
        seq,
        network,
        proposal.zone_id,
        proposal.zone_name,
        proposal.kind,
        str(step.transition),
        step.from_level,
        step.to_level,
        at,
        proposal.evidence,
        tuple((r["seq"], r["at"]) for r in earlier),
        await zone_circle(connection, proposal.zone_id),
    )


_SELECT_OPEN = (
    "SELECT id, level, seq, below_since, below_max FROM alerts"
    " WHERE zone_id = $1 AND kind = $2 AND status = 'open'"
)


async def open_states(
    connection: asyncpg.Connection, network: str
) -> dict[tuple[str, str], AlertState]:
    """The state of every open alert of ``network`` by (zone, kind), read without locks."""
    rows = await connection.fetch(
        "SELECT zone_id, kind, level, below_since, below_max FROM alerts"
        " WHERE network = $1 AND status = 'open'",
        network,
    )
    return {
        (r["zone_id"], r["kind"]): AlertState(r["level"], r["below_since"], r["below_max"])
        for r in rows
    }


async def apply(
    connection: asyncpg.Connection,
    network: str,
    proposal: Proposal,
    at: datetime,
    hold: timedelta,
) -> Step:
    """Advance the (zone, kind) alert under a row lock; write the transition and messages."""
    async with connection.transaction():
        row = await connection.fetchrow(
            f"{_SELECT_OPEN} FOR UPDATE", proposal.zone_id, proposal.kind
        )
        previous = (
            AlertState()
            if row is None
            else AlertState(row["level"], row["below_since"], row["below_max"])
        )
        step = advance(previous, proposal.level, at, hold, unknown=proposal.unknown)
        if not step.changed:
            return step
        state = step.state
        if row is None:
            alert_id = await connection.fetchval(
                "INSERT INTO alerts (network, zone_id, kind, level, seq, raised_at, updated_at)"
                " VALUES ($1, $2, $3, $4, 1, $5, $5) RETURNING id",
                network,
                proposal.zone_id,
                proposal.kind,
                state.level,
                at,
            )
            seq = 1
        else:
            alert_id = row["id"]
            seq = row["seq"] + (1 if step.transition else 0)
            await connection.execute(
                "UPDATE alerts SET level = $2, seq = $3, below_since = $4, below_max = $5,"
                " updated_at = $6,"
                " status = CASE WHEN $7::boolean THEN 'cleared' ELSE status END,"
                " cleared_at = CASE WHEN $7::boolean THEN $6::timestamptz END"
                " WHERE id = $1",
                alert_id,
                state.level,
                seq,
                state.below_since,
                state.below_max,
                at,
                state.level == 0,
            )
        if step.transition is None:
            return step
        event = await _event(connection, network, proposal, ids=(alert_id, seq), step=step, at=at)
        await connection.execute(
            "INSERT INTO alert_events (alert_id, seq, transition, from_level, to_level,"
            " evidence, at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)",
            alert_id,
            seq,
            event.transition,
            event.from_level,
            event.to_level,
            json.dumps(event.evidence, allow_nan=False),
            at,
        )
        await enqueue(connection, event)
        return step


async def acknowledge(
    connection: asyncpg.Connection,
    alert_id: int,
    actor: str,
    at: datetime,
    *,
    note: str | None = None,
) -> int:
    """Record an operator's acknowledgement of an open alert; return its transition number.

    ``note`` is stored with the event and sent in its messages. Acknowledging twice records
    nothing new (the second note is dropped) and returns the first acknowledgement's number.
    """
    async with connection.transaction():
        row = await connection.fetchrow(
            "SELECT a.*, z.name AS zone_name FROM alerts a JOIN zones z ON z.id = a.zone_id"
            " WHERE a.id = $1 AND a.status = 'open' FOR UPDATE OF a",
            alert_id,
        )
        if row is None:
            raise AlertsError(f"alert {alert_id} is not open: only open alerts can be acknowledged")
        if row["acknowledged_at"] is not None:
            seq: int = await connection.fetchval(
                "SELECT max(seq) FROM alert_events WHERE alert_id = $1"
                " AND transition = 'acknowledged'",
                alert_id,
            )
            return seq
        seq = row["seq"] + 1
        await connection.execute(
            "UPDATE alerts SET seq = $2, acknowledged_at = $3, acknowledged_by = $4,"
            " updated_at = $3 WHERE id = $1",
            alert_id,
            seq,
            at,
            actor,
        )
        earlier = await connection.fetch(
            "SELECT seq, at FROM alert_events WHERE alert_id = $1 ORDER BY seq", alert_id
        )
        event = AlertEvent(
            alert_id,
            seq,
            row["network"],
            row["zone_id"],
            row["zone_name"],
            row["kind"],
            str(Transition.ACKNOWLEDGED),
            row["level"],
            row["level"],
            at,
            {"model_version": MODEL_VERSION, "acknowledged_by": actor},
            tuple((r["seq"], r["at"]) for r in earlier),
            await zone_circle(connection, row["zone_id"]),
            note,
        )
        await connection.execute(
            "INSERT INTO alert_events (alert_id, seq, transition, from_level, to_level,"
            " evidence, actor, at, note) VALUES ($1, $2, $3, $4, $4, $5::jsonb, $6, $7, $8)",
            alert_id,
            seq,
            event.transition,
            row["level"],
            json.dumps(event.evidence),
            actor,
            at,
            note,
        )
        await enqueue(connection, event)
        return seq


async def enqueue(connection: asyncpg.Connection, event: AlertEvent) -> int:
    """One outbox row per enabled subscription that wants ``event``; return how many.

    A subscription matches when the zone is in its list (or it has none) and the higher of the
    two levels reaches its minimum, so whoever heard the raise also hears the all-clear.
    Fallback subscriptions hear only unacknowledged alerts (:mod:`alerts.fallback`); siren and
    broadcast subscriptions only the transitions and fields of their audience
    (:mod:`alerts.audience`).
    """
    subscriptions = await connection.fetch(
        "SELECT id, format, audience FROM webhook_subscriptions WHERE enabled AND NOT fallback"
        " AND (zones IS NULL OR $1 = ANY(zones)) AND min_level <= $2 ORDER BY id",
        event.zone_id,
        max(event.from_level, event.to_level),
    )
    rows = []
    for sub in subscriptions:
        if not audience.hears(sub["audience"], event):
            continue
        content_type, body = audience.render(event, sub["audience"], sub["format"], sub["id"])
        rows.append(
            (
                f"msg_{event.alert_id}_{event.seq}_{sub['id']}",
                sub["id"],
                event.alert_id,
                event.seq,
                event.zone_id,
                content_type,
                body,
            )
        )
    await connection.executemany(
        "INSERT INTO outbox (message_id, subscription_id, alert_id, seq, zone_id, content_type,"
        " payload) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        rows,
    )
    if rows:
        await wake_dispatchers(connection)
    return len(rows)
