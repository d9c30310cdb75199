"""Ground truth: when each simulated slope fails, by a process the risk model does not share.

The risk model sees registry parameters and probe readings. The truth uses what it cannot:

* the slope's *true* strength: cohesion = registry value (c' with roots) x a lognormal factor
  (``cohesion_cv``), plus any extra root cohesion (default 0: the registry holds the roots),
  plus an apparent (suction) cohesion ``c_s (1 - Se) (1 - h/z)`` lost as the matrix wets up
  and as the perched water table h rises over the failure plane (where suction is zero;
  Fredlund et al. 1978, Lu & Godt 2013), and a friction angle perturbed by
  ``friction_sd_deg``;
* the simulated perched water table (not a wetness inferred from probe readings);
* a critical factor of safety drawn per slope around 1 (``threshold_sd``): real slopes fail
  a little above or below FS = 1 because of what no model holds (Hammond et al. 1992 and
  the probabilistic infinite-slope literature treat FS as a random variable for this reason).

FS is the infinite-slope expression (Skempton and DeLory 1957) with the water table height
``m·z`` above the failure plane. A slope that is standing at the start has, by that fact, a
threshold below its initial FS: the draw is conditioned on survival. A slope fails once, at
the first step its FS drops below its threshold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from simulators.scenario import Failure, Soil

Array = npt.NDArray[np.float64]
GAMMA_WATER = 9.81  # kN/m3
_SURVIVAL_MARGIN = 0.02


@dataclass(frozen=True, slots=True)
class StationTruth:
    """What really happened at one station's slope."""

    station: str
    zone: str
    failed: bool
    failure_ts: float | None  # epoch seconds (anchored time)
    min_fs: float
    min_fs_ts: float
    threshold: float
    initial_fs: float
    peak_water_table_m: float
    rain_total_mm: float


@dataclass(frozen=True, slots=True)
class ZoneTruth:
    """A zone fails with its first failed slope."""

    zone: str
    failed_stations: int
    first_failure_ts: float | None


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """Per-station and per-zone truth of one run."""

    stations: tuple[StationTruth, ...]
    zones: tuple[ZoneTruth, ...]


@dataclass(frozen=True, slots=True)
class Slopes:
    """Registry parameters of the slopes, one array entry per station."""

    ids: tuple[str, ...]
    zones: tuple[str, ...]
    slope_deg: Array
    soil_depth_m: Array
    cohesion_kpa: Array
    friction_deg: Array
    unit_weight_knm3: Array


def factor_of_safety(
    slopes: Slopes, cohesion: Array, friction_deg: Array, water_table_m: Array
) -> Array:
    """Infinite-slope FS (stations x steps) for true strengths and a water table height."""
    beta = np.radians(slopes.slope_deg)[:, None]
    z = slopes.soil_depth_m[:, None]
    gamma = slopes.unit_weight_knm3[:, None]
    m = np.clip(water_table_m / z, 0.0, 1.0)
    resisting = cohesion + (gamma - m * GAMMA_WATER) * z * np.cos(beta) ** 2 * np.tan(
        np.radians(friction_deg)[:, None]
    )
    return np.asarray(resisting / (gamma * z * np.sin(beta) * np.cos(beta)), dtype=np.float64)


def ground_truth(  # noqa: PLR0913, PLR0917  every argument is a distinct input of the process
    slopes: Slopes,
    water_table_m: npt.NDArray[np.float32],
    wetness: npt.NDArray[np.float32],
    rain_mm: Array,
    step_end_ts: Array,
    failure: Failure,
    soil: Soil,
    rng: np.random.Generator,
) -> GroundTruth:
    """Draw the hidden strengths and thresholds, and find each slope's failure time."""
    n = len(slopes.ids)
    sigma = np.sqrt(np.log1p(failure.cohesion_cv**2))
    cohesion_factor = rng.lognormal(-(sigma**2) / 2.0, sigma, n) if sigma > 0 else np.ones(n)
    friction = slopes.friction_deg + rng.normal(0.0, failure.friction_sd_deg, n)
    threshold = 1.0 + failure.threshold_sd * rng.standard_normal(n)
    table = water_table_m.astype(np.float64)
    saturated = np.clip(table / slopes.soil_depth_m[:, None], 0.0, 1.0)
    # Suction acts at the failure plane: the matrix's dryness keeps it, and a perched water
    # table over the plane removes it (positive pore pressure there), hence both factors.
    suction = soil.suction_cohesion_kpa * (1.0 - wetness.astype(np.float64)) * (1.0 - saturated)
    cohesion = (slopes.cohesion_kpa * cohesion_factor + soil.root_cohesion_kpa)[:, None] + suction
    fs = factor_of_safety(slopes, cohesion, friction, table)
    threshold = np.minimum(threshold, fs[:, 0] - _SURVIVAL_MARGIN)
    below = fs < threshold[:, None]
    failed = np.asarray(below.any(axis=1), dtype=np.bool_)
    first = np.asarray(below.argmax(axis=1))
    lowest = fs.argmin(axis=1)
    rows = np.arange(n)
    stations = tuple(
        StationTruth(
            station=slopes.ids[i],
            zone=slopes.zones[i],
            failed=bool(failed[i]),
            failure_ts=float(step_end_ts[first[i]]) if failed[i] else None,
            min_fs=round(float(fs[i, lowest[i]]), 4),
            min_fs_ts=float(step_end_ts[lowest[i]]),
            threshold=round(float(threshold[i]), 4),
            initial_fs=round(float(fs[i, 0]), 4),
            peak_water_table_m=round(float(water_table_m[i].max()), 3),
            rain_total_mm=round(float(rain_mm[i].sum()), 2),
        )
        for i in rows
    )
    zones = []
    for zone in dict.fromkeys(slopes.zones):
        times = [s.failure_ts for s in stations if s.zone == zone and s.failure_ts is not None]
        zones.append(ZoneTruth(zone, len(times), min(times) if times else None))
    return GroundTruth(stations, tuple(zones))
