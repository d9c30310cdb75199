"""An httpx transport that connects only where :class:`Destinations` allows.

The check sits in httpcore's network backend, at ``connect_tcp``: the host is resolved there,
every address checked, and the connection opened **to the checked address**, so a DNS answer
that changes between a check and the connection (DNS rebinding) cannot slip past it. TLS still
verifies the certificate against the URL's host name (httpcore passes the origin's host as SNI
and for verification, not the address connected to).
"""

from __future__ import annotations

import typing

import httpcore
import httpx

from alerts.destinations import Destinations

if typing.TYPE_CHECKING:
    from collections.abc import Iterable

    from httpcore._backends.base import SOCKET_OPTION


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """httpcore's default backend, behind the destination policy."""

    def __init__(self, destinations: Destinations) -> None:
        self.destinations = destinations
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109  httpcore's interface
        local_address: str | None = None,
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Resolve, refuse forbidden addresses (DestinationError), connect to an allowed one."""
        try:
            addresses = await self.destinations.resolve(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        error: httpcore.ConnectError | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                error = exc
        raise error or httpcore.ConnectError(f"{host} has no address")

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109  httpcore's interface
        socket_options: Iterable[SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Refused: a webhook never goes to a Unix socket."""
        del path, timeout, socket_options
        raise httpcore.ConnectError("webhooks are not delivered to Unix sockets")

    async def sleep(self, seconds: float) -> None:
        """Delegate to the default backend."""
        await self._inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """``httpx.AsyncHTTPTransport`` whose connections go through :class:`GuardedBackend`."""

    def __init__(self, destinations: Destinations) -> None:
        super().__init__(trust_env=False)
        # httpx builds its pool without a backend argument; rebuild it with ours (same defaults).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=GuardedBackend(destinations),
        )


def guarded_transport(destinations: Destinations) -> GuardedTransport:
    """The transport every webhook POST goes through."""
    return GuardedTransport(destinations)
