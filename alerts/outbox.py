"""The states of a webhook message in the outbox (``outbox.status``, migration 0002).

A message is ``pending`` from the transaction that queued it until a 2xx answer makes it
``delivered``, or a permanent refusal or its maximum age makes it ``dead`` (kept, listed and
replayable, :mod:`alerts.deadletter`). SQL keeps the values as literals where a partial index
is filtered by them (``WHERE status = 'pending'``); tests check both sides agree.
"""

from __future__ import annotations

from enum import StrEnum


class OutboxStatus(StrEnum):
    """Where one outbox message is in its delivery."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"
