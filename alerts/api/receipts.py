"""``POST /alerts/{id}/receipts/{subscription}``: a siren or broadcaster's receipt.

Authenticated with the subscription's own receipt token, not ``ENCOSTA_API_TOKEN``
(:mod:`alerts.receipts` says why); :class:`alerts.api.guard.RequestGuard` lets these paths
through to this check.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from alerts import receipts
from alerts.api.context import DB_RESPONSES, NOT_FOUND, Context
from alerts.api.schemas import MAX_ID, Problem, Receipt, ReceiptIn
from alerts.records import NotFoundError

# The writes that carry their own token: the guard does not ask them for the operator's.
OWN_TOKEN_PATHS = re.compile(r"^/alerts/[0-9]+/receipts/[0-9]+$")

_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ReceiptToken",
    description="the subscription's receipt token (encosta webhooks add --audience ...)",
)
router = APIRouter(prefix="/alerts", tags=["alerts"], responses=DB_RESPONSES)


@router.post(
    "/{alert_id}/receipts/{subscription_id}",
    status_code=201,
    responses={
        **NOT_FOUND,
        401: {
            "model": Problem,
            "description": "missing or wrong receipt token for this subscription",
            "headers": {
                "WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}
            },
        },
        409: {
            "model": Problem,
            "description": "the wrong action for the subscription's audience, or a "
            "transition it was never sent",
        },
    },
)
async def record_receipt(
    alert_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    subscription_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    body: ReceiptIn,
    context: Context,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Receipt:
    """Record that the siren sounded or the broadcast went out (the first receipt wins)."""
    token = "" if credentials is None else credentials.credentials
    async with context.pool.acquire() as connection:
        try:
            audience = await receipts.authenticate(connection, subscription_id, token)
            done = await receipts.record(
                connection,
                context.config.network,
                alert_id,
                subscription_id,
                audience=audience,
                action=body.action,
                by=body.by,
                note=body.note,
                seq=body.seq,
            )
        except NotFoundError as exc:
            raise HTTPException(404, f"{exc}: see GET /alerts?status=all") from exc
        except receipts.ReceiptError as exc:
            if exc.reason == "token":
                raise HTTPException(
                    status.HTTP_401_UNAUTHORIZED, str(exc), headers={"WWW-Authenticate": "Bearer"}
                ) from exc
            raise HTTPException(409, str(exc)) from exc
    return Receipt.model_validate({k: v for k, v in asdict(done).items() if k != "alert_id"})
