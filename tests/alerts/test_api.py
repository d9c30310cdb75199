"""The ops API served by uvicorn on a loopback port, against the real TimescaleDB."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

import httpx
import pytest
import standardwebhooks
import uvicorn

from alerts.api.app import create_app
from alerts.api.config import ApiConfig
from tests.alerts.receiver import LOOPBACK, Receiver, free_port

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

TOKEN = "test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"


def api_config(db: Database, **overrides: object) -> ApiConfig:
    """API settings for ``db``'s network with the test token."""
    base = ApiConfig(dsn=db.dsn_for("api"), network=db.network, token=TOKEN, destinations=LOOPBACK)
    return replace(base, **overrides)  # type: ignore[arg-type]


@asynccontextmanager
async def served(config: ApiConfig) -> AsyncIterator[httpx.AsyncClient]:
    """The API under a real uvicorn server on a free port, with a client pointed at it."""
    config = replace(config, host="127.0.0.1", port=free_port())
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), host=config.host, port=config.port, log_config=None)
    )
    task = asyncio.create_task(server._serve(), name="api-under-test")
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
        base = f"http://{config.host}:{config.port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:
            yield client
    finally:
        server.should_exit = True
        async with asyncio.timeout(10):
            await task


@pytest.fixture
async def api(database: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the API served for ``database`` with token ``TOKEN``."""
    async with served(api_config(database)) as client:
        yield client


async def raise_alert(
    db: Database,
    zone: str,
    level: int,
    kind: str = "risk",
    evidence: dict[str, object] | None = None,
) -> int:
    """An open alert with its 'raised' event, written the way the store writes them."""
    alert: int = await db.fetchval(
        "INSERT INTO alerts (network, zone_id, kind, level, raised_at, updated_at)"
        " VALUES ($1, $2, $3, $4, now(), now()) RETURNING id",
        db.network,
        zone,
        kind,
        level,
    )
    await db.fetchval(
        "INSERT INTO alert_events (alert_id, seq, transition, from_level, to_level, evidence, at)"
        " VALUES ($1, 1, 'raised', 0, $2, $3::jsonb, now())",
        alert,
        level,
        json.dumps(evidence or {"model_version": "test"}),
    )
    return alert


async def test_health_readiness_and_metrics(api: httpx.AsyncClient, database: Database) -> None:
    """/healthz and /readyz answer 200; /metrics shows requests and the outbox by status."""
    assert (await api.get("/healthz")).json() == {"status": "ok", "detail": None}
    assert (await api.get("/readyz")).json()["status"] == "ready"
    text = (await api.get("/metrics")).text
    assert 'encosta_outbox_messages{status="dead"} 0.0' in text
    assert "encosta_webhook_dead_letters 0.0" in text
    assert 'encosta_api_requests_total{method="GET",route="/readyz",status="200"} 1.0' in text
    assert "encosta_outbox_delivery_attempts" in text


async def test_database_down_healthz_up_readyz_503(database: Database) -> None:
    """With the database unreachable the process stays up: healthz 200, readyz and reads 503."""
    config = api_config(database, dsn=f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere")
    async with served(config) as client:
        assert (await client.get("/healthz")).status_code == 200
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"
        stations = await client.get("/stations")
        assert stations.status_code == 503
        assert stations.headers["retry-after"] == "5"
        assert "encosta_api_db_up 0.0" in (await client.get("/metrics")).text


async def test_stations_last_seen_battery_and_quality(
    api: httpx.AsyncClient, database: Database
) -> None:
    """Last seen is the newest device time; battery the newest by device time; quality by age."""
    rows = await database.fetch("SELECT id, expected_interval_s FROM stations ORDER BY id")
    fresh, late, offline = (r["id"] for r in rows[:3])
    interval = rows[0]["expected_interval_s"]
    readings = [
        (fresh, "rain_mm", 60, 1.2),
        (fresh, "battery_v", 600, 3.9),
        # An older battery reading received last must not count as the latest.
        (fresh, "battery_v", 1200, 3.1),
        (late, "rain_mm", 3 * interval, 0.0),
        (offline, "vwc", 10 * interval, 0.3),
    ]
    for station, quantity, age_s, value in readings:
        await database.fetchval(
            "INSERT INTO readings (station_id, quantity, ts, value, received_at)"
            " VALUES ($1, $2, now() - make_interval(secs => $3), $4,"
            " now() - make_interval(secs => $5))",
            station,
            quantity,
            float(age_s),
            value,
            3600.0 - age_s / 100,
        )
    body = (await api.get("/stations")).json()
    assert len(body) == len(rows)
    by_id = {s["id"]: s for s in body}
    assert by_id[fresh]["data_quality"] == "ok"
    assert by_id[fresh]["battery_v"] == 3.9
    assert 55 <= by_id[fresh]["seconds_since_last_seen"] < 120
    assert by_id[late]["data_quality"] == "late"
    assert by_id[offline]["data_quality"] == "offline"
    assert by_id[offline]["battery_v"] is None
    assert by_id[rows[3]["id"]]["data_quality"] == "never"
    assert by_id[rows[3]["id"]]["last_seen"] is None
    one = (await api.get(f"/stations/{fresh}")).json()
    assert one.pop("seconds_since_last_seen") >= by_id[fresh].pop("seconds_since_last_seen")
    assert one == by_id[fresh]
    assert (await api.get("/stations/atlantis-01")).status_code == 404


async def test_zones_levels_and_latest_evidence(api: httpx.AsyncClient, database: Database) -> None:
    """A zone reports its open risk level, its data-alert level and the newest risk evidence."""
    evidence: dict[str, object] = {
        "model_version": "test",
        "criteria": [{"criterion": "rain_1h", "value": 80.0}],
    }
    risk = await raise_alert(database, "rocinha", 2, evidence=evidence)
    data = await raise_alert(database, "rocinha", 1, kind="data")
    zone = (await api.get("/zones/rocinha")).json()
    assert zone["level"] == 2
    assert zone["level_name"] == "alert"
    assert (zone["risk_alert_id"], zone["data_alert_id"], zone["data_level"]) == (risk, data, 1)
    assert zone["evidence"] == evidence
    assert zone["evidence_transition"] == "raised"
    zones = {z["id"]: z for z in (await api.get("/zones")).json()}
    assert len(zones) == len(database.registry.zones)
    quiet = next(z for z in zones.values() if z["id"] != "rocinha")
    assert (quiet["level"], quiet["data_level"], quiet["evidence"]) == (0, 0, None)
    assert (await api.get("/zones/atlantis")).status_code == 404


async def test_alerts_list_filters_and_history(api: httpx.AsyncClient, database: Database) -> None:
    """Alerts filter by status and zone, newest first; one alert shows its ordered history."""
    old = await raise_alert(database, "rocinha", 1)
    await database.fetchval(
        "UPDATE alerts SET status = 'cleared', cleared_at = now() WHERE id = $1", old
    )
    new = await raise_alert(database, "rocinha", 3)
    other = await raise_alert(
        database, next(z.id for z in database.registry.zones if z.id != "rocinha"), 1
    )
    assert [a["id"] for a in (await api.get("/alerts")).json()] == [other, new]
    assert [a["id"] for a in (await api.get("/alerts?status=all&zone=rocinha")).json()] == [
        new,
        old,
    ]
    assert [a["id"] for a in (await api.get("/alerts?status=cleared")).json()] == [old]
    assert len((await api.get("/alerts?status=all&limit=1")).json()) == 1
    detail = (await api.get(f"/alerts/{new}")).json()
    assert (detail["level_name"], detail["status"]) == ("crisis", "open")
    assert [(e["seq"], e["transition"]) for e in detail["events"]] == [(1, "raised")]
    assert (await api.get("/alerts/999999")).status_code == 404
    assert (await api.get("/alerts?status=bogus")).status_code == 422


async def test_acknowledge_needs_the_token(api: httpx.AsyncClient, database: Database) -> None:
    """Without or with a wrong token: 401 + WWW-Authenticate; with it: 200 and an event."""
    alert = await raise_alert(database, "rocinha", 2)
    body = {"by": "duty-officer", "note": "teams on the way"}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        refused = await api.post(f"/alerts/{alert}/acknowledge", json=body, headers=headers)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
    assert await database.fetchval("SELECT count(*) FROM alert_events") == 1
    done = await api.post(f"/alerts/{alert}/acknowledge", json=body, headers=AUTH)
    assert done.status_code == 200
    assert done.json()["seq"] == 2
    assert done.json()["acknowledged_by"] == "duty-officer"
    event = await database.fetch("SELECT transition, actor FROM alert_events WHERE seq = 2")
    assert [tuple(e) for e in event] == [("acknowledged", "duty-officer")]
    again = await api.post(f"/alerts/{alert}/acknowledge", json={"by": "other"}, headers=AUTH)
    assert again.json()["seq"] == 2
    await database.fetchval("UPDATE alerts SET status = 'cleared' WHERE id = $1", alert)
    closed = await api.post(f"/alerts/{alert}/acknowledge", json=body, headers=AUTH)
    assert closed.status_code == 409


async def test_acknowledgement_note_in_history_and_cap(
    api: httpx.AsyncClient, database: Database
) -> None:
    """The note is returned by the acknowledgement, kept in the history and put in the CAP."""
    alert = await raise_alert(database, "rocinha", 2)
    body = {"by": "duty-officer", "note": "teams on the way"}
    done = await api.post(f"/alerts/{alert}/acknowledge", json=body, headers=AUTH)
    assert done.json()["note"] == "teams on the way"
    again = await api.post(
        f"/alerts/{alert}/acknowledge", json={"by": "other", "note": "late"}, headers=AUTH
    )
    assert (again.json()["seq"], again.json()["note"]) == (2, "teams on the way")
    events = (await api.get(f"/alerts/{alert}")).json()["events"]
    assert [(e["transition"], e["actor"], e["note"]) for e in events] == [
        ("raised", None, None),
        ("acknowledged", "duty-officer", "teams on the way"),
    ]
    cap = ET.fromstring((await api.get(f"/alerts/{alert}/cap")).text)
    assert cap.findtext(f"{{{CAP_NS}}}note") == "teams on the way"


async def test_without_configured_token_writes_are_refused(database: Database) -> None:
    """An API started without ENCOSTA_API_TOKEN refuses every write, whatever is sent."""
    async with served(api_config(database, token=None)) as client:
        alert = await raise_alert(database, "rocinha", 2)
        for headers in ({}, {"Authorization": "Bearer x"}, AUTH):
            response = await client.post(
                f"/alerts/{alert}/acknowledge", json={"by": "x"}, headers=headers
            )
            assert response.status_code == 401
            assert "ENCOSTA_API_TOKEN" in response.json()["detail"]
        assert (await client.post("/webhooks", json={"url": "http://x/"})).status_code == 401


async def test_cap_of_the_latest_transition(api: httpx.AsyncClient, database: Database) -> None:
    """/alerts/{id}/cap is CAP 1.2 XML of the latest transition with the CAP media type."""
    alert = await raise_alert(database, "rocinha", 3)
    await api.post(f"/alerts/{alert}/acknowledge", json={"by": "duty-officer"}, headers=AUTH)
    response = await api.get(f"/alerts/{alert}/cap")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/cap+xml")
    root = ET.fromstring(response.text)
    assert root.tag == f"{{{CAP_NS}}}alert"
    assert root.findtext(f"{{{CAP_NS}}}msgType") == "Update"
    assert root.findtext(f"{{{CAP_NS}}}info/{{{CAP_NS}}}severity") == "Extreme"
    assert root.findtext(f"{{{CAP_NS}}}identifier", "").endswith(f"evt_{alert}_2")
    assert f"evt_{alert}_1" in root.findtext(f"{{{CAP_NS}}}references", "")
    assert root.find(f".//{{{CAP_NS}}}circle") is not None
    assert (await api.get("/alerts/999999/cap")).status_code == 404


async def test_webhooks_crud_and_secret_shown_once(
    api: httpx.AsyncClient, database: Database
) -> None:
    """Create returns the secret once; list never does; test signs; delete removes."""
    async with Receiver() as receiver:
        new = {"url": receiver.url + "/hook", "min_level": 2, "zones": ["rocinha"], "format": "cap"}
        assert (await api.post("/webhooks", json=new)).status_code == 401
        created = await api.post("/webhooks", json=new, headers=AUTH)
        assert created.status_code == 201
        sub = created.json()
        secret = sub["secret"]
        assert secret.startswith("whsec_")
        listed = await api.get("/webhooks")
        assert secret not in listed.text
        assert (sub["heartbeat"], sub["fallback"]) == (False, False)
        assert [{k: v for k, v in sub.items() if k != "secret"}] == listed.json()
        tested = await api.post(f"/webhooks/{sub['id']}/test", headers=AUTH)
        assert tested.status_code == 200
        message = receiver.received[0]
        assert standardwebhooks.Webhook(secret).verify(message.body, message.headers)
        assert message.headers["webhook-id"] == tested.json()["message_id"]
    failing = await api.post(f"/webhooks/{sub['id']}/test", headers=AUTH)
    assert failing.status_code == 502
    bad = await api.post("/webhooks", json={**new, "zones": ["atlantis"]}, headers=AUTH)
    assert bad.status_code == 400
    assert "atlantis" in bad.json()["detail"]
    assert (await api.delete(f"/webhooks/{sub['id']}")).status_code == 401
    assert (await api.delete(f"/webhooks/{sub['id']}", headers=AUTH)).status_code == 204
    assert (await api.delete(f"/webhooks/{sub['id']}", headers=AUTH)).status_code == 404
    assert (await api.get("/webhooks")).json() == []


async def test_webhook_heartbeat_and_fallback_flags(
    api: httpx.AsyncClient, database: Database
) -> None:
    """POST /webhooks stores heartbeat and fallback; both default to false."""
    url = "http://127.0.0.1:9/hook"
    flagged = await api.post(
        "/webhooks", json={"url": url, "heartbeat": True, "fallback": True}, headers=AUTH
    )
    assert flagged.status_code == 201
    assert (flagged.json()["heartbeat"], flagged.json()["fallback"]) == (True, True)
    plain = await api.post("/webhooks", json={"url": url, "heartbeat": False}, headers=AUTH)
    assert (plain.json()["heartbeat"], plain.json()["fallback"]) == (False, False)
    listed = (await api.get("/webhooks")).json()
    assert [(w["heartbeat"], w["fallback"]) for w in listed] == [(True, True), (False, False)]
    rows = await database.fetch("SELECT heartbeat, fallback FROM webhook_subscriptions ORDER BY id")
    assert [tuple(r) for r in rows] == [(True, True), (False, False)]
    bad = await api.post("/webhooks", json={"url": url, "fallback": "maybe"}, headers=AUTH)
    assert bad.status_code == 422


async def test_dead_letters_listed_and_replayed(api: httpx.AsyncClient, database: Database) -> None:
    """Dead letters are listed; replay by id or by subscription makes them pending, due now."""
    alert = await raise_alert(database, "rocinha", 2)
    subs = [
        await database.fetchval(
            "INSERT INTO webhook_subscriptions (url, secret) VALUES"
            " ('http://127.0.0.1:9/', 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=') RETURNING id"
        )
        for _ in range(2)
    ]
    for sub in subs:
        await database.fetchval(
            "INSERT INTO outbox (message_id, subscription_id, alert_id, seq, zone_id, content_type,"
            " payload, status, attempts, last_error, next_attempt_at) VALUES"
            " ($1, $2, $3, 1, 'rocinha', 'application/json', '{}', 'dead', 1, 'HTTP 410',"
            " now() + interval '1 day')",
            f"msg_{alert}_1_{sub}",
            sub,
            alert,
        )
    letters = (await api.get("/deadletters")).json()
    assert [d["message_id"] for d in letters] == [f"msg_{alert}_1_{s}" for s in subs]
    assert letters[0]["last_error"] == "HTTP 410"
    assert "encosta_webhook_dead_letters 2.0" in (await api.get("/metrics")).text
    first = letters[0]["message_id"]
    assert (await api.post(f"/deadletters/{first}/replay")).status_code == 401
    replayed = await api.post(f"/deadletters/{first}/replay", headers=AUTH)
    assert replayed.json() == {"replayed": [first]}
    assert (await api.post(f"/deadletters/{first}/replay", headers=AUTH)).status_code == 404
    rest = await api.post(f"/deadletters/replay?subscription={subs[1]}", headers=AUTH)
    assert rest.json() == {"replayed": [letters[1]["message_id"]]}
    rows = await database.fetch(
        "SELECT status, attempts, last_error, next_attempt_at <= now() AS due FROM outbox"
    )
    assert [tuple(r) for r in rows] == [("pending", 1, "HTTP 410", True)] * 2
    assert (await api.get("/deadletters")).json() == []
