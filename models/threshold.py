"""Thresholds: the intensity-duration curve and level look-ups in level tables.

Intensity-duration (ID) threshold of Caine (1980), "The rainfall intensity-duration control of
shallow landslides and debris flows", Geografiska Annaler 62A: ``I = a * D**-b`` with I the
mean rainfall intensity (mm/h) and D the event duration (h); global curve a = 14.82,
b = 0.39, fitted on events lasting roughly 10 minutes to 10 days. A regional curve replaces
``a`` and ``b`` in the network's configuration.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from models.config import IntensityDuration
    from models.inputs import FloatArray, IntArray


def id_threshold_mm_h(duration_h: FloatArray, a: float, b: float) -> FloatArray:
    """Caine-style threshold intensity (mm/h) for event durations in hours."""
    with np.errstate(divide="ignore"):
        return a * np.power(duration_h, -b)


def id_ratio(total_mm: FloatArray, duration_h: FloatArray, curve: IntensityDuration) -> FloatArray:
    """Mean intensity divided by the threshold intensity; NaN outside the curve's range."""
    inside = (duration_h >= curve.min_duration_h) & (duration_h <= curve.max_duration_h)
    safe = np.where(inside, duration_h, 1.0)
    ratio = (total_mm / safe) / id_threshold_mm_h(safe, curve.a, curve.b)
    return np.where(inside, ratio, np.nan)


def level_rising(values: FloatArray, thresholds: tuple[float, float, float]) -> IntArray:
    """Level 0-3: how many thresholds the value reaches (value >= threshold); NaN -> 0."""
    table = np.asarray(thresholds, dtype=np.float64)
    result: IntArray = (values[..., None] >= table).sum(axis=-1).astype(np.int64)
    return result


def level_falling(values: FloatArray, thresholds: tuple[float, float, float]) -> IntArray:
    """Level 0-3 for a quantity where lower is worse (factor of safety <= threshold)."""
    table = np.asarray(thresholds, dtype=np.float64)
    result: IntArray = (values[..., None] <= table).sum(axis=-1).astype(np.int64)
    return result
