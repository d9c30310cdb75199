"""Community reports: posted without a token, limited, reviewed, and evidence once confirmed."""

from __future__ import annotations

import asyncio
import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import asyncpg
import pytest

from alerts.reports import amend, purge
from alerts.store import Proposal
from encosta.cli import main
from models.reports import Category, ReportRule, report_level, with_reports
from tests.alerts.test_api import AUTH, api_config, served

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = pytest.mark.timeout(60)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_confirmed_reports_raise_never_lower() -> None:
    """One confirmed report: at least attention; three: at least alert; never crisis alone."""
    assert report_level(0) == 0
    assert report_level(1) == 1
    assert report_level(3) == 2
    assert report_level(50) == 2
    assert with_reports(3, 1) == 3
    assert with_reports(0, 1) == 1
    assert with_reports(0, 2, ReportRule(min_reports=3)) == 0
    assert {c.value for c in Category} == {"crack", "leaning", "spring", "slide", "drain", "other"}


@pytest.mark.services
async def test_report_to_operator_to_evaluation(database: Database) -> None:
    """Posted by a resident, listed for the operator, confirmed: the zone's proposal rises."""
    async with served(api_config(database)) as client:
        created = await client.post(
            "/public/reports",
            json={
                "zone": "rocinha",
                "category": "crack",
                "text": "rachadura nova no muro da escadaria",
                "contact": "+55 21 90000-0000",
                "photo": {
                    "content_type": "image/png",
                    "data_base64": base64.b64encode(PNG).decode(),
                },
            },
        )
        assert created.status_code == 201, created.text
        report_id = created.json()["id"]
        assert (await client.get("/reports")).status_code == 401  # personal data: token
        listed = (await client.get("/reports", headers=AUTH)).json()
        assert [r["id"] for r in listed] == [report_id]
        assert listed[0]["status"] == "new"
        assert listed[0]["has_photo"] is True
        photo = await client.get(f"/reports/{report_id}/photo", headers=AUTH)
        assert photo.content == PNG
        assert photo.headers["content-type"] == "image/png"
        unauth = await client.post(f"/reports/{report_id}/confirm", json={"by": "ana"})
        assert unauth.status_code == 401
        ok = await client.post(
            f"/reports/{report_id}/confirm", json={"by": "ana", "note": "visto"}, headers=AUTH
        )
        assert ok.status_code == 204
    connection = await asyncpg.connect(database.dsn_for("alerts"))
    try:
        quiet = Proposal("rocinha", "Rocinha", "risk", 0, unknown=False, evidence={"criteria": []})
        data = Proposal("rocinha", "Rocinha", "data", 0, unknown=False, evidence={})
        other = replace(quiet, zone_id="vidigal")
        amended = await amend(connection, database.network, [quiet, data, other], datetime.now(UTC))
    finally:
        await connection.close()
    risk, data_after, vidigal = amended
    assert risk.level == 1
    assert risk.evidence["report_ids"] == [report_id]
    assert risk.evidence["criteria"][-1]["criterion"] == "community_report"
    assert data_after == data  # data alerts are not about reports
    assert vidigal == other


@pytest.mark.services
async def test_limits_rate_size_type_and_zone(database: Database) -> None:
    """Unknown zone 404, category outside the list 422, fake photo 415, big 413, rate 429."""
    config = replace(api_config(database), reports_per_hour=3, reports_photo_max_bytes=1024)
    async with served(config) as client:
        base = {"zone": "rocinha", "category": "drain"}
        assert (
            await client.post("/public/reports", json={**base, "zone": "nowhere"})
        ).status_code == 404
        assert (
            await client.post("/public/reports", json={**base, "category": "ufo"})
        ).status_code == 422
        fake = {"content_type": "image/jpeg", "data_base64": base64.b64encode(PNG).decode()}
        assert (
            await client.post("/public/reports", json={**base, "photo": fake})
        ).status_code == 415
        big = {"content_type": "image/png", "data_base64": base64.b64encode(PNG * 40).decode()}
        assert (
            await client.post("/public/reports", json={**base, "photo": big})
        ).status_code == 413
        limited = await client.post("/public/reports", json=base)
        assert limited.status_code == 429  # four tries above already count against the hour
        assert int(limited.headers["retry-after"]) > 0
        gateway = await client.post(
            "/public/reports", json={**base, "source": "gateway"}, headers=AUTH
        )
        assert gateway.status_code == 201  # a gateway with the token is not rate-limited
        refused = await client.post("/public/reports", json={**base, "source": "gateway"})
        assert refused.status_code in {401, 429}


@pytest.mark.services
async def test_personal_data_is_purged(database: Database) -> None:
    """After retention the contact, text and photo are gone; zone, category and review stay."""
    await database.fetchval(
        "INSERT INTO community_reports (network, zone_id, category, source, description, contact,"
        " photo, photo_type, created_at) VALUES ($1, 'rocinha', 'spring', 'resident', 'x',"
        " '+55', $2, 'image/png', now() - interval '40 days')",
        database.network,
        PNG,
    )
    connection = await asyncpg.connect(database.dsn_for("api"))
    try:
        assert await purge(connection, datetime.now(UTC) - timedelta(days=30)) == 1
        row = await connection.fetchrow("SELECT * FROM community_reports")
    finally:
        await connection.close()
    assert row is not None
    assert (row["contact"], row["description"], row["photo"]) == (None, "", None)
    assert row["category"] == "spring"
    assert row["purged_at"] is not None


@pytest.mark.services
async def test_cli_lists_confirms_and_dismisses(
    database: Database, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`encosta reports list|confirm|dismiss` review through the same code as the API."""
    report_id = await database.fetchval(
        "INSERT INTO community_reports (network, zone_id, category, source, description)"
        " VALUES ($1, 'vidigal', 'leaning', 'agent', 'poste inclinado') RETURNING id",
        database.network,
    )
    monkeypatch.setenv("ENCOSTA_NETWORK", database.network)
    dsn = ["reports", "--dsn", database.dsn_for("api")]
    assert await asyncio.to_thread(main, [*dsn, "list", "--status", "new"]) == 0
    assert "poste inclinado" in capsys.readouterr().out
    assert await asyncio.to_thread(main, [*dsn, "confirm", str(report_id), "--by", "ana"]) == 0
    assert f"report {report_id} confirmed by ana" in capsys.readouterr().out
    status = await database.fetchval(
        "SELECT status FROM community_reports WHERE id = $1", report_id
    )
    assert status == "confirmed"
    assert await asyncio.to_thread(main, [*dsn, "dismiss", str(report_id), "--by", "bia"]) == 0
    assert await asyncio.to_thread(main, [*dsn, "dismiss", "999999", "--by", "bia"]) == 2
    status = await database.fetchval(
        "SELECT status FROM community_reports WHERE id = $1", report_id
    )
    assert status == "dismissed"
