"""Thresholds: the intensity-duration curve and the ratio of an event to it.

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
    from models.inputs import FloatArray


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
