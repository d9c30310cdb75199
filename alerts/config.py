"""Configuration of the alert evaluator and the webhook dispatcher, from the environment.

| variable | default | meaning |
| --- | --- | --- |
| ``ENCOSTA_ALERTS_PG_DSN`` | ``ENCOSTA_PG_DSN`` | this service's DSN (role ``encosta_alerts``) |
| ``ENCOSTA_PG_DSN`` | local stack as ``encosta_alerts`` | TimescaleDB DSN |
| ``ENCOSTA_NETWORK`` | rio | network this evaluator owns |
| ``ENCOSTA_ALERTS_PRESET`` | rio | model preset: rio, sirens or a preset file (``load_preset``) |
| ``ENCOSTA_ALERTS_INTERVAL_S`` | 5 | seconds between evaluations without new data |
| ``ENCOSTA_ALERTS_COALESCE_S`` | 0.5 | seconds after a NOTIFY to gather batches in one cycle |
| ``ENCOSTA_ALERTS_STALE_INTERVALS`` | 4 | missed expected intervals before a station is stale |
| ``ENCOSTA_ALERTS_PARTITIONS`` | 4 | zone partitions of a network (one owner each) |
| ``ENCOSTA_ALERTS_HEARTBEAT_S`` | 300 | heartbeat period to opted-in subscriptions (0: off) |
| ``ENCOSTA_ALERTS_FALLBACK_MIN`` | 15 | minutes unacknowledged before fallbacks hear (0: off) |
| ``ENCOSTA_ALERTS_METRICS_PORT`` | 9102 | /metrics and /healthz port of the process (0: off) |
| ``ENCOSTA_ALERTS_METRICS_HOST`` | 127.0.0.1 | address they listen on (0.0.0.0 in a container) |
| ``ENCOSTA_ALERTS_DISPATCH_INTERVAL_S`` | 0.5 | seconds between outbox scans when idle |
| ``ENCOSTA_ALERTS_BATCH`` | 100 | outbox rows claimed per scan |
| ``ENCOSTA_ALERTS_TIMEOUT_S`` | 10 | HTTP timeout of one delivery |
| ``ENCOSTA_ALERTS_BACKOFF_BASE_S`` | 2 | first retry delay (doubles per attempt, jittered) |
| ``ENCOSTA_ALERTS_BACKOFF_MAX_S`` | 600 | longest retry delay |
| ``ENCOSTA_ALERTS_MAX_AGE_S`` | 86400 | a message still undelivered after this goes dead |
| ``ENCOSTA_ALERTS_DRAIN_S`` | 10 | on SIGTERM, time to finish deliveries in flight |
| ``ENCOSTA_ALERTS_CLAIM_STALE_S`` | 10 | a frozen dispatcher's claims are taken after this |
| ``ENCOSTA_ALERTS_WEBHOOK_ALLOW_PRIVATE`` | 0 | 1: deliver to loopback and private addresses |
| ``ENCOSTA_ALERTS_WEBHOOK_ALLOW_CIDRS`` | (none) | comma-separated networks delivered to anyway |

Unset and empty are the same: the default applies (:mod:`runtime.settings`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from alerts.destinations import Destinations
from alerts.errors import ConfigError
from runtime import settings
from runtime.backoff import Backoff, Jitter
from runtime.settings import Environment

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True, slots=True)
class EvaluatorConfig:
    """Settings of the evaluation loop of one network."""

    dsn: str
    network: str = "rio"
    preset: str = "rio"
    interval_s: float = 5.0
    # After the first NOTIFY, the batches committed within this many seconds share one cycle.
    coalesce_s: float = 0.5
    stale_intervals: int = 4
    step_minutes: int = 15
    window_h: int = 96
    partitions: int = 4
    heartbeat_s: float = 300.0
    fallback_min: float = 15.0
    # /metrics and /healthz; 0 (off) here so that in-process users opt in, 9102 from the env
    metrics_port: int = 0
    metrics_host: str = "127.0.0.1"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> EvaluatorConfig:
        """Read ``ENCOSTA_*`` variables; raise :class:`ConfigError` naming a bad one."""
        env = Environment(environ, ConfigError)
        return cls(
            dsn=settings.service_dsn(env, "alerts"),
            network=settings.network(env),
            preset=env.text("ENCOSTA_ALERTS_PRESET", "rio"),
            interval_s=env.number("ENCOSTA_ALERTS_INTERVAL_S", 5.0, 0.05, 3600),
            coalesce_s=env.number("ENCOSTA_ALERTS_COALESCE_S", 0.5, 0, 60),
            stale_intervals=env.integer("ENCOSTA_ALERTS_STALE_INTERVALS", 4, 1, 1000),
            partitions=env.integer("ENCOSTA_ALERTS_PARTITIONS", 4, 1, 1024),
            heartbeat_s=env.number("ENCOSTA_ALERTS_HEARTBEAT_S", 300.0, 0, 86400),
            fallback_min=env.number("ENCOSTA_ALERTS_FALLBACK_MIN", 15.0, 0, 7 * 1440),
            metrics_port=env.integer("ENCOSTA_ALERTS_METRICS_PORT", 9102, 0, 65535),
            metrics_host=env.text("ENCOSTA_ALERTS_METRICS_HOST", "127.0.0.1"),
        )


@dataclass(frozen=True, slots=True)
class DispatchConfig:
    """Settings of the webhook dispatcher."""

    dsn: str
    interval_s: float = 0.5
    batch: int = 100
    timeout_s: float = 10.0
    backoff_base_s: float = 2.0
    backoff_max_s: float = 600.0
    max_age_s: float = 86400.0
    lease_s: float = 60.0
    drain_s: float = 10.0
    # A claim whose dispatcher is gone is free at once; one whose dispatcher stopped renewing
    # its heartbeat (frozen) after this.
    claim_stale_s: float = 10.0
    # Where webhooks may go; the default refuses loopback, private and reserved addresses.
    destinations: Destinations = field(default_factory=Destinations)

    @property
    def backoff(self) -> Backoff:
        """Redelivery waits: doubling from the base up to the cap, at least half the ceiling."""
        return Backoff(self.backoff_base_s, self.backoff_max_s, jitter=Jitter.HALF)

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> DispatchConfig:
        """Read ``ENCOSTA_*`` variables; raise :class:`ConfigError` naming a bad one."""
        env = Environment(environ, ConfigError)
        timeout = env.number("ENCOSTA_ALERTS_TIMEOUT_S", 10.0, 0.1, 300)
        return cls(
            dsn=settings.service_dsn(env, "alerts"),
            interval_s=env.number("ENCOSTA_ALERTS_DISPATCH_INTERVAL_S", 0.5, 0.01, 60),
            batch=env.integer("ENCOSTA_ALERTS_BATCH", 100, 1, 10000),
            timeout_s=timeout,
            backoff_base_s=env.number("ENCOSTA_ALERTS_BACKOFF_BASE_S", 2.0, 0.01, 3600),
            backoff_max_s=env.number("ENCOSTA_ALERTS_BACKOFF_MAX_S", 600.0, 0.01, 86400),
            max_age_s=env.number("ENCOSTA_ALERTS_MAX_AGE_S", 86400.0, 1, 30 * 86400),
            # Backstop only: a claim older than this is free even if its dispatcher lives
            # (one that could not record an outcome); dead and frozen claimers free it sooner.
            lease_s=max(60.0, 3 * timeout),
            drain_s=env.number("ENCOSTA_ALERTS_DRAIN_S", 10.0, 0, 600),
            claim_stale_s=env.number("ENCOSTA_ALERTS_CLAIM_STALE_S", 10.0, 1, 3600),
            destinations=Destinations.from_env(environ),
        )
