"""The Grafana provisioning and dashboards: every query runs against a real database.

Each panel's and variable's SQL is expanded as Grafana's PostgreSQL datasource would send it
(:mod:`tests.deploy.grafana_macros`) and executed as the read-only ``encosta_reader`` login, the
one Grafana's datasource uses, on a database holding a few hours of readings, a reject, open
alerts with their events and outbox rows. The key panels must return the rows an operator
expects, so a dashboard cannot ship broken.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import yaml

from alerts.api.app import create_app
from alerts.api.config import ApiConfig
from alerts.config import EvaluatorConfig
from alerts.evaluator import Evaluator
from models import load_preset
from scripts import grafana_thresholds
from tests.conftest import REPO, Database, ingest_config, running_ingest
from tests.deploy.grafana_macros import MacroError, Request
from tests.mqtt import publish

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
    """The three dashboards of the design are checked in."""
    assert {p.stem for p in DASHBOARDS} == {
        "operations-overview",
        "station-detail",
        "network-health",
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
        if variable["type"] == "query":  # a constant (the API's URL) queries nothing
            assert variable["datasource"]["uid"] == DATASOURCE_UID, variable["name"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_readings_queries_are_time_bounded(path: Path) -> None:
    """Every query on a hypertable (readings, rollup, results) is bounded by the time range."""
    for name, sql in _queries(_load(path)):
        if any(t in sql for t in ("readings", "station_results", "zone_results")):
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


# Grafana's own expectations, from the cases of pkg/tsdb/grafana-postgresql-datasource/
# macros_test.go (TestMacroEngine, "Given a time range between 2018-04-12 00:00 and 00:05",
# the engine with TimescaleDB enabled), for the macros listed in the PostgreSQL data source's
# documentation: https://grafana.com/docs/grafana/latest/datasources/postgres/query-editor/
# ("Macros"). The expander must reproduce them exactly.
GRAFANA_FROM = datetime(2018, 4, 12, 18, 0, tzinfo=UTC)
GRAFANA_CASES = [
    ("select $__time(time_column)", 'select time_column AS "time"'),
    (
        "WHERE $__timeFilter(time_column)",
        "WHERE time_column BETWEEN '2018-04-12T18:00:00Z' AND '2018-04-12T18:05:00Z'",
    ),
    ("select $__timeFrom()", "select '2018-04-12T18:00:00Z'"),
    ("select $__timeTo()", "select '2018-04-12T18:05:00Z'"),
    ("GROUP BY $__timeGroup(time_column,'5m')", "GROUP BY time_bucket('300.000s',time_column)"),
    ("GROUP BY $__timeGroup(time_column , '5m')", "GROUP BY time_bucket('300.000s',time_column)"),
    (
        "GROUP BY $__timeGroup(time_column , '12d')",
        "GROUP BY time_bucket('1036800.000s',time_column)",
    ),
    ("GROUP BY $__timeGroup(time_column , '20ms')", "GROUP BY time_bucket('0.020s',time_column)"),
    (
        "SELECT $__timeGroupAlias(time_column,'5m')",
        "SELECT time_bucket('300.000s',time_column) AS \"time\"",
    ),
    ("select $__unixEpochFilter(time)", "select time >= 1523556000 AND time <= 1523556300"),
]


@pytest.mark.parametrize(("sql", "expected"), GRAFANA_CASES)
def test_expander_reproduces_grafanas_own_cases(sql: str, expected: str) -> None:
    """Each macro expands exactly as Grafana's backend test says it does."""
    request = Request(GRAFANA_FROM, GRAFANA_FROM + timedelta(minutes=5))
    assert request.expand(sql) == expected


def test_expander_matches_grafana() -> None:
    """Variables first, then macros; fractions as Go prints them; unknown names fail."""
    start = datetime(2010, 4, 5, 18, 0, tzinfo=UTC)
    request = Request(start, start + timedelta(hours=1), "15m", {"station": "rocinha-01"})
    sql = "SELECT $__timeGroupAlias(ts, $__interval) WHERE $__timeFilter(ts) AND id = '$station'"
    assert request.expand(sql) == (
        "SELECT time_bucket('900.000s',ts) AS \"time\" WHERE ts BETWEEN '2010-04-05T18:00:00Z'"
        " AND '2010-04-05T19:00:00Z' AND id = 'rocinha-01'"
    )
    assert request.expand("$__timeTo()::timestamptz") == "'2010-04-05T19:00:00Z'::timestamptz"
    # macros_test.go, "1960-02-01 07:00:00.5": time.RFC3339Nano keeps the fraction
    half = datetime(1960, 2, 1, 7, 0, 0, 500000, tzinfo=UTC)
    assert Request(half, half).expand("$__timeFrom()") == "'1960-02-01T07:00:00.5Z'"
    assert request.expand("SELECT 1 -- a comment\nFROM t") == "SELECT 1 \nFROM t"
    with pytest.raises(MacroError):
        request.expand("$__unixEpochNanoFilter(ts)")
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
        await connection.fetchval("SELECT encosta_refresh_rollup()")  # written here, not by ingest
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


# --- the dashboards on data written through the real ingest and the real evaluator ---------

STORM_ZONE = "rocinha"
EVALUATED_STEPS = 8  # the last two hours, one evaluation per 15-minute step


def _backlog(database: Database, now: datetime, silent: str) -> tuple[list[tuple[str, bytes]], int]:
    """One gateway-style message per station with 6 h of 15-minute records; the record count.

    The storm zone gets 20 mm per step in the last hour (80 mm/h: crisis by the 1 h table)
    and its soil wets towards saturation; elsewhere it is dry. ``silent`` stops reporting
    two hours before ``now``.
    """
    messages = []
    count = 0
    start = now - timedelta(hours=HOURS)
    for station in database.registry.stations:
        storm = station.zone == STORM_ZONE
        records = []
        for step in range(HOURS * 4 + 1):
            ts = start + timedelta(minutes=15 * step)
            if station.id == silent and ts > now - timedelta(hours=2):
                continue
            wet = storm and ts > now - timedelta(hours=1)
            records.append(
                {
                    "ts": ts.isoformat().replace("+00:00", "Z"),
                    "rain_mm": 20.0 if wet else 0.0,
                    "vwc_d60": round(0.22 + step * (0.008 if storm else 0.002), 4),
                    "battery_v": round(3.9 - step / 500, 3),
                }
            )
        count += 3 * len(records)
        payload = json.dumps({"seq": 1, "records": records}).encode()
        messages.append((database.topic(station.id), payload))
    return messages, count


@pytest.mark.services
async def test_panels_on_ingested_and_evaluated_data(database: Database) -> None:
    """Readings through MQTT and ingest, levels from the evaluator: the model's panels show it."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    now = now.replace(minute=now.minute // 15 * 15)
    stations = {s.id: s for s in database.registry.stations}
    storm = sorted(s for s, info in stations.items() if info.zone == STORM_ZONE)
    silent = next(s for s, info in sorted(stations.items()) if info.zone != STORM_ZONE)
    messages, expected = _backlog(database, now, silent)
    async with running_ingest(ingest_config(database)):
        await publish(database.publisher, messages)
        stored = await database.wait_for_count("SELECT count(*) FROM readings", expected)
    assert stored == expected
    async with Evaluator(
        EvaluatorConfig(dsn=database.dsn_for("alerts"), network=database.network)
    ) as evaluator:
        for back in range(EVALUATED_STEPS - 1, -1, -1):
            await evaluator.evaluate_once(
                now - timedelta(minutes=15 * back) + timedelta(seconds=30)
            )
    request = Request(
        now - timedelta(hours=HOURS),
        now + timedelta(minutes=1),
        "15m",
        {"network": database.network, "station": storm[0]},
    )
    results: Rows = {}
    for path in DASHBOARDS:
        for name, raw in _queries(_load(path)):
            results[path.stem, name] = await _run_as_reader(database, request.expand(raw))

    def rows(board: str, name: str) -> list[asyncpg.Record]:
        return results[board, f"panel {name}"]

    # the map: the storm zone at crisis from the real alert, the silent station marked offline
    where = {r["station"]: r for r in rows("operations-overview", "Stations by zone level")}
    assert {s for s, r in where.items() if r["level"] == 3} == set(storm)
    assert where[silent]["health"] == "offline"
    assert where[silent]["symbol"].endswith("x-mark.svg")
    assert all(where[s]["health"] != "offline" for s in storm)
    healthy = [r for s, r in where.items() if s != silent]
    assert {r["symbol"] for r in healthy if r["health"] == "ok"} == {"img/icons/marker/circle.svg"}
    # the zone timeline and the storm overview, from the stored results
    timeline = [r for r in rows("operations-overview", "Zone levels") if r["metric"] == STORM_ZONE]
    assert len(timeline) == EVALUATED_STEPS
    assert timeline[-1]["level"] == 3
    assert timeline[0]["level"] < 3  # two hours ago, before the rain: wet soil, no crisis
    overview = {r["zone"]: r for r in rows("operations-overview", "Storm overview")}
    assert overview[STORM_ZONE]["max_level"] == 3
    assert overview[STORM_ZONE]["max_rain_1h_mm"] == pytest.approx(80.0)
    assert overview[STORM_ZONE]["first_raised"] is not None
    assert overview[stations[silent].zone]["max_rain_1h_mm"] == pytest.approx(0.0)
    # the alerts table links to the deciding station
    alerts = {(r["zone"], r["kind"]): r for r in rows("operations-overview", "Active alerts")}
    assert alerts[STORM_ZONE, "risk"]["level"] == 3
    assert alerts[STORM_ZONE, "risk"]["station"] in storm
    assert (stations[silent].zone, "data") in alerts
    rain = {
        r["station"]: r["rain_1h_mm"] for r in rows("operations-overview", "Rain in the last hour")
    }
    assert rain[storm[0]] == pytest.approx(80.0)
    assert rain[silent] is None  # silent: no value, never zero rain
    # the station detail: factor of safety from the stored results, falling as the soil wets
    fs = [r["factor of safety"] for r in rows("station-detail", "Factor of safety")]
    assert len(fs) == EVALUATED_STEPS
    assert all(v is not None and v > 0 for v in fs)
    assert fs[-1] < fs[0]
    levels = [r["level"] for r in rows("station-detail", "Station level")]
    assert levels[-1] == 3
    rain_1h = rows("station-detail", "Rain, 1 h")
    # plotted at each bucket's end: the bucket starting at ``now`` closes after the range
    assert max(r["rain 1 h"] for r in rain_1h) == pytest.approx(60.0)
    assert rain_1h[-1]["time"] == now


def test_thresholds_come_from_the_preset() -> None:
    """Every threshold panel agrees with models/config/rio.toml (scripts/grafana_thresholds.py)."""
    check = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "grafana_thresholds.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    # and the script would notice a panel that drifted
    board = _load(GRAFANA / "dashboards" / "station-detail.json")
    [fs] = [p for p in board["panels"] if p["title"] == "Factor of safety"]
    values = [s["value"] for s in fs["fieldConfig"]["defaults"]["thresholds"]["steps"]]
    assert values == [None, *sorted(load_preset("rio").slope.fs_levels)]
    assert 1.0 in values  # the FS = 1 line
    wanted = grafana_thresholds.expected("rio", ("station-detail.json", "Rain, 24 h"), "timeseries")
    assert [s["value"] for s in wanted["thresholds"]["steps"]][1:] == list(
        load_preset("rio").rain_levels.rain_24h_mm
    )


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.stem)
def test_every_panel_has_a_unit(path: Path) -> None:
    """Every panel states the unit of its values (m³/m³, mm, s, V…; "none" for a level or FS)."""
    for panel in _panels(_load(path)):
        assert panel["fieldConfig"]["defaults"].get("unit"), f"{path.stem}: {panel['title']}"
    board = _load(GRAFANA / "dashboards" / "station-detail.json")
    [soil] = [p for p in board["panels"] if p["title"] == "Soil moisture"]
    assert soil["fieldConfig"]["defaults"]["unit"] == "suffix: m³/m³"


def test_data_links_reach_station_detail_and_the_ack_route() -> None:
    """Map and alerts table link to the station-detail dashboard and the API's acknowledge route."""
    overview = _load(GRAFANA / "dashboards" / "operations-overview.json")
    station = _load(GRAFANA / "dashboards" / "station-detail.json")
    variables = {v["name"] for v in station["templating"]["list"]}
    panels = {p["title"]: p for p in overview["panels"]}
    for title in ("Stations by zone level", "Active alerts"):
        links = panels[title]["fieldConfig"]["defaults"]["links"]
        url = links[0]["url"]
        assert url.startswith(f"/d/{station['uid']}/"), title
        assert {"var-network", "var-station"} <= {
            q.split("=")[0] for q in url.split("?")[1].split("&")
        }
        assert {"network", "station"} <= variables
        assert "station" in panels[title]["targets"][0]["rawSql"], title
    [ack] = [link for link in panels["Active alerts"]["fieldConfig"]["defaults"]["links"]
             if "acknowledge" in link["url"]]  # fmt: skip
    assert ack["url"].startswith("${api_url}/docs#/")
    assert "api_url" in {v["name"] for v in overview["templating"]["list"]}
    # the Swagger UI deep link (#/tag/operationId) names the API's real acknowledge operation
    tag, operation = ack["url"].split("#/")[1].split("/")
    schema = create_app(ApiConfig(dsn="postgresql://unused")).openapi()
    found = [
        (path, op)
        for path, methods in schema["paths"].items()
        for op in methods.values()
        if op.get("operationId") == operation
    ]
    assert len(found) == 1
    path, op = found[0]
    assert path == "/alerts/{alert_id}/acknowledge"
    assert tag in op["tags"]
