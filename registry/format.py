"""The station registry: the checked-in file of hillside stations and its validation.

The file is TOML (``deploy/stations/rio-de-janeiro.toml``): a ``network`` name, ``[[zones]]``
with ``id``/``name``/``municipality`` and optional ``[[zones.support_points]]`` (``name``,
``address``, ``lat``, ``lon``, ``example``: where residents go when warned), and
``[[stations]]`` each with the fields of :class:`Station`. The file's schema is declared once
(msgspec structs with ranges and allowed values); every field is checked on load, and an error
names the field and where it is.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import msgspec

from registry.errors import RegistryError
from registry.ids import ID_PATTERN

_M = msgspec.Meta
# As ID_PATTERN.fullmatch: msgspec searches, and "$" would let a trailing newline through.
_ID = Annotated[str, _M(pattern=ID_PATTERN.pattern.removesuffix("$") + r"\Z")]


@dataclass(frozen=True, slots=True)
class SupportPoint:
    """A place residents go to when warned (a shelter or community support point)."""

    name: str
    address: str
    lat: float
    lon: float
    example: bool = False  # a placeholder to replace with the civil defence's own list


@dataclass(frozen=True, slots=True)
class Zone:
    """A monitored hillside community; alerts are raised per zone."""

    id: str
    name: str
    municipality: str
    support_points: tuple[SupportPoint, ...] = ()


@dataclass(frozen=True, slots=True)
class Station:
    """One field station: a rain gauge with soil-moisture probes on a slope."""

    id: str
    zone: str
    name: str
    lat: float
    lon: float
    elevation_m: float
    slope_deg: float
    soil_depth_m: float  # vertical depth to the potential failure plane
    cohesion_kpa: float
    friction_deg: float
    unit_weight_knm3: float
    vwc_residual: float
    vwc_saturated: float
    sensor_depths_m: tuple[float, ...]
    expected_interval_s: float = 900.0
    status: str = "active"


@dataclass(frozen=True, slots=True)
class Registry:
    """A network's zones and stations, validated."""

    network: str
    zones: tuple[Zone, ...]
    stations: tuple[Station, ...]

    def station_ids(self) -> frozenset[str]:
        """Ids of every registered station."""
        return frozenset(s.id for s in self.stations)


class _SupportPointFile(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, _M(min_length=1, max_length=200)]
    address: Annotated[str, _M(max_length=300)] = ""
    lat: Annotated[float, _M(ge=-90.0, le=90.0)] = 0.0
    lon: Annotated[float, _M(ge=-180.0, le=180.0)] = 0.0
    example: bool = False


class _ZoneFile(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    name: str
    municipality: str = ""
    support_points: list[_SupportPointFile] = msgspec.field(default_factory=list)


class _StationFile(msgspec.Struct, forbid_unknown_fields=True):
    # The file's schema, declared once: types, ranges (units in the names), allowed values.
    id: _ID
    zone: str
    name: str
    lat: Annotated[float, _M(ge=-90.0, le=90.0)]
    lon: Annotated[float, _M(ge=-180.0, le=180.0)]
    elevation_m: Annotated[float, _M(ge=-100.0, le=9000.0)]
    slope_deg: Annotated[float, _M(ge=0.0, le=80.0)]
    soil_depth_m: Annotated[float, _M(ge=0.1, le=30.0)]
    cohesion_kpa: Annotated[float, _M(ge=0.0, le=200.0)]
    friction_deg: Annotated[float, _M(ge=5.0, le=60.0)]
    unit_weight_knm3: Annotated[float, _M(ge=10.0, le=30.0)]
    vwc_residual: Annotated[float, _M(ge=0.0, le=0.5)]
    vwc_saturated: Annotated[float, _M(ge=0.05, le=0.7)]
    sensor_depths_m: Annotated[tuple[Annotated[float, _M(gt=0.0, le=5.0)], ...], _M(min_length=1)]
    expected_interval_s: Annotated[float, _M(ge=10.0, le=86400.0)] = 900.0
    status: Literal["active", "maintenance", "retired"] = "active"

    def __post_init__(self) -> None:
        if self.vwc_residual >= self.vwc_saturated:
            raise ValueError("vwc_residual must be below vwc_saturated")


class _RegistryFile(msgspec.Struct, forbid_unknown_fields=True):
    network: _ID
    stations: Annotated[list[_StationFile], _M(min_length=1)]
    zones: list[_ZoneFile] = msgspec.field(default_factory=list)


_FIELD = re.compile(r"`\$(?:\.\w+\[\d+\])*\.(\w+)")  # the last name of msgspec's error path


def load_registry(path: Path) -> Registry:
    """Load and validate a registry file; raise :class:`RegistryError` naming the problem."""
    where = str(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RegistryError(f"cannot read: {exc.strerror}", path=where) from exc
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"not valid TOML: {exc}", path=where) from exc
    try:
        parsed = msgspec.convert(document, _RegistryFile)
    except msgspec.ValidationError as exc:
        found = _FIELD.search(str(exc))
        raise RegistryError(str(exc), path=where, field=found.group(1) if found else None) from None
    zones = tuple(
        Zone(
            z.id,
            z.name,
            z.municipality,
            tuple(SupportPoint(**msgspec.structs.asdict(p)) for p in z.support_points),
        )
        for z in parsed.zones
    )
    zone_ids = {z.id for z in zones}
    stations: list[Station] = []
    seen: set[str] = set()
    for i, raw in enumerate(parsed.stations):
        label = f"station #{i + 1} ({raw.id})"
        if raw.id in seen:
            raise RegistryError(f"{label}: duplicate id", path=where, field="id")
        if raw.zone not in zone_ids:
            raise RegistryError(
                f"{label}: zone {raw.zone!r} is not declared in [[zones]]",
                path=where,
                field="zone",
            )
        seen.add(raw.id)
        stations.append(Station(**msgspec.structs.asdict(raw)))
    return Registry(parsed.network, zones, tuple(stations))
