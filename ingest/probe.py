"""A minimal HTTP endpoint for ``/metrics`` (Prometheus) and ``/healthz``.

Hand-written on asyncio streams so the ingest process needs no web framework and no thread.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from types import TracebackType
from typing import Self

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest


class ProbeServer:
    """Serves ``/metrics`` from ``registry`` and ``/healthz`` from ``healthy()``."""

    def __init__(
        self,
        port: int,
        registry: CollectorRegistry,
        healthy: Callable[[], tuple[bool, str]],
        host: str = "127.0.0.1",
    ) -> None:
        self.port = port
        self.host = host
        self.registry = registry
        self.healthy = healthy
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> Self:
        if self.port:
            self._server = await asyncio.start_server(self._handle, self.host, self.port)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            async with asyncio.timeout(5):
                request = await reader.readline()
                while (await reader.readline()).strip():
                    pass
            path = request.split(b" ")[1].decode() if request.count(b" ") >= 2 else "/"
            if path == "/metrics":
                status, ctype, body = 200, CONTENT_TYPE_LATEST, generate_latest(self.registry)
            elif path == "/healthz":
                ok, detail = self.healthy()
                status, ctype, body = (200 if ok else 503), "text/plain", detail.encode()
            else:
                status, ctype, body = 404, "text/plain", b"not found"
            head = (
                f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
                f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n"
            )
            writer.write(head.encode() + body)
            await writer.drain()
        except (TimeoutError, ConnectionError, IndexError, UnicodeDecodeError):
            pass
        finally:
            writer.close()
