"""Typed, validated model configuration (one frozen dataclass per TOML section).

The file's schema is declared once, on the dataclasses themselves: types and ranges as
``Annotated[..., msgspec.Meta(...)]``, cross-field rules in ``__post_init__``. msgspec checks
every field when the configuration is built, unknown keys are refused, and an invalid value
raises :class:`models.errors.ConfigError` naming the file, the dotted field and the allowed
range (read back from the same declaration).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args

import msgspec

from models.errors import ConfigError

Triple = tuple[float, float, float]
_M = msgspec.Meta
_Text = Annotated[str, _M(pattern=r"\S")]
_Rain1h = Annotated[float, _M(ge=1.0, le=500.0)]
_Rain24h = Annotated[float, _M(ge=1.0, le=2000.0)]
_Rain96h = Annotated[float, _M(ge=1.0, le=5000.0)]
_Mm = Annotated[float, _M(ge=0.0)]
_Ratio = Annotated[float, _M(ge=0.1, le=10.0)]
_WaterTable = Literal["column", "probe"]

WATER_TABLE_MAPPINGS: tuple[str, ...] = get_args(_WaterTable)
"""The choices of ``slope.water_table``."""


class _InvalidError(ValueError):
    """A cross-field rule broken inside one section (msgspec adds the section's path)."""

    def __init__(self, key: str, allowed: str, message: str) -> None:
        super().__init__(message)
        self.key, self.allowed = key, allowed


def _ordered(key: str, value: Triple, *, rising: bool) -> None:
    """Refuse a level triple that is not strictly increasing (``rising``) or decreasing."""
    pairs = ((value[0], value[1]), (value[1], value[2]))
    if rising:
        ordered = all(x < y or (math.isinf(x) and math.isinf(y)) for x, y in pairs)
    else:
        ordered = all(x > y for x, y in pairs)
    if not ordered:
        order = "increasing" if rising else "decreasing"
        allowed = f"three strictly {order} numbers (inf disables a level)"
        raise _InvalidError(key, allowed, f"{list(value)!r} is not strictly {order}")


@dataclass(frozen=True, slots=True)
class RainLevels:
    """Alerta Rio-style table: accumulations (mm) that reach levels 1, 2 and 3."""

    rain_1h_mm: tuple[_Rain1h, _Rain1h, _Rain1h]
    rain_24h_mm: tuple[_Rain24h, _Rain24h, _Rain24h]
    rain_96h_mm: tuple[_Rain96h, _Rain96h, _Rain96h]
    source: _Text
    # Cause-trigger gate on the 24 h sum (docs/model.md): event rainfall is a trigger; above
    # this level it counts only where the slope or the antecedent index has reached it too, or
    # is unknown — as [intensity_duration] cause_level does for the ID curve. 0: no gate.
    cause_level_24h: Annotated[int, _M(ge=0, le=3)] = 0

    def __post_init__(self) -> None:
        for key in ("rain_1h_mm", "rain_24h_mm", "rain_96h_mm"):
            _ordered(key, getattr(self, key), rising=True)


@dataclass(frozen=True, slots=True)
class IntensityDuration:
    """Threshold curve ``I = a * D**-b`` (I mm/h, D h; Caine 1980) and level ratios."""

    a: Annotated[float, _M(gt=0.0, le=1000.0)]
    b: Annotated[float, _M(ge=0.0, le=2.0)]
    min_duration_h: Annotated[float, _M(gt=0.0, le=24.0)]
    max_duration_h: Annotated[float, _M(ge=1.0, le=1000.0)]
    ratio_levels: tuple[_Ratio, _Ratio, _Ratio]
    source: _Text
    # Cause-trigger gate (docs/model.md): above this level the ID trigger counts only where a
    # cause criterion (slope, antecedent index) has reached it too, or is unknown. 0: no gate.
    cause_level: Annotated[int, _M(ge=0, le=3)] = 0

    def __post_init__(self) -> None:
        if self.max_duration_h <= self.min_duration_h:
            allowed = f"> min_duration_h ({self.min_duration_h})"
            raise _InvalidError("max_duration_h", allowed, "too small")
        _ordered("ratio_levels", self.ratio_levels, rising=True)


@dataclass(frozen=True, slots=True)
class Event:
    """Rain event separation: a dry spell of ``dry_spell_h`` ends an event."""

    dry_spell_h: Annotated[float, _M(gt=0.0, le=240.0)]
    wet_threshold_mm: Annotated[float, _M(ge=0.0, le=5.0)]


@dataclass(frozen=True, slots=True)
class Antecedent:
    """Antecedent precipitation index: daily decay ``k_daily`` and level thresholds (mm)."""

    k_daily: Annotated[float, _M(ge=0.5, le=0.99)]
    levels_mm: tuple[_Mm, _Mm, _Mm]

    def __post_init__(self) -> None:
        _ordered("levels_mm", self.levels_mm, rising=True)


@dataclass(frozen=True, slots=True)
class Slope:
    """Infinite-slope defaults for stations without registry values, and FS levels."""

    slope_deg: Annotated[float, _M(ge=0.0, le=80.0)]
    soil_depth_m: Annotated[float, _M(gt=0.0, le=50.0)]
    cohesion_kpa: Annotated[float, _M(ge=0.0, le=200.0)]
    friction_deg: Annotated[float, _M(ge=0.0, le=60.0)]
    unit_weight_knm3: Annotated[float, _M(ge=10.0, le=30.0)]
    vwc_residual: Annotated[float, _M(ge=0.0, le=0.5)]
    vwc_saturated: Annotated[float, _M(ge=0.05, le=0.7)]
    water_unit_weight_knm3: Annotated[float, _M(ge=9.0, le=10.5)]
    # apparent cohesion at residual water content, every station
    suction_cohesion_kpa: Annotated[float, _M(ge=0.0, le=50.0)]
    fs_levels: tuple[_Ratio, _Ratio, _Ratio]
    # How a probe reading becomes a water table (docs/model.md, "Wetness and water table"):
    # "column" — the probe stands for the whole column (conservative: no failure missed in the
    # backtest, more false alarms); "probe" — only a saturated reading at the probe's depth
    # proves a water table, (z - d) / z as a lower bound (physically grounded; misses slopes
    # whose water table rises below the deepest probe, measured in docs/model.md).
    water_table: _WaterTable = "column"

    def __post_init__(self) -> None:
        if self.vwc_saturated <= self.vwc_residual:
            allowed = f"> vwc_residual ({self.vwc_residual})"
            raise _InvalidError("vwc_saturated", allowed, "too small")
        _ordered("fs_levels", self.fs_levels, rising=False)


@dataclass(frozen=True, slots=True)
class Quality:
    """Data-quality rules: offline, stuck, out-of-range and clogged-gauge detection."""

    offline_intervals: Annotated[int, _M(ge=1, le=1000)]
    stuck_window_h: Annotated[float, _M(gt=0.0, le=96.0)]
    stuck_tolerance_vwc: Annotated[float, _M(ge=0.0, le=0.05)]
    rain_max_mm_per_h: Annotated[float, _M(ge=50.0, le=2000.0)]
    vwc_max_m3m3: Annotated[float, _M(ge=0.3, le=1.0)]
    clog_neighbour_mm_1h: Annotated[float, _M(gt=0.0, le=200.0)]
    clog_min_neighbours: Annotated[int, _M(ge=1, le=50)]
    # rain a gap may hide where no zone neighbour reported (record)
    gap_max_mm_per_h: Annotated[float, _M(ge=10.0, le=2000.0)]
    # a step this wet at one gauge ...
    outlier_min_mm_per_h: Annotated[float, _M(ge=1.0, le=2000.0)]
    # ... while every reporting neighbour is this dry
    outlier_neighbour_mm_per_h: Annotated[float, _M(ge=0.0, le=100.0)]
    # m3/m3 above a station's theta_s still believed
    vwc_saturation_tolerance: Annotated[float, _M(ge=0.0, le=0.3)]
    # a probe rise this large after a rainless day in the zone is a fault
    vwc_jump_m3m3: Annotated[float, _M(ge=0.01, le=1.0)]


@dataclass(frozen=True, slots=True)
class Zone:
    """Zone aggregation: crisis corroboration and live-sensor minimum."""

    corroboration_stations: Annotated[int, _M(ge=1, le=50)]
    soil_corroboration_level: Annotated[int, _M(ge=1, le=3)]
    min_live_stations: Annotated[int, _M(ge=0, le=1000)]
    min_live_fraction: Annotated[float, _M(ge=0.0, le=1.0)]


@dataclass(frozen=True, slots=True)
class Interpolation:
    """Inverse-distance weighting of neighbours' rainfall for silent gauges."""

    power: Annotated[float, _M(ge=0.5, le=4.0)]
    max_neighbours: Annotated[int, _M(ge=1, le=32)]
    max_distance_m: Annotated[float, _M(gt=0.0, le=100_000.0)]


@dataclass(frozen=True, slots=True)
class Hysteresis:
    """Alert hysteresis: minutes a lower level must hold before de-escalating."""

    hold_minutes: Annotated[float, _M(ge=0.0, le=24 * 60.0)]


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Complete configuration of one network's risk model."""

    network: _Text
    description: _Text
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
        unknown = _unknown_key(data, msgspec.inspect.type_info(cls))
        if unknown:
            raise ConfigError(unknown, "see docs/model.md", "unknown field", source)
        try:
            return msgspec.convert(data, cls)
        except msgspec.ValidationError as exc:
            raise _config_error(exc, source) from None


# msgspec's messages: "<what> - at `$.section.key[i]`"; "Object missing required field `k`".
_PATH = re.compile(r" - at `\$(.*)`\Z")
_MISSING = re.compile(r"missing required field `(\w+)`")


def _unknown_key(data: object, info: msgspec.inspect.Type, prefix: str = "") -> str | None:
    """The dotted name of the first key the schema does not declare (dataclasses ignore them)."""
    if not isinstance(info, msgspec.inspect.DataclassType) or not isinstance(data, Mapping):
        return None
    fields = {f.name: f.type for f in info.fields}
    for key, value in data.items():
        if key not in fields:
            return f"{prefix}{key}"
        found = _unknown_key(value, fields[key], f"{prefix}{key}.")
        if found:
            return found
    return None


def _config_error(exc: msgspec.ValidationError, source: str | None) -> ConfigError:
    """A :class:`ConfigError` naming the field msgspec's error path points at."""
    text = str(exc)
    path, missing = _PATH.search(text), _MISSING.search(text)
    names = re.findall(r"\.(\w+)", path.group(1)) if path else []
    if missing:
        names.append(missing.group(1))
    cause = exc.__context__
    if isinstance(cause, _InvalidError):
        names.append(cause.key)
        return ConfigError(".".join(names), cause.allowed, str(cause), source)
    info: msgspec.inspect.Type = msgspec.inspect.type_info(ModelConfig)
    for name in names:
        if isinstance(info, msgspec.inspect.DataclassType):
            info = next(f.type for f in info.fields if f.name == name)
    message = "field is missing" if missing else text.partition(" - at ")[0]
    return ConfigError(".".join(names) or "<file>", _allowed(info), message, source)


def _allowed(info: msgspec.inspect.Type) -> str:
    """The allowed values of one declared type, in words."""
    if isinstance(info, msgspec.inspect.FloatType):
        low = f"{info.gt} < " if info.gt is not None else f"{info.ge} <= "
        high = f" <= {info.le}" if info.le is not None else ""
        return f"{low}value{high}"
    if isinstance(info, msgspec.inspect.IntType):
        return f"an integer {info.ge}..{info.le}"
    if isinstance(info, msgspec.inspect.TupleType):
        return f"a list of {len(info.item_types)} numbers, each {_allowed(info.item_types[0])}"
    if isinstance(info, msgspec.inspect.LiteralType):
        return " or ".join(str(v) for v in info.values)
    if isinstance(info, msgspec.inspect.StrType):
        return "a non-empty string"
    return "a [table]"
