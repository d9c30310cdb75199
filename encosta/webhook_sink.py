"""A loopback webhook receiver for the demo: verifies Standard Webhooks signatures.

It plays the emergency team's endpoint: every delivery is checked with the ``standardwebhooks``
package (a verifier no one here wrote) and kept in memory for the demo's summary.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from standardwebhooks import Webhook


@dataclass(slots=True)
class Delivery:
    """One webhook the sink received."""

    message_id: str
    verified: bool
    body: dict[str, Any]


@dataclass(slots=True)
class WebhookSink:
    """``async with WebhookSink(secret) as sink``: serves on ``sink.url`` until exit."""

    secret: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        """Where to send webhooks."""
        return f"http://127.0.0.1:{self.port}/encosta"

    async def __aenter__(self) -> Self:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
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
            async with asyncio.timeout(10):
                await reader.readline()
                headers: dict[str, str] = {}
                while line := (await reader.readline()).strip():
                    name, _, value = line.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
            self._record(headers, body)
            writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, ValueError):
            pass
        finally:
            writer.close()

    def _record(self, headers: dict[str, str], body: bytes) -> None:
        verified = True
        try:
            Webhook(self.secret).verify(body, headers)
        except Exception:  # noqa: BLE001  the verifier raises its own types; any is a failure
            verified = False
        try:
            document = json.loads(body)
        except ValueError:
            document = {"raw": body.decode("utf-8", "replace")}
        self.deliveries.append(Delivery(headers.get("webhook-id", ""), verified, document))
