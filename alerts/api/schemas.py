"""Response and request bodies of the ops API; FastAPI derives the OpenAPI document from them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, cast

from pydantic import BaseModel, Field

from models import Level

Quality = Literal["ok", "late", "offline", "never"]
Transition = Literal["raised", "escalated", "de-escalated", "acknowledged", "cleared"]
# Literals so that the OpenAPI document lists the values; tests/alerts/test_closed_sets.py
# holds them to models.Level, alerts.lifecycle.Transition and the alerts table's kinds.
LevelName = Literal["normal", "attention", "alert", "crisis"]


class Problem(BaseModel):
    """An error: what went wrong and what to do next."""

    detail: str


class Health(BaseModel):
    """Liveness or readiness of the API process."""

    status: Literal["ok", "ready", "unavailable"]
    detail: str | None = None


class Station(BaseModel):
    """A station with its newest device time, battery and data quality."""

    id: str
    zone: str
    name: str
    lat: float
    lon: float
    status: Literal["active", "maintenance", "retired"]
    expected_interval_s: float
    last_seen: datetime | None = Field(description="newest device time of any reading")
    seconds_since_last_seen: float | None
    battery_v: float | None = Field(description="newest battery reading by device time")
    battery_at: datetime | None
    data_quality: Quality = Field(
        description="ok: within two expected intervals; late: within the stale threshold; "
        "offline: beyond it; never: no reading stored"
    )


class Zone(BaseModel):
    """A zone with its current risk level, data-alert level and the latest evidence."""

    id: str
    name: str
    level: int = Field(ge=0, le=3, description="level of the open risk alert, else 0")
    level_name: LevelName
    risk_alert_id: int | None
    data_level: int = Field(ge=0, le=3, description="level of the open data alert, else 0")
    data_alert_id: int | None
    evidence: dict[str, Any] | None = Field(
        description="evidence of the latest risk transition (acknowledgements skipped)"
    )
    evidence_at: datetime | None
    evidence_transition: Transition | None


class AlertEvent(BaseModel):
    """One transition of an alert's append-only history."""

    seq: int
    transition: Transition
    from_level: int = Field(ge=0, le=3)
    to_level: int = Field(ge=0, le=3)
    evidence: dict[str, Any]
    actor: str | None
    note: str | None = Field(description="the operator's note of an acknowledgement")
    at: datetime


class Alert(BaseModel):
    """One alert episode of a zone."""

    id: int
    network: str
    zone: str
    kind: Literal["risk", "data"]
    level: int = Field(ge=0, le=3)
    level_name: LevelName
    status: Literal["open", "cleared"]
    seq: int
    raised_at: datetime
    updated_at: datetime
    cleared_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None


class Receipt(BaseModel):
    """A siren's or broadcaster's receipt of one transition (not itself a transition)."""

    seq: int = Field(description="the transition the device acted on")
    subscription_id: int
    action: Literal["siren_sounded", "broadcast_sent"]
    actor: str
    note: str | None
    at: datetime


class AlertDetail(Alert):
    """An alert with its history: transitions and receipts, oldest first."""

    events: list[AlertEvent]
    receipts: list[Receipt] = Field(
        description="what siren and broadcast subscriptions reported doing with its messages"
    )


class ReceiptIn(BaseModel):
    """A siren controller or broadcaster reporting what it did with a message."""

    action: Literal["siren_sounded", "broadcast_sent"] = Field(
        description="siren_sounded from a siren subscription, broadcast_sent from a broadcast one"
    )
    by: str = Field(
        min_length=1, max_length=200, pattern=r"^[^\x00]+$", description="the device or person"
    )
    note: str | None = Field(default=None, max_length=2000, pattern=r"^[^\x00]*$")
    seq: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="the transition acted on (default: the latest one sent to the subscription)",
    )


class Acknowledge(BaseModel):
    """An operator acknowledging an open alert."""

    by: str = Field(
        min_length=1, max_length=200, pattern=r"^[^\x00]+$", description="who acknowledges"
    )
    note: str | None = Field(
        default=None,
        max_length=2000,
        pattern=r"^[^\x00]*$",
        description="stored with the acknowledged event and sent to subscribers",
    )


class Acknowledged(BaseModel):
    """The recorded acknowledgement (the first one, when acknowledged twice)."""

    alert_id: int
    seq: int
    acknowledged_at: datetime
    acknowledged_by: str
    note: str | None = Field(description="the note of the recorded acknowledgement")


class WebhookIn(BaseModel):
    """A new webhook subscription; a fresh secret is generated unless one is given."""

    url: str = Field(pattern=r"^https?://[^\s\x00]+$", max_length=2000)
    min_level: int = Field(default=1, ge=0, le=3)
    zones: list[Annotated[str, Field(pattern=IDENTIFIER)]] | None = Field(
        default=None, description="null: every zone"
    )
    format: Literal["json", "cap"] = "json"
    audience: Literal["full", "siren", "broadcast"] = Field(
        default="full",
        description="full: every transition and field; siren/broadcast: only what a community "
        "siren or an SMS/WhatsApp broadcaster needs (JSON, risk alerts), with a receipt token",
    )
    secret: str | None = Field(default=None, pattern=r"^whsec_[A-Za-z0-9+/=]+$")
    heartbeat: bool = Field(default=False, description="also receive encosta.heartbeat")
    fallback: bool = Field(
        default=False, description="a fallback contact: receive only alert.unacknowledged"
    )


class Webhook(BaseModel):
    """A webhook subscription, without its secret."""

    id: int
    url: str
    min_level: int
    zones: list[str] | None
    format: Literal["json", "cap"]
    enabled: bool
    heartbeat: bool = Field(description="receives the periodic encosta.heartbeat")
    fallback: bool = Field(description="receives only alert.unacknowledged escalations")
    audience: Literal["full", "siren", "broadcast"]
    created_at: datetime


class WebhookCreated(Webhook):
    """A new subscription with its signing secret, shown this once."""

    secret: str
    receipt_token: str | None = Field(
        default=None,
        description="siren/broadcast only, shown this once: the bearer token of "
        "POST /alerts/{id}/receipts/{subscription}",
    )


class WebhookTest(BaseModel):
    """A signed ``encosta.test`` message the subscriber answered with 2xx."""

    message_id: str


class DeadLetter(BaseModel):
    """An outbox message that will not be retried until replayed."""

    message_id: str
    subscription_id: int
    alert_id: int | None = Field(description="null for a heartbeat")
    seq: int | None
    zone: str
    attempts: int
    last_error: str | None
    created_at: datetime


class Replayed(BaseModel):
    """Dead letters set back to pending, due now."""

    replayed: list[str]


def level_name(level: int) -> LevelName:
    """The operator name of level 0..3: ``models.Level`` in lower case."""
    return cast("LevelName", Level(level).name.lower())


# Identifiers as the registry writes them; anything else (a NUL byte, a 10 kB string) is
# refused with 422 before it reaches PostgreSQL.
IDENTIFIER = r"^[A-Za-z0-9_.:-]{1,200}$"
MAX_ID = 2**63 - 1  # bigserial
