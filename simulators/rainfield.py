"""Rain over the stations: a (stations x steps) array in mm per step, vectorised numpy.

Three storm kinds add up (``simulators.storm``):

* replays: gauge mass curves resampled to the step and spread to the stations by
  inverse-distance weighting (exact at a gauge), optionally transposed and faded by distance;
* design storms: an alternating-block hyetograph applied over the network;
* moving cells: Gaussian cells born at random, advected by the steering wind, growing and
  decaying over their lifetime; a cell's core can pass between gauges.

Each storm's rain is multiplied by a mean-one lognormal field with spatial and temporal
correlation (random Fourier features with AR(1) amplitudes), so nearby stations see similar
rain and distant ones less so.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import signal

from simulators.design import design_hyetograph
from simulators.storm import CellStorm, DesignStorm, ReplayStorm, Storm

Array = npt.NDArray[np.float64]
KM_PER_DEG_LAT = 110.57
_FEATURES = 64  # random Fourier features: enough for a smooth field, cheap at 10k stations
_FIELD_LENGTH_KM = 6.0
_FIELD_MEMORY_H = 1.0


def project(lat: Array, lon: Array, origin: tuple[float, float]) -> Array:
    """Equirectangular (x, y) km around ``origin`` (lat, lon): fine over a city."""
    lat0, lon0 = origin
    x = (lon - lon0) * KM_PER_DEG_LAT * 1.0069 * math.cos(math.radians(lat0))
    y = (lat - lat0) * KM_PER_DEG_LAT
    return np.stack([x, y], axis=1)


def correlated_normal(xy: Array, steps: int, step_s: float, rng: np.random.Generator) -> Array:
    """A standard normal field over (stations x steps), correlation exp(-d²/2L²) in space."""
    omega = rng.normal(0.0, 1.0 / _FIELD_LENGTH_KM, size=(_FEATURES, 2))
    phase = xy @ omega.T  # (stations, features)
    basis = np.concatenate([np.cos(phase), np.sin(phase)], axis=1) * math.sqrt(1.0 / _FEATURES)
    rho = math.exp(-step_s / (_FIELD_MEMORY_H * 3600.0))
    shocks = rng.standard_normal((2 * _FEATURES, steps))
    shocks[:, 0] /= math.sqrt(1.0 - rho * rho)  # start in the stationary distribution
    amplitudes = signal.lfilter([math.sqrt(1.0 - rho * rho)], [1.0, -rho], shocks, axis=1)
    return np.asarray(basis @ amplitudes, dtype=np.float64)


def _lognormal(xy: Array, steps: int, step_s: float, cv: float, rng: np.random.Generator) -> Array:
    if cv <= 0.0:
        return np.ones((xy.shape[0], steps))
    sigma = math.sqrt(math.log1p(cv * cv))
    return np.exp(sigma * correlated_normal(xy, steps, step_s, rng) - sigma * sigma / 2.0)


def _replay(storm: ReplayStorm, xy: Array, origin: tuple[float, float], edges: Array) -> Array:
    gauges = storm.hyetograph.gauges
    lat = np.array([g.lat for g in gauges])
    lon = np.array([g.lon for g in gauges])
    if storm.transpose_to is not None:
        lat = lat - lat.mean() + storm.transpose_to[0]
        lon = lon - lon.mean() + storm.transpose_to[1]
    gxy = project(lat, lon, origin)
    distance = np.linalg.norm(xy[:, None, :] - gxy[None, :, :], axis=2)
    weights = 1.0 / np.maximum(distance, 1e-3) ** 2
    weights /= weights.sum(axis=1, keepdims=True)
    series = np.stack([g.resample(edges) for g in gauges])  # (gauges, steps)
    rain = weights @ series * storm.scale
    if storm.footprint_km is not None:
        rain *= np.exp(-distance.min(axis=1) / storm.footprint_km)[:, None]
    return np.asarray(rain, dtype=np.float64)


def _design(storm: DesignStorm, stations: int, steps: int, step_s: float) -> Array:
    blocks = design_hyetograph(storm, step_s)
    first = round(storm.start_h * 3600.0 / step_s)
    series = np.zeros(steps)
    last = min(steps, first + blocks.size)
    series[first:last] = blocks[: last - first]
    return np.broadcast_to(series, (stations, steps)).copy()


def _cells(
    storm: CellStorm, xy: Array, steps: int, step_s: float, rng: np.random.Generator
) -> Array:
    rain = np.zeros((xy.shape[0], steps))
    step_h = step_s / 3600.0
    count = rng.poisson(storm.cells_per_h * storm.duration_h)
    heading = math.radians(storm.heading_deg)
    velocity = storm.speed_kmh * np.array([math.sin(heading), math.cos(heading)])
    low, high = xy.min(axis=0), xy.max(axis=0)
    margin = storm.radius_km * 2.0 + velocity * storm.lifetime_h / 2.0
    # Born upwind enough that a cell's path crosses the network, wherever it is born.
    low_birth, high_birth = low - np.abs(margin), high + np.abs(margin)
    mid = (np.arange(steps) + 0.5) * step_h
    for _ in range(count):
        born = storm.start_h + rng.uniform(0.0, storm.duration_h)
        life = storm.lifetime_h * rng.uniform(0.5, 1.5)
        peak = storm.peak_mm_h * rng.lognormal(-0.125, 0.5)
        radius = storm.radius_km * rng.lognormal(0.0, 0.3)
        centre = rng.uniform(low_birth, high_birth) - velocity * life / 2.0
        v = velocity * rng.uniform(0.8, 1.2)
        first, last = int(born / step_h), min(steps, math.ceil((born + life) / step_h) + 1)
        if first >= steps:
            continue
        age = mid[first:last] - born
        envelope = np.where(
            (age > 0) & (age < life), np.sin(np.pi * np.clip(age / life, 0, 1)), 0.0
        )
        path = centre[None, :] + age[:, None] * v[None, :]  # (k, 2)
        d2 = ((xy[:, None, :] - path[None, :, :]) ** 2).sum(axis=2)
        rain[:, first:last] += peak * envelope[None, :] * np.exp(-d2 / (2 * radius**2)) * step_h
    return rain


def rain_field(  # noqa: PLR0913, PLR0917  the physical inputs, named at every call
    storms: tuple[Storm, ...],
    lat: Array,
    lon: Array,
    period_start: float,
    steps: int,
    step_s: float,
    rng: np.random.Generator,
) -> Array:
    """Rain (mm per step) at each station, step k covering ``period_start + [k, k+1) * step``."""
    origin = (float(lat.mean()), float(lon.mean()))
    xy = project(lat, lon, origin)
    edges = period_start + np.arange(steps + 1, dtype=np.float64) * step_s
    total = np.zeros((lat.size, steps))
    for storm, stream in zip(storms, rng.spawn(len(storms)), strict=True):
        if isinstance(storm, ReplayStorm):
            rain = _replay(storm, xy, origin, edges)
        elif isinstance(storm, DesignStorm):
            rain = _design(storm, lat.size, steps, step_s)
        else:
            rain = _cells(storm, xy, steps, step_s, stream)
        total += rain * _lognormal(xy, steps, step_s, storm.jitter, stream)
    return total
