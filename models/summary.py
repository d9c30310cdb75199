"""Sufficient statistics at the newest step: what every criterion needs, per station.

Both paths produce a :class:`WindowSummary`: the full evaluation from the arrays
(:func:`models.evaluate.summarise`) and the incremental path from its ring buffers
(:class:`models.state.ModelState`). Everything downstream (levels, interpolation, quality,
zones) reads only the summary, which is why the two paths agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from models.inputs import BoolArray, FloatArray, IntArray


@dataclass(frozen=True, slots=True)
class WindowSummary:
    """Per-station statistics at the newest step (arrays of shape [stations] or [stations, 3]).

    Counters are capped where only "at least N" matters (``since_obs`` at the offline count,
    flat runs at the stuck window), so a capped and an uncapped count give the same flags.
    """

    acc_mm: FloatArray
    """Observed rain (mm) in the 1 h, 24 h, 96 h windows, in that column order: a lower bound
    when data is missing."""
    missing: IntArray
    """Steps per window without a valid reading (gaps, out-of-range values, before the data)."""
    api_mm: FloatArray
    """Antecedent precipitation index (mm) over the whole record, gaps counted as no rain."""
    event_active: BoolArray
    event_steps: IntArray
    """Duration of the current event in steps, first to last non-dry step (0 if none)."""
    event_total_mm: FloatArray
    event_missing: BoolArray
    """The current event contains a step without a valid reading."""
    event_truncated: BoolArray
    """The current event may have begun before the first step of the record."""
    rain_flat_run: IntArray
    vwc_flat_run: IntArray
    since_obs: IntArray
    since_bad: IntArray
    vwc_last: FloatArray
    vwc_age: IntArray
    vwc_seen: BoolArray
    vwc_rise: FloatArray | None = None
    """Rise (m3/m3) of the newest valid soil reading over the lowest in the stuck window;
    None: not known (no jump screen)."""
    gap_bound_mm: FloatArray | None = None
    """[stations, 3]: most rain the missing steps of each window could hide
    (:mod:`models.completeness`); None (the incremental path) treats any gap as unknown."""
