"""StackedResource: children closed in reverse, nothing leaked on a failed open, no reentry."""

from __future__ import annotations

import contextlib

import pytest

from runtime.resource import StackedResource


class Pair(StackedResource):
    """Opens two children; the second may fail."""

    def __init__(self, *, fail_second: bool = False) -> None:
        self.events: list[str] = []
        self.fail_second = fail_second

    async def open(self, stack: contextlib.AsyncExitStack) -> None:
        """First child, then the second (or a failure in its place)."""
        self.events.append("open first")
        stack.push_async_callback(self._closed, "first")
        if self.fail_second:
            raise ConnectionError("second")
        self.events.append("open second")
        stack.push_async_callback(self._closed, "second")

    async def _closed(self, name: str) -> None:
        self.events.append(f"close {name}")


async def test_children_close_in_reverse_order() -> None:
    """What was opened last closes first."""
    pair = Pair()
    async with pair:
        assert pair.events == ["open first", "open second"]
    assert pair.events[2:] == ["close second", "close first"]


async def test_a_failed_open_closes_what_was_open() -> None:
    """A failure in the second step closes the first child and propagates."""
    pair = Pair(fail_second=True)
    with pytest.raises(ConnectionError):
        await pair.__aenter__()
    assert pair.events == ["open first", "close first"]


async def test_reentry_is_refused_and_reuse_after_exit_works() -> None:
    """Entering twice without leaving raises; after leaving it can be entered again."""
    pair = Pair()
    async with pair:
        with pytest.raises(RuntimeError, match="not reentrant"):
            await pair.__aenter__()
    async with pair:
        pass
    assert pair.events.count("close first") == 2
