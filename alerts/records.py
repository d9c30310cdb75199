"""Alerts and zones as an operator reads them: one home for the ops API and the CLI.

``GET /alerts``, ``GET /alerts/{id}``, ``POST /alerts/{id}/acknowledge`` and ``GET /zones``
(:mod:`alerts.api`) and ``encosta alerts list|show|ack`` and ``encosta status`` call these
functions, so the two ways in read and write the same rows with the same SQL. A missing alert
or zone raises :class:`NotFoundError`; acknowledging an alert that is not open raises
:class:`~alerts.errors.AlertsError` (:func:`alerts.store.acknowledge`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from structlog.contextvars import bound_contextvars

from alerts.errors import AlertsError
from alerts.store import acknowledge as record_acknowledgement

if TYPE_CHECKING:
    import asyncpg

log = logging.getLogger("encosta.alerts.records")

_SELECT = "SELECT * FROM alerts WHERE network = $1"
_EVENTS = "SELECT * FROM alert_events WHERE alert_id = $1 ORDER BY seq"
_ZONES = """
SELECT z.id, z.name, risk.id AS risk_alert_id, coalesce(risk.level, 0) AS level,
       risk.raised_at AS risk_since, risk.acknowledged_by AS risk_acknowledged_by,
       data.id AS data_alert_id, coalesce(data.level, 0) AS data_level,
       ev.evidence, ev.at AS evidence_at, ev.transition AS evidence_transition,
       dev.evidence AS data_evidence
FROM zones z
LEFT JOIN alerts risk ON risk.zone_id = z.id AND risk.kind = 'risk' AND risk.status = 'open'
LEFT JOIN alerts data ON data.zone_id = z.id AND data.kind = 'data' AND data.status = 'open'
LEFT JOIN LATERAL (
    SELECT e.evidence, e.at, e.transition FROM alert_events e JOIN alerts a ON a.id = e.alert_id
    WHERE a.zone_id = z.id AND a.kind = 'risk' AND e.transition <> 'acknowledged'
    ORDER BY e.at DESC, e.alert_id DESC, e.seq DESC LIMIT 1
) ev ON true
LEFT JOIN LATERAL (
    SELECT e.evidence FROM alert_events e WHERE e.alert_id = data.id
    ORDER BY e.seq DESC LIMIT 1
) dev ON true
WHERE z.network = $1 AND ($2::text IS NULL OR z.id = $2)
ORDER BY z.id
"""


class NotFoundError(AlertsError):
    """No such alert or zone in the network; ``what`` names it."""

    def __init__(self, message: str, *, what: str) -> None:
        super().__init__(message)
        self.what = what


@dataclass(frozen=True, slots=True)
class Acknowledgement:
    """An acknowledgement as recorded (the first one, when an alert is acknowledged twice)."""

    alert_id: int
    seq: int
    acknowledged_at: datetime
    acknowledged_by: str
    note: str | None


async def list_alerts(
    connection: asyncpg.Connection | asyncpg.Pool,
    network: str,
    status: str = "open",
    zone: str | None = None,
    limit: int = 100,
) -> list[asyncpg.Record]:
    """Alerts of ``network``, newest first; ``status`` open, cleared or all."""
    rows: list[asyncpg.Record] = await connection.fetch(
        f"{_SELECT} AND ($2 = 'all' OR status = $2) AND ($3::text IS NULL OR zone_id = $3)"
        " ORDER BY id DESC LIMIT $4",
        network,
        status,
        zone,
        limit,
    )
    return rows


async def get_alert(
    connection: asyncpg.Connection | asyncpg.Pool, network: str, alert_id: int
) -> asyncpg.Record:
    """One alert of ``network``; :class:`NotFoundError` when there is none."""
    row: asyncpg.Record | None = await connection.fetchrow(
        f"{_SELECT} AND id = $2", network, alert_id
    )
    if row is None:
        raise NotFoundError(f"no alert {alert_id} in network {network!r}", what=f"alert {alert_id}")
    return row


async def alert_events(
    connection: asyncpg.Connection | asyncpg.Pool, alert_id: int
) -> list[asyncpg.Record]:
    """The append-only history of one alert, oldest transition first."""
    rows: list[asyncpg.Record] = await connection.fetch(_EVENTS, alert_id)
    return rows


async def acknowledge(  # noqa: PLR0913  who, what, why and when
    connection: asyncpg.Connection,
    network: str,
    alert_id: int,
    by: str,
    note: str | None = None,
    *,
    at: datetime | None = None,
) -> Acknowledgement:
    """Record ``by``'s acknowledgement of an open alert of ``network`` (the first one wins)."""
    alert = await get_alert(connection, network, alert_id)
    with bound_contextvars(alert_id=alert_id, zone=alert["zone_id"]):
        seq = await record_acknowledgement(
            connection, alert_id, by, at or datetime.now(UTC), note=note
        )
        row = await get_alert(connection, network, alert_id)
        recorded = await connection.fetchval(
            "SELECT note FROM alert_events WHERE alert_id = $1 AND seq = $2", alert_id, seq
        )
        log.info("alert acknowledged", extra={"seq": seq, "by": row["acknowledged_by"]})
    return Acknowledgement(alert_id, seq, row["acknowledged_at"], row["acknowledged_by"], recorded)


async def zones(
    connection: asyncpg.Connection | asyncpg.Pool, network: str, zone: str | None = None
) -> list[asyncpg.Record]:
    """Every zone of ``network`` (or one) with its open risk and data alerts' levels.

    ``evidence`` is that of the latest risk transition other than an acknowledgement;
    ``data_evidence`` that of the open data alert (its stale stations).
    """
    rows: list[asyncpg.Record] = await connection.fetch(_ZONES, network, zone)
    if zone is not None and not rows:
        raise NotFoundError(f"no zone {zone!r} in network {network!r}", what=f"zone {zone}")
    return rows
