"""Progress of a publication: a bar on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from simulators.publisher import PublishStats

_log = logging.getLogger("simulators.progress")
_WIDTH = 24


def _clock(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%MZ") if ts else "-"


class Progress:
    """Callable passed to :func:`simulators.publish` as ``on_progress``."""

    def __init__(self, stream: TextIO, *, tty: bool, log_every_s: float = 10.0) -> None:
        self.stream = stream
        self.tty = tty
        self.log_every_s = log_every_s
        self._last_log = 0.0
        self._drawn = False

    def __call__(self, stats: PublishStats) -> None:
        """Show the current state of ``stats``."""
        share = stats.acked / stats.total if stats.total else 1.0
        line = (
            f"sim {_clock(stats.sim_ts)}  {stats.acked:,}/{stats.total:,} msgs  "
            f"{stats.rate:,.0f} msg/s"
        )
        if stats.reconnects:
            line += f"  reconnects {stats.reconnects}"
        if self.tty:
            filled = round(share * _WIDTH)
            bar = "#" * filled + "-" * (_WIDTH - filled)
            self.stream.write(f"\r[{bar}] {share:4.0%}  {line}\x1b[K")
            self.stream.flush()
            self._drawn = True
            return
        now = time.monotonic()
        if now - self._last_log >= self.log_every_s or stats.acked == stats.total:
            self._last_log = now
            _log.info("%3.0f%%  %s", share * 100, line)

    def close(self) -> None:
        """End the bar's line."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
