"""The values a logger puts in each report: rain, probe readings, battery and temperature."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from simulators.schedule import Reports

Array = npt.NDArray[np.float64]
NOMINAL_BATTERY_V = 3.95  # one Li-ion cell on a solar charger


@dataclass(frozen=True, slots=True)
class Table:
    """Report values: one row per report, one column per quantity (native names)."""

    quantities: tuple[str, ...]
    values: Array  # (reports, quantities)

    def column(self, name: str) -> int:
        """Index of a quantity's column."""
        return self.quantities.index(name)


def probe_name(depth_m: float) -> str:
    """The native quantity name of a probe at ``depth_m``: ``vwc_d60`` for 0.6 m."""
    return f"vwc_d{round(depth_m * 100)}"


def telemetry(  # noqa: PLR0913, PLR0917  the physical inputs of one report table
    rows: Reports,
    probe_vwc: npt.NDArray[np.float32],
    depths_m: tuple[float, ...],
    rain_mm: Array,
    solar_hour: Array,
    probe_noise: float,
    rng: np.random.Generator,
) -> Table:
    """Build the report table; ``solar_hour`` is the local solar hour of each row."""
    n = rows.station.size
    vwc = probe_vwc[rows.station, :, rows.step].astype(np.float64)
    if probe_noise > 0:
        vwc += rng.normal(0.0, probe_noise, vwc.shape)
    vwc = np.asarray(np.round(np.clip(vwc, 0.0, 0.7), 3), dtype=np.float64)
    daylight = np.sin(np.pi * np.clip((solar_hour - 6.0) / 12.0, 0.0, 1.0))
    battery = NOMINAL_BATTERY_V + 0.12 * daylight - 0.05 + rng.normal(0.0, 0.01, n)
    raining = rain_mm[rows.station, rows.step] > 0.0
    temp = 23.0 + 5.0 * np.sin(2 * math.pi * (solar_hour - 9.0) / 24.0) - 3.0 * raining
    temp += rng.normal(0.0, 0.3, n)
    names = ("rain_mm", *(probe_name(d) for d in depths_m), "battery_v", "temp_c")
    values = np.column_stack([rows.rain_mm, vwc, np.round(battery, 2), np.round(temp, 1)])
    return Table(names, values)
