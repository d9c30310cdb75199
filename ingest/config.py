"""Configuration of the ingest service, from environment variables.

| variable | default | meaning |
| --- | --- | --- |
| ``ENCOSTA_MQTT_HOST`` | 127.0.0.1 | broker host |
| ``ENCOSTA_MQTT_PORT`` | 18830 | broker port (the local stack's) |
| ``ENCOSTA_INGEST_PG_DSN`` | ``ENCOSTA_PG_DSN`` | this service's DSN (role ``encosta_ingest``) |
| ``ENCOSTA_PG_DSN`` | local stack as ``encosta_ingest`` | TimescaleDB DSN |
| ``ENCOSTA_NETWORK`` | rio | network whose topics this ingest accepts |
| ``ENCOSTA_INGEST_CLIENT_ID`` | encosta-ingest-1 | fixed MQTT client id of this replica |
| ``ENCOSTA_INGEST_SHARE_GROUP`` | encosta-ingest | shared-subscription group ('' = none) |
| ``ENCOSTA_INGEST_BATCH_READINGS`` | 5000 | readings per COPY batch at most |
| ``ENCOSTA_INGEST_LINGER_MS`` | 5 | wait this long for more messages before a batch |
| ``ENCOSTA_INGEST_RECEIVE_MAX`` | 10000 | unacknowledged messages in flight (MQTT 5) |
| ``ENCOSTA_INGEST_SESSION_EXPIRY_S`` | 604800 | broker keeps our session this long offline |
| ``ENCOSTA_INGEST_DRAIN_S`` | 10 | on SIGTERM, time to commit what is held |
| ``ENCOSTA_INGEST_METRICS_PORT`` | 9101 | /metrics and /healthz port (0 = off) |
| ``ENCOSTA_INGEST_METRICS_HOST`` | 127.0.0.1 | address they listen on (0.0.0.0 in a container) |
| ``ENCOSTA_INGEST_MAX_PAYLOAD_BYTES`` | 262144 | larger payloads: oversize_payload |
| ``ENCOSTA_INGEST_MAX_RECORDS`` | 1000 | more records in a message: too_many_records |
| ``ENCOSTA_INGEST_MAX_FUTURE_S`` | 300 | readings further ahead: ts_future |
| ``ENCOSTA_INGEST_MAX_PAST_S`` | 2592000 | readings older (30 days): ts_past |
| ``ENCOSTA_INGEST_MAX_DEPTH`` | 16 | JSON nested deeper (checked before decoding): too_deep |
| ``ENCOSTA_INGEST_REJECT_RAW_BYTES`` | 4096 | bytes of a rejected payload kept in rejects.raw |
| ``ENCOSTA_INGEST_DB_PROBE_MS`` | 2000 | interval of the database probe behind /healthz |
| ``ENCOSTA_INGEST_DB_PROBE_TIMEOUT_MS`` | 1000 | a probe slower than this counts as db=down |

Unset and empty are the same: the default applies (:mod:`runtime.settings`), except for the
share group, where '' means none.

The broker login (``ENCOSTA_MQTT_USERNAME``, ``_PASSWORD``, ``_PASSWORD_FILE``,
``_CREDENTIALS``, ``_CA_FILE``) is read by :class:`ingest.broker.BrokerLogin`; the username
defaults to the client id, the account the broker binds to it (:mod:`ingest.accounts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from ingest.broker import BrokerLogin
from ingest.errors import ConfigError
from ingest.payload import Limits
from runtime import settings
from runtime.settings import Environment

ROLE = "encosta_ingest"  # migration 0005: INSERT on readings and rejects, little else


@dataclass(frozen=True, slots=True)
class IngestConfig:
    """Settings of one ingest replica."""

    dsn: str
    mqtt_host: str = "127.0.0.1"
    mqtt_port: int = 18830
    network: str = "rio"
    client_id: str = "encosta-ingest-1"
    share_group: str | None = "encosta-ingest"
    batch_readings: int = 5000
    linger_s: float = 0.005
    receive_max: int = 10000
    session_expiry_s: int = 7 * 86400
    drain_s: float = 10.0
    metrics_port: int = 9101
    metrics_host: str = "127.0.0.1"
    limits: Limits = field(default_factory=Limits)
    login: BrokerLogin = field(default_factory=BrokerLogin)
    reject_raw_bytes: int = 4096
    db_probe_s: float = 2.0
    db_probe_timeout_s: float = 1.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> IngestConfig:
        """Read every setting from ``environ`` (a plain dict in tests)."""
        env = Environment(environ, ConfigError)
        limits = Limits(
            max_payload_bytes=env.integer(
                "ENCOSTA_INGEST_MAX_PAYLOAD_BYTES", 262144, 64, 256 * 1024 * 1024
            ),
            max_records=env.integer("ENCOSTA_INGEST_MAX_RECORDS", 1000, 1, 100000),
            max_future_s=env.integer("ENCOSTA_INGEST_MAX_FUTURE_S", 300, 0, 86400),
            max_past_s=env.integer("ENCOSTA_INGEST_MAX_PAST_S", 30 * 86400, 60, 3650 * 86400),
            # 3: a native envelope, its records list and a record; 64 stays far below the
            # interpreter's recursion limit, which the decoder's own recursion counts against.
            max_depth=env.integer("ENCOSTA_INGEST_MAX_DEPTH", 16, 3, 64),
        )
        client_id = env.text("ENCOSTA_INGEST_CLIENT_ID", "encosta-ingest-1")
        return cls(
            dsn=settings.service_dsn(env, "ingest"),
            mqtt_host=settings.mqtt_host(env),
            mqtt_port=settings.mqtt_port(env),
            network=settings.network(env),
            client_id=client_id,
            share_group=env.optional("ENCOSTA_INGEST_SHARE_GROUP", "encosta-ingest"),
            batch_readings=env.integer("ENCOSTA_INGEST_BATCH_READINGS", 5000, 1, 1_000_000),
            linger_s=env.integer("ENCOSTA_INGEST_LINGER_MS", 5, 0, 10000) / 1000.0,
            receive_max=env.integer("ENCOSTA_INGEST_RECEIVE_MAX", 10000, 1, 65535),
            session_expiry_s=env.integer(
                "ENCOSTA_INGEST_SESSION_EXPIRY_S", 7 * 86400, 0, 0xFFFFFFFF
            ),
            drain_s=float(env.integer("ENCOSTA_INGEST_DRAIN_S", 10, 0, 3600)),
            metrics_port=env.integer("ENCOSTA_INGEST_METRICS_PORT", 9101, 0, 65535),
            metrics_host=env.text("ENCOSTA_INGEST_METRICS_HOST", "127.0.0.1"),
            limits=limits,
            login=BrokerLogin.from_env(environ, client_id),
            # 1 MiB: the ceiling the rejects table's trigger enforces (0006_rejects_bounded.sql).
            reject_raw_bytes=env.integer("ENCOSTA_INGEST_REJECT_RAW_BYTES", 4096, 0, 1 << 20),
            db_probe_s=env.integer("ENCOSTA_INGEST_DB_PROBE_MS", 2000, 100, 600_000) / 1000.0,
            db_probe_timeout_s=env.integer("ENCOSTA_INGEST_DB_PROBE_TIMEOUT_MS", 1000, 50, 60_000)
            / 1000.0,
        )
