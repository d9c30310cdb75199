"""Model inputs: regularly gridded series for all stations plus per-station parameters."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from models.errors import InputError

if TYPE_CHECKING:
    from models.config import ModelConfig

FloatArray = npt.NDArray[np.float64]
AnyFloatArray = npt.NDArray[np.floating[Any]]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class StepWindows:
    """Window lengths in grid steps for one step size (minutes dividing 60)."""

    step_minutes: int
    w1h: int
    w24h: int
    w96h: int
    dry_spell: int
    stuck: int
    offline: int
    k_step: float
    rain_max_mm: float

    @classmethod
    def build(cls, step_minutes: int, config: ModelConfig) -> StepWindows:
        """Convert the configuration's hours and daily decay to this grid step."""
        if step_minutes <= 0 or 60 % step_minutes:
            raise InputError("step_minutes", f"must divide 60 (5 or 15), got {step_minutes}")
        per_h = 60 // step_minutes
        return cls(
            step_minutes=step_minutes,
            w1h=per_h,
            w24h=24 * per_h,
            w96h=96 * per_h,
            dry_spell=max(1, round(config.event.dry_spell_h * per_h)),
            stuck=max(2, math.ceil(config.quality.stuck_window_h * per_h)),
            offline=config.quality.offline_intervals,
            # API decay per step from the daily constant (Crozier 1986): k_step^(steps/day) = k.
            k_step=config.antecedent.k_daily ** (step_minutes / 1440.0),
            rain_max_mm=config.quality.rain_max_mm_per_h * step_minutes / 60.0,
        )


@dataclass(frozen=True, slots=True)
class StationParams:
    """Per-station slope and soil parameters (arrays of shape [stations])."""

    slope_deg: FloatArray
    soil_depth_m: FloatArray
    cohesion_kpa: FloatArray
    friction_deg: FloatArray
    unit_weight_knm3: FloatArray
    vwc_residual: FloatArray
    vwc_saturated: FloatArray
    probe_depth_m: FloatArray | None = None
    """Depth of the probe the grid reads (the deepest, m below the surface), NaN where unknown;
    None: no station has one (the probe then stands for the column, :mod:`models.slope`)."""

    @classmethod
    def defaults(cls, n_stations: int, config: ModelConfig) -> StationParams:
        """Every station gets the configuration's default slope and soil values."""
        s = config.slope

        def full(value: float) -> FloatArray:
            return np.full(n_stations, value, dtype=np.float64)

        return cls(
            slope_deg=full(s.slope_deg),
            soil_depth_m=full(s.soil_depth_m),
            cohesion_kpa=full(s.cohesion_kpa),
            friction_deg=full(s.friction_deg),
            unit_weight_knm3=full(s.unit_weight_knm3),
            vwc_residual=full(s.vwc_residual),
            vwc_saturated=full(s.vwc_saturated),
        )


@dataclass(frozen=True, slots=True)
class StationStatic:
    """What does not change per time step: zones, coordinates, parameters."""

    zone: IntArray
    n_zones: int
    x_m: FloatArray
    y_m: FloatArray
    params: StationParams
    has_soil_sensor: BoolArray | None

    def __post_init__(self) -> None:
        n = self.zone.shape[0]
        for name in ("x_m", "y_m"):
            if getattr(self, name).shape != (n,):
                raise InputError(name, f"expected shape ({n},) like zone")
        for name in StationParams.__dataclass_fields__:
            value = getattr(self.params, name)
            if value is not None and value.shape != (n,):
                raise InputError(f"params.{name}", f"expected shape ({n},)")
        if n and (self.zone.min() < 0 or self.zone.max() >= self.n_zones):
            raise InputError("zone", f"zone indices must lie in 0..{self.n_zones - 1}")
        if self.has_soil_sensor is not None and self.has_soil_sensor.shape != (n,):
            raise InputError("has_soil_sensor", f"expected shape ({n},)")


@dataclass(frozen=True, slots=True)
class ModelInputs:
    """Gridded observations for every station at once.

    ``rain_mm`` is rain per grid step and ``vwc_m3m3`` volumetric water content, both shaped
    [stations, steps] with the newest step last and NaN where no reading arrived. Missing data
    is never read as zero rain. float32 arrays are evaluated fastest. Coordinates are projected
    metres (see :func:`models.interpolation.project_lonlat`).
    """

    rain_mm: AnyFloatArray
    vwc_m3m3: AnyFloatArray
    step_minutes: int
    static: StationStatic
    antecedent_daily_mm: AnyFloatArray | None = None
    """[stations, days]: daily rain before the first grid step (newest last), so the API sees
    more than the grid's 96 h (:func:`models.antecedent.prior_api`); None: the grid only."""

    def __post_init__(self) -> None:
        if self.rain_mm.ndim != 2:
            raise InputError("rain_mm", "expected a 2-D array [stations, steps]")
        if self.vwc_m3m3.shape != self.rain_mm.shape:
            raise InputError("vwc_m3m3", f"expected shape {self.rain_mm.shape} like rain_mm")
        if self.rain_mm.shape[0] != self.static.zone.shape[0]:
            raise InputError("zone", "one zone index per station row of rain_mm")
        if self.rain_mm.shape[1] < 1:
            raise InputError("rain_mm", "needs at least one time step")
        daily = self.antecedent_daily_mm
        if daily is not None and (daily.ndim != 2 or daily.shape[0] != self.rain_mm.shape[0]):
            raise InputError("antecedent_daily_mm", "expected [stations, days] like rain_mm rows")

    @classmethod
    def build(  # noqa: PLR0913, PLR0917  one keyword per physical input keeps call sites readable
        cls,
        rain_mm: AnyFloatArray,
        vwc_m3m3: AnyFloatArray,
        step_minutes: int,
        zone: npt.ArrayLike,
        x_m: npt.ArrayLike,
        y_m: npt.ArrayLike,
        params: StationParams,
        n_zones: int | None = None,
        has_soil_sensor: npt.ArrayLike | None = None,
        antecedent_daily_mm: npt.ArrayLike | None = None,
    ) -> ModelInputs:
        """Convenience constructor that coerces array-likes to the expected dtypes."""
        zones = np.asarray(zone, dtype=np.int64)
        count = int(zones.max()) + 1 if n_zones is None and zones.size else (n_zones or 0)
        soil = None if has_soil_sensor is None else np.asarray(has_soil_sensor, dtype=np.bool_)
        static = StationStatic(
            zone=zones,
            n_zones=count,
            x_m=np.asarray(x_m, dtype=np.float64),
            y_m=np.asarray(y_m, dtype=np.float64),
            params=params,
            has_soil_sensor=soil,
        )
        daily = None if antecedent_daily_mm is None else np.asarray(antecedent_daily_mm, np.float64)
        return cls(rain_mm, vwc_m3m3, step_minutes, static, daily)
