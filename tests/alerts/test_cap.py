"""CAP 1.2 rules (OASIS CAP v1.2, sections 3.2-3.3) checked on every kind of message we send."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest

from alerts.payload import AlertEvent, cap_identifier, heartbeat_cap, render
from tests.alerts.cap_schema import enumerations, validate

NS = "{urn:oasis:names:tc:emergency:cap:1.2}"
AT = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)
CIRCLE = (-22.98766, -43.24834, 1.25)
# CAP 1.2 3.3.2: dateTime with an explicit offset, no fractional seconds; UTC as -00:00.
DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[-+]\d\d:\d\d$")
FORBIDDEN = re.compile(r"[\s,<&]")  # identifier and sender: no spaces, commas, < or &
ENUMS = enumerations()  # from the official XSD, not a copy of the spec
CAP_ENUMS = (
    "status",
    "msgType",
    "scope",
    "category",
    "responseType",
    "urgency",
    "severity",
    "certainty",
)
ALERT_ORDER = [
    "identifier",
    "sender",
    "sent",
    "status",
    "msgType",
    "source",
    "scope",
    "restriction",
    "addresses",
    "code",
    "note",
    "references",
    "incidents",
    "info",
]
INFO_ORDER = [
    "language",
    "category",
    "event",
    "responseType",
    "urgency",
    "severity",
    "certainty",
    "audience",
    "eventCode",
    "effective",
    "onset",
    "expires",
    "senderName",
    "headline",
    "description",
    "instruction",
    "web",
    "contact",
    "parameter",
    "resource",
    "area",
]


def event(transition: str, seq: int, level: int) -> AlertEvent:
    """A Rocinha risk transition number ``seq`` with its earlier transitions as references."""
    earlier = tuple((n, AT + timedelta(minutes=n)) for n in range(1, seq))
    return AlertEvent(
        7,
        seq,
        "rio",
        "rocinha",
        "Rocinha",
        "risk",
        transition,
        1,
        level,
        AT + timedelta(minutes=seq),
        {"model_version": "m 1", "criteria": []},
        earlier,
        CIRCLE,
    )


def tag(element: ET.Element) -> str:
    """Local name of ``element``."""
    return element.tag.removeprefix(NS)


def in_order(children: list[ET.Element], order: list[str]) -> bool:
    """Whether the children follow the sequence order of the CAP 1.2 schema."""
    positions = [order.index(tag(c)) for c in children]
    return positions == sorted(positions)


def check_alert(root: ET.Element) -> None:
    """Assert the CAP 1.2 rules of an ``<alert>`` and its ``<info>`` blocks."""
    assert root.tag == f"{NS}alert"
    assert in_order(list(root), ALERT_ORDER)
    for required in ("identifier", "sender", "sent", "status", "msgType", "scope"):
        assert root.findtext(f"{NS}{required}"), required
    for name in ("identifier", "sender"):
        assert not FORBIDDEN.search(root.findtext(f"{NS}{name}", "")), name
    assert DATETIME.match(root.findtext(f"{NS}sent", ""))
    for name in ("status", "msgType", "scope"):
        assert root.findtext(f"{NS}{name}") in ENUMS[name], name
    references = root.findtext(f"{NS}references")
    if root.findtext(f"{NS}msgType") in {"Update", "Cancel"}:
        assert references, "an Update or Cancel names the message(s) it refers to"
    for reference in (references or "").split():
        sender, identifier, sent = reference.split(",")
        assert sender == root.findtext(f"{NS}sender")
        assert not FORBIDDEN.search(identifier)
        assert DATETIME.match(sent)
    for info in root.findall(f"{NS}info"):
        assert in_order(list(info), INFO_ORDER)
        for name in ("category", "urgency", "severity", "certainty"):
            assert info.findtext(f"{NS}{name}") in ENUMS[name], name
        assert {r.text for r in info.findall(f"{NS}responseType")} <= ENUMS["responseType"]
        assert info.findtext(f"{NS}event")
        for area in info.findall(f"{NS}area"):
            assert area.findtext(f"{NS}areaDesc")
            circles = [c.text or "" for c in area.findall(f"{NS}circle")]
            polygons = [p.text or "" for p in area.findall(f"{NS}polygon")]
            assert circles or polygons
            for circle in circles:  # "lat,lon radius_km" in WGS 84
                centre, radius = circle.split(" ")
                lat, lon = map(float, centre.split(","))
                assert -90 <= lat <= 90
                assert -180 <= lon <= 180
                assert float(radius) > 0


@pytest.mark.parametrize(
    ("transition", "seq", "level", "msg_type"),
    [
        ("raised", 1, 2, "Alert"),
        ("escalated", 2, 3, "Update"),
        ("acknowledged", 3, 3, "Update"),
        ("de-escalated", 4, 1, "Update"),
        ("cleared", 5, 0, "Cancel"),
        ("unacknowledged", 2, 2, "Alert"),
    ],
)
def test_transition_messages_follow_cap_1_2(
    transition: str, seq: int, level: int, msg_type: str
) -> None:
    """Every transition renders as a valid CAP 1.2 alert with the right msgType."""
    document = render(event(transition, seq, level), "cap")[1]
    validate(document)
    root = ET.fromstring(document)
    check_alert(root)
    assert root.findtext(f"{NS}msgType") == msg_type
    assert root.findtext(f"{NS}info/{NS}category") == "Geo"


def test_update_references_the_earlier_messages() -> None:
    """An Update references the episode's earlier messages by sender, identifier and sent."""
    root = ET.fromstring(render(event("escalated", 3, 3), "cap")[1])
    assert root.findtext(f"{NS}references") == (
        f"encosta@rio,{cap_identifier('rio', 7, 1)},2026-11-24T19:01:00-00:00 "
        f"encosta@rio,{cap_identifier('rio', 7, 2)},2026-11-24T19:02:00-00:00"
    )
    assert root.findtext(f"{NS}info/{NS}area/{NS}circle") == "-22.98766,-43.24834 1.25"


def test_heartbeat_is_a_cap_system_message() -> None:
    """The CAP heartbeat is a status=System alert without info."""
    document = heartbeat_cap("rio", 12345, AT)
    validate(document)
    root = ET.fromstring(document)
    check_alert(root)
    assert root.findtext(f"{NS}status") == "System"
    assert root.find(f"{NS}info") is None


def test_enumerations_come_from_the_official_schema() -> None:
    """Every CAP enumeration the tests check is read from the XSD the wheel ships."""
    assert set(CAP_ENUMS) <= set(ENUMS)
    assert "Geo" in ENUMS["category"]
    assert "Evacuate" in ENUMS["responseType"]


@pytest.mark.parametrize("fmt_kind", ["risk", "data"])
def test_a_duty_officer_reads_words_not_json(fmt_kind: str) -> None:
    """Rio's messages are in pt-BR with instruction, expiry, sender, web, contact and parameters."""
    evidence = (
        {
            "model_version": "m 1",
            "criteria": [
                {
                    "criterion": "rain_1h",
                    "value": 80.0,
                    "threshold": 50.0,
                    "unit": "mm",
                    "level": 3,
                    "unknown": False,
                    "estimated": False,
                    "station": "rocinha-01",
                }
            ],
        }
        if fmt_kind == "risk"
        else {"model_version": "m 1", "stale_stations": ["rocinha-02"], "stations": 3}
    )
    base = event("raised", 1, 3)
    raised = AlertEvent(
        base.alert_id,
        1,
        "rio",
        "rocinha",
        "Rocinha",
        fmt_kind,
        "raised",
        0,
        3,
        AT,
        evidence,
        (),
        CIRCLE,
    )
    document = render(raised, "cap")[1]
    validate(document)
    info = ET.fromstring(document).find(f"{NS}info")
    assert info is not None
    assert info.findtext(f"{NS}language") == "pt-BR"
    description = info.findtext(f"{NS}description", "")
    assert "{" not in description
    assert "crise" in description
    assert info.findtext(f"{NS}instruction")
    assert info.findtext(f"{NS}expires") == "2026-11-25T01:00:00-00:00"
    for name in ("senderName", "web", "contact"):
        assert info.findtext(f"{NS}{name}"), name
    names = {
        p.findtext(f"{NS}valueName"): p.findtext(f"{NS}value") for p in info.iter(f"{NS}parameter")
    }
    if fmt_kind == "risk":
        assert "80,0 mm" in description
        assert (names["criterion:rain_1h"] or "").startswith(
            "value=80.0 threshold=50.0 unit=mm level=3"
        )
        assert info.findtext(f"{NS}responseType") == "Evacuate"
    else:
        assert "rocinha-02" in description
        assert names["stale_stations"] == "rocinha-02"


def test_a_network_without_profile_speaks_english() -> None:
    """A network with no profile file falls back to English and a plain sender name."""
    base = event("raised", 1, 2)
    other = AlertEvent(
        7, 1, "elsewhere", "z", "Zone", "risk", "raised", 0, 2, AT, base.evidence, (), CIRCLE
    )
    document = render(other, "cap")[1]
    validate(document)
    info = ET.fromstring(document).find(f"{NS}info")
    assert info is not None
    assert info.findtext(f"{NS}language") == "en"
    assert info.findtext(f"{NS}senderName") == "Encosta"
    assert info.find(f"{NS}web") is None
