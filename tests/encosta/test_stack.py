"""The local stack refuses to adopt a port that another process holds."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from encosta.errors import StackError
from encosta.stack import Mosquitto, Postgres, StackConfig


def test_foreign_listener_on_the_ports_is_refused(tmp_path: Path) -> None:
    """A listener that is not this stack's broker or cluster is an error naming the variable."""
    with socket.socket() as mqtt, socket.socket() as pg:
        for sock in (mqtt, pg):
            sock.bind(("127.0.0.1", 0))
            sock.listen()
        config = StackConfig(
            state_dir=tmp_path,
            pg_port=pg.getsockname()[1],
            mqtt_port=mqtt.getsockname()[1],
        )
        with pytest.raises(StackError, match="ENCOSTA_MQTT_PORT"):
            Mosquitto(config).start()
        with pytest.raises(StackError, match="ENCOSTA_PG_PORT"):
            Postgres(config).start()
