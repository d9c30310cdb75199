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


def require_token(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Refuse with 401 unless the request carries ``Authorization: Bearer <ENCOSTA_API_TOKEN>``."""
    expected: str | None = request.app.state.context.config.token
    presented = credentials.credentials if credentials is not None else ""
    if expected is None or not hmac.compare_digest(presented.encode(), expected.encode()):
        detail = (
            "write endpoints are disabled: set ENCOSTA_API_TOKEN"
            if expected is None
            else "send Authorization: Bearer <ENCOSTA_API_TOKEN>"
        )
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
        )


Writer = Depends(require_token)
