"""Community reports as evidence: a confirmed sign of instability raises a zone to attention.

Residents and community agents report what precedes many failures (new cracks, leaning poles
or trees, water springing from the slope, small slides, blocked drains). An operator confirms
or dismisses each; only confirmed reports count. The rule is deliberately small and one-sided:
``confirmed`` reports of a zone within the last ``window`` raise its level to at least
ATTENTION (``min_reports``, default 1), and to at least ALERT when ``alert_reports`` or more
(default 3) of them agree — a report never lowers a level, and never makes a zone CRISIS on its
own (the model's physics and corroboration keep that decision).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from models.result import Level


class Category(enum.StrEnum):
    """The closed list of signs a report can name."""

    CRACK = "crack"  # new crack in a wall or in the ground
    LEANING = "leaning"  # leaning pole, tree or wall
    SPRING = "spring"  # new spring, water seeping from the slope
    SLIDE = "slide"  # small slide, fallen soil or rock
    DRAIN = "drain"  # blocked drain or channel
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class ReportRule:
    """How many confirmed reports move a zone to which level."""

    min_reports: int = 1
    alert_reports: int = 3
    window_hours: float = 24.0


def report_level(confirmed: int, rule: ReportRule | None = None) -> int:
    """The level ``confirmed`` reports of one zone support on their own (0, 1 or 2)."""
    rule = rule or ReportRule()
    if confirmed >= rule.alert_reports:
        return int(Level.ALERT)
    if confirmed >= rule.min_reports:
        return int(Level.ATTENTION)
    return int(Level.NORMAL)


def with_reports(level: int, confirmed: int, rule: ReportRule | None = None) -> int:
    """The zone's level once its confirmed reports are counted: never lower than ``level``."""
    return max(level, report_level(confirmed, rule))
