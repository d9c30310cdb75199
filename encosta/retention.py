"""Retention of old readings: ``encosta retention``.

Where ``timescaledb.license = 'timescale'`` a retention policy (``add_retention_policy``) can do
this in the database; on the Apache edition there are no background jobs, so an operator runs
``encosta retention`` daily (cron or a systemd timer). It drops whole one-day chunks whose
readings are all older than the cutoff, through ``encosta_apply_retention`` (migration 0001).
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from encosta.errors import EncostaError


async def apply_retention(dsn: str, keep_days: int) -> int:
    """Drop readings chunks older than ``keep_days``; return how many were dropped."""
    if keep_days < 1:
        raise EncostaError("--keep-days must be at least 1: retention never empties the table")
    connection = await asyncpg.connect(dsn)
    try:
        dropped: int = await connection.fetchval(
            "SELECT encosta_apply_retention($1::interval)", timedelta(days=keep_days)
        )
    finally:
        await connection.close()
    return dropped
