"""Synthetic design storms: IDF depth by return period, arranged by alternating blocks."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from simulators.storm import DesignStorm


def idf_intensity_mm_h(
    storm: DesignStorm, minutes: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Mean intensity (mm/h) over a duration in minutes: ``k T^a / (t + b)^c``."""
    return np.asarray(
        storm.idf_k
        * storm.return_period_y**storm.idf_a
        / (minutes + storm.idf_b_min) ** storm.idf_c,
        dtype=np.float64,
    )


def design_hyetograph(storm: DesignStorm, step_s: float) -> npt.NDArray[np.float64]:
    """Rain (mm) per step of the design storm, by the alternating-block method.

    Block k (k = 1..n) adds the depth increment between durations (k-1)Δt and kΔt; the largest
    block is placed at ``peak_at`` of the storm and the next ones alternate either side
    (Chow, Maidment and Mays 1988, Applied Hydrology, section 14.4).
    """
    blocks = max(1, round(storm.duration_h * 3600.0 / step_s))
    minutes = np.arange(1, blocks + 1, dtype=np.float64) * step_s / 60.0
    depth = idf_intensity_mm_h(storm, minutes) * minutes / 60.0
    increments = np.diff(depth, prepend=0.0)  # decreasing: the largest first
    peak = min(blocks - 1, int(storm.peak_at * blocks))
    order = np.empty(blocks, dtype=np.int64)
    left, right = peak - 1, peak + 1
    order[0] = peak
    for k in range(1, blocks):
        # Alternate sides; when one side is full, keep filling the other.
        take_right = (k % 2 == 1 and right < blocks) or left < 0
        if take_right:
            order[k] = right
            right += 1
        else:
            order[k] = left
            left -= 1
    out = np.zeros(blocks, dtype=np.float64)
    out[order] = increments
    return out


def design_total_mm(storm: DesignStorm) -> float:
    """Total depth (mm) of the design storm: the IDF depth for its whole duration."""
    minutes = np.array([storm.duration_h * 60.0])
    return float(idf_intensity_mm_h(storm, minutes)[0] * storm.duration_h)
