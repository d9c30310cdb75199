"""``encosta reports list|confirm|dismiss``: operators review community reports.

Through the same code as the ops API (:mod:`alerts.reports`), as the API's database role
(``ENCOSTA_API_PG_DSN``, else ``ENCOSTA_PG_DSN``, else the local stack as ``encosta_api``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from datetime import UTC, datetime
from typing import Any

from encosta.errors import ConfigError
from runtime import settings
from runtime.settings import Environment


def add_parser(sub: Any) -> argparse.ArgumentParser:  # noqa: ANN401  argparse's private type
    """Register ``reports`` on the CLI's subparsers."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "reports",
        help="list, confirm or dismiss community reports of signs of instability "
        "(settings: ENCOSTA_API_PG_DSN or ENCOSTA_PG_DSN, ENCOSTA_NETWORK)",
    )
    parser.add_argument("--dsn", default=None, help="database DSN (default: the API's)")
    commands = parser.add_subparsers(dest="reports_command", required=True)
    listing = commands.add_parser("list", help="reports, newest first")
    listing.add_argument(
        "--status",
        choices=("new", "confirmed", "dismissed"),
        default=None,
        help="only reports in this state (default: all)",
    )
    listing.add_argument("--zone", default=None, help="only this zone")
    listing.add_argument("--limit", type=int, default=50, help="at most this many (50)")
    for name, what in (("confirm", "count it as evidence"), ("dismiss", "stop counting it")):
        review = commands.add_parser(name, help=f"{name} a report ({what})")
        review.add_argument("id", type=int, help="report id (see `encosta reports list`)")
        review.add_argument("--by", required=True, help="who reviewed it")
        review.add_argument("--note", default=None, help="why")
    parser.set_defaults(func=run)
    return parser


def run(args: argparse.Namespace) -> int:
    """Run one ``reports`` subcommand."""
    import asyncpg  # noqa: PLC0415  keeps `encosta --help` light

    from alerts import reports  # noqa: PLC0415

    env = Environment(os.environ, ConfigError)
    dsn = args.dsn or settings.service_dsn(env, "api")
    network = settings.network(env)

    async def main() -> int:
        connection = await asyncpg.connect(dsn)
        try:
            if args.reports_command == "list":
                rows = await reports.list_reports(
                    connection, network, status=args.status, zone_id=args.zone, limit=args.limit
                )
                for r in rows:
                    photo = " photo" if r["has_photo"] else ""
                    sys.stdout.write(
                        f"{r['id']:6} {r['created_at']:%Y-%m-%d %H:%M} {r['status']:9} "
                        f"{r['zone_id']:14} {r['category']:8} {r['source']:8}{photo} "
                        f"{r['description'][:60]}\n"
                    )
                return 0
            status = "confirmed" if args.reports_command == "confirm" else "dismissed"
            await reports.review(
                connection,
                network,
                args.id,
                status=status,
                by=args.by,
                at=datetime.now(UTC),
                note=args.note,
            )
            sys.stdout.write(f"report {args.id} {status} by {args.by}\n")
            return 0
        finally:
            await connection.close()

    return asyncio.run(main())
