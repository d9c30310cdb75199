"""Documented storms as gauge mass curves, with the published figures they must reproduce.

A hyetograph file (``simulators/scenarios/hyetographs/*.toml``) lists ``[[gauges]]``, each with
its position and a *mass curve*: cumulative rainfall (mm) at a few instants. Between two
instants the rain falls at a constant rate, so an amount over any window is a difference of
the linearly interpolated curve, and resampling to the simulation step keeps totals exact.

Every gauge carries ``[[gauges.checks]]``: the published figures (window, amount, source).
Loading fails unless the curve reproduces each one within its tolerance, so a file cannot
drift away from the sources it cites.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from simulators.errors import ScenarioError
from simulators.schema import Section

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True, slots=True)
class Check:
    """A published amount over a window that the gauge's curve must reproduce."""

    start: datetime
    end: datetime
    mm: float
    tolerance_mm: float
    source: str


@dataclass(frozen=True, slots=True)
class Gauge:
    """One rain gauge of a documented storm: a mass curve in epoch seconds and mm."""

    name: str
    lat: float
    lon: float
    times: tuple[float, ...]
    cumulative_mm: tuple[float, ...]
    checks: tuple[Check, ...]

    def amount(self, start: float, end: float) -> float:
        """Rain (mm) between two epoch instants."""
        mass = np.interp([start, end], self.times, self.cumulative_mm)
        return float(mass[1] - mass[0])

    def resample(self, edges: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """Rain (mm) in each interval between consecutive epoch ``edges``."""
        return np.diff(np.interp(edges, self.times, self.cumulative_mm))


@dataclass(frozen=True, slots=True)
class Hyetograph:
    """A documented storm: its gauges and the sources of its figures."""

    title: str
    sources: tuple[str, ...]
    gauges: tuple[Gauge, ...]
    path: str


def _mass(section: Section) -> tuple[tuple[float, ...], tuple[float, ...]]:
    raw = section.raw("mass")
    if not isinstance(raw, list) or len(raw) < 2:
        raise section.error("mass", "must be a list of at least two [date-time, mm] pairs")
    times: list[float] = []
    cumulative: list[float] = []
    for i, pair in enumerate(raw):
        ok = isinstance(pair, list) and len(pair) == 2
        when, mm = (pair[0], pair[1]) if ok else (None, None)
        if not (isinstance(when, datetime) and when.tzinfo and isinstance(mm, int | float)):
            raise section.error("mass", f"entry {i} must be [offset date-time, mm], not {pair!r}")
        if times and when.timestamp() <= times[-1]:
            raise section.error("mass", f"entry {i}: times must increase")
        if cumulative and mm < cumulative[-1]:
            raise section.error("mass", f"entry {i}: cumulative rain cannot decrease")
        times.append(when.timestamp())
        cumulative.append(float(mm))
    if cumulative[0] != 0.0:
        raise section.error("mass", "the curve must start at 0 mm")
    return tuple(times), tuple(cumulative)


def _gauge(section: Section) -> Gauge:
    name = section.text("name")
    lat = section.number("lat", -90.0, 90.0)
    lon = section.number("lon", -180.0, 180.0)
    times, cumulative = _mass(section)
    checks = []
    for check_section in section.sections("checks"):
        check = Check(
            start=check_section.moment("from"),
            end=check_section.moment("to"),
            mm=check_section.number("mm", 0.0, 2000.0),
            tolerance_mm=check_section.number("tolerance_mm", 0.0, 50.0, 1.0),
            source=check_section.text("source"),
        )
        check_section.finish()
        checks.append(check)
    section.finish()
    gauge = Gauge(name, lat, lon, times, cumulative, tuple(checks))
    for i, check in enumerate(gauge.checks):
        got = gauge.amount(check.start.timestamp(), check.end.timestamp())
        if abs(got - check.mm) > check.tolerance_mm:
            raise section.error(
                f"checks[{i}]",
                f"the mass curve gives {got:.1f} mm from {check.start} to {check.end}, "
                f"but the source ({check.source}) says {check.mm} +/- {check.tolerance_mm} mm",
            )
    return gauge


def load_hyetograph(path: Path) -> Hyetograph:
    """Load a hyetograph file and verify every gauge against its published figures."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror}", path=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}", path=str(path)) from exc
    root = Section(document, "", str(path))
    title = root.text("title")
    sources_raw = root.raw("sources")
    if not isinstance(sources_raw, list) or not all(isinstance(s, str) for s in sources_raw):
        raise root.error("sources", "must be a list of strings citing where the figures come from")
    gauges = tuple(_gauge(g) for g in root.sections("gauges"))
    if not gauges:
        raise root.error("gauges", "at least one [[gauges]] table is required")
    root.finish()
    return Hyetograph(title, tuple(str(s) for s in sources_raw), gauges, str(path))
