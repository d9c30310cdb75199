"""The station registry: the checked-in file of hillside stations and its validation.

The file is TOML (``deploy/stations/rio-de-janeiro.toml``): a ``network`` name, ``[[zones]]``
with ``id``/``name``/``municipality``, and ``[[stations]]`` each with the fields of
:class:`Station`. Every field is checked on load; an error names the station and the field.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ingest.errors import RegistryError
from ingest.topic import ID_PATTERN

# field -> (minimum, maximum) for the numeric fields; units are in the names.
_RANGES: dict[str, tuple[float, float]] = {
    "lat": (-90.0, 90.0),
    "lon": (-180.0, 180.0),
    "elevation_m": (-100.0, 9000.0),
    "slope_deg": (0.0, 80.0),
    "soil_depth_m": (0.1, 30.0),
    "cohesion_kpa": (0.0, 200.0),
    "friction_deg": (5.0, 60.0),
    "unit_weight_knm3": (10.0, 30.0),
    "vwc_residual": (0.0, 0.5),
    "vwc_saturated": (0.05, 0.7),
    "expected_interval_s": (10.0, 86400.0),
}
STATUSES = ("active", "maintenance", "retired")


@dataclass(frozen=True, slots=True)
class Zone:
    """A monitored hillside community; alerts are raised per zone."""

    id: str
    name: str
    municipality: str


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


def _check_fields(raw: dict[str, Any], where: str, path: str) -> None:
    names = {f.name for f in fields(Station)}
    unknown = set(raw) - names
    if unknown:
        raise RegistryError(
            f"{where}: unknown field(s) {sorted(unknown)}", path=path, field=min(unknown)
        )
    for name in ("id", "zone", "name", *_RANGES, "sensor_depths_m"):
        if name not in raw and name != "expected_interval_s":
            raise RegistryError(f"{where}: missing field {name!r}", path=path, field=name)
    for name, (low, high) in _RANGES.items():
        value = raw.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RegistryError(f"{where}: {name} must be a number", path=path, field=name)
        if not low <= value <= high:
            raise RegistryError(
                f"{where}: {name}={value} outside [{low}, {high}]", path=path, field=name
            )


def _station(raw: dict[str, Any], where: str, path: str) -> Station:
    _check_fields(raw, where, path)
    depths = raw["sensor_depths_m"]
    if (
        not isinstance(depths, list)
        or not depths
        or not all(isinstance(d, int | float) and 0.0 < d <= 5.0 for d in depths)
    ):
        raise RegistryError(
            f"{where}: sensor_depths_m must be a non-empty list of depths in (0, 5] m",
            path=path,
            field="sensor_depths_m",
        )
    if raw["vwc_residual"] >= raw["vwc_saturated"]:
        raise RegistryError(
            f"{where}: vwc_residual must be below vwc_saturated", path=path, field="vwc_residual"
        )
    if raw.get("status", "active") not in STATUSES:
        raise RegistryError(f"{where}: status must be one of {STATUSES}", path=path, field="status")
    values: dict[str, Any] = {k: float(v) if k in _RANGES else v for k, v in raw.items()}
    values["sensor_depths_m"] = tuple(float(d) for d in depths)
    return Station(**values)


def load_registry(path: Path) -> Registry:
    """Load and validate a registry file; raise :class:`RegistryError` naming the problem."""
    where = str(path)
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RegistryError(f"cannot read: {exc.strerror}", path=where) from exc
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"not valid TOML: {exc}", path=where) from exc
    network = document.get("network")
    if not isinstance(network, str) or not ID_PATTERN.fullmatch(network):
        raise RegistryError("network must be a lower-case identifier", path=where, field="network")
    zones = tuple(
        Zone(str(z.get("id")), str(z.get("name")), str(z.get("municipality", "")))
        for z in document.get("zones", [])
    )
    zone_ids = {z.id for z in zones}
    stations = []
    seen: set[str] = set()
    for i, raw in enumerate(document.get("stations", [])):
        label = f"station #{i + 1} ({raw.get('id', '?')})"
        station = _station(raw, label, where)
        if not ID_PATTERN.fullmatch(station.id):
            raise RegistryError(
                f"{label}: id must match {ID_PATTERN.pattern}", path=where, field="id"
            )
        if station.id in seen:
            raise RegistryError(f"{label}: duplicate id", path=where, field="id")
        if station.zone not in zone_ids:
            raise RegistryError(
                f"{label}: zone {station.zone!r} is not declared in [[zones]]",
                path=where,
                field="zone",
            )
        seen.add(station.id)
        stations.append(station)
    if not stations:
        raise RegistryError("no [[stations]]", path=where, field="stations")
    return Registry(network, zones, tuple(stations))
