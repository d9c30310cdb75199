"""Siren and broadcast hooks: what each audience hears, its receipts, and an outage."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
import standardwebhooks

from alerts import subscriptions, wording
from alerts.audience import hears, narrow
from alerts.payload import AlertEvent, cap_identifier, instruction
from alerts.store import Proposal, apply
from tests.alerts.receiver import LOOPBACK, Receiver
from tests.alerts.test_api import AUTH, api_config, served
from tests.alerts.test_cli import encosta
from tests.alerts.test_dispatcher import fast, run_dispatcher

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = [pytest.mark.services, pytest.mark.timeout(90)]

T0 = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)
HOLD = timedelta(minutes=60)
SIREN_FIELDS = {
    *("event_id", "alert_id", "seq", "zone", "transition", "action", "level", "level_name"),
    *("level_words", "language", "instruction", "receipt_path"),
}
BROADCAST_FIELDS = SIREN_FIELDS - {"action"} | {"headline", "cap_identifier", "cap_url"}


def proposal(level: int, kind: str = "risk") -> Proposal:
    """A proposal for Rocinha at ``level`` with evidence no narrow audience may see."""
    return Proposal(
        "rocinha",
        "Rocinha",
        kind,
        level,
        unknown=False,
        evidence={"model_version": "test", "criteria": [{"criterion": "rain_24h", "value": 99}]},
    )


async def episode(db: Database) -> int:
    """Raise (1), escalate (3), de-escalate, clear a risk alert, and raise a data alert."""
    connection = await asyncpg.connect(db.dsn_for("alerts"))
    try:
        await apply(connection, db.network, proposal(1), T0, HOLD)
        await apply(connection, db.network, proposal(3), T0 + HOLD / 4, HOLD)
        await apply(connection, db.network, proposal(2), T0 + HOLD / 2, HOLD)
        await apply(connection, db.network, proposal(2), T0 + 2 * HOLD, HOLD)
        await apply(connection, db.network, proposal(0), T0 + 3 * HOLD, HOLD)
        await apply(connection, db.network, proposal(0), T0 + 5 * HOLD, HOLD)
        await apply(connection, db.network, proposal(2, "data"), T0 + 5 * HOLD, HOLD)
        alert: int = await connection.fetchval("SELECT id FROM alerts WHERE kind = 'risk'")
    finally:
        await connection.close()
    return alert


def bodies(receiver: Receiver, path: str, secret: str) -> list[dict[str, Any]]:
    """The verified JSON bodies ``receiver`` got on ``path``, in order."""
    verifier = standardwebhooks.Webhook(secret)
    out = []
    for message in receiver.received:
        if message.path == path:
            assert verifier.verify(message.body, message.headers) is not None
            out.append(json.loads(message.body))
    return out


async def test_each_audience_hears_only_its_transitions_and_fields(database: Database) -> None:
    """Siren: raise, escalate, clear, no evidence; broadcast adds de-escalation; full: all."""
    dsn = database.dsn_for("api")
    async with Receiver() as receiver:
        full = await subscriptions.add(dsn, receiver.url + "/full", destinations=LOOPBACK)
        siren = await subscriptions.add(
            dsn, receiver.url + "/siren", audience="siren", destinations=LOOPBACK
        )
        broadcast = await subscriptions.add(
            dsn, receiver.url + "/broadcast", audience="broadcast", destinations=LOOPBACK
        )
        assert full.receipt_token is None
        assert siren.receipt_token is not None
        assert broadcast.receipt_token is not None
        alert = await episode(database)
        queued = await database.fetchval("SELECT count(*) FROM outbox")
        await run_dispatcher(
            database,
            fast(database),
            "SELECT count(*) FROM outbox WHERE status = 'delivered'",
            queued,
        )
    got_full = bodies(receiver, "/full", full.secret)
    got_siren = bodies(receiver, "/siren", siren.secret)
    got_broadcast = bodies(receiver, "/broadcast", broadcast.secret)

    risk_types = ["alert.raised", "alert.escalated", "alert.de-escalated", "alert.cleared"]
    assert [b["type"] for b in got_full] == [*risk_types, "alert.raised"]
    assert all("evidence" in b["data"] for b in got_full)
    assert [b["type"] for b in got_siren] == ["siren.raised", "siren.escalated", "siren.cleared"]
    assert [b["data"]["action"] for b in got_siren] == ["sound", "sound", "silence"]
    assert [b["type"] for b in got_broadcast] == [
        "broadcast.raised",
        "broadcast.escalated",
        "broadcast.de-escalated",
        "broadcast.cleared",
    ]
    said = wording.words("en")  # a test network has no profile: English
    for body in got_siren:
        assert set(body["data"]) == SIREN_FIELDS
        level = body["data"]["level"]
        assert body["data"]["instruction"] == instruction("risk", level, "en")
        assert body["data"]["level_words"] == said.levels[level]
        assert body["data"]["receipt_path"] == f"/alerts/{alert}/receipts/{siren.id}"
        assert body["data"]["zone"] == {"id": "rocinha", "name": "Rocinha"}
    for body in got_broadcast:
        assert set(body["data"]) == BROADCAST_FIELDS
        seq = body["data"]["seq"]
        assert body["data"]["cap_identifier"] == cap_identifier(database.network, alert, seq)
        assert body["data"]["cap_url"] is None  # the test network's profile names no public URL
    assert [b["data"]["level"] for b in got_siren] == [1, 3, 0]


def test_broadcast_speaks_the_network_language_and_links_its_public_cap() -> None:
    """Rio's broadcast is in pt-BR with the CAP link under the profile's public URL."""
    event = AlertEvent(
        7, 2, "rio", "rocinha", "Rocinha", "risk", "escalated", 1, 3, T0, {"secret": "evidence"}
    )
    data = json.loads(narrow(event, "broadcast", 4))["data"]
    public = wording.profile("rio")
    assert data["language"] == "pt-BR"
    assert data["level_words"] == "crise"
    assert data["instruction"] == wording.words("pt-BR").instructions[3]
    assert public.public_url is not None
    assert data["cap_url"] == f"{public.public_url}/public/cap/encosta-rio-evt_7_2"
    assert "secret" not in json.dumps(data)


async def test_receipt_needs_its_own_token_and_lands_in_the_history(database: Database) -> None:
    """A siren's receipt is refused without its token, recorded once, shown by API and CLI."""
    dsn = database.dsn_for("api")
    async with Receiver() as receiver:
        siren = await subscriptions.add(
            dsn, receiver.url + "/siren", audience="siren", destinations=LOOPBACK
        )
        full = await subscriptions.add(dsn, receiver.url + "/full", destinations=LOOPBACK)
        connection = await asyncpg.connect(database.dsn_for("alerts"))
        try:
            await apply(connection, database.network, proposal(3), T0, HOLD)
        finally:
            await connection.close()
        alert = await database.fetchval("SELECT id FROM alerts")
    own = {"Authorization": f"Bearer {siren.receipt_token}"}
    path = f"/alerts/{alert}/receipts/{siren.id}"
    sounded = {"action": "siren_sounded", "by": "siren-rocinha-1", "note": "2 min cycle"}
    async with served(api_config(database)) as client:
        assert (await client.post(path, json=sounded)).status_code == 401
        assert (await client.post(path, json=sounded, headers=AUTH)).status_code == 401
        other = f"/alerts/{alert}/receipts/{full.id}"
        assert (await client.post(other, json=sounded, headers=own)).status_code == 401
        wrong = {**sounded, "action": "broadcast_sent"}
        assert (await client.post(path, json=wrong, headers=own)).status_code == 409
        unsent = {**sounded, "seq": 5}
        assert (await client.post(path, json=unsent, headers=own)).status_code == 409
        first = await client.post(path, json=sounded, headers=own)
        assert first.status_code == 201, first.text
        again = await client.post(path, json={**sounded, "note": "retry"}, headers=own)
        assert again.json() == first.json()  # the first receipt wins
        detail = (await client.get(f"/alerts/{alert}")).json()
        new = {"url": receiver.url + "/sms", "audience": "broadcast"}
        created = (await client.post("/webhooks", json=new, headers=AUTH)).json()
        assert created["audience"] == "broadcast"
        assert created["receipt_token"].startswith("encr_")
        stored = await database.fetchval(
            "SELECT ack_token_hash FROM webhook_subscriptions WHERE id = $1", created["id"]
        )
        assert stored == subscriptions.token_hash(created["receipt_token"])
        refused = {**new, "format": "cap"}
        assert (await client.post("/webhooks", json=refused, headers=AUTH)).status_code == 400
        listed = {w["id"]: w["audience"] for w in (await client.get("/webhooks")).json()}
        assert listed == {siren.id: "siren", full.id: "full", created["id"]: "broadcast"}
    assert detail["receipts"] == [
        {
            "seq": 1,
            "subscription_id": siren.id,
            "action": "siren_sounded",
            "actor": "siren-rocinha-1",
            "note": "2 min cycle",
            "at": first.json()["at"],
        }
    ]
    assert [e["transition"] for e in detail["events"]] == ["raised"]
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "encosta", "alerts", "show", str(alert), "--dsn", dsn),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env={**os.environ, "ENCOSTA_NETWORK": database.network, "ENCOSTA_LOG_LEVEL": "WARNING"},
    )
    async with asyncio.timeout(20):
        out, _ = await process.communicate()
    assert process.returncode == 0, out.decode()
    shown = out.decode()
    assert "  receipt #1 " in shown
    assert f"siren_sounded  subscription {siren.id} by siren-rocinha-1 note: 2 min cycle" in shown


async def test_siren_outage_keeps_every_message_with_its_last_error(database: Database) -> None:
    """A siren that answers 503 leaves its three messages dead-lettered, errors kept."""
    dsn = database.dsn_for("api")
    async with Receiver(respond=lambda _: (503, {})) as receiver:
        siren = await subscriptions.add(
            dsn, receiver.url + "/siren", audience="siren", destinations=LOOPBACK
        )
        await episode(database)
        await run_dispatcher(
            database,
            fast(database, max_age_s=0.3),
            "SELECT count(*) FROM outbox WHERE status = 'dead'",
            3,
        )
    rows = await database.fetch(
        "SELECT message_id, seq, payload, attempts, last_error FROM outbox"
        " WHERE subscription_id = $1 ORDER BY id",
        siren.id,
    )
    assert [json.loads(r["payload"])["type"] for r in rows] == [
        "siren.raised",
        "siren.escalated",
        "siren.cleared",
    ]
    assert all(r["attempts"] >= 1 for r in rows)
    assert all(r["last_error"].startswith("HTTP 503 (gave up after") for r in rows)
    assert len(receiver.received) >= 3


@pytest.mark.parametrize(
    ("kind", "transition", "siren", "broadcast"),
    [
        ("risk", "raised", True, True),
        ("risk", "escalated", True, True),
        ("risk", "de-escalated", False, True),
        ("risk", "cleared", True, True),
        ("risk", "acknowledged", False, False),
        ("risk", "unacknowledged", False, False),
        ("data", "raised", False, False),
        ("data", "cleared", False, False),
    ],
)
def test_narrow_audiences_hear_only_risk_transitions_they_act_on(
    kind: str, transition: str, *, siren: bool, broadcast: bool
) -> None:
    """Sirens skip de-escalations; neither narrow audience hears acks or data alerts."""
    event = AlertEvent(1, 1, "rio", "rocinha", "Rocinha", kind, transition, 1, 2, T0, {})
    assert hears("full", event)
    assert hears("siren", event) is siren
    assert hears("broadcast", event) is broadcast


async def test_cli_adds_a_siren_with_its_receipt_token(database: Database) -> None:
    """`webhooks add --audience siren` prints a receipt token (its hash stored); list shows it."""
    code, out = await encosta(database, "add", "http://127.0.0.1:9/siren", "--audience", "siren")
    assert code == 0, out
    token = out.split("receipt token ")[1].strip()
    sub_id = int(out.split()[1])
    stored = await database.fetchval(
        "SELECT ack_token_hash FROM webhook_subscriptions WHERE id = $1", sub_id
    )
    assert stored == subscriptions.token_hash(token)
    code, out = await encosta(database, "list")
    assert code == 0
    assert out.rstrip().endswith("/siren siren")
    code, out = await encosta(
        database, "add", "http://127.0.0.1:9/x", "--audience", "siren", "--format", "cap"
    )
    assert code == 2
    assert "drop --format cap" in out
