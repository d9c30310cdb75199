"""``/deadletters``: messages the dispatcher gave up on, listed and replayed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from alerts import deadletter
from alerts.api.auth import UNAUTHORIZED, Writer
from alerts.api.context import DB_RESPONSES, NOT_FOUND, Context
from alerts.api.schemas import IDENTIFIER, MAX_ID, DeadLetter, Replayed

router = APIRouter(prefix="/deadletters", tags=["dead letters"], responses=DB_RESPONSES)


@router.get("")
async def list_dead_letters(
    context: Context,
    subscription: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[DeadLetter]:
    """Dead letters, oldest first, of one subscription or of all."""
    letters = await deadletter.list_dead(context.pool, subscription=subscription, limit=limit)
    return [
        DeadLetter(
            message_id=d.message_id,
            subscription_id=d.subscription_id,
            alert_id=d.alert_id,
            seq=d.seq,
            zone=d.zone_id,
            attempts=d.attempts,
            last_error=d.last_error,
            created_at=d.created_at,
        )
        for d in letters
    ]


@router.post("/replay", dependencies=[Writer], responses=UNAUTHORIZED)
async def replay_dead_letters(
    context: Context, subscription: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None
) -> Replayed:
    """Replay every dead letter, or those of one subscription: pending again, due now."""
    return Replayed(replayed=await deadletter.replay_all(context.pool, subscription=subscription))


@router.post("/{message_id}/replay", dependencies=[Writer], responses={**UNAUTHORIZED, **NOT_FOUND})
async def replay_dead_letter(
    message_id: Annotated[str, Path(pattern=IDENTIFIER)], context: Context
) -> Replayed:
    """Replay one dead letter: pending again, due now, attempts and last error kept."""
    try:
        replayed = await deadletter.replay(context.pool, message_id)
    except deadletter.DeadLetterError as exc:
        raise HTTPException(404, str(exc)) from exc
    return Replayed(replayed=[replayed])
