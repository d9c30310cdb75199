"""A storm through the evaluator over simulated time: raised, escalated, de-escalated, cleared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from alerts.config import EvaluatorConfig
from alerts.evaluator import Evaluator

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = pytest.mark.services

T0 = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # the storm starts
STEP = timedelta(minutes=15)
SEVEN = timedelta(minutes=7)  # loggers report 7 minutes into each bucket


async def report(
    db: Database,
    zone: str,
    rain_by_step: dict[int, float],
    last_step: int,
    *,
    phase: timedelta = timedelta(0),
    until: datetime | None = None,
) -> None:
    """Every station of ``zone`` reports rain and soil moisture every 15 minutes.

    From 96 h before the storm to ``last_step`` steps after its start, ``phase`` into each
    bucket, and none after ``until`` (nothing from the future); rain as given, else dry.
    """
    await db.fetchval(
        "INSERT INTO readings (station_id, quantity, ts, value)"
        " SELECT s.id, q.quantity, $2::timestamptz + k * interval '15 minutes' + $5::interval,"
        "        CASE q.quantity WHEN 'rain_mm' THEN coalesce(($3::float8[])[k + 1], 0)"
        "        ELSE 0.2 + 0.002 * (k % 5) END"  # a live probe never flat-lines
        " FROM stations s, (VALUES ('rain_mm'), ('vwc_d60')) q (quantity),"
        "      generate_series(-384, $4) k"
        " WHERE s.zone_id = $1 AND ($6::timestamptz IS NULL"
        "      OR $2::timestamptz + k * interval '15 minutes' + $5::interval <= $6)"
        " ON CONFLICT DO NOTHING",
        zone,
        T0,
        [rain_by_step.get(k, 0.0) for k in range(max(rain_by_step, default=0) + 1)],
        last_step,
        phase,
        until,
    )
    # Written here, not through ingest: the evaluator's rollup is brought up to date by hand.
    await db.fetchval("SELECT encosta_refresh_rollup()")


async def test_storm_raises_escalates_and_clears_without_flapping(database: Database) -> None:
    """15 mm then 35 mm in two hours over Vidigal: raised, escalated, cleared, no flapping.

    The risk alert rises at once, steps down only after the hold time, clears once the 24 h
    sum has fallen, and never flaps.
    """
    storm = dict.fromkeys(range(4), 3.75) | dict.fromkeys(range(4, 8), 8.75)
    last = 30 * 4  # 30 hours of reports
    await report(database, "vidigal", storm, last)
    await report(database, "rocinha", {}, last)  # a dry neighbour stays quiet
    times = [T0 + k * STEP + timedelta(minutes=1) for k in range(12)]
    times += [T0 + timedelta(hours=h, minutes=1) for h in range(3, 31)]
    levels = []
    async with Evaluator(
        EvaluatorConfig(dsn=database.dsn_for("alerts"), network=database.network)
    ) as ev:
        for at in times:
            await ev.evaluate_once(at)
            levels.append(
                await database.fetchval(
                    "SELECT level FROM alerts WHERE zone_id = 'vidigal' AND kind = 'risk'"
                    " AND status = 'open'"
                )
            )
    events = await database.fetch(
        "SELECT e.seq, e.transition, e.from_level, e.to_level, e.at FROM alert_events e"
        " JOIN alerts a ON a.id = e.alert_id WHERE a.zone_id = 'vidigal' AND a.kind = 'risk'"
        " ORDER BY e.alert_id, e.seq"
    )
    kinds = [e["transition"] for e in events]
    trace = (levels, [(e["transition"], e["to_level"], e["at"]) for e in events])
    assert kinds[0] == "raised", trace
    assert "escalated" in kinds
    assert "de-escalated" in kinds
    assert kinds[-1] == "cleared"
    assert kinds.count("raised") == 1, f"the alert flapped: {kinds}"
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    peak = max(e["to_level"] for e in events)
    # 35 mm in the second hour is an alert (the 1 h table); the ID ratio (50 mm in 2 h, 2.2 x
    # Caine's curve) is a trigger on a dry slope (probe 0.2, API 50 mm): capped at attention by
    # the cause-trigger gate (docs/model.md), so no crisis. Before the gate the peak was 3.
    assert peak == 2
    # Up only while it rains, down only afterwards, never back up: no flapping.
    rising = [e for e in events if e["transition"] in {"raised", "escalated"}]
    falling = [e for e in events if e["transition"] in {"de-escalated", "cleared"}]
    assert max(e["at"] for e in rising) < T0 + timedelta(hours=2, minutes=5)
    assert min(e["at"] for e in falling) >= T0 + timedelta(hours=2) + timedelta(minutes=60)
    assert levels[-1] is None  # cleared: no open risk alert
    assert not await database.fetch(
        "SELECT 1 FROM alerts WHERE zone_id = 'rocinha' AND kind = 'risk'"
    )


async def test_an_evaluator_running_through_each_bucket_still_steps_down(
    database: Database,
) -> None:
    """Live, the newest bucket is still filling: early in it no station has reported yet.

    Readings arrive as they would (7 minutes into each bucket, nothing from the future) and the
    evaluator runs early and late in every bucket, as a running one does. The empty start of
    each bucket is data not yet due, not a gap: the alert still steps down and clears (it
    used to restart its hold at every bucket and stay up for good).
    """
    storm = dict.fromkeys(range(4), 3.75) | dict.fromkeys(range(4, 8), 8.75)
    levels = []
    async with Evaluator(
        EvaluatorConfig(dsn=database.dsn_for("alerts"), network=database.network)
    ) as ev:
        for k in range(30 * 4):
            for minute in (1, 10):
                at = T0 + k * STEP + timedelta(minutes=minute)
                await report(database, "vidigal", storm, 400, phase=SEVEN, until=at)
                await ev.evaluate_once(at)
            levels.append(
                await database.fetchval(
                    "SELECT level FROM alerts WHERE zone_id = 'vidigal' AND kind = 'risk'"
                    " AND status = 'open'"
                )
            )
    kinds = [
        r["transition"]
        for r in await database.fetch(
            "SELECT e.transition FROM alert_events e JOIN alerts a ON a.id = e.alert_id"
            " WHERE a.zone_id = 'vidigal' AND a.kind = 'risk' ORDER BY e.alert_id, e.seq"
        )
    ]
    assert kinds[0] == "raised", (kinds, levels)
    assert "de-escalated" in kinds, (kinds, levels)
    assert kinds[-1] == "cleared", (kinds, levels)
    assert kinds.count("raised") == 1, kinds
