"""The backtest report: ``summary.json``, ``report.md`` and PNG plots (matplotlib, Agg).

Plots: per scenario (its first seed), one row per zone with the zone's largest 1 h and 24 h
accumulations against the first preset's and the siren rule's thresholds and the zone's
lowest factor of safety against the level-2 FS threshold, and the held level
of every method over time with its episodes and the failures marked; and the threshold
sweep — false-alarm zones against mean lead time for the first preset with its rain
thresholds scaled, next to the other presets and the siren rule.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt

from encosta.backtest.command import attention_cell, seeds_text
from encosta.backtest.replay import SIREN
from models import load_preset

if TYPE_CHECKING:
    from encosta.backtest.command import Backtest
    from encosta.backtest.replay import Timeline
    from simulators import Run


def _zones_plot(run: Run, line: Timeline, backtest: Backtest, path: Path) -> None:
    zones = sorted({s.zone for s in run.truth.stations})
    methods = backtest.methods
    first = backtest.presets.get(methods[0])
    rio = None if first is None else first.rain_levels
    siren = load_preset("sirens").rain_levels
    hours = [(t - run.start_ts) / 3600.0 for t in line.times_s]
    fig, axes = plt.subplots(len(zones), 2, figsize=(13, 2.2 * len(zones)), squeeze=False)
    for z, zone in enumerate(zones):
        left, right = axes[z]
        left.plot(hours, [r[z] for r in line.rain_1h_mm], label="max 1 h (mm)", lw=1)
        left.plot(hours, [r[z] for r in line.rain_24h_mm], label="max 24 h (mm)", lw=1)
        left.axhline(siren.rain_1h_mm[1], color="C0", ls=":", lw=0.8)
        left.axhline(siren.rain_24h_mm[1], color="C1", ls=":", lw=0.8)
        if rio is not None:
            left.axhline(rio.rain_1h_mm[1], color="C0", ls="--", lw=0.8)
            left.axhline(rio.rain_24h_mm[1], color="C1", ls="--", lw=0.8)
        left.set_ylabel(zone, fontsize=8)
        fs_axis = left.twinx()
        fs_axis.plot(hours, [r[z] for r in line.min_fs], color="C2", lw=0.8, label="min FS")
        fs_level = (first or load_preset("rio")).slope.fs_levels[1]
        fs_axis.axhline(fs_level, color="C2", ls="--", lw=0.6)
        fs_axis.set_ylim(0.5, 2.5)
        fs_axis.tick_params(labelsize=6)
        for k, m in enumerate(methods):
            right.step(hours, [r[z] + 0.06 * k for r in line.held[m]], where="post", label=m, lw=1)
        right.axhline(2, color="grey", ls=":", lw=0.8)
        for s in run.truth.stations:
            if s.zone == zone and s.failed and s.failure_ts is not None:
                at = (s.failure_ts - run.start_ts) / 3600.0
                left.axvline(at, color="black", lw=0.8)
                right.axvline(at, color="black", lw=0.8)
        right.set_ylim(-0.2, 3.5)
        if z == 0:
            left.legend(fontsize=7, loc="upper left")
            right.legend(fontsize=7, loc="upper left", ncol=len(methods))
            left.set_title("accumulations (dashed: level 2, dotted: siren); green: min FS")
            right.set_title("held level per method (black: slope failures)")
    axes[-1][0].set_xlabel("hours from scenario start")
    axes[-1][1].set_xlabel("hours from scenario start")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _sweep_plot(data: dict[str, Any], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for m, t in data["total"].items():
        lead = t["mean_lead_h"]
        fa = t["zones"]["false_alarms"]
        label = f"{m} (miss {t['zones']['misses']})"
        if lead is None:  # no hit, so no lead: drawn on the axis, said in the label
            lead, label = 0.0, f"{m} (no hits)"
        ax.scatter([lead], [fa], marker="s" if m == SIREN else "o")
        ax.annotate(label, (lead, fa), fontsize=7)
    ax.set_xlabel("mean lead time of hits (h)")
    ax.set_ylabel("false-alarm zones (all scenarios and seeds)")
    ax.set_title("threshold sweep: what moving a threshold costs")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _markdown(data: dict[str, Any], plots: list[str]) -> str:
    lines = [
        "# Backtest report",
        "",
        (
            f"`{data['command']}` — seeds {seeds_text(data['seed_values'])} per scenario, "
            f"warning level "
            f">= {data['warn_level']}, runtime {data['runtime_s']:.1f} s."
        ),
        "",
        (
            "Zones: hit = an episode open at the zone's first failure; miss; false alarm = a "
            "zone with an episode and no failure. Lead time from the start of the episode open "
            "at the failure. Zone-days: hits / misses / false alarms per 24 h. Attention: "
            "zones scored the same way at level >= 1 (hits/misses/false alarms, mean lead h), "
            "where one confirmed community report moves a zone (`<preset>+reports`)."
        ),
        "",
        (
            "| scenario | method | hits | misses | false alarms | POD | FAR | CSI | mean lead h "
            "| zone-days h/m/f | attention h/m/f lead | false episodes | opened by |"
        ),
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | --- |",
    ]
    for sc, methods in data["families"].items():
        for m, f in methods.items():
            z, d = f["zones"], f["zone_days"]
            lead = "-" if f["mean_lead_h"] is None else f"{f['mean_lead_h']:.1f}"
            opened = ", ".join(f"{k} {v}" for k, v in f["opened_by"].items())
            lines.append(
                f"| {sc} | {m} | {z['hits']} | {z['misses']} | {z['false_alarms']} | "
                f"{_f(z['pod'])} | {_f(z['far'])} | {_f(z['csi'])} | {lead} | "
                f"{d['hits']}/{d['misses']}/{d['false_alarms']} | {attention_cell(f)} | "
                f"{f['false_episodes']} | "
                f"{opened} |"
            )
    lines += ["", "## Plots", ""]
    lines += [f"![{p}]({p})" for p in plots]
    return "\n".join(lines) + "\n"


def _f(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


def _plot_name(scenario: str, taken: list[str]) -> str:
    """``zones-<scenario>.png``: a scenario file's stem, numbered if two files share it."""
    stem = Path(scenario).stem if scenario.endswith(".toml") else scenario
    name, k = f"zones-{stem}.png", 2
    while name in taken:
        name, k = f"zones-{stem}-{k}.png", k + 1
    return name


def write_report(backtest: Backtest, data: dict[str, Any], directory: Path) -> None:
    """Write ``summary.json``, ``report.md`` and the plots into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "summary.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    plots: list[str] = []
    for name, (run, line) in backtest.examples.items():
        file = _plot_name(name, plots)
        _zones_plot(run, line, backtest, directory / file)
        plots.append(file)
    _sweep_plot(data, directory / "sweep.png")
    plots.append("sweep.png")
    (directory / "report.md").write_text(_markdown(data, plots), encoding="utf-8")
