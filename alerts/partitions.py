"""Zone partitions of one network, each owned by one evaluator through an advisory lock.

A network's zones fall into ``count`` partitions by a stable hash of the zone id. Partition
``p`` is owned by whoever holds the session-level advisory lock ``(network key, p)`` on its
dedicated connection; every evaluator also holds the shared "member" lock ``(network key,
MEMBER)`` so that each can count the live evaluators of the network in ``pg_locks``.

Each :meth:`PartitionLease.rebalance` (once per evaluation interval) moves towards a fair share
``ceil(count / members)``: an evaluator above it releases its highest partitions, one below it
takes free ones. The shares add up to at least ``count``, so every partition has an owner
within two rebalances of any change. When an evaluator dies its session ends, PostgreSQL
releases its locks at once, and the others take its partitions at their next rebalance (at
most one interval later). Ownership only decides who *evaluates*; a transition itself is
decided under the alert row lock, so a brief overlap during a handover never records one twice.

The same connection LISTENs on ``encosta_readings`` (one NOTIFY per ingest batch, payload the
network) so that new data wakes the evaluator at once instead of at the next interval.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
from typing import TYPE_CHECKING, Self

import asyncpg

if TYPE_CHECKING:
    from types import TracebackType

log = logging.getLogger("encosta.alerts.partitions")

READINGS_CHANNEL = "encosta_readings"
MEMBER = 2**31 - 1  # second advisory-lock key of the membership lock (partitions are 0..n-1)


def network_key(network: str) -> int:
    """The first advisory-lock key of ``network`` (a signed 32-bit hash)."""
    digest = hashlib.blake2b(f"encosta-alerts:{network}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def partition_of(zone_id: str, count: int) -> int:
    """The partition of ``zone_id`` among ``count`` (stable across processes and versions)."""
    digest = hashlib.blake2b(zone_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % count


class PartitionLease:
    """The partitions one evaluator owns; an async context manager holding the lock session."""

    def __init__(self, dsn: str, network: str, count: int, wake: asyncio.Event) -> None:
        self.dsn = dsn
        self.network = network
        self.count = count
        self.key = network_key(network)
        self.owned: frozenset[int] = frozenset()
        self._wake = wake
        self._conn: asyncpg.Connection | None = None

    async def __aenter__(self) -> Self:
        await self._connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._conn is not None:
            async with asyncio.timeout(10):
                await self._conn.close()  # ends the session: every lock is released with it

    async def _connect(self) -> None:
        self.owned = frozenset()
        self._conn = await asyncpg.connect(self.dsn)
        await self._conn.add_listener(READINGS_CHANNEL, self._on_readings)
        await self._conn.fetchval("SELECT pg_advisory_lock_shared($1, $2)", self.key, MEMBER)

    def _on_readings(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        if payload in {"", self.network}:
            self._wake.set()

    @property
    def alive(self) -> bool:
        """Whether the lock session is open (a closed one owns nothing)."""
        return self._conn is not None and not self._conn.is_closed()

    async def reconnect(self) -> None:
        """Open a new lock session after the old one died; ownership starts from nothing."""
        if self.alive:
            return
        self.owned = frozenset()
        await self._connect()

    async def members(self) -> int:
        """Live evaluators of the network (holders of the shared member lock)."""
        assert self._conn is not None, "use PartitionLease as an async context manager"
        count: int = await self._conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " AND classid = $1::int4::oid AND objid = $2::int4::oid AND objsubid = 2",
            self.key,
            MEMBER,
        )
        return max(1, count)

    async def rebalance(self) -> frozenset[int]:
        """Release partitions above the fair share, take free ones below it; return the owned."""
        assert self._conn is not None, "use PartitionLease as an async context manager"
        share = math.ceil(self.count / await self.members())
        owned = set(self.owned)
        for partition in sorted(owned, reverse=True)[: max(0, len(owned) - share)]:
            await self._conn.fetchval("SELECT pg_advisory_unlock($1, $2)", self.key, partition)
            owned.discard(partition)
        for partition in range(self.count):
            if len(owned) >= share:
                break
            if partition not in owned and await self._conn.fetchval(
                "SELECT pg_try_advisory_lock($1, $2)", self.key, partition
            ):
                owned.add(partition)
        if owned != self.owned:
            log.info(
                "evaluator owns partitions",
                extra={"network": self.network, "partitions": sorted(owned), "count": self.count},
            )
        self.owned = frozenset(owned)
        return self.owned
