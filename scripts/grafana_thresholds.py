"""Write the dashboards' level thresholds from the model preset: one source for both.

The rain and factor-of-safety panels draw the thresholds at which the model raises levels
1-3. They are copied here from ``models/config/<preset>.toml`` (default ``rio``, the preset
the compose file runs), never typed by hand:

    python scripts/grafana_thresholds.py            # rewrite the dashboards
    python scripts/grafana_thresholds.py --check    # exit 1 when a panel disagrees

``tests/deploy/test_grafana.py`` runs ``--check``, so a preset change that forgets the
dashboards fails the suite.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from models import Criterion, load_preset
from models.evidence import thresholds

DASHBOARDS = Path(__file__).resolve().parent.parent / "deploy" / "grafana" / "dashboards"
# (dashboard file, panel title) -> the criterion whose levels the panel draws
PANELS = {
    ("station-detail.json", "Rain, 1 h"): Criterion.RAIN_1H,
    ("station-detail.json", "Rain, 24 h"): Criterion.RAIN_24H,
    ("station-detail.json", "Rain, 96 h"): Criterion.RAIN_96H,
    ("station-detail.json", "Factor of safety"): Criterion.SLOPE,
    ("operations-overview.json", "Rain in the last hour"): Criterion.RAIN_1H,
}
_COLOURS = ("yellow", "orange", "red")
# below level 1: nothing drawn on a time series' threshold area, green on a bar gauge
_BASE = {"timeseries": "transparent", "bargauge": "green"}


def steps(
    levels: tuple[float, float, float], criterion: Criterion, base: str = "transparent"
) -> list[dict[str, Any]]:
    """Grafana threshold steps (ascending) for the three level thresholds of a criterion."""
    if criterion is Criterion.SLOPE:  # lower is worse: red below level 3's FS, green above 1's
        low, mid, high = sorted(levels)
        return [
            {"color": "red", "value": None},
            {"color": "orange", "value": low},
            {"color": "yellow", "value": mid},
            {"color": "green", "value": high},
        ]
    return [
        {"color": base, "value": None},
        *({"color": c, "value": v} for c, v in zip(_COLOURS, levels, strict=True)),
    ]


def expected(preset: str, key: tuple[str, str], panel_type: str) -> dict[str, Any]:
    """The thresholds (and axis maximum) a panel must carry."""
    criterion = PANELS[key]
    levels = thresholds(load_preset(preset), criterion)
    entry = {"mode": "absolute", "steps": steps(levels, criterion, _BASE[panel_type])}
    top = 2.0 if criterion is Criterion.SLOPE else round(max(levels) * 1.2, 3)
    return {"thresholds": entry, "max": top}


def sync(preset: str, *, write: bool) -> list[str]:
    """Panels that disagree with the preset (rewritten when ``write``)."""
    wrong: list[str] = []
    for name in sorted({file for file, _ in PANELS}):
        path = DASHBOARDS / name
        board = json.loads(path.read_text(encoding="utf-8"))
        changed = False
        for panel in board["panels"]:
            if (name, panel["title"]) not in PANELS:
                continue
            want = expected(preset, (name, panel["title"]), panel["type"])
            defaults = panel["fieldConfig"]["defaults"]
            if (
                defaults.get("thresholds") != want["thresholds"]
                or defaults.get("max") != (want["max"])
            ):
                wrong.append(f"{name}: {panel['title']}")
                defaults["thresholds"], defaults["max"] = want["thresholds"], want["max"]
                changed = True
        missing = {t for f, t in PANELS if f == name} - {p["title"] for p in board["panels"]}
        wrong += [f"{name}: {title} (no such panel)" for title in sorted(missing)]
        if write and changed:
            path.write_text(json.dumps(board, indent=2, ensure_ascii=False) + "\n", "utf-8")
    return wrong


def main(argv: list[str] | None = None) -> int:
    """Rewrite, or with ``--check`` verify, the dashboards' thresholds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="rio", help="model preset (default rio)")
    parser.add_argument("--check", action="store_true", help="only report; exit 1 on a mismatch")
    args = parser.parse_args(argv)
    wrong = sync(args.preset, write=not args.check)
    verb = "differs from" if args.check else "rewritten from"
    for line in wrong:
        sys.stdout.write(f"{verb} {args.preset}: {line}\n")
    return 1 if args.check and wrong else 0


if __name__ == "__main__":
    sys.exit(main())
