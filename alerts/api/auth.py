"""Bearer-token check of the write endpoints.

The token is compared with :func:`hmac.compare_digest` (constant time). Without a configured
token every write is refused: an API started without ``ENCOSTA_API_TOKEN`` is read-only rather
than open. The presented token is never logged.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from alerts.api.schemas import Problem

_bearer = HTTPBearer(auto_error=False, description="ENCOSTA_API_TOKEN")

UNAUTHORIZED: dict[int | str, dict[str, object]] = {
    401: {
        "model": Problem,
        "description": "missing or wrong bearer token",
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}},
    },
}


def refusal(expected: str | None, authorization: str | None) -> str | None:
    """Why ``authorization`` (an ``Authorization`` header) is refused, or None if it is not."""
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        presented = ""
    presented = presented.strip()
    if expected is None:
        return "write endpoints are disabled: set ENCOSTA_API_TOKEN"
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        return "send Authorization: Bearer <ENCOSTA_API_TOKEN>"
    return None


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Refuse with 401 unless the request carries ``Authorization: Bearer <ENCOSTA_API_TOKEN>``.

    :class:`alerts.api.guard.RequestGuard` has already refused such requests before their
    body was read; this dependency documents the scheme and is a second line.
    """
    expected: str | None = request.app.state.context.config.token
    header = None if credentials is None else f"Bearer {credentials.credentials}"
    detail = refusal(expected, header)
    if detail is not None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
        )


Writer = Depends(require_token)
