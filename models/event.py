"""The current rain event of every station: start, duration, total, data completeness.

An event is a run of steps bounded by dry spells of at least ``dry_spell`` steps, a dry step
being a valid reading of at most ``wet_threshold_mm`` (a gap is never dry: it might have
rained). The event is current while the trailing dry run is shorter than the dry spell. Its
duration D runs from its first to its last non-dry step and its mean intensity is total/D;
these feed the intensity-duration threshold of Caine (1980).

The scan walks backwards from the newest step in blocks, dropping each station as soon as its
event start is found, so the cost follows the length of the current events rather than the
record: a station that is dry now is settled by its last ``dry_spell`` steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from models.inputs import BoolArray, FloatArray, IntArray, StepWindows

_MIN_BLOCK = 48


@dataclass(frozen=True, slots=True)
class EventScan:
    """Current event per station (arrays of shape [stations])."""

    active: BoolArray
    steps: IntArray
    total_mm: FloatArray
    missing: BoolArray
    truncated: BoolArray
    end: IntArray
    """Index of the last non-dry step (-1 when no event is current)."""


def _dry(block: npt.NDArray[Any], wet_mm: float, high: float) -> npt.NDArray[np.bool_]:
    if wet_mm == 0.0:
        result: npt.NDArray[np.bool_] = block == 0.0
        return result
    return (block >= 0.0) & (block <= min(wet_mm, high))


def current_event(rain_mm: npt.NDArray[Any], win: StepWindows, wet_mm: float) -> EventScan:  # noqa: PLR0915  one backward scan reads best as one function
    """Find each station's current event by a blocked backward scan (see module docstring)."""
    n, n_steps = rain_mm.shape
    spell = win.dry_spell
    high = win.rain_max_mm
    start = np.full(n, -1, dtype=np.int64)
    end = np.full(n, -1, dtype=np.int64)
    total = np.zeros(n, dtype=np.float64)
    missing = np.zeros(n, dtype=np.bool_)
    truncated = np.zeros(n, dtype=np.bool_)
    carry = np.full(n, n_steps, dtype=np.int64)  # earliest non-dry index seen so far
    # Stations dry for a whole dry spell now have no current event: settle them first.
    if n_steps >= spell:
        settled = _dry(rain_mm[:, n_steps - spell :], wet_mm, high).all(axis=1)
        rows = np.flatnonzero(~settled)
    else:
        rows = np.arange(n)
    block = max(spell, _MIN_BLOCK)
    stop = n_steps
    while rows.size and stop > 0:
        begin = max(0, stop - block)
        sub = rain_mm[rows, begin:stop]
        valid = (sub >= 0.0) & (sub <= high)
        non_dry = ~_dry(sub, wet_mm, high)
        cols = np.arange(begin, stop, dtype=np.int64)
        positions = np.where(non_dry, cols, n_steps)
        # next_incl[:, i]: earliest non-dry index at or after column i (or a later block's).
        next_incl = np.minimum.accumulate(positions[:, ::-1], axis=1)[:, ::-1]
        np.minimum(next_incl, carry[rows, None], out=next_incl)
        following = np.empty_like(next_incl)
        following[:, :-1] = next_incl[:, 1:]
        following[:, -1] = carry[rows]
        gap_before_next = non_dry & (following - cols - 1 >= spell)
        has_non_dry = non_dry.any(axis=1)
        width = stop - begin
        last_non_dry = stop - 1 - np.argmax(non_dry[:, ::-1], axis=1)
        new_end = (end[rows] < 0) & has_non_dry
        end[rows[new_end]] = last_non_dry[new_end]
        found = gap_before_next.any(axis=1)
        gap_at = width - 1 - np.argmax(gap_before_next[:, ::-1], axis=1)
        event_start = np.where(found, following[np.arange(rows.size), gap_at], n_steps)
        low = np.where(found, event_start, begin)
        inside = (cols >= low[:, None]) & (cols <= end[rows, None])
        total[rows] += np.where(inside & valid, sub, 0.0).sum(axis=1)
        missing[rows] |= (inside & ~valid).any(axis=1)
        start[rows[found]] = event_start[found]
        carry[rows] = next_incl[:, 0]
        # No non-dry step in [begin, end of record) and that span covers a dry spell: no event.
        dry_tail = (carry[rows] == n_steps) & (n_steps - begin >= spell)
        rows = rows[~(found | dry_tail)]
        stop = begin
    if rows.size:  # reached the first step: the event began at the first non-dry step
        first = carry[rows]
        seen = first < n_steps
        start[rows[seen]] = first[seen]
        truncated[rows[seen]] = first[seen] < spell
    active = (start >= 0) & (start < n_steps) & (end >= 0)
    steps = np.where(active, end - start + 1, 0)
    return EventScan(
        active=active,
        steps=steps,
        total_mm=np.where(active, total, 0.0),
        missing=missing & active,
        truncated=truncated & active,
        end=np.where(active, end, -1),
    )
