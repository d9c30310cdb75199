"""Every private aiomqtt and paho member ingest relies on, behind one adapter.

aiomqtt has no public API for manual acknowledgement (aiomqtt #345: ack strictly after the
database commit) nor for taking over the socket reads (the hot path decodes in paho's
callback and drains every waiting packet per readable event, measured in bench/ingest.py);
paho's ``MQTTMessage.topic`` raises on a topic that is not UTF-8, so the raw bytes are read;
and paho builds an MQTT 5 ``Properties`` object, an ``MQTTMessage`` and two log records for
every PUBLISH, a third of the receive path's time for a one-reading message (cProfile of the
drain in bench/ingest.py), so the common PUBLISH is parsed here instead (:func:`lean_publish`).
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
    ("paho.Client", "_handle_publish"),
    ("paho.Client", "_in_packet"),
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


# (topic bytes, payload, packet id, QoS) of a PUBLISH without properties.
PublishHandler = Callable[[bytes, bytes, int, int], None]


def lean_publish(client: paho.Client, handler: PublishHandler) -> None:
    """Hand each QoS 0/1 PUBLISH without properties straight to ``handler``.

    That is the wire shape of every reading a station sends; paho's own handler (which builds
    a ``Properties`` object, an ``MQTTMessage`` and log records, then calls ``on_message``)
    still handles everything else: QoS 2, a PUBLISH with properties (a content type, say), and
    a packet too short to be well formed (it raises ``MalformedPacket`` there, as before).
    With manual acknowledgement on (:func:`manual_acks`) paho's handler does nothing more for
    QoS 0/1 than call ``on_message``, so nothing is skipped but objects and logging. MQTT 5
    only (an MQTT 3 PUBLISH has no properties): any other protocol keeps paho's handler.
    """
    if client.protocol != paho.MQTTv5:
        return
    general = client._handle_publish  # noqa: SLF001  see the module docstring

    def handle_publish() -> MQTTErrorCode:
        in_packet = client._in_packet  # noqa: SLF001  see the module docstring
        packet = in_packet["packet"]
        qos = (in_packet["command"] & 0x06) >> 1
        size = len(packet)
        if qos > 1 or size < 3:
            return general()
        end = 2 + ((packet[0] << 8) | packet[1])
        mid = 0
        if qos:
            if end + 2 >= size:
                return general()
            mid = (packet[end] << 8) | packet[end + 1]
            start = end + 2
        else:
            start = end
        # The properties' length, a variable-byte integer: 0 is one zero byte.
        if start >= size or packet[start] != 0:
            return general()
        handler(bytes(packet[2:end]), bytes(packet[start + 1 :]), mid, qos)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    client._handle_publish = handle_publish  # type: ignore[method-assign]  # noqa: SLF001


def handle_read_error(client: paho.Client, rc: MQTTErrorCode) -> None:
    """What paho's own loop does with a failed read (``loop_read``'s error path)."""
    client._loop_rc_handle(rc)  # noqa: SLF001  see the module docstring


def end_session(client: aiomqtt.Client, exc: BaseException) -> None:
    """End aiomqtt's session with ``exc``, as aiomqtt does when its own read fails."""
    disconnected = client._disconnected  # noqa: SLF001  see the module docstring
    if not disconnected.done():
        disconnected.set_exception(exc)
