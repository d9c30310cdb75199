"""Retry policy of webhook deliveries: which failures retry, and how long to wait."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRYABLE_STATUS = frozenset({408, 429})


def retryable_status(status: int) -> bool:
    """5xx, 408 and 429 are worth retrying; any other non-2xx answer will not change."""
    return status >= 500 or status in RETRYABLE_STATUS


def retry_after_s(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def delay_s(attempts: int, base_s: float, max_s: float, retry_after: float | None = None) -> float:
    """Wait before attempt ``attempts + 1``: capped exponential with jitter, >= Retry-After.

    Jitter spreads the retries of many messages to one failing endpoint over time instead of
    sending them in bursts (Grafana #102282).
    """
    ceiling = min(max_s, base_s * 2 ** min(max(attempts - 1, 0), 30))
    wait = random.uniform(ceiling / 2, ceiling)  # noqa: S311  jitter, not cryptography
    if retry_after is not None:
        wait = max(wait, min(retry_after, max_s))
    return wait
