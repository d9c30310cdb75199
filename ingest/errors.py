"""Exceptions of the ingest package.

The tree::

    IngestError                  root: catch this to catch everything ingest raises
    ├── ConfigError              an environment variable has a bad value (``.variable``)
    └── PayloadError             one message or record cannot be accepted (``.reason``)

``PayloadError`` never escapes the decoder: it becomes a row in ``rejects``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ingest.reasons import Reason


class IngestError(Exception):
    """Root of every exception raised by the ingest package."""


class ConfigError(IngestError):
    """A configuration variable has a value the service cannot use."""

    def __init__(self, message: str, *, variable: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable


class PayloadError(IngestError):
    """A message or record is rejected; ``reason`` is one of :class:`ingest.reasons.Reason`."""

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail
