"""Standard Webhooks signatures: ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``.

Secrets are ``whsec_`` followed by the base64 of the key bytes, as the spec and its receiver
libraries (``standardwebhooks``) expect. See https://www.standardwebhooks.com/.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets

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
    """The ``webhook-signature`` header value for one message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def headers(secret: str, message_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The three Standard Webhooks headers of one message."""
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(secret, message_id, timestamp, body),
    }
