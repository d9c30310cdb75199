"""Run a service coroutine with graceful SIGTERM/SIGINT handling."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable


async def run_until_signal(run: Callable[[], Awaitable[None]], stop: Callable[[], None]) -> None:
    """Await ``run()``; the first SIGTERM or SIGINT calls ``stop()`` so the service drains."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop)
    try:
        await run()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
