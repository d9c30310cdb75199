"""The demo's live view: what an operations centre would watch while a storm unfolds.

On a terminal, a rich ``Live`` display redrawn as the replay steps through simulated time:
the simulated clock, readings per second, stored and rejected counts, one row per zone with
its level (by name), since when and why, and the latest alert transitions and webhook
deliveries. Elsewhere (stdout piped to a file or a test), plain lines: one per alert
transition as it happens and a progress line per simulated 12 hours, nothing redrawn.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Self

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from encosta.manual import level_name

if TYPE_CHECKING:
    from types import TracebackType

STYLES = ("green", "yellow", "dark_orange", "bold red")  # normal, attention, alert, crisis
_PLAIN_EVERY_S = 12 * 3600.0


def when(epoch: float) -> str:
    """``2010-04-05 18:00 UTC``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(slots=True)
class ZoneRow:
    """What the view shows of one zone."""

    name: str
    level: int = 0
    since_s: float | None = None
    why: str = "-"
    data_level: int = 0


@dataclass(slots=True)
class Counters:
    """The pipeline's counters at one moment."""

    sim_s: float = 0.0
    published: int = 0
    stored: int = 0
    rejected: int = 0
    deliveries: int = 0
    verified: int = 0


@dataclass
class LiveView:
    """Shown while the demo runs; an async-free context manager around rich's ``Live``."""

    console: Console
    start_s: float
    end_s: float
    zones: dict[str, ZoneRow]
    counters: Counters = field(default_factory=Counters)
    events: deque[str] = field(default_factory=lambda: deque(maxlen=8))
    _live: Live | None = None
    _started: float = field(default_factory=time.monotonic)
    _rate: tuple[float, int] = (0.0, 0)
    _readings_per_s: float = 0.0
    _next_plain_s: float = 0.0

    @property
    def interactive(self) -> bool:
        """Whether the view redraws (a terminal) or prints lines."""
        return self.console.is_terminal

    def __enter__(self) -> Self:
        """Start drawing (on a terminal)."""
        self._next_plain_s = self.start_s + _PLAIN_EVERY_S
        if self.interactive:
            self._live = Live(self._render(), console=self.console, refresh_per_second=4)
            self._live.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Leave the last frame on screen."""
        if self._live is not None:
            self._live.update(self._render())
            self._live.__exit__(exc_type, exc, tb)
            self._live = None

    def _hours(self, epoch: float) -> str:
        return f"{(epoch - self.start_s) / 3600:+.1f} h"

    def transition(  # noqa: PLR0913, PLR0917  what one transition says
        self, at_s: float, zone: str, kind: str, transition: str, to_level: int, why: str
    ) -> None:
        """An alert transition happened at simulated ``at_s``."""
        row = self.zones[zone]
        if kind == "risk":
            row.since_s = at_s if to_level else None
            if to_level != row.level or transition in {"raised", "escalated"}:
                row.why = why if to_level else "-"
            row.level = to_level
        else:
            row.data_level = to_level
        line = (
            f"{self._hours(at_s):>8}  {row.name}: {kind} {transition} -> "
            f"{level_name(to_level)}" + (f" ({why})" if why != "-" and kind == "risk" else "")
        )
        self.events.append(line)
        if not self.interactive:
            self.console.print(line, highlight=False, soft_wrap=True)

    def update(self, counters: Counters) -> None:
        """New counters; redraw (or, piped, print a line every 12 simulated hours)."""
        now = time.monotonic()
        last_t, last_n = self._rate
        if now - last_t >= 1.0:
            if last_t:
                self._readings_per_s = (counters.stored - last_n) / (now - last_t)
            self._rate = (now, counters.stored)
        self.counters = counters
        if self._live is not None:
            self._live.update(self._render())
        elif counters.sim_s >= self._next_plain_s:
            self._next_plain_s += _PLAIN_EVERY_S
            self.console.print(self._status_line(), highlight=False, soft_wrap=True)

    def _status_line(self) -> str:
        c = self.counters
        return (
            f"sim {when(c.sim_s)} ({self._hours(c.sim_s)} of "
            f"{(self.end_s - self.start_s) / 3600:.0f} h)  readings stored {c.stored:,} "
            f"({self._readings_per_s:,.0f}/s)  rejected {c.rejected:,}  "
            f"webhooks {c.deliveries} ({c.verified} verified)"
        )

    def _render(self) -> Group:
        table = Table(title=None, expand=False, show_edge=False, pad_edge=False)
        for column in ("zone", "level", "since", "why", "data"):
            table.add_column(column, no_wrap=column in {"zone", "level", "since"})
        for row in self.zones.values():
            table.add_row(
                row.name,
                Text(level_name(row.level), style=STYLES[row.level]),
                "-" if row.since_s is None else self._hours(row.since_s),
                row.why,
                "ok" if not row.data_level else Text(level_name(row.data_level), style="yellow"),
            )
        share = (self.counters.sim_s - self.start_s) / max(self.end_s - self.start_s, 1.0)
        head = Text(f"{self._status_line()}  [{max(0.0, min(share, 1.0)):.0%}]")
        events = Text("\n".join(self.events) or "no alert transition yet", style="dim")
        return Group(head, table, Text("latest transitions", style="bold"), events)
