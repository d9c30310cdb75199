"""The spin-up history: what a network with history held before a scenario's start."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pytest

from simulators import ScenarioError, generate, load_scenario
from simulators.scenario import parse_scenario
from simulators.soil import SoilColumns, initial_probe_vwc
from simulators.spinup import BUCKET_S, RAIN, History, first_reports, history
from tests.simulators.conftest import shortened
from tests.simulators.test_scenario import MINIMAL

if TYPE_CHECKING:
    from pathlib import Path

    from registry.format import Registry

H = 3600.0


def _rain(h: History) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Station index, time and value of the history's rain rows."""
    rain = h.quantity == h.quantities.index(RAIN)
    return h.station[rain], h.ts_s[rain], h.value[rain]


def test_a_dry_spin_up_fills_the_96_h_window_before_the_start(rio: Registry) -> None:
    """No documented record: 96 h of dry 15-minute rows per gauge, all before the start."""
    scenario = shortened(load_scenario("rio-2010-04"), 2.0)
    run = generate(scenario, rio, seed=3, anchor=scenario.start.timestamp(), faults=False)
    h = history(run, rio)
    station, ts, value = _rain(h)
    active = [s for s in rio.stations if s.status == "active"]
    assert h.end_ts == run.start_ts
    assert h.start_ts == run.start_ts - 96 * H
    due = first_reports(run, h.station_ids)
    assert np.all(ts < due[station])  # every row before that logger's first report ...
    assert np.all(ts >= due[station] - 96 * H)  # ... continuing its schedule backwards
    assert np.all(np.isin(np.round((due[station] - ts) / BUCKET_S, 9), np.arange(1, 385)))
    assert np.bincount(station, minlength=len(active)).tolist() == [384] * len(active)
    assert not value.any()  # dry: nothing documented, nothing invented


def test_the_documented_record_falls_as_daily_afternoon_showers(rio: Registry) -> None:
    """Petrópolis: 271.6 mm over the 30 days before, in daily afternoon showers.

    Every gauge, in tips of 0.2 mm, each day's total between 15:00 and 18:00 local time; the
    newest shower ended 18 h before the start.
    """
    scenario = shortened(load_scenario("petropolis-2022-02"), 1.0)
    run = generate(scenario, rio, seed=1, anchor=scenario.start.timestamp(), faults=False)
    h = history(run, rio)
    station, ts, value = _rain(h)
    assert h.start_ts <= run.start_ts - 30 * 24 * H + 6 * H  # the oldest shower is in it
    totals = np.bincount(station, weights=value)
    assert np.all(totals <= 271.6 + 1e-6)
    assert np.all(totals > 271.6 - 0.2)  # only the last part tip is not counted
    wet = ts[value > 0]
    local_h = ((wet - 3 * H) % (24 * H)) / H  # UTC-03:00
    # Rows are stamped at the logger's report, up to one bucket (and a minute) after the rain.
    assert local_h.min() >= 15.0
    assert local_h.max() < 18.0 + 16 / 60
    assert run.start_ts - wet.max() > 17.5 * H
    assert np.allclose(np.round(value / 0.2, 6) % 1.0, 0.0)


def test_probes_read_the_scenarios_starting_state_with_probe_noise(rio: Registry) -> None:
    """Every probe row scatters around the state the soil model starts from."""
    scenario = shortened(load_scenario("petropolis-2022-02"), 1.0)
    run = generate(scenario, rio, seed=2, anchor=scenario.start.timestamp(), faults=False)
    h = history(run, rio)
    active = [s for s in rio.stations if s.status == "active"]
    k = 0
    station = active[k]
    columns = SoilColumns(
        depths_m=station.sensor_depths_m,
        soil_depth_m=np.array([station.soil_depth_m]),
        vwc_residual=np.array([station.vwc_residual]),
        vwc_saturated=np.array([station.vwc_saturated]),
        lon=np.array([station.lon]),
    )
    expected = initial_probe_vwc(columns, scenario.soil)[0]
    for p, depth in enumerate(station.sensor_depths_m):
        q = h.quantities.index(f"vwc_d{round(depth * 100)}")
        values = h.value[(h.station == k) & (h.quantity == q)]
        assert values.size > 0
        assert abs(values.mean() - expected[p]) < 0.002
        assert 0.002 < values.std() < 0.006  # probe_noise 0.004: not a flat (stuck) line


def test_history_is_deterministic_and_leaves_the_run_alone(rio: Registry) -> None:
    """Same seed, same history; the run's messages are what they were without one."""
    scenario = shortened(load_scenario("summer-cells"), 3.0)
    run = generate(scenario, rio, seed=5, anchor=scenario.start.timestamp())
    first, second = history(run, rio), history(run, rio)
    assert np.array_equal(first.value, second.value)
    assert np.array_equal(first.ts_s, second.ts_s)
    again = generate(scenario, rio, seed=5, anchor=scenario.start.timestamp())
    assert again.messages == run.messages
    # The scenario's 2 % dropout leaves gaps in the history as in a live one.
    _, ts, _ = _rain(first)
    assert 0.005 < 1.0 - ts.size / (40 * 384) < 0.05


def test_spin_up_can_be_turned_off_and_must_cover_the_window(tmp_path: Path) -> None:
    """``[spinup] hours = 0`` gives no history; 0 < hours < 96 is refused, naming the field."""
    scenario = parse_scenario(tomllib.loads(MINIMAL + "[spinup]\nhours = 0\n"), tmp_path / "x.toml")
    assert scenario.spinup.hours == 0
    with pytest.raises(ScenarioError, match=r"spinup\.hours"):
        parse_scenario(tomllib.loads(MINIMAL + "[spinup]\nhours = 48\n"), tmp_path / "x.toml")


def test_no_spin_up_gives_an_empty_history(rio: Registry) -> None:
    """With the spin-up off, nothing is stored before the start."""
    base = shortened(load_scenario("summer-cells"), 1.0)
    scenario = replace(base, spinup=replace(base.spinup, hours=0.0))
    run = generate(scenario, rio, seed=1, anchor=scenario.start.timestamp(), faults=False)
    assert len(history(run, rio)) == 0
