"""Rainfall for silent or untrusted gauges from their zone neighbours.

Method: inverse-distance weighting (IDW, Shepard 1968) of neighbours' accumulations, using up
to ``max_neighbours`` stations of the **same zone** within ``max_distance_m``, found with
``scipy.spatial.cKDTree``. Why IDW rather than ``scipy.interpolate.RBFInterpolator`` or
``griddata``: a zone has a handful of gauges, often collinear along a ridge or valley; RBF and
Delaunay-based ``griddata`` are ill-posed or undefined there and RBF can overshoot below zero,
while IDW is a convex combination, so the estimate always lies between neighbours' values and
never invents rain or a negative total. Convective cells are smaller than a zone, so the
estimate is flagged ``estimated`` and never lowers what the station's own data shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.spatial import cKDTree

if TYPE_CHECKING:
    from models.config import Interpolation
    from models.inputs import BoolArray, FloatArray, IntArray

_EARTH_RADIUS_M = 6_371_000.0
_ZONE_SEPARATION_M = 1.0e9  # zones sit this far apart on a third axis: never neighbours


def project_lonlat(
    lat_deg: FloatArray, lon_deg: FloatArray, origin: tuple[float, float] | None = None
) -> tuple[FloatArray, FloatArray]:
    """Local equirectangular projection to metres (good to < 0.1 % over a city)."""
    lat0, lon0 = (
        origin if origin is not None else (float(np.mean(lat_deg)), float(np.mean(lon_deg)))
    )
    x = np.radians(lon_deg - lon0) * _EARTH_RADIUS_M * np.cos(np.radians(lat0))
    y = np.radians(lat_deg - lat0) * _EARTH_RADIUS_M
    return x, y


def idw_estimate(  # noqa: PLR0913, PLR0917  coordinates, zones, masks and settings are all needed
    values: FloatArray,
    donors: BoolArray,
    targets: BoolArray,
    zone: IntArray,
    x_m: FloatArray,
    y_m: FloatArray,
    settings: Interpolation,
) -> tuple[FloatArray, BoolArray]:
    """Estimate ``values[targets]`` ([stations, k]) from donor stations of the same zone.

    Returns ``(estimate[stations, k], has_estimate[stations])``; rows without a usable
    neighbour hold NaN and False. A target is never its own donor.
    """
    estimate = np.full(values.shape, np.nan)
    has = np.zeros(values.shape[0], dtype=np.bool_)
    target_idx = np.flatnonzero(targets)
    if target_idx.size == 0:
        return estimate, has
    target_zone = np.zeros(int(zone.max()) + 1, dtype=np.bool_)
    target_zone[zone[target_idx]] = True
    donors = donors & ~targets & target_zone[zone]
    donor_idx = np.flatnonzero(donors)
    if donor_idx.size == 0:
        return estimate, has

    def points(idx: IntArray) -> FloatArray:
        return np.column_stack([x_m[idx], y_m[idx], zone[idx] * _ZONE_SEPARATION_M])

    k = min(settings.max_neighbours, donor_idx.size)
    tree = cKDTree(points(donor_idx))
    dist, near = tree.query(points(target_idx), k=k, distance_upper_bound=settings.max_distance_m)
    dist = np.asarray(dist, dtype=np.float64).reshape(target_idx.size, k)
    near = np.asarray(near, dtype=np.int64).reshape(target_idx.size, k)
    found = np.isfinite(dist)
    # Co-located gauges (distance 0) would get infinite weight: 1 m is below siting accuracy.
    weight = np.where(found, 1.0 / np.maximum(dist, 1.0) ** settings.power, 0.0)
    source = values[donor_idx[np.minimum(near, donor_idx.size - 1)]]
    total = weight.sum(axis=1)
    ok = total > 0.0
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = (weight[..., None] * source).sum(axis=1) / total[:, None]
    estimate[target_idx[ok]] = mean[ok]
    has[target_idx[ok]] = True
    return estimate, has
