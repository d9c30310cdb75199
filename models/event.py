"""The current rain event of every station: start, duration, total, data completeness.

An event is a run of steps bounded by dry spells of at least ``dry_spell`` steps, a dry step
being a valid reading of at most ``wet_threshold_mm`` (a gap is never dry: it might have
rained). The event is current while the trailing dry run is shorter than the dry spell. Its
duration D runs from its first recorded rain (leading gaps are missing history, not rain
duration; they still mark the event ``missing``) to its last non-dry step, and its mean
intensity is total/D; these feed the intensity-duration threshold of Caine (1980).

Stations dry for the whole last dry spell are settled first. Rows without gaps or bad values
(the usual case) are then scanned on hourly block sums over a trailing window (see
:func:`_block_scan`), touching single steps only in the two blocks holding the event's first and
last rainy step. The remaining rows take the step-level scan, whose trailing window doubles
until it holds the latest full dry spell before the event (or the whole record). Either way the
cost follows the length of current events, not of the record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from models.rainfall import block_sums

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


def _exact_scan(  # noqa: PLR0913, PLR0917  the scan fills the caller's output arrays in place
    rain_mm: npt.NDArray[Any],
    rows: IntArray,
    win: StepWindows,
    wet_mm: float,
    start: IntArray,
    end: IntArray,
    out: tuple[FloatArray, BoolArray, BoolArray],
) -> None:
    """Step-level scan of ``rows`` (not settled) over a doubling trailing window."""
    total, missing, truncated = out
    n_steps = rain_mm.shape[1]
    spell, high = win.dry_spell, win.rain_max_mm
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


_WORD = 64
"""Blocks per coarse window at most: one bit each in a uint64 word per row."""


def _top_bit(words: npt.NDArray[np.uint64]) -> IntArray:
    """Index of the highest set bit of each word, -1 for 0 (exact: halves convert exactly)."""
    _, high = np.frexp((words >> np.uint64(32)).astype(np.float64))
    _, low = np.frexp((words & np.uint64(0xFFFFFFFF)).astype(np.float64))
    result: IntArray = np.where(high > 0, high + 31, low - 1).astype(np.int64)
    return result


def _bits(mask: BoolMatrix) -> npt.NDArray[np.uint64]:
    """Row ``i`` of ``mask`` ([rows, <= 64]) as a word whose bit ``j`` is ``mask[i, j]``."""
    packed = np.packbits(mask, axis=1, bitorder="little")
    buffer = np.zeros((mask.shape[0], _WORD // 8), dtype=np.uint8)
    buffer[:, : packed.shape[1]] = packed
    return buffer.view("<u8").reshape(-1).astype(np.uint64)


def first_blocks(n_steps: int, win: StepWindows) -> int:
    """Blocks (of ``w1h`` steps) in the block scan's first trailing window."""
    return min(n_steps // win.w1h, _WORD, 2 * -(-win.dry_spell // win.w1h) + 8)


def _block_flags(
    rain_mm: npt.NDArray[Any],
    rows: IntArray,
    shape: tuple[int, int, float],
    hourly: npt.NDArray[Any] | None,
    *,
    clean: bool,
) -> tuple[npt.NDArray[Any], BoolMatrix, BoolMatrix | None]:
    """Per trailing block of ``rows``: valid-rain sums, any non-dry step, any invalid step."""
    size, blocks, high = shape
    if not clean:
        sub = rain_mm[rows, rain_mm.shape[1] - blocks * size :]
        valid = (sub >= 0.0) & (sub <= high)
        sums = block_sums(np.where(valid, sub, sub.dtype.type(0.0)), size, blocks)
        wet: BoolMatrix = np.asarray((sub != 0.0).reshape(-1, blocks, size).any(axis=2))
        gaps: BoolMatrix = np.asarray((~valid).reshape(-1, blocks, size).any(axis=2))
        return sums, wet, gaps
    if hourly is not None and hourly.shape[1] >= blocks:
        sums = hourly[rows, hourly.shape[1] - blocks :]
    elif 2 * rows.size > rain_mm.shape[0]:
        sums = block_sums(rain_mm, size, blocks)[rows]
    else:
        sums = block_sums(rain_mm[rows], size, blocks)
    return sums, sums > 0.0, None


def _after_dry_run(
    rainy: npt.NDArray[np.uint64], blocks: int, least: int, need: int
) -> tuple[IntArray, IntArray]:
    """Latest rainy block after ``least`` dry blocks, and after ``need`` dry blocks (-1: none)."""
    dry = ~rainy & np.uint64((1 << blocks) - 1)
    run = dry.copy()  # bit j: blocks j - k + 1 .. j all dry, k = 1, 2, ...
    for shift in range(1, least):
        run &= dry << np.uint64(shift)
    b_maybe = _top_bit(rainy & (run << np.uint64(1)))
    for shift in range(least, need):
        run &= dry << np.uint64(shift)
    return b_maybe, _top_bit(rainy & (run << np.uint64(1)))


def _block_scan(  # noqa: PLR0913, PLR0917  the scan fills the caller's output arrays in place
    rain_mm: npt.NDArray[Any],
    rows: IntArray,
    win: StepWindows,
    start: IntArray,
    end: IntArray,
    out: tuple[FloatArray, BoolArray],
    hourly: npt.NDArray[Any] | None,
    *,
    clean: bool,
) -> IntArray:
    """Coarse-to-fine scan of rows when any recorded rain is wet (``wet_mm == 0``).

    With blocks of ``B`` steps aligned to the newest step, a block is dry exactly when its sum
    is 0. A dry spell of ``S`` steps holds at least ``q = (S - B + 1) // B`` whole dry blocks,
    and ``Q = ceil(S / B)`` dry blocks always make one. The event starts at the first rainy
    step of the latest rainy block preceded by ``Q`` dry blocks, unless a later rainy block is
    preceded by ``q`` to ``Q - 1`` dry blocks (then the row falls back to the step-level
    scan). Before the start of the event there is only the dry spell, after its end only zeros,
    so the event total is the sum of the blocks from the start block on. Block flags are bits
    of one word per row, so finding those blocks is a few operations per row, not per block.
    For clean rows (every value valid, ``hourly`` reused when given) a block is rainy when its
    sum is above 0; other rows get their flags, valid-rain sums and gap flags from the steps
    (a gap or a bad value is never dry, so it lies inside the event when in its blocks).
    Returns the rows left for the step-level scan.
    """
    total, missing = out
    high = win.rain_max_mm
    n_steps = rain_mm.shape[1]
    size, spell = win.w1h, win.dry_spell
    need = -(-spell // size)
    least = (spell - size + 1) // size
    n_blocks = min(n_steps // size, _WORD)
    cols = np.arange(size)
    # Every run of ``size`` consecutive values of the flat array, as rows of a strided view:
    # fancy indexing it with one start per row copies each block with one small memcpy.
    runs = (
        sliding_window_view(rain_mm.reshape(-1), size)
        if rain_mm.flags.c_contiguous and rain_mm.size >= size
        else None
    )
    blocks = first_blocks(n_steps, win)
    left: list[IntArray] = []
    while rows.size:
        low = n_steps - blocks * size
        sums, wet, gaps = _block_flags(rain_mm, rows, (size, blocks, high), hourly, clean=clean)
        rainy = _bits(wet)
        b_maybe, b_sure = _after_dry_run(rainy, blocks, least, need)
        has = b_sure >= 0
        ok = has & (b_maybe == b_sure)
        left.append(rows[has & ~ok])
        if blocks == n_blocks:
            left.append(rows[~has])
            pending = rows[:0]
        else:
            pending = rows[~has]
        done = rows[ok]
        if done.size:
            b_first = b_sure[ok]
            first = low + size * b_first  # first step of the block holding the start
            last = low + size * _top_bit(rainy[ok]) + size - 1  # last step of the end's block
            if runs is not None:
                row_at = done * n_steps
                head = runs[row_at + first]
                tail = runs[row_at + last - (size - 1)][:, ::-1]  # newest step first
            else:
                head = rain_mm[done[:, None], first[:, None] + cols]
                tail = rain_mm[done[:, None], last[:, None] - cols]
            start[done] = first + np.argmax(head != 0.0, axis=1)
            end[done] = last - np.argmax(tail != 0.0, axis=1)
            # Row r's blocks from b_first on: segments [r*K + b_first, (r+1)*K) of the flat sums.
            bounds = np.empty(2 * done.size - 1, dtype=np.int64)
            bounds[0::2] = np.arange(done.size) * blocks + b_first
            bounds[1::2] = np.arange(1, done.size) * blocks
            every = done.size == rows.size  # the usual case in a storm: no copy of the sums
            picked = sums if every else sums[ok]
            total[done] = np.add.reduceat(picked.reshape(-1), bounds, dtype=np.float64)[0::2]
            if gaps is not None:
                flags = gaps if every else gaps[ok]
                missing[done] = np.logical_or.reduceat(flags.reshape(-1), bounds)[0::2]
        rows = pending
        blocks = min(n_blocks, 2 * blocks)
    return np.concatenate(left) if left else rows


def _skip_leading_gaps(  # noqa: PLR0913, PLR0917  the scan's arrays, adjusted in place
    rain_mm: npt.NDArray[Any],
    active: BoolArray,
    start: IntArray,
    end: IntArray,
    total: FloatArray,
    wet_mm: float,
    high: float,
) -> None:
    """Start each event at its first recorded rain: missing history is not rain duration.

    A gap is never dry, so an event whose rain began after missing steps (a record that
    starts with a gap, a station back from an outage) would otherwise date from the first
    gap and dilute its intensity over hours nobody measured. The event stays ``missing`` and,
    if it reaches the record's start, ``truncated``: the gaps still make ID unknown. Events
    made only of gaps keep their extent.
    """
    rows = np.flatnonzero(active)
    if not rows.size:
        return
    first = rain_mm[rows, start[rows]]
    with np.errstate(invalid="ignore"):
        rained = (first > wet_mm) & (first <= high)
    rows = rows[~rained]
    if not rows.size:
        return
    sub = rain_mm[rows]
    cols = np.arange(sub.shape[1])
    with np.errstate(invalid="ignore"):
        wet = (sub > wet_mm) & (sub <= high)
    wet &= (cols >= start[rows, None]) & (cols <= end[rows, None])
    has = wet.any(axis=1)
    moved = rows[has]
    start[moved] = np.argmax(wet[has], axis=1)
    inside = (cols >= start[moved, None]) & (cols <= end[moved, None])
    with np.errstate(invalid="ignore"):
        valid = (sub[has] >= 0.0) & (sub[has] <= high)
    total[moved] = np.where(inside & valid, sub[has], 0.0).sum(axis=1)


def current_event(
    rain_mm: npt.NDArray[Any],
    win: StepWindows,
    wet_mm: float,
    clean: BoolArray | None = None,
    hourly: npt.NDArray[Any] | None = None,
) -> EventScan:
    """Find each station's current event (see the module docstring for the definition).

    ``clean`` marks rows known to hold only valid readings (no gap, none out of range); they
    may take the coarse block scan when any recorded rain is wet (``wet_mm == 0``).
    ``hourly`` (:func:`models.rainfall.block_sums` of ``w1h`` steps, newest last) is reused
    for those rows when given.
    """
    n, n_steps = rain_mm.shape
    spell, high = win.dry_spell, win.rain_max_mm
    start = np.full(n, -1, dtype=np.int64)
    end = np.full(n, -1, dtype=np.int64)
    total = np.zeros(n, dtype=np.float64)
    missing = np.zeros(n, dtype=np.bool_)
    truncated = np.zeros(n, dtype=np.bool_)
    size = win.w1h
    blocky = (
        clean is not None
        and wet_mm == 0.0
        and n_steps >= spell
        and (spell - size + 1) // size >= 1
        and n_steps // size > -(-spell // size)
        and rain_mm.dtype.kind == "f"
    )
    if blocky and clean is not None:
        # Clean rows: all values in [0, high], so the trailing spell is dry iff its sum is 0.
        if hourly is not None and spell % size == 0 and hourly.shape[1] * size >= spell:
            # Only ``!= 0`` is read, and a sum of values >= 0 is 0 in any order: one BLAS call.
            # (Rows that are not clean may hold inf and -inf; their sums are not used.)
            with np.errstate(invalid="ignore", over="ignore"):
                recent = hourly[:, -(spell // size) :] @ np.ones(spell // size, hourly.dtype)
        else:
            recent = np.vecdot(rain_mm[:, n_steps - spell :], np.ones(spell, dtype=rain_mm.dtype))
        fast = np.flatnonzero(clean & (recent != 0.0))
        others = np.flatnonzero(~clean)
        tail = rain_mm[others, n_steps - spell :]
        others = others[~dry_steps(tail, wet_mm, high).all(axis=1)]
        rest = np.concatenate([
            _block_scan(rain_mm, fast, win, start, end, (total, missing), hourly, clean=True),
            _block_scan(rain_mm, others, win, start, end, (total, missing), None, clean=False),
        ])  # fmt: skip
    else:
        rest = np.arange(n)
        tail = rain_mm[:, max(0, n_steps - spell) :]
        rest = rest[~dry_steps(tail, wet_mm, high).all(axis=1)]
    rows = np.sort(rest)
    _exact_scan(rain_mm, rows, win, wet_mm, start, end, (total, missing, truncated))
    active = end >= 0
    _skip_leading_gaps(rain_mm, active, start, end, total, wet_mm, high)
    return EventScan(
        active=active,
        steps=np.where(active, end - start + 1, 0),
        total_mm=total,
        missing=missing,
        truncated=truncated,
        end=end,
    )
