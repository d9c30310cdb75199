"""Webhook destinations (SSRF policy): refused at registration (API, CLI) and at delivery."""

from __future__ import annotations

import asyncio
import ipaddress
import os
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from alerts import subscriptions
from alerts.destinations import Destinations, category
from alerts.dispatcher import WebhookDispatcher
from alerts.errors import ConfigError, SubscriptionError
from alerts.signing import new_secret
from tests.alerts.receiver import Receiver
from tests.alerts.test_api import AUTH, api_config, served
from tests.alerts.test_cli import encosta
from tests.alerts.test_dispatcher import fast, until

if TYPE_CHECKING:
    from tests.conftest import Database

FORBIDDEN = [
    ("http://127.0.0.1:9/", "loopback"),
    ("http://localhost:9/", "loopback"),
    ("http://[::1]:9/", "loopback"),
    ("http://10.1.2.3/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://100.64.0.1/", "private"),
    ("http://[fd00::1]/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://0.0.0.0:9/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://192.0.2.10/", "reserved"),
    ("http://240.0.0.1/", "reserved"),
    ("http://255.255.255.255/", "reserved"),
    ("http://[2001:db8::1]/", "reserved"),
    ("http://[::ffff:127.0.0.1]:9/", "loopback"),
    ("http://[64:ff9b::a01:203]/", "private"),  # NAT64 of 10.1.2.3
    ("http://2130706433/", "loopback"),  # 127.0.0.1 as one decimal number
]


def test_categories_of_addresses() -> None:
    """Public addresses pass; every special range has its category."""
    for public in ("8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"):
        assert category(ipaddress.ip_address(public)) is None, public
    assert category(ipaddress.ip_address("127.255.0.1")) == "loopback"
    assert category(ipaddress.ip_address("198.18.0.1")) == "reserved"


def test_policy_from_env() -> None:
    """The two variables parse; a bad value names the variable."""
    assert Destinations.from_env({}) == Destinations()
    policy = Destinations.from_env(
        {
            "ENCOSTA_ALERTS_WEBHOOK_ALLOW_PRIVATE": "1",
            "ENCOSTA_ALERTS_WEBHOOK_ALLOW_CIDRS": "10.20.0.0/16, fd00::/8",
        }
    )
    assert policy.allow_private
    assert [str(n) for n in policy.allow] == ["10.20.0.0/16", "fd00::/8"]
    with pytest.raises(ConfigError, match="ENCOSTA_ALERTS_WEBHOOK_ALLOW_CIDRS"):
        Destinations.from_env({"ENCOSTA_ALERTS_WEBHOOK_ALLOW_CIDRS": "10.0.0.0/33"})
    with pytest.raises(ConfigError, match="ENCOSTA_ALERTS_WEBHOOK_ALLOW_PRIVATE"):
        Destinations.from_env({"ENCOSTA_ALERTS_WEBHOOK_ALLOW_PRIVATE": "maybe"})


@pytest.mark.services
async def test_registration_refuses_every_forbidden_range(database: Database) -> None:
    """subscriptions.add (API and CLI path) refuses each range by default, naming it."""
    for url, kind in FORBIDDEN:
        with pytest.raises(SubscriptionError, match=f"is a {kind} address") as refused:
            await subscriptions.add(database.dsn, url)
        assert "ENCOSTA_ALERTS_WEBHOOK_ALLOW" in str(refused.value), url
    for url in ("ftp://example.org/", "file:///etc/passwd", "gopher://x/", "http:///nohost"):
        with pytest.raises(SubscriptionError, match=r"http:// or https://|no host"):
            await subscriptions.add(database.dsn, url)
    assert await database.fetchval("SELECT count(*) FROM webhook_subscriptions") == 0


@pytest.mark.services
async def test_registration_refuses_credentials_in_the_url(database: Database) -> None:
    """user:password@ in a webhook URL is refused without echoing the secret, on every path."""
    private = Destinations(allow_private=True)
    for url in ("http://bob:hunter2@127.0.0.1:9/hook", "https://token@10.1.2.3/x"):
        with pytest.raises(SubscriptionError, match=r"credentials in the URL") as refused:
            await subscriptions.add(database.dsn, url, destinations=private)
        assert "hunter2" not in str(refused.value)
        assert "token@" not in str(refused.value)
    async with served(replace(api_config(database), destinations=private)) as client:
        answer = await client.post(
            "/webhooks", json={"url": "http://bob:hunter2@127.0.0.1:9/hook"}, headers=AUTH
        )
        assert answer.status_code == 400
        assert "hunter2" not in answer.text
    assert await database.fetchval("SELECT count(*) FROM webhook_subscriptions") == 0


@pytest.mark.services
async def test_allow_private_and_allow_list(database: Database) -> None:
    """ALLOW_PRIVATE opens loopback and private but not link-local; a CIDR opens what it lists."""
    private = Destinations(allow_private=True)
    for url in ("http://127.0.0.1:9/", "http://10.1.2.3/", "http://[fd00::1]/"):
        await subscriptions.add(database.dsn, url, destinations=private)
    with pytest.raises(SubscriptionError, match="link-local"):
        await subscriptions.add(database.dsn, "http://169.254.169.254/", destinations=private)
    listed = Destinations(allow=(ipaddress.ip_network("169.254.10.0/24"),))
    await subscriptions.add(database.dsn, "http://169.254.10.7/", destinations=listed)
    with pytest.raises(SubscriptionError, match="loopback"):
        await subscriptions.add(database.dsn, "http://127.0.0.1:9/", destinations=listed)
    assert await database.fetchval("SELECT count(*) FROM webhook_subscriptions") == 4


@pytest.mark.services
async def test_api_refuses_a_private_webhook_with_400(database: Database) -> None:
    """POST /webhooks with the default policy answers 400 for loopback and link-local URLs."""
    async with served(replace(api_config(database), destinations=Destinations())) as client:
        for url in ("http://127.0.0.1:9/hook", "http://169.254.169.254/"):
            refused = await client.post("/webhooks", json={"url": url}, headers=AUTH)
            assert refused.status_code == 400, url
            assert "address" in refused.json()["detail"]
    assert await database.fetchval("SELECT count(*) FROM webhook_subscriptions") == 0


@pytest.mark.services
async def test_cli_refuses_unless_the_environment_allows(database: Database) -> None:
    """``encosta webhooks add`` exits 2 for loopback by default and accepts it when allowed."""
    saved = os.environ.pop("ENCOSTA_ALERTS_WEBHOOK_ALLOW_CIDRS", None)
    try:
        code, out = await encosta(database, "add", "http://127.0.0.1:9/", env={})
        assert code == 2
        assert "loopback" in out
        code, out = await encosta(
            database,
            "add",
            "http://127.0.0.1:9/",
            env={"ENCOSTA_ALERTS_WEBHOOK_ALLOW_PRIVATE": "1"},
        )
        assert code == 0, out
    finally:
        if saved is not None:
            os.environ["ENCOSTA_ALERTS_WEBHOOK_ALLOW_CIDRS"] = saved
    assert await database.fetchval("SELECT count(*) FROM webhook_subscriptions") == 1


@pytest.mark.services
async def test_delivery_refuses_a_host_that_now_resolves_to_a_forbidden_address(
    database: Database,
) -> None:
    """At delivery the host is resolved again: loopback now means dead, nothing is sent."""
    async with Receiver() as receiver:
        # Stored as if registered while its name pointed elsewhere.
        await database.fetchval(
            "INSERT INTO webhook_subscriptions (url, secret) VALUES ($1, $2)",
            f"http://localhost:{receiver.port}/hook",
            new_secret(),
        )
        sub = await database.fetchval("SELECT id FROM webhook_subscriptions")
        alert = await database.fetchval(
            "INSERT INTO alerts (network, zone_id, kind, level, raised_at, updated_at)"
            " VALUES ($1, 'rocinha', 'risk', 3, now(), now()) RETURNING id",
            database.network,
        )
        await database.fetchval(
            "INSERT INTO outbox (message_id, subscription_id, alert_id, seq, zone_id,"
            " content_type, payload) VALUES ('msg_x', $1, $2, 1, 'rocinha', 'application/json',"
            " '{}')",
            sub,
            alert,
        )
        strict = replace(fast(database), destinations=Destinations())
        async with WebhookDispatcher(strict) as dispatcher, asyncio.TaskGroup() as tg:
            tg.create_task(dispatcher.run(), name="dispatcher-under-test")
            try:
                await until(database, "SELECT status FROM outbox", "dead")
            finally:
                dispatcher.stop()
    error = await database.fetchval("SELECT last_error FROM outbox")
    assert "localhost resolves to" in error
    assert "loopback" in error
    assert "ENCOSTA_ALERTS_WEBHOOK_ALLOW" in error
    assert receiver.received == []
