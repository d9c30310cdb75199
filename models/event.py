"""The current rain event of every station: start, duration, total, data completeness.

An event is a run of steps bounded by dry spells of at least ``dry_spell`` steps, a dry step
being a valid reading of at most ``wet_threshold_mm`` (a gap is never dry: it might have
rained). The event is current while the trailing dry run is shorter than the dry spell. Its
duration D runs from its first to its last non-dry step and its mean intensity is total/D;
these feed the intensity-duration threshold of Caine (1980).

Stations dry for the whole last dry spell are settled first. For the others the scan looks at
a trailing window that doubles until it holds the latest full dry spell before the event (or
the whole record), so the cost follows the length of current events, not of the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from models.inputs import BoolArray, FloatArray, IntArray, StepWindows

BoolMatrix = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class EventScan:
    """Current event per station (arrays of shape [stations])."""

    active: BoolArray
    steps: IntArray
    """Duration in steps, first to last non-dry step inclusive (0 when no event)."""
    total_mm: FloatArray
    missing: BoolArray
    truncated: BoolArray
    end: IntArray
    """Index of the last non-dry step (-1 when no event is current)."""


def dry_steps(block: npt.NDArray[Any], wet_mm: float, high: float) -> BoolMatrix:
    """Valid readings of at most ``wet_mm`` (NaN and out-of-range values are not dry)."""
    if wet_mm == 0.0:
        result: BoolMatrix = block == 0.0
        return result
    return (block >= 0.0) & (block <= min(wet_mm, high))


def windows_all(mask: BoolMatrix, length: int) -> BoolMatrix:
    """``out[:, j] = mask[:, j : j + length].all(axis=1)`` by doubling (log2(length) ANDs)."""
    width = mask.shape[1] - length + 1
    result = np.ones((mask.shape[0], max(width, 0)), dtype=np.bool_)
    if width <= 0:
        return result
    power, span, offset, remaining = mask, 1, 0, length
    while remaining:
        if remaining & 1:
            result &= power[:, offset : offset + width]
            offset += span
        remaining >>= 1
        if remaining:
            power = power[:, :-span] & power[:, span:]
            span *= 2
    return result


def current_event(rain_mm: npt.NDArray[Any], win: StepWindows, wet_mm: float) -> EventScan:
    """Find each station's current event (see the module docstring for the definition)."""
    n, n_steps = rain_mm.shape
    spell, high = win.dry_spell, win.rain_max_mm
    start = np.full(n, -1, dtype=np.int64)
    end = np.full(n, -1, dtype=np.int64)
    total = np.zeros(n, dtype=np.float64)
    missing = np.zeros(n, dtype=np.bool_)
    truncated = np.zeros(n, dtype=np.bool_)
    if n_steps >= spell:
        settled = dry_steps(rain_mm[:, n_steps - spell :], wet_mm, high).all(axis=1)
        rows = np.flatnonzero(~settled)
    else:
        rows = np.flatnonzero(~dry_steps(rain_mm, wet_mm, high).all(axis=1))
    width = min(n_steps, 2 * spell + win.w1h)
    while rows.size:
        low = n_steps - width
        sub = rain_mm[rows, low:]
        valid = (sub >= 0.0) & (sub <= high)
        dry = dry_steps(sub, wet_mm, high)
        last = width - 1 - np.argmax(~dry[:, ::-1], axis=1)  # the last non-dry column
        # Full dry windows ending at column j + spell - 1, kept only if before the last step.
        spells = windows_all(dry, spell)
        spells &= np.arange(spells.shape[1]) + spell <= last[:, None]
        found: BoolMatrix = np.asarray(spells.any(axis=1), dtype=np.bool_)
        whole = width == n_steps
        first = np.argmax(~dry, axis=1)
        if spells.shape[1]:
            latest = spells.shape[1] - 1 - np.argmax(spells[:, ::-1], axis=1)
            first = np.where(found, latest + spell, first)
        done = found | whole
        cols = np.arange(width)
        inside = (cols >= first[:, None]) & (cols <= last[:, None])
        picked = rows[done]
        inside_done = inside[done]
        total[picked] = np.where(inside_done & valid[done], sub[done], 0.0).sum(axis=1)
        missing[picked] = (inside_done & ~valid[done]).any(axis=1)
        start[picked] = low + first[done]
        end[picked] = low + last[done]
        truncated[picked] = whole & ~found[done]
        rows = rows[~done]
        width = min(n_steps, 2 * width)
    active = end >= 0
    return EventScan(
        active=active,
        steps=np.where(active, end - start + 1, 0),
        total_mm=total,
        missing=missing,
        truncated=truncated,
        end=end,
    )
