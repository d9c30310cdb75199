"""A long-lived resource that opens its children on an ``AsyncExitStack``.

``async with resource:`` calls :meth:`StackedResource.open` with a fresh stack; what it enters
there (pools, connections, servers, clients) is closed in reverse order on exit, and a
failure part-way through ``open`` closes what was already open, so nothing leaks. Subclasses
write only ``open``; entering twice without leaving is refused, as aiomqtt's client does.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType
from typing import Self


class StackedResource:
    """Base of the async context managers whose children live on one exit stack."""

    # Closing waits this long at most (None: as long as the children take).
    close_timeout_s: float | None = None

    _resources: contextlib.AsyncExitStack | None = None

    async def open(self, stack: contextlib.AsyncExitStack) -> None:
        """Open the children, entering each on ``stack``."""
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        if self._resources is not None:
            raise RuntimeError(f"{type(self).__name__} is not reentrant")
        async with contextlib.AsyncExitStack() as stack:
            await self.open(stack)
            self._resources = stack.pop_all()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        resources, self._resources = self._resources, None
        if resources is not None:
            async with asyncio.timeout(self.close_timeout_s):
                await resources.__aexit__(exc_type, exc, tb)
