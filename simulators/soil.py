"""Soil water: a layered bucket per station with a perched water table above the failure plane.

Layers are centred on the probe depths (boundaries half-way between probes; the last one
reaches the failure plane at the station's vertical ``soil_depth_m``). Each step, with ``θ``
the volumetric water content of a layer and ``Se = (θ - θr) / (θs - θr)``:

1. Infiltration limited by ``ks``; a ``macropore_share`` of it bypasses the matrix straight
   to the water table (preferential flow through root channels and soil pipes, which is how
   perched water tables build during intense rain on residual soils, Uchida et al. 2001);
   the rest enters the top layer up to its free pore space and the excess runs off.
2. Unit-gradient drainage from each layer to the one below, ``q = ks · Se**n``, limited by
   the water above residual and by the free space below (a Campbell/Brooks-Corey-style
   conductivity curve).
3. The base layer drains into a perched water table ``W`` (m of water) that rises by
   ``W / drainable_porosity`` and drains laterally as a linear reservoir.
4. Evapotranspiration from the top layer in daylight (local solar time), scaled by ``Se``.

A probe below the water table reads saturation. Explicit in time, vectorised over stations;
water is conserved except for runoff, lateral drainage and evapotranspiration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from simulators.scenario import Soil

Array = npt.NDArray[np.float64]
MAX_SUBSTEP_S = 300.0  # the shipped scenarios' step: their soil is unchanged by sub-steps


@dataclass(frozen=True, slots=True)
class SoilColumns:
    """Per-station soil properties of one group of stations with the same probe depths."""

    depths_m: tuple[float, ...]  # probe depths, shared by the group
    soil_depth_m: Array  # vertical depth to the failure plane
    vwc_residual: Array
    vwc_saturated: Array
    lon: Array


@dataclass(frozen=True, slots=True)
class SoilState:
    """The simulated state at the end of every step."""

    probe_vwc: npt.NDArray[np.float32]  # (stations, probes, steps), what each probe sees
    water_table_m: npt.NDArray[np.float32]  # (stations, steps), height above the failure plane
    wetness: npt.NDArray[np.float32]  # (stations, steps), mean Se of the unsaturated layers


def _thickness(columns: SoilColumns) -> Array:
    depths = np.asarray(columns.depths_m)
    inner = (depths[:-1] + depths[1:]) / 2.0
    bottom = np.maximum(columns.soil_depth_m, depths[-1] + 0.1)
    bounds = np.concatenate(
        [
            np.zeros((bottom.size, 1)),
            np.broadcast_to(inner, (bottom.size, inner.size)),
            bottom[:, None],
        ],
        axis=1,
    )
    return np.diff(bounds, axis=1)  # (stations, layers)


def _probe_vwc(probes: Array, z: Array, level: Array, theta: Array, ts: Array) -> Array:
    """What each probe reads: its layer's water content, or saturation in the perched table."""
    # Only a probe between the table and the failure plane sits in the perched water; one
    # below the plane (shallow soils) reads its own layer, never the perched table.
    above_plane = probes[None, :] <= z[:, None]
    saturated = above_plane & (probes[None, :] >= (z - level)[:, None]) & (level > 0)[:, None]
    return np.where(saturated, ts, theta)


def initial_probe_vwc(columns: SoilColumns, soil: Soil) -> Array:
    """What each probe (stations x probes) reads in the antecedent state, before any step.

    The state :func:`simulate_soil` starts from: every layer at ``antecedent_wetness``, the
    perched table at ``antecedent_water_table`` of the depth (``simulators.spinup`` holds the
    probes there through the spin-up before a scenario).
    """
    h = _thickness(columns)
    tr = columns.vwc_residual[:, None]
    ts = columns.vwc_saturated[:, None]
    theta = tr + soil.antecedent_wetness * (ts - tr) * np.ones_like(h)
    z = columns.soil_depth_m
    level = np.minimum(soil.antecedent_water_table * z, z)
    return _probe_vwc(np.asarray(columns.depths_m), z, level, theta, ts)


def simulate_soil(
    columns: SoilColumns, rain_mm: Array, soil: Soil, start_epoch: float, step_s: float
) -> SoilState:
    """Run the bucket model over ``rain_mm`` (stations x steps) from the antecedent state."""
    stations, steps = rain_mm.shape
    h = _thickness(columns)
    tr = columns.vwc_residual[:, None]
    ts = columns.vwc_saturated[:, None]
    theta = tr + soil.antecedent_wetness * (ts - tr) * np.ones_like(h)
    z = columns.soil_depth_m
    table = soil.antecedent_water_table * z * soil.drainable_porosity  # m of water
    # Explicit in time: a step longer than MAX_SUBSTEP_S is integrated in equal sub-steps of
    # equal rain, so the soil (and which slopes fail) hardly depends on the scenario's step_s.
    sub = max(1, math.ceil(step_s / MAX_SUBSTEP_S - 1e-9))
    dt_h = step_s / sub / 3600.0
    ks = soil.ks_mm_h / 1000.0 * dt_h  # m per sub-step
    et = soil.et_mm_day / 1000.0 / 12.0 * dt_h  # m per daylight sub-step
    lateral = 1.0 - math.exp(-dt_h / soil.lateral_drain_h)
    probes = np.asarray(columns.depths_m)
    solar_offset_h = columns.lon / 15.0
    vwc_out = np.empty((stations, probes.size, steps), dtype=np.float32)
    table_out = np.empty((stations, steps), dtype=np.float32)
    wet_out = np.empty((stations, steps), dtype=np.float32)
    for k in range(steps):
        for j in range(sub):  # sub-steps of equal rain
            arriving = np.minimum(rain_mm[:, k] / sub / 1000.0, ks)
            bypass = np.minimum(
                arriving * soil.macropore_share, z * soil.drainable_porosity - table
            )
            table += bypass
            inflow = np.minimum(arriving - bypass, (ts[:, 0] - theta[:, 0]) * h[:, 0])
            theta[:, 0] += inflow / h[:, 0]
            for i in range(h.shape[1]):
                se = np.clip((theta[:, i] - tr[:, 0]) / (ts[:, 0] - tr[:, 0]), 0.0, 1.0)
                q = np.minimum(ks * se**soil.drainage_exponent, (theta[:, i] - tr[:, 0]) * h[:, i])
                if i + 1 < h.shape[1]:
                    q = np.minimum(q, (ts[:, 0] - theta[:, i + 1]) * h[:, i + 1])
                    theta[:, i + 1] += q / h[:, i + 1]
                else:
                    q = np.minimum(q, z * soil.drainable_porosity - table)
                    table += q
                theta[:, i] -= q / h[:, i]
            middle = start_epoch + (k + (j + 0.5) / sub) * step_s
            hour = (middle / 3600.0 + solar_offset_h) % 24.0
            daylight = (hour >= 6.0) & (hour < 18.0)
            se_top = np.clip((theta[:, 0] - tr[:, 0]) / (ts[:, 0] - tr[:, 0]), 0.0, 1.0)
            theta[:, 0] -= np.where(daylight, et * se_top, 0.0) / h[:, 0]
            table -= table * lateral
        level = np.minimum(table / soil.drainable_porosity, z)
        vwc_out[:, :, k] = _probe_vwc(probes, z, level, theta, ts)
        table_out[:, k] = level
        wet_out[:, k] = np.clip((theta - tr) / (ts - tr), 0.0, 1.0).mean(axis=1)
    return SoilState(vwc_out, table_out, wet_out)
