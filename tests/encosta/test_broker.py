"""The broker lets no one in without an account and each account only where it belongs.

Checked with Mosquitto's own clients (``mosquitto_pub``/``mosquitto_sub``), not ours, against
the accounts ``encosta broker sync`` creates (``ingest.accounts``), with ingest running.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import aiomqtt
import pytest

from encosta import dynsec
from encosta.stack import Mosquitto, StackConfig, free_port
from ingest.accounts import (
    SHARE_GROUP,
    gateway_username,
    ingest_account,
    network_accounts,
    station_username,
)
from ingest.broker import BrokerLogin, reason_codes
from ingest.topic import subscription
from tests.conftest import Database, ingest_config, running_ingest
from tests.mqtt import Endpoint, mosquitto_cli, mosquitto_pub, own_accounts

pytestmark = pytest.mark.services


def _reading(rain_mm: float, age_s: float = 60.0) -> bytes:
    return json.dumps({"records": [{"ts": time.time() - age_s, "rain_mm": rain_mm}]}).encode()


async def test_anonymous_and_wrong_password_are_refused(database: Database) -> None:
    """No username, or a station's username with a wrong password: CONNACK refuses both."""
    topic = database.topic("borel-01")
    code, out = await mosquitto_cli(
        "mosquitto_pub", None, "-t", topic, "-m", "x", "-q", "1", port=database.stack.mqtt_port
    )
    assert code != 0
    assert "authori" in out.lower()  # "Not authorized" (MQTT 5 reason code 0x87)
    station = database.broker.endpoint(station_username(database.network, "borel-01"))
    wrong = Endpoint(station.port, replace(station.login, password="not-the-password"))
    code, out = await mosquitto_cli("mosquitto_pub", wrong, "-t", topic, "-m", "x", "-q", "1")
    assert code != 0
    assert "not authori" in out.lower() or "bad user name or password" in out.lower()


async def test_a_station_publishes_only_as_itself(database: Database) -> None:
    """borel-01's account stores under borel-01; its message on borel-02's topic is refused."""
    name = station_username(database.network, "borel-01")
    station = database.broker.endpoint(name)
    async with running_ingest(ingest_config(database)):
        _, out = await mosquitto_cli(
            "mosquitto_pub", station, "-q", "1",
            "-t", database.topic("borel-02"), "-m", _reading(99.9).decode(),
        )  # fmt: skip
        assert "not authori" in out.lower(), out  # PUBACK reason code 0x87
        await mosquitto_pub(station, database.topic("borel-01"), [_reading(1.5)])
        assert await database.wait_for_count("SELECT count(*) FROM readings", 1) == 1
    rows = await database.fetch("SELECT station_id, value FROM readings")
    assert [(r["station_id"], r["value"]) for r in rows] == [("borel-01", 1.5)]
    assert await database.fetchval("SELECT count(*) FROM rejects") == 0


async def test_a_gateway_publishes_for_its_zone_only(database: Database) -> None:
    """The Borel gateway may publish for Borel's stations and for no other zone's."""
    name = gateway_username(database.network, "borel")
    gateway = database.broker.endpoint(name)
    async with running_ingest(ingest_config(database)):
        _, out = await mosquitto_cli(
            "mosquitto_pub", gateway, "-q", "1",
            "-t", database.topic("rocinha-01"), "-m", _reading(50.0).decode(),
        )  # fmt: skip
        assert "not authori" in out.lower(), out
        for station in ("borel-01", "borel-02"):
            await mosquitto_pub(gateway, database.topic(station), [_reading(2.0)])
        assert await database.wait_for_count("SELECT count(*) FROM readings", 2) == 2
    stations = await database.fetch("SELECT DISTINCT station_id FROM readings ORDER BY 1")
    assert [r["station_id"] for r in stations] == ["borel-01", "borel-02"]


async def test_a_station_cannot_read_anything(database: Database) -> None:
    """A station's SUBSCRIBE to #, to another station or to the readings is refused."""
    station = database.broker.endpoint(station_username(database.network, "borel-01"))
    name = station.login.username
    assert name
    for topic in ("#", database.topic("borel-02"), f"encosta/{database.network}/+/readings/#"):
        code, out = await mosquitto_cli("mosquitto_sub", station, "-t", topic, "-W", "2", "-C", "1")
        assert "denied" in out.lower(), (topic, code, out)
    async with station.client(protocol=aiomqtt.ProtocolVersion.V5) as client:
        granted = await client.subscribe("#", qos=1)
    assert reason_codes(granted) == [0x87]


async def test_a_stranger_cannot_join_the_ingest_share_group(database: Database) -> None:
    """A station subscribing to ingest's share group is refused; ingest stores every reading."""
    config = replace(ingest_config(database), share_group=SHARE_GROUP)
    name = station_username(database.network, "rocinha-01")
    stranger = database.broker.endpoint(name)
    shared = subscription(database.network, SHARE_GROUP)
    v5 = aiomqtt.ProtocolVersion.V5
    async with running_ingest(config), stranger.client(protocol=v5) as client:
        granted = await client.subscribe(shared, qos=1)
        assert reason_codes(granted) == [0x87]
        lines = [_reading(0.2, age_s=60 + i) for i in range(2000)]
        await mosquitto_pub(database.publisher, database.topic("rocinha-02"), lines)
        stored = await database.wait_for_count("SELECT count(*) FROM readings", 2000)
    assert stored == 2000


async def test_no_one_else_can_use_the_ingest_client_id(database: Database) -> None:
    """Ingest's account is bound to its client id: a station using that id is refused."""
    client_id = f"encosta-ingest-{database.network}"
    account = ingest_account(database.network, client_id)
    admin = dynsec.admin_login({}, database.stack.credentials_file)
    port = database.stack.mqtt_port
    async with dynsec.temporary("127.0.0.1", port, admin, f"{database.network}-x", [account]) as pw:
        login = BrokerLogin(client_id, pw[client_id])
        config = replace(ingest_config(database), client_id=client_id, login=login)
        async with running_ingest(config):
            station = database.broker.endpoint(station_username(database.network, "alemao-01"))
            station = replace(station, client_id=None)  # the test chooses the id
            for identifier in (client_id, "anything-else"):
                code, out = await mosquitto_cli(
                    "mosquitto_pub", station, "-i", identifier, "-c", "-q", "1",
                    "-t", database.topic("alemao-01"), "-m", _reading(1.0).decode(),
                )  # fmt: skip
                assert code != 0
                assert "not authori" in out.lower(), out
            # Its own account under another id is refused as well.
            other = Endpoint(port, login)
            code, out = await mosquitto_cli(
                "mosquitto_sub", other, "-i", "not-ingest", "-t", "x", "-W", "1"
            )
            assert "not authori" in out.lower(), out
            # The session survived: readings queued for ingest keep arriving.
            lines = [_reading(0.5, age_s=60 + i) for i in range(1000)]
            await mosquitto_pub(database.publisher, database.topic("alemao-01"), lines)
            assert await database.wait_for_count("SELECT count(*) FROM readings", 1000) == 1000


async def test_sync_is_idempotent_and_removes_what_left_the_registry(database: Database) -> None:
    """A second sync changes nothing; a station dropped from the registry loses its account."""
    admin = dynsec.admin_login({}, database.stack.credentials_file)
    port = database.stack.mqtt_port
    registry = database.registry
    accounts = network_accounts(registry, []) + own_accounts(registry.network)
    passwords = database.broker.passwords
    async with dynsec.DynsecAdmin("127.0.0.1", port, admin) as connection:
        again = await dynsec.sync(connection, registry.network, accounts, passwords)
        assert (again.created, again.updated, again.deleted) == ([], [], [])
        kept = [
            a for a in accounts if a.username != station_username(registry.network, "vidigal-01")
        ]
        report = await dynsec.sync(connection, registry.network, kept, passwords)
    assert report.deleted == [station_username(registry.network, "vidigal-01")]
    gone = database.broker.endpoint(station_username(registry.network, "vidigal-01"))
    code, out = await mosquitto_cli(
        "mosquitto_pub", gone, "-t", database.topic("vidigal-01"), "-m", "x", "-q", "1"
    )
    assert code != 0
    assert "not authori" in out.lower(), out


async def test_tls_listener_with_a_generated_certificate(
    database: Database, tmp_path: Path
) -> None:
    """A broker with a TLS listener: clients verifying its CA connect; ingest stores over TLS."""
    tls_port = free_port()
    config = StackConfig(
        state_dir=tmp_path / "tls-stack",
        pg_port=database.stack.pg_port,
        mqtt_port=free_port(),
        mqtt_tls_port=tls_port,
    )
    broker = Mosquitto(config)
    broker.start()
    try:
        assert config.ca_file.is_relative_to(tmp_path)  # generated for the test, never committed
        admin = dynsec.admin_login({}, config.credentials_file)
        accounts = [
            *network_accounts(database.registry, []),
            ingest_account(database.network, f"ingest-{database.network}", bound=False),
        ]
        async with dynsec.temporary(
            "127.0.0.1", config.mqtt_port, admin, database.network, accounts
        ) as passwords:
            ca = str(config.ca_file)
            name = station_username(database.network, "borel-01")
            station = Endpoint(tls_port, BrokerLogin(name, passwords[name]), host="localhost")
            # Without the CA the client does not trust the broker.
            code, out = await mosquitto_cli(
                "mosquitto_pub", station, "-i", name, "--capath", "/nonexistent",
                "-t", database.topic("borel-01"), "-m", "x", "-q", "1",
            )  # fmt: skip
            assert code != 0, out
            ingest_name = f"ingest-{database.network}"
            ingest = replace(
                ingest_config(database),
                mqtt_host="localhost",
                mqtt_port=tls_port,
                login=BrokerLogin(ingest_name, passwords[ingest_name], ca),
            )
            async with running_ingest(ingest):
                code, out = await mosquitto_cli(
                    "mosquitto_pub", station, "-i", name, "--cafile", ca, "-q", "1",
                    "-t", database.topic("borel-01"), "-m", _reading(3.0).decode(),
                )  # fmt: skip
                assert code == 0, out
                assert await database.wait_for_count("SELECT count(*) FROM readings", 1) == 1
            async with Endpoint(
                tls_port, BrokerLogin(name, passwords[name], ca), host="localhost"
            ).client(identifier=name):
                pass  # our own client verifies the certificate and logs in
    finally:
        broker.stop()
