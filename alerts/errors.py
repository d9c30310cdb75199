"""Exceptions of the alert engine.

The tree::

    AlertsError                root
    ├── ConfigError            an ENCOSTA_ALERTS_* variable is invalid (``.variable``)
    ├── SubscriptionError      a webhook subscription is invalid or missing (``.subscription``)
    ├── DestinationError       a webhook URL is refused: scheme, or a forbidden address
    │                          (``.url_host``, ``.address``, ``.category``)
    └── DeliveryError          one webhook delivery attempt failed (``.retryable``,
                               ``.retry_after_s``, ``.status``)
"""

from __future__ import annotations


class AlertsError(Exception):
    """Root of the exceptions raised by the ``alerts`` package."""


class ConfigError(AlertsError):
    """An alerts setting is invalid; the message names the variable and the accepted range."""

    def __init__(self, message: str, *, variable: str) -> None:
        super().__init__(f"{variable}: {message}")
        self.variable = variable


class SubscriptionError(AlertsError):
    """A webhook subscription cannot be created, found or used."""

    def __init__(self, message: str, *, subscription: int | None = None) -> None:
        super().__init__(message)
        self.subscription = subscription


class DestinationError(AlertsError):
    """A webhook destination is refused (SSRF policy, ``alerts.destinations``)."""

    def __init__(
        self,
        message: str,
        *,
        url_host: str | None = None,
        address: str | None = None,
        category: str | None = None,
    ) -> None:
        super().__init__(message)
        self.url_host = url_host
        self.address = address
        self.category = category


class DeliveryError(AlertsError):
    """One delivery attempt failed; ``retryable`` says whether to try again later."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        status: int | None = None,
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status
        self.retry_after_s = retry_after_s
