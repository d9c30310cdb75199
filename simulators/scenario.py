"""Scenarios: documented TOML files in ``simulators/scenarios/`` that define a run.

A scenario names its period (``start``, ``duration_h``, ``step_s``), its storms, how
stations report, the soil and failure parameters and the faults. Every field is validated
on load; an error names the file, the field and the allowed range. See ``docs/simulator.md``
for the format and ``simulators/scenarios/*.toml`` for commented examples.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Annotated

import msgspec

from registry.errors import RegistryError
from registry.format import Registry, load_registry
from simulators.community import CommunityReports
from simulators.errors import ScenarioError
from simulators.fault_config import Faults, parse_faults
from simulators.hyetograph import Hyetograph
from simulators.schema import FieldRuleError, convert
from simulators.storm import ReplayStorm, Storm, parse_storm

_M = msgspec.Meta
_Share = Annotated[float, _M(ge=0.0, le=1.0)]

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
REPO = Path(__file__).resolve().parent.parent
DEFAULT_REGISTRY = REPO / "deploy" / "stations" / "rio-de-janeiro.toml"


@dataclass(frozen=True, slots=True)
class Reporting:
    """How loggers report: their own schedule, faster while it rains, as real loggers do."""

    interval_s: Annotated[float, _M(ge=1.0, le=86400.0)] | None = (
        None  # None: each station's expected_interval_s
    )
    rain_interval_s: Annotated[float, _M(ge=1.0, le=86400.0)] = 300.0
    rain_threshold_mm: Annotated[float, _M(ge=0.0, le=50.0)] = (
        0.2  # rain in a step that switches a logger to fast reporting
    )
    rain_hold_min: Annotated[float, _M(ge=0.0, le=1440.0)] = (
        60.0  # how long it stays fast after the last such step
    )
    bucket_mm: Annotated[float, _M(ge=0.0, le=1.0)] = (
        0.2  # tipping-bucket resolution; 0 reports exact amounts
    )
    senml_share: _Share = 0.0  # share of stations whose firmware speaks SenML
    latency_s: Annotated[float, _M(ge=0.0, le=60.0)] = (
        3.0  # largest delay between a reading and its send
    )


@dataclass(frozen=True, slots=True)
class Soil:
    """Layered-bucket soil parameters (``docs/simulator.md``, "Soil")."""

    antecedent_wetness: _Share = 0.35  # effective saturation of every layer at the start
    ks_mm_h: Annotated[float, _M(ge=0.1, le=500.0)] = (
        45.0  # saturated hydraulic conductivity (1.25e-5 m/s, colluvium)
    )
    drainage_exponent: Annotated[float, _M(ge=1.0, le=20.0)] = (
        3.0  # q = ks * Se**n (unit-gradient drainage)
    )
    macropore_share: Annotated[float, _M(ge=0.0, le=0.9)] = (
        0.25  # infiltration that bypasses the matrix to the water table
    )
    et_mm_day: Annotated[float, _M(ge=0.0, le=15.0)] = (
        3.0  # evapotranspiration from the top layer, daylight hours only
    )
    drainable_porosity: Annotated[float, _M(ge=0.02, le=0.4)] = (
        0.12  # water-table rise per unit of water reaching the base
    )
    lateral_drain_h: Annotated[float, _M(ge=0.5, le=2000.0)] = (
        12.0  # e-folding time of the perched water table
    )
    antecedent_water_table: _Share = 0.0  # share of the soil depth saturated at the start
    suction_cohesion_kpa: Annotated[float, _M(ge=0.0, le=50.0)] = (
        4.0  # apparent cohesion of the dry profile, lost on wetting
    )
    root_cohesion_kpa: Annotated[float, _M(ge=0.0, le=50.0)] = (
        0.0  # on top of the registry value, which already holds roots
    )
    probe_noise: Annotated[float, _M(ge=0.0, le=0.05)] = (
        0.004  # m3/m3, standard deviation of a probe reading
    )


@dataclass(frozen=True, slots=True)
class Failure:
    """The stochastic failure process of the ground truth (``simulators.failure``)."""

    threshold_sd: Annotated[float, _M(ge=0.0, le=0.5)] = (
        0.05  # spread of each slope's critical factor of safety around 1
    )
    cohesion_cv: _Share = 0.3  # true cohesion = registry value x lognormal of this CV
    friction_sd_deg: Annotated[float, _M(ge=0.0, le=10.0)] = 1.5


@dataclass(frozen=True, slots=True)
class Antecedent:
    """Documented rain of the days before the scenario starts (the spin-up record).

    Only the total is documented for most events, so the replay spreads ``rain_mm`` evenly
    over ``days`` daily totals (an assumption, said so in each scenario file); None: unknown.
    """

    rain_mm: Annotated[float, _M(ge=0.0, le=5000.0)] | None = None
    days: Annotated[int, _M(ge=1, le=90)] = 30
    source: str = ""

    def __post_init__(self) -> None:
        if self.rain_mm is not None and not self.source:
            raise FieldRuleError("source", "is required with rain_mm (cite the figure's source)")

    def daily_mm(self) -> tuple[float, ...]:
        """The daily totals, oldest first (empty when the record is unknown)."""
        if self.rain_mm is None:
            return ()
        return (self.rain_mm / self.days,) * self.days


@dataclass(frozen=True, slots=True)
class Spinup:
    """The history before the scenario starts, as a network with history would hold it.

    ``hours`` of stored 15-minute readings before ``start`` (at least the model's 96 h window;
    longer when the ``[antecedent]`` record covers more days): the soil probes at the
    scenario's starting state (``[soil]``), the rain of the ``[antecedent]`` record (dry
    where none is documented), each day's total falling at a steady rate over
    ``rain_hours`` ending at ``rain_end_hour`` local time (the documented totals say nothing
    of the timing; an afternoon shower is the convective diurnal cycle's, an assumption).
    ``simulators.spinup`` builds it; ``hours = 0`` disables it.
    """

    hours: Annotated[float, _M(ge=0.0, le=24.0 * 90)] = 96.0
    rain_hours: Annotated[float, _M(ge=0.25, le=24.0)] = 3.0
    rain_end_hour: Annotated[float, _M(ge=0.25, le=24.0)] = 18.0

    def __post_init__(self) -> None:
        if 0.0 < self.hours < 96.0:
            raise FieldRuleError("hours", "must be 0 (none) or at least 96 (the model's window)")
        if self.rain_hours > self.rain_end_hour:
            raise FieldRuleError("rain_hours", "must not reach back before midnight")


@dataclass(frozen=True, slots=True)
class Scenario:
    """A validated scenario."""

    name: str
    title: str
    description: str
    start: datetime  # the period the storms are defined in (replays: their real dates)
    duration_h: float
    step_s: float
    registry: Path
    storms: tuple[Storm, ...]
    reporting: Reporting
    soil: Soil
    failure: Failure
    faults: Faults
    path: str
    antecedent: Antecedent = Antecedent()
    reports: CommunityReports = field(default_factory=CommunityReports)  # community reports
    spinup: Spinup = Spinup()

    @property
    def steps(self) -> int:
        """Number of simulation steps."""
        return round(self.duration_h * 3600.0 / self.step_s)


@dataclass(frozen=True, slots=True)
class _Head:
    """The ``[scenario]`` table."""

    title: str
    start: Annotated[datetime, _M(tz=True)]  # an offset date-time: 2010-04-05T12:00:00-03:00
    duration_h: Annotated[float, _M(gt=0.0, le=24.0 * 29)]
    step_s: Annotated[float, _M(ge=60.0, le=3600.0)] = 300.0
    name: str | None = None
    description: str = ""
    registry: str = str(DEFAULT_REGISTRY)  # relative to the scenario file, as a hyetograph


@dataclass(frozen=True, slots=True)
class _File:
    """A scenario file's tables; storms and faults are read by their own modules."""

    scenario: dict[str, object]
    storms: list[dict[str, object]] = field(default_factory=list)
    reporting: dict[str, object] = field(default_factory=dict)
    soil: dict[str, object] = field(default_factory=dict)
    failure: dict[str, object] = field(default_factory=dict)
    faults: dict[str, object] = field(default_factory=dict)
    antecedent: dict[str, object] = field(default_factory=dict)
    reports: dict[str, object] = field(default_factory=dict)
    spinup: dict[str, object] = field(default_factory=dict)


def _reporting(table: dict[str, object], step_s: float, source: str) -> Reporting:
    # Unset, the rain interval is the first whole number of steps from 300 s (5 minutes).
    default = math.ceil(300.0 / step_s - 1e-9) * step_s
    out = convert({"rain_interval_s": default} | table, Reporting, source, "reporting.")
    for key in ("interval_s", "rain_interval_s"):
        value = getattr(out, key)
        if value is not None and round(value / step_s) * step_s != value:
            raise ScenarioError(
                f"= {value:g} must be a multiple of scenario.step_s ({step_s:g})",
                path=source,
                field=f"reporting.{key}",
            )
    return out


def parse_scenario(document: dict[str, object], path: Path) -> Scenario:
    """Validate a parsed scenario document; ``path`` resolves relative file names."""
    source = str(path)
    tables = convert(document, _File, source)
    head = convert(tables.scenario, _Head, source, "scenario.")
    if round(head.duration_h * 3600.0 / head.step_s) < 1:
        raise ScenarioError(
            "must cover at least one step", path=source, field="scenario.duration_h"
        )
    registry = Path(head.registry)
    storms = tuple(
        parse_storm(table, path, head.duration_h, f"storms[{i}].")
        for i, table in enumerate(tables.storms)
    )
    for i, storm in enumerate(storms):
        if isinstance(storm, ReplayStorm):
            _overlaps(storm.hyetograph, head.start, head.duration_h, source, f"storms[{i}].")
    return Scenario(
        name=head.name or path.stem,
        title=head.title,
        description=head.description,
        start=head.start,
        duration_h=head.duration_h,
        step_s=head.step_s,
        registry=registry if registry.is_absolute() else path.parent / registry,
        storms=storms,
        reporting=_reporting(tables.reporting, head.step_s, source),
        soil=convert(tables.soil, Soil, source, "soil."),
        failure=convert(tables.failure, Failure, source, "failure."),
        faults=parse_faults(tables.faults, head.duration_h, source),
        path=source,
        antecedent=convert(tables.antecedent, Antecedent, source, "antecedent."),
        reports=convert(tables.reports, CommunityReports, source, "reports."),
        spinup=convert(tables.spinup, Spinup, source, "spinup."),
    )


def _overlaps(
    hyetograph: Hyetograph, start: datetime, duration_h: float, source: str, prefix: str
) -> None:
    """Refuse a replay whose rain falls wholly outside the scenario's period (a dry replay)."""
    a = start.timestamp()
    b = a + duration_h * 3600.0
    if any(g.amount(a, b) > 0.0 for g in hyetograph.gauges):
        return
    first = min(g.times[0] for g in hyetograph.gauges)
    last = max(g.times[-1] for g in hyetograph.gauges)
    zone = start.tzinfo

    def when(t: float) -> str:
        return datetime.fromtimestamp(t, zone).isoformat(timespec="minutes")

    raise ScenarioError(
        f"none of its rain falls in the scenario's period ({when(a)} to {when(b)}); the "
        f"hyetograph {hyetograph.path} holds rain from {when(first)} to {when(last)}: check "
        "[scenario] start and duration_h, or the hyetograph's dates",
        path=source,
        field=prefix + "hyetograph",
    )


def scenario_registry(scenario: Scenario) -> Registry:
    """The station registry ``scenario`` names, or a ScenarioError naming the scenario's field."""
    try:
        return load_registry(scenario.registry)
    except RegistryError as exc:
        raise ScenarioError(str(exc), path=scenario.path, field="scenario.registry") from exc


def resolve(name_or_path: str) -> Path:
    """The file of a scenario given by name (``rio-2010-04``) or by path."""
    candidate = Path(name_or_path)
    if candidate.suffix == ".toml" or candidate.exists():
        return candidate
    path = SCENARIO_DIR / f"{name_or_path}.toml"
    if not path.exists():
        known = ", ".join(available()) or "none"
        raise ScenarioError(f"no scenario named {name_or_path!r} (known: {known})", path=str(path))
    return path


def available() -> list[str]:
    """Names of the scenarios shipped in ``simulators/scenarios/``."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def load_scenario(name_or_path: str) -> Scenario:
    """Load and validate a scenario by name or path."""
    path = resolve(name_or_path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ScenarioError(f"cannot read: {exc.strerror}", path=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"not valid TOML: {exc}", path=str(path)) from exc
    return parse_scenario(document, path)
