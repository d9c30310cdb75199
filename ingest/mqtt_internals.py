"""Every private aiomqtt and paho member ingest relies on, behind one adapter.

aiomqtt has no public API for manual acknowledgement (aiomqtt #345: ack strictly after the
database commit) nor for taking over the socket reads (the hot path decodes in paho's
callback and drains every waiting packet per readable event, measured in bench/ingest.py);
paho's ``MQTTMessage.topic`` raises on a topic that is not UTF-8, so the raw bytes are read.
Nothing else in the project touches these members.

Because they are private, ``pyproject.toml`` pins both libraries exactly (:data:`PINNED`), and
``tests/ingest/test_mqtt_internals.py`` fails, naming the member, when an upgrade moves one:
re-check each use here before changing a pin.
"""

from __future__ import annotations

from collections.abc import Callable

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode

# Keep in step with pyproject.toml; the test compares both with what is installed.
PINNED = {"aiomqtt": "2.5.1", "paho-mqtt": "2.2.0"}

# (owner, member) of every private access below, for the upgrade test.
MEMBERS = (
    ("aiomqtt.Client", "_client"),
    ("aiomqtt.Client", "_disconnected"),
    ("paho.Client", "_packet_read"),
    ("paho.Client", "_loop_rc_handle"),
    ("paho.MQTTMessage", "_topic"),
)


def paho_client(client: aiomqtt.Client) -> paho.Client:
    """The paho client inside an aiomqtt client."""
    inner: paho.Client = client._client  # noqa: SLF001  see the module docstring
    return inner


def manual_acks(client: aiomqtt.Client) -> None:
    """Acknowledge QoS 1/2 messages only when :func:`ack` is called (after the commit)."""
    paho_client(client).manual_ack_set(on=True)


def ack(client: aiomqtt.Client, mid: int, qos: int) -> None:
    """Send the PUBACK/PUBREC of message ``mid``."""
    paho_client(client).ack(mid, qos)


def topic_bytes(message: paho.MQTTMessage) -> bytes:
    """The topic as received (``message.topic`` raises on invalid UTF-8)."""
    topic: bytes = message._topic  # noqa: SLF001  see the module docstring
    return topic


def packet_reader(client: paho.Client) -> Callable[[], MQTTErrorCode]:
    """Read one packet from the socket: ``MQTT_ERR_AGAIN`` when none is waiting."""
    read: Callable[[], MQTTErrorCode] = client._packet_read  # noqa: SLF001  see the module docstring
    return read


def handle_read_error(client: paho.Client, rc: MQTTErrorCode) -> None:
    """What paho's own loop does with a failed read (``loop_read``'s error path)."""
    client._loop_rc_handle(rc)  # noqa: SLF001  see the module docstring


def end_session(client: aiomqtt.Client, exc: BaseException) -> None:
    """End aiomqtt's session with ``exc``, as aiomqtt does when its own read fails."""
    disconnected = client._disconnected  # noqa: SLF001  see the module docstring
    if not disconnected.done():
        disconnected.set_exception(exc)
