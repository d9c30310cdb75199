"""The API's hourly retention tick: report personal data past retention, ended rate windows.

Run by :class:`runtime.periodic.Periodic` under the API's TaskGroup (``alerts.api.app``); a
failing tick (the database is down) is logged and the next hour tries again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from alerts import reports

if TYPE_CHECKING:
    import asyncpg

    from alerts.api.rate_limit import ReportRateLimit

log = logging.getLogger("encosta.api.reports")
PERIOD_S = 3600.0


class ReportRetention:
    """Drop contact, text and photo of reports older than ``days``; prune the rate limit."""

    def __init__(self, pool: asyncpg.Pool, days: float, limit: ReportRateLimit | None) -> None:
        self.pool = pool
        self.days = days
        self.limit = limit

    async def purge_once(self) -> int:
        """One purge; the number of reports whose personal data went."""
        before = datetime.now(UTC) - timedelta(days=self.days)
        async with self.pool.acquire() as connection:
            return await reports.purge(connection, before)

    async def tick(self) -> None:
        """The purge, then the rate limit's ended windows."""
        purged = await self.purge_once()
        if purged:
            log.info("report personal data purged", extra={"reports": purged})
        if self.limit is not None:
            pruned = await self.limit.prune()
            if pruned:
                log.info("ended rate limit windows pruned", extra={"rows": pruned})
