"""Scenarios: documented TOML files in ``simulators/scenarios/`` that define a run.

A scenario names its period (``start``, ``duration_h``, ``step_s``), its storms, how
stations report, the soil and failure parameters and the faults. Every field is validated
on load; an error names the file, the field and the allowed range. See ``docs/simulator.md``
for the format and ``simulators/scenarios/*.toml`` for commented examples.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from simulators.errors import ScenarioError
from simulators.fault_config import Faults, parse_faults
from simulators.schema import Section
from simulators.storm import Storm, parse_storm

if TYPE_CHECKING:
    from datetime import datetime

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
REPO = Path(__file__).resolve().parent.parent
DEFAULT_REGISTRY = REPO / "deploy" / "stations" / "rio-de-janeiro.toml"


@dataclass(frozen=True, slots=True)
class Reporting:
    """How loggers report: their own schedule, faster while it rains, as real loggers do."""

    interval_s: float | None = None  # None: each station's expected_interval_s
    rain_interval_s: float = 300.0
    rain_threshold_mm: float = 0.2  # rain in a step that switches a logger to fast reporting
    rain_hold_min: float = 60.0  # how long it stays fast after the last such step
    bucket_mm: float = 0.2  # tipping-bucket resolution; 0 reports exact amounts
    senml_share: float = 0.0  # share of stations whose firmware speaks SenML
    latency_s: float = 3.0  # largest delay between a reading and its send


@dataclass(frozen=True, slots=True)
class Soil:
    """Layered-bucket soil parameters (``docs/simulator.md``, "Soil")."""

    antecedent_wetness: float = 0.35  # effective saturation of every layer at the start
    ks_mm_h: float = 45.0  # saturated hydraulic conductivity (1.25e-5 m/s, colluvium)
    drainage_exponent: float = 3.0  # q = ks * Se**n (unit-gradient drainage)
    macropore_share: float = 0.25  # infiltration that bypasses the matrix to the water table
    et_mm_day: float = 3.0  # evapotranspiration from the top layer, daylight hours only
    drainable_porosity: float = 0.12  # water-table rise per unit of water reaching the base
    lateral_drain_h: float = 12.0  # e-folding time of the perched water table
    antecedent_water_table: float = 0.0  # share of the soil depth saturated at the start
    suction_cohesion_kpa: float = 4.0  # apparent cohesion of the dry profile, lost on wetting
    root_cohesion_kpa: float = 0.0  # on top of the registry value, which already holds roots
    probe_noise: float = 0.004  # m3/m3, standard deviation of a probe reading


@dataclass(frozen=True, slots=True)
class Failure:
    """The stochastic failure process of the ground truth (``simulators.failure``)."""

    threshold_sd: float = 0.05  # spread of each slope's critical factor of safety around 1
    cohesion_cv: float = 0.3  # true cohesion = registry value x lognormal of this CV
    friction_sd_deg: float = 1.5


@dataclass(frozen=True, slots=True)
class Antecedent:
    """Documented rain of the days before the scenario starts (the spin-up record).

    Only the total is documented for most events, so the replay spreads ``rain_mm`` evenly
    over ``days`` daily totals (an assumption, said so in each scenario file); None: unknown.
    """

    rain_mm: float | None = None
    days: int = 30
    source: str = ""

    def daily_mm(self) -> tuple[float, ...]:
        """The daily totals, oldest first (empty when the record is unknown)."""
        if self.rain_mm is None:
            return ()
        return (self.rain_mm / self.days,) * self.days


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

    @property
    def steps(self) -> int:
        """Number of simulation steps."""
        return round(self.duration_h * 3600.0 / self.step_s)


def _reporting(s: Section, step_s: float) -> Reporting:
    interval = s.optional_number("interval_s", step_s, 86400.0)
    rain_interval = s.number("rain_interval_s", step_s, 86400.0, max(300.0, step_s))
    for key, value in (("interval_s", interval), ("rain_interval_s", rain_interval)):
        if value is not None and round(value / step_s) * step_s != value:
            raise s.error(key, f"= {value:g} must be a multiple of scenario.step_s ({step_s:g})")
    out = Reporting(
        interval_s=interval,
        rain_interval_s=rain_interval,
        rain_threshold_mm=s.number("rain_threshold_mm", 0.0, 50.0, 0.2),
        rain_hold_min=s.number("rain_hold_min", 0.0, 1440.0, 60.0),
        bucket_mm=s.number("bucket_mm", 0.0, 1.0, 0.2),
        senml_share=s.number("senml_share", 0.0, 1.0, 0.0),
        latency_s=s.number("latency_s", 0.0, 60.0, 3.0),
    )
    s.finish()
    return out


def _soil(s: Section) -> Soil:
    out = Soil(
        antecedent_wetness=s.number("antecedent_wetness", 0.0, 1.0, 0.35),
        ks_mm_h=s.number("ks_mm_h", 0.1, 500.0, 45.0),
        drainage_exponent=s.number("drainage_exponent", 1.0, 20.0, 3.0),
        macropore_share=s.number("macropore_share", 0.0, 0.9, 0.25),
        et_mm_day=s.number("et_mm_day", 0.0, 15.0, 3.0),
        drainable_porosity=s.number("drainable_porosity", 0.02, 0.4, 0.12),
        lateral_drain_h=s.number("lateral_drain_h", 0.5, 2000.0, 12.0),
        antecedent_water_table=s.number("antecedent_water_table", 0.0, 1.0, 0.0),
        suction_cohesion_kpa=s.number("suction_cohesion_kpa", 0.0, 50.0, 4.0),
        root_cohesion_kpa=s.number("root_cohesion_kpa", 0.0, 50.0, 0.0),
        probe_noise=s.number("probe_noise", 0.0, 0.05, 0.004),
    )
    s.finish()
    return out


def _failure(s: Section) -> Failure:
    out = Failure(
        threshold_sd=s.number("threshold_sd", 0.0, 0.5, 0.05),
        cohesion_cv=s.number("cohesion_cv", 0.0, 1.0, 0.3),
        friction_sd_deg=s.number("friction_sd_deg", 0.0, 10.0, 1.5),
    )
    s.finish()
    return out


def _antecedent(s: Section) -> Antecedent:
    rain = s.optional_number("rain_mm", 0.0, 5000.0)
    out = Antecedent(
        rain_mm=rain,
        days=round(s.number("days", 1.0, 90.0, 30.0)),
        source=s.text("source", default=""),
    )
    if rain is not None and not out.source:
        raise s.error("source", "is required with rain_mm (cite where the figure comes from)")
    s.finish()
    return out


def parse_scenario(document: dict[str, object], path: Path) -> Scenario:
    """Validate a parsed scenario document; ``path`` resolves relative file names."""
    root = Section(document, "", str(path))
    head = root.section("scenario")
    step_s = head.number("step_s", 60.0, 3600.0, 300.0)
    duration_h = head.number("duration_h", step_s / 3600.0, 24.0 * 29)
    registry = Path(head.text("registry", default=str(DEFAULT_REGISTRY)))
    scenario = Scenario(
        name=head.text("name", default=path.stem),
        title=head.text("title"),
        description=head.text("description", default=""),
        start=head.moment("start"),
        duration_h=duration_h,
        step_s=step_s,
        registry=registry if registry.is_absolute() else REPO / registry,
        storms=tuple(parse_storm(s, path.parent, duration_h) for s in root.sections("storms")),
        reporting=_reporting(root.section("reporting"), step_s),
        soil=_soil(root.section("soil")),
        failure=_failure(root.section("failure")),
        faults=parse_faults(root.section("faults"), duration_h),
        path=str(path),
        antecedent=_antecedent(root.section("antecedent")),
    )
    head.finish()
    root.finish()
    if round(duration_h * 3600.0 / step_s) < 1:
        raise head.error("duration_h", "must cover at least one step")
    return scenario


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
