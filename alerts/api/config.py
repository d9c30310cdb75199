"""Configuration of the ops API, from the environment.

| variable | default | meaning |
| --- | --- | --- |
| ``ENCOSTA_API_HOST`` | 127.0.0.1 | listen address |
| ``ENCOSTA_API_PORT`` | 8080 | listen port |
| ``ENCOSTA_API_TOKEN`` | (none) | bearer token of write endpoints; unset: every write is 401 |
| ``ENCOSTA_API_PG_DSN`` | ``ENCOSTA_PG_DSN`` | this service's DSN (role ``encosta_api``) |
| ``ENCOSTA_PG_DSN`` | local stack as ``encosta_api`` | TimescaleDB DSN |
| ``ENCOSTA_NETWORK`` | rio | network the API reports on |
| ``ENCOSTA_ALERTS_STALE_INTERVALS`` | 4 | missed intervals before a station is ``offline`` |
| ``ENCOSTA_ALERTS_TIMEOUT_S`` | 10 | HTTP timeout of a webhook test message |
| ``ENCOSTA_API_MAX_BODY_BYTES`` | 65536 | largest request body; larger: 413 |
| ``ENCOSTA_ALERTS_WEBHOOK_ALLOW_*`` | 0 / (none) | webhook destinations (alerts.destinations) |
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from alerts.config import default_dsn, number
from alerts.destinations import Destinations

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True, slots=True)
class ApiConfig:
    """Settings of one API process. ``token`` None: write endpoints refuse every request."""

    dsn: str
    network: str = "rio"
    host: str = "127.0.0.1"
    port: int = 8080
    token: str | None = field(default=None, repr=False)
    stale_intervals: int = 4
    webhook_timeout_s: float = 10.0
    pool_max: int = 5
    close_timeout_s: float = 5.0
    max_body_bytes: int = 64 * 1024  # the largest legitimate body (a subscription) is ~3 KB
    destinations: Destinations = field(default_factory=Destinations)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ApiConfig:
        """Read ``ENCOSTA_*`` variables; raise :class:`ConfigError` naming a bad one."""
        return cls(
            dsn=default_dsn(environ, "api"),
            network=environ.get("ENCOSTA_NETWORK") or "rio",
            host=environ.get("ENCOSTA_API_HOST") or "127.0.0.1",
            port=int(number(environ, "ENCOSTA_API_PORT", 8080, 0, 65535)),
            token=environ.get("ENCOSTA_API_TOKEN") or None,
            stale_intervals=int(number(environ, "ENCOSTA_ALERTS_STALE_INTERVALS", 4, 1, 1000)),
            webhook_timeout_s=number(environ, "ENCOSTA_ALERTS_TIMEOUT_S", 10.0, 0.1, 300),
            max_body_bytes=int(
                number(environ, "ENCOSTA_API_MAX_BODY_BYTES", 64 * 1024, 1024, 64 * 1024 * 1024)
            ),
            destinations=Destinations.from_env(environ),
        )
