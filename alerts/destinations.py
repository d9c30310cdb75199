"""Where webhooks may be sent: the server-side request forgery (SSRF) policy.

A subscription's URL is chosen by whoever holds the API token (or runs the CLI); without a
policy it could make the dispatcher POST to the database host, a cloud metadata service
(169.254.169.254) or anything else only the server can reach. So a destination must be
``http``/``https`` and every address its host resolves to must be public. Refused, by
category (IPv4-mapped and NAT64 IPv6 addresses are judged by the IPv4 address they carry):

| category | ranges |
| --- | --- |
| unspecified | 0.0.0.0/8, ::/128 |
| loopback | 127.0.0.0/8, ::1/128 |
| private | 10/8, 172.16/12, 192.168/16 (RFC 1918), 100.64/10 (shared, RFC 6598), fc00::/7 (ULA) |
| link-local | 169.254.0.0/16, fe80::/10 |
| multicast | 224.0.0.0/4, ff00::/8 |
| reserved | any other range IANA marks not globally reachable (documentation, |
|          | benchmarking, 240/4, broadcast, 2001::/23, 2002::/16, fec0::/10 …) |

``ENCOSTA_ALERTS_WEBHOOK_ALLOW_PRIVATE=1`` allows *loopback* and *private* (a receiver on the
same host or the site network); ``ENCOSTA_ALERTS_WEBHOOK_ALLOW_CIDRS`` (comma-separated) allows
the listed networks whatever their category. Link-local, multicast, unspecified and reserved
addresses are never allowed by ``ALLOW_PRIVATE``: name them in ``ALLOW_CIDRS`` if you must.

The same check runs when a subscription is added (API and CLI) and again at every connection
the dispatcher makes (:mod:`alerts.transport`), on the address it then connects to, because a
name's DNS answer can change after registration.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from alerts.errors import ConfigError, DestinationError
from runtime.settings import Environment

if TYPE_CHECKING:
    from collections.abc import Mapping

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_RANGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("unspecified", ("0.0.0.0/8", "::/128")),
    ("loopback", ("127.0.0.0/8", "::1/128")),
    ("private", ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")),
    ("link-local", ("169.254.0.0/16", "fe80::/10")),
    ("multicast", ("224.0.0.0/4", "ff00::/8")),
)
_CATEGORIES = tuple((name, tuple(ipaddress.ip_network(n) for n in nets)) for name, nets in _RANGES)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
PRIVATE_CATEGORIES = frozenset({"loopback", "private"})  # what ALLOW_PRIVATE=1 allows


def category(address: Address) -> str | None:
    """The forbidden category of ``address``, or None when it is public."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return category(address.ipv4_mapped)
        if address in _NAT64:
            return category(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    for name, networks in _CATEGORIES:
        if any(address in n for n in networks if n.version == address.version):
            return name
    return None if address.is_global else "reserved"


@dataclass(frozen=True, slots=True)
class Destinations:
    """The policy: public addresses only, plus what ``allow_private`` and ``allow`` open."""

    allow_private: bool = False
    allow: tuple[Network, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Destinations:
        """``ENCOSTA_ALERTS_WEBHOOK_ALLOW_PRIVATE`` and ``…_ALLOW_CIDRS``; ConfigError if bad."""
        allow_private = Environment(environ, ConfigError).flag(
            "ENCOSTA_ALERTS_WEBHOOK_ALLOW_PRIVATE"
        )
        allow: list[Network] = []
        for item in environ.get("ENCOSTA_ALERTS_WEBHOOK_ALLOW_CIDRS", "").split(","):
            if item.strip():
                try:
                    allow.append(ipaddress.ip_network(item.strip(), strict=False))
                except ValueError:
                    raise ConfigError(
                        f"{item.strip()!r} is not a network (e.g. 10.20.0.0/16, 127.0.0.1/32)",
                        variable="ENCOSTA_ALERTS_WEBHOOK_ALLOW_CIDRS",
                    ) from None
        return cls(allow_private=allow_private, allow=tuple(allow))

    @classmethod
    def loopback(cls) -> Destinations:
        """Public addresses and 127.0.0.1: the demo's and the tests' local receivers."""
        return cls(allow=(ipaddress.ip_network("127.0.0.1/32"),))

    def check_address(self, address: Address, host: str) -> None:
        """Raise :class:`DestinationError` unless a connection to ``address`` is allowed."""
        kind = category(address)
        if kind is None or any(address in n for n in self.allow if n.version == address.version):
            return
        if self.allow_private and kind in PRIVATE_CATEGORIES:
            return
        hint = (
            "ENCOSTA_ALERTS_WEBHOOK_ALLOW_PRIVATE=1 or ENCOSTA_ALERTS_WEBHOOK_ALLOW_CIDRS"
            if kind in PRIVATE_CATEGORIES
            else "ENCOSTA_ALERTS_WEBHOOK_ALLOW_CIDRS"
        )
        shown = host if host == str(address) else f"{host} resolves to {address}, which"
        raise DestinationError(
            f"webhook destination refused: {shown} is a {kind} address; "
            f"allow it explicitly with {hint}",
            url_host=host,
            address=str(address),
            category=kind,
        )

    async def resolve(self, host: str, port: int) -> list[Address]:
        """Every address ``host`` resolves to, each checked; the allowed ones, in DNS order."""
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except socket.gaierror as exc:
            raise OSError(f"{host} does not resolve: {exc.strerror}") from exc
        addresses: list[Address] = []
        for info in infos:
            address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            if address not in addresses:
                addresses.append(address)
        for address in addresses:  # one forbidden answer refuses the name: no lottery
            self.check_address(address, host)
        return addresses

    async def check_url(self, url: str) -> None:
        """Validate a subscription URL: scheme, host, and where the host resolves now."""
        parts = urlsplit(url)
        if parts.scheme not in {"http", "https"}:
            raise DestinationError(f"{url!r}: the URL must start with http:// or https://")
        host = parts.hostname
        if not host:
            raise DestinationError(f"{url!r}: the URL has no host")
        if parts.username is not None or parts.password is not None:
            # Stored and listed in plain text (GET /webhooks, logs, last_error): refused, and
            # not echoed. Receivers authenticate a delivery by its Standard Webhooks signature.
            shown = parts._replace(netloc=parts.netloc.rpartition("@")[2]).geturl()
            raise DestinationError(
                f"{shown!r}: credentials in the URL (user:password@) are refused: they would be"
                " stored and shown in plain text; verify deliveries by their signature instead",
                url_host=host,
            )
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise DestinationError(f"{url!r}: the port is not a number in 0..65535") from None
        try:
            await self.resolve(host, port)
        except OSError as exc:
            raise DestinationError(f"{url!r}: {exc}", url_host=host) from exc
