"""Alert lifecycle of one (zone, kind): raise and escalate at once, step down after a hold.

Pure: the caller passes the previous state, the model's proposed level and the time, and gets
back the next state and the transition to record, if any. The hold logic is
:class:`models.Hysteresis`; this module maps its level changes to named transitions::

    none --(level > 0)--> raised --(higher)--> escalated
      ^                      |                     |
      +----- cleared <--(0 after hold)-- de-escalated <--(lower after hold)

Acknowledgement is an operator action on an open alert and does not change its level.
An open alert nobody acknowledged in time is sent to fallback contacts as ``unacknowledged``
(:mod:`alerts.fallback`): a webhook event, not a row of ``alert_events``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models import Hysteresis

if TYPE_CHECKING:
    from datetime import datetime, timedelta


class Transition(enum.StrEnum):
    """Transitions of an alert, recorded and sent.

    All but ``UNACKNOWLEDGED`` are rows of ``alert_events.transition``; that one is the
    fallback escalation, sent as ``alert.unacknowledged`` but not recorded as an event.
    """

    RAISED = "raised"
    ESCALATED = "escalated"
    DEESCALATED = "de-escalated"
    ACKNOWLEDGED = "acknowledged"
    CLEARED = "cleared"
    UNACKNOWLEDGED = "unacknowledged"

    @property
    def recorded(self) -> bool:
        """Whether this transition is a row of ``alert_events`` (all but the fallback's)."""
        return self is not Transition.UNACKNOWLEDGED


RECORDED = frozenset(t for t in Transition if t.recorded)


@dataclass(frozen=True, slots=True)
class AlertState:
    """Level held by an open alert and its pending de-escalation (level 0: no open alert)."""

    level: int = 0
    below_since: datetime | None = None
    below_max: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.level <= 3 or not 0 <= self.below_max <= 3:
            raise ValueError(f"levels must lie in 0..3, got {self.level}, {self.below_max}")


@dataclass(frozen=True, slots=True)
class Step:
    """Outcome of one evaluation: the next state and the transition to record (or None)."""

    previous: AlertState
    state: AlertState
    transition: Transition | None

    @property
    def from_level(self) -> int:
        """Level before this evaluation."""
        return self.previous.level

    @property
    def to_level(self) -> int:
        """Level after this evaluation."""
        return self.state.level

    @property
    def changed(self) -> bool:
        """Whether the stored state differs from the previous one (a write is needed)."""
        return self.state != self.previous


def _classify(before: int, after: int) -> Transition | None:
    if after == before:
        return None
    if before == 0:
        return Transition.RAISED
    if after == 0:
        return Transition.CLEARED
    return Transition.ESCALATED if after > before else Transition.DEESCALATED


def advance(
    previous: AlertState,
    proposed: int,
    at: datetime,
    hold: timedelta,
    *,
    unknown: bool = False,
) -> Step:
    """The next state of a zone alert after the model proposed ``proposed`` at ``at``.

    ``unknown`` means the data could not rule out a higher level: it never starts or advances
    a de-escalation (no data is never evidence that the danger has passed).
    """
    if not 0 <= proposed <= 3:
        raise ValueError(f"proposed level must lie in 0..3, got {proposed}")
    epoch = at.timestamp()
    held = Hysteresis(
        hold_s=hold.total_seconds(),
        level=previous.level,
        below_since_s=None if previous.below_since is None else previous.below_since.timestamp(),
        below_max=previous.below_max,
    ).update(proposed, epoch, unknown=unknown)
    # Hysteresis keeps its start time, restarts it now, or drops it: map back without float
    # round trips so the stored timestamptz stays exact.
    since: datetime | None = None
    if held.below_since_s == epoch:
        since = at
    elif held.below_since_s is not None:
        since = previous.below_since
    if held.level == 0 or since is None:
        state = AlertState(held.level)
    else:
        state = AlertState(held.level, since, held.below_max)
    return Step(previous, state, _classify(previous.level, state.level))
