"""Smaller networks for tests: the Rio registry cut to some zones, and a scenario naming it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from encosta.backtest.command import REGISTRY
from simulators.scenario import resolve

if TYPE_CHECKING:
    from pathlib import Path


def cut_registry(zones: tuple[str, ...]) -> str:
    """The Rio registry's text with only ``zones`` (their [[zones]] blocks and stations)."""
    text = REGISTRY.read_text(encoding="utf-8")
    head, *blocks = re.split(r"\n(?=\[\[(?:zones|stations)\]\]\n)", text)
    marks = [f'id = "{z}"' for z in zones] + [f'zone = "{z}"' for z in zones]
    kept = [b for b in blocks if any(m in b for m in marks)]
    return "\n".join([head, *kept]) + "\n"


def scenario_on_zones(directory: Path, scenario: str, zones: tuple[str, ...]) -> Path:
    """A copy of shipped ``scenario`` in ``directory`` naming a registry of ``zones`` beside it.

    ``[scenario] registry`` is relative to the scenario file, so the pair can live anywhere.
    """
    (directory / "cut-registry.toml").write_text(cut_registry(zones), encoding="utf-8")
    text = resolve(scenario).read_text(encoding="utf-8")
    path = directory / f"{scenario}-cut.toml"
    head = '[scenario]\nregistry = "cut-registry.toml"\n'
    path.write_text(text.replace("[scenario]\n", head, 1), encoding="utf-8")
    return path
