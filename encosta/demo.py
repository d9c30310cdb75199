"""``encosta demo``: replay a documented storm through the whole pipeline and score it.

1. The stack comes up; a fresh ``encosta_demo`` database is migrated and loaded with the Rio
   registry. Only a database named ``encosta_demo…`` that bears the demo's mark (a comment on
   the database, set when the demo created it) is ever dropped: ``--database encosta`` is
   refused, and so is any database the demo did not create.
2. The simulator replays the scenario (by default Rio de Janeiro, 5-7 April 2010, ending now)
   over MQTT as the field gateways would, faults included; the ingest service stores it.
3. The alert evaluator steps through the storm's simulated time every 15 minutes, as it would
   have run live, so alert times are in storm time and can be compared with the simulated
   ground truth (lead time before the first slope failure of each zone).
4. The webhook dispatcher delivers every transition to a loopback receiver that plays the
   emergency team's endpoint and verifies each Standard Webhooks signature.

The summary compares stored and rejected readings with what the simulator sent, and shows per
zone the alert levels reached, when, why, and the lead time before simulated failures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

import asyncpg

from alerts import subscriptions
from alerts.config import DispatchConfig, EvaluatorConfig
from alerts.destinations import Destinations
from alerts.dispatcher import WebhookDispatcher
from alerts.evaluator import Evaluator
from encosta import credentials, dynsec, stack
from encosta.errors import ConfigError, EncostaError
from encosta.migrate import migrate
from encosta.registry import import_registry
from encosta.webhook_sink import WebhookSink
from ingest.accounts import ingest_account, ingest_client_ids
from ingest.broker import BrokerLogin
from ingest.config import ROLE as INGEST_ROLE
from ingest.config import IngestConfig
from ingest.service import IngestService
from ingest.stations import Registry, load_registry
from models import Level
from runtime import settings
from runtime.settings import Environment
from simulators import Run, generate, load_scenario, publish

REGISTRY = stack.REPO / "deploy" / "stations" / "rio-de-janeiro.toml"
LEVELS = tuple(level.name.lower() for level in Level)  # normal, attention, alert, crisis
STEP_S = 900.0  # the evaluator's step through simulated time
DEMO_INGEST = "encosta-demo-ingest"  # its own broker account: never the live ingest's session
DEMO_NAME = re.compile(r"encosta_demo[a-z0-9_]{0,40}")
MARK = "encosta demo replay: created by `encosta demo`, which may drop and recreate it"


def check_name(name: str) -> None:
    """Refuse a ``--database`` that is not a demo database's name."""
    if not DEMO_NAME.fullmatch(name):
        raise EncostaError(
            f"refusing --database {name!r}: encosta demo only (re)creates databases named "
            "encosta_demo followed by up to 40 of [a-z0-9_], e.g. encosta_demo_2"
        )


async def _sql(admin: asyncpg.Connection, build: str, *args: str) -> None:
    """Run the utility statement that the query ``build`` makes with the server's ``format()``.

    Utility statements take no parameters: ``%I`` and ``%L`` quote the name and text instead.
    """
    await admin.execute(await admin.fetchval(build, *args))


async def _fresh_database(config: stack.StackConfig, name: str) -> str:
    """Drop the demo database ``name`` if an earlier demo made it, create, mark and migrate it."""
    check_name(name)
    admin = await asyncpg.connect(config.dsn("postgres"))
    try:
        mark = await admin.fetchrow(
            "SELECT shobj_description(oid, 'pg_database') AS mark FROM pg_database"
            " WHERE datname = $1",
            name,
        )
        if mark is not None:
            if mark["mark"] != MARK:
                raise EncostaError(
                    f"refusing to drop database {name!r}: encosta demo did not create it (it "
                    "lacks the demo's mark); choose another --database"
                )
            await _sql(admin, "SELECT format('DROP DATABASE %I WITH (FORCE)', $1::text)", name)
        await _sql(admin, "SELECT format('CREATE DATABASE %I', $1::text)", name)
        await _sql(
            admin, "SELECT format('COMMENT ON DATABASE %I IS %L', $1::text, $2::text)", name, MARK
        )
    finally:
        await admin.close()
    dsn = config.dsn(name)
    await migrate(dsn)
    await import_registry(dsn, load_registry(REGISTRY))
    return dsn


async def _broker_accounts(config: stack.StackConfig, registry: Registry) -> dict[str, str]:
    """The network's broker accounts, and the demo's own ingest account; their passwords."""
    store = config.credentials_file
    admin = dynsec.admin_login(os.environ, store)
    host = settings.mqtt_host(Environment(os.environ, ConfigError))
    await dynsec.sync_network(
        host,
        config.mqtt_port,
        admin,
        registry,
        ingest_client_ids=ingest_client_ids(None, os.environ),
        store=store,
    )
    demo = [ingest_account(registry.network, DEMO_INGEST)]
    passwords = credentials.ensure(store, [DEMO_INGEST])
    async with dynsec.DynsecAdmin(host, config.mqtt_port, admin) as connection:
        await dynsec.sync(connection, "demo", demo, passwords)
    return passwords


async def _wait_stored(connection: asyncpg.Connection, expected: int, limit_s: float) -> int:
    deadline = time.monotonic() + limit_s
    stored = 0
    while time.monotonic() < deadline:
        stored = int(await connection.fetchval("SELECT count(*) FROM readings"))
        if stored >= expected:
            break
        await asyncio.sleep(0.25)
    return stored


async def _replay(
    run: Run,
    config: IngestConfig,
    speed: float | None,
    connection: asyncpg.Connection,
    passwords: Mapping[str, str],
) -> int:
    """Publish the run over MQTT with the ingest service running; return readings stored."""
    ingest = IngestService(config)
    async with asyncio.TaskGroup() as group:
        task = group.create_task(ingest.run(), name="ingest")
        await asyncio.wait_for(ingest.ready.wait(), 30)
        started = time.perf_counter()
        stats = await publish(
            run.messages,
            config.mqtt_host,
            config.mqtt_port,
            speed,
            login=config.login,
            passwords=passwords,
        )
        print(
            f"  published {sum(stats.delivered)} messages over MQTT (QoS 1) in "
            f"{time.perf_counter() - started:.1f} s"
        )
        stored = await _wait_stored(connection, run.manifest.total_expected_stored, 120)
        print(f"  ingest stored {stored} readings in {time.perf_counter() - started:.1f} s")
        ingest.stop()
        await task
    return stored


async def _deliver(config: DispatchConfig, connection: asyncpg.Connection) -> None:
    """Run the dispatcher until the outbox has nothing pending (or 60 s pass)."""
    async with WebhookDispatcher(config) as dispatcher, asyncio.TaskGroup() as group:
        task = group.create_task(dispatcher.run(), name="dispatcher")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            pending = await connection.fetchval(
                "SELECT count(*) FROM outbox WHERE status = 'pending'"
            )
            if pending == 0:
                break
            await asyncio.sleep(0.2)
        dispatcher.stop()
        await task


async def _demo(args: argparse.Namespace) -> int:
    check_name(args.database)  # before anything starts
    config = stack.StackConfig.from_env(os.environ)
    await asyncio.to_thread(stack.up, config)
    await _fresh_database(config, args.database)
    # Each part of the pipeline connects as its own role (migration 0005), like in production.
    dsn = config.dsn(args.database, "encosta_reader")
    registry = load_registry(REGISTRY)
    scenario = load_scenario(args.scenario)
    run = generate(scenario, registry, seed=args.seed)
    print(f"scenario {scenario.name}: {scenario.title}")
    print(
        f"  {len(run.messages)} messages, {run.manifest.total_sent} readings from "
        f"{len(registry.stations)} stations; simulated time "
        f"{_when(run.start_ts)} to {_when(run.end_ts)}"
    )
    passwords = await _broker_accounts(config, registry)
    base = IngestConfig.from_env(os.environ)
    ingest_config = replace(
        base,
        dsn=config.dsn(args.database, INGEST_ROLE),
        network=registry.network,
        client_id=DEMO_INGEST,
        share_group=None,
        session_expiry_s=120,
        metrics_port=0,
        login=BrokerLogin(DEMO_INGEST, passwords[DEMO_INGEST], base.login.ca_file),
    )
    connection = await asyncpg.connect(dsn)
    try:
        stored = await _replay(run, ingest_config, args.speed, connection, passwords)
        async with WebhookSink() as sink:
            # The sink is on loopback: allowed explicitly, as a real deployment would have to.
            subscription = await subscriptions.add(
                config.dsn(args.database, "encosta_api"),
                sink.url,
                min_level=1,
                fmt="json",
                destinations=Destinations.loopback(),
            )
            sink.secret = subscription.secret
            alerts_dsn = config.dsn(args.database, "encosta_alerts")
            evaluator = EvaluatorConfig(
                dsn=alerts_dsn, network=registry.network, heartbeat_s=0.0, fallback_min=0.0
            )
            started = time.perf_counter()
            async with Evaluator(evaluator) as engine:
                at = run.start_ts + STEP_S
                while at <= run.end_ts:
                    await engine.evaluate_once(datetime.fromtimestamp(at, UTC))
                    at += STEP_S
            print(
                f"  evaluated the storm every 15 simulated minutes in "
                f"{time.perf_counter() - started:.1f} s; delivering webhooks ..."
            )
            await _deliver(
                DispatchConfig(
                    dsn=alerts_dsn, interval_s=0.2, destinations=Destinations.loopback()
                ),
                connection,
            )
            await _summary(connection, run, stored, sink)
    finally:
        await connection.close()
    print(f"\nThe replay is in database {args.database!r}: psql {config.dsn(args.database)}")
    return 0 if stored == run.manifest.total_expected_stored else 1


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


async def _summary(
    connection: asyncpg.Connection, run: Run, stored: int, sink: WebhookSink
) -> None:
    manifest = run.manifest
    print("\nIngest")
    print(
        f"  readings stored {stored} / expected {manifest.total_expected_stored} "
        f"(sent {manifest.total_sent} unique, "
        f"{sum(sum(q.values()) for q in manifest.readings_resent.values())} resent copies "
        "deduplicated)"
    )
    predicted = Counter(r.reason for r in manifest.rejections)
    rows = await connection.fetch("SELECT reason, count(*) AS n FROM rejects GROUP BY reason")
    actual = {r["reason"]: r["n"] for r in rows}
    print(
        f"  rejects: {sum(actual.values())} rows (the simulator predicted "
        f"{manifest.reject_entries}), covering its deliberately corrupted readings:"
    )
    for reason in sorted(set(predicted) | set(actual)):
        print(
            f"    {reason:18} {actual.get(reason, 0):5} rows, "
            f"{predicted.get(reason, 0)} corrupted readings"
        )
    zones = await connection.fetch(
        """
        SELECT z.id, z.name,
               max(e.to_level) AS peak,
               min(e.at) FILTER (WHERE e.to_level >= 1) AS first_1,
               min(e.at) FILTER (WHERE e.to_level >= 2) AS first_2,
               min(e.at) FILTER (WHERE e.to_level >= 3) AS first_3,
               (array_agg(e.evidence ORDER BY e.to_level DESC, e.at)
                   FILTER (WHERE e.transition IN ('raised', 'escalated')))[1] AS evidence
        FROM zones z
        LEFT JOIN alerts a ON a.zone_id = z.id AND a.kind = 'risk'
        LEFT JOIN alert_events e ON e.alert_id = a.id
        GROUP BY z.id, z.name ORDER BY z.name
        """
    )
    truth = {z.zone: z for z in run.truth.zones}
    print(
        f"\n{'zone':24} {'peak':9} {'attention':>9} {'alert':>7} {'crisis':>7}  "
        f"{'why (at the peak)':34} {'failure':>8} {'lead':>7}"
    )
    for z in zones:
        t = truth.get(z["id"])
        failure = t.first_failure_ts if t is not None else None
        warned = z["first_2"]
        lead = (
            f"{(failure - warned.timestamp()) / 3600:+.1f} h"
            if failure is not None and warned is not None
            else "-"
        )
        print(
            f"{z['name'][:24]:24} {LEVELS[z['peak'] or 0]:9} {_offset(z['first_1'], run):>9} "
            f"{_offset(z['first_2'], run):>7} {_offset(z['first_3'], run):>7}  "
            f"{_why(z['evidence']):34} {_offset_ts(failure, run):>8} {lead:>7}"
        )
    print(
        "  times in hours after the scenario start; lead = first simulated slope failure "
        "minus first alert (level 2)"
    )
    verified = sum(d.verified for d in sink.deliveries)
    kinds = Counter(str(d.body.get("type", "?")) for d in sink.deliveries)
    print(
        f"\nWebhooks: {len(sink.deliveries)} received at the emergency team's endpoint, "
        f"{verified} with a valid Standard Webhooks signature"
    )
    for kind, count in sorted(kinds.items()):
        print(f"  {kind:24} {count}")


def _offset(at: datetime | None, run: Run) -> str:
    return "-" if at is None else _offset_ts(at.timestamp(), run)


def _offset_ts(epoch: float | None, run: Run) -> str:
    return "-" if epoch is None else f"{(epoch - run.start_ts) / 3600:.1f} h"


def _why(evidence: object) -> str:
    document = json.loads(evidence) if isinstance(evidence, str) else evidence
    if not isinstance(document, dict):
        return "-"
    for item in document.get("criteria", []):
        if isinstance(item, dict) and item.get("level", 0) > 0:
            if item["criterion"] == "slope":  # the factor of safety falls to its threshold
                return f"slope FS {item['value']:.2f} <= {item['threshold']:.2f}"
            return (
                f"{item['criterion']} {item['value']:.1f} >= {item['threshold']:.1f} "
                f"{item.get('unit', '')}"
            ).strip()[:34]
    return "-"


def run_demo(args: argparse.Namespace) -> int:
    """Entry point of ``encosta demo``."""
    return asyncio.run(_demo(args))
