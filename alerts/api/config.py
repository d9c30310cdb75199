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
| ``ENCOSTA_API_PUBLIC_URL`` | ``http://<host>:<port>`` | base of the public links (Atom, CAP) |
| ``ENCOSTA_API_PUBLIC_REFRESH_S`` | 5 | seconds between two public snapshots (the cache lifetime) |
| ``ENCOSTA_REPORTS_PER_HOUR`` | 10 | community reports per client address per hour |
| ``ENCOSTA_REPORTS_RATE_KEY`` | (derived) | rate limit's hash secret (≥ 16 chars) |
| ``ENCOSTA_REPORTS_RATE_KEY_FILE`` | (none) | a file holding it (wins over the variable) |
| ``ENCOSTA_REPORTS_PHOTO_MAX_BYTES`` | 1048576 | largest photo of a report (decoded) |
| ``ENCOSTA_REPORTS_RETENTION_DAYS`` | 30 | days before a report's contact, text and photo go |
| ``ENCOSTA_ALERTS_WEBHOOK_ALLOW_PRIVATE`` | 0 | 1: webhooks may go to loopback and private |
| ``ENCOSTA_ALERTS_WEBHOOK_ALLOW_CIDRS`` | (none) | networks webhooks may go to anyway (a,b) |

Unset and empty are the same: the default applies (:mod:`runtime.settings`).
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from alerts.destinations import Destinations
from alerts.errors import ConfigError
from runtime import settings
from runtime.settings import Environment

if TYPE_CHECKING:
    from collections.abc import Mapping

_MIN_KEY = 16


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
    public_url: str | None = None  # None: http://<host>:<port>
    public_refresh_s: float = 5.0
    reports_per_hour: int = 10
    reports_photo_max_bytes: int = 1024 * 1024
    reports_retention_days: float = 30.0
    # The rate limit's HMAC secret; None: derived from ``token`` (see :meth:`rate_key`).
    reports_rate_key: bytes | None = field(default=None, repr=False)

    def rate_key(self) -> bytes | None:
        """The secret client addresses are hashed with; None if there is none to share.

        ``ENCOSTA_REPORTS_RATE_KEY`` when set; else one derived from ``ENCOSTA_API_TOKEN``,
        which every replica of a deployment already shares (and which the hash does not
        reveal); else None, and the API draws a random one per process (a warning: the limit
        is then per process).
        """
        if self.reports_rate_key is not None:
            return self.reports_rate_key
        if self.token is None:
            return None
        return hmac.new(self.token.encode(), b"encosta report rate limit", "sha256").digest()

    @property
    def reports_max_body_bytes(self) -> int:
        """The largest report body: the photo in base64 plus 16 KiB of fields."""
        return (self.reports_photo_max_bytes * 4) // 3 + 16 * 1024

    @property
    def public_base(self) -> str:
        """The base address public links are written with (no trailing slash)."""
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> ApiConfig:
        """Read ``ENCOSTA_*`` variables; raise :class:`ConfigError` naming a bad one."""
        env = Environment(environ, ConfigError)
        return cls(
            dsn=settings.service_dsn(env, "api"),
            network=settings.network(env),
            host=env.text("ENCOSTA_API_HOST", "127.0.0.1"),
            port=env.integer("ENCOSTA_API_PORT", 8080, 0, 65535),
            token=env.text_or_none("ENCOSTA_API_TOKEN"),
            stale_intervals=env.integer("ENCOSTA_ALERTS_STALE_INTERVALS", 4, 1, 1000),
            webhook_timeout_s=env.number("ENCOSTA_ALERTS_TIMEOUT_S", 10.0, 0.1, 300),
            max_body_bytes=env.integer(
                "ENCOSTA_API_MAX_BODY_BYTES", 64 * 1024, 1024, 64 * 1024 * 1024
            ),
            destinations=Destinations.from_env(environ),
            public_url=env.text_or_none("ENCOSTA_API_PUBLIC_URL"),
            public_refresh_s=env.number("ENCOSTA_API_PUBLIC_REFRESH_S", 5.0, 0.1, 3600),
            reports_per_hour=env.integer("ENCOSTA_REPORTS_PER_HOUR", 10, 1, 100_000),
            reports_photo_max_bytes=env.integer(
                "ENCOSTA_REPORTS_PHOTO_MAX_BYTES", 1024 * 1024, 0, 32 * 1024 * 1024
            ),
            reports_retention_days=env.number("ENCOSTA_REPORTS_RETENTION_DAYS", 30.0, 0.01, 3650),
            reports_rate_key=_rate_key(env),
        )


def _rate_key(env: Environment) -> bytes | None:
    name = "ENCOSTA_REPORTS_RATE_KEY_FILE"
    path = env.text_or_none(name)
    if path is not None:
        try:
            key = Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}", variable=name) from None
    else:
        name = "ENCOSTA_REPORTS_RATE_KEY"
        key = env.text_or_none(name) or ""
        if not key:
            return None
    if len(key) < _MIN_KEY:
        raise ConfigError(f"the rate limit key needs at least {_MIN_KEY} characters", variable=name)
    return key.encode()
