"""The catalogue of quantities a station may report, with units and plausible ranges.

Native JSON names every quantity with its unit (``rain_mm``, ``battery_v``); volumetric water
content is a ratio (m³/m³) and is named ``vwc``, or ``vwc_d<cm>`` for a sensor at a given depth
(``vwc_d60`` = 60 cm below the surface). SenML (RFC 8428) names the same quantities without the
unit suffix and carries the unit in ``u``/``bu``; units follow the SenML registry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ingest.errors import PayloadError
from ingest.reasons import Reason


@dataclass(frozen=True, slots=True)
class Quantity:
    """One measured quantity: its stored name, SenML name and units, and physical limits."""

    name: str
    senml_name: str
    senml_units: dict[str, float]  # accepted SenML unit -> factor to the stored unit
    minimum: float
    maximum: float
    description: str

    def check(self, value: float) -> float:
        """Return ``value`` when it is physically plausible, else raise ``out_of_range``."""
        if not self.minimum <= value <= self.maximum:
            raise PayloadError(
                Reason.OUT_OF_RANGE,
                f"{self.name}={value} outside [{self.minimum}, {self.maximum}]",
            )
        return value


_VWC_UNITS = {"m3/m3": 1.0, "/": 1.0, "%": 0.01}

# Rain is per report (the amount since the station's previous report). Rio's hourly record is
# 123.6 mm (Barra/Riocentro, 2018); a backlog record may cover a longer interval, so the cap is
# generous but still catches a tipping-bucket counter that wrapped or was reported in 0.1 mm.
BASE_QUANTITIES: tuple[Quantity, ...] = (
    Quantity(
        "rain_mm",
        "rain",
        {"mm": 1.0, "m": 1000.0},
        0.0,
        250.0,
        "rainfall since the previous report, mm",
    ),
    Quantity(
        "vwc",
        "vwc",
        _VWC_UNITS,
        0.0,
        0.7,
        "volumetric water content at the station's reference depth, m3/m3",
    ),
    Quantity(
        "pore_kpa",
        "pore",
        {"kPa": 1.0, "Pa": 0.001},
        -100.0,
        500.0,
        "pore-water pressure (negative = suction), kPa",
    ),
    Quantity("battery_v", "battery", {"V": 1.0}, 0.0, 30.0, "logger battery voltage, V"),
    Quantity("temp_c", "temp", {"Cel": 1.0}, -20.0, 70.0, "air or logger temperature, deg C"),
)
_BY_NAME = {q.name: q for q in BASE_QUANTITIES}
_BY_SENML = {q.senml_name: q for q in BASE_QUANTITIES}
_DEPTH = re.compile(r"^vwc_d([1-9][0-9]{0,2})$")
# Native keys that name a quantity but forgot its unit: "rain": 2.4 is ambiguous (mm? in?).
_UNITLESS = {"rain", "pore", "pore_pressure", "battery", "temp", "temperature"}
MAX_DEPTH_CM = 500


def _depth_quantity(name: str, depth_cm: int) -> Quantity:
    if depth_cm > MAX_DEPTH_CM:
        raise PayloadError(Reason.OUT_OF_RANGE, f"{name}: depth {depth_cm} cm > {MAX_DEPTH_CM}")
    base = _BY_NAME["vwc"]
    return Quantity(
        name,
        name,
        base.senml_units,
        base.minimum,
        base.maximum,
        f"volumetric water content at {depth_cm} cm, m3/m3",
    )


def native(key: str) -> Quantity:
    """The quantity a native JSON key names; raise ``unit_missing``/``unknown_quantity``."""
    found = _BY_NAME.get(key)
    if found is not None:
        return found
    match = _DEPTH.fullmatch(key)
    if match:
        return _depth_quantity(key, int(match.group(1)))
    if key in _UNITLESS:
        raise PayloadError(Reason.UNIT_MISSING, f"{key!r} needs its unit in the name, e.g. rain_mm")
    raise PayloadError(Reason.UNKNOWN_QUANTITY, f"{key!r} is not a known quantity")


def senml(name: str) -> Quantity:
    """The quantity a SenML record name (after the base name) stands for."""
    found = _BY_SENML.get(name)
    if found is not None:
        return found
    match = _DEPTH.fullmatch(name)
    if match:
        return _depth_quantity(name, int(match.group(1)))
    raise PayloadError(Reason.UNKNOWN_QUANTITY, f"SenML name {name!r} is not a known quantity")
