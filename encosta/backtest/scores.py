"""Warning skill, pure: alert episodes, hit / miss / false alarm, POD, FAR, CSI and lead time.

An **episode** of a zone is a maximal run of evaluations whose *held* level (after the
lifecycle's hysteresis) is at or above the warning level (2, alert: the level that sounds
sirens). Against the simulated ground truth:

* a zone that failed is a **hit** when an episode is open at its first failure (start <=
  failure < end), with **lead time** = failure - start of *that* episode (not of the first
  episode ever: an early false alarm that closed is no lead); otherwise a **miss**;
* a zone that did not fail but had an episode is a **false alarm**; one with neither is
  quiet (a correct negative);
* an episode that contains no failure of its zone is a false episode;
* per **zone-day** (24 h from the run start) the same table: alerted on the day (an episode
  overlaps it) against failed on the day.

Scores from the contingency table (Wilks, *Statistical Methods in the Atmospheric Sciences*,
2011, ch. 8): POD = h / (h + m), FAR = f / (h + f) (false-alarm *ratio*), CSI = h / (h + m + f).
An undefined ratio (0 / 0) is NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

DAY_S = 86400.0


class Outcome(StrEnum):
    """What happened in one zone (or zone-day)."""

    HIT = "hit"
    MISS = "miss"
    FALSE_ALARM = "false_alarm"
    QUIET = "quiet"


@dataclass(frozen=True, slots=True)
class Episode:
    """One alert episode: from ``start_s`` until ``end_s`` (None: still open at the end)."""

    zone: str
    start_s: float
    end_s: float | None
    peak: int
    criterion: str  # what set the level when the episode opened

    def contains(self, t_s: float) -> bool:
        """Whether the episode is open at ``t_s``."""
        return self.start_s <= t_s and (self.end_s is None or t_s < self.end_s)

    def overlaps(self, a_s: float, b_s: float) -> bool:
        """Whether the episode is open at some time in ``[a_s, b_s)``."""
        return self.start_s < b_s and (self.end_s is None or self.end_s > a_s)


def episodes(
    zone: str,
    times_s: Sequence[float],
    levels: Sequence[int],
    criteria: Sequence[str],
    warn_level: int = 2,
) -> list[Episode]:
    """The episodes of one zone from its held level at each evaluation time."""
    out: list[Episode] = []
    start: int | None = None
    peak = 0
    for k, level in enumerate(levels):
        if level >= warn_level:
            if start is None:
                start, peak = k, level
            peak = max(peak, level)
        elif start is not None:
            out.append(Episode(zone, times_s[start], times_s[k], peak, criteria[start]))
            start = None
    if start is not None:
        out.append(Episode(zone, times_s[start], None, peak, criteria[start]))
    return out


@dataclass(frozen=True, slots=True)
class ZoneScore:
    """The outcome of one zone in one run."""

    zone: str
    outcome: Outcome
    failure_s: float | None  # first failure
    lead_h: float | None  # hits only
    episodes: int
    false_episodes: int
    criterion: str | None  # what opened the hit episode, or the first false one


def score_zone(zone: str, found: Sequence[Episode], failures_s: Iterable[float]) -> ZoneScore:
    """Hit, miss, false alarm or quiet for one zone; ``failures_s`` are its slopes' failures."""
    failures = sorted(failures_s)
    false = [e for e in found if not any(e.contains(t) for t in failures)]
    if not failures:
        outcome = Outcome.FALSE_ALARM if found else Outcome.QUIET
        criterion = found[0].criterion if found else None
        return ZoneScore(zone, outcome, None, None, len(found), len(false), criterion)
    first = failures[0]
    open_at = [e for e in found if e.contains(first)]
    if not open_at:
        criterion = false[0].criterion if false else None
        return ZoneScore(zone, Outcome.MISS, first, None, len(found), len(false), criterion)
    hit = open_at[0]
    lead = (first - hit.start_s) / 3600.0
    return ZoneScore(zone, Outcome.HIT, first, lead, len(found), len(false), hit.criterion)


def zone_days(
    found: Sequence[Episode], failures_s: Iterable[float], start_s: float, end_s: float
) -> list[Outcome]:
    """The outcome of each 24 h day of one zone (the last day may be shorter)."""
    failures = list(failures_s)
    out = []
    a = start_s
    while a < end_s:
        b = min(a + DAY_S, end_s)
        alerted = any(e.overlaps(a, b) for e in found)
        failed = any(a <= t < b for t in failures)
        if failed:
            out.append(Outcome.HIT if alerted else Outcome.MISS)
        else:
            out.append(Outcome.FALSE_ALARM if alerted else Outcome.QUIET)
        a = b
    return out


@dataclass(frozen=True, slots=True)
class Table:
    """A contingency table and its scores."""

    hits: int = 0
    misses: int = 0
    false_alarms: int = 0
    quiet: int = 0

    @classmethod
    def of(cls, outcomes: Iterable[Outcome]) -> Table:
        """Count outcomes."""
        counts = dict.fromkeys(Outcome, 0)
        for outcome in outcomes:
            counts[outcome] += 1
        return cls(
            counts[Outcome.HIT], counts[Outcome.MISS], counts[Outcome.FALSE_ALARM],
            counts[Outcome.QUIET],
        )  # fmt: skip

    @property
    def pod(self) -> float:
        """Probability of detection h / (h + m)."""
        return _ratio(self.hits, self.hits + self.misses)

    @property
    def far(self) -> float:
        """False-alarm ratio f / (h + f)."""
        return _ratio(self.false_alarms, self.hits + self.false_alarms)

    @property
    def csi(self) -> float:
        """Critical success index h / (h + m + f)."""
        return _ratio(self.hits, self.hits + self.misses + self.false_alarms)


def _ratio(a: int, b: int) -> float:
    return a / b if b else math.nan
