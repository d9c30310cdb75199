"""Typed, validated model configuration (one frozen dataclass per TOML section).

Every field is checked when the configuration is built; an invalid value raises
:class:`models.errors.ConfigError` naming the dotted field and the allowed range.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from models.errors import ConfigError

Triple = tuple[float, float, float]


WATER_TABLE_MAPPINGS = ("column", "probe")
"""The choices of ``slope.water_table``."""


@dataclass(frozen=True, slots=True)
class RainLevels:
    """Alerta Rio-style table: accumulations (mm) that reach levels 1, 2 and 3."""

    rain_1h_mm: Triple
    rain_24h_mm: Triple
    rain_96h_mm: Triple
    source: str


@dataclass(frozen=True, slots=True)
class IntensityDuration:
    """Threshold curve ``I = a * D**-b`` (I mm/h, D h; Caine 1980) and level ratios."""

    a: float
    b: float
    min_duration_h: float
    max_duration_h: float
    ratio_levels: Triple
    source: str


@dataclass(frozen=True, slots=True)
class Event:
    """Rain event separation: a dry spell of ``dry_spell_h`` ends an event."""

    dry_spell_h: float
    wet_threshold_mm: float


@dataclass(frozen=True, slots=True)
class Antecedent:
    """Antecedent precipitation index: daily decay ``k_daily`` and level thresholds (mm)."""

    k_daily: float
    levels_mm: Triple


@dataclass(frozen=True, slots=True)
class Slope:
    """Infinite-slope defaults for stations without registry values, and FS levels."""

    slope_deg: float
    soil_depth_m: float
    cohesion_kpa: float
    friction_deg: float
    unit_weight_knm3: float
    vwc_residual: float
    vwc_saturated: float
    water_unit_weight_knm3: float
    suction_cohesion_kpa: float  # apparent cohesion at residual water content, every station
    fs_levels: Triple
    # How a probe reading becomes a water table (docs/model.md, "Water table"): "column" — the
    # probe stands for the whole column (conservative: no failure missed in the backtest, more
    # false alarms); "probe" — only a saturated reading at the probe's depth proves a water
    # table, (z - d) / z as a lower bound (physically grounded; misses slopes whose water
    # table rises below the deepest probe, measured in docs/model.md).
    water_table: str = "column"


@dataclass(frozen=True, slots=True)
class Quality:
    """Data-quality rules: offline, stuck, out-of-range and clogged-gauge detection."""

    offline_intervals: int
    stuck_window_h: float
    stuck_tolerance_vwc: float
    rain_max_mm_per_h: float
    vwc_max_m3m3: float
    clog_neighbour_mm_1h: float
    clog_min_neighbours: int
    gap_max_mm_per_h: float  # rain a gap may hide where no zone neighbour reported (record)
    outlier_min_mm_per_h: float  # a step this wet at one gauge ...
    outlier_neighbour_mm_per_h: float  # ... while every reporting neighbour is this dry
    vwc_saturation_tolerance: float  # m3/m3 above a station's theta_s still believed
    vwc_jump_m3m3: float  # a probe rise this large after a rainless day in the zone is a fault


@dataclass(frozen=True, slots=True)
class Zone:
    """Zone aggregation: crisis corroboration and live-sensor minimum."""

    corroboration_stations: int
    soil_corroboration_level: int
    min_live_stations: int
    min_live_fraction: float


@dataclass(frozen=True, slots=True)
class Interpolation:
    """Inverse-distance weighting of neighbours' rainfall for silent gauges."""

    power: float
    max_neighbours: int
    max_distance_m: float


@dataclass(frozen=True, slots=True)
class Hysteresis:
    """Alert hysteresis: minutes a lower level must hold before de-escalating."""

    hold_minutes: float


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Complete configuration of one network's risk model."""

    network: str
    description: str
    rain_levels: RainLevels
    intensity_duration: IntensityDuration
    event: Event
    antecedent: Antecedent
    slope: Slope
    quality: Quality
    zone: Zone
    interpolation: Interpolation
    hysteresis: Hysteresis

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str | None = None) -> ModelConfig:
        """Build and validate a configuration from parsed TOML (a nested mapping)."""
        return _Parser(data, source).model()


class _Parser:
    """Reads sections and checks each value against its allowed range."""

    def __init__(self, data: Mapping[str, Any], source: str | None) -> None:
        self.data = data
        self.source = source

    def _fail(self, field: str, allowed: str, message: str) -> ConfigError:
        return ConfigError(field, allowed, message, self.source)

    def _section(self, name: str) -> Mapping[str, Any]:
        value = self.data.get(name)
        if not isinstance(value, Mapping):
            raise self._fail(name, "a [table]", "section is missing")
        return value

    def _raw(self, section: str, key: str) -> object:
        table = self._section(section)
        if key not in table:
            raise self._fail(f"{section}.{key}", "see docs/model.md", "field is missing")
        return table[key]

    def text(self, section: str, key: str) -> str:
        value = self._raw(section, key) if section else self.data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise self._fail(f"{section}.{key}" if section else key, "a non-empty string", "bad")
        return value

    def number(
        self, section: str, key: str, low: float, high: float, *, open_low: bool = False
    ) -> float:
        field = f"{section}.{key}"
        allowed = f"{low} {'<' if open_low else '<='} value <= {high}"
        value = self._raw(section, key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._fail(field, allowed, f"expected a number, got {value!r}")
        number = float(value)
        too_low = number <= low if open_low else number < low
        if math.isnan(number) or too_low or number > high:
            raise self._fail(field, allowed, f"{number} is out of range")
        return number

    def integer(self, section: str, key: str, low: int, high: int) -> int:
        field = f"{section}.{key}"
        value = self._raw(section, key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._fail(
                field, f"an integer {low}..{high}", f"expected an integer, got {value!r}"
            )
        if not low <= value <= high:
            raise self._fail(field, f"an integer {low}..{high}", f"{value} is out of range")
        return value

    def triple(self, section: str, key: str, low: float, high: float, *, rising: bool) -> Triple:
        field = f"{section}.{key}"
        order = "increasing" if rising else "decreasing"
        allowed = f"three strictly {order} numbers in [{low}, {high}] (inf disables a level)"
        value = self._raw(section, key)
        if not isinstance(value, list) or len(value) != 3:
            raise self._fail(field, allowed, f"expected a list of 3 numbers, got {value!r}")
        if any(isinstance(v, bool) or not isinstance(v, int | float) for v in value):
            raise self._fail(field, allowed, f"expected numbers, got {value!r}")
        a, b, c = (float(v) for v in value)
        if any(math.isnan(v) or v < low or v > high for v in (a, b, c)):
            raise self._fail(field, allowed, f"{value!r} has a value out of range")
        pairs = ((a, b), (b, c))
        if rising:
            ordered = all(x < y or (math.isinf(x) and math.isinf(y)) for x, y in pairs)
        else:
            ordered = all(x > y for x, y in pairs)
        if not ordered:
            raise self._fail(field, allowed, f"{value!r} is not strictly {order}")
        return (a, b, c)

    def model(self) -> ModelConfig:
        return ModelConfig(
            network=self.text("", "network"),
            description=self.text("", "description"),
            rain_levels=self.rain_levels(),
            intensity_duration=self.intensity_duration(),
            event=Event(
                dry_spell_h=self.number("event", "dry_spell_h", 0.0, 240.0, open_low=True),
                wet_threshold_mm=self.number("event", "wet_threshold_mm", 0.0, 5.0),
            ),
            antecedent=Antecedent(
                k_daily=self.number("antecedent", "k_daily", 0.5, 0.99),
                levels_mm=self.triple("antecedent", "levels_mm", 0.0, math.inf, rising=True),
            ),
            slope=self.slope(),
            quality=self.quality(),
            zone=Zone(
                corroboration_stations=self.integer("zone", "corroboration_stations", 1, 50),
                soil_corroboration_level=self.integer("zone", "soil_corroboration_level", 1, 3),
                min_live_stations=self.integer("zone", "min_live_stations", 0, 1000),
                min_live_fraction=self.number("zone", "min_live_fraction", 0.0, 1.0),
            ),
            interpolation=Interpolation(
                power=self.number("interpolation", "power", 0.5, 4.0),
                max_neighbours=self.integer("interpolation", "max_neighbours", 1, 32),
                max_distance_m=self.number(
                    "interpolation", "max_distance_m", 0.0, 100_000.0, open_low=True
                ),
            ),
            hysteresis=Hysteresis(
                hold_minutes=self.number("hysteresis", "hold_minutes", 0.0, 24 * 60.0)
            ),
        )

    def rain_levels(self) -> RainLevels:
        section = "rain_levels"
        return RainLevels(
            rain_1h_mm=self.triple(section, "rain_1h_mm", 1.0, 500.0, rising=True),
            rain_24h_mm=self.triple(section, "rain_24h_mm", 1.0, 2000.0, rising=True),
            rain_96h_mm=self.triple(section, "rain_96h_mm", 1.0, 5000.0, rising=True),
            source=self.text(section, "source"),
        )

    def intensity_duration(self) -> IntensityDuration:
        section = "intensity_duration"
        low = self.number(section, "min_duration_h", 0.0, 24.0, open_low=True)
        high = self.number(section, "max_duration_h", 1.0, 1000.0)
        if high <= low:
            raise self._fail(f"{section}.max_duration_h", f"> min_duration_h ({low})", "too small")
        return IntensityDuration(
            a=self.number(section, "a", 0.0, 1000.0, open_low=True),
            b=self.number(section, "b", 0.0, 2.0),
            min_duration_h=low,
            max_duration_h=high,
            ratio_levels=self.triple(section, "ratio_levels", 0.1, 10.0, rising=True),
            source=self.text(section, "source"),
        )

    def slope(self) -> Slope:
        s = "slope"
        residual = self.number(s, "vwc_residual", 0.0, 0.5)
        saturated = self.number(s, "vwc_saturated", 0.05, 0.7)
        if saturated <= residual:
            raise self._fail(f"{s}.vwc_saturated", f"> vwc_residual ({residual})", "too small")
        return Slope(
            slope_deg=self.number(s, "slope_deg", 0.0, 80.0),
            soil_depth_m=self.number(s, "soil_depth_m", 0.0, 50.0, open_low=True),
            cohesion_kpa=self.number(s, "cohesion_kpa", 0.0, 200.0),
            friction_deg=self.number(s, "friction_deg", 0.0, 60.0),
            unit_weight_knm3=self.number(s, "unit_weight_knm3", 10.0, 30.0),
            vwc_residual=residual,
            vwc_saturated=saturated,
            water_unit_weight_knm3=self.number(s, "water_unit_weight_knm3", 9.0, 10.5),
            suction_cohesion_kpa=self.number(s, "suction_cohesion_kpa", 0.0, 50.0),
            fs_levels=self.triple(s, "fs_levels", 0.1, 10.0, rising=False),
            water_table=self.water_table(s),
        )

    def water_table(self, section: str) -> str:
        value = self._section(section).get("water_table", "column")
        if value not in WATER_TABLE_MAPPINGS:
            raise self._fail(
                f"{section}.water_table", " or ".join(WATER_TABLE_MAPPINGS), f"got {value!r}"
            )
        return str(value)

    def quality(self) -> Quality:
        q = "quality"
        return Quality(
            offline_intervals=self.integer(q, "offline_intervals", 1, 1000),
            stuck_window_h=self.number(q, "stuck_window_h", 0.0, 96.0, open_low=True),
            stuck_tolerance_vwc=self.number(q, "stuck_tolerance_vwc", 0.0, 0.05),
            rain_max_mm_per_h=self.number(q, "rain_max_mm_per_h", 50.0, 2000.0),
            vwc_max_m3m3=self.number(q, "vwc_max_m3m3", 0.3, 1.0),
            clog_neighbour_mm_1h=self.number(q, "clog_neighbour_mm_1h", 0.0, 200.0, open_low=True),
            clog_min_neighbours=self.integer(q, "clog_min_neighbours", 1, 50),
            gap_max_mm_per_h=self.number(q, "gap_max_mm_per_h", 10.0, 2000.0),
            outlier_min_mm_per_h=self.number(q, "outlier_min_mm_per_h", 1.0, 2000.0),
            outlier_neighbour_mm_per_h=self.number(q, "outlier_neighbour_mm_per_h", 0.0, 100.0),
            vwc_saturation_tolerance=self.number(q, "vwc_saturation_tolerance", 0.0, 0.3),
            vwc_jump_m3m3=self.number(q, "vwc_jump_m3m3", 0.01, 1.0),
        )
