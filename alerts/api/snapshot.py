"""The public side's view of the network, read from the database every few seconds.

Public readers (residents' phones, alert aggregators) never reach the database: a background
task rebuilds one :class:`Snapshot` every ``ENCOSTA_API_PUBLIC_REFRESH_S`` and the public routes
answer from it, their bodies rendered once per snapshot (:mod:`alerts.api.public`). While the
database is unreachable the last snapshot keeps being served, marked stale, and every zone in it
reads as degraded: a reader is never told "normal" from data nobody could check.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import asyncpg

from alerts.geometry import enclosing_circle
from alerts.payload import AlertEvent, cap_identifier, headline, to_cap
from registry.format import SupportPoint

log = logging.getLogger("encosta.api.public")

# Each station's newest reading, read once per station (not once per zone and question): the
# stations heard within the longest live window (expected interval x stale intervals) come from
# one range scan of that window's readings; only the silent ones are looked up one by one (a
# backward scan of their own readings). Zones then aggregate their stations in one pass.
_ZONES = """
WITH recent AS (
    SELECT r.station_id, max(r.ts) AS ts FROM readings r
    WHERE r.ts > now() - make_interval(secs => $2 * (
        SELECT coalesce(max(expected_interval_s), 0) FROM stations WHERE network = $1))
    GROUP BY r.station_id
), seen AS (
    SELECT s.zone_id, s.status, s.expected_interval_s,
           coalesce(recent.ts, (SELECT r.ts FROM readings r WHERE r.station_id = s.id
                                ORDER BY r.ts DESC LIMIT 1)) AS ts
    FROM stations s JOIN zones sz ON sz.id = s.zone_id AND sz.network = $1
    LEFT JOIN recent ON recent.station_id = s.id
)
SELECT z.id, z.name, max(seen.ts) AS last_data,
       bool_or(seen.ts > now() - make_interval(secs => seen.expected_interval_s * $2))
           FILTER (WHERE seen.status = 'active') AS any_live
FROM zones z LEFT JOIN seen ON seen.zone_id = z.id
WHERE z.network = $1 GROUP BY z.id, z.name ORDER BY z.id
"""
_OPEN = """
SELECT a.id, a.zone_id, a.kind, a.level, a.raised_at, a.updated_at, a.acknowledged_at
FROM alerts a WHERE a.network = $1 AND a.status = 'open' ORDER BY a.id
"""
_EVENTS = """
SELECT e.alert_id, e.seq, e.transition, e.from_level, e.to_level, e.evidence, e.at, e.note
FROM alert_events e JOIN alerts a ON a.id = e.alert_id
WHERE a.network = $1 AND a.status = 'open' ORDER BY e.alert_id, e.seq
"""
_STATIONS = "SELECT zone_id, lat, lon FROM stations WHERE network = $1"
_CHANGED = "SELECT max(updated_at) FROM alerts WHERE network = $1"
_POINTS = """
SELECT p.zone_id, p.name, p.address, p.lat, p.lon, p.example FROM zone_support_points p
JOIN zones z ON z.id = p.zone_id WHERE z.network = $1 ORDER BY p.zone_id, p.position
"""


@dataclass(frozen=True, slots=True)
class PublicAlert:
    """An open alert as the public sees it: its latest transition as CAP 1.2."""

    identifier: str  # the CAP identifier of the latest transition: the only id made public
    zone_id: str
    zone_name: str
    kind: str
    level: int
    transition: str
    raised_at: datetime
    sent: datetime
    headline: str
    cap: str


@dataclass(frozen=True, slots=True)
class PublicZone:
    """One zone's public state."""

    id: str
    name: str
    level: int  # the open risk alert's level, 0 without one
    since: datetime | None  # when the open risk alert was raised
    data_level: int  # the open data alert's level, 0 without one
    last_data: datetime | None  # the newest reading of any of its stations
    degraded: bool  # data alert open, no live station, or the snapshot is stale
    support_points: tuple[SupportPoint, ...] = ()


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The whole public view at ``built_at``; ``stale`` once a refresh has failed since."""

    network: str
    built_at: datetime
    zones: tuple[PublicZone, ...]
    alerts: tuple[PublicAlert, ...]
    stale: bool = False
    version: int = 0  # bumps with every snapshot (rendered bodies are cached per version)
    # The newest change of any alert of the network (None: never one): the feeds' <updated>,
    # so that their bodies and ETags only change when an alert does.
    changed_at: datetime | None = None

    def alert(self, identifier: str) -> PublicAlert | None:
        """The open alert whose latest CAP message has ``identifier``."""
        return next((a for a in self.alerts if a.identifier == identifier), None)


def _transition(
    network: str,
    row: asyncpg.Record,
    events: list[asyncpg.Record],
    names: dict[str, str],
    circle: tuple[float, float, float] | None,
) -> AlertEvent:
    *earlier, last = events
    evidence: dict[str, Any] = json.loads(last["evidence"])
    return AlertEvent(
        row["id"],
        last["seq"],
        network,
        row["zone_id"],
        names.get(row["zone_id"], row["zone_id"]),
        row["kind"],
        last["transition"],
        last["from_level"],
        last["to_level"],
        last["at"],
        evidence,
        tuple((e["seq"], e["at"]) for e in earlier),
        circle,
        last["note"],
    )


async def read_snapshot(
    pool: asyncpg.Pool, network: str, stale_intervals: int, version: int
) -> Snapshot:
    """Build a fresh snapshot of ``network`` in one read-only transaction."""
    async with pool.acquire() as connection, connection.transaction(readonly=True):
        zones = await connection.fetch(_ZONES, network, float(stale_intervals))
        open_alerts = await connection.fetch(_OPEN, network)
        events = await connection.fetch(_EVENTS, network)
        stations = await connection.fetch(_STATIONS, network)
        changed = await connection.fetchval(_CHANGED, network)
        support = await connection.fetch(_POINTS, network)
    names = {z["id"]: z["name"] for z in zones}
    points: dict[str, list[tuple[float, float]]] = {}
    for s in stations:
        points.setdefault(s["zone_id"], []).append((s["lat"], s["lon"]))
    by_alert: dict[int, list[asyncpg.Record]] = {}
    for e in events:
        by_alert.setdefault(e["alert_id"], []).append(e)
    alerts: list[PublicAlert] = []
    open_by_zone: dict[tuple[str, str], asyncpg.Record] = {}
    for row in open_alerts:
        open_by_zone[(row["zone_id"], row["kind"])] = row
        history = by_alert.get(row["id"])
        if not history:
            continue
        zone_points = points.get(row["zone_id"])
        circle = enclosing_circle(zone_points) if zone_points else None
        event = _transition(network, row, history, names, circle)
        alerts.append(
            PublicAlert(
                cap_identifier(network, row["id"], event.seq),
                row["zone_id"],
                event.zone_name,
                row["kind"],
                row["level"],
                event.transition,
                row["raised_at"],
                event.at,
                headline(event),
                to_cap(event),
            )
        )
    shelters: dict[str, list[SupportPoint]] = {}
    for p in support:
        shelters.setdefault(p["zone_id"], []).append(
            SupportPoint(p["name"], p["address"], p["lat"], p["lon"], p["example"])
        )
    public_zones = []
    for z in zones:
        risk = open_by_zone.get((z["id"], "risk"))
        data = open_by_zone.get((z["id"], "data"))
        data_level = 0 if data is None else int(data["level"])
        public_zones.append(
            PublicZone(
                z["id"],
                z["name"],
                0 if risk is None else int(risk["level"]),
                None if risk is None else risk["raised_at"],
                data_level,
                z["last_data"],
                degraded=data_level > 0 or not z["any_live"],
                support_points=tuple(shelters.get(z["id"], ())),
            )
        )
    return Snapshot(
        network,
        datetime.now(UTC),
        tuple(public_zones),
        tuple(alerts),
        stale=False,
        version=version,
        changed_at=changed,
    )


_DB_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


@dataclass(slots=True)
class PublicView:
    """Holds the current snapshot; :meth:`refresh` is run every ``refresh_s`` by the API.

    (``alerts.api.app`` runs it with :class:`runtime.periodic.Periodic` under its TaskGroup.)
    """

    pool: asyncpg.Pool
    network: str
    stale_intervals: int
    refresh_s: float
    snapshot: Snapshot | None = None
    refreshes: int = 0
    failures: int = 0

    async def refresh(self) -> Snapshot | None:
        """Read a new snapshot; on a database error keep the last one and mark it stale."""
        version = self.refreshes + self.failures + 1
        try:
            snapshot = await read_snapshot(self.pool, self.network, self.stale_intervals, version)
        except _DB_ERRORS as exc:
            self.failures += 1
            log.warning("public snapshot not refreshed", extra={"error": type(exc).__name__})
            if self.snapshot is not None and not self.snapshot.stale:
                self.snapshot = replace(
                    self.snapshot,
                    stale=True,
                    version=version,
                    zones=tuple(replace(z, degraded=True) for z in self.snapshot.zones),
                )
            return self.snapshot
        self.refreshes += 1
        self.snapshot = snapshot
        return snapshot
