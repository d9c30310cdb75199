"""The demo's report: ``summary.json``, ``report.md`` and PNG plots (matplotlib, Agg).

* ``levels.png``: each zone's held risk level through the storm (what sirens and teams
  acted on), with the simulated slope failures marked, one row per zone;
* ``map.png``: the stations by longitude and latitude, coloured by their zone's peak level,
  failed slopes ringed.

Tests read ``summary.json`` rather than the terminal output.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt

from encosta.demo import LEVELS, WARN_LEVEL

if TYPE_CHECKING:
    from pathlib import Path

    from encosta.demo import Tracked
    from registry.format import Registry
    from simulators import Run

COLOURS = ("#2e7d32", "#f9a825", "#ef6c00", "#c62828")  # normal, attention, alert, crisis


def _levels_plot(run: Run, registry: Registry, tracked: Tracked, path: Path) -> None:
    names = {z.id: z.name for z in registry.zones}
    zones = tracked.zone_ids
    hours = [(t - run.start_ts) / 3600.0 for t in tracked.times_s]
    fig, axes = plt.subplots(len(zones), 1, figsize=(10, 0.9 * len(zones) + 1), sharex=True,
                             squeeze=False)  # fmt: skip
    for z, zone in enumerate(zones):
        ax = axes[z][0]
        ax.step(hours, [row[z] for row in tracked.held], where="post", color="black", lw=1)
        ax.axhline(WARN_LEVEL, color="grey", ls=":", lw=0.8)
        for s in run.truth.stations:
            if s.zone == zone and s.failed and s.failure_ts is not None:
                ax.axvline((s.failure_ts - run.start_ts) / 3600.0, color="red", lw=1)
        ax.set_ylim(-0.3, 3.3)
        ax.set_yticks(range(4), LEVELS, fontsize=6)
        ax.set_ylabel(names.get(zone, zone), rotation=0, ha="right", va="center", fontsize=8)
    axes[0][0].set_title("held risk level per zone (red: simulated slope failures)")
    axes[-1][0].set_xlabel("hours from scenario start")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _map_plot(run: Run, registry: Registry, data: dict[str, Any], path: Path) -> None:
    peak = {z["id"]: LEVELS.index(z["peak"]) for z in data["zones"]}
    failed = {s.station for s in run.truth.stations if s.failed}
    fig, ax = plt.subplots(figsize=(7, 5.5))
    for level, colour in enumerate(COLOURS):
        here = [s for s in registry.stations if peak.get(s.zone, 0) == level]
        if here:
            ax.scatter([s.lon for s in here], [s.lat for s in here], c=colour, s=40,
                       label=LEVELS[level], edgecolors="black", linewidths=0.4)  # fmt: skip
    ring = [s for s in registry.stations if s.id in failed]
    if ring:
        ax.scatter([s.lon for s in ring], [s.lat for s in ring], s=160, facecolors="none",
                   edgecolors="red", linewidths=1.2, label="slope failed")  # fmt: skip
    for zone in registry.zones:
        members = [s for s in registry.stations if s.zone == zone.id]
        if members:
            lon = sum(s.lon for s in members) / len(members)
            lat = sum(s.lat for s in members) / len(members)
            ax.annotate(zone.name, (lon, lat), fontsize=7, xytext=(6, 6),
                        textcoords="offset points")  # fmt: skip
    ax.set_xlabel("longitude (°)")
    ax.set_ylabel("latitude (°)")
    ax.set_title("stations coloured by their zone's peak level")
    ax.legend(fontsize=7, loc="best")
    ax.set_aspect("equal", adjustable="datalim")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def _h(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _ratio(value: float | None) -> str:  # POD, FAR, CSI: two decimals, as on the terminal
    return "-" if value is None else f"{value:.2f}"


def _markdown(data: dict[str, Any], plots: list[str]) -> str:
    i, s, w = data["ingest"], data["skill"], data["webhooks"]
    t = s["zones"]
    outcome = {z["zone"]: z for z in s["per_zone"]}
    lines = [
        f"# Demo report: {data['scenario']}",
        "",
        (
            f"{data['title']}; seed {data['seed']}; simulated time {data['start']} to "
            f"{data['end']}; replayed in {data['wall_s']:.0f} s; database `{data['database']}`."
        ),
        "",
        "## Ingest",
        "",
        (
            f"Readings stored {i['stored']} of {i['expected_stored']} expected (sent {i['sent']} "
            f"unique, {i['resent_copies']} resent copies deduplicated). Rejects: {i['rejects']} "
            f"rows, the simulator predicted {i['predicted_rejects']}."
        ),
        "",
        "| reason | rows | corrupted readings |",
        "| --- | ---: | ---: |",
        *(
            f"| {reason} | {n['rows']} | {n['corrupted']} |"
            for reason, n in i["rejects_by_reason"].items()
        ),
        "",
        "## Zones and warning skill",
        "",
        (
            f"Scored as `encosta backtest` scores (episodes at level >= {WARN_LEVEL}, "
            "alert): a zone that failed is a hit when an episode is open at its first "
            "failure, with the lead time "
            "from the start of *that* episode; a false alarm is a zone with an episode and no "
            f"failure. Hits {t['hits']}, misses {t['misses']}, false alarms {t['false_alarms']}, "
            f"quiet {t['quiet']}; POD {_ratio(t['pod'])}, FAR {_ratio(t['far'])}, "
            f"CSI {_ratio(t['csi'])}; "
            f"mean lead {_h(s['mean_lead_h'])}{'' if s['mean_lead_h'] is None else ' h'}."
        ),
        "",
        (
            "| zone | peak | first attention h | first alert h | first crisis h | why at the peak "
            "| first failure h | outcome | lead h | opened by |"
        ),
        "| --- | --- | ---: | ---: | ---: | --- | ---: | --- | ---: | --- |",
    ]
    for z in data["zones"]:
        o = outcome.get(z["id"], {})
        lines.append(
            f"| {z['name']} | {z['peak']} | {_h(z['first_attention_h'])} | "
            f"{_h(z['first_alert_h'])} | {_h(z['first_crisis_h'])} | {z['why']} | "
            f"{_h(o.get('first_failure_h'))} | {o.get('outcome', '-')} | {_h(o.get('lead_h'))} "
            f"| {o.get('opened_by') or '-'} |"
        )
    lines += [
        "",
        "## Webhooks",
        "",
        f"{w['received']} received at the emergency team's endpoint, {w['verified']} with a "
        "valid Standard Webhooks signature: "
        + ", ".join(f"{k} {v}" for k, v in sorted(w["by_type"].items())),
        "",
        "## Plots",
        "",
        *(f"![{p}]({p})" for p in plots),
    ]
    return "\n".join(lines) + "\n"


def write_report(
    directory: Path, data: dict[str, Any], run: Run, registry: Registry, tracked: Tracked
) -> None:
    """Write ``summary.json``, ``report.md``, ``levels.png`` and ``map.png`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "summary.json").write_text(
        json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8"
    )
    _levels_plot(run, registry, tracked, directory / "levels.png")
    _map_plot(run, registry, data, directory / "map.png")
    (directory / "report.md").write_text(
        _markdown(data, ["levels.png", "map.png"]), encoding="utf-8"
    )
