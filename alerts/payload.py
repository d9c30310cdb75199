"""Webhook bodies of one alert transition: a JSON event (default) or an OASIS CAP 1.2 alert."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

from alerts import wording
from alerts.kind import AlertKind
from models import MODEL_VERSION, Level

if TYPE_CHECKING:
    from datetime import datetime

JSON_TYPE = "application/json"
CAP_TYPE = "application/cap+xml"
_CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
_SEVERITY = {0: "Minor", 1: "Moderate", 2: "Severe", 3: "Extreme"}
_URGENCY = {0: "Past", 1: "Expected", 2: "Immediate", 3: "Immediate"}


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One recorded transition with what a receiver needs to act on it."""

    alert_id: int
    seq: int
    network: str
    zone_id: str
    zone_name: str
    kind: str
    transition: str
    from_level: int
    to_level: int
    at: datetime
    evidence: dict[str, Any]
    # (seq, time) of the episode's earlier transitions: CAP ``references`` of an Update/Cancel.
    earlier: tuple[tuple[int, datetime], ...] = ()
    # The zone as a CAP circle: (lat, lon, radius km) around its stations; None if unknown.
    circle: tuple[float, float, float] | None = None
    # The operator's free-text note of an acknowledgement (None: none given, or no ack).
    note: str | None = None

    @property
    def event_id(self) -> str:
        """Stable id of the transition (alert id + transition number)."""
        return f"evt_{self.alert_id}_{self.seq}"


def to_json(event: AlertEvent) -> str:
    """The JSON event body (Standard Webhooks shape: type, timestamp, data).

    An ``alert.acknowledged`` event also carries the operator's ``note`` (null if none).
    """
    data: dict[str, Any] = {
        "event_id": event.event_id,
        "alert_id": event.alert_id,
        "seq": event.seq,
        "network": event.network,
        "zone": {"id": event.zone_id, "name": event.zone_name},
        "kind": event.kind,
        "transition": event.transition,
        "from_level": event.from_level,
        "level": event.to_level,
        "level_name": Level(event.to_level).name.lower(),
        "model_version": event.evidence.get("model_version", MODEL_VERSION),
        "evidence": event.evidence,
    }
    if event.transition == "acknowledged":
        data["note"] = event.note
    body = {"type": f"alert.{event.transition}", "timestamp": event.at.isoformat(), "data": data}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def cap_time(at: datetime) -> str:
    """A CAP 1.2 dateTime: seconds, explicit offset, UTC written ``-00:00`` (CAP 1.2 3.3.2)."""
    return at.isoformat(timespec="seconds").replace("+00:00", "-00:00")


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{_CAP_NS}}}{tag}")
    element.text = text
    return element


def _cap_head(
    network: str, identifier: str, at: datetime, status: str, msg_type: str
) -> ET.Element:
    ET.register_namespace("", _CAP_NS)
    root = ET.Element(f"{{{_CAP_NS}}}alert")
    _sub(root, "identifier", identifier)
    _sub(root, "sender", cap_sender(network))
    _sub(root, "sent", cap_time(at))
    _sub(root, "status", status)
    _sub(root, "msgType", msg_type)
    _sub(root, "scope", "Public")
    return root


def cap_sender(network: str) -> str:
    """The CAP ``sender`` of ``network``'s messages."""
    return f"encosta@{network}"


def cap_identifier(network: str, alert_id: int, seq: int) -> str:
    """The CAP ``identifier`` of transition ``seq`` of alert ``alert_id``."""
    return f"encosta-{network}-evt_{alert_id}_{seq}"


def _msg_type(transition: str) -> str:
    if transition in {"raised", "unacknowledged"}:
        return "Alert"  # unacknowledged: the first message its (fallback) audience hears
    return "Cancel" if transition == "cleared" else "Update"


def _parameters(event: AlertEvent) -> list[tuple[str, str]]:
    """The evidence as CAP ``<parameter>`` pairs: one per criterion, machine-readable."""
    out = [
        ("level", str(event.to_level)),
        ("transition", event.transition),
        ("model_version", str(event.evidence.get("model_version", ""))),
    ]
    for c in event.evidence.get("criteria", []):
        if not isinstance(c, dict):
            continue
        fields = " ".join(
            f"{k}={'' if c.get(k) is None else c.get(k)}"
            for k in ("value", "threshold", "unit", "level", "station", "unknown", "estimated")
        )
        out.append((f"criterion:{c.get('criterion')}", fields))
    stale = event.evidence.get("stale_stations")
    if isinstance(stale, list):
        out.append(("stale_stations", " ".join(str(s) for s in stale)))
        out.append(("stations", str(event.evidence.get("stations", ""))))
    for key in ("acknowledged_by", "report_ids"):
        if key in event.evidence:
            value = event.evidence[key]
            text = " ".join(map(str, value)) if isinstance(value, list) else str(value)
            out.append((key, text))
    return out


def _description(event: AlertEvent, language: str) -> str:
    said = wording.words(language)
    level = said.levels[event.to_level]
    lines = [said.level_sentence.format(zone=event.zone_name, level=level, n=event.to_level)]
    if event.kind == AlertKind.RISK:
        lines += wording.describe_risk(event.evidence, said, language)
    else:
        lines += wording.describe_data(event.evidence, said)
    lines.append(said.note)
    return "\n".join(lines)


def instruction(kind: str, level: int, language: str) -> str:
    """What a resident of the zone should do, in ``language``."""
    said = wording.words(language)
    return said.instructions[level] if kind == AlertKind.RISK else said.data_instruction


def headline(event: AlertEvent) -> str:
    """The one-line summary of a transition, in the network's language."""
    said = wording.words(wording.profile(event.network).language)
    what = said.risk_event if event.kind == AlertKind.RISK else said.data_event
    return said.headline.format(
        event=what,
        transition=said.transitions.get(event.transition, event.transition),
        zone=event.zone_name,
        level=said.levels[event.to_level],
    )


def to_cap(event: AlertEvent) -> str:
    """The same transition as an OASIS CAP 1.2 ``<alert>`` document.

    Written for a person (description, instruction and headline in the network's language,
    :mod:`alerts.wording`) and for a machine (the evidence as ``<parameter>``s). An Update or
    Cancel lists the episode's earlier messages in ``references`` (``sender,identifier,sent``
    each, space-separated, CAP 1.2 3.2.1).
    """
    msg_type = _msg_type(event.transition)
    root = _cap_head(
        event.network,
        cap_identifier(event.network, event.alert_id, event.seq),
        event.at,
        "Actual",
        msg_type,
    )
    sub = _sub
    if event.note:  # CAP 1.2 3.2.1: <note> precedes <references>
        sub(root, "note", event.note)
    if msg_type != "Alert" and event.earlier:
        sender = cap_sender(event.network)
        sub(
            root,
            "references",
            " ".join(
                f"{sender},{cap_identifier(event.network, event.alert_id, seq)},{cap_time(at)}"
                for seq, at in event.earlier
            ),
        )
    public = wording.profile(event.network)
    language = public.language
    said = wording.words(language)
    info = sub(root, "info")
    sub(info, "language", language)
    sub(info, "category", "Geo")
    what = said.risk_event if event.kind == AlertKind.RISK else said.data_event
    sub(info, "event", what)
    sub(info, "responseType", _response_type(event))
    sub(info, "urgency", _URGENCY[event.to_level])
    sub(info, "severity", _SEVERITY[event.to_level])
    sub(info, "certainty", "Likely" if event.to_level >= 2 else "Possible")
    sub(info, "expires", cap_time(event.at + timedelta(hours=public.expires_hours)))
    sub(info, "senderName", public.sender_name)
    sub(info, "headline", headline(event))
    sub(info, "description", _description(event, language))
    sub(info, "instruction", instruction(event.kind, event.to_level, language))
    if public.web:
        sub(info, "web", public.web)
    if public.contact:
        sub(info, "contact", public.contact)
    for name, value in _parameters(event):
        parameter = sub(info, "parameter")
        sub(parameter, "valueName", name)
        sub(parameter, "value", value)
    area = sub(info, "area")
    sub(area, "areaDesc", f"{event.zone_name} ({event.zone_id})")
    if event.circle is not None:
        lat, lon, radius_km = event.circle
        sub(area, "circle", f"{lat:.5f},{lon:.5f} {radius_km:.2f}")
    return ET.tostring(root, encoding="unicode", xml_declaration=False)


def _response_type(event: AlertEvent) -> str:
    """CAP responseType: Evacuate at crisis, Prepare at alert, Monitor below, AllClear at clear."""
    if event.transition == "cleared" or event.to_level == 0:
        return "AllClear"
    if event.kind != AlertKind.RISK:
        return "Monitor"
    return {1: "Monitor", 2: "Prepare", 3: "Evacuate"}[event.to_level]


def heartbeat_cap(network: str, period: int, at: datetime) -> str:
    """A CAP 1.2 heartbeat: status ``System`` and no ``info`` (both allowed by CAP 1.2)."""
    root = _cap_head(network, f"encosta-{network}-hb_{period}", at, "System", "Alert")
    _sub(root, "note", "heartbeat: the Encosta alert engine is running")
    return ET.tostring(root, encoding="unicode", xml_declaration=False)


def render(event: AlertEvent, fmt: str) -> tuple[str, str]:
    """(content type, body) of ``event`` in subscription format ``fmt`` ('json' or 'cap')."""
    if fmt == "cap":
        return CAP_TYPE, to_cap(event)
    return JSON_TYPE, to_json(event)
