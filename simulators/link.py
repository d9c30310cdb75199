"""One gateway's MQTT connection: QoS 1 publishing that survives a broker going away.

Field-gateway conventions: a fixed client id per gateway (its broker account, bound to that
id: :mod:`ingest.accounts`) and a persistent session
(``clean_session=False``), so the broker keeps the session across reconnects. A failed
publish reconnects with capped, jittered exponential backoff (:mod:`runtime.backoff`,
``uniform(0, 1.5**attempt)`` as aiomqtt's own examples do) and publishes again: delivery is at
least once, as a real gateway's is. Callers buffer in bounded queues meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import aiomqtt

from ingest.broker import BrokerLogin
from runtime.backoff import Backoff

if TYPE_CHECKING:
    from types import TracebackType

_log = logging.getLogger(__name__)


class GatewayLink:
    """An MQTT client for one gateway; an async context manager, reusable, not reentrant."""

    def __init__(  # noqa: PLR0913  connection settings, all keyword-only
        self,
        host: str,
        port: int,
        client_id: str,
        *,
        abort: asyncio.Event,
        login: BrokerLogin | None = None,
        qos: int = 1,
        ack_timeout_s: float = 10.0,
        max_backoff_s: float = 30.0,
    ) -> None:
        self.host = host
        self.login = login or BrokerLogin()
        self.port = port
        self.client_id = client_id
        self.qos = qos
        self.ack_timeout_s = ack_timeout_s
        self.backoff = Backoff(base_s=1.0, factor=1.5, cap_s=max_backoff_s)
        self.abort = abort
        self.reconnects = 0
        self.retries = 0
        self._client: aiomqtt.Client | None = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._lock = asyncio.Lock()
        self._entered = False

    async def __aenter__(self) -> GatewayLink:  # noqa: PYI034  Self needs 3.11 typing_extensions
        if self._entered:
            raise RuntimeError("GatewayLink is not reentrant")
        self._entered = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        async with self._lock:
            await self._close()
        self._entered = False

    async def _close(self) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            with contextlib.suppress(aiomqtt.MqttError):
                await stack.aclose()

    async def _connected(self) -> aiomqtt.Client | None:
        async with self._lock:
            attempt = 0
            while self._client is None:
                if self.abort.is_set():
                    return None
                client = aiomqtt.Client(
                    self.host,
                    self.port,
                    identifier=self.client_id,
                    clean_session=False,
                    keepalive=60,
                    timeout=self.ack_timeout_s,
                    **self.login.client_options(),
                )
                # Many concurrent QoS 1 publishes are the point: no "pending calls" warnings.
                client.pending_calls_threshold = 1 << 16
                stack = contextlib.AsyncExitStack()
                try:
                    await stack.enter_async_context(client)
                except aiomqtt.MqttError as exc:
                    await stack.aclose()
                    attempt += 1
                    delay = self.backoff.delay_s(attempt)
                    _log.warning(
                        "gateway %s: cannot connect to %s:%d (%s); retry in %.1f s",
                        self.client_id,
                        self.host,
                        self.port,
                        exc,
                        delay,
                    )
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay):
                            await self.abort.wait()
                    continue
                self._client, self._stack = client, stack
            return self._client

    async def _drop(self, client: aiomqtt.Client) -> None:
        async with self._lock:
            if self._client is client:
                self.reconnects += 1
                await self._close()

    async def publish(self, topic: str, payload: bytes) -> bool:
        """Publish until the broker acknowledges; False only when aborted first."""
        while True:
            client = await self._connected()
            if client is None:
                return False
            try:
                await client.publish(topic, payload, qos=self.qos)
            except aiomqtt.MqttError as exc:
                self.retries += 1
                _log.warning("gateway %s: publish failed (%s); reconnecting", self.client_id, exc)
                await self._drop(client)
            else:
                return True
