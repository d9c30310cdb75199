"""Simulated community reports: seeded, before the failures they precede, more in heavy rain."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np
import pytest

from models.reports import Category
from simulators import ScenarioError, generate, load_scenario, write_run
from simulators.community import (
    CATEGORIES,
    CONFIRMED,
    PRECURSOR_SIGNS,
    CommunityReport,
    CommunityReports,
    RunRain,
    community_reports,
    heavy_rain,
)
from simulators.scenario import parse_scenario
from tests.simulators.conftest import ANCHOR

if TYPE_CHECKING:
    from pathlib import Path

    from registry.format import Registry
    from simulators import Run

H = 3600.0
ANCHOR_DT = datetime.fromtimestamp(ANCHOR, UTC)


@pytest.fixture(scope="module")
def petropolis(rio: Registry) -> Run:
    """Petrópolis 2022 at seed 1: slopes fail."""
    return generate(load_scenario("petropolis-2022-02"), rio, seed=1, anchor=ANCHOR)


def test_categories_are_the_models_closed_list() -> None:
    """The simulator's categories are those the API accepts (it cannot import models)."""
    assert set(CATEGORIES) == {c.value for c in Category}
    assert set(PRECURSOR_SIGNS) < set(CATEGORIES)


def test_reports_are_deterministic_per_seed_and_leave_the_rest_unchanged(
    rio: Registry, petropolis: Run
) -> None:
    """Same seed, same reports; another seed, others; the messages do not depend on them."""
    scenario = load_scenario("petropolis-2022-02")
    again = generate(scenario, rio, seed=1, anchor=ANCHOR)
    assert again.reports == petropolis.reports
    assert len(petropolis.reports) > 0
    other = generate(scenario, rio, seed=2, anchor=ANCHOR)
    assert other.reports != petropolis.reports
    off = generate(replace(scenario, reports=CommunityReports(enabled=False)), rio, 1, ANCHOR)
    assert off.reports == ()
    assert off.messages == petropolis.messages  # their stream is their own
    assert off.truth == petropolis.truth


def test_precursors_come_before_their_slopes_failure(rio: Registry, petropolis: Run) -> None:
    """Every failing slope reported once, lead within the cap, categories of the signs."""
    every = CommunityReports(
        precursor_share=1.0, lead_median_h=2.0, lead_sigma=0.5, lead_max_h=6.0,
        false_per_zone_day=0.0, p_confirm=1.0,
    )  # fmt: skip
    scenario = replace(load_scenario("petropolis-2022-02"), reports=every)
    run = generate(scenario, rio, seed=1, anchor=ANCHOR)
    failed = {s.station: s for s in run.truth.stations if s.failure_ts is not None}
    assert failed
    assert sorted(r.station or "" for r in run.reports) == sorted(failed)
    leads = []
    for r in run.reports:
        truth = failed[r.station or ""]
        assert r.precursor
        assert r.zone == truth.zone
        assert r.failure_ts is not None
        assert r.failure_ts == truth.failure_ts
        assert r.category in PRECURSOR_SIGNS
        assert r.status == CONFIRMED
        assert run.start_ts <= r.made_ts < r.failure_ts
        assert r.failure_ts - r.made_ts <= 6.0 * H + 1e-6
        assert r.reviewed_ts >= r.made_ts + every.review_min_min * 60.0
        leads.append((r.failure_ts - r.made_ts) / H)
    assert len(set(leads)) > 1  # drawn, not one fixed lead
    none = replace(every, precursor_share=0.0)
    assert generate(replace(scenario, reports=none), rio, seed=1, anchor=ANCHOR).reports == ()


def test_false_reports_are_more_frequent_in_heavy_rain(petropolis: Run) -> None:
    """With the rain factor, more false reports fall in the zones' heavy-rain hours."""
    series = petropolis.series
    zones = tuple(s.zone for s in petropolis.truth.stations)
    step = petropolis.scenario.step_s
    base = CommunityReports(precursor_share=0.0, false_per_zone_day=20.0, heavy_rain_factor=1.0)
    anxious = replace(base, heavy_rain_factor=10.0)
    names, heavy = heavy_rain(zones, series.rain_mm, step, base.heavy_rain_mm_h)
    assert 0 < heavy.mean() < 0.5  # the storm has heavy hours, and others

    def in_heavy(config: CommunityReports) -> tuple[int, int]:
        rain = RunRain(zones, series.rain_mm, petropolis.start_ts, step)
        said = community_reports(config, petropolis.truth, rain, np.random.default_rng(7))
        steps = [int((r.made_ts - petropolis.start_ts) // step) for r in said]
        hits = sum(bool(heavy[names.index(r.zone), j]) for r, j in zip(said, steps, strict=True))
        assert all(not r.precursor for r in said)
        return hits, len(said)

    calm_heavy, calm_all = in_heavy(base)
    anx_heavy, anx_all = in_heavy(anxious)
    assert anx_all > calm_all
    assert anx_heavy / anx_all > calm_heavy / calm_all + 0.2  # the extra ones are in heavy rain


def test_review_confirms_shares_of_true_and_false_reports(petropolis: Run) -> None:
    """p_confirm and p_false_confirm decide the review; the delay is never below its floor."""
    zones = tuple(s.zone for s in petropolis.truth.stations)
    config = CommunityReports(
        precursor_share=0.0, false_per_zone_day=50.0, p_false_confirm=0.25, review_min_min=10.0
    )
    rain = RunRain(
        zones, petropolis.series.rain_mm, petropolis.start_ts, petropolis.scenario.step_s
    )
    said = community_reports(config, petropolis.truth, rain, np.random.default_rng(3))
    assert len(said) > 300
    share = sum(r.status == CONFIRMED for r in said) / len(said)
    assert 0.18 < share < 0.32
    delays = [(r.reviewed_ts - r.made_ts) / 60.0 for r in said]
    assert min(delays) >= 10.0
    assert 10.0 + 15.0 < sum(delays) / len(delays) < 10.0 + 35.0  # floor + exponential, mean 25


def test_the_reports_table_is_validated(tmp_path: Path) -> None:
    """An unknown key or an out-of-range share names the field."""
    document: dict[str, object] = {
        "scenario": {"title": "t", "start": ANCHOR_DT, "duration_h": 1.0},
        "reports": {"precursor_share": 0.7, "p_false_confirm": 0.0},
    }
    scenario = parse_scenario(document, tmp_path / "x.toml")
    assert scenario.reports.precursor_share == 0.7
    assert scenario.reports.lead_median_h == CommunityReports().lead_median_h
    with pytest.raises(ScenarioError, match=r"reports\.precursor_shares"):
        parse_scenario({**document, "reports": {"precursor_shares": 0.5}}, tmp_path / "x.toml")
    with pytest.raises(ScenarioError, match=r"reports\.p_confirm.*\[0, 1\]"):
        parse_scenario({**document, "reports": {"p_confirm": 1.5}}, tmp_path / "x.toml")


def test_the_run_files_hold_the_reports(tmp_path: Path, petropolis: Run) -> None:
    """``--out`` writes every report with its review, as the run holds them."""
    write_run(tmp_path, petropolis)
    stored = json.loads((tmp_path / "community_reports.json").read_text())
    assert stored["seed"] == 1
    assert [CommunityReport(**r) for r in stored["reports"]] == list(petropolis.reports)
