"""Fixtures of the simulator tests: the registry and small generated runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from registry.format import Registry, load_registry
from simulators import Scenario, load_scenario

REPO = Path(__file__).resolve().parent.parent.parent
ANCHOR = 1_790_000_000.0  # a fixed epoch (2026-09-21) so runs are comparable


@pytest.fixture(scope="session")
def rio() -> Registry:
    """The checked-in Rio registry."""
    return load_registry(REPO / "deploy" / "stations" / "rio-de-janeiro.toml")


def shortened(scenario: Scenario, hours: float) -> Scenario:
    """``scenario`` cut to its first ``hours``."""
    return replace(scenario, duration_h=hours)


@pytest.fixture(scope="session")
def cells() -> Scenario:
    """The moving-cells scenario, with its faults."""
    return load_scenario("summer-cells")
