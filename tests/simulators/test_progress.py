"""The publication's progress: a rich bar on a terminal, log lines otherwise."""

from __future__ import annotations

import io
import logging

import pytest

from simulators.progress import Progress
from simulators.publisher import PublishStats


class Tty(io.StringIO):
    """A buffer that says it is a terminal."""

    def isatty(self) -> bool:
        """Pretend to be one."""
        return True


def test_a_terminal_gets_a_bar_with_counts_and_simulated_time() -> None:
    """The bar shows acknowledged of total messages and the simulated clock."""
    out = Tty()
    progress = Progress(out, tty=True)
    stats = PublishStats(total=10, acked=3, sim_ts=1_270_000_000.0)
    progress(stats)
    stats.acked = 10
    progress(stats)
    progress.close()
    text = out.getvalue()
    assert "10/10" in text
    assert "2010-03-31" in text


def test_elsewhere_progress_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    """Without a terminal, the progress goes to the log, the last state included."""
    out = io.StringIO()
    progress = Progress(out, tty=False, log_every_s=3600)
    with caplog.at_level(logging.INFO, logger="simulators.progress"):
        progress(PublishStats(total=4, acked=1))
        progress(PublishStats(total=4, acked=4))
    progress.close()
    assert out.getvalue() == ""
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2
    assert "4/4 msgs" in messages[-1]
