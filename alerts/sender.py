"""Sending one webhook: the HTTP client and the signed POST, shared by every sender.

The outbox worker (:class:`alerts.dispatcher.WebhookDispatcher`) sends through these, and so
does a one-off test message (``encosta webhooks test``, the API's test endpoint) without a
dispatcher, a pool or a LISTEN connection.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import httpx

from alerts import signing
from alerts.errors import DeliveryError, DestinationError
from alerts.retry import retry_after_s, retryable_status
from alerts.transport import guarded_transport

if TYPE_CHECKING:
    from alerts.config import DispatchConfig


def webhook_client(config: DispatchConfig) -> httpx.AsyncClient:
    """The HTTP client of webhook POSTs: destination policy enforced, no redirects, no proxy."""
    return httpx.AsyncClient(
        timeout=config.timeout_s,
        transport=guarded_transport(config.destinations),
        trust_env=False,  # a proxy from the environment would hide the destination check
        follow_redirects=False,
        headers={"user-agent": "encosta-webhooks/1"},
    )


async def post(  # noqa: PLR0913  one message's parts
    http: httpx.AsyncClient,
    url: str,
    *,
    secret: str,
    message_id: str,
    body: bytes,
    content_type: str,
) -> None:
    """POST one signed message with ``http``; raise :class:`DeliveryError` unless 2xx."""
    headers = signing.headers(secret, message_id, int(time.time()), body)
    headers["content-type"] = content_type
    try:
        response = await http.post(url, content=body, headers=headers)
    except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
        raise DeliveryError(f"{type(exc).__name__}: {exc}", retryable=True) from exc
    except DestinationError as exc:
        # The host now resolves somewhere forbidden (DNS changed since registration, or the
        # policy was tightened): nothing was sent. Dead, so that an operator sees it.
        raise DeliveryError(str(exc), retryable=False) from exc
    if response.is_success:
        return
    status = response.status_code
    raise DeliveryError(
        f"HTTP {status}",
        retryable=retryable_status(status),
        status=status,
        retry_after_s=retry_after_s(response.headers.get("retry-after"), datetime.now(UTC)),
    )
