"""Webhook bodies of one alert transition: a JSON event (default) or an OASIS CAP 1.2 alert."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree as ET

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

    @property
    def event_id(self) -> str:
        """Stable id of the transition (alert id + transition number)."""
        return f"evt_{self.alert_id}_{self.seq}"


def to_json(event: AlertEvent) -> str:
    """The JSON event body (Standard Webhooks shape: type, timestamp, data)."""
    body = {
        "type": f"alert.{event.transition}",
        "timestamp": event.at.isoformat(),
        "data": {
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
        },
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def to_cap(event: AlertEvent) -> str:
    """The same transition as an OASIS CAP 1.2 ``<alert>`` document."""
    ET.register_namespace("", _CAP_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
        element = ET.SubElement(parent, f"{{{_CAP_NS}}}{tag}")
        element.text = text
        return element

    root = ET.Element(f"{{{_CAP_NS}}}alert")
    sent = event.at.isoformat(timespec="seconds").replace("+00:00", "-00:00")
    sub(root, "identifier", f"encosta-{event.network}-{event.event_id}")
    sub(root, "sender", f"encosta@{event.network}")
    sub(root, "sent", sent)
    sub(root, "status", "Actual")
    sub(root, "msgType", "Alert" if event.transition == "raised" else "Update")
    sub(root, "scope", "Public")
    info = sub(root, "info")
    sub(info, "language", "en")
    sub(info, "category", "Geo")
    what = "Landslide risk" if event.kind == "risk" else "Landslide monitoring data outage"
    sub(info, "event", what)
    sub(info, "urgency", _URGENCY[event.to_level])
    sub(info, "severity", _SEVERITY[event.to_level])
    sub(info, "certainty", "Likely" if event.to_level >= 2 else "Possible")
    level = Level(event.to_level).name.lower()
    sub(info, "headline", f"{what} {event.transition}: {event.zone_name} at level {level}")
    sub(info, "description", json.dumps(event.evidence, ensure_ascii=False, allow_nan=False))
    for name, value in (("level", str(event.to_level)), ("transition", event.transition),
                        ("model_version", str(event.evidence.get("model_version", "")))):
        parameter = sub(info, "parameter")
        sub(parameter, "valueName", name)
        sub(parameter, "value", value)
    area = sub(info, "area")
    sub(area, "areaDesc", f"{event.zone_name} ({event.zone_id})")
    return ET.tostring(root, encoding="unicode", xml_declaration=False)


def render(event: AlertEvent, fmt: str) -> tuple[str, str]:
    """(content type, body) of ``event`` in subscription format ``fmt`` ('json' or 'cap')."""
    if fmt == "cap":
        return CAP_TYPE, to_cap(event)
    return JSON_TYPE, to_json(event)
