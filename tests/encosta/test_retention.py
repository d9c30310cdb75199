"""``encosta retention`` drops old readings chunks and keeps recent ones."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from encosta.cli import main
from encosta.retention import MIN_KEEP_DAYS

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = pytest.mark.services


async def test_retention_drops_only_chunks_older_than_the_cutoff(
    database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """Readings 60 days old go, yesterday's stay; less than the model reads back is refused."""
    await database.fetchval(
        "INSERT INTO readings (station_id, quantity, ts, value) VALUES"
        " ('rocinha-01', 'rain_mm', now() - interval '60 days', 1),"
        " ('rocinha-01', 'rain_mm', now() - interval '1 day', 2)"
    )
    await database.fetchval("SELECT encosta_refresh_rollup()")  # the rollups of both (0008/9)
    code = await asyncio.to_thread(
        main, ["retention", "--keep-days", str(MIN_KEEP_DAYS), "--dsn", database.dsn]
    )
    assert code == 0
    assert "dropped 1 readings chunk(s)" in capsys.readouterr().out
    assert await database.fetchval("SELECT array_agg(value) FROM readings") == [2.0]
    # The 15-minute rollup's one-day chunks go with the readings'; the recent day stays.
    assert await database.fetchval("SELECT array_agg(total) FROM readings_15m") == [2.0]
    recent = await database.fetchval(
        "SELECT count(*) FROM readings_rain_1d WHERE day > now() - interval '3 days'"
    )
    assert recent == 1
    for days in (0, MIN_KEEP_DAYS - 1):
        argv = ["retention", "--keep-days", str(days), "--dsn", database.dsn]
        assert await asyncio.to_thread(main, argv) == 2
    assert "at least 35" in capsys.readouterr().err
