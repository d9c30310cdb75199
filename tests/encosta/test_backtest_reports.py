"""Community reports in the backtest: the evaluator's rule, no look-ahead, only raising levels."""

from __future__ import annotations

from dataclasses import replace

import pytest

from encosta.backtest.command import REGISTRY, Job, presets_of, run_job, score_run
from encosta.backtest.replay import SIREN, Timeline, replay, stations_of
from encosta.backtest.reports import ConfirmedReport, amend, confirmed_reports, counts_at
from models import load_preset
from models.reports import ReportRule, with_reports
from registry.format import load_registry
from simulators import Run, generate, load_scenario
from simulators.community import CONFIRMED, CommunityReports

H = 3600.0
SCENARIO = "petropolis-2022-02"
# Every failing slope reported 6-11 h before it fails and confirmed; false reports often, a
# quarter of them wrongly confirmed: a run where reports act in many zones.
MANY = CommunityReports(
    precursor_share=1.0, lead_median_h=8.0, lead_sigma=0.2, p_confirm=1.0,
    false_per_zone_day=2.0, p_false_confirm=0.25,
)  # fmt: skip


def _generate(name: str, reports: CommunityReports | None = None, seed: int = 1) -> Run:
    scenario = load_scenario(name)
    if reports is not None:
        scenario = replace(scenario, reports=reports)
    return generate(scenario, load_registry(REGISTRY), seed=seed, anchor=scenario.start.timestamp())


@pytest.fixture(scope="module")
def run() -> Run:
    """Seed 1 of Petrópolis 2022 (slopes fail), with many reports."""
    return _generate(SCENARIO, MANY)


def test_only_confirmed_reports_count_from_their_review(run: Run) -> None:
    """The replay's reports are the run's confirmed ones, at their review time."""
    zones = stations_of(load_registry(REGISTRY)).zone_ids
    kept = confirmed_reports(run, zones)
    confirmed = [r for r in run.reports if r.status == CONFIRMED]
    assert len(kept) == len(confirmed) < len(run.reports)  # some were dismissed
    assert sorted(r.confirmed_s for r in kept) == sorted(r.reviewed_ts for r in confirmed)
    assert [r.confirmed_s for r in kept] == sorted(r.confirmed_s for r in kept)
    assert {zones[r.zone] for r in kept} == {r.zone for r in confirmed}
    assert sum(r.precursor for r in kept) == sum(r.precursor for r in confirmed) > 0


def test_amend_is_the_evaluators_rule_and_never_lowers() -> None:
    """Through alerts.reports.amend_proposals: max(level, what the reports support)."""
    rule = ReportRule()
    zones = [f"z{k}" for k in range(5)]
    for level in range(4):
        counts = [0, 1, 2, 3, 7]
        model = ([level] * 5, [False] * 5, ["rain_1h"] * 5)
        out, unknown, why = amend(zones, model, counts, rule)
        assert out == [with_reports(level, c, rule) for c in counts]
        assert all(o >= level for o in out)
        assert max(out) <= max(level, 2)  # reports alone never make a crisis
        assert why == ["community_report" if o > level else "rain_1h" for o in out]
        assert unknown == [False] * 5


def test_a_report_counts_from_its_confirmation_for_the_window() -> None:
    """Counted in (t - window, t]: not before its confirmation, not after the window."""
    reports = [ConfirmedReport(1, 10 * H, precursor=True)]
    assert counts_at(reports, 2, 10 * H - 1.0, 24.0) == [0, 0]
    assert counts_at(reports, 2, 10 * H, 24.0) == [0, 1]
    assert counts_at(reports, 2, 33 * H, 24.0) == [0, 1]
    assert counts_at(reports, 2, 34 * H, 24.0) == [0, 0]


def _replay(run: Run, reports: list[ConfirmedReport]) -> Timeline:
    stations = stations_of(load_registry(REGISTRY))
    return replay(run, presets_of(["rio"], ""), load_preset("sirens"), stations, reports=reports)


@pytest.fixture(scope="module")
def cells() -> Run:
    """Seed 1 of the summer cells (no slope fails): zones the model keeps below alert."""
    return _generate("summer-cells")


def test_false_reports_follow_the_rule_without_look_ahead(cells: Run) -> None:
    """A failure-free zone: one report, attention from its confirmation; three, an alert."""
    base = _replay(cells, [])
    failed = {z.zone for z in cells.truth.zones if z.first_failure_ts is not None}
    zones = stations_of(load_registry(REGISTRY)).zone_ids
    calm = [
        k
        for k, zone in enumerate(zones)
        if zone not in failed and max(row[k] for row in base.held["rio"]) <= 1
    ]
    assert calm  # the test needs a zone below alert without reports
    k = calm[0]
    t0 = cells.start_ts + 12 * H + 450.0  # between two evaluations
    one = _replay(cells, [ConfirmedReport(k, t0, precursor=False)])
    model = [row[k] for row in base.proposed["rio"]]
    amended = [row[k] for row in one.proposed["rio+reports"]]
    for t, m, a in zip(one.times_s, model, amended, strict=True):
        assert a == (m if t < t0 else max(m, 1))  # nothing before its confirmation
    assert max(row[k] for row in one.held["rio+reports"]) <= 1  # never an alert episode
    three = _replay(cells, [ConfirmedReport(k, t0 + n * 60.0, precursor=False) for n in range(3)])
    held = [row[k] for row in three.held["rio+reports"]]
    assert max(held) == 2  # ReportRule.alert_reports: three agree, an alert (a false alarm)
    assert all(v <= 1 for v, t in zip(held, three.times_s, strict=True) if t < t0 + 120.0)
    on_grid = one.times_s[60]  # confirmed exactly at an evaluation: seen there, not before
    at = _replay(cells, [ConfirmedReport(k, on_grid, precursor=False)])
    amended = [row[k] for row in at.proposed["rio+reports"]]
    assert amended[59] == model[59]
    assert amended[60] == max(model[60], 1)
    assert at.criterion["rio+reports"][60][k] == ("community_report" if model[60] < 1 else "-")
    assert three.held["rio"] == base.held["rio"]  # the other methods do not see reports
    assert three.held[SIREN] == base.held[SIREN]
    scored = {s.method: s for s in score_run(cells, three, zones)}
    assert scored["rio+reports"].zones[k].outcome == "false_alarm"
    assert scored["rio"].zones[k].outcome == "quiet"


def test_reports_only_add_hits_and_lead(run: Run) -> None:
    """Same seed: with reports, every hit stays a hit with at least the same lead time."""
    zones = stations_of(load_registry(REGISTRY)).zone_ids
    scored = score_run(run, _replay(run, confirmed_reports(run, zones)), zones)
    by = {s.method: s for s in scored}
    assert list(by) == ["rio", "rio+reports", SIREN]
    for level in ("alert", "attention"):
        base = by["rio"].zones if level == "alert" else by["rio"].attention
        more = by["rio+reports"].zones if level == "alert" else by["rio+reports"].attention
        assert sum(z.outcome == "hit" for z in more) >= sum(z.outcome == "hit" for z in base)
        for a, b in zip(base, more, strict=True):
            if a.lead_h is not None:
                assert b.lead_h is not None
                assert b.lead_h >= a.lead_h
        assert sum(z.episodes for z in more) > 0
    # The precursors raise some failing zone to attention before the model does.
    gained = [
        b.lead_h - a.lead_h
        for a, b in zip(by["rio"].attention, by["rio+reports"].attention, strict=True)
        if a.lead_h is not None and b.lead_h is not None
    ]
    assert max(gained) > 0.0
    # The default run (run_job) has the method too, scored like the others.
    job = Job(SCENARIO, 1, str(REGISTRY), presets_of(["rio"], ""), keep=False)
    assert [s.method for s in run_job(job)[1]] == ["rio", "rio+reports", SIREN]


def test_a_false_confirmed_report_is_an_attention_false_alarm_on_a_dry_day() -> None:
    """No rain, no failure: one wrongly confirmed report opens attention there, not an alert."""
    scenario = replace(load_scenario("summer-cells"), storms=(), reports=CommunityReports())
    dry = generate(scenario, load_registry(REGISTRY), seed=1, anchor=scenario.start.timestamp())
    zones = stations_of(load_registry(REGISTRY)).zone_ids
    t0 = dry.start_ts + 6 * H
    line = _replay(dry, [ConfirmedReport(2, t0, precursor=False)])
    assert max(max(row) for row in line.held["rio"]) == 0  # the model: normal everywhere
    scored = {s.method: s for s in score_run(dry, line, zones)}
    with_ = scored["rio+reports"]
    assert [z.outcome for z in with_.attention] == [
        "false_alarm" if k == 2 else "quiet" for k in range(len(zones))
    ]
    assert all(z.outcome == "quiet" for z in with_.zones)  # level >= 2: nothing
    assert all(z.outcome == "quiet" for z in scored["rio"].attention)
