"""Simulator -> Mosquitto -> ingest -> TimescaleDB: stored is what the manifest says."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from simulators import Run, generate, load_scenario, publish
from simulators.fault_config import FaultEvent, FaultRates, Faults
from tests.conftest import Database, ingest_config, running_ingest

pytestmark = pytest.mark.services


async def _replay(db: Database, run: Run) -> None:
    async with running_ingest(ingest_config(db)):
        async with asyncio.timeout(60):
            stats = await publish(
                run.messages, "127.0.0.1", db.stack.mqtt_port, None, passwords=db.broker.passwords
            )
        assert stats.acked == len(run.messages)
        await db.wait_for_count("SELECT count(*) FROM readings", run.manifest.total_expected_stored)


async def test_replay_stores_what_was_sent_minus_corrupted(database: Database) -> None:
    """Every sent reading is stored once except the corrupted ones, rejected for their reason."""
    scenario = replace(load_scenario("summer-cells"), duration_h=8)
    run = generate(scenario, database.registry, seed=12)
    manifest = run.manifest
    assert manifest.rejections
    await _replay(database, run)
    rows = await database.fetch(
        "SELECT station_id, quantity, count(*) AS n FROM readings GROUP BY 1, 2"
    )
    stored = {(r["station_id"], r["quantity"]): r["n"] for r in rows}
    expected = {(s, q): n for s, qs in manifest.expected_stored.items() for q, n in qs.items() if n}
    assert stored == expected
    rejects = await database.fetch("SELECT reason, count(*) AS n FROM rejects GROUP BY 1")
    assert {r["reason"] for r in rejects} == {r.reason for r in manifest.rejections}
    assert sum(r["n"] for r in rejects) == manifest.reject_entries


async def test_gateway_outage_burst_is_stored_once(database: Database) -> None:
    """A backlog burst that repeats already-sent reports leaves each reading stored once."""
    outage = FaultEvent("outage", "vidigal", start_h=2, duration_h=2)
    faults = Faults(FaultRates(outage_overlap=2, duplicate=0.05), (outage,))
    scenario = replace(load_scenario("rio-2010-04"), duration_h=6, faults=faults)
    run = generate(scenario, database.registry, seed=5)
    assert run.manifest.messages_by_kind["backlog"] == 5
    assert run.manifest.readings_resent
    await _replay(database, run)
    total = await database.wait_for_count(
        "SELECT count(*) FROM readings", run.manifest.total_expected_stored
    )
    assert total == run.manifest.total_expected_stored == run.manifest.total_sent
