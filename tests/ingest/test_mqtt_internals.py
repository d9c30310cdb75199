"""An aiomqtt or paho upgrade that moves a private member ingest uses fails here, loudly."""

from __future__ import annotations

import asyncio
import re
from importlib import metadata

import aiomqtt
import paho.mqtt.client as paho
import pytest

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
