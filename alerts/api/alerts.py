"""``/alerts``: episodes with their history, acknowledgement, and CAP 1.2 of the latest step."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Response

from alerts import receipts, records
from alerts.api.auth import UNAUTHORIZED, Writer
from alerts.api.context import DB_RESPONSES, NOT_FOUND, Context
from alerts.api.schemas import (
    IDENTIFIER,
    MAX_ID,
    Acknowledge,
    Acknowledged,
    Alert,
    AlertDetail,
    AlertEvent,
    Problem,
    Receipt,
    level_name,
)
from alerts.errors import AlertsError
from alerts.geometry import zone_circle
from alerts.payload import CAP_TYPE, to_cap
from alerts.payload import AlertEvent as Transition

if TYPE_CHECKING:
    import asyncpg

AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]
router = APIRouter(prefix="/alerts", tags=["alerts"], responses=DB_RESPONSES)


# The CAP route's errors are still JSON: spell their media type out, or FastAPI would
# document them as application/cap+xml like the route's own response class.
_JSON_PROBLEM = {"application/json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
_CAP_ERRORS: dict[int | str, dict[str, object]] = {
    404: {"description": "no such alert, or no transition yet", "content": _JSON_PROBLEM},
    503: {"description": "the database is unreachable; retry later", "content": _JSON_PROBLEM},
}


class CapResponse(Response):
    """An OASIS CAP 1.2 document."""

    media_type = CAP_TYPE


def _alert(row: asyncpg.Record) -> Alert:
    return Alert(
        id=row["id"],
        network=row["network"],
        zone=row["zone_id"],
        kind=row["kind"],
        level=row["level"],
        level_name=level_name(row["level"]),
        status=row["status"],
        seq=row["seq"],
        raised_at=row["raised_at"],
        updated_at=row["updated_at"],
        cleared_at=row["cleared_at"],
        acknowledged_at=row["acknowledged_at"],
        acknowledged_by=row["acknowledged_by"],
    )


def _event(row: asyncpg.Record) -> AlertEvent:
    return AlertEvent(
        seq=row["seq"],
        transition=row["transition"],
        from_level=row["from_level"],
        to_level=row["to_level"],
        evidence=json.loads(row["evidence"]),
        actor=row["actor"],
        note=row["note"],
        at=row["at"],
    )


async def _row(context: Context, alert_id: int) -> asyncpg.Record:
    try:
        return await records.get_alert(context.pool, context.config.network, alert_id)
    except records.NotFoundError as exc:
        raise HTTPException(404, f"{exc}: see GET /alerts?status=all") from exc


@router.get("")
async def list_alerts(
    context: Context,
    status: Literal["open", "cleared", "all"] = "open",
    zone: Annotated[str | None, Query(pattern=IDENTIFIER)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[Alert]:
    """Alerts of the network, newest first (open ones by default)."""
    rows = await records.list_alerts(context.pool, context.config.network, status, zone, limit)
    return [_alert(r) for r in rows]


@router.get("/{alert_id}", responses=NOT_FOUND)
async def get_alert(alert_id: AlertId, context: Context) -> AlertDetail:
    """One alert with its append-only history, oldest transition first."""
    row = await _row(context, alert_id)
    events = await records.alert_events(context.pool, alert_id)
    done = await receipts.alert_receipts(context.pool, alert_id)
    return AlertDetail(
        **_alert(row).model_dump(),
        events=[_event(e) for e in events],
        receipts=[Receipt(**{k: v for k, v in asdict(r).items() if k != "alert_id"}) for r in done],
    )


@router.post(
    "/{alert_id}/acknowledge",
    dependencies=[Writer],
    responses={
        **UNAUTHORIZED,
        **NOT_FOUND,
        409: {"model": Problem, "description": "the alert is not open"},
    },
)
async def acknowledge_alert(alert_id: AlertId, body: Acknowledge, context: Context) -> Acknowledged:
    """Record an operator's acknowledgement of an open alert (idempotent: the first one wins)."""
    async with context.pool.acquire() as connection:
        try:
            done = await records.acknowledge(
                connection, context.config.network, alert_id, body.by, body.note
            )
        except records.NotFoundError as exc:
            raise HTTPException(404, f"{exc}: see GET /alerts?status=all") from exc
        except AlertsError as exc:
            raise HTTPException(409, str(exc)) from exc
    return Acknowledged(
        alert_id=done.alert_id,
        seq=done.seq,
        acknowledged_at=done.acknowledged_at,
        acknowledged_by=done.acknowledged_by,
        note=done.note,
    )


@router.get(
    "/{alert_id}/cap",
    response_class=CapResponse,
    responses={
        **_CAP_ERRORS,
        200: {
            "content": {CAP_TYPE: {"schema": {"type": "string"}}},
            "description": "CAP 1.2 <alert> of the latest transition",
        },
    },
)
async def get_alert_cap(alert_id: AlertId, context: Context) -> CapResponse:
    """The latest transition of the alert as an OASIS CAP 1.2 document, as a subscriber got it.

    Earlier transitions become CAP ``references``; the zone's stations give its ``circle``.
    """
    row = await _row(context, alert_id)
    async with context.pool.acquire() as connection:
        events = await connection.fetch(
            "SELECT e.*, z.name AS zone_name FROM alert_events e JOIN zones z ON z.id = $2"
            " WHERE e.alert_id = $1 ORDER BY e.seq",
            alert_id,
            row["zone_id"],
        )
        circle = await zone_circle(connection, row["zone_id"])
    if not events:
        raise HTTPException(404, f"alert {alert_id} has no recorded transition yet")
    *earlier, event = events
    transition = Transition(
        alert_id,
        event["seq"],
        row["network"],
        row["zone_id"],
        event["zone_name"],
        row["kind"],
        event["transition"],
        event["from_level"],
        event["to_level"],
        event["at"],
        json.loads(event["evidence"]),
        tuple((e["seq"], e["at"]) for e in earlier),
        circle,
        event["note"],
    )
    return CapResponse(to_cap(transition))
