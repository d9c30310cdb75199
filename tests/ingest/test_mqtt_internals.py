"""An aiomqtt or paho upgrade that moves a private member ingest uses fails here, loudly."""

from __future__ import annotations

import asyncio
import re
import struct
from importlib import metadata

import aiomqtt
import paho.mqtt.client as paho
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingest import mqtt_internals
from tests.conftest import REPO


def test_installed_versions_are_the_pinned_ones() -> None:
    """Pyproject pins exactly what mqtt_internals was checked against, and that is installed."""
    pyproject = (REPO / "pyproject.toml").read_text()
    for name, version in mqtt_internals.PINNED.items():
        assert re.search(rf'"{name}=={re.escape(version)}"', pyproject), f"{name} not pinned"
        assert metadata.version(name) == version, (
            f"{name} {metadata.version(name)} is installed; ingest/mqtt_internals.py was checked "
            f"against {version}: re-check its private members before changing the pin"
        )


async def test_every_private_member_is_still_there() -> None:
    """Each member mqtt_internals reaches into exists with the expected kind."""
    client = aiomqtt.Client("127.0.0.1", 1)  # never connected
    message = paho.MQTTMessage(topic=b"encosta/rio/st-\xff/readings")
    found = {
        "aiomqtt.Client": client,
        "paho.Client": mqtt_internals.paho_client(client),
        "paho.MQTTMessage": message,
    }
    for owner, member in mqtt_internals.MEMBERS:
        assert hasattr(found[owner], member), f"{owner}.{member} is gone: see mqtt_internals"
    assert isinstance(mqtt_internals.paho_client(client), paho.Client)
    assert isinstance(client._disconnected, asyncio.Future)
    assert mqtt_internals.topic_bytes(message) == b"encosta/rio/st-\xff/readings"
    assert callable(mqtt_internals.packet_reader(mqtt_internals.paho_client(client)))
    with pytest.raises(UnicodeDecodeError):
        _ = message.topic  # why topic_bytes exists


Delivered = list[tuple[object, ...]]


def _client() -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.manual_ack_set(on=True)  # as ingest's client (mqtt_internals.manual_acks)
    return client


def _receive(client: paho.Client, header: int, body: bytes) -> None:
    """Set ``client`` up as paho's _packet_read does once a whole packet is read."""
    client._in_packet = {
        "command": header,
        "have_remaining": 1,
        "remaining_count": [],
        "remaining_mult": 1,
        "remaining_length": len(body),
        "packet": bytearray(body),
        "to_process": 0,
        "pos": 0,
    }


def _publish_outcomes(lean: bool, header: int, body: bytes) -> tuple[object, Delivered]:
    """What handling one PUBLISH (fixed-header byte, rest of the packet) delivers, and returns."""
    client = _client()
    seen: Delivered = []

    def on_message(_c: object, _u: object, m: paho.MQTTMessage) -> None:
        content_type = getattr(m.properties, "ContentType", None)
        seen.append((mqtt_internals.topic_bytes(m), bytes(m.payload), m.mid, m.qos, content_type))

    client.on_message = on_message
    if lean:
        mqtt_internals.lean_publish(
            client, lambda topic, payload, mid, qos: seen.append((topic, payload, mid, qos, None))
        )
    _receive(client, header, body)
    try:
        outcome: object = client._handle_publish()
    except Exception as exc:  # noqa: BLE001  the outcome compared: paho raises MalformedPacket
        outcome = type(exc)
    return outcome, seen


def _publish_body(
    topic: bytes, qos: int, mid: int, content_type: str | None, payload: bytes
) -> bytes:
    properties = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
    if content_type is not None:
        properties.ContentType = content_type
    head = struct.pack("!H", len(topic)) + topic + (struct.pack("!H", mid) if qos else b"")
    packed: bytes = properties.pack()  # type: ignore[no-untyped-call]
    return head + packed + payload


@settings(max_examples=300, deadline=None)
@given(
    topic=st.binary(max_size=40) | st.sampled_from([b"encosta/rio/rocinha-01/readings"]),
    qos=st.integers(0, 2),
    mid=st.integers(0, 0xFFFF),
    content_type=st.none() | st.sampled_from(["application/senml+json", "application/json"]),
    payload=st.binary(max_size=60),
    flags=st.integers(0, 0x09),
)
def test_lean_publish_delivers_what_paho_does(  # noqa: PLR0917  one per drawn field
    topic: bytes, qos: int, mid: int, content_type: str | None, payload: bytes, flags: int
) -> None:
    """Well-formed PUBLISH packets: the lean path hands on what paho's on_message would get.

    A message with properties (here a content type) or QoS 2 goes to paho's own handler.
    """
    header = 0x30 | (qos << 1) | (flags & 0x09)  # DUP and RETAIN bits drawn too
    body = _publish_body(topic, qos, mid, content_type, payload)
    assert _publish_outcomes(True, header, body) == _publish_outcomes(False, header, body)


@settings(max_examples=500, deadline=None)
@given(header=st.integers(0x30, 0x3F), body=st.binary(max_size=24))
def test_lean_publish_on_malformed_packets_answers_as_paho(header: int, body: bytes) -> None:
    """Arbitrary bytes: the same delivery, return code or exception as paho's handler."""
    assert _publish_outcomes(True, header, body) == _publish_outcomes(False, header, body)


def test_lean_publish_takes_the_common_message() -> None:
    """A station's QoS 1 reading without properties does not go through on_message."""
    topic = b"encosta/rio/rocinha-01/readings"
    body = _publish_body(topic, 1, 7, None, b'{"ts":1,"rain_mm":0.2}')
    client = _client()
    client.on_message = lambda *_: pytest.fail("paho's handler ran")
    lean: list[tuple[bytes, bytes, int, int]] = []
    mqtt_internals.lean_publish(client, lambda *args: lean.append(args))
    _receive(client, 0x32, body)
    assert client._handle_publish() == paho.MQTT_ERR_SUCCESS
    assert lean == [(topic, b'{"ts":1,"rain_mm":0.2}', 7, 1)]
