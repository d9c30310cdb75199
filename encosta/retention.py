"""Retention of old readings: ``encosta retention``.

Where ``timescaledb.license = 'timescale'`` a retention policy (``add_retention_policy``) can do
this in the database; on the Apache edition there are no background jobs, so an operator runs
``encosta retention`` daily (cron or a systemd timer). It drops whole one-day chunks whose
readings are all older than the cutoff, through ``encosta_apply_retention`` (migration 0001).
"""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from alerts.antecedent import ANTECEDENT_DAYS
from encosta.errors import EncostaError

# What the model reads back: the 30-day antecedent record before the 96 h window, plus the
# day the window's start falls in. Keeping less would silently shorten the record (issue 9).
MIN_KEEP_DAYS = ANTECEDENT_DAYS + 4 + 1


async def apply_retention(dsn: str, keep_days: int) -> int:
    """Drop readings chunks older than ``keep_days``; return how many were dropped."""
    if keep_days < MIN_KEEP_DAYS:
        raise EncostaError(
            f"--keep-days must be at least {MIN_KEEP_DAYS}: the model reads the"
            f" {ANTECEDENT_DAYS}-day antecedent record before its 96 h window from these tables"
        )
    connection = await asyncpg.connect(dsn)
    try:
        dropped: int = await connection.fetchval(
            "SELECT encosta_apply_retention($1::interval)", timedelta(days=keep_days)
        )
    finally:
        await connection.close()
    return dropped
