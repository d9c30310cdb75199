"""The Grafana provisioning and dashboards: every query runs against a real database.

Each panel's and variable's SQL is expanded as Grafana's PostgreSQL datasource would send it
(:mod:`tests.deploy.grafana_macros`) and executed as the read-only ``encosta_reader`` login, the
one Grafana's datasource uses, on a database holding a few hours of readings, a reject, open
alerts with their events and outbox rows. The key panels must return the rows an operator
expects, so a dashboard cannot ship broken.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml

from tests.conftest import REPO, Database
from tests.deploy.grafana_macros import MacroError, Request

GRAFANA = REPO / "deploy" / "grafana"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
DATASOURCE_UID = "encosta-tsdb"
HOURS = 6
HOLED = 2  # index of the station silent from 4 h to 2 h ago (a gap)
SILENT = 3  # index of the station silent for the last hour (stale)


def _load(path: Path) -> dict[str, Any]:
    board: dict[str, Any] = json.loads(path.read_text())
    return board


def _panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in board["panels"]:
        yield panel
        yield from panel.get("panels", [])  # panels inside a collapsed row


def _queries(board: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(name, rawSql) of every variable and panel target of ``board``."""
    for variable in board["templating"]["list"]:
        if variable["type"] == "query":
            yield f"variable {variable['name']}", variable["query"]
    for panel in _panels(board):
        for target in panel.get("targets", []):
            yield f"panel {panel['title']}", target["rawSql"]


def test_dashboards_exist() -> None:
    """The dashboards of the design are checked in."""
    assert {p.stem for p in DASHBOARDS} == {
        "operations-overview",
        "station-detail",
        "network-health",
        "community-reports",  # issue 13
    }


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_dashboard_structure(path: Path) -> None:
    """A dashboard has a uid, unique panel ids, and queries only the provisioned datasource."""
    board = _load(path)
    assert board["uid"].startswith("encosta-")
    ids = [panel["id"] for panel in _panels(board)]
    assert len(ids) == len(set(ids)), f"duplicate panel ids in {path.name}"
    for panel in _panels(board):
        assert panel["datasource"]["uid"] == DATASOURCE_UID, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == DATASOURCE_UID, panel["title"]
            assert target["rawQuery"], panel["title"]
            assert target["format"] in {"table", "time_series"}, panel["title"]
    for variable in board["templating"]["list"]:
        assert variable["datasource"]["uid"] == DATASOURCE_UID, variable["name"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_readings_queries_are_time_bounded(path: Path) -> None:
    """Every query on the readings hypertable is bounded by the dashboard's time range."""
    for name, sql in _queries(_load(path)):
        if "readings" in sql:
            assert "$__timeFilter(" in sql or "$__timeTo()" in sql, f"{path.stem}: {name}"


def test_provisioning_parses() -> None:
    """The provisioning YAML parses, names the datasource uid and keeps secrets out."""
    source = yaml.safe_load((GRAFANA / "provisioning/datasources/encosta.yaml").read_text())
    [datasource] = source["datasources"]
    assert datasource["uid"] == DATASOURCE_UID
    assert datasource["type"] == "grafana-postgresql-datasource"
    assert datasource["jsonData"]["timescaledb"] is True
    assert datasource["user"] == "encosta_reader"
    assert datasource["secureJsonData"]["password"] == "$__env{ENCOSTA_GRAFANA_DB_PASSWORD}"
    assert datasource["url"].startswith("$__env{")
    assert datasource["jsonData"]["sslmode"].startswith("$__env{")
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/encosta.yaml").read_text())
    [files] = provider["providers"]
    assert files["type"] == "file"
    assert files["options"]["path"] == "/etc/encosta/grafana/dashboards"


def test_expander_matches_grafana() -> None:
    """The macro expander produces what Grafana's TimescaleDB-aware datasource sends."""
    start = datetime(2010, 4, 5, 18, 0, tzinfo=UTC)
    request = Request(start, start + timedelta(hours=1), "15m", {"station": "rocinha-01"})
    sql = "SELECT $__timeGroupAlias(ts, $__interval) WHERE $__timeFilter(ts) AND id = '$station'"
    assert request.expand(sql) == (
        "SELECT time_bucket('900s', ts) AS \"time\" WHERE ts BETWEEN '2010-04-05T18:00:00Z'"
        " AND '2010-04-05T19:00:00Z' AND id = 'rocinha-01'"
    )
    assert request.expand("$__timeTo()::timestamptz") == "'2010-04-05T19:00:00Z'::timestamptz"
    with pytest.raises(MacroError):
        request.expand("$__unixEpochFilter(ts)")
    with pytest.raises(MacroError):
        request.expand("'$zone'")


async def _fill(db: Database, now: datetime) -> dict[str, Any]:
    """Readings, a reject, alerts with events and outbox rows; returns what the test needs."""
    connection = await asyncpg.connect(db.dsn)
    try:
        registry = await connection.fetch("SELECT id, zone_id FROM stations ORDER BY id")
        stations = [r["id"] for r in registry]
        zones = [r["id"] for r in await connection.fetch("SELECT id FROM zones ORDER BY id")]
        start = now - timedelta(hours=HOURS)
        rows = []
        for index, station in enumerate(stations):
            for step in range(HOURS * 4 + 1):
                ts = start + timedelta(minutes=15 * step)
                if index == HOLED and now - timedelta(hours=4) < ts < now - timedelta(hours=2):
                    continue
                if index == SILENT and ts > now - timedelta(hours=1):
                    continue
                # one gateway flushed its backlog three hours late
                lag = timedelta(hours=3) if index == 0 and step < 4 else timedelta(seconds=4)
                received = min(ts + lag, now)
                for quantity, value in (
                    ("rain_mm", 0.2 * step + index % 5),
                    ("vwc", 0.25 + step / 200),
                    ("vwc_d60", 0.3 + step / 300),
                    ("battery_v", 3.9 - step / 500),
                ):
                    rows.append((station, quantity, ts, value, received))
        await connection.copy_records_to_table(
            "readings",
            records=rows,
            columns=["station_id", "quantity", "ts", "value", "received_at"],
        )
        await connection.execute(
            "INSERT INTO rejects (received_at, topic, station_id, reason, detail, raw,"
            " message_hash) VALUES ($1, $2, $3, 'out_of_range',"
            " 'rain_mm=999.0 outside [0.0, 250.0]', '\\x7b7d'::bytea, '\\x01'::bytea)",
            now - timedelta(minutes=30),
            f"encosta/{db.network}/{stations[0]}/readings",
            stations[0],
        )
        evidence = {
            "model_version": "encosta-risk 1.0.0",
            "criteria": [
                {
                    "criterion": "rain_24h",
                    "value": 60.0,
                    "threshold": 50.0,
                    "unit": "mm",
                    "level": 1,
                    "unknown": False,
                    "estimated": False,
                    "station": stations[0],
                },
                {
                    "criterion": "rain_1h",
                    "value": 35.0,
                    "threshold": 30.0,
                    "unit": "mm",
                    "level": 2,
                    "unknown": False,
                    "estimated": False,
                    "station": stations[0],
                },
                {
                    "criterion": "corroboration",
                    "value": 2.0,
                    "threshold": 2.0,
                    "unit": "stations",
                    "level": 2,
                    "unknown": False,
                    "estimated": False,
                    "station": None,
                },
            ],
        }
        raised = now - timedelta(minutes=40)
        risk = await connection.fetchval(
            "INSERT INTO alerts (network, zone_id, kind, level, seq, raised_at, updated_at)"
            " VALUES ($1, $2, 'risk', 2, 2, $3, $3) RETURNING id",
            db.network,
            zones[0],
            raised,
        )
        await connection.executemany(
            "INSERT INTO alert_events (alert_id, seq, transition, from_level, to_level,"
            " evidence, at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)",
            [
                (risk, 1, "raised", 0, 1, json.dumps(evidence), raised),
                (risk, 2, "escalated", 1, 2, json.dumps(evidence), raised + timedelta(minutes=5)),
            ],
        )
        await connection.execute(
            "INSERT INTO alerts (network, zone_id, kind, level, raised_at, updated_at)"
            " VALUES ($1, $2, 'data', 1, $3, $3)",
            db.network,
            zones[1],
            now - timedelta(minutes=10),
        )
        subscription = await connection.fetchval(
            "INSERT INTO webhook_subscriptions (url, secret)"
            " VALUES ('https://defesacivil.example/hook', 'whsec_dGVzdA==') RETURNING id"
        )
        await connection.executemany(
            "INSERT INTO outbox (message_id, subscription_id, alert_id, seq, zone_id,"
            " content_type, payload, status, attempts, last_error)"
            " VALUES ($1, $2, $3, $4, $5, 'application/json', '{}', $6, $7, $8)",
            [
                (f"msg_{risk}_1", subscription, risk, 1, zones[0], "delivered", 1, None),
                (f"msg_{risk}_2", subscription, risk, 2, zones[0], "pending", 3, "timeout"),
                (f"msg_{risk}_0", subscription, risk, 1, zones[0], "dead", 1, "HTTP 410"),
            ],
        )
    finally:
        await connection.close()
    return {
        "stations": stations,
        "zones": zones,
        "zone_of": {r["id"]: r["zone_id"] for r in registry},
    }


async def _run_as_reader(db: Database, sql: str) -> list[asyncpg.Record]:
    # Grafana's own login: read-only by its role setting (migration 0005), not by this code
    connection = await asyncpg.connect(db.dsn_for("reader"))
    try:
        async with connection.transaction():
            await connection.execute("SET LOCAL statement_timeout = '10s'")
            return list(await connection.fetch(sql))
    finally:
        await connection.close()


Rows = dict[tuple[str, str], list[asyncpg.Record]]


async def _run_all(database: Database, now: datetime, filled: dict[str, Any]) -> Rows:
    """Every query of every dashboard, expanded and run as encosta_reader."""
    request = Request(
        now - timedelta(hours=HOURS),
        now,
        "15m",
        {"network": database.network, "station": filled["stations"][0]},
    )
    results: Rows = {}
    for path in DASHBOARDS:
        for name, raw in _queries(_load(path)):
            sql = request.expand(raw)
            try:
                results[path.stem, name] = await _run_as_reader(database, sql)
            except asyncpg.PostgresError as exc:
                pytest.fail(f"{path.stem}: {name}: {exc!r}\n{sql}")
    return results


def _check_overview(results: Rows, network: str, filled: dict[str, Any]) -> None:
    stations: list[str] = filled["stations"]
    zones: list[str] = filled["zones"]
    zone_of: dict[str, str] = filled["zone_of"]

    def rows(name: str) -> list[asyncpg.Record]:
        return results["operations-overview", name]

    assert network in [r[0] for r in rows("variable network")]
    stations_map = rows("panel Stations by zone level")
    assert len(stations_map) == 40
    assert {r["station"] for r in stations_map if r["level"] == 2} == {
        s for s in stations if zone_of[s] == zones[0]
    }
    zone_table = {r["zone"]: r for r in rows("panel Zones")}
    assert len(zone_table) == 8
    assert zone_table[zones[0]]["level"] == 2
    assert zone_table[zones[0]]["criterion"] == "rain_1h"
    assert zone_table[zones[0]]["transition"] == "escalated"
    assert zone_table[zones[1]]["data_level"] == 1
    assert zone_table[zones[2]]["level"] == 0
    assert len(rows("panel Active alerts")) == 2
    rain = {r["station"]: r["rain_1h_mm"] for r in rows("panel Rain in the last hour")}
    assert len(rain) == 40
    assert rain[stations[SILENT]] is None  # no data is no value, never zero rain
    assert rain[stations[1]] > 0


def _check_station(results: Rows, now: datetime) -> None:
    def rows(name: str) -> list[asyncpg.Record]:
        return results["station-detail", name]

    assert len(rows("variable station")) == 40
    for title in ("Rain, 1 h", "Rain, 24 h", "Rain, 96 h", "Soil moisture", "Battery"):
        assert rows(f"panel {title}"), title
    assert {r["metric"] for r in rows("panel Soil moisture")} == {"vwc", "vwc_d60"}
    [station] = rows("panel Station")
    assert station["last_seen"] == now


def _check_health(results: Rows, filled: dict[str, Any]) -> None:
    stations: list[str] = filled["stations"]

    def rows(name: str) -> list[asyncpg.Record]:
        return results["network-health", name]

    last_seen = {r["station"]: r for r in rows("panel Last seen")}
    assert len(last_seen) == 40
    assert last_seen[stations[SILENT]]["missed_intervals"] == 4
    gaps = {r["station"]: r for r in rows("panel Gaps")}
    assert gaps[stations[HOLED]]["gaps"] == 1
    assert gaps[stations[1]]["gaps"] == 0
    assert rows("panel Stations reporting")
    assert [r["metric"] for r in rows("panel Rejects by reason")] == ["out_of_range"]
    assert max(r["max"] for r in rows("panel Ingest lag")) == 3 * 3600
    backlog = {r["status"]: r["messages"] for r in rows("panel Outbox backlog")}
    assert backlog == {"pending": 1, "delivered": 1, "dead": 1}
    [dead] = rows("panel Dead letters")
    assert dead["last_error"] == "HTTP 410"


@pytest.mark.services
async def test_every_query_runs_and_key_panels_have_rows(database: Database) -> None:
    """Every dashboard query runs as encosta_reader, and the key panels show the data."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    filled = await _fill(database, now)
    results = await _run_all(database, now, filled)
    assert len(results) == sum(len(list(_queries(_load(p)))) for p in DASHBOARDS)
    _check_overview(results, database.network, filled)
    _check_station(results, now)
    _check_health(results, filled)
