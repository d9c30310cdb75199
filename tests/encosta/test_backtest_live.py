"""The backtest and the live stack give the same risk transitions per zone for the same seed.

Simulator -> Mosquitto -> ingest -> TimescaleDB -> evaluator -> lifecycle (real services)
against ``encosta backtest``'s replay of the same run. The evaluator is driven through its
public ``evaluate_once`` at each evaluation time of the replay, one second before it, so that
the newest bucket of both is ``[t - 15 min, t)`` (the replay sees device times before t).
Petrópolis brings its 30-day spin-up (the documented antecedent record), so the live
evaluator's daily record (``readings_rain_1d``) and the replay's are compared too.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from alerts.config import EvaluatorConfig
from alerts.evaluator import Evaluator
from encosta.backtest.replay import replay, stations_of
from encosta.demo import store_history
from models import load_preset
from simulators import generate, load_scenario, publish, same_hour_anchor
from simulators.fault_config import Faults
from simulators.spinup import history
from tests.conftest import ingest_config, running_ingest

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = pytest.mark.services

EPSILON = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("name", "hours"), [("rio-2010-04", 10.0), ("summer-cells", 10.0), ("petropolis-2022-02", 6.0)]
)
async def test_backtest_and_live_stack_agree_on_transitions(
    database: Database, name: str, hours: float
) -> None:
    """Same seed, no faults: the same (time, level) changes in every zone, both ways.

    Both sides start from the same spin-up history (``simulators.spinup``): the replay stores
    it, the live database gets it copied into ``readings`` (and its rollups refreshed) before
    the run is published, so the first windows are full and alerts step down as well as up.
    """
    base = load_scenario(name)
    # No faults and no network latency: what arrived by t is what carries a device time
    # before t, so the live store (read after everything arrived) holds the replay's readings.
    scenario = replace(
        base,
        duration_h=hours,
        faults=Faults(),
        reporting=replace(base.reporting, latency_s=0.0),
    )
    # The scenario's own time of day (the soil's evapotranspiration, hence the slope and the
    # cause-trigger gate, follow the sun), on the latest day the run ends before now: ingest
    # accepts it (30 days back) and the transitions do not depend on when the test runs.
    anchor = same_hour_anchor(scenario)  # as encosta demo anchors its run
    run = generate(scenario, database.registry, seed=4, faults=False, anchor=anchor)
    past = history(run, database.registry)
    rio = load_preset("rio")
    line = replay(run, {"rio": rio}, load_preset("sirens"), stations_of(database.registry), past)
    zones = stations_of(database.registry).zone_ids
    expected: set[tuple[str, float, int]] = set()
    previous = [0] * len(zones)
    downs = 0
    for t, held in zip(line.times_s, line.held["rio"], strict=True):
        for z, level in enumerate(held):
            if level != previous[z]:
                expected.add((zones[z], t, level))
                downs += level < previous[z]
        previous = list(held)
    assert expected, "the scenario must raise at least one alert to compare"
    if name == "summer-cells":  # the cells pass: some zones step down within the 10 h
        assert downs > 0, sorted(expected)

    # What the database held before the run: the history, as stored rows (as encosta demo).
    await store_history(database.dsn, past)

    async with running_ingest(ingest_config(database)):
        async with asyncio.timeout(120):
            stats = await publish(
                run.messages,
                "127.0.0.1",
                database.stack.mqtt_port,
                None,
                passwords=database.broker.passwords,
            )
        assert stats.acked == len(run.messages)
        await database.wait_for_count(
            "SELECT count(*) FROM readings", len(past) + run.manifest.total_expected_stored
        )
    await database.fetchval("SELECT encosta_refresh_rollup()")
    config = EvaluatorConfig(dsn=database.dsn_for("alerts"), network=database.network)
    async with Evaluator(config) as evaluator:
        for t in line.times_s:
            await evaluator.evaluate_once(datetime.fromtimestamp(t, UTC) - EPSILON)
    rows = await database.fetch(
        "SELECT a.zone_id, e.at, e.to_level FROM alert_events e JOIN alerts a ON a.id = e.alert_id"
        " WHERE a.kind = 'risk' AND e.from_level IS DISTINCT FROM e.to_level"
    )
    live = {(r["zone_id"], (r["at"] + EPSILON).timestamp(), int(r["to_level"])) for r in rows}
    assert live == expected, (sorted(live - expected), sorted(expected - live))
