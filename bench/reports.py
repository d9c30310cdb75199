"""The backtest with and without community reports, side by side in one run, and its cost.

Every scenario x seed is simulated once and replayed once; the replay scores the ``rio``
preset and ``rio+reports`` (the same zone levels with the run's confirmed community reports,
:mod:`encosta.backtest.reports`) on the same rain. Printed per family: hits, misses, false
alarms and the mean lead of the hits at the warning level (>= 2, alert) and at attention
(>= 1, where one confirmed report acts), without and with the reports, and the reports the
runs held. ``--set key=value`` (repeatable) replaces fields of every scenario's ``[reports]``
table (docs/simulator.md), to see how the figures depend on the assumed defaults. Last, the
replay of one run timed without and with the reports (medians of ``--repeats``).

Run: ``.venv/bin/python -m bench.reports [--seeds 10] [--scenario NAME ...] [--set
precursor_share=0.8] [--jobs 2]``. No broker, no database.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from encosta.backtest.command import REGISTRY, Backtest, family, presets_of, run_backtest
from encosta.backtest.replay import replay, stations_of
from encosta.backtest.reports import confirmed_reports
from models import load_preset
from registry.format import load_registry
from simulators import available, generate, load_scenario
from simulators.community import CONFIRMED, CommunityReports

if TYPE_CHECKING:
    from collections.abc import Sequence

PRESET = "rio"
WITH = PRESET + "+reports"


def table_of(settings: list[str]) -> CommunityReports | None:
    """The ``[reports]`` table with ``key=value`` settings (None: the scenarios' own)."""
    if not settings:
        return None
    fields = {f.name: f for f in dataclasses.fields(CommunityReports)}
    values: dict[str, Any] = {}
    for setting in settings:
        key, _, raw = setting.partition("=")
        if key not in fields:
            raise SystemExit(f"--set {setting}: no field {key!r} (known: {', '.join(fields)})")
        values[key] = raw.lower() == "true" if key == "enabled" else float(raw)
    return CommunityReports(**values)


def _cell(scores: dict[str, Any]) -> str:
    z = scores["zones"]
    lead = "-" if scores["mean_lead_h"] is None else f"{scores['mean_lead_h']:.2f}"
    return f"{z['hits']}/{z['misses']}/{z['false_alarms']} {lead}"


def reports_held(
    scenario: str, seeds: Sequence[int], table: CommunityReports | None
) -> Counter[str]:
    """Reports of every seed of ``scenario``: precursor or false, confirmed or dismissed."""
    registry = load_registry(REGISTRY)
    loaded = load_scenario(scenario)
    if table is not None:
        loaded = dataclasses.replace(loaded, reports=table)
    out: Counter[str] = Counter()
    for seed in seeds:
        run = generate(loaded, registry, seed=seed, anchor=loaded.start.timestamp())
        for r in run.reports:
            kind = "precursor" if r.precursor else "false"
            out[f"{kind} {'confirmed' if r.status == CONFIRMED else 'dismissed'}"] += 1
    return out


def print_families(backtest: Backtest, table: CommunityReports | None) -> None:
    """One row per family: alert and attention, without and with reports."""
    print(
        "| family | reports held: precursor c/d, false c/d | alert h/m/f lead: rio | "
        "rio+reports | attention h/m/f lead: rio | rio+reports |"
    )
    print("| --- | --- | --- | --- | --- | --- |")
    for name in backtest.scenarios:
        without, with_ = family(backtest, name, PRESET), family(backtest, name, WITH)
        held = reports_held(name, backtest.seeds, table)
        said = (
            f"{held['precursor confirmed']}/{held['precursor dismissed']}, "
            f"{held['false confirmed']}/{held['false dismissed']}"
        )
        print(
            f"| {name} | {said} | {_cell(without)} | {_cell(with_)} | "
            f"{_cell(without['attention'])} | {_cell(with_['attention'])} |"
        )


def replay_cost(scenario: str, repeats: int, table: CommunityReports | None) -> tuple[float, float]:
    """Median replay seconds of seed 1 of ``scenario`` without and with its reports."""
    registry = load_registry(REGISTRY)
    stations = stations_of(registry)
    loaded = load_scenario(scenario)
    if table is not None:
        loaded = dataclasses.replace(loaded, reports=table)
    run = generate(loaded, registry, seed=1, anchor=loaded.start.timestamp())
    reports = confirmed_reports(run, stations.zone_ids)
    presets, siren = presets_of([PRESET], ""), load_preset("sirens")
    without, with_ = [], []
    for _ in range(repeats):  # interleaved, so load drifts touch both alike
        began = time.perf_counter()
        replay(run, presets, siren, stations)
        without.append(time.perf_counter() - began)
        began = time.perf_counter()
        replay(run, presets, siren, stations, reports=reports)
        with_.append(time.perf_counter() - began)
    return statistics.median(without), statistics.median(with_)


def main() -> int:
    """Run the backtest once and print the side-by-side table and the replay's cost."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds 1..N per scenario (10)")
    parser.add_argument("--scenario", action="append", default=None, help="default: all")
    parser.add_argument("--set", action="append", default=[], help="[reports] key=value")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--repeats", type=int, default=3, help="replays timed per variant")
    args = parser.parse_args()
    table = table_of(args.set)
    scenarios = args.scenario or list(available())
    load = os.getloadavg()[0]
    print(
        f"# bench/reports.py seeds={args.seeds} scenarios={','.join(scenarios)} "
        f"set={','.join(args.set) or '-'} (load {load:.1f})",
        flush=True,
    )
    began = time.perf_counter()
    backtest = run_backtest(
        scenarios, args.seeds, presets_of([PRESET], ""), jobs=args.jobs, reports=table
    )
    print(f"backtest {time.perf_counter() - began:.1f} s wall, {args.jobs} jobs")
    print_families(backtest, table)
    without, with_ = replay_cost(scenarios[0], args.repeats, table)
    print(
        f"replay of {scenarios[0]} seed 1: {without:.2f} s without reports, {with_:.2f} s with "
        f"({with_ / without:.2f}x; the extra method's lifecycle pass and amend calls)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
