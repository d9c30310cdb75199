"""The station registry file: loaded into the domain types; every bad field named."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from registry.errors import RegistryError
from registry.format import Station, load_registry
from tests.conftest import REPO

RIO = REPO / "deploy" / "stations" / "rio-de-janeiro.toml"


def test_the_rio_registry_loads_as_before() -> None:
    """All stations and zones, numbers as floats, depths as tuples, defaults filled in."""
    registry = load_registry(RIO)
    raw = tomllib.loads(RIO.read_text())
    assert registry.network == "rio"
    assert [s.id for s in registry.stations] == [s["id"] for s in raw["stations"]]
    assert {z.id for z in registry.zones} == {z["id"] for z in raw["zones"]}
    first = registry.stations[0]
    assert isinstance(first, Station)
    assert isinstance(first.elevation_m, float)
    assert isinstance(first.sensor_depths_m, tuple)
    assert first.sensor_depths_m == tuple(float(d) for d in raw["stations"][0]["sensor_depths_m"])
    assert all(s.status in {"active", "maintenance", "retired"} for s in registry.stations)


def _one_station(tmp_path: Path, **changes: object) -> Path:
    """The Rio file cut to its first zone and station, with ``changes`` to that station."""
    raw = tomllib.loads(RIO.read_text())
    station = {**raw["stations"][0], **changes}
    station = {k: v for k, v in station.items() if v is not None}
    zone = next(z for z in raw["zones"] if z["id"] == station["zone"])

    def value(v: object) -> str:
        if isinstance(v, bool):
            return str(v).lower()
        if isinstance(v, str):
            return f'"{v}"'.replace("\n", "\\n")
        return repr(list(v)) if isinstance(v, list | tuple) else repr(v)

    zone.pop("support_points", None)  # an array of tables: not a one-line value
    lines = ['network = "rio"', "[[zones]]"] + [f"{k} = {value(v)}" for k, v in zone.items()]
    lines += ["[[stations]]"] + [f"{k} = {value(v)}" for k, v in station.items()]
    path = tmp_path / "registry.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"slope_deg": 85.0}, "slope_deg"),
        ({"lat": True}, "lat"),
        ({"colour": "red"}, None),
        ({"status": "broken"}, "status"),
        ({"sensor_depths_m": []}, "sensor_depths_m"),
        ({"sensor_depths_m": [0.3, 6.0]}, "sensor_depths_m"),
        ({"id": "Upper-Case"}, "id"),
        ({"id": "st-1\n"}, "id"),
        ({"cohesion_kpa": None}, None),
        ({"vwc_residual": 0.45, "vwc_saturated": 0.4}, None),
    ],
)
def test_a_bad_station_is_refused_naming_the_field(
    tmp_path: Path, changes: dict[str, object], field: str | None
) -> None:
    """Ranges, types, allowed values, unknown and missing fields: a RegistryError names them."""
    path = _one_station(tmp_path, **changes)
    with pytest.raises(RegistryError) as info:
        load_registry(path)
    assert info.value.path == str(path)
    if field is not None:
        assert info.value.field == field
    named = field or next(iter(changes))
    assert named in str(info.value) or "vwc_residual" in str(info.value)


def test_duplicates_and_undeclared_zones_are_refused(tmp_path: Path) -> None:
    """Two stations with one id, or a station in a zone not declared, are refused."""
    path = _one_station(tmp_path)
    text = path.read_text()
    station = text[text.index("[[stations]]") :]
    path.write_text(text + station)
    with pytest.raises(RegistryError, match="duplicate id"):
        load_registry(path)
    path.write_text(text.replace('zone = "', 'zone = "elsewhere-', 1))
    with pytest.raises(RegistryError, match="not declared") as info:
        load_registry(path)
    assert info.value.field == "zone"


def test_rio_support_points_are_marked_as_examples() -> None:
    """Every Rio zone has a support point for the status page, each marked as a placeholder."""
    registry = load_registry(RIO)
    for zone in registry.zones:
        assert zone.support_points, zone.id
        assert all(p.example for p in zone.support_points), zone.id
        assert all("exemplo" in p.name.lower() for p in zone.support_points), zone.id
