"""Scenario and hyetograph files: shipped ones load, bad ones fail naming the field."""

from __future__ import annotations

import tomllib
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

import pytest

from registry.format import load_registry
from simulators import ScenarioError, SimulatorError, available, generate, load_scenario
from simulators.hyetograph import load_hyetograph
from simulators.scenario import SCENARIO_DIR, parse_scenario
from simulators.storm import ReplayStorm

if TYPE_CHECKING:
    from pathlib import Path

MINIMAL = """
[scenario]
title = "t"
start = 2026-01-01T00:00:00-03:00
duration_h = 6
"""


def test_every_shipped_scenario_loads() -> None:
    """All scenario files in simulators/scenarios validate."""
    names = available()
    expected = {
        "rio-2010-04",
        "rio-2019-04",
        "petropolis-2022-02",
        "design-100y-6h",
        "summer-cells",
    }
    assert expected <= set(names)
    for name in names:
        assert load_scenario(name).steps > 0


@pytest.mark.parametrize("name", ["rio-2019-04", "rio-2021-01"])
def test_the_documented_replays_load_with_their_cited_figures(name: str) -> None:
    """The 2019 and 2021 replays load, and their hyetographs cite every figure they check."""
    scenario = load_scenario(name)
    assert scenario.steps == 48 * 12
    (storm,) = scenario.storms
    assert isinstance(storm, ReplayStorm)
    assert storm.hyetograph.sources
    assert all(c.source for g in storm.hyetograph.gauges for c in g.checks)
    assert sum(len(g.checks) for g in storm.hyetograph.gauges) >= 10


def test_rio_2019_reproduces_the_published_figures() -> None:
    """Rocinha 343.4 mm in 12 h and Jardim Botânico 155.4 mm in 4 h, as STORMS.md gives them."""
    storm = load_scenario("rio-2019-04").storms[0]
    assert isinstance(storm, ReplayStorm)
    gauges = {g.name: g for g in storm.hyetograph.gauges}
    night = datetime(2019, 4, 8, 18, tzinfo=timezone(timedelta(hours=-3))).timestamp()
    assert gauges["Rocinha"].amount(night, night + 12 * 3600) == pytest.approx(343.4, abs=1.0)
    assert gauges["Jardim Botânico"].amount(night - 5400, night + 9000) == pytest.approx(155.4)
    assert {"Barra/Barrinha", "Copacabana", "Vidigal", "Alto da Boa Vista"} <= set(gauges)


def test_the_babilonia_landslide_of_2019_can_happen_in_the_replay() -> None:
    """The zone that failed in reality (Morro da Babilônia) fails in the simulated truth."""
    scenario = load_scenario("rio-2019-04")
    registry = load_registry(scenario.registry)
    failed = [
        {s.zone for s in generate(scenario, registry, seed=seed).truth.stations if s.failed}
        for seed in (1, 2)
    ]
    assert all("babilonia" in zones for zones in failed)


def test_the_no_landslide_storm_fails_no_slope_over_the_backtest_seeds() -> None:
    """Rio 2-3 January 2021: heavy rain, sirens, no landslide on record; no slope fails.

    Seeds 1..10 are the backtest's default: its false alarms are measured on this truth.
    """
    scenario = load_scenario("rio-2021-01")
    registry = load_registry(scenario.registry)
    for seed in range(1, 11):
        run = generate(scenario, registry, seed=seed)
        assert not [s.station for s in run.truth.stations if s.failed], seed
        assert max(s.rain_total_mm for s in run.truth.stations) > 100.0  # heavy rain fell


def test_out_of_range_field_is_named_with_its_range(tmp_path: Path) -> None:
    """A value outside its range fails with the field path and the allowed interval."""
    text = MINIMAL + "[soil]\nks_mm_h = 9000\n"
    with pytest.raises(ScenarioError, match=r"soil\.ks_mm_h.*\[0\.1, 500\]") as caught:
        parse_scenario(tomllib.loads(text), tmp_path / "x.toml")
    assert caught.value.field == "soil.ks_mm_h"


def test_unknown_field_is_rejected(tmp_path: Path) -> None:
    """A typo in a field name is an error, not a silently ignored setting."""
    text = MINIMAL + "[faults]\ndropuot = 0.1\n"
    with pytest.raises(ScenarioError, match=r"faults\.dropuot.*unknown field"):
        parse_scenario(tomllib.loads(text), tmp_path / "x.toml")


def test_storm_kind_must_be_known(tmp_path: Path) -> None:
    """An unknown storm kind lists the allowed kinds."""
    text = MINIMAL + '[[storms]]\nkind = "hail"\n'
    with pytest.raises(ScenarioError, match=r"storms\[0\]\.kind.*replay, design, cells"):
        parse_scenario(tomllib.loads(text), tmp_path / "x.toml")


def test_hyetograph_contradicting_its_source_fails(tmp_path: Path) -> None:
    """A mass curve that does not reproduce a cited figure cannot be loaded."""
    source = (SCENARIO_DIR / "hyetographs" / "petropolis-2022-02.toml").read_text()
    broken = tmp_path / "h.toml"
    broken.write_text(source.replace("mm = 125.8", "mm = 100.0"))
    with pytest.raises(ScenarioError, match=r"gauges\[0\]\.checks\[1\].*125\.8|100\.0"):
        load_hyetograph(broken)


def test_the_documented_antecedent_record_becomes_daily_totals() -> None:
    """Petrópolis carries its 271.6 mm of the 30 days before, as 30 equal daily totals."""
    antecedent = load_scenario("petropolis-2022-02").antecedent
    daily = antecedent.daily_mm()
    assert len(daily) == 30
    assert sum(daily) == pytest.approx(271.6)
    assert "STORMS.md" in antecedent.source
    assert load_scenario("summer-cells").antecedent.daily_mm() == ()


def test_an_antecedent_figure_needs_its_source(tmp_path: Path) -> None:
    """rain_mm without a source is refused: figures in scenarios are cited."""
    text = MINIMAL + "[antecedent]\nrain_mm = 100\n"
    with pytest.raises(ScenarioError, match=r"antecedent\.source") as caught:
        parse_scenario(tomllib.loads(text), tmp_path / "x.toml")
    assert caught.value.field == "antecedent.source"


@pytest.mark.parametrize(
    ("table", "field", "words"),
    [
        ("[soil]\nks_mm_hr = 45\n", "soil.ks_mm_hr", "unknown field"),
        ('[soil]\nks_mm_h = "fast"\n', "soil.ks_mm_h", "Expected `float`, got `str`"),
        ("[failure]\ncohesion_cv = 1.5\n", "failure.cohesion_cv", "[0, 1]"),
        ("[reporting]\nlatency_s = 61\n", "reporting.latency_s", "[0, 60]"),
        ('[[storms]]\nkind = "cells"\nstart_h = 7\n', "storms[0].duration_h", "required"),
        ("[faults]\nspike = 0.6\n", "faults.spike", "[0, 0.5]"),
        ("[faults]\noutage_overlap = 1.5\n", "faults.outage_overlap", "Expected `int`"),
        (
            '[[faults.events]]\nkind = "outage"\ntarget = "x"\nstart_h = 1\nwhen = 2\n',
            "faults.events[0].when",
            "unknown field",
        ),
        (
            '[[faults.events]]\nkind = "outage"\ntarget = "x"\nstart_h = "1h"\n',
            "faults.events[0].start_h",
            "Expected `float`",
        ),
        (
            '[[faults.events]]\nkind = "outage"\ntarget = "x"\nstart_h = 7\n',
            "faults.events[0].start_h",
            "[0, 6]",
        ),
        (
            '[[faults.events]]\nkind = "hail"\ntarget = "x"\nstart_h = 1\n',
            "faults.events[0].kind",
            "outage",
        ),
    ],
)
def test_a_bad_scenario_file_names_the_file_and_the_key(
    tmp_path: Path, table: str, field: str, words: str
) -> None:
    """Unknown keys, wrong types and values out of range fail naming the file and the key."""
    path = tmp_path / "bad-scenario.toml"
    path.write_text(MINIMAL + table, encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(str(path))
    assert caught.value.field == field
    assert caught.value.path == str(path)
    assert str(path) in str(caught.value)
    assert field in str(caught.value)
    assert words in str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        (
            "mm = 259.0",
            "mm = 259.0\ntolerence_mm = 2",
            "gauges[2].checks[2].tolerence_mm",
            "unknown",
        ),
        ("lat = ", 'lat = "south" #', "gauges[0].lat", "Expected `float`"),
        ("lat = ", "lat = -91 #", "gauges[0].lat", "[-90, 90]"),
    ],
)
def test_a_bad_hyetograph_names_the_file_and_the_key(
    tmp_path: Path, old: str, new: str, field: str, words: str
) -> None:
    """The storm files referenced by scenarios are checked the same way."""
    source = (SCENARIO_DIR / "hyetographs" / "petropolis-2022-02.toml").read_text()
    assert old in source
    broken = tmp_path / "h.toml"
    broken.write_text(source.replace(old, new, 1))
    with pytest.raises(ScenarioError) as caught:
        load_hyetograph(broken)
    assert caught.value.field == field
    assert str(broken) in str(caught.value)
    assert words in str(caught.value)


def test_the_2019_replay_reproduces_the_figures_of_storms_md() -> None:
    """Rio 8-9 April 2019: STORMS.md's gauge figures are checks the curves must reproduce."""
    hyetograph = load_hyetograph(SCENARIO_DIR / "hyetographs" / "rio-2019-04.toml")
    checked = {(g.name, c.mm) for g in hyetograph.gauges for c in g.checks}
    for figure in [
        ("Barra/Barrinha", 227.0),
        ("Jardim Botânico", 220.0),
        ("Copacabana", 220.0),
        ("Rocinha", 210.0),
        ("Jardim Botânico", 155.4),
        ("Rocinha", 343.4),
    ]:
        assert figure in checked
    assert all("STORMS.md" in s or "2019" in s for s in hyetograph.sources)


def _replay(tmp_path: Path, start: str) -> Path:
    """A scenario replaying the Petrópolis hyetograph (copied next to it) from ``start``."""
    hyetograph = (SCENARIO_DIR / "hyetographs" / "petropolis-2022-02.toml").read_text()
    (tmp_path / "storm.toml").write_text(hyetograph, encoding="utf-8")
    path = tmp_path / "replay.toml"
    path.write_text(
        f'[scenario]\ntitle = "t"\nstart = {start}\nduration_h = 24\n\n'
        '[[storms]]\nkind = "replay"\nhyetograph = "storm.toml"\n',
        encoding="utf-8",
    )
    return path


def test_a_replay_whose_rain_falls_outside_the_period_is_refused(tmp_path: Path) -> None:
    """A wrong month or year would replay a dry day and score it as skill: it is an error."""
    assert load_scenario(str(_replay(tmp_path, "2022-02-15T12:00:00-03:00"))).storms
    path = _replay(tmp_path, "2022-03-15T12:00:00-03:00")
    with pytest.raises(ScenarioError, match=r"none of its rain falls in the scenario") as caught:
        load_scenario(str(path))
    assert caught.value.field == "storms[0].hyetograph"
    assert str(path) in str(caught.value)
    assert "2022-02-15" in str(caught.value)  # where the hyetograph's rain is


def test_a_missing_hyetograph_names_the_scenario_that_needs_it(tmp_path: Path) -> None:
    """The error says which scenario file and which storm refer to the missing file."""
    path = _replay(tmp_path, "2022-02-15T12:00:00-03:00")
    (tmp_path / "storm.toml").unlink()
    with pytest.raises(ScenarioError) as caught:
        load_scenario(str(path))
    assert caught.value.field == "storms[0].hyetograph"
    assert str(path) in str(caught.value)
    assert "storm.toml" in str(caught.value)
    assert "cannot read" in str(caught.value)


def test_the_rain_report_interval_follows_an_unusual_step(tmp_path: Path) -> None:
    """Unset, the rain interval is the multiple of step_s nearest above 300 s, not an error."""
    text = MINIMAL.replace("duration_h = 6", "duration_h = 6\nstep_s = 120")
    assert parse_scenario(tomllib.loads(text), tmp_path / "x.toml").reporting.rain_interval_s == 360
    text = MINIMAL.replace("duration_h = 6", "duration_h = 6\nstep_s = 900")
    assert parse_scenario(tomllib.loads(text), tmp_path / "x.toml").reporting.rain_interval_s == 900
    explicit = text + "[reporting]\nrain_interval_s = 300\n"
    with pytest.raises(ScenarioError, match=r"must be a multiple of scenario\.step_s"):
        parse_scenario(tomllib.loads(explicit), tmp_path / "x.toml")


@pytest.mark.parametrize(
    ("event", "words"),
    [
        ('kind = "stuck"\ntarget = "rocinha-99"', "is not an active station"),
        ('kind = "outage"\ntarget = "rocinha-02"', "an outage silences a zone"),
        ('kind = "spike"\ntarget = "rocinha-02"\nquantity = "rainfall"', "rain_mm"),
    ],
)
def test_a_scheduled_fault_must_name_what_the_registry_has(
    tmp_path: Path, event: str, words: str
) -> None:
    """A fault event aimed at nothing is an error naming the event, not a KeyError or a no-op."""
    path = tmp_path / "faulty.toml"
    path.write_text(
        MINIMAL + f"[[faults.events]]\n{event}\nstart_h = 1\nduration_h = 1\n", encoding="utf-8"
    )
    scenario = load_scenario(str(path))
    rio = load_registry(scenario.registry)
    with pytest.raises(ScenarioError, match=words) as caught:
        generate(scenario, rio, seed=1, anchor=scenario.start.timestamp())
    assert (caught.value.field or "").startswith("faults.events[0].")
    assert str(path) in str(caught.value)


def test_a_replay_faster_than_real_time_must_end_in_the_past() -> None:
    """Faster than real time, a run ending after now would publish future device times."""
    from simulators.cli import check_pace, resolve_anchor  # noqa: PLC0415  the CLI's own check

    scenario = load_scenario("summer-cells")
    now = 1_800_000_000.0
    ends_now = resolve_anchor("end-now", scenario, now)
    starts_now = resolve_anchor("start-now", scenario, now)
    check_pace(ends_now, scenario, 3600.0, now)  # the default: fine at any speed
    check_pace(starts_now, scenario, 1.0, now)  # real time: fine
    for speed in (600.0, None):
        with pytest.raises(SimulatorError, match=r"ts_future.*--anchor end-now"):
            check_pace(starts_now, scenario, speed, now)
