"""``encosta demo`` end to end on a short scenario: every reading and webhook accounted for."""

from __future__ import annotations

import argparse
import asyncio
import json
import uuid
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

from alerts.store import Proposal
from encosta import demo, stack
from encosta.backtest.command import family, presets_of, run_backtest
from tests.networks import scenario_on_zones

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.services, pytest.mark.slow]


@pytest.mark.parametrize("registry", ["rio", "two zones named by the scenario"])
async def test_demo_replays_scores_and_delivers(
    stack_config: stack.StackConfig,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    registry: str,
) -> None:
    """A replay is stored exactly, rejects match the prediction, every webhook verifies.

    The report's summary.json says so, the warnings are scored with the backtest's honest
    scoring (an outcome per zone, POD/FAR/CSI), and the plots and map are written. The
    network is the one the scenario names (two zones of it in the second case).
    """
    name = f"encosta_demo_t{uuid.uuid4().hex[:8]}"
    report = tmp_path / "report"
    two = ("rocinha", "vidigal")
    scenario = (
        "summer-cells"
        if registry == "rio"
        else str(scenario_on_zones(tmp_path, "summer-cells", two))
    )
    args = argparse.Namespace(
        scenario=scenario, seed=3, speed=None, database=name, report=str(report)
    )
    try:
        code = await demo._demo(args)
    finally:
        pg = stack.Postgres(stack_config)
        await asyncio.to_thread(
            pg.psql, "postgres", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        )
    out = capsys.readouterr().out
    assert code == 0, out
    data = json.loads((report / "summary.json").read_text(encoding="utf-8"))
    ingest = data["ingest"]
    assert ingest["stored"] == ingest["expected_stored"] > 0
    assert ingest["rejects"] == ingest["predicted_rejects"]
    hooks = data["webhooks"]
    assert hooks["received"] == hooks["verified"] > 0
    skill = data["skill"]
    zones = {z["name"] for z in data["zones"]}
    assert "Rocinha" in zones
    assert len(zones) == (8 if registry == "rio" else 2)
    assert len(skill["per_zone"]) == len(zones)
    table = skill["zones"]
    assert table["hits"] + table["misses"] + table["false_alarms"] + table["quiet"] == len(zones)
    assert {z["outcome"] for z in skill["per_zone"]} <= {"hit", "miss", "false_alarm", "quiet"}
    for z in skill["per_zone"]:  # lead only for hits, from the episode open at the failure
        assert (z["lead_h"] is not None) == (z["outcome"] == "hit")
    # The same run as encosta backtest scores (the scenario's own hours, its spin-up stored
    # first, each step evaluated on [t - 15 min, t)): the same scores and first attentions,
    # and alerts that step down as well as up.
    backtest = run_backtest([scenario], (3,), presets_of(["rio"], ""))
    scored = family(backtest, scenario, "rio")
    assert skill["zones"] == scored["zones"]
    assert skill["attention"]["zones"] == scored["attention"]["zones"]
    run, line = backtest.examples[scenario]
    ids = sorted(z["id"] for z in data["zones"])
    first = {}
    for zi, zone in enumerate(ids):
        times = [t for t, held in zip(line.times_s, line.held["rio"], strict=True) if held[zi] >= 1]
        first[zone] = None if not times else (times[0] - run.start_ts) / 3600.0
    assert {z["id"]: z["first_attention_h"] for z in data["zones"]} == first
    if registry == "rio":  # seed 3's cells pass over the whole network: alerts clear too
        assert "risk cleared" in out
    for file in ("report.md", "levels.png", "map.png"):
        assert (report / file).stat().st_size > 0
    assert "Rocinha" in (report / "report.md").read_text(encoding="utf-8")
    assert str(report / "report.md") in out.splitlines()[-1]
    assert "encosta status" in out.splitlines()[-1]
    if registry == "rio":
        assert "Babilônia e Chapéu Mangueira" in out  # zone names not cut


def test_held_levels_follow_the_transitions_and_remember_what_opened_an_episode() -> None:
    """The tracked timeline holds each zone's level between transitions, data alerts aside."""

    def proposal(kind: str, level: int, criterion: str) -> Proposal:
        criteria = [
            {"criterion": criterion, "level": level, "value": 1.0, "threshold": 1.0},
            {"criterion": "corroboration", "level": 3, "value": 3.0, "threshold": 2.0},
        ]
        return Proposal("a", "A", kind, level, unknown=False, evidence={"criteria": criteria})

    tracked = demo.Tracked(["a", "b"])
    tracked.step(
        900.0, [(proposal("risk", 2, "rain_24h"), SimpleNamespace(from_level=0, to_level=2))]
    )
    tracked.step(1800.0, [(proposal("data", 2, "-"), SimpleNamespace(from_level=0, to_level=2))])
    tracked.step(2700.0, [(proposal("risk", 0, "-"), SimpleNamespace(from_level=2, to_level=0))])
    assert tracked.held == [[2, 0], [2, 0], [0, 0]]
    assert tracked.criterion[0] == ["rain_24h", "-"]  # not corroboration: a zone rule
    assert tracked.timeline().held == {demo.METHOD: tracked.held}


def test_the_clock_holds_messages_until_they_are_due() -> None:
    """A message sent at t leaves only once simulated time has passed t: no look-ahead."""

    async def scenario() -> list[float]:
        clock = demo.Clock()
        left: list[float] = []

        async def send(ts: float) -> None:
            await clock.wait(ts)
            left.append(ts)

        tasks = [asyncio.create_task(send(ts)) for ts in (10.0, 20.0, 30.0)]
        await clock.advance(20.0)
        await asyncio.sleep(0.05)
        early = list(left)
        await clock.advance(30.5)
        await asyncio.gather(*tasks)
        return early

    assert asyncio.run(scenario()) == [10.0]
