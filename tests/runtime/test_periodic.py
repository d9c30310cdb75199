"""Periodic: ticks under the given TaskGroup, survives a failing tick, stops on exit."""

from __future__ import annotations

import asyncio
import logging

import pytest

from runtime.periodic import Periodic

pytestmark = pytest.mark.timeout(30)


async def test_a_failing_tick_is_logged_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Tick 2 raises: it is logged with its exception, ticks 3 and 4 still run."""
    calls: list[int] = []
    fourth = asyncio.Event()

    async def tick() -> None:
        calls.append(len(calls) + 1)
        if len(calls) == 2:
            raise ValueError("tick two fails")
        if len(calls) == 4:
            fourth.set()

    with caplog.at_level(logging.ERROR, logger="encosta.runtime.periodic"):
        async with asyncio.TaskGroup() as group:
            async with Periodic(group, "under-test", tick, 0.01) as periodic:
                await fourth.wait()
            assert periodic.ticks >= 3
            assert periodic.failures == 1
            stopped = len(calls)
            assert [t.get_name() for t in asyncio.all_tasks()] == [
                asyncio.current_task().get_name()  # type: ignore[union-attr]
            ], "the loop's task is gone once the context is left"
    failed = [r for r in caplog.records if r.getMessage() == "periodic task failed"]
    assert len(failed) == 1
    assert failed[0].exc_info is not None
    assert isinstance(failed[0].exc_info[1], ValueError)
    await asyncio.sleep(0.05)
    assert len(calls) == stopped, "no tick after the context was left"


async def test_leaving_cancels_a_tick_in_progress_and_the_group_ends_clean() -> None:
    """Exit during a slow tick cancels it; the TaskGroup exits without an error."""
    started = asyncio.Event()
    cancelled = asyncio.Event()

    async def slow() -> None:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    async with asyncio.TaskGroup() as group, Periodic(group, "slow", slow, 3600):
        await started.wait()
    assert cancelled.is_set()


async def test_a_group_cancelled_elsewhere_stops_the_loop() -> None:
    """A sibling task failing in the service's group cancels the loop with the rest."""
    ticked = asyncio.Event()

    async def tick() -> None:
        ticked.set()

    async def sibling() -> None:
        await ticked.wait()
        raise RuntimeError("sibling fails")

    group = asyncio.TaskGroup()
    periodic = Periodic(group, "p", tick, 3600)

    async def service() -> None:
        async with group:
            await periodic.__aenter__()
            group.create_task(sibling())

    with pytest.raises(ExceptionGroup) as caught:
        await service()
    assert caught.group_contains(RuntimeError)
    task = periodic._task
    assert task is not None
    assert task.cancelled()
    await periodic.__aexit__(None, None, None)


async def test_reentry_and_bad_period_are_refused() -> None:
    """Entering twice is refused; so is a period that is not positive."""

    async def tick() -> None:
        return None

    async with asyncio.TaskGroup() as group:
        with pytest.raises(ValueError, match="positive"):
            Periodic(group, "zero", tick, 0)
        periodic = Periodic(group, "once", tick, 3600)
        async with periodic:
            with pytest.raises(RuntimeError, match="reentrant"):
                await periodic.__aenter__()
