"""Infinite-slope factor of safety from measured soil moisture.

``FS = [c' + c_s * (1 - m) + (gamma - m * gamma_w) * z * cos^2(beta) * tan(phi')]``
``     / (gamma * z * sin(beta) * cos(beta))``

with c' effective cohesion (kPa, registry values include root reinforcement), c_s the
apparent cohesion that matric suction adds to an unsaturated soil (kPa), gamma the soil unit
weight and gamma_w that of water (kN/m3), m the fraction of the soil column that is saturated
(0 dry to 1 fully saturated), z the **vertical** depth to the failure plane (m), beta the slope
angle and phi' the effective friction angle. The slope-normal thickness of the same layer is
``z * cos(beta)``; registry values given as slope-normal thickness must be divided by
cos(beta) first (:func:`vertical_depth_m`). Sources: Skempton & DeLory (1957), Taylor (1948),
Lu & Godt (2013, *Hillslope Hydrology and Stability*).

Suction: in an unsaturated residual soil the matric suction (u_a - u_w) adds a shear strength
(u_a - u_w) tan(phi_b) that acts as an apparent cohesion (Fredlund, Morgenstern & Widger
1978, Can. Geotech. J. 15; Lu & Godt 2008, Water Resour. Res. 44, W11404, and Lu & Godt 2013
for the suction-stress form). It vanishes at saturation, which is why rain brings shallow
slopes down. Encosta takes the simplest form that keeps that behaviour: ``c_s * (1 - m)``,
a linear loss with wetness from c_s at residual water content to zero at saturation. The real
suction-stress curve is non-linear (steep near saturation); the linear form understates the
suction at intermediate wetness, which errs on the side of a lower FS.

The wetness m is derived from volumetric water content between residual and saturated values,
``m = clip((vwc - vwc_r) / (vwc_s - vwc_r), 0, 1)`` — an Encosta simplification that treats the
sensor as representative of the column above the failure plane.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from models.inputs import FloatArray, StationParams


def wetness(
    vwc_m3m3: FloatArray, vwc_residual: FloatArray, vwc_saturated: FloatArray
) -> FloatArray:
    """Saturated fraction m in [0, 1] from volumetric water content (NaN stays NaN)."""
    span = vwc_saturated - vwc_residual
    return np.clip((vwc_m3m3 - vwc_residual) / span, 0.0, 1.0)


def vertical_depth_m(normal_thickness_m: FloatArray, slope_deg: FloatArray) -> FloatArray:
    """Vertical depth z from a slope-normal thickness (thickness = z * cos beta)."""
    return normal_thickness_m / np.cos(np.radians(slope_deg))


def factor_of_safety(  # noqa: PLR0913, PLR0917  the equation's parameters, each an array
    m: FloatArray,
    slope_deg: FloatArray,
    soil_depth_m: FloatArray,
    cohesion_kpa: FloatArray,
    friction_deg: FloatArray,
    unit_weight_knm3: FloatArray,
    water_unit_weight_knm3: float,
    *,
    suction_cohesion_kpa: float = 0.0,
) -> FloatArray:
    """Infinite-slope FS (Skempton & DeLory 1957); ``soil_depth_m`` is vertical; flat -> inf.

    ``suction_cohesion_kpa`` is the apparent cohesion c_s of the soil at residual water
    content, lost linearly as m goes to 1 (Fredlund et al. 1978; Lu & Godt 2013); the default
    0 is the saturated-strength (suction-free) slope.
    """
    beta = np.radians(slope_deg)
    cos_b = np.cos(beta)
    normal = (unit_weight_knm3 - m * water_unit_weight_knm3) * soil_depth_m * cos_b**2
    suction = suction_cohesion_kpa * (1.0 - m)
    resisting = cohesion_kpa + suction + normal * np.tan(np.radians(friction_deg))
    driving = unit_weight_knm3 * soil_depth_m * np.sin(beta) * cos_b
    with np.errstate(divide="ignore", invalid="ignore"):
        fs = resisting / driving
    return np.where(driving > 0.0, fs, np.where(np.isnan(m), np.nan, np.inf))


def station_factor_of_safety(
    vwc_m3m3: FloatArray,
    params: StationParams,
    water_unit_weight_knm3: float,
    *,
    suction_cohesion_kpa: float,
) -> FloatArray:
    """FS for every station from its current water content and registry parameters."""
    m = wetness(vwc_m3m3, params.vwc_residual, params.vwc_saturated)
    return factor_of_safety(
        m,
        params.slope_deg,
        params.soil_depth_m,
        params.cohesion_kpa,
        params.friction_deg,
        params.unit_weight_knm3,
        water_unit_weight_knm3,
        suction_cohesion_kpa=suction_cohesion_kpa,
    )
