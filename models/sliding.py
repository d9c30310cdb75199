"""The incremental state over a sliding 96 h window: what the live evaluator keeps.

:class:`models.state.ModelState` folds every step it is given into its running statistics; the
antecedent index and the current event then remember rain from before the window, and a
soil probe seen once counts as present forever. The evaluator's full path evaluates exactly
the grid of its window (96 h) plus the daily antecedent record before it. :class:`SlidingState`
is the state whose :meth:`~SlidingState.result` equals :func:`models.evaluate.evaluate` on that
window, step after step, in O(stations) per step:

* the API is the window's own (the value leaving the window is taken out with its weight
  ``k_step ** window``, exact re-sum once per ring revolution); the record before the window
  is added per result by :func:`models.antecedent.prior_api`, as the full path does;
* the gap bounds of graded completeness (:func:`models.completeness.gap_bounds`) are kept as
  running sums: a ring of the zones' wettest valid reading per step, and per station the
  count of gaps without a reporting neighbour and the neighbours' rain over its gaps;
* an event that began less than one dry spell after the window's first step (or before it)
  is one the full path sees truncated, from its first step inside the window: those rows
  (only while such an event lasts) take the event scan of :mod:`models.event` on their window
  rebuilt from the ring;
* a soil probe counts as seen while its newest valid reading is inside the window.

:meth:`~SlidingState.mark` and :meth:`~SlidingState.rollback` undo pushes (the evaluator's
open bucket keeps receiving readings: it is pushed on top, undone, and pushed again), and
:meth:`~SlidingState.splice` replaces the rows of whole zones by a state rebuilt for them
(late data in an older step), since every zone-dependent part (outlier screen, gap bounds) is
computed within zones.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from models.antecedent import api_weights, prior_api
from models.completeness import _zone_peaks
from models.consistency import screen
from models.evaluate import finalize
from models.event import current_event, dry_steps, windows_all
from models.rainfall import as_float
from models.state import ModelState

if TYPE_CHECKING:
    from models.config import ModelConfig
    from models.inputs import FloatArray, IntArray, ModelInputs
    from models.result import ModelResult
    from models.summary import WindowSummary

# Ring attributes and the attribute holding the column of their oldest value.
_RINGS = {"ring": "pos", "zone_peak": "pos", "vwc_ring": "vwc_pos"}
# Per-station step indices (relative to ``t``): shifted when rows are spliced in.
_INDICES = ("ev_begin", "vwc_seen_t", "first_rain")
_NEVER = np.iinfo(np.int64).min // 4
_BLOCK = 4096  # rows per block of the once-a-revolution re-sums (bounded temporaries)


def rows_none() -> IntArray:
    """No rows (a record shorter than a dry spell holds no full dry spell)."""
    return np.empty(0, dtype=np.int64)


def _blocks(n: int) -> list[slice]:
    return [slice(low, min(n, low + _BLOCK)) for low in range(0, n, _BLOCK)]


class SlidingState(ModelState):
    """:class:`ModelState` whose results equal the full evaluation of the last 96 h window."""

    def __init__(self, inputs: ModelInputs, config: ModelConfig) -> None:
        """Start from the window's first ``steps`` columns (at most the 96 h window)."""
        super().__init__(inputs, config)
        win, static = self.win, self.static
        n, n_steps = inputs.rain_mm.shape
        if n_steps > win.w96h:
            raise ValueError(f"a sliding state starts from at most {win.w96h} steps")
        if inputs.antecedent_daily_mm is not None:
            raise ValueError("the antecedent record is given to result(), not to the state")
        rain = screen(as_float(inputs.rain_mm), static.zone, inputs.step_minutes, config)
        with np.errstate(invalid="ignore"):
            valid = (rain >= 0) & (rain <= win.rain_max_mm)
        peak = np.full((static.n_zones, win.w96h), np.nan, dtype=np.float32)
        if n:
            clean = np.where(valid, rain, np.nan)
            peak[:, win.w96h - n_steps :] = _zone_peaks(clean, static.zone, static.n_zones)
        self.zone_peak = peak
        self.gap_count = np.zeros((n, 3), dtype=np.int64)
        self.gap_seen = np.zeros((n, 3), dtype=np.float64)
        self._resum_gaps()
        # Where each current event began: the first step after the latest full dry spell
        # before its last non-dry step; none in the record: long ago (truncated).
        begin = np.full(n, _NEVER, dtype=np.int64)
        rows = np.flatnonzero(self.active) if n_steps >= win.dry_spell else rows_none()
        for block in _blocks(rows.size):
            sub = rows[block]
            dry = dry_steps(rain[sub], config.event.wet_threshold_mm, win.rain_max_mm)
            spells = windows_all(dry, win.dry_spell)
            end = n_steps - 1 - self.tail_dry[sub]
            spells &= np.arange(spells.shape[1]) + win.dry_spell <= end[:, None]
            found = spells.any(axis=1)
            latest = spells.shape[1] - 1 - np.argmax(spells[:, ::-1], axis=1)
            begin[sub] = np.where(found, latest + win.dry_spell, _NEVER)
        self.ev_begin = begin
        # The window's first rained step (the start the full path gives a truncated event).
        rained = valid & (rain > config.event.wet_threshold_mm)
        self.first_rain = np.where(rained.any(axis=1), np.argmax(rained, axis=1), _NEVER).astype(
            np.int64
        )
        vwc = inputs.vwc_m3m3
        with np.errstate(invalid="ignore"):
            seen = (vwc >= 0.0) & (vwc <= config.quality.vwc_max_m3m3)
        last = n_steps - 1 - np.argmax(seen[:, ::-1], axis=1)
        self.vwc_seen_t = np.where(seen.any(axis=1), last, _NEVER).astype(np.int64)

    @property
    def first(self) -> int:
        """Step index (as ``t`` counts) of the window's first step."""
        return int(self.t) - self.win.w96h

    def _hidden(self, column: int) -> tuple[IntArray, FloatArray]:
        """Per station, whether ring ``column`` is a gap with no neighbour, and its bound."""
        gap = np.isnan(self.ring[:, column])
        peak = self.zone_peak[self.static.zone, column].astype(np.float64)
        unseen = gap & np.isnan(peak)
        return unseen.astype(np.int64), np.where(gap & ~unseen, peak, 0.0)

    def _resum_gaps(self) -> None:
        """Exact gap sums from the rings (oldest column at ``pos``), in blocks of rows."""
        order = np.roll(np.arange(self.win.w96h), -self.pos)
        peaks = self.zone_peak[:, order]
        for rows in _blocks(self.ring.shape[0]):
            gap = np.isnan(self.ring[rows][:, order])
            peak = peaks[self.static.zone[rows]]
            unseen = gap & np.isnan(peak)
            seen = np.where(gap & ~unseen, peak, np.float32(0.0)).astype(np.float64)
            for j, length in enumerate(self._lengths):
                self.gap_count[rows, j] = unseen[:, -length:].sum(axis=1)
                self.gap_seen[rows, j] = seen[:, -length:].sum(axis=1)

    def _resum_api(self) -> None:
        """The exact window API from the ring (called when its oldest column is the first)."""
        weights = api_weights(self.win.w96h, self.win.k_step)
        for rows in _blocks(self.ring.shape[0]):
            ring = self.ring[rows].astype(np.float64)
            self.api[rows] = np.where(np.isfinite(ring), ring, 0.0) @ weights

    @property
    def _lengths(self) -> tuple[int, int, int]:
        return self.win.w1h, self.win.w24h, self.win.w96h

    def push(self, rain_mm: npt.ArrayLike, vwc_m3m3: npt.ArrayLike) -> None:
        """Fold in one new step; the step 96 h old leaves the window's sums."""
        win = self.win
        column = self.pos
        leaving = self.ring[:, column].astype(np.float64)
        leaving = np.where(np.isfinite(leaving), leaving, 0.0)
        gone = [self._hidden((column - length) % win.w96h) for length in self._lengths]
        was_active = self.active
        t = self.t
        super().push(rain_mm, vwc_m3m3)
        self.api -= win.k_step**win.w96h * leaving
        if self.pos == 0:  # a revolution: exact sums again, bounding float drift
            self._resum_api()
        new = self.ring[:, column]
        peak = np.full(self.static.n_zones, np.nan, dtype=np.float32)
        ok = np.isfinite(new)
        np.fmax.at(peak, self.static.zone[ok], new[ok])
        self.zone_peak[:, column] = peak
        count, seen = self._hidden(column)
        for j, (old_count, old_seen) in enumerate(gone):
            self.gap_count[:, j] += count - old_count
            self.gap_seen[:, j] += seen - old_seen
        if self.pos == 0:
            self._resum_gaps()
        self.ev_begin = np.where(self.active & ~was_active, t, self.ev_begin)
        # The first rained step left the window: the next one, from the ring (those rows only).
        left = np.flatnonzero(self.first_rain == self.first - 1)
        if left.size:
            rained = self.window(left) > self.config.event.wet_threshold_mm
            found = rained.any(axis=1)
            self.first_rain[left] = np.where(found, self.first + np.argmax(rained, axis=1), _NEVER)
        fresh = (self.first_rain == _NEVER) & (new > self.config.event.wet_threshold_mm)
        self.first_rain[fresh] = t
        v = np.asarray(vwc_m3m3, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            v_ok = (v >= 0.0) & (v <= self.config.quality.vwc_max_m3m3)
        self.vwc_seen_t = np.where(v_ok, t, self.vwc_seen_t)

    def _gap_bounds(self) -> FloatArray:
        """The window's gap bounds from the running sums (no pass over the ring)."""
        step_mm = self.config.quality.gap_max_mm_per_h * self.win.step_minutes / 60.0
        bound: FloatArray = self.gap_count * step_mm + self.gap_seen
        return bound

    def window(self, rows: IntArray) -> npt.NDArray[np.float32]:
        """The screened window of ``rows`` from the ring, oldest step first (gaps NaN)."""
        return np.roll(self.ring[rows], -self.pos, axis=1)

    def summary(self) -> WindowSummary:
        """The statistics of the window at the newest step (equal to the full path's)."""
        base = super().summary()
        spell, wet_mm = self.win.dry_spell, self.config.event.wet_threshold_mm
        edge = base.event_active & (self.ev_begin - spell < self.first)
        fields: dict[str, Any] = {"vwc_seen": self.vwc_seen_t >= self.first}
        if not edge.any():
            return dataclasses.replace(base, **fields)
        merged = {
            name: getattr(base, name).copy()
            for name in ("event_steps", "event_total_mm", "event_missing", "event_truncated")
        }
        if wet_mm == 0.0:
            # No dry step holds rain: the event runs from the window's first rained step to
            # its last non-dry one, holds the window's rain and any gap of the window.
            fast = np.flatnonzero(edge & (self.first_rain != _NEVER))
            before = max(0, self.win.w96h - self.t)  # ring columns before the record
            end = self.t - 1 - self.tail_dry[fast]
            merged["event_steps"][fast] = end - self.first_rain[fast] + 1
            merged["event_total_mm"][fast] = self.acc[fast, 2]
            merged["event_missing"][fast] = self.missing[fast, 2] > before
            merged["event_truncated"][fast] = True
            edge &= self.first_rain == _NEVER
        rows = np.flatnonzero(edge)
        if rows.size:  # the general case (and gaps only): the full path's scan, these rows
            scan = current_event(self.window(rows), self.win, wet_mm)
            for name, value in (
                ("event_steps", scan.steps),
                ("event_total_mm", scan.total_mm),
                ("event_missing", scan.missing),
                ("event_truncated", scan.truncated),
            ):
                merged[name][rows] = value
        return dataclasses.replace(base, **fields, **merged)

    def result(self, antecedent_daily_mm: npt.NDArray[Any] | None = None) -> ModelResult:
        """Levels at the newest step; ``antecedent_daily_mm`` as in :class:`ModelInputs`."""
        summary = self.summary()
        if antecedent_daily_mm is not None:
            k_daily = self.config.antecedent.k_daily
            prior = prior_api(antecedent_daily_mm, k_daily, self.win.k_step, self.win.w96h)
            summary = dataclasses.replace(summary, api_mm=summary.api_mm + prior)
        return finalize(summary, self.static, self.win, self.config)

    def mark(self) -> dict[str, Any]:
        """What :meth:`rollback` needs to undo the pushes made after this call (O(stations))."""
        saved: dict[str, Any] = {}
        for name, value in vars(self).items():
            if name in _RINGS:
                saved[name] = value[:, getattr(self, _RINGS[name])].copy()
            elif isinstance(value, np.ndarray):
                saved[name] = value.copy()
            elif isinstance(value, int):
                saved[name] = value
        return saved

    def rollback(self, saved: dict[str, Any]) -> None:
        """Return to the state of :meth:`mark` (undo marks newest first)."""
        for name, value in saved.items():
            if name not in _RINGS:
                setattr(self, name, value)
        for name, position in _RINGS.items():
            getattr(self, name)[:, saved[position]] = saved[name]

    def splice(self, rows: IntArray, zones: IntArray, other: SlidingState) -> None:
        """Replace ``rows`` (every station of ``zones``, in order) by ``other``'s stations.

        ``other`` is a state for those stations alone (zones renumbered in the order of
        ``zones``) whose newest step is this state's newest step.
        """
        width = self.win.w96h
        shift = self.t - other.t
        for name, value in vars(other).items():
            if name in _RINGS:
                target = getattr(self, name)
                offset = getattr(self, _RINGS[name]) - getattr(other, _RINGS[name])
                size = value.shape[1]
                if name == "zone_peak":
                    target[zones] = np.roll(value, offset % width, axis=1)
                else:
                    target[rows] = np.roll(value, offset % size, axis=1)
            elif name in _INDICES:
                getattr(self, name)[rows] = np.where(value == _NEVER, _NEVER, value + shift)
            elif isinstance(value, np.ndarray) and value.shape[:1] == (rows.size,):
                getattr(self, name)[rows] = value
