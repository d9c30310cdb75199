"""``encosta demo``: replay a documented storm through the whole pipeline, live, and score it.

1. The stack comes up; a fresh ``encosta_demo`` database is migrated and loaded with the
   scenario's registry (``[scenario] registry``, the Rio registry unless it names one). Only a
   database named ``encosta_demo…`` that bears the demo's mark (a comment on the database, set
   when the demo created it) is ever dropped: ``--database encosta`` is refused, and so is any
   database the demo did not create.
2. The simulator replays the scenario (by default Rio de Janeiro, 5-7 April 2010) at its own
   hours on the latest day it ends before now (``simulators.same_hour_anchor``), its spin-up
   history stored first, over MQTT as the field gateways would, faults included; the ingest
   service stores it.
3. Simulated time advances in the evaluator's 15-minute steps. Before the evaluation at
   ``t``, exactly the messages *sent* before ``t`` are published and committed by ingest, so
   the evaluator sees what it would have seen live at ``t`` (a gateway's backlog arrives when
   the gateway flushed it, not earlier): no look-ahead. Alert times are in storm time.
4. The webhook dispatcher runs alongside and delivers every transition to a loopback receiver
   that plays the emergency team's endpoint and verifies each Standard Webhooks signature.

While it runs, :mod:`encosta.liveview` shows the storm (a live view on a terminal, plain lines
otherwise); logs stay out of it (``--verbose`` shows them, ``--log-file`` keeps them). At the
end the summary compares stored and rejected readings with what the simulator sent and scores
the warnings against the simulated ground truth with the backtest's honest scoring
(:mod:`encosta.backtest.scores`: episodes per zone, hit / miss / false alarm, POD / FAR / CSI,
lead time from the start of the episode open at the first failure); ``--report DIR``
(default ``<state dir>/demo-report``) gets ``summary.json``, ``report.md`` and PNG plots
(:mod:`encosta.demo_report`).
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import math
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiomqtt
import asyncpg
from rich.console import Console

from alerts import subscriptions
from alerts.config import DispatchConfig, EvaluatorConfig
from alerts.destinations import Destinations
from alerts.dispatcher import WebhookDispatcher
from alerts.evaluator import Evaluator
from alerts.store import Proposal
from encosta import credentials, dynsec, logs, stack
from encosta.backtest.command import Backtest, family, score_run
from encosta.backtest.replay import Timeline
from encosta.duty import META, why
from encosta.errors import ConfigError, EncostaError
from encosta.liveview import Counters, LiveView, ZoneRow, when
from encosta.migrate import migrate
from encosta.outdir import writable_dir
from encosta.registry import import_registry
from encosta.webhook_sink import WebhookSink
from ingest.accounts import ingest_account, ingest_client_ids
from ingest.broker import BrokerLogin
from ingest.config import ROLE as INGEST_ROLE
from ingest.config import IngestConfig
from ingest.mqtt5 import connect_properties
from ingest.service import IngestService
from models import Level
from registry.format import Registry
from runtime import settings
from runtime.settings import Environment
from simulators import Run, generate, load_scenario, publish, same_hour_anchor
from simulators.scenario import scenario_registry
from simulators.spinup import History, history

LEVELS = tuple(level.name.lower() for level in Level)  # normal, attention, alert, crisis
STEP_S = 900.0  # the evaluator's step through simulated time
BEFORE_STEP = timedelta(seconds=1)  # each evaluation at t looks at [t - 15 min, t) (no look-ahead)
WARN_LEVEL = 2  # the level that sounds sirens: episodes are scored from it (backtest.scores)
METHOD = "encosta"  # the method name in the backtest's scoring (the live pipeline)
STALL_S = 120.0  # no ingest progress for this long while readings are due: give up
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


async def _fresh_database(config: stack.StackConfig, name: str, registry: Registry) -> str:
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
    await import_registry(dsn, registry)
    return dsn


async def store_history(dsn: str, past: History) -> None:
    """What the network held before the storm: the spin-up history, stored as readings.

    As ``encosta backtest`` replays it first (docs/backtest.md, "Spin-up"): the evaluator's
    first windows are full, so alerts step down as well as up. Written by the owner in one COPY
    (not through ingest: it was stored before the run), then summarised into the rollups.
    """
    connection = await asyncpg.connect(dsn)
    try:
        await connection.copy_records_to_table(
            "readings",
            records=[
                (sid, quantity, datetime.fromtimestamp(ts, UTC), value)
                for sid, quantity, ts, value in past.rows()
            ],
            columns=["station_id", "quantity", "ts", "value"],
        )
        await connection.fetchval("SELECT encosta_refresh_rollup()")
    finally:
        await connection.close()


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
    # A replay starts from an empty session: whatever the broker queued for an earlier demo
    # (or published to the network since, by a simulator or a benchmark) is not this storm's.
    login = BrokerLogin(
        DEMO_INGEST, passwords[DEMO_INGEST], os.environ.get("ENCOSTA_MQTT_CA_FILE") or None
    )
    async with aiomqtt.Client(
        host,
        config.mqtt_port,
        identifier=DEMO_INGEST,
        protocol=aiomqtt.ProtocolVersion.V5,
        clean_start=True,
        properties=connect_properties(0),
        **login.client_options(),
    ):
        pass
    return passwords


class Clock:
    """Simulated time as the publisher's gate: a message leaves once ``send_ts < now``."""

    def __init__(self) -> None:
        self.now = -math.inf
        self._moved = asyncio.Condition()

    async def advance(self, now: float) -> None:
        """Let every message sent before ``now`` go."""
        async with self._moved:
            self.now = now
            self._moved.notify_all()

    async def wait(self, send_ts: float) -> None:
        """Hold a message until simulated time has passed its send time."""
        if send_ts < self.now:
            return
        async with self._moved:
            await self._moved.wait_for(lambda: send_ts < self.now)


@dataclass(slots=True)
class Tracked:
    """The held risk level of every zone at every evaluation, for the honest scoring."""

    zone_ids: list[str]
    times_s: list[float] = field(default_factory=list)
    held: list[list[int]] = field(default_factory=list)
    criterion: list[list[str]] = field(default_factory=list)
    level: dict[str, int] = field(default_factory=dict)
    opened_by: dict[str, str] = field(default_factory=dict)

    def step(self, at_s: float, changes: list[tuple[Proposal, Any]]) -> None:
        """Record the zones' held levels after the evaluation at ``at_s``."""
        for proposal, step in changes:
            if proposal.kind != "risk":
                continue
            self.level[proposal.zone_id] = step.to_level
            if step.to_level >= WARN_LEVEL > step.from_level:
                self.opened_by[proposal.zone_id] = top_criterion(proposal.evidence)
        self.times_s.append(at_s)
        self.held.append([self.level.get(z, 0) for z in self.zone_ids])
        self.criterion.append([self.opened_by.get(z, "-") for z in self.zone_ids])

    def timeline(self) -> Timeline:
        """As the backtest's replay would have recorded it, for :func:`score_run`."""
        return Timeline(
            times_s=self.times_s, held={METHOD: self.held}, criterion={METHOD: self.criterion}
        )


def top_criterion(evidence: Mapping[str, Any]) -> str:
    """The criterion at the highest level in ``evidence`` (what set the zone's level)."""
    best, name = 0, "-"
    for item in evidence.get("criteria", []):
        if not isinstance(item, dict) or item.get("criterion") in META:
            continue
        if (item.get("level") or 0) > best:
            best, name = item["level"], str(item["criterion"])
    return name


def _sample(registry: Any, name: str) -> float:  # noqa: ANN401  prometheus' registry
    """The sum of a counter's samples (all labels) in ``registry``."""
    total = 0.0
    for metric in registry.collect():
        for sample in metric.samples:
            if sample.name == name:
                total += sample.value
    return total


@dataclass(slots=True)
class Outcome:
    """What the replay produced, for the summary and the report."""

    stored: int
    rejects: dict[str, int]
    tracked: Tracked
    deliveries: int
    verified: int
    kinds: dict[str, int]
    wall_s: float


async def _wait_until(check: Any, what: str, limit_s: float = STALL_S) -> None:  # noqa: ANN401
    deadline = time.monotonic() + limit_s
    while not await check():
        if time.monotonic() > deadline:
            raise EncostaError(
                f"the demo stalled: {what} after {limit_s:.0f} s; see --verbose or --log-file"
            )
        await asyncio.sleep(0.02)


async def _live_replay(  # noqa: PLR0913, PLR0917  the replay's parts
    run: Run,
    ingest_config: IngestConfig,
    evaluator_config: EvaluatorConfig,
    dispatch_config: DispatchConfig,
    connection: asyncpg.Connection,
    passwords: Mapping[str, str],
    sink: WebhookSink,
    view: LiveView,
    speed: float | None,
    history_rows: int = 0,
) -> Outcome:
    """Publish, ingest, evaluate and deliver in step through simulated time.

    ``history_rows`` readings were stored before the run (the spin-up); they are not the run's.
    """
    ingest = IngestService(ingest_config)
    clock = Clock()
    sends = [m.send_ts for m in run.messages]
    tracked = Tracked(list(view.zones))
    started = time.monotonic()
    metrics = ingest.metrics.registry

    def committed() -> int:
        return int(_sample(metrics, "encosta_ingest_messages_received_total"))

    def counters(at_s: float, published: int) -> Counters:
        return Counters(
            sim_s=at_s,
            published=published,
            stored=int(_sample(metrics, "encosta_ingest_readings_stored_total")),
            rejected=int(_sample(metrics, "encosta_ingest_rejected_total")),
            deliveries=len(sink.deliveries),
            verified=sum(d.verified for d in sink.deliveries),
        )

    async with (
        Evaluator(evaluator_config) as engine,
        WebhookDispatcher(dispatch_config) as dispatcher,
        asyncio.TaskGroup() as group,
    ):
        ingest_task = group.create_task(ingest.run(), name="demo-ingest")
        dispatch_task = group.create_task(dispatcher.run(), name="demo-dispatcher")
        await asyncio.wait_for(ingest.ready.wait(), 30)
        publisher = group.create_task(
            publish(
                run.messages,
                ingest_config.mqtt_host,
                ingest_config.mqtt_port,
                None,
                login=ingest_config.login,
                passwords=passwords,
                gate=clock.wait,
            ),
            name="demo-publish",
        )
        at = run.start_ts + STEP_S
        while at <= run.end_ts:
            await clock.advance(at)
            due = bisect.bisect_left(sends, at)

            async def caught_up(due: int = due) -> bool:
                return committed() >= due or publisher.done()

            await _wait_until(caught_up, f"ingest committed {committed()} of {due} messages")
            # One second before the step, as the backtest's evaluation at t: the newest bucket
            # is [t - 15 min, t), whose readings were released, not the empty one starting at t.
            moment = datetime.fromtimestamp(at, UTC) - BEFORE_STEP
            changes = await engine.evaluate_once(moment)
            tracked.step(at, changes)
            for proposal, step in changes:
                why = top_criterion(proposal.evidence) if proposal.kind == "risk" else "-"
                view.transition(
                    at, proposal.zone_id, proposal.kind, str(step.transition), step.to_level,
                    _why_text(proposal.evidence) if why != "-" else "-",
                )  # fmt: skip
            view.update(counters(at, due))
            if speed is not None:
                await asyncio.sleep(
                    max(0.0, started + (at - run.start_ts) / speed - time.monotonic())
                )
            at += STEP_S
        await clock.advance(math.inf)
        await publisher
        expected = run.manifest.total_expected_stored + history_rows

        async def all_stored() -> bool:
            return int(await connection.fetchval("SELECT count(*) FROM readings")) >= expected

        await _wait_until(all_stored, "not every reading was stored")

        async def delivered() -> bool:
            view.update(counters(run.end_ts, len(sends)))
            pending = await connection.fetchval(
                "SELECT count(*) FROM outbox WHERE status = 'pending'"
            )
            return bool(pending == 0)

        await _wait_until(delivered, "webhooks still pending", 60)
        ingest.stop()
        dispatcher.stop()
        await ingest_task
        await dispatch_task
    view.update(counters(run.end_ts, len(sends)))
    stored = int(await connection.fetchval("SELECT count(*) FROM readings")) - history_rows
    rows = await connection.fetch("SELECT reason, count(*) AS n FROM rejects GROUP BY reason")
    return Outcome(
        stored=stored,
        rejects={r["reason"]: int(r["n"]) for r in rows},
        tracked=tracked,
        deliveries=len(sink.deliveries),
        verified=sum(d.verified for d in sink.deliveries),
        kinds=dict(Counter(str(d.body.get("type", "?")) for d in sink.deliveries)),
        wall_s=time.monotonic() - started,
    )


def _why_text(evidence: Mapping[str, Any]) -> str:
    """The criteria that set the level, in a few words (``rain_24h 182.0 >= 125.0 mm``)."""
    return why(dict(evidence))


def score(run: Run, tracked: Tracked) -> dict[str, Any]:
    """The backtest's honest scoring of the live pipeline's held levels (one method)."""
    scored = score_run(run, tracked.timeline(), tracked.zone_ids)
    backtest = Backtest([run.scenario.name], (run.seed,), [METHOD], scored=scored)
    result = family(backtest, run.scenario.name, METHOD)
    result["per_zone"] = [
        {
            "zone": z.zone,
            "outcome": str(z.outcome),
            "first_failure_h": None if z.failure_s is None else (z.failure_s - run.start_ts) / 3600,
            "lead_h": z.lead_h,
            "episodes": z.episodes,
            "false_episodes": z.false_episodes,
            "opened_by": z.criterion,
        }
        for s in scored
        for z in s.zones
    ]
    result["episodes_detail"] = [
        {
            "zone": e.zone,
            "start_h": (e.start_s - run.start_ts) / 3600,
            "end_h": None if e.end_s is None else (e.end_s - run.start_ts) / 3600,
            "peak": LEVELS[e.peak],
            "opened_by": e.criterion,
        }
        for s in scored
        for e in s.episodes
    ]
    return result


async def _zone_rows(connection: asyncpg.Connection, run: Run) -> list[dict[str, Any]]:
    """Per zone: peak level, first time at each level, why at the peak (from the history)."""
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

    def hours(at: datetime | None) -> float | None:  # the step the evaluation belongs to
        return (
            None
            if at is None
            else math.ceil((at.timestamp() - run.start_ts) / STEP_S) * STEP_S / 3600
        )

    out = []
    for z in zones:
        evidence = json.loads(z["evidence"]) if z["evidence"] else {}
        out.append(
            {
                "id": z["id"],
                "name": z["name"],
                "peak": LEVELS[z["peak"] or 0],
                "first_attention_h": hours(z["first_1"]),
                "first_alert_h": hours(z["first_2"]),
                "first_crisis_h": hours(z["first_3"]),
                "why": _why_text(evidence) if evidence else "-",
            }
        )
    return out


async def _demo(args: argparse.Namespace) -> int:
    check_name(args.database)  # before anything starts
    scenario = load_scenario(args.scenario)  # a wrong name or file too
    registry = scenario_registry(scenario)  # the network the scenario names
    config = stack.StackConfig.from_env(os.environ)
    report_dir = writable_dir(
        Path(args.report) if args.report else config.state_dir / "demo-report"
    )  # before the stack starts: a typo costs a second, not the replay
    console = Console(highlight=False) if sys.stdout.isatty() else Console(width=200)
    await asyncio.to_thread(stack.up, config)
    owner_dsn = await _fresh_database(config, args.database, registry)
    # Each part of the pipeline connects as its own role (migration 0005), like in production.
    dsn = config.dsn(args.database, "encosta_reader")
    # At the scenario's own hours (whole days back from now): the run encosta backtest scores.
    run = generate(scenario, registry, seed=args.seed, anchor=same_hour_anchor(scenario))
    past = history(run, registry)
    await store_history(owner_dsn, past)
    console.print(f"scenario {scenario.name}: {scenario.title}")
    console.print(
        f"  {len(run.messages)} messages, {run.manifest.total_sent} readings from "
        f"{len(registry.stations)} stations; simulated time "
        f"{when(run.start_ts)} to {when(run.end_ts)}; "
        f"{len(past)} readings of the {(past.end_ts - past.start_ts) / 3600:.0f} h before "
        "stored first (the spin-up history)"
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
    alerts_dsn = config.dsn(args.database, "encosta_alerts")
    connection = await asyncpg.connect(dsn)
    try:
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
            names = {z.id: z.name for z in sorted(registry.zones, key=lambda z: z.id)}
            view = LiveView(
                console, run.start_ts, run.end_ts, {k: ZoneRow(v) for k, v in names.items()}
            )
            with view:
                outcome = await _live_replay(
                    run,
                    ingest_config,
                    EvaluatorConfig(
                        dsn=alerts_dsn, network=registry.network, heartbeat_s=0.0, fallback_min=0.0
                    ),
                    DispatchConfig(
                        dsn=alerts_dsn, interval_s=0.2, destinations=Destinations.loopback()
                    ),
                    connection,
                    passwords,
                    sink,
                    view,
                    args.speed,
                    history_rows=len(past),
                )
        zones = await _zone_rows(connection, run)
    finally:
        await connection.close()
    data = summary(args, run, outcome, zones, score(run, outcome.tracked))
    data["database"] = args.database
    print_summary(console, data)
    from encosta.demo_report import write_report  # noqa: PLC0415  matplotlib is slow to import

    write_report(report_dir, data, run, registry, outcome.tracked)
    api_dsn = config.dsn(args.database, "encosta_api")
    console.print(
        f"\nReport: {report_dir / 'report.md'} (plots and station map beside it; figures in "
        f"summary.json). Next: ENCOSTA_API_PG_DSN={api_dsn} encosta status",
        soft_wrap=True,
    )
    return 0 if outcome.stored == run.manifest.total_expected_stored else 1


def summary(
    args: argparse.Namespace,
    run: Run,
    outcome: Outcome,
    zones: list[dict[str, Any]],
    skill: dict[str, Any],
) -> dict[str, Any]:
    """Everything the demo found, as ``summary.json`` holds it."""
    manifest = run.manifest
    predicted = Counter(r.reason for r in manifest.rejections)
    return {
        "scenario": run.scenario.name,
        "title": run.scenario.title,
        "seed": args.seed,
        "start": when(run.start_ts),
        "end": when(run.end_ts),
        "wall_s": round(outcome.wall_s, 1),
        "ingest": {
            "messages": len(run.messages),
            "sent": manifest.total_sent,
            "expected_stored": manifest.total_expected_stored,
            "stored": outcome.stored,
            "resent_copies": sum(sum(q.values()) for q in manifest.readings_resent.values()),
            "rejects": sum(outcome.rejects.values()),
            "predicted_rejects": manifest.reject_entries,
            "rejects_by_reason": {
                reason: {"rows": outcome.rejects.get(reason, 0), "corrupted": predicted[reason]}
                for reason in sorted(set(predicted) | set(outcome.rejects))
            },
        },
        "zones": zones,
        "skill": skill,
        "webhooks": {
            "received": outcome.deliveries,
            "verified": outcome.verified,
            "by_type": outcome.kinds,
        },
    }


def _h(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} h"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def print_summary(console: Console, data: dict[str, Any]) -> None:
    """The summary: ingest accounted for, zones, the warning skill, webhooks."""
    from rich import box  # noqa: PLC0415
    from rich.table import Table  # noqa: PLC0415

    style = box.SIMPLE if console.is_terminal else box.ASCII2
    i = data["ingest"]
    console.print("\nIngest")
    console.print(
        f"  readings stored {i['stored']} / expected {i['expected_stored']} (sent {i['sent']} "
        f"unique, {i['resent_copies']} resent copies deduplicated)"
    )
    covering = ", covering its deliberately corrupted readings:" if i["rejects"] else ""
    console.print(
        f"  rejects: {i['rejects']} rows (the simulator predicted {i['predicted_rejects']})"
        + covering
    )
    for reason, n in i["rejects_by_reason"].items():
        console.print(f"    {reason:18} {n['rows']:5} rows, {n['corrupted']} corrupted readings")
    outcome = {z["zone"]: z for z in data["skill"]["per_zone"]}
    table = Table(box=style, title="Zones (times in hours after the scenario start)")
    for column in ("zone", "peak", "attention", "alert", "crisis", "why (at the peak)",
                   "failure", "outcome", "lead"):  # fmt: skip
        table.add_column(column, no_wrap=column != "why (at the peak)")
    for z in data["zones"]:
        o = outcome.get(z["id"], {})
        table.add_row(
            z["name"], z["peak"], _h(z["first_attention_h"]), _h(z["first_alert_h"]),
            _h(z["first_crisis_h"]), z["why"], _h(o.get("first_failure_h")),
            str(o.get("outcome", "-")).replace("_", " "), _h(o.get("lead_h")),
        )  # fmt: skip
    console.print(table)
    s = data["skill"]
    t = s["zones"]
    console.print(
        f"Warning skill (level >= {WARN_LEVEL} alert; lead from the start of the episode open at "
        f"the first failure): {t['hits']} hits, {t['misses']} misses, {t['false_alarms']} false "
        f"alarms, {t['quiet']} quiet; POD {_ratio(t['pod'])}, FAR {_ratio(t['far'])}, "
        f"CSI {_ratio(t['csi'])}; mean lead {_h(s['mean_lead_h'])}; "
        f"{s['episodes']} episodes ({s['false_episodes']} false); opened by "
        + (", ".join(f"{k} {v}" for k, v in s["opened_by"].items()) or "-"),
        soft_wrap=True,
    )
    w = data["webhooks"]
    console.print(
        f"\nWebhooks: {w['received']} received at the emergency team's endpoint, "
        f"{w['verified']} with a valid Standard Webhooks signature"
    )
    for kind, count in sorted(w["by_type"].items()):
        console.print(f"  {kind:24} {count}")


def run_demo(args: argparse.Namespace) -> int:
    """Entry point of ``encosta demo``: logs out of the way, then the replay."""
    if args.verbose:
        logs.configure(args.log_level or "INFO")
    else:
        logs.quiet(args.log_file, args.log_level or "INFO")
    with contextlib.suppress(KeyboardInterrupt):
        return asyncio.run(_demo(args))
    return 130
