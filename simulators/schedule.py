"""When each station reports, and the rain each report carries.

Loggers report on their own clock: every ``interval`` normally, every ``rain_interval`` while
it rains and for ``rain_hold_min`` after (event-driven tipping-bucket loggers do this), each
with its own phase. Rain is reported as the amount since the previous report, counted in
whole bucket tips, so quantisation never loses or invents rain over a run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from simulators.scenario import Reporting

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Reports:
    """Every scheduled report, ordered by station then step."""

    station: IntArray  # index into the station list
    step: IntArray  # the report closes this step (its time is the step's end)
    rain_mm: Array  # rain since the station's previous report, in bucket tips
    first: IntArray  # first row of each station (length stations + 1)


def report_mask(  # noqa: PLR0913, PLR0917  the physical inputs, named at every call
    rain_mm: Array,
    interval_steps: IntArray,
    fast_steps: int,
    reporting: Reporting,
    offsets: IntArray,
    step_s: float,
) -> npt.NDArray[np.bool_]:
    """A (stations x steps) mask of the steps at whose end each station reports."""
    _stations, steps = rain_mm.shape
    hold = max(1, round(reporting.rain_hold_min * 60.0 / step_s))
    wet = (rain_mm >= reporting.rain_threshold_mm).astype(np.int64)
    count = np.cumsum(wet, axis=1)
    lagged = np.zeros_like(count)
    lagged[:, hold:] = count[:, :-hold] if hold < steps else 0
    fast = (count - lagged) > 0
    k = np.arange(steps)[None, :] + offsets[:, None]
    due = ((k % interval_steps[:, None]) == 0) | (fast & ((k % fast_steps) == 0))
    return np.asarray(due, dtype=np.bool_)


def reports(rain_mm: Array, mask: npt.NDArray[np.bool_], bucket_mm: float) -> Reports:
    """The rows of ``mask`` with the rain each report carries."""
    cumulative = np.cumsum(rain_mm, axis=1)
    if bucket_mm > 0.0:
        # Whole tips; the tiny epsilon keeps 0.6 / 0.2 from flooring to 2 tips.
        cumulative = np.floor(cumulative / bucket_mm + 1e-9) * bucket_mm
    station, step = np.nonzero(mask)
    at = cumulative[station, step]
    previous = np.concatenate([[0.0], at[:-1]])
    starts = np.concatenate([[True], station[1:] != station[:-1]])
    previous[starts] = 0.0
    rain = np.round(np.maximum(at - previous, 0.0), 2)
    first = np.searchsorted(station, np.arange(rain_mm.shape[0] + 1))
    return Reports(station.astype(np.int64), step.astype(np.int64), rain, first.astype(np.int64))
