"""A small HTTP/1.1 server on asyncio streams: one request per connection, then close.

What the processes serve is tiny (``/metrics`` and ``/healthz`` probes, the demo's webhook
sink, the tests' receivers), so it needs no web framework and no thread: a handler gets a
parsed :class:`Request` and returns a :class:`Response`, or None to drop the connection
without answering (a receiver that hangs up). Reading the request is bounded by
``read_timeout_s``; a client that sends garbage or goes away is dropped, never raised.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus

from runtime.resource import StackedResource

LOOPBACK = "127.0.0.1"
_CLOSE_TIMEOUT_S = 2.0
_NO_BODY = frozenset({204, 304})


@dataclass(frozen=True, slots=True)
class Request:
    """One request as read: method, path, headers (names in lower case) and body."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True, slots=True)
class Response:
    """The answer to a request; ``Content-Length`` (if allowed) and ``Connection: close`` added."""

    status: int = 200
    body: bytes = b""
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        """The status line, the headers and the body, as sent."""
        try:
            reason = HTTPStatus(self.status).phrase
        except ValueError:  # a test receiver answering an unassigned code
            reason = "Status"
        lines = [f"HTTP/1.1 {self.status} {reason}"]
        if self.content_type is not None:
            lines.append(f"Content-Type: {self.content_type}")
        if self.status >= 200 and self.status not in _NO_BODY:  # RFC 9110 8.6: none for these
            lines.append(f"Content-Length: {len(self.body)}")
        lines.append("Connection: close")
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


Handler = Callable[[Request], Awaitable[Response | None]]


class HttpServer(StackedResource):
    """``async with HttpServer(handler) as server``: serves on ``server.port`` until exit.

    Port 0 picks a free port, read back from ``port`` once entered.
    """

    def __init__(
        self,
        handler: Handler,
        host: str = LOOPBACK,
        port: int = 0,
        *,
        read_timeout_s: float | None = 10.0,
    ) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.read_timeout_s = read_timeout_s

    @property
    def url(self) -> str:
        """``http://host:port`` of the server."""
        return f"http://{self.host}:{self.port}"

    async def open(self, stack: contextlib.AsyncExitStack) -> None:
        """Listen; closing stops accepting and waits briefly for the connections to end."""
        server = await asyncio.start_server(self._handle, self.host, self.port)
        stack.push_async_callback(_close, server)
        self.port = server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(self.read_timeout_s):
                request = await _read(reader)
            response = await self.handler(request)
            if response is not None:
                writer.write(response.encode())
                await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass  # a client that went away or sent garbage: nothing to answer
        finally:
            writer.close()


async def _close(server: asyncio.Server) -> None:
    server.close()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(_CLOSE_TIMEOUT_S):
            await server.wait_closed()


async def _read(reader: asyncio.StreamReader) -> Request:
    method, path, _version = (await reader.readline()).decode("latin-1").split(" ", 2)
    headers: dict[str, str] = {}
    while line := (await reader.readline()).strip():
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return Request(method, path, headers, body)
