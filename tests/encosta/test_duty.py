"""``encosta status`` and ``encosta alerts list|show|ack`` as a subprocess, on the real database."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

from encosta.stack import free_port
from tests.alerts.test_api import raise_alert

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = [pytest.mark.services, pytest.mark.timeout(120)]

EVIDENCE: dict[str, object] = {
    "model_version": "test",
    "criteria": [
        {"criterion": "rain_24h", "value": 182.0, "threshold": 125.0, "unit": "mm", "level": 3},
        {"criterion": "corroboration", "value": 0.0, "threshold": 2.0, "unit": "stations",
         "level": 3},
    ],
}  # fmt: skip


async def encosta(db: Database | None, *argv: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``encosta ARGV`` in a subprocess as the API's role of ``db``'s network."""
    environ = dict(os.environ, **env)
    if db is not None:
        environ |= {"ENCOSTA_API_PG_DSN": db.dsn_for("api"), "ENCOSTA_NETWORK": db.network}
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "encosta", *argv],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
    )


async def test_status_says_level_since_why_and_data_quality(database: Database) -> None:
    """One line per zone: the level by name, since when, the criteria behind it, data quality."""
    await raise_alert(database, "rocinha", 3, evidence=EVIDENCE)
    await raise_alert(
        database, "vidigal", 1, kind="data",
        evidence={"stale_stations": ["rj-vid-01"], "stations": 5},
    )  # fmt: skip
    # No reading anywhere and no evaluator: no zone is "data ok", and the line says why.
    done = await encosta(database, "status")
    assert done.returncode == 0, done.stderr
    quiet = [line for line in done.stdout.splitlines() if not line.startswith("Vidigal")]
    assert all("data unknown: 5 of 5 stations silent and no data alert open" in line
               for line in quiet), done.stdout  # fmt: skip
    await database.fetchval(
        "INSERT INTO readings (station_id, quantity, ts, value)"
        " SELECT id, 'rain_mm', now() - interval '5 minutes', 0 FROM stations"
    )
    done = await encosta(database, "status")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == len(database.registry.zones)
    rocinha = next(line for line in lines if line.startswith("Rocinha"))
    assert "crisis" in rocinha
    assert "rain_24h 182.0 >= 125.0 mm" in rocinha
    assert "corroboration" not in rocinha  # a zone rule, not a reason, when not met
    assert " UTC (" in rocinha  # since when
    vidigal = next(line for line in lines if line.startswith("Vidigal"))
    assert "1 of 5 stations silent (rj-vid-01)" in vidigal
    assert "normal" in vidigal
    assert all("data ok" in line for line in lines if line is not vidigal)


async def test_status_says_since_when_the_zone_is_at_its_level(database: Database) -> None:
    """An alert raised at attention and escalated later is "crisis since" the escalation."""
    alert = await database.fetchval(
        "INSERT INTO alerts (network, zone_id, kind, level, seq, raised_at, updated_at)"
        " VALUES ($1, 'rocinha', 'risk', 3, 2, now() - interval '3 hours', now()) RETURNING id",
        database.network,
    )
    events = (
        (1, "raised", 0, 1, timedelta(hours=3)),
        (2, "escalated", 1, 3, timedelta(minutes=20)),
    )
    for seq, transition, before, after, ago in events:
        await database.fetchval(
            "INSERT INTO alert_events (alert_id, seq, transition, from_level, to_level, evidence,"
            " at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, now() - $7::interval)",
            alert, seq, transition, before, after, json.dumps(EVIDENCE), ago,
        )  # fmt: skip
    done = await encosta(database, "status")
    assert done.returncode == 0, done.stderr
    rocinha = next(line for line in done.stdout.splitlines() if line.startswith("Rocinha"))
    assert "crisis" in rocinha
    assert "(20 min ago)" in rocinha, rocinha  # not the 3 h since it was raised at attention


async def test_ack_goes_through_the_api_code_and_the_first_one_wins(database: Database) -> None:
    """``alerts ack ID --by --note`` records the acknowledgement; a second one changes nothing."""
    alert = await raise_alert(database, "rocinha", 2, evidence=EVIDENCE)
    listed = await encosta(database, "alerts", "list")
    assert listed.returncode == 0, listed.stderr
    assert f"{alert:6} open" in listed.stdout
    assert " alert " in listed.stdout  # the level by name, not 2
    done = await encosta(database, "alerts", "ack", str(alert), "--by", "duty-1", "--note", "seen")
    assert done.returncode == 0, done.stderr
    assert f"alert {alert} acknowledged by duty-1" in done.stdout
    row = (await database.fetch("SELECT * FROM alerts WHERE id = $1", alert))[0]
    assert row["acknowledged_by"] == "duty-1"
    again = await encosta(database, "alerts", "ack", str(alert), "--by", "duty-2")
    assert again.returncode == 0, again.stderr
    assert "acknowledged by duty-1" in again.stdout
    shown = await encosta(database, "alerts", "show", str(alert))
    assert shown.returncode == 0, shown.stderr
    assert "acknowledged" in shown.stdout
    assert "by duty-1" in shown.stdout
    assert "note: seen" in shown.stdout
    assert "none -> alert" not in shown.stdout
    assert "normal -> alert" in shown.stdout
    events = await database.fetchval(
        "SELECT count(*) FROM alert_events WHERE alert_id = $1 AND transition = 'acknowledged'",
        alert,
    )
    assert events == 1


@pytest.mark.parametrize(
    ("argv", "cause"),
    [
        (["alerts", "ack", "999999", "--by", "x"], "no alert 999999"),
        (["alerts", "show", "999999"], "no alert 999999"),
    ],
)
async def test_a_missing_alert_is_one_line(database: Database, argv: list[str], cause: str) -> None:
    """A wrong id: one line with the cause, exit 2, no traceback."""
    done = await encosta(database, *argv)
    assert done.returncode == 2
    assert cause in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "argv",
    [["migrate"], ["webhooks", "list"], ["status"], ["alerts", "list"], ["stations", "import"]],
)
async def test_an_unreachable_database_is_one_line_with_what_to_do(argv: list[str]) -> None:
    """No server on the port: one line naming the cause and `encosta services up`, exit 2."""
    port = str(free_port())
    done = await encosta(
        None, *argv, ENCOSTA_PG_PORT=port, ENCOSTA_PG_DSN="", ENCOSTA_API_PG_DSN="",
        ENCOSTA_PG_OWNER_DSN="",
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "cannot reach the database" in line
    assert "encosta services up" in line


@pytest.mark.parametrize(
    ("argv", "env", "cause"),
    [
        (["--log-level", "LOUD", "status"], {}, "'LOUD' is not one of DEBUG, INFO"),
        (["status"], {"ENCOSTA_LOG_LEVEL": "LOUD"}, "ENCOSTA_LOG_LEVEL"),
        (["webhooks", "add", "https://x.example", "--min-level", "loud"], {}, "0 normal"),
    ],
)
async def test_a_bad_option_value_is_one_line(
    argv: list[str], env: dict[str, str], cause: str
) -> None:
    """A bad value: the usage, then one error line with the choices, exit 2, no traceback."""
    done = await encosta(None, *argv, **env)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert cause in done.stderr.strip().splitlines()[-1]


async def test_simulate_into_a_missing_directory_says_mkdir(tmp_path: object) -> None:
    """``simulate --to-file`` into a directory that does not exist: one line, what to run."""
    target = f"{tmp_path}/missing/messages.jsonl"
    done = await encosta(None, "simulate", "--scenario", "summer-cells", "--to-file", target)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert f"mkdir -p {tmp_path}/missing" in done.stderr
