"""The community reports' rate limit, kept in the database and shared by every API process.

Each client has a fixed window: its first admitted report opens one of ``window_s`` (an hour),
in which at most ``per_window`` reports are admitted; the next report after the window ends
opens a new one. Counting is one statement (``INSERT … ON CONFLICT … DO UPDATE … WHERE …
RETURNING``): PostgreSQL locks the client's row and re-checks the condition on its newest
version, so concurrent requests on any number of API processes never admit more than the
limit, and the count survives a restart of the API. The clock is the database's (``now()``),
the same for every replica. A fixed window can admit up to twice the limit across a window's
end (a burst at its last second, another at the next one's first): the bound in any sliding
hour is twice ``per_window``.

**What is stored:** the client is named by ``HMAC-SHA256(key, network, address)``
with a secret ``key`` (``ENCOSTA_REPORTS_RATE_KEY[_FILE]``), never by its address: without the
key, a copy of the table does not say which addresses reported (an unkeyed hash of the 2³²
IPv4 addresses would be reversed in minutes). An IPv6 client is counted by its /64, the block
one subscriber line gets, or a client could use a fresh address per report. Rows whose window
has ended are deleted by the API's hourly retention task (:meth:`prune`).

**While the database is down** the statement fails and the API answers 503 with
``Retry-After`` (its handler of database errors): the report could not be stored anyway, and
neither admitting unlimited reports nor a 429 (blaming the client) would be true.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import asyncpg

WINDOW_S = 3600.0
_COUNT = """
WITH admitted AS (
    INSERT INTO report_rate_limits AS r (key, window_start, hits) VALUES ($1, now(), 1)
    ON CONFLICT (key) DO UPDATE SET
        window_start = CASE WHEN r.window_start <= now() - $3::interval
                            THEN now() ELSE r.window_start END,
        hits = CASE WHEN r.window_start <= now() - $3::interval THEN 1 ELSE r.hits + 1 END
    WHERE r.window_start <= now() - $3::interval OR r.hits < $2::integer
    RETURNING r.hits
)
SELECT (SELECT hits FROM admitted) AS hits,
       (SELECT extract(epoch FROM l.window_start + $3::interval - now())::float8
        FROM report_rate_limits l WHERE l.key = $1) AS wait_s
"""
_PRUNE = "DELETE FROM report_rate_limits WHERE window_start <= now() - $1::interval"


def client_address(host: str) -> str:
    """What a client is counted by: its IPv4 address, its IPv6 /64, or ``host`` as given."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class ReportRateLimit:
    """At most ``per_window`` reports per client per window, counted in ``report_rate_limits``."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        network: str,
        key: bytes,
        per_window: int,
        window_s: float = WINDOW_S,
    ) -> None:
        if not key:
            raise ValueError("the rate limit's key must not be empty")
        self.pool = pool
        self.network = network
        self.per_window = per_window
        self.window = timedelta(seconds=window_s)
        self._key = key

    def client_key(self, host: str) -> bytes:
        """The 32 bytes stored for the client at ``host`` (keyed: not reversible without it)."""
        message = f"{self.network}\x00{client_address(host)}".encode()
        return hmac.new(self._key, message, hashlib.sha256).digest()

    async def allow(self, host: str) -> float | None:
        """None if the report is admitted (and counted), else seconds until one will be.

        Database errors propagate (the API answers them 503).
        """
        row = await self.pool.fetchrow(_COUNT, self.client_key(host), self.per_window, self.window)
        if row is None:  # a SELECT without FROM: always one row
            raise RuntimeError("the rate limit's count returned no row")
        if row["hits"] is not None:
            return None
        wait = row["wait_s"]
        # No visible row: it was written by a request that committed after this statement began.
        return self.window.total_seconds() if wait is None else max(float(wait), 0.0)

    async def prune(self) -> int:
        """Delete the rows whose window has ended; how many went."""
        status: str = await self.pool.execute(_PRUNE, self.window)
        return int(status.rsplit(" ", 1)[-1])
