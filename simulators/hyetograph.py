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
from typing import TYPE_CHECKING, Annotated

import msgspec
import numpy as np
import numpy.typing as npt

from simulators.errors import ScenarioError
from simulators.schema import FieldRuleError, convert

if TYPE_CHECKING:
    from pathlib import Path

_M = msgspec.Meta
_Moment = Annotated[datetime, _M(tz=True)]  # an offset date-time: 2010-04-05T12:00:00-03:00


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


class _CheckFile(msgspec.Struct, forbid_unknown_fields=True, rename={"start": "from", "end": "to"}):
    start: _Moment
    end: _Moment
    mm: Annotated[float, _M(ge=0.0, le=2000.0)]
    source: str
    tolerance_mm: Annotated[float, _M(ge=0.0, le=50.0)] = 1.0


class _GaugeFile(msgspec.Struct, forbid_unknown_fields=True):
    name: str
    lat: Annotated[float, _M(ge=-90.0, le=90.0)]
    lon: Annotated[float, _M(ge=-180.0, le=180.0)]
    mass: Annotated[list[tuple[_Moment, Annotated[float, _M(ge=0.0)]]], _M(min_length=2)]
    checks: list[_CheckFile] = msgspec.field(default_factory=list)

    def __post_init__(self) -> None:
        if self.mass[0][1] != 0.0:
            raise FieldRuleError("mass", "the curve must start at 0 mm")
        for i, (before, after) in enumerate(zip(self.mass, self.mass[1:], strict=False)):
            if after[0] <= before[0]:
                raise FieldRuleError("mass", f"entry {i + 1}: times must increase")
            if after[1] < before[1]:
                raise FieldRuleError("mass", f"entry {i + 1}: cumulative rain cannot decrease")


class _HyetographFile(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    sources: list[str]  # where the figures come from
    gauges: Annotated[list[_GaugeFile], _M(min_length=1)]


def _gauge(raw: _GaugeFile, index: int, source: str) -> Gauge:
    checks = tuple(Check(c.start, c.end, c.mm, c.tolerance_mm, c.source) for c in raw.checks)
    times = tuple(when.timestamp() for when, _ in raw.mass)
    gauge = Gauge(raw.name, raw.lat, raw.lon, times, tuple(mm for _, mm in raw.mass), checks)
    for i, check in enumerate(gauge.checks):
        got = gauge.amount(check.start.timestamp(), check.end.timestamp())
        if abs(got - check.mm) > check.tolerance_mm:
            raise ScenarioError(
                f"the mass curve gives {got:.1f} mm from {check.start} to {check.end}, "
                f"but the source ({check.source}) says {check.mm} +/- {check.tolerance_mm} mm",
                path=source,
                field=f"gauges[{index}].checks[{i}]",
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
    file = convert(document, _HyetographFile, str(path))
    gauges = tuple(_gauge(g, i, str(path)) for i, g in enumerate(file.gauges))
    return Hyetograph(file.title, tuple(file.sources), gauges, str(path))
