"""A loopback webhook receiver for the demo: verifies Standard Webhooks signatures.

It plays the emergency team's endpoint: every delivery is checked with the ``standardwebhooks``
package (a verifier no one here wrote) and kept in memory for the demo's summary.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks import Webhook

from runtime.http_server import HttpServer, Request, Response
from runtime.resource import StackedResource


@dataclass(slots=True)
class Delivery:
    """One webhook the sink received."""

    message_id: str
    verified: bool
    body: dict[str, Any]


@dataclass(slots=True)
class WebhookSink(StackedResource):
    """``async with WebhookSink(secret) as sink``: serves on ``sink.url`` until exit."""

    secret: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        """Where to send webhooks."""
        return f"http://127.0.0.1:{self.port}/encosta"

    async def open(self, stack: contextlib.AsyncExitStack) -> None:
        """Listen on a free loopback port (or ``port``)."""
        server = await stack.enter_async_context(HttpServer(self._answer, port=self.port))
        self.port = server.port

    async def _answer(self, request: Request) -> Response:
        self._record(request.headers, request.body)
        return Response(204)

    def _record(self, headers: Mapping[str, str], body: bytes) -> None:
        verified = True
        try:
            Webhook(self.secret).verify(body, dict(headers))
        except Exception:  # noqa: BLE001  the verifier raises its own types; any is a failure
            verified = False
        try:
            document = json.loads(body)
        except ValueError:
            document = {"raw": body.decode("utf-8", "replace")}
        self.deliveries.append(Delivery(headers.get("webhook-id", ""), verified, document))
