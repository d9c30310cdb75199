"""The offline backtest: scoring on hand-made episodes, no look-ahead, and a short run."""

from __future__ import annotations

import argparse
import json
import logging
import math
import pickle
import re
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np
import pytest
import structlog

from encosta.backtest.command import (
    REGISTRY,
    add_parser,
    parse_seeds,
    presets_of,
    run_backtest,
    seeds_text,
    summary,
)
from encosta.backtest.replay import (
    DailyRain,
    Prebucketed,
    Readings,
    grid_at,
    replay,
    stations_of,
    store,
)
from encosta.backtest.report import write_report
from encosta.backtest.scores import Episode, Outcome, Table, episodes, score_zone, zone_days
from encosta.cli import main
from models import load_preset
from registry.errors import RegistryError
from registry.format import load_registry
from simulators import ScenarioError, generate, load_scenario
from simulators.scenario import resolve
from simulators.spinup import history
from tests.networks import scenario_on_zones

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

H = 3600.0


def test_episodes_are_maximal_runs_at_or_above_the_warning_level() -> None:
    """Two runs of held level >= 2 make two episodes with their opening criterion and peak."""
    times = [k * 900.0 for k in range(8)]
    levels = [0, 2, 3, 1, 0, 2, 2, 2]
    why = ["-", "rain_1h", "slope", "-", "-", "rain_24h", "x", "x"]
    found = episodes("z", times, levels, why)
    assert found == [
        Episode("z", 900.0, 2700.0, 3, "rain_1h"),
        Episode("z", 4500.0, None, 2, "rain_24h"),
    ]


def test_lead_time_is_from_the_episode_open_at_the_failure() -> None:
    """An early false episode that closed gives no lead: lead counts from the open one."""
    found = [Episode("z", 0.0, 2 * H, 2, "rain_1h"), Episode("z", 10 * H, None, 3, "slope")]
    score = score_zone("z", found, [13 * H, 20 * H])
    assert score.outcome is Outcome.HIT
    assert score.lead_h == 3.0
    assert score.criterion == "slope"
    assert score.false_episodes == 1


def test_a_failure_after_the_episode_closed_is_a_miss() -> None:
    """An episode that ended before the failure does not detect it (end is exclusive)."""
    score = score_zone("z", [Episode("z", 0.0, 5 * H, 2, "rain_1h")], [5 * H])
    assert score.outcome is Outcome.MISS
    assert score.lead_h is None


def test_alert_without_failure_is_a_false_alarm_and_silence_is_quiet() -> None:
    """A zone with an episode and no failure is a false alarm; with neither it is quiet."""
    assert score_zone("z", [Episode("z", 0.0, H, 2, "r")], []).outcome is Outcome.FALSE_ALARM
    assert score_zone("z", [], []).outcome is Outcome.QUIET


def test_zone_days_and_scores_have_exact_values() -> None:
    """Three days: hit on day 0, false alarm on day 1, quiet on day 2; POD 1, FAR 0.5."""
    found = [Episode("z", 2 * H, 30 * H, 2, "r")]
    days = zone_days(found, [3 * H], 0.0, 72 * H)
    assert days == [Outcome.HIT, Outcome.FALSE_ALARM, Outcome.QUIET]
    table = Table.of([*days, Outcome.MISS])
    assert (table.hits, table.misses, table.false_alarms, table.quiet) == (1, 1, 1, 1)
    assert table.pod == 0.5
    assert table.far == 0.5
    assert math.isclose(table.csi, 1 / 3)
    assert math.isnan(Table().pod)


def test_the_grid_sees_only_readings_before_t_that_had_arrived() -> None:
    """No look-ahead: device time >= t, or arrival after t, stays out of the window at t."""
    t = 100 * 900.0
    ts = np.array([t - 600.0, t - 300.0, t, t - 60.0])
    readings = Readings(
        station=np.zeros(4, dtype=np.int64),
        pref=np.full(4, -1, dtype=np.int64),
        ts_s=ts,
        value=np.array([1.0, 2.0, 4.0, 8.0]),
        arrival_s=np.array([t - 500.0, t - 200.0, t, t + 1.0]),
        rejected=0,
        duplicates=0,
    )
    rain, _ = grid_at(readings, 1, t)
    assert rain[0, -1] == 3.0  # 1 + 2: the reading at t and the late arrival are unseen
    assert np.isnan(rain[0, -2])


def test_a_short_backtest_writes_the_report_with_scores(tmp_path: Path) -> None:
    """One seed of Petrópolis 2022: report files exist and the JSON holds POD, FAR and CSI."""
    presets = presets_of(["rio"], "1.25")
    backtest = run_backtest(["petropolis-2022-02"], 1, presets)
    data = summary(backtest, "test")
    write_report(backtest, data, tmp_path)
    for name in ("summary.json", "report.md", "sweep.png", "zones-petropolis-2022-02.png"):
        assert (tmp_path / name).stat().st_size > 0
    stored = json.loads((tmp_path / "summary.json").read_text())
    scores = stored["families"]["petropolis-2022-02"]
    assert set(scores) == {"rio", "riox1.25", "rio+reports", "siren"}
    zones = scores["siren"]["zones"]
    assert zones["hits"] + zones["misses"] + zones["false_alarms"] + zones["quiet"] == 8
    assert zones["hits"] + zones["misses"] > 0  # Petrópolis fails slopes at seed 1
    assert {"pod", "far", "csi"} <= set(zones)


def test_a_storm_and_a_preset_from_outside_the_repository_are_scored(tmp_path: Path) -> None:
    """An engineer's own scenario file and tuned preset file, given by path, are backtested.

    Every zone of every method is scored under the scenario as it was given, the preset is
    named by its file, and the zone plot gets a file name of its own in the report directory.
    """
    shipped = resolve("design-100y-6h").read_text(encoding="utf-8")
    storm = tmp_path / "storms" / "my-storm.toml"
    storm.parent.mkdir()
    storm.write_text(shipped.replace("duration_h = 36", "duration_h = 12"), encoding="utf-8")
    tuned = tmp_path / "tuned.toml"
    rio = resources.files("models.config").joinpath("rio.toml").read_text(encoding="utf-8")
    tuned.write_text(rio.replace("rain_1h_mm = [10.0, 30.0", "rain_1h_mm = [10.0, 35.0"))
    backtest = run_backtest([str(storm)], 1, presets_of([str(tuned), "rio"], ""))
    data = summary(backtest, "test")
    scores = data["families"][str(storm)]
    assert set(scores) == {"tuned", "rio", "tuned+reports", "siren"}
    for method in scores.values():
        zones = method["zones"]
        assert zones["hits"] + zones["misses"] + zones["false_alarms"] + zones["quiet"] == 8
    assert scores["siren"]["zones"]["hits"] + scores["siren"]["zones"]["misses"] > 0
    out = tmp_path / "report"
    write_report(backtest, data, out)
    assert (out / "zones-my-storm.png").stat().st_size > 0
    assert sorted(p.name for p in out.iterdir()) == [
        "report.md", "summary.json", "sweep.png", "zones-my-storm.png"
    ]  # fmt: skip


def test_a_storm_is_scored_on_the_registry_it_names(tmp_path: Path) -> None:
    """``[scenario] registry``, relative to the scenario file, is the network backtested.

    Without ``--registry`` each scenario runs over its own registry, as ``encosta simulate``
    does; here two zones of the Rio network, so every method scores two zones per run.
    """
    storm = scenario_on_zones(tmp_path, "summer-cells", ("rocinha", "vidigal"))
    assert load_scenario(str(storm)).registry == tmp_path / "cut-registry.toml"
    backtest = run_backtest([str(storm)], 1, presets_of(["rio"], ""))
    scored = [s for s in backtest.scored if s.scenario == str(storm)]
    assert {s.method for s in scored} == {"rio", "rio+reports", "siren"}
    assert all(sorted(z.zone for z in s.zones) == ["rocinha", "vidigal"] for s in scored)
    whole = run_backtest([str(storm)], 1, presets_of(["rio"], ""), str(REGISTRY))
    assert all(len(s.zones) == 8 for s in whole.scored)  # --registry overrides it


@pytest.fixture
def cli_logging() -> Iterator[None]:
    """``encosta.cli.main`` configures the root logger (to this test's captured stderr): undo it."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    structlog_config = structlog.get_config()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**structlog_config)


@pytest.mark.usefixtures("cli_logging")
@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--scenario", "no-such-storm.toml"], r"no-such-storm\.toml: cannot read"),
        (["--scenario", "atlantis-2030"], r"no scenario named 'atlantis-2030'"),
        (["--preset", "lisbon"], r"unknown preset 'lisbon'"),
        (["--preset", "no-such-preset.toml"], r"no-such-preset\.toml"),
    ],
)
def test_a_wrong_storm_or_preset_is_one_line_before_any_work(
    args: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A scenario or preset that cannot be read is refused in one line, naming it, exit 2."""
    code = main(["backtest", "--seeds", "1", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("encosta: error: ")
    assert re.search(words, err)
    assert len(err.strip().splitlines()) == 1


@pytest.mark.usefixtures("cli_logging")
def test_a_report_directory_that_cannot_be_written_is_refused_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--report`` under a regular file: one line naming it, before any run (exit 2)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    code = main(["backtest", "--seeds", "1", "--report", str(blocker / "report")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"encosta: error: --report {blocker / 'report'}: cannot write there")
    assert len(err.strip().splitlines()) == 1
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    for bad in ("0", "-1", "two"):
        with pytest.raises(SystemExit):
            parser.parse_args(["backtest", "--jobs", bad])


def test_worker_processes_give_the_same_scores_as_one_process() -> None:
    """Two seeds in two worker processes score exactly as the same seeds inline."""
    presets = presets_of(["rio"], "")
    inline = run_backtest(["petropolis-2022-02"], 2, presets, jobs=1)
    pooled = run_backtest(["petropolis-2022-02"], 2, presets, jobs=2)
    assert [s.zones for s in pooled.scored] == [s.zones for s in inline.scored]
    assert [s.episodes for s in pooled.scored] == [s.episodes for s in inline.scored]
    assert len(pooled.scored) == 2 * 3  # seeds x (rio, rio+reports, siren)


def test_a_replay_with_its_spin_up_steps_down_within_its_first_96_h() -> None:
    """Summer cells (24 h, faults on) with the spin-up: alerts step down within the run.

    The window is full from the start, so alerts raised by the cells step down once the rain
    has gone (issue 9: without history the steps before the run were material unknown and held
    every alert to the end of the run).
    """
    registry = load_registry(REGISTRY)
    stations = stations_of(registry)
    scenario = load_scenario("summer-cells")
    run = generate(scenario, registry, seed=1, anchor=scenario.start.timestamp())
    line = replay(run, {"rio": load_preset("rio")}, load_preset("sirens"), stations,
                  history(run, registry))  # fmt: skip
    held = np.asarray(line.held["rio"])
    assert held.max() >= 2  # the cells raised alerts
    assert (np.diff(held, axis=0) < 0).any()  # and some stepped down within the 24 h
    first = np.asarray(line.unknown["rio"])[0]
    assert not first.any()  # the first evaluation already has a full, known window


def test_the_antecedent_record_reaches_the_replay_through_the_spin_up() -> None:
    """Petrópolis: the 30-day record (271.6 mm) reaches the first evaluation's API.

    It is built from the stored days as the live evaluator builds it
    (``alerts.antecedent.record``).
    """
    registry = load_registry(REGISTRY)
    stations = stations_of(registry)
    scenario = load_scenario("petropolis-2022-02")
    run = generate(scenario, registry, seed=1, anchor=scenario.start.timestamp())
    readings = store(run, stations, history(run, registry))
    t = (run.start_ts // 900 + 1) * 900
    rain, _ = grid_at(readings, len(stations.ids), t)
    days = DailyRain.of(readings, len(stations.ids)).record(rain, t - 96 * H)
    window = np.nansum(rain, axis=1)
    # Everything before the window is in the record, nothing twice: record + window = all
    # rain stored before t (the oldest shower, 30 days before the start, is inside both).
    before = (readings.pref == -1) & (readings.ts_s < t)
    stored = np.bincount(readings.station[before], readings.value[before], len(stations.ids))
    assert np.allclose(days.sum(axis=1) + window, stored)
    # 271.6 mm documented, less the tips of the rows the scenario's 1 % dropout lost.
    assert np.all((stored > 0.8 * 271.6) & (stored <= 271.6 + 1e-9))
    assert days[:, -1].min() > 0  # the record runs up to the window's start


def test_the_prebucketed_history_gives_the_grid_of_bucketing_everything() -> None:
    """Bucketing the history once gives, at every window, the grid of bucketing all rows."""
    registry = load_registry(REGISTRY)
    stations = stations_of(registry)
    scenario = load_scenario("rio-2010-04")  # clock skew and resets: rows in the history's time
    run = generate(scenario, registry, seed=2, anchor=scenario.start.timestamp())
    readings = store(run, stations, history(run, registry))
    first = (run.start_ts // 900 + 1) * 900
    base = Prebucketed.of(readings, first - 96 * H)
    n = len(stations.ids)
    for t in (first, first + 900, first + 20 * H, run.end_ts):
        whole = grid_at(readings, n, t)
        fast = grid_at(base.loose, n, t, base)
        for a, b in zip(whole, fast, strict=True):
            assert np.array_equal(a, b, equal_nan=True)


def test_seeds_take_a_count_a_range_or_a_list() -> None:
    """``--seeds 10`` stays 1..10; ``11-20`` and ``3,7,9`` choose held-out seeds; bad ones fail."""
    assert parse_seeds("10") == tuple(range(1, 11))
    assert parse_seeds("11-20") == tuple(range(11, 21))
    assert parse_seeds("3,7,9") == (3, 7, 9)
    assert parse_seeds("1-3, 7, 2") == (1, 2, 3, 7)  # each seed once, in the order given
    for bad in ("0", "5-3", "a", "3,,4", "-2", "0-4"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_seeds(bad)
    texts = ["10", "11-20", "3,7,9"]
    assert [seeds_text(parse_seeds(t)) for t in texts] == texts


def test_the_cli_reads_seeds_other_than_one_to_n() -> None:
    """The parser gives run_backtest the chosen seeds; the default is still 1..10."""
    parser = argparse.ArgumentParser()
    add_parser(parser.add_subparsers())
    assert parser.parse_args(["backtest"]).seeds == tuple(range(1, 11))
    assert parser.parse_args(["backtest", "--seeds", "11-20"]).seeds == tuple(range(11, 21))
    with pytest.raises(SystemExit):
        parser.parse_args(["backtest", "--seeds", "x"])
    assert parser.parse_args(["backtest", "--sweep", ""]).sweep == ""
    assert parser.parse_args(["backtest", "--sweep", "0.5, 2"]).sweep == "0.5, 2"
    for bad in ("0.8,x", "0", "-1", "nan", "inf"):
        with pytest.raises(SystemExit):
            parser.parse_args(["backtest", "--sweep", bad])


def test_a_scenario_asked_for_twice_runs_once() -> None:
    """``--scenario X --scenario X`` scores X's zones once, not twice."""
    backtest = run_backtest(["summer-cells", "summer-cells"], (1,), presets_of(["rio"], ""))
    assert backtest.scenarios == ["summer-cells"]
    assert len([s for s in backtest.scored if s.method == "rio"]) == 1


def test_a_backtest_runs_the_chosen_seeds_and_keeps_the_first_for_plots() -> None:
    """Seeds 3 and 2 (not 1..N): scored in that order, seed 3's run kept, listed in the summary."""
    presets = presets_of(["rio"], "")
    backtest = run_backtest(["summer-cells"], (3, 2), presets)
    assert [s.seed for s in backtest.scored if s.method == "rio"] == [3, 2]
    assert backtest.examples["summer-cells"][0].seed == 3
    data = summary(backtest, "test")
    assert (data["seeds"], data["seed_values"]) == (2, [3, 2])


def test_a_workers_error_reaches_the_caller_as_itself(tmp_path: Path) -> None:
    """A worker's error is raised as itself, not as a broken process pool.

    A scenario that fails only once simulated (a fault aimed at no station) raises its own
    error from the worker processes; a missing registry fails up front.
    """
    storm = tmp_path / "faulty.toml"
    storm.write_text(
        resolve("summer-cells").read_text(encoding="utf-8")
        + '\n[[faults.events]]\nkind = "stuck"\ntarget = "nowhere-01"\n'
        + "start_h = 1\nduration_h = 1\n",
        encoding="utf-8",
    )
    error = ScenarioError("x", path="p", field="f")
    assert pickle.loads(pickle.dumps(error)).field == "f"
    with pytest.raises(ScenarioError, match=r"faults\.events\[0\]\.target.*nowhere-01"):
        run_backtest([str(storm)], 2, presets_of(["rio"], ""), jobs=2)
    named = tmp_path / "names-a-missing-registry.toml"
    named.write_text(
        resolve("summer-cells")
        .read_text(encoding="utf-8")
        .replace("[scenario]\n", '[scenario]\nregistry = "gone.toml"\n', 1),
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match=r"names-a-missing-registry\.toml: scenario\.registry"):
        run_backtest([str(named)], 1, presets_of(["rio"], ""))
    with pytest.raises(RegistryError, match=r"nope\.toml"):
        run_backtest(
            ["summer-cells"], 2, presets_of(["rio"], ""), str(tmp_path / "nope.toml"), jobs=2
        )
