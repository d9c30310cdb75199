"""Exceptions of the composition root (CLI, local stack, migrations).

The tree::

    EncostaError             root
    ├── ConfigError          an environment variable has an unusable value (``.variable``)
    ├── StackError           a local service cannot be installed, started or reached
    ├── MigrationError       a migration file is malformed or failed (``.version``)
    └── BrokerAuthError      the broker's accounts cannot be read or changed
"""

from __future__ import annotations


class EncostaError(Exception):
    """Root of the exceptions raised by the ``encosta`` package."""


class ConfigError(EncostaError):
    """An environment variable has a value the command cannot use; names the variable."""

    def __init__(self, message: str, *, variable: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable


class StackError(EncostaError):
    """A local TimescaleDB or Mosquitto instance cannot be started or reached."""


class MigrationError(EncostaError):
    """A schema migration cannot be applied."""

    def __init__(self, message: str, *, version: int | None = None) -> None:
        super().__init__(message)
        self.version = version


class BrokerAuthError(EncostaError):
    """The broker's dynamic-security accounts cannot be read or changed."""
