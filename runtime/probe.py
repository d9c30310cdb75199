"""``/metrics`` (Prometheus) and ``/healthz`` of a service process, on :mod:`runtime.http_server`.

Ingest and the alert engine serve their probes this way, with no web framework and no thread.
Port 0 turns the probes off.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from runtime.http_server import LOOPBACK, HttpServer, Request, Response
from runtime.resource import StackedResource

_READ_TIMEOUT_S = 5.0


class ProbeServer(StackedResource):
    """Serves ``/metrics`` from ``registry`` and ``/healthz`` from ``healthy()``."""

    def __init__(
        self,
        port: int,
        registry: CollectorRegistry,
        healthy: Callable[[], tuple[bool, str]],
        host: str = LOOPBACK,
    ) -> None:
        self.port = port
        self.host = host
        self.registry = registry
        self.healthy = healthy

    async def open(self, stack: contextlib.AsyncExitStack) -> None:
        """Listen on ``port``, unless it is 0 (probes off)."""
        if self.port:
            server = HttpServer(self._answer, self.host, self.port, read_timeout_s=_READ_TIMEOUT_S)
            await stack.enter_async_context(server)

    async def _answer(self, request: Request) -> Response:
        if request.path == "/metrics":
            return Response(200, generate_latest(self.registry), CONTENT_TYPE_LATEST)
        if request.path == "/healthz":
            ok, detail = self.healthy()
            return Response(200 if ok else 503, detail.encode(), "text/plain")
        return Response(404, b"not found", "text/plain")
