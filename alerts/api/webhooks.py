"""``/webhooks``: subscriptions. A secret is returned once, on creation, and never logged."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, HTTPException, Path, Response

from alerts import subscriptions
from alerts.api.auth import UNAUTHORIZED, Writer
from alerts.api.context import DB_RESPONSES, NOT_FOUND, Context
from alerts.api.schemas import MAX_ID, Problem, Webhook, WebhookCreated, WebhookIn, WebhookTest
from alerts.config import DispatchConfig
from alerts.errors import DeliveryError, SubscriptionError

if TYPE_CHECKING:
    import asyncpg

SubscriptionId = Annotated[int, Path(ge=1, le=MAX_ID)]
router = APIRouter(prefix="/webhooks", tags=["webhooks"], responses=DB_RESPONSES)

# Never SELECT *: the secret column stays in the database.
_SELECT = (
    "SELECT id, url, min_level, zones, format, enabled, heartbeat, fallback, audience,"
    " created_at"
    " FROM webhook_subscriptions"
)


def _webhook(row: asyncpg.Record) -> Webhook:
    return Webhook(**dict(row))


@router.get("")
async def list_webhooks(context: Context) -> list[Webhook]:
    """Every subscription, oldest first, without secrets."""
    return [_webhook(r) for r in await context.pool.fetch(f"{_SELECT} ORDER BY id")]


@router.post(
    "",
    status_code=201,
    dependencies=[Writer],
    response_model_exclude_unset=True,  # receipt_token: siren and broadcast only
    responses={
        **UNAUTHORIZED,
        400: {
            "model": Problem,
            "description": "invalid subscription, or a destination refused by the "
            "webhook destination policy (ENCOSTA_ALERTS_WEBHOOK_ALLOW_*)",
        },
    },
)
async def create_webhook(body: WebhookIn, context: Context) -> WebhookCreated:
    """Subscribe a URL; the response carries the signing secret, shown this once."""
    try:
        sub = await subscriptions.add(
            context.config.dsn,
            body.url,
            secret=body.secret,
            min_level=body.min_level,
            zones=body.zones,
            fmt=body.format,
            heartbeat=body.heartbeat,
            fallback=body.fallback,
            audience=body.audience,
            destinations=context.config.destinations,
        )
    except SubscriptionError as exc:
        raise HTTPException(400, str(exc)) from exc
    row = await context.pool.fetchrow(f"{_SELECT} WHERE id = $1", sub.id)
    created = WebhookCreated(**_webhook(row).model_dump(), secret=sub.secret)
    if sub.receipt_token is not None:
        created.receipt_token = sub.receipt_token  # set: so it is in the response
    return created


@router.delete(
    "/{subscription_id}",
    status_code=204,
    response_class=Response,
    dependencies=[Writer],
    responses={**UNAUTHORIZED, **NOT_FOUND},
)
async def delete_webhook(subscription_id: SubscriptionId, context: Context) -> Response:
    """Delete a subscription with its queued and dead messages."""
    try:
        await subscriptions.remove(context.config.dsn, subscription_id)
    except SubscriptionError as exc:
        raise HTTPException(404, str(exc)) from exc
    return Response(status_code=204)


@router.post(
    "/{subscription_id}/test",
    dependencies=[Writer],
    responses={
        **UNAUTHORIZED,
        **NOT_FOUND,
        502: {"model": Problem, "description": "the subscriber did not answer 2xx"},
    },
)
async def test_webhook(subscription_id: SubscriptionId, context: Context) -> WebhookTest:
    """Send a signed ``encosta.test`` event to the subscription now."""
    config = DispatchConfig(
        dsn=context.config.dsn,
        timeout_s=context.config.webhook_timeout_s,
        destinations=context.config.destinations,
    )
    try:
        message_id = await subscriptions.send_test(config, subscription_id)
    except SubscriptionError as exc:
        raise HTTPException(404, str(exc)) from exc
    except DeliveryError as exc:
        raise HTTPException(502, f"subscription {subscription_id}: {exc}") from exc
    return WebhookTest(message_id=message_id)
