"""Publish a run's messages over MQTT at simulated speed, one client per gateway or station.

Messages leave in send-time order, paced so that one simulated second takes ``1/speed``
wall seconds (``speed=None``: as fast as the broker acknowledges). Each client has a bounded
queue and a window of concurrent QoS 1 publishes; a full queue pauses the dispatcher
(back-pressure, bounded memory). On ``stop`` the dispatcher stops taking messages, the clients
drain their queues until ``drain_s``, and anything still unacknowledged is left unsent and
reported as such.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ingest.accounts import gateway_username, station_username
from ingest.broker import BrokerLogin
from simulators.link import GatewayLink

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Mapping, Sequence

    from simulators.gateway import Message

CLIENT_MODES = ("zone", "station")


@dataclass(slots=True)
class PublishStats:
    """Live counters of a publication (read by the progress reporter)."""

    total: int
    started: float = field(default_factory=time.monotonic)
    dispatched: int = 0
    acked: int = 0
    sim_ts: float = 0.0
    retries: int = 0
    reconnects: int = 0
    interrupted: bool = False
    delivered: bytearray = field(default_factory=bytearray)

    @property
    def rate(self) -> float:
        """Acknowledged messages per wall second so far."""
        return self.acked / max(time.monotonic() - self.started, 1e-9)


def _login(base: BrokerLogin | None, passwords: Mapping[str, str] | None, name: str) -> BrokerLogin:
    base = base or BrokerLogin()
    return BrokerLogin(name, (passwords or {}).get(name), base.ca_file)


class _AbortedError(Exception):
    """The drain deadline passed after a stop."""


async def _pace(deadline: float, stop: asyncio.Event) -> None:
    delay = deadline - asyncio.get_running_loop().time()
    if delay > 0.001:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await stop.wait()


async def publish(  # noqa: C901, PLR0913, PLR0915  the publication's settings, keyword-only past the first four
    messages: Sequence[Message],
    host: str = "127.0.0.1",
    port: int = 1883,
    speed: float | None = None,
    *,
    clients: str = "zone",
    login: BrokerLogin | None = None,
    passwords: Mapping[str, str] | None = None,
    window: int = 16,
    queue_size: int = 1000,
    stop: asyncio.Event | None = None,
    drain_s: float = 5.0,
    on_progress: Callable[[PublishStats], None] | None = None,
    progress_every_s: float = 1.0,
    gate: Callable[[float], Awaitable[None]] | None = None,
) -> PublishStats:
    """Publish ``messages`` (in ``send_ts`` order) with QoS 1; return what was acknowledged.

    Each client logs in as its gateway's or station's account (:mod:`ingest.accounts`), with
    the transport of ``login`` and its password from ``passwords`` (username -> password).
    ``gate(send_ts)``, if given, is awaited before each message leaves: a caller that steps
    through simulated time (``encosta demo``) holds back what is not yet due.
    """
    if clients not in CLIENT_MODES:
        raise ValueError(f"clients must be one of {CLIENT_MODES}, not {clients!r}")
    stop = stop or asyncio.Event()
    abort = asyncio.Event()
    done = asyncio.Event()
    stats = PublishStats(total=len(messages), delivered=bytearray(len(messages)))
    keys = sorted({m.gateway if clients == "zone" else m.station for m in messages})
    queues: dict[str, asyncio.Queue[tuple[int, Message] | None]] = {
        k: asyncio.Queue(maxsize=queue_size) for k in keys
    }
    network = messages[0].topic.split("/")[1] if messages else "none"
    account = gateway_username if clients == "zone" else station_username

    async def dispatch() -> None:
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        base = messages[0].send_ts if messages else 0.0
        for i, message in enumerate(messages):
            if stop.is_set():
                stats.interrupted = True
                break
            if speed is not None:
                await _pace(t0 + (message.send_ts - base) / speed, stop)
                if stop.is_set():
                    stats.interrupted = True
                    break
            if gate is not None:
                await gate(message.send_ts)
            key = message.gateway if clients == "zone" else message.station
            await queues[key].put((i, message))
            stats.dispatched += 1
            stats.sim_ts = message.send_ts
        # Not in a finally: when cancelled, the workers are cancelled too and need no sentinel.
        for queue in queues.values():
            for _ in range(window):
                await queue.put(None)

    async def work(link: GatewayLink, queue: asyncio.Queue[tuple[int, Message] | None]) -> None:
        while (item := await queue.get()) is not None:
            i, message = item
            if await link.publish(message.topic, message.payload):
                stats.delivered[i] = 1
                stats.acked += 1

    async def watchdog() -> None:
        while not (stop.is_set() or done.is_set()):  # noqa: ASYNC110  two events, one poll
            await asyncio.sleep(0.05)
        if done.is_set():
            return
        try:
            async with asyncio.timeout(drain_s):
                await done.wait()
        except TimeoutError:
            abort.set()
            raise _AbortedError from None

    async def report() -> None:
        while not done.is_set():
            if on_progress is not None:
                on_progress(stats)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(progress_every_s):
                    await done.wait()

    async with contextlib.AsyncExitStack() as stack:
        links = {
            k: await stack.enter_async_context(
                GatewayLink(host, port, name, abort=abort, login=_login(login, passwords, name))
            )
            for k in keys
            for name in (account(network, k),)
        }

        async def workers() -> None:
            try:
                async with asyncio.TaskGroup() as group:
                    for k in keys:
                        for n in range(window):
                            group.create_task(work(links[k], queues[k]), name=f"publish-{k}-{n}")
            finally:
                done.set()

        try:
            async with asyncio.TaskGroup() as tg:
                tg.create_task(dispatch(), name="publish-dispatch")
                tg.create_task(workers(), name="publish-workers")
                tg.create_task(watchdog(), name="publish-watchdog")
                tg.create_task(report(), name="publish-progress")
        except* _AbortedError:
            stats.interrupted = True
        stats.retries = sum(link.retries for link in links.values())
        stats.reconnects = sum(link.reconnects for link in links.values())
    if on_progress is not None:
        on_progress(stats)
    return stats
