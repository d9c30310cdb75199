"""The public side: feed, zones and CAP by id from the snapshot, cached, and alive without a DB."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import asyncpg
import httpx
import pytest
from lxml import etree

from alerts.store import Proposal, apply
from tests.alerts.cap_schema import atom_schema, validate
from tests.alerts.test_api import TOKEN, api_config, served
from tests.tcp_proxy import TcpProxy

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

ATOM = "{http://www.w3.org/2005/Atom}"
SECRET_URL = "https://hooks.example.org/secret-path-do-not-leak"


async def raise_risk(db: Database, zone: str, level: int) -> None:
    """Raise a risk alert through the store, as the evaluator does."""
    evidence = {
        "model_version": "test",
        "criteria": [
            {
                "criterion": "rain_1h",
                "value": 72.5,
                "threshold": 50.0,
                "unit": "mm",
                "level": level,
                "unknown": False,
                "estimated": False,
                "station": f"{zone}-01",
            }
        ],
    }
    connection = await asyncpg.connect(db.dsn_for("alerts"))
    try:
        name = await connection.fetchval("SELECT name FROM zones WHERE id = $1", zone)
        proposal = Proposal(zone, name, "risk", level, unknown=False, evidence=evidence)
        await apply(connection, db.network, proposal, datetime.now(UTC), timedelta(hours=1))
    finally:
        await connection.close()


async def fresh_readings(db: Database, zone: str) -> None:
    """A reading of every station of ``zone`` a minute ago."""
    await db.fetchval(
        "INSERT INTO readings (station_id, quantity, ts, value, received_at)"
        " SELECT id, 'rain_mm', now() - interval '1 minute', 0.2, now() FROM stations"
        " WHERE zone_id = $1",
        zone,
    )


async def until(client: httpx.AsyncClient, path: str, predicate: object) -> httpx.Response:
    """GET ``path`` until ``predicate(response)`` holds (the snapshot refreshes in the back)."""
    assert callable(predicate)
    while True:
        response = await client.get(path)
        if predicate(response):
            return response
        await asyncio.sleep(0.05)


async def test_feed_zones_and_cap_by_id(database: Database) -> None:
    """An active alert appears in the Atom feed (valid Atom), its CAP (valid CAP 1.2) by id."""
    await database.fetchval(
        "INSERT INTO webhook_subscriptions (url, secret) VALUES ($1, 'whsec_c2VjcmV0c2VjcmV0')",
        SECRET_URL,
    )
    await fresh_readings(database, "rocinha")
    await raise_risk(database, "rocinha", 2)
    config = replace(api_config(database), public_refresh_s=0.2)
    async with served(config) as client:
        zones = (await until(client, "/public/zones", lambda r: r.status_code == 200)).json()
        by_id = {z["id"]: z for z in zones["zones"]}
        assert by_id["rocinha"]["level"] == 2
        assert by_id["rocinha"]["level_name"] == "alert"
        assert by_id["rocinha"]["since"] is not None
        assert by_id["rocinha"]["degraded"] is False
        # No station of Vidigal ever reported: degraded, not a reassuring normal.
        assert by_id["vidigal"]["degraded"] is True
        assert zones["stale"] is False

        feed = await client.get("/public/alerts.atom")
        assert feed.headers["content-type"].startswith("application/atom+xml")
        root = etree.fromstring(feed.content)
        assert atom_schema().validate(root), str(atom_schema().error_log)
        entries = root.findall(f"{ATOM}entry")
        assert len(entries) == 1
        link = entries[0].find(f"{ATOM}link[@rel='alternate']")
        assert link is not None
        assert link.get("type") == "application/cap+xml"
        href = link.get("href", "")
        cap = await client.get(httpx.URL(href).path)
        assert cap.status_code == 200
        assert cap.headers["content-type"].startswith("application/cap+xml")
        validate(cap.text)
        assert "72.5" in cap.text

        zone_feed = await client.get("/public/zones/rocinha/alerts.atom")
        assert len(etree.fromstring(zone_feed.content).findall(f"{ATOM}entry")) == 1
        other = await client.get("/public/zones/vidigal/alerts.atom")
        assert etree.fromstring(other.content).findall(f"{ATOM}entry") == []
        assert (await client.get("/public/zones/nowhere/alerts.atom")).status_code == 404
        assert (await client.get("/public/cap/encosta-x-evt_1_1")).status_code == 404

        for body in (zones, feed.text, cap.text, zone_feed.text):
            text = json.dumps(body) if isinstance(body, dict) else body
            for secret in (TOKEN, SECRET_URL, "whsec_", database.dsn_for("api")):
                assert secret not in text


async def test_etag_answers_304_and_no_token_is_needed(database: Database) -> None:
    """A matching If-None-Match is a 304 without body; the routes need no Authorization."""
    config = replace(api_config(database, token=None), public_refresh_s=30)
    async with served(config) as client:
        first = await until(client, "/public/alerts.atom", lambda r: r.status_code == 200)
        etag = first.headers["etag"]
        assert first.headers["cache-control"] == "public, max-age=30"
        again = await client.get("/public/alerts.atom", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        changed = await client.get("/public/alerts.atom", headers={"If-None-Match": '"other"'})
        assert changed.status_code == 200


async def test_served_stale_while_the_database_is_away(database: Database) -> None:
    """With the database cut the last snapshot is served, marked stale, every zone degraded."""
    await fresh_readings(database, "rocinha")
    await raise_risk(database, "rocinha", 3)
    port = database.stack.pg_port
    async with TcpProxy("127.0.0.1", port) as proxy:
        dsn = database.dsn_for("api").replace(f":{port}/", f":{proxy.port}/")
        config = replace(api_config(database, dsn=dsn), public_refresh_s=0.1)
        async with served(config) as client:
            up = await until(client, "/public/zones", lambda r: r.status_code == 200)
            assert up.json()["stale"] is False
            await proxy.cut()
            down = await until(client, "/public/zones", lambda r: r.json()["stale"])
            assert down.headers["x-encosta-stale"] == "1"
            zones = {z["id"]: z for z in down.json()["zones"]}
            assert zones["rocinha"]["level"] == 3  # the last known level, still shown
            assert all(z["degraded"] for z in zones.values())
            feed = await client.get("/public/alerts.atom")
            assert feed.status_code == 200
            assert len(etree.fromstring(feed.content).findall(f"{ATOM}entry")) == 1
            await proxy.start()
            back = await until(client, "/public/zones", lambda r: not r.json()["stale"])
            assert "x-encosta-stale" not in back.headers


async def test_not_ready_before_the_first_snapshot(database: Database) -> None:
    """An API that never reached its database answers the public routes 503, not empty data."""
    async with TcpProxy("127.0.0.1", database.stack.pg_port) as proxy:
        await proxy.cut()
        dsn = database.dsn_for("api").replace(f":{database.stack.pg_port}/", f":{proxy.port}/")
        async with served(replace(api_config(database, dsn=dsn), public_refresh_s=0.1)) as client:
            response = await client.get("/public/zones")
            assert response.status_code == 503
            assert response.headers["retry-after"] == "5"
