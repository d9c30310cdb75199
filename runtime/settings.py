"""Settings from the environment: one typed reader per kind of value, one rule for all.

Each service's configuration is a frozen dataclass whose ``from_env(environ)`` reads its
variables through an :class:`Environment` (tests pass plain dicts), so that a variable means
the same to every service that reads it:

- **Unset and empty are the same: the default applies.** ``ENCOSTA_NETWORK=`` is ``rio`` for
  ingest, alerts and the API alike. A variable documented as "'' = none"
  (``ENCOSTA_INGEST_SHARE_GROUP``) is read with :meth:`Environment.optional`, the one
  reader where an empty value is a value.
- Numbers are checked against a range; integers are whole numbers (``8080.5`` is no port).
- A bad value raises the reading package's own ``ConfigError`` (the ``error`` the
  :class:`Environment` is built with), whose message names the variable and what it accepts.

Variables that several services read have one reader each here (:func:`network`,
:func:`mqtt_host`, :func:`mqtt_port`, :func:`service_dsn`), so no two services can disagree
(the broker's address is in the tables of the services that read it, ``ingest.config``):

| variable | default | meaning |
| --- | --- | --- |
| ``ENCOSTA_NETWORK`` | rio | the network a service serves |
| ``ENCOSTA_PG_DSN`` | the local stack as the service's login | DSN unless its own is set |
| ``ENCOSTA_PG_PORT`` | 55432 | the local stack's PostgreSQL port (used when no DSN is set) |
| ``ENCOSTA_LOG_LEVEL`` | INFO | DEBUG, INFO, WARNING, ERROR or CRITICAL (``--log-level`` wins) |
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

LOCAL_HOST = "127.0.0.1"
DEFAULT_NETWORK = "rio"
DEFAULT_PG_PORT = 55432  # the local stack's (encosta.stack)
DEFAULT_MQTT_PORT = 18830
DATABASE = "encosta"
_TRUE = frozenset({"1", "true", "yes"})
_FALSE = frozenset({"0", "false", "no"})
_N = TypeVar("_N", int, float)


class SettingError(ValueError):
    """A variable has a value no service can use; ``variable`` names it."""

    def __init__(self, message: str, *, variable: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable


class ErrorType(Protocol):
    """A package's ``ConfigError``: built from a message and the variable at fault."""

    def __call__(self, message: str, *, variable: str) -> Exception: ...  # noqa: D102


@dataclass(frozen=True, slots=True)
class Environment:
    """Typed, range-checked reads of ``environ``; errors are ``error(message, variable=…)``."""

    environ: Mapping[str, str]
    error: ErrorType = SettingError

    def text(self, name: str, default: str) -> str:
        """The value of ``name``; ``default`` when unset or empty."""
        return self.environ.get(name) or default

    def text_or_none(self, name: str) -> str | None:
        """The value of ``name``; None when unset or empty (a secret, a file, a token)."""
        return self.environ.get(name) or None

    def optional(self, name: str, default: str | None) -> str | None:
        """``default`` when unset, None when set empty: for variables documented "'' = none"."""
        return self.environ.get(name, default) or None

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        """A whole number in ``[low, high]``; ``default`` when unset or empty."""
        return self._ranged(name, default, low, high, parse=int, kind="an integer")

    def number(self, name: str, default: float, low: float, high: float) -> float:
        """A number in ``[low, high]``; ``default`` when unset or empty."""
        return self._ranged(name, default, low, high, parse=float, kind="a number")

    def flag(self, name: str, *, default: bool = False) -> bool:
        """1/true/yes or 0/false/no, any case; ``default`` when unset or empty."""
        raw = self.environ.get(name, "").strip().lower()
        if not raw:
            return default
        if raw not in _TRUE | _FALSE:
            raise self.error(f"{raw!r}: use 1 or 0", variable=name)
        return raw in _TRUE

    def _ranged(  # noqa: PLR0913  the reader's name, default, range and parser
        self, name: str, default: _N, low: _N, high: _N, *, parse: Callable[[str], _N], kind: str
    ) -> _N:
        raw = self.environ.get(name)
        if not raw:
            return default
        try:
            value = parse(raw)
        except ValueError:
            raise self.error(f"{raw!r} is not {kind}", variable=name) from None
        if not low <= value <= high:
            raise self.error(f"{value} is outside [{low}, {high}]", variable=name)
        return value


def network(env: Environment) -> str:
    """``ENCOSTA_NETWORK``: the network a service serves (``rio``)."""
    return env.text("ENCOSTA_NETWORK", DEFAULT_NETWORK)


def mqtt_host(env: Environment) -> str:
    """``ENCOSTA_MQTT_HOST``: the broker's host (the local stack's, 127.0.0.1)."""
    return env.text("ENCOSTA_MQTT_HOST", LOCAL_HOST)


def mqtt_port(env: Environment) -> int:
    """``ENCOSTA_MQTT_PORT``: the broker's port (the local stack's, 18830)."""
    return env.integer("ENCOSTA_MQTT_PORT", DEFAULT_MQTT_PORT, 1, 65535)


def pg_port(env: Environment) -> int:
    """``ENCOSTA_PG_PORT``: the local stack's PostgreSQL port (55432)."""
    return env.integer("ENCOSTA_PG_PORT", DEFAULT_PG_PORT, 1, 65535)


def local_dsn(user: str, port: int, database: str = DATABASE) -> str:
    """A DSN for ``database`` on the local stack at ``port`` as ``user`` (trust authentication)."""
    return f"postgresql://{user}@{LOCAL_HOST}:{port}/{database}"


def service_dsn(env: Environment, service: str) -> str:
    """The DSN of ``service`` (``ingest``, ``alerts``, ``api``).

    ``ENCOSTA_<SERVICE>_PG_DSN``, else ``ENCOSTA_PG_DSN``, else the local stack as the
    service's own login ``encosta_<service>`` (migration 0005).
    """
    return (
        env.text_or_none(f"ENCOSTA_{service.upper()}_PG_DSN")
        or env.text_or_none("ENCOSTA_PG_DSN")
        or local_dsn(f"encosta_{service}", pg_port(env))
    )
