"""Standard Webhooks signatures: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``.

The signature is the reference library's (``standardwebhooks``, the one receivers verify
with); this module adds what it leaves out: fresh secrets, and refusing a malformed one
(the library decodes any text as lenient base64). Secrets are ``whsec_`` followed by the
base64 of the key bytes. See https://www.standardwebhooks.com/.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import UTC, datetime

import standardwebhooks

from alerts.errors import SubscriptionError

PREFIX = "whsec_"


def new_secret() -> str:
    """A fresh random secret (24 key bytes) in ``whsec_`` form."""
    return PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


def secret_key(secret: str) -> bytes:
    """The key bytes of a ``whsec_`` secret; raise if it is malformed."""
    if not secret.startswith(PREFIX):
        raise SubscriptionError(f"a webhook secret must start with {PREFIX!r}")
    try:
        key = base64.b64decode(secret.removeprefix(PREFIX), validate=True)
    except binascii.Error:
        raise SubscriptionError("the webhook secret is not valid base64 after whsec_") from None
    if len(key) < 16:
        raise SubscriptionError("the webhook secret needs at least 16 key bytes")
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value for one message (a UTF-8 body: JSON or CAP)."""
    webhook = standardwebhooks.Webhook(secret_key(secret))
    return webhook.sign(message_id, datetime.fromtimestamp(timestamp, UTC), body.decode())


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one message."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }
