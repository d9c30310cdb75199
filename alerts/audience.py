"""Who a subscription speaks to, and what each audience hears of a transition.

``full`` (the default) hears every transition with every field (:mod:`alerts.payload`). The
two narrow audiences are devices that act on the public, so they get only what they act on,
in the network's language (:mod:`alerts.wording`), always as JSON:

- ``siren`` hears raised, escalated and cleared risk alerts; ``data`` holds event_id,
  alert_id, seq, zone, transition, action (sound or silence), level, level_name, level_words,
  language, instruction and receipt_path.
- ``broadcast`` hears raised, escalated, de-escalated and cleared risk alerts; ``data`` holds
  the siren's fields but action, plus headline, cap_identifier and cap_url.

No evidence, model version or operator notes: a siren controller sounds or silences, a
broadcaster forwards public words; neither needs (nor should leak) the measurements. A siren
does not hear a de-escalation (it does not sound "less"; the all-clear is the clear) and
neither hears data-quality alerts (a dead station is the operators' problem, not a reason to
wake a hillside).
"""

from __future__ import annotations

import json
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from alerts import wording
from alerts.kind import AlertKind
from alerts.payload import JSON_TYPE, cap_identifier, headline, instruction
from alerts.payload import render as render_full
from models import Level

if TYPE_CHECKING:
    from alerts.payload import AlertEvent


class Audience(StrEnum):
    """``webhook_subscriptions.audience`` (migration 0014)."""

    FULL = "full"
    SIREN = "siren"
    BROADCAST = "broadcast"


# The receipt each narrow audience records (POST /alerts/{id}/receipts/{subscription}).
RECEIPT_ACTION = {Audience.SIREN: "siren_sounded", Audience.BROADCAST: "broadcast_sent"}

_TRANSITIONS = {
    Audience.SIREN: frozenset({"raised", "escalated", "cleared"}),
    Audience.BROADCAST: frozenset({"raised", "escalated", "de-escalated", "cleared"}),
}
# What a siren controller does on each transition it hears.
_SIREN_ACTION = {"raised": "sound", "escalated": "sound", "cleared": "silence"}


def hears(audience: str, event: AlertEvent) -> bool:
    """Whether a subscription of ``audience`` is sent ``event`` at all."""
    if audience == Audience.FULL:
        return True
    return event.kind == AlertKind.RISK and event.transition in _TRANSITIONS[Audience(audience)]


def receipt_path(alert_id: int, subscription_id: int) -> str:
    """Where the device posts its receipt, relative to the ops API."""
    return f"/alerts/{alert_id}/receipts/{subscription_id}"


def narrow(event: AlertEvent, audience: str, subscription_id: int) -> str:
    """The JSON body of ``event`` for a ``siren`` or ``broadcast`` subscription."""
    public = wording.profile(event.network)
    said = wording.words(public.language)
    data: dict[str, Any] = {
        "event_id": event.event_id,
        "alert_id": event.alert_id,
        "seq": event.seq,
        "zone": {"id": event.zone_id, "name": event.zone_name},
        "transition": event.transition,
        "level": event.to_level,
        "level_name": Level(event.to_level).name.lower(),
        "level_words": said.levels[event.to_level],
        "language": public.language,
        "instruction": instruction(event.kind, event.to_level, public.language),
        "receipt_path": receipt_path(event.alert_id, subscription_id),
    }
    if audience == Audience.SIREN:
        data["action"] = _SIREN_ACTION[event.transition]
    else:
        identifier = cap_identifier(event.network, event.alert_id, event.seq)
        data["headline"] = headline(event)
        data["cap_identifier"] = identifier
        # The public feed serves an alert's latest message while it is open (a cleared
        # alert's link answers 404: the all-clear is the end of it).
        base = public.public_url
        data["cap_url"] = None if base is None else f"{base.rstrip('/')}/public/cap/{identifier}"
    body = {
        "type": f"{audience}.{event.transition}",
        "timestamp": event.at.isoformat(),
        "data": data,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def render(event: AlertEvent, audience: str, fmt: str, subscription_id: int) -> tuple[str, str]:
    """(content type, body) of ``event`` for one subscription."""
    if audience == Audience.FULL:
        return render_full(event, fmt)
    return JSON_TYPE, narrow(event, audience, subscription_id)
