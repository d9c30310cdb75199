"""Progress of a publication: a rich progress bar on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import logging
import math
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TaskProgressColumn, TextColumn
from rich.progress import Progress as Bar

if TYPE_CHECKING:
    from simulators.publisher import PublishStats

_log = logging.getLogger("simulators.progress")


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%MZ") if ts else "-"


class Progress:
    """Callable passed to :func:`simulators.publish` as ``on_progress``."""

    def __init__(self, stream: TextIO, *, tty: bool, log_every_s: float = 10.0) -> None:
        self.tty = tty
        self.log_every_s = log_every_s
        self._last_log = -math.inf  # the first state is logged (monotonic may start near 0)
        self._bar: Bar | None = None
        self._task: TaskID | None = None
        if tty:
            self._bar = Bar(
                BarColumn(),
                TaskProgressColumn(),
                MofNCompleteColumn(),
                TextColumn("msgs  sim {task.fields[sim]}  {task.fields[rate]}"),
                console=Console(file=stream),
            )

    def __call__(self, stats: PublishStats) -> None:
        """Show the current state of ``stats``."""
        rate = f"{stats.rate:,.0f} msg/s"
        if stats.reconnects:
            rate += f"  reconnects {stats.reconnects}"
        if self._bar is not None:
            if self._task is None:
                self._bar.start()
                self._task = self._bar.add_task("publish", total=stats.total, sim="-", rate="")
            self._bar.update(self._task, completed=stats.acked, sim=_clock(stats.sim_ts), rate=rate)
            return
        now = time.monotonic()
        if now - self._last_log >= self.log_every_s or stats.acked == stats.total:
            self._last_log = now
            share = stats.acked / stats.total if stats.total else 1.0
            _log.info(
                "%3.0f%%  sim %s  %s/%s msgs  %s",
                share * 100,
                _clock(stats.sim_ts),
                f"{stats.acked:,}",
                f"{stats.total:,}",
                rate,
            )

    def close(self) -> None:
        """Stop the bar, leaving its last state on screen."""
        if self._bar is not None and self._task is not None:
            self._bar.stop()
