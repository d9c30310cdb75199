"""``/zones``: current risk and data-alert levels with the evidence of the latest transition."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, HTTPException, Path

from alerts.api.context import DB_RESPONSES, NOT_FOUND, Context
from alerts.api.schemas import IDENTIFIER, Zone, level_name

if TYPE_CHECKING:
    import asyncpg

router = APIRouter(tags=["zones"], responses=DB_RESPONSES)

_SELECT = """
SELECT z.id, z.name, risk.id AS risk_alert_id, coalesce(risk.level, 0) AS level,
       data.id AS data_alert_id, coalesce(data.level, 0) AS data_level,
       ev.evidence, ev.at AS evidence_at, ev.transition AS evidence_transition
FROM zones z
LEFT JOIN alerts risk ON risk.zone_id = z.id AND risk.kind = 'risk' AND risk.status = 'open'
LEFT JOIN alerts data ON data.zone_id = z.id AND data.kind = 'data' AND data.status = 'open'
LEFT JOIN LATERAL (
    SELECT e.evidence, e.at, e.transition FROM alert_events e JOIN alerts a ON a.id = e.alert_id
    WHERE a.zone_id = z.id AND a.kind = 'risk' AND e.transition <> 'acknowledged'
    ORDER BY e.at DESC, e.alert_id DESC, e.seq DESC LIMIT 1
) ev ON true
WHERE z.network = $1 AND ($2::text IS NULL OR z.id = $2)
ORDER BY z.id
"""


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
    rows = await context.pool.fetch(_SELECT, context.config.network, None)
    return [_zone(r) for r in rows]


@router.get("/zones/{zone_id}", responses=NOT_FOUND)
async def get_zone(zone_id: Annotated[str, Path(pattern=IDENTIFIER)], context: Context) -> Zone:
    """One zone of the network."""
    rows = await context.pool.fetch(_SELECT, context.config.network, zone_id)
    if not rows:
        raise HTTPException(
            404, f"no zone {zone_id!r} in network {context.config.network!r}: see GET /zones"
        )
    return _zone(rows[0])
