"""Rain, soil and failure physics of generated runs (pure: no services)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from registry.format import Registry
from simulators import generate, load_scenario
from simulators.rainfield import project
from simulators.scenario import Reporting, Soil
from simulators.soil import SoilColumns, simulate_soil
from simulators.storm import CellStorm, ReplayStorm
from tests.simulators.conftest import ANCHOR, shortened


def test_same_seed_gives_identical_runs(rio: Registry) -> None:
    """Two runs with one seed and anchor are identical byte for byte; another seed differs."""
    scenario = shortened(load_scenario("summer-cells"), 12)
    a = generate(scenario, rio, seed=7, anchor=ANCHOR)
    b = generate(scenario, rio, seed=7, anchor=ANCHOR)
    c = generate(scenario, rio, seed=8, anchor=ANCHOR)
    assert [(m.send_ts, m.topic, m.payload) for m in a.messages] == [
        (m.send_ts, m.topic, m.payload) for m in b.messages
    ]
    assert a.manifest == b.manifest
    assert a.truth == b.truth
    assert [m.payload for m in a.messages] != [m.payload for m in c.messages]


def _gauge_registry(rio: Registry, scenario_storm: ReplayStorm) -> Registry:
    template = rio.stations[0]
    stations = tuple(
        replace(template, id=f"gauge-{i:02d}", lat=g.lat, lon=g.lon)
        for i, g in enumerate(scenario_storm.hyetograph.gauges)
    )
    return Registry(rio.network, rio.zones, stations)


@pytest.mark.parametrize("name", ["rio-2010-04", "petropolis-2022-02"])
def test_replayed_totals_match_the_cited_figures(rio: Registry, name: str) -> None:
    """A station at a gauge receives, over each cited window, the amount its file cites."""
    scenario = load_scenario(name)
    storm = scenario.storms[0]
    assert isinstance(storm, ReplayStorm)
    storm = replace(storm, jitter=0.0, transpose_to=None, footprint_km=None)
    scenario = replace(scenario, storms=(storm,), reporting=Reporting(bucket_mm=0.0))
    registry = _gauge_registry(rio, storm)
    start = scenario.start.timestamp()
    run = generate(scenario, registry, seed=1, anchor=start, faults=False)
    edges = np.concatenate([[start], run.series.step_end_ts])
    checked = 0
    for i, gauge in enumerate(storm.hyetograph.gauges):
        cumulative = np.concatenate([[0.0], np.cumsum(run.series.rain_mm[i])])
        for check in gauge.checks:
            a, b = check.start.timestamp(), check.end.timestamp()
            got = np.interp(b, edges, cumulative) - np.interp(a, edges, cumulative)
            assert got == pytest.approx(check.mm, abs=check.tolerance_mm + 0.01), (
                gauge.name,
                check,
            )
            checked += 1
    assert checked >= 4


def test_sent_rain_adds_up_to_simulated_rain(rio: Registry) -> None:
    """Without faults, the rain_mm readings of each station sum to its simulated rain."""
    scenario = shortened(load_scenario("rio-2010-04"), 36)
    run = generate(scenario, rio, seed=3, anchor=ANCHOR, faults=False)
    sent: dict[str, float] = {}
    for message in run.messages:
        for record in _records(message.payload):
            sent[message.station] = sent.get(message.station, 0.0) + float(record["rain_mm"])
    for i, station in enumerate(run.series.station_ids):
        # Tips still in the bucket after the last report are at most one report's worth.
        assert sent[station] == pytest.approx(run.series.rain_mm[i].sum(), abs=30.0)
        assert sent[station] <= run.series.rain_mm[i].sum() + 1e-6


def _records(payload: bytes) -> list[dict[str, float]]:
    import json  # noqa: PLC0415

    document = json.loads(payload)
    if isinstance(document, dict):
        return list(document["records"])
    # SenML: fold entries back into records by time.
    records: dict[float, dict[str, float]] = {}
    base = document[0]["bt"]
    for entry in document:
        records.setdefault(base + entry.get("t", 0.0), {})[
            entry["n"] + "_mm" if entry["n"] == "rain" else entry["n"]
        ] = entry["v"]
    return list(records.values())


def test_rain_correlation_falls_with_distance(rio: Registry) -> None:
    """Nearby stations' rain series correlate more than distant stations' do."""
    scenario = replace(load_scenario("summer-cells"), duration_h=72)
    cell_storm = scenario.storms[0]
    assert isinstance(cell_storm, CellStorm)
    storm = replace(cell_storm, duration_h=60.0, cells_per_h=3.0)
    run = generate(replace(scenario, storms=(storm,)), rio, seed=11, anchor=ANCHOR, faults=False)
    lat = np.array([s.lat for s in rio.stations])
    lon = np.array([s.lon for s in rio.stations])
    xy = project(lat, lon, (float(lat.mean()), float(lon.mean())))
    distance = np.linalg.norm(xy[:, None] - xy[None, :], axis=2)
    corr = np.asarray(np.corrcoef(run.series.rain_mm), dtype=np.float64)
    upper = np.triu(np.ones_like(distance, dtype=bool), 1)
    near = corr[upper & (distance < 2.0)].mean()
    middle = corr[upper & (distance > 4.0) & (distance < 8.0)].mean()
    far = corr[upper & (distance > 12.0)].mean()
    assert near > middle + 0.05 > far + 0.1


def test_soil_wets_with_rain_and_drains_after() -> None:
    """Probes rise during a rain pulse, the water table builds, and both fall back after."""
    steps, step_s = 12 * 72, 300.0
    rain = np.zeros((1, steps))
    rain[0, 12:36] = 5.0  # 120 mm in 2 h
    columns = SoilColumns(
        (0.3, 0.6, 1.0), np.array([2.0]), np.array([0.08]), np.array([0.46]), np.array([-43.2])
    )
    state = simulate_soil(columns, rain, Soil(antecedent_wetness=0.3), ANCHOR, step_s)
    top = state.probe_vwc[0, 0]
    deep = state.probe_vwc[0, 2]
    assert top[35] > top[11] + 0.05
    assert deep.max() > deep[11] + 0.01
    after = top[48:]
    assert np.all(np.diff(after) <= 1e-6)
    assert after[-1] < top[35] - 0.03
    table = state.water_table_m[0]
    assert table.max() > 0.1
    assert table[-1] < table.max()


def test_heavier_storm_fails_more_slopes(rio: Registry) -> None:
    """Scaling the replayed rain up fails at least as many slopes, each no later than before."""
    scenario = load_scenario("rio-2010-04")
    storm = scenario.storms[0]
    assert isinstance(storm, ReplayStorm)
    heavy = replace(scenario, storms=(replace(storm, scale=1.6),))
    base = generate(scenario, rio, seed=5, anchor=ANCHOR, faults=False).truth
    more = generate(heavy, rio, seed=5, anchor=ANCHOR, faults=False).truth
    failed = {s.station: s.failure_ts for s in base.stations if s.failed}
    failed_heavy = {s.station: s.failure_ts for s in more.stations if s.failed}
    assert len(failed_heavy) > len(failed)
    for station, when in failed.items():
        heavy_when = failed_heavy[station]
        assert when is not None
        assert heavy_when is not None
        assert heavy_when <= when
    assert all(s.threshold != 1.0 for s in base.stations)
    assert any(s.zone == "bumba" for s in more.stations if s.failed)


def test_the_soil_does_not_depend_on_the_scenarios_step() -> None:
    """The same rain at 300, 900 or 3600 s steps gives the same water table at shared times.

    The bucket model is explicit in time: integrated at the scenario's step, a 3600 s step put
    7 cm more water table under this storm than 300 s (and failed slopes a 300 s run kept).
    """
    columns = SoilColumns(
        (0.2, 0.4, 0.6), np.array([1.0]), np.array([0.08]), np.array([0.46]), np.array([-43.2])
    )

    def table(step_s: float) -> np.ndarray:
        hours = np.arange(int(24 * 3600 / step_s)) * step_s / 3600.0
        rate = np.where((hours >= 2.0) & (hours < 6.0), 20.0, 0.0)  # 80 mm in 4 h
        rain = (rate * step_s / 3600.0)[None, :]
        soil = Soil(antecedent_wetness=0.45)
        return np.asarray(simulate_soil(columns, rain, soil, ANCHOR, step_s).water_table_m[0])

    fine = table(300.0)
    assert fine.max() > 0.3  # the storm builds a water table worth comparing
    for step_s in (900.0, 3600.0):
        every = round(step_s / 300.0)
        coarse = table(step_s)
        np.testing.assert_allclose(coarse, fine[every - 1 :: every], atol=1e-4)
