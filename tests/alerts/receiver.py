"""A minimal HTTP/1.1 webhook receiver on 127.0.0.1 built on ``asyncio.start_server``."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Self

from alerts.destinations import Destinations

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
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        """Base URL of the receiver."""
        return f"http://127.0.0.1:{self.port}"

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = (await reader.readline()).decode().split()
            headers: dict[str, str] = {}
            while line := (await reader.readline()).decode().strip():
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status, extra = self.respond(len(self.received))
            self.received.append(Received(request[1], headers, body, status))
            lines = [f"HTTP/1.1 {status} X", "content-length: 0", "connection: close"]
            lines += [f"{k}: {v}" for k, v in extra.items()]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
            await writer.drain()
        finally:
            writer.close()


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
    _server: asyncio.Server | None = None

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
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readline()
            headers: dict[str, str] = {}
            while line := (await reader.readline()).decode().strip():
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            await reader.readexactly(int(headers.get("content-length", "0")))
            if not self._healthy:
                self.held += 1
                self.hung.set()
                await self._released.wait()
                return
            self.received.append(headers.get("webhook-id", ""))
            self.arrived.set()
            writer.write(b"HTTP/1.1 204 X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()
