"""``/zones``: current risk and data-alert levels with the evidence of the latest transition."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, HTTPException, Path

from alerts import records
from alerts.api.context import DB_RESPONSES, NOT_FOUND, Context
from alerts.api.schemas import IDENTIFIER, Zone, level_name

if TYPE_CHECKING:
    import asyncpg

router = APIRouter(tags=["zones"], responses=DB_RESPONSES)


def _zone(row: asyncpg.Record) -> Zone:
    return Zone(
        id=row["id"],
        name=row["name"],
        level=row["level"],
        level_name=level_name(row["level"]),
        risk_alert_id=row["risk_alert_id"],
        data_level=row["data_level"],
        data_alert_id=row["data_alert_id"],
        evidence=None if row["evidence"] is None else json.loads(row["evidence"]),
        evidence_at=row["evidence_at"],
        evidence_transition=row["evidence_transition"],
    )


@router.get("/zones")
async def list_zones(context: Context) -> list[Zone]:
    """Every zone of the network with its current levels."""
    rows = await records.zones(context.pool, context.config.network)
    return [_zone(r) for r in rows]


@router.get("/zones/{zone_id}", responses=NOT_FOUND)
async def get_zone(zone_id: Annotated[str, Path(pattern=IDENTIFIER)], context: Context) -> Zone:
    """One zone of the network."""
    try:
        rows = await records.zones(context.pool, context.config.network, zone_id)
    except records.NotFoundError as exc:
        raise HTTPException(404, f"{exc}: see GET /zones") from exc
    return _zone(rows[0])
