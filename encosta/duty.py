"""The duty officer's commands: ``encosta status`` and ``encosta alerts list|show|ack``.

They read and write through :mod:`alerts.records`, the functions behind the ops API's
``/zones`` and ``/alerts`` routes, logged in as the API's role (``ENCOSTA_API_PG_DSN``,
``ENCOSTA_PG_DSN`` or the local stack as ``encosta_api``), so the CLI and the API cannot tell
two stories.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from alerts import receipts, records
from encosta.errors import ConfigError
from encosta.manual import level_choices, level_name
from runtime import settings
from runtime.settings import Environment

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

DSN_HELP = (
    "database DSN (default: ENCOSTA_API_PG_DSN, ENCOSTA_PG_DSN or the local stack as encosta_api)"
)


def _target(args: argparse.Namespace) -> tuple[str, str]:
    env = Environment(os.environ, ConfigError)
    return args.dsn or settings.service_dsn(env, "api"), settings.network(env)


def _connected(
    args: argparse.Namespace, work: Callable[[asyncpg.Connection, str], Awaitable[int]]
) -> int:
    dsn, network = _target(args)

    async def run() -> int:
        connection = await asyncpg.connect(dsn, timeout=10)
        try:
            return await work(connection, network)
        finally:
            await connection.close()

    return asyncio.run(run())


def _ago(at: datetime | None, now: datetime) -> str:
    if at is None:
        return "-"
    minutes = int((now - at).total_seconds() // 60)
    span = f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"
    return f"{at.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({span} ago)"


def _document(value: object) -> dict[str, Any]:
    doc = json.loads(value) if isinstance(value, str) else value
    return doc if isinstance(doc, dict) else {}


META = frozenset({"corroboration", "live_stations"})


def why(evidence: object) -> str:
    """The criteria that set a level, in a few words: ``rain_24h 182.0 >= 125.0 mm``."""
    reasons = []
    for item in _document(evidence).get("criteria", []):
        if not isinstance(item, dict) or not item.get("level"):
            continue
        value, threshold = item.get("value"), item.get("threshold")
        if item.get("criterion") in META:  # the zone's rules, not a measured criterion
            if item["criterion"] == "corroboration" and value is not None and value >= threshold:
                reasons.append(f"corroborated by {value:.0f} stations")
            continue
        if value is None or threshold is None:
            reasons.append(f"{item.get('criterion')} ({level_name(item['level'])})")
        elif item.get("criterion") == "slope":  # the factor of safety falls to its threshold
            reasons.append(f"slope FS {value:.2f} <= {threshold:.2f}")
        else:
            unit = item.get("unit") or ""
            reasons.append(f"{item['criterion']} {value:.1f} >= {threshold:.1f} {unit}".strip())
    return "; ".join(reasons[:3]) or "-"


# Per zone: active stations, and those silent for STALE_INTERVALS of their expected interval
# (the evaluator's default threshold for a data alert) or that never reported.
STALE_INTERVALS = 4
_SILENT = """
SELECT s.zone_id, count(*) AS stations,
       count(*) FILTER (WHERE seen.ts IS NULL
                        OR now() - seen.ts > $2 * s.expected_interval_s * interval '1 second')
           AS silent
FROM stations s
LEFT JOIN LATERAL (
    SELECT r.ts FROM readings r WHERE r.station_id = s.id ORDER BY r.ts DESC LIMIT 1
) seen ON true
WHERE s.network = $1 AND s.status = 'active'
GROUP BY s.zone_id
"""


def data_quality(row: asyncpg.Record, seen: tuple[int, int] = (0, 0)) -> str:
    """``ok``, how many stations are silent (the open data alert), or that no alert says so.

    ``seen`` is (silent, active stations) of the zone as the readings show them now: without
    a running evaluator no data alert is raised, and "ok" would be a claim without data.
    """
    if not row["data_level"]:
        if seen[0]:
            return (
                f"data unknown: {seen[0]} of {seen[1]} stations silent and no data alert "
                "open (is the evaluator running?)"
            )
        return "data ok"
    doc = _document(row["data_evidence"])
    silent = doc.get("stale_stations") or []
    if not silent:  # the alert holds its level for the hold time after the stations resumed
        return (
            f"data {level_name(row['data_level'])}: held while the hold time runs, every one "
            f"of {doc.get('stations', '?')} stations reporting again"
        )
    return (
        f"data {level_name(row['data_level'])}: {len(silent)} of {doc.get('stations', '?')} "
        f"stations silent ({', '.join(silent[:3])}{'…' if len(silent) > 3 else ''})"
    )


def status_lines(
    rows: list[asyncpg.Record], now: datetime, silent: dict[str, tuple[int, int]] | None = None
) -> list[str]:
    """One line per zone: level by name, since when (at that level), why, data quality."""
    width = max((len(r["name"]) for r in rows), default=4)
    silent = silent or {}
    out = []
    for r in rows:
        level = level_name(r["level"])
        # Since the event that set the current level (raised, escalated or de-escalated).
        at_level = r["evidence_at"] or r["risk_since"]
        since = _ago(at_level, now) if r["level"] else "-"
        reason = why(r["evidence"]) if r["level"] else "-"
        ack = f" ack by {r['risk_acknowledged_by']}" if r["risk_acknowledged_by"] else ""
        alert = f" alert {r['risk_alert_id']}" if r["risk_alert_id"] else ""
        out.append(
            f"{r['name']:{width}}  {level:9} since {since:32} why {reason}  "
            f"{data_quality(r, silent.get(r['id'], (0, 0)))}{alert}{ack}"
        )
    return out


def status(args: argparse.Namespace) -> int:
    """``encosta status``."""

    async def work(connection: asyncpg.Connection, network: str) -> int:
        rows = await records.zones(connection, network)
        if not rows:
            print(
                f"network {network!r} has no zones: load the registry with "
                "`encosta stations import`"
            )
            return 1
        counts = {
            r["zone_id"]: (int(r["silent"]), int(r["stations"]))
            for r in await connection.fetch(_SILENT, network, STALE_INTERVALS)
        }
        for line in status_lines(rows, datetime.now(UTC), counts):
            print(line)
        return 0

    return _connected(args, work)


def _alert_line(row: asyncpg.Record) -> str:
    ack = f" acknowledged by {row['acknowledged_by']}" if row["acknowledged_by"] else ""
    return (
        f"{row['id']:6} {row['status']:8} {row['kind']:5} {row['zone_id']:20} "
        f"{level_name(row['level']):9} raised {row['raised_at']:%Y-%m-%d %H:%M}{ack}"
    )


def alerts(args: argparse.Namespace) -> int:
    """``encosta alerts list|show|ack``."""

    async def work(connection: asyncpg.Connection, network: str) -> int:
        if args.alerts_command == "list":
            rows = await records.list_alerts(
                connection, network, args.status, args.zone, args.limit
            )
            for row in rows:
                print(_alert_line(row))
            if not rows:
                which = "" if args.status == "all" else f"{args.status} "
                print(f"no {which}alerts in network {network!r}")
            return 0
        if args.alerts_command == "show":
            row = await records.get_alert(connection, network, args.id)
            print(_alert_line(row))
            for e in await records.alert_events(connection, args.id):
                actor = f" by {e['actor']}" if e["actor"] else ""
                note = f" note: {e['note']}" if e["note"] else ""
                print(
                    f"  #{e['seq']} {e['at']:%Y-%m-%d %H:%M:%S} {e['transition']:12} "
                    f"{level_name(e['from_level'])} -> {level_name(e['to_level'])}{actor}"
                    f"  why {why(e['evidence'])}{note}"
                )
            for r in await receipts.alert_receipts(connection, args.id):
                note = f" note: {r.note}" if r.note else ""
                print(
                    f"  receipt #{r.seq} {r.at:%Y-%m-%d %H:%M:%S} {r.action:14} "
                    f"subscription {r.subscription_id} by {r.actor}{note}"
                )
            return 0
        done = await records.acknowledge(connection, network, args.id, args.by, args.note)
        print(
            f"alert {done.alert_id} acknowledged by {done.acknowledged_by} at "
            f"{done.acknowledged_at:%Y-%m-%d %H:%M:%S %Z} (transition #{done.seq})"
        )
        return 0

    return _connected(args, work)


def add_status_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``status``."""
    parser = sub.add_parser(
        "status",
        help="one line per zone: risk level, since when, why, data quality",
        description="One line per zone of ENCOSTA_NETWORK: the open risk alert's level "
        f"({level_choices()}), since when, the criteria behind it, and data quality "
        "(stations silent).",
    )
    parser.add_argument("--dsn", help=DSN_HELP)
    parser.set_defaults(func=status)


def add_alerts_commands(parser: argparse.ArgumentParser) -> None:
    """``list``, ``show ID`` and ``ack ID --by NAME`` under ``encosta alerts``."""
    sub = parser.add_subparsers(dest="alerts_command", metavar="[list|show|ack]")
    listing = sub.add_parser("list", help="alerts, newest first (open ones by default)")
    listing.add_argument(
        "--status", choices=["open", "cleared", "all"], default="open", help="default open"
    )
    listing.add_argument("--zone", help="only this zone's")
    listing.add_argument("--limit", type=int, default=100, help="at most this many (100)")
    show = sub.add_parser("show", help="one alert with its history and the evidence of each step")
    show.add_argument("id", type=int, help="the alert's id (encosta alerts list)")
    ack = sub.add_parser(
        "ack",
        help="acknowledge an open alert, as POST /alerts/ID/acknowledge does (the first "
        "acknowledgement wins; subscribers get it as a transition)",
    )
    ack.add_argument("id", type=int, help="the open alert's id (encosta alerts list)")
    ack.add_argument("--by", required=True, help="who acknowledges (a name or call sign)")
    ack.add_argument("--note", help="a note sent with the acknowledgement")
    for child in (listing, show, ack):
        child.add_argument("--dsn", help=DSN_HELP)
        child.set_defaults(func=alerts)
