"""The alert tables enforce one open alert per (zone, kind) and an append-only history."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg
import pytest

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = pytest.mark.services

_OPEN = (
    "INSERT INTO alerts (network, zone_id, kind, level, raised_at, updated_at)"
    " VALUES ($1, 'rocinha', $2, 1, now(), now()) RETURNING id"
)


async def test_one_open_alert_per_zone_and_kind(database: Database) -> None:
    """A second open alert of the same zone and kind violates the partial unique index."""
    first = await database.fetchval(_OPEN, database.network, "risk")
    await database.fetchval(_OPEN, database.network, "data")
    with pytest.raises(asyncpg.UniqueViolationError):
        await database.fetchval(_OPEN, database.network, "risk")
    await database.fetchval("UPDATE alerts SET status = 'cleared' WHERE id = $1", first)
    assert await database.fetchval(_OPEN, database.network, "risk") != first


async def test_alert_events_are_append_only(database: Database) -> None:
    """Updating or deleting a recorded transition is refused."""
    alert = await database.fetchval(_OPEN, database.network, "risk")
    await database.fetchval(
        "INSERT INTO alert_events (alert_id, seq, transition, from_level, to_level, evidence, at)"
        " VALUES ($1, 1, 'raised', 0, 1, '{}', now())",
        alert,
    )
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await database.fetchval("UPDATE alert_events SET to_level = 2")
    with pytest.raises(asyncpg.RaiseError, match="append-only"):
        await database.fetchval("DELETE FROM alert_events")
