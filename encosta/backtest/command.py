"""``encosta backtest``: scenarios x seeds x presets offline, scored against the ground truth.

No broker and no database: each run goes through :mod:`encosta.backtest.replay` (ingest's
decoder, the evaluator's gridding, ``models.evaluate``, the lifecycle) and is scored by
:mod:`encosta.backtest.scores`; ``--report DIR`` writes ``summary.json``, ``report.md`` and
plots (:mod:`encosta.backtest.report`).
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from encosta.backtest.replay import SIREN, WITH_REPORTS, Timeline, replay, stations_of
from encosta.backtest.reports import confirmed_reports
from encosta.backtest.scores import (
    Episode,
    Outcome,
    Table,
    ZoneScore,
    episodes,
    score_zone,
    zone_days,
)
from encosta.outdir import writable_dir
from models import ConfigError, ModelConfig, load_preset
from registry.format import load_registry
from simulators import available, generate, load_scenario
from simulators.scenario import scenario_registry
from simulators.spinup import history

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from simulators import Run
    from simulators.community import CommunityReports

REGISTRY = Path(__file__).resolve().parents[2] / "deploy" / "stations" / "rio-de-janeiro.toml"
REGISTRY_HELP = "station registry (TOML; default deploy/stations/rio-de-janeiro.toml)"
WARN_LEVEL = 2
ATTENTION_LEVEL = 1  # also scored: where a community report alone moves a zone (1 report)


def add_parser(sub: Any) -> argparse.ArgumentParser:  # noqa: ANN401  argparse's private type
    """Register ``backtest`` on the CLI's subparsers."""
    parser: argparse.ArgumentParser = sub.add_parser(
        "backtest",
        help="score the model, each preset, the first with simulated community reports and "
        "the community-siren rule offline over "
        "simulated storms (no broker, no database)",
    )
    parser.add_argument(
        "--scenario",
        action="append",
        default=None,
        help="scenario: a shipped name or a scenario TOML file of your own (repeatable; "
        "default: every shipped scenario)",
    )
    parser.add_argument(
        "--seeds",
        type=parse_seeds,
        default=parse_seeds("10"),
        help="seeds per scenario: N (seeds 1..N, default 10), a range A-B, or a list "
        "such as 3,7,9 or 1-5,11 (e.g. --seeds 11-20 for seeds held out of tuning)",
    )
    parser.add_argument(
        "--preset",
        action="append",
        default=None,
        help="model preset: rio, sirens or a preset TOML file of your own, e.g. a tuned copy "
        "of models/config/rio.toml, scored under its file's stem (repeatable; default: rio "
        "and sirens)",
    )
    parser.add_argument(
        "--sweep",
        type=parse_sweep,
        default="0.8,1.25",
        help="factors on the first preset's rain thresholds for the threshold sweep "
        "(comma-separated, default 0.8,1.25; empty: none)",
    )
    parser.add_argument(
        "--report",
        default=None,
        metavar="DIR",
        help="write summary.json, report.md and PNG plots (zone levels, sweep) here "
        "(default: none, the table on the terminal only)",
    )
    parser.add_argument(
        "--registry",
        default=None,
        help="station registry (TOML) for every scenario (default: each scenario's own "
        "[scenario] registry, deploy/stations/rio-de-janeiro.toml unless it names one)",
    )
    parser.add_argument(
        "--jobs",
        type=positive_int,
        default=min(2, os.cpu_count() or 1),
        help="worker processes (default: 2, or 1 on a single core)",
    )
    return parser


def parse_seeds(text: str) -> tuple[int, ...]:
    """The seeds of ``--seeds``: ``N`` is 1..N; ``A-B`` a range; commas join parts (3,7,9).

    Seeds are positive, listed once each, in the order given; anything else is an
    ``argparse.ArgumentTypeError`` naming the part.
    """
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 1 and parts[0].isdigit():
        count = int(parts[0])
        if count < 1:
            msg = f"--seeds {text!r}: need at least one seed"
            raise argparse.ArgumentTypeError(msg)
        return tuple(range(1, count + 1))
    seeds: list[int] = []
    for part in parts:
        low, dash, high = part.partition("-")
        if not (low.isdigit() and (not dash or high.isdigit())):
            msg = f"--seeds {text!r}: {part!r} is not a seed or a range A-B"
            raise argparse.ArgumentTypeError(msg)
        first, last = int(low), int(high) if dash else int(low)
        if first < 1 or last < first:
            msg = f"--seeds {text!r}: {part!r} is not a range of positive seeds"
            raise argparse.ArgumentTypeError(msg)
        seeds += [s for s in range(first, last + 1) if s not in seeds]
    return tuple(seeds)


def positive_int(text: str) -> int:
    """``--jobs``: a whole number of worker processes, at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of processes >= 1")
    return value


def parse_sweep(text: str) -> str:
    """``--sweep``: comma-separated factors, each a number above 0 (empty: no sweep)."""
    for raw in (part.strip() for part in text.split(",")):
        if not raw:
            continue
        try:
            factor = float(raw)
        except ValueError:
            factor = math.nan
        if not (math.isfinite(factor) and factor > 0):
            msg = f"{raw!r} is not a factor above 0 (e.g. --sweep 0.8,1.25; empty: none)"
            raise argparse.ArgumentTypeError(msg)
    return text


def seeds_text(seeds: Sequence[int]) -> str:
    """``seeds`` as ``--seeds`` takes them: N for 1..N, A-B for a range, else a list."""
    if list(seeds) == list(range(1, len(seeds) + 1)):
        return str(len(seeds))
    if list(seeds) == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"{seeds[0]}-{seeds[-1]}"
    return ",".join(str(s) for s in seeds)


def scaled(config: ModelConfig, factor: float) -> ModelConfig:
    """``config`` with every rain-accumulation threshold multiplied by ``factor``."""
    rain = config.rain_levels

    def times(row: tuple[float, float, float]) -> tuple[float, float, float]:
        return (row[0] * factor, row[1] * factor, row[2] * factor)

    return replace(
        config,
        rain_levels=replace(
            rain,
            rain_1h_mm=times(rain.rain_1h_mm),
            rain_24h_mm=times(rain.rain_24h_mm),
            rain_96h_mm=times(rain.rain_96h_mm),
        ),
    )


@dataclass(slots=True)
class Scored:
    """One method's results in one run."""

    scenario: str
    seed: int
    method: str
    zones: list[ZoneScore]
    days: list[Outcome]
    episodes: list[Episode]
    attention: list[ZoneScore]  # the same zones scored at ATTENTION_LEVEL


@dataclass(slots=True)
class Backtest:
    """Everything a backtest produced."""

    scenarios: list[str]
    seeds: tuple[int, ...]
    methods: list[str]
    scored: list[Scored] = field(default_factory=list)
    examples: dict[str, tuple[Run, Timeline]] = field(default_factory=dict)
    runtime_s: float = 0.0
    presets: dict[str, ModelConfig] = field(default_factory=dict)  # by method name


def score_run(
    run: Run, line: Timeline, zone_ids: Sequence[str], scenario: str | None = None
) -> list[Scored]:
    """Episodes and outcomes of every method of one replayed run.

    ``scenario`` labels the scores (default: the scenario's name); the backtest passes the
    scenario as it was asked for, a name or a file's path.
    """
    failures: dict[str, list[float]] = {z: [] for z in zone_ids}
    for s in run.truth.stations:
        if s.failed and s.failure_ts is not None:
            failures[s.zone].append(s.failure_ts)
    out = []
    for method, held in line.held.items():
        found_all: list[Episode] = []
        zones = []
        attention = []
        days: list[Outcome] = []
        for z, zone in enumerate(zone_ids):
            levels = [row[z] for row in held]
            why = [row[z] for row in line.criterion[method]]
            found = episodes(zone, line.times_s, levels, why, WARN_LEVEL)
            found_all += found
            zones.append(score_zone(zone, found, failures[zone]))
            days += zone_days(found, failures[zone], run.start_ts, run.end_ts)
            low = episodes(zone, line.times_s, levels, why, ATTENTION_LEVEL)
            attention.append(score_zone(zone, low, failures[zone]))
        label = run.scenario.name if scenario is None else scenario
        scored = Scored(label, run.seed, method, zones, days, found_all, attention)
        out.append(scored)
    return out


@dataclass(frozen=True, slots=True)
class Job:
    """One scenario x seed, with everything a worker process needs."""

    scenario: str
    seed: int
    registry_path: str
    presets: dict[str, ModelConfig]
    keep: bool  # return the run and timeline for the plots
    reports: CommunityReports | None = None  # None: the scenario's own [reports] table


def run_job(job: Job) -> tuple[Job, list[Scored], tuple[Run, Timeline] | None]:
    """Simulate, replay and score one scenario x seed (in a worker process or inline)."""
    registry = load_registry(Path(job.registry_path))
    stations = stations_of(registry)
    scenario = load_scenario(job.scenario)
    if job.reports is not None:
        scenario = replace(scenario, reports=job.reports)
    run = generate(scenario, registry, seed=job.seed, anchor=scenario.start.timestamp())
    reports = confirmed_reports(run, stations.zone_ids)
    line = replay(
        run, job.presets, load_preset("sirens"), stations, history(run, registry), reports=reports
    )
    scored = score_run(run, line, stations.zone_ids, job.scenario)
    return job, scored, (run, line) if job.keep else None


def run_backtest(  # noqa: PLR0913  the command's options
    scenarios: Sequence[str],
    seeds: int | Sequence[int],
    presets: dict[str, ModelConfig],
    registry_path: str | None = None,
    *,
    console: Console | None = None,
    jobs: int = 1,
    reports: CommunityReports | None = None,
) -> Backtest:
    """Replay and score every scenario x seed; the first seed of each is kept for plots.

    ``seeds``: N for seeds 1..N, or the seeds themselves (:func:`parse_seeds`).
    ``registry_path``: the network for every scenario; None: each scenario's own registry.

    ``jobs`` > 1 runs scenario x seed pairs in that many worker processes (each is
    independent and deterministic, so the result does not depend on ``jobs``). ``reports``
    replaces every scenario's ``[reports]`` table (bench/reports.py's variants).
    """
    scenarios = list(dict.fromkeys(scenarios))  # a scenario asked for twice runs once
    head = next(iter(presets))
    chosen = tuple(range(1, seeds + 1)) if isinstance(seeds, int) else tuple(seeds)
    methods = [*presets, head + WITH_REPORTS, SIREN]
    result = Backtest(list(scenarios), chosen, methods, presets=dict(presets))
    started = time.perf_counter()
    registries: dict[str, str] = {}
    for name in scenarios:  # a bad scenario or registry is one error here, not per worker
        scenario = load_scenario(name)
        if registry_path is None:
            scenario_registry(scenario)  # an error names the scenario's field
        registries[name] = registry_path or str(scenario.registry)
    if registry_path is not None:
        load_registry(Path(registry_path))
    work = [
        Job(name, seed, registries[name], presets, keep=seed == chosen[0], reports=reports)
        for name in scenarios
        for seed in chosen
    ]
    done: dict[tuple[str, int], list[Scored]] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task("backtest", total=len(work))

        def record(outcome: tuple[Job, list[Scored], tuple[Run, Timeline] | None]) -> None:
            job, scored, example = outcome
            done[job.scenario, job.seed] = scored
            if example is not None:
                result.examples[job.scenario] = example
            progress.update(task, description=f"{job.scenario} seed {job.seed}")
            progress.advance(task)

        if jobs <= 1:
            for job in work:
                record(run_job(job))
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                for outcome in pool.map(run_job, work):
                    record(outcome)
    for job in work:  # a fixed order, whatever order the workers finished in
        result.scored += done[job.scenario, job.seed]
    result.examples = {name: result.examples[name] for name in scenarios}
    result.runtime_s = time.perf_counter() - started
    return result


def family(backtest: Backtest, scenario: str, method: str) -> dict[str, Any]:
    """The scores of one method over every seed of one scenario."""
    runs = [s for s in backtest.scored if s.scenario == scenario and s.method == method]
    zones = [z for s in runs for z in s.zones]
    table = Table.of(z.outcome for z in zones)
    days = Table.of(d for s in runs for d in s.days)
    leads = [z.lead_h for z in zones if z.lead_h is not None]
    opened = Counter(e.criterion for s in runs for e in s.episodes)
    return {
        "attention": _attention([z for s in runs for z in s.attention]),
        "runs": len(runs),
        "zones": _table(table),
        "zone_days": _table(days),
        "false_episodes": sum(z.false_episodes for z in zones),
        "episodes": sum(z.episodes for z in zones),
        "mean_lead_h": statistics.fmean(leads) if leads else None,
        "min_lead_h": min(leads) if leads else None,
        "opened_by": dict(opened.most_common()),
        "hit_opened_by": dict(Counter(z.criterion for z in zones if z.outcome is Outcome.HIT)),
    }


def _attention(zones: Sequence[ZoneScore]) -> dict[str, Any]:
    """The zones scored at ATTENTION_LEVEL: the table and the mean lead of the hits."""
    leads = [z.lead_h for z in zones if z.lead_h is not None]
    return {
        "level": ATTENTION_LEVEL,
        "zones": _table(Table.of(z.outcome for z in zones)),
        "mean_lead_h": statistics.fmean(leads) if leads else None,
    }


def _table(table: Table) -> dict[str, Any]:
    def num(x: float) -> float | None:
        return None if math.isnan(x) else round(x, 4)

    return {
        "hits": table.hits,
        "misses": table.misses,
        "false_alarms": table.false_alarms,
        "quiet": table.quiet,
        "pod": num(table.pod),
        "far": num(table.far),
        "csi": num(table.csi),
    }


def summary(backtest: Backtest, command: str) -> dict[str, Any]:
    """The JSON summary: per scenario and method, and the totals per method."""
    families = {
        sc: {m: family(backtest, sc, m) for m in backtest.methods} for sc in backtest.scenarios
    }
    total: dict[str, Any] = {}
    for m in backtest.methods:
        zones = [z for s in backtest.scored if s.method == m for z in s.zones]
        leads = [z.lead_h for z in zones if z.lead_h is not None]
        total[m] = {
            "zones": _table(Table.of(z.outcome for z in zones)),
            "zone_days": _table(
                Table.of(d for s in backtest.scored if s.method == m for d in s.days)
            ),
            "mean_lead_h": statistics.fmean(leads) if leads else None,
            "attention": _attention(
                [z for s in backtest.scored if s.method == m for z in s.attention]
            ),
        }
    return {
        "command": command,
        "seeds": len(backtest.seeds),
        "seed_values": list(backtest.seeds),
        "scenarios": backtest.scenarios,
        "methods": backtest.methods,
        "warn_level": WARN_LEVEL,
        "runtime_s": round(backtest.runtime_s, 2),
        "families": families,
        "total": total,
    }


def print_table(data: dict[str, Any], console: Console) -> None:
    """The scores side by side, one row per scenario and method."""
    chosen = seeds_text(data["seed_values"])
    table = RichTable(title=f"warning skill, level >= {WARN_LEVEL}, seeds {chosen}")
    for col in ("scenario", "method", "hit", "miss", "false", "POD", "FAR", "CSI", "lead h",
                "zone-day h/m/f", "attn h/m/f lead", "opened by"):  # fmt: skip
        table.add_column(
            col,
            justify="left" if col in {"scenario", "method", "opened by"} else "right",
            overflow="fold",  # a scenario file's whole path, never an ellipsis
        )
    for sc, methods in data["families"].items():
        for m, f in methods.items():
            z, d = f["zones"], f["zone_days"]
            lead = "-" if f["mean_lead_h"] is None else f"{f['mean_lead_h']:.1f}"
            opened = ", ".join(f"{k} {v}" for k, v in list(f["opened_by"].items())[:3])
            table.add_row(
                sc, m, str(z["hits"]), str(z["misses"]), str(z["false_alarms"]),
                _fmt(z["pod"]), _fmt(z["far"]), _fmt(z["csi"]), lead,
                f"{d['hits']}/{d['misses']}/{d['false_alarms']}", attention_cell(f), opened,
            )  # fmt: skip
        table.add_section()
    console.print(table)
    console.print(f"runtime {data['runtime_s']:.1f} s")


def attention_cell(scores: dict[str, Any]) -> str:
    """``hits/misses/false alarms lead`` at the attention level, for the tables."""
    a = scores["attention"]
    z = a["zones"]
    lead = "-" if a["mean_lead_h"] is None else f"{a['mean_lead_h']:.1f}"
    return f"{z['hits']}/{z['misses']}/{z['false_alarms']} {lead}"


def _fmt(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def method_name(preset: str, taken: Collection[str]) -> str:
    """A preset's method name: a shipped preset's name, a preset file's stem (its path if taken)."""
    stem = Path(preset).stem if preset.endswith(".toml") or Path(preset).is_file() else preset
    return stem if stem not in taken else preset


def presets_of(names: Sequence[str], sweep: str) -> dict[str, ModelConfig]:
    """The named presets (shipped names or files), then the sweep variants of the first one."""
    presets: dict[str, ModelConfig] = {}
    for name in names:
        presets[method_name(name, presets)] = load_preset(name)
    first = next(iter(presets))
    for raw in (s.strip() for s in sweep.split(",")):
        if raw:
            factor = float(raw)
            try:
                presets[f"{first}x{factor:g}"] = scaled(presets[first], factor)
            except ValueError as exc:  # a factor that takes a threshold out of its range
                allowed = "factors that keep every rain threshold in its range"
                raise ConfigError("sweep", allowed, f"x{factor:g}: {exc}") from exc
    return presets


def run(args: argparse.Namespace) -> int:
    """Entry point of ``encosta backtest``."""
    from encosta.backtest.report import write_report  # noqa: PLC0415  matplotlib is slow to import

    console = Console() if sys.stdout.isatty() else Console(width=160)
    scenarios = args.scenario or list(available())
    if args.report:
        writable_dir(Path(args.report))
    presets = presets_of(args.preset or ["rio", "sirens"], args.sweep)
    backtest = run_backtest(scenarios, args.seeds, presets, args.registry, jobs=args.jobs)
    command = "encosta backtest " + " ".join(
        [*(f"--scenario {s}" for s in scenarios), f"--seeds {seeds_text(args.seeds)}",
         *(f"--preset {p}" for p in (args.preset or ["rio", "sirens"])), f"--sweep '{args.sweep}'"]
    )  # fmt: skip
    data = summary(backtest, command)
    print_table(data, console)
    if args.report:
        write_report(backtest, data, Path(args.report))
        console.print(f"report written to {args.report}")
    return 0
