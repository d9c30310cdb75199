"""A periodic task: ``tick`` now, then every ``period_s``, as an async context manager.

The loop runs as a task of the :class:`asyncio.TaskGroup` it is given (the service's), never
as a fire-and-forget task: leaving the context cancels it and waits for it, so the service's
shutdown finds it gone, and a service that leaves its TaskGroup without leaving the context
(an error elsewhere) cancels it there. A tick that raises is logged with its exception and
the loop goes on at the next period: a failing purge or refresh never stops the service,
and never repeats faster than ``period_s``. Cancellation is not caught.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

log = logging.getLogger("encosta.runtime.periodic")


class Periodic:
    """Run ``tick`` every ``period_s`` seconds under ``group`` while the context is open."""

    def __init__(
        self,
        group: asyncio.TaskGroup,
        name: str,
        tick: Callable[[], Awaitable[object]],
        period_s: float,
    ) -> None:
        if period_s <= 0:
            raise ValueError(f"{name}: period_s must be positive, not {period_s}")
        self.group = group
        self.name = name
        self.tick = tick
        self.period_s = period_s
        self.ticks = 0  # ticks that returned
        self.failures = 0  # ticks that raised
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:  # a failing tick is logged, the loop survives it
                self.failures += 1
                log.exception("periodic task failed", extra={"task": self.name})
            else:
                self.ticks += 1
            await asyncio.sleep(self.period_s)

    async def __aenter__(self) -> Self:
        """Start the loop (its first tick runs as soon as the caller yields)."""
        if self._task is not None:
            raise RuntimeError(f"periodic task {self.name} is not reentrant")
        self._task = self.group.create_task(self._run(), name=self.name)
        return self

    async def __aexit__(self, *_: object) -> None:
        """Cancel the loop and wait until it has stopped."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            # wait() neither raises the task's cancellation nor swallows the caller's own
            await asyncio.wait({task})
