"""Webhook receivers on 127.0.0.1 for the tests, on the services' own :mod:`runtime.http_server`."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self

from alerts.destinations import Destinations
from runtime.http_server import HttpServer, Request, Response

if TYPE_CHECKING:
    from collections.abc import Callable

# The receivers listen on 127.0.0.1, which the default destination policy refuses: every test
# that delivers to them allows it explicitly, in-process with this, in a child process with
# LOOPBACK_ENV.
LOOPBACK = Destinations.loopback()
LOOPBACK_ENV = {"ENCOSTA_ALERTS_WEBHOOK_ALLOW_CIDRS": "127.0.0.1/32"}


@dataclass
class Received:
    """One request the receiver answered."""

    path: str
    headers: dict[str, str]
    body: bytes
    status: int


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Receiver:
    """Answers every POST with ``respond(request_number)`` -> (status, extra headers)."""

    port: int = field(default_factory=free_port)
    respond: Callable[[int], tuple[int, dict[str, str]]] = lambda _: (204, {})
    received: list[Received] = field(default_factory=list)
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    @property
    def url(self) -> str:
        """Base URL of the receiver."""
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        server = HttpServer(self._answer, port=self.port, read_timeout_s=None)
        await self._stack.enter_async_context(server)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def _answer(self, request: Request) -> Response:
        status, extra = self.respond(len(self.received))
        self.received.append(Received(request.path, dict(request.headers), request.body, status))
        return Response(status, headers=extra)


@dataclass
class HangingReceiver:
    """Hangs on every request (reads it, never answers) until :meth:`heal`; then answers 204.

    ``hung`` is set when the first request is held; ``received`` lists the webhook-ids of the
    requests answered after healing. :meth:`release` drops the held connections.
    """

    port: int = field(default_factory=free_port)
    received: list[str] = field(default_factory=list)
    held: int = 0
    hung: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _healthy: bool = False
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    _stack: contextlib.AsyncExitStack = field(default_factory=contextlib.AsyncExitStack)

    @property
    def url(self) -> str:
        """Base URL of the receiver."""
        return f"http://127.0.0.1:{self.port}/hook"

    def heal(self) -> None:
        """Answer 204 to every request from now on."""
        self._healthy = True

    def release(self) -> None:
        """Close the connections held so far (their clients see the connection drop)."""
        self._released.set()

    async def __aenter__(self) -> Self:
        server = HttpServer(self._answer, port=self.port, read_timeout_s=None)
        await self._stack.enter_async_context(server)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()
        await self._stack.aclose()

    async def _answer(self, request: Request) -> Response | None:
        if not self._healthy:
            self.held += 1
            self.hung.set()
            await self._released.wait()
            return None
        self.received.append(request.headers.get("webhook-id", ""))
        self.arrived.set()
        return Response(204)
