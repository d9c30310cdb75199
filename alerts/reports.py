"""Community reports: stored, reviewed by operators, counted as evidence in the evaluation.

The API takes reports in (:mod:`alerts.api.reports`); operators confirm or dismiss them (API,
``encosta reports``); :func:`amend` is the evaluator's one call that adds the zone's confirmed
reports of the last ``window_hours`` to its risk proposal (:mod:`models.reports` decides the
level) and carries them in the evidence. :func:`purge` removes the personal data (contact, free
text, photo) of reports older than the retention period.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from alerts.errors import AlertsError
from alerts.kind import AlertKind
from models.reports import Category, ReportRule, report_level, with_reports

if TYPE_CHECKING:
    from datetime import datetime

    import asyncpg

    from alerts.store import Proposal

SOURCES = ("resident", "agent", "gateway")
STATUSES = ("new", "confirmed", "dismissed")


@dataclass(frozen=True, slots=True)
class Report:
    """One report as a resident or agent sends it."""

    zone_id: str
    category: Category
    source: str
    description: str = ""
    lat: float | None = None
    lon: float | None = None
    contact: str | None = None
    photo: bytes | None = None
    photo_type: str | None = None


async def submit(connection: asyncpg.Connection, network: str, report: Report) -> int:
    """Store ``report``; return its id. Raise :class:`AlertsError` for an unknown zone."""
    zone = await connection.fetchval(
        "SELECT id FROM zones WHERE id = $1 AND network = $2", report.zone_id, network
    )
    if zone is None:
        raise AlertsError(f"no zone {report.zone_id!r} in network {network!r}")
    report_id: int = await connection.fetchval(
        "INSERT INTO community_reports (network, zone_id, category, source, lat, lon,"
        " description, contact, photo, photo_type) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9,"
        " $10) RETURNING id",
        network,
        report.zone_id,
        str(report.category),
        report.source,
        report.lat,
        report.lon,
        report.description,
        report.contact,
        report.photo,
        report.photo_type,
    )
    return report_id


_LIST = """
SELECT id, zone_id, category, source, lat, lon, description, contact, photo_type,
       photo IS NOT NULL AS has_photo, status, reviewed_by, reviewed_at, review_note, created_at,
       purged_at
FROM community_reports
WHERE network = $1 AND ($2::text IS NULL OR status = $2) AND ($3::text IS NULL OR zone_id = $3)
ORDER BY created_at DESC, id DESC LIMIT $4
"""


async def list_reports(
    connection: asyncpg.Connection,
    network: str,
    *,
    status: str | None = None,
    zone_id: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Reports of ``network``, newest first, without the photo bytes."""
    rows = await connection.fetch(_LIST, network, status, zone_id, limit)
    return [dict(r) for r in rows]


async def review(  # noqa: PLR0913  who decided what about which report
    connection: asyncpg.Connection,
    network: str,
    report_id: int,
    *,
    status: str,
    by: str,
    at: datetime,
    note: str | None = None,
) -> None:
    """Confirm or dismiss a report (a later review replaces an earlier one)."""
    if status not in {"confirmed", "dismissed"}:
        raise AlertsError(f"a review confirms or dismisses, not {status!r}")
    done = await connection.fetchval(
        "UPDATE community_reports SET status = $3, reviewed_by = $4, reviewed_at = $5,"
        " review_note = $6 WHERE id = $1 AND network = $2 RETURNING id",
        report_id,
        network,
        status,
        by,
        at,
        note,
    )
    if done is None:
        raise AlertsError(f"no report {report_id} in network {network!r}")


async def purge(connection: asyncpg.Connection, before: datetime) -> int:
    """Remove contact, free text and photo of reports created before ``before``."""
    result: str = await connection.execute(
        "UPDATE community_reports SET contact = NULL, description = '', photo = NULL,"
        " photo_type = NULL, purged_at = now() WHERE created_at < $1 AND purged_at IS NULL",
        before,
    )
    return int(result.rsplit(maxsplit=1)[-1])


async def confirmed(
    connection: asyncpg.Connection, network: str, at: datetime, window: timedelta
) -> dict[str, list[int]]:
    """Ids of each zone's reports confirmed within ``window`` before ``at``."""
    rows = await connection.fetch(
        "SELECT zone_id, array_agg(id ORDER BY id) AS ids FROM community_reports"
        " WHERE network = $1 AND status = 'confirmed' AND reviewed_at > $2 AND reviewed_at <= $3"
        " GROUP BY zone_id",
        network,
        at - window,
        at,
    )
    return {r["zone_id"]: list(r["ids"]) for r in rows}


def amend_proposals(
    proposals: list[Proposal], reports: dict[str, list[int]], rule: ReportRule
) -> list[Proposal]:
    """Risk proposals with their zones' confirmed reports counted and carried as evidence."""
    out = []
    for proposal in proposals:
        ids = reports.get(proposal.zone_id)
        if proposal.kind != AlertKind.RISK or not ids:
            out.append(proposal)
            continue
        evidence = dict(proposal.evidence)
        evidence["criteria"] = [
            *evidence.get("criteria", []),
            {
                "criterion": "community_report",
                "value": float(len(ids)),
                "threshold": float(rule.min_reports),
                "unit": "reports",
                "level": report_level(len(ids), rule),
                "unknown": False,
                "estimated": False,
                "station": None,
            },
        ]
        evidence["report_ids"] = ids
        level = with_reports(proposal.level, len(ids), rule)
        out.append(replace(proposal, level=level, evidence=evidence))
    return out


async def amend(
    connection: asyncpg.Connection,
    network: str,
    proposals: list[Proposal],
    at: datetime,
    rule: ReportRule | None = None,
) -> list[Proposal]:
    """The evaluator's hook: ``proposals`` with the confirmed reports of their zones."""
    rule = rule or ReportRule()
    reports = await confirmed(connection, network, at, timedelta(hours=rule.window_hours))
    return amend_proposals(proposals, reports, rule) if reports else proposals
