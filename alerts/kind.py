"""What an alert is about (``alerts.kind``, migration 0002): one open alert per (zone, kind)."""

from __future__ import annotations

from enum import StrEnum


class AlertKind(StrEnum):
    """The kinds of alert a zone can have open at once."""

    RISK = "risk"  # the model's landslide risk
    DATA = "data"  # stale stations: missing data is unknown risk, never "all clear"
