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

Wetness and water table are two quantities (Lu & Godt 2013, ch. 7; Iverson 2000, Water Resour.
Res. 36(7)): the degree of saturation ``Se = clip((vwc - vwc_r) / (vwc_s - vwc_r), 0, 1)`` of the
unsaturated profile controls the suction term, and positive pore pressure exists only below a
water table, ``m_w = h / z``. A probe at depth ``d`` proves a water table only by reading
saturation there: then ``h >= z - d`` (perched on the failure plane, the base of the
colluvium, where the deepest probe sits), so ``m_w = (z - d) / z`` is the lower bound the data
proves; an unsaturated reading proves no positive pressure (``m_w = 0``) and acts only through
the suction it has lost, ``c_s (1 - Se) (1 - m_w)``. Without a probe depth the reading stands
for the column (``m_w = Se``, the former mapping, on the safe side).
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


def water_table_ratio(
    vwc_m3m3: FloatArray,
    vwc_saturated: FloatArray,
    probe_depth_m: FloatArray,
    soil_depth_m: FloatArray,
    *,
    tolerance_m3m3: float,
) -> FloatArray:
    """Water-table ratio m_w = h/z proven by one probe (a lower bound; NaN stays NaN).

    A reading within ``tolerance_m3m3`` of theta_s is saturation at the probe's depth d, so a
    water table perched on the failure plane stands at least z - d high; any other reading, or
    a probe at or below the plane, proves none.
    """
    saturated = vwc_m3m3 >= vwc_saturated - tolerance_m3m3
    proven = np.clip((soil_depth_m - probe_depth_m) / soil_depth_m, 0.0, 1.0)
    return np.where(np.isnan(vwc_m3m3), np.nan, np.where(saturated, proven, 0.0))


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
    saturation: FloatArray | None = None,
) -> FloatArray:
    """Infinite-slope FS (Skempton & DeLory 1957); ``soil_depth_m`` is vertical; flat -> inf.

    ``m`` is the water-table ratio h/z. ``suction_cohesion_kpa`` is the apparent cohesion c_s
    of the soil at residual water content (Fredlund et al. 1978; Lu & Godt 2013), lost as the
    profile's degree of saturation ``saturation`` (Se) rises and where the water table covers
    the plane: ``c_s (1 - Se) (1 - m)``; without ``saturation``, ``c_s (1 - m)``. The default
    c_s = 0 is the saturated-strength (suction-free) slope.
    """
    beta = np.radians(slope_deg)
    cos_b = np.cos(beta)
    normal = (unit_weight_knm3 - m * water_unit_weight_knm3) * soil_depth_m * cos_b**2
    suction = suction_cohesion_kpa * (1.0 - m)
    if saturation is not None:
        suction = suction * (1.0 - saturation)
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
    saturation_tolerance_m3m3: float,
) -> FloatArray:
    """FS for every station from its current water content and registry parameters.

    Stations with a probe depth (``params.probe_depth_m``, NaN where unknown) take the water
    table that the probe proves (:func:`water_table_ratio`) and lose suction with the
    profile's wetness; the others read the probe's wetness as the water-table ratio.
    """
    se = wetness(vwc_m3m3, params.vwc_residual, params.vwc_saturated)
    m, saturation = se, None
    if params.probe_depth_m is not None:
        table = water_table_ratio(
            vwc_m3m3,
            params.vwc_saturated,
            params.probe_depth_m,
            params.soil_depth_m,
            tolerance_m3m3=saturation_tolerance_m3m3,
        )
        known = np.isfinite(params.probe_depth_m)
        m = np.where(known, table, se)
        saturation = np.where(known, se, 0.0)
    return factor_of_safety(
        m,
        params.slope_deg,
        params.soil_depth_m,
        params.cohesion_kpa,
        params.friction_deg,
        params.unit_weight_knm3,
        water_unit_weight_knm3,
        suction_cohesion_kpa=suction_cohesion_kpa,
        saturation=saturation,
    )
