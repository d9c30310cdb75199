"""MQTT 5 connection properties of a persistent-session subscriber."""

from __future__ import annotations

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties


def connect_properties(session_expiry_s: int, receive_max: int | None = None) -> Properties:
    """CONNECT properties for a session the broker keeps ``session_expiry_s`` when offline.

    With ``receive_max`` the broker keeps at most that many messages unacknowledged in flight.
    """
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = session_expiry_s
    if receive_max is not None:
        properties.ReceiveMaximum = receive_max
    return properties
