"""Which webhook answers are worth retrying, and how long the receiver asks us to wait.

How long a retry then waits is :mod:`runtime.backoff`'s business.
"""

from __future__ import annotations

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
