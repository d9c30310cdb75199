"""The hourly purge of community reports' personal data, run by the API (an async context)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from typing import Self

import asyncpg

from alerts import reports

log = logging.getLogger("encosta.api.reports")
PERIOD_S = 3600.0


class ReportRetention:
    """Every hour: drop contact, text and photo of reports older than ``days``."""

    def __init__(self, pool: asyncpg.Pool, days: float, period_s: float = PERIOD_S) -> None:
        self.pool = pool
        self.days = days
        self.period_s = period_s
        self._task: asyncio.Task[None] | None = None

    async def purge_once(self) -> int:
        """One purge; the number of reports whose personal data went."""
        before = datetime.now(UTC) - timedelta(days=self.days)
        async with self.pool.acquire() as connection:
            return await reports.purge(connection, before)

    async def _run(self) -> None:
        while True:
            try:
                purged = await self.purge_once()
                if purged:
                    log.info("report personal data purged", extra={"reports": purged})
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("report purge failed", extra={"error": type(exc).__name__})
            await asyncio.sleep(self.period_s)

    async def __aenter__(self) -> Self:
        """Start the hourly purge."""
        self._task = asyncio.create_task(self._run(), name="report-retention")
        return self

    async def __aexit__(self, *_: object) -> None:
        """Stop it."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
