"""Incremental evaluation: one new time step for all stations in O(stations).

:class:`ModelState` keeps a ring buffer of the last 96 h of rain and running window sums,
the API, the current-event bookkeeping and the quality counters. ``push`` folds one new column
in with a fixed number of vector operations over stations; ``result`` runs the same
:func:`models.evaluate.finalize` as the full evaluation, so both paths agree (tested).
Window sums are re-summed exactly from the ring once per ring revolution, which bounds
floating-point drift at an amortised O(stations) cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from models.completeness import gap_bounds
from models.consistency import screen
from models.evaluate import finalize, summarise
from models.inputs import FloatArray, ModelInputs, StationStatic, StepWindows
from models.quality import vwc_rise
from models.summary import WindowSummary

if TYPE_CHECKING:
    from models.config import ModelConfig
    from models.result import ModelResult


class ModelState:
    """Mutable running state of the model for a fixed set of stations (not thread-safe)."""

    def __init__(self, inputs: ModelInputs, config: ModelConfig) -> None:
        """Start from a full record (at least one step)."""
        self.config = config
        self.static: StationStatic = inputs.static
        self.win = win = StepWindows.build(inputs.step_minutes, config)
        summary = summarise(inputs, config)
        rain = screen(inputs.rain_mm, inputs.static.zone, inputs.step_minutes, config)
        rain = rain.astype(np.float64)
        n, n_steps = rain.shape
        valid = (rain >= 0.0) & (rain <= win.rain_max_mm)
        ring = np.full((n, win.w96h), np.nan, dtype=np.float32)
        keep = min(n_steps, win.w96h)
        ring[:, win.w96h - keep :] = np.where(valid, rain, np.nan)[:, n_steps - keep :]
        self.ring = ring
        self.pos = 0  # column of the oldest value = where the next one is written
        self.t = n_steps
        self.acc = summary.acc_mm.copy()
        self.missing = summary.missing.copy()
        self.api = summary.api_mm.copy()
        self.active = summary.event_active.copy()
        self.steps = summary.event_steps.copy()
        self.total = summary.event_total_mm.copy()
        self.ev_missing = summary.event_missing.copy()
        self.truncated = summary.event_truncated.copy()
        self.tail_dry = np.where(self.active, 0, min(n_steps, win.dry_spell)).astype(np.int64)
        self.tail_mm = np.zeros(n)
        self._init_tails(rain, valid)
        # Whether the current event has recorded rain yet (its start is its first rain).
        self.rained = np.zeros(n, dtype=np.bool_)
        rows = np.flatnonzero(self.active)
        if rows.size:
            first = n_steps - self.tail_dry[rows] - self.steps[rows]
            wet = rain[rows, first] > config.event.wet_threshold_mm
            self.rained[rows] = valid[rows, first] & wet
        self.prev_rain = rain[:, -1].copy()
        self.prev_vwc = inputs.vwc_m3m3[:, -1].astype(np.float64)
        self.rain_flat = summary.rain_flat_run.copy()
        self.vwc_flat = summary.vwc_flat_run.copy()
        self.since_obs = summary.since_obs.copy()
        self.since_bad = summary.since_bad.copy()
        self.vwc_last = summary.vwc_last.copy()
        self.vwc_age = summary.vwc_age.copy()
        self.vwc_seen = summary.vwc_seen.copy()
        width = win.stuck + 1  # the full path's soil window (models.quality.sensor_stats)
        tail = inputs.vwc_m3m3[:, -width:].astype(np.float64)
        self.vwc_ring = np.full((n, width), np.nan)
        self.vwc_ring[:, width - tail.shape[1] :] = tail
        self.vwc_pos = 0  # column of the oldest soil value

    def _init_tails(self, rain: FloatArray, valid: npt.NDArray[np.bool_]) -> None:
        """Dry steps (and their rain) after each current event's last non-dry step."""
        win, wet = self.win, self.config.event.wet_threshold_mm
        rows = np.flatnonzero(self.active)
        if not rows.size:
            return
        tail = rain[rows, -win.dry_spell :]
        ok = valid[rows, -win.dry_spell :]
        dry = ok & (tail <= wet)
        count = np.argmin(dry[:, ::-1], axis=1)  # active events end within the last spell
        cols = np.arange(tail.shape[1])
        after = cols >= tail.shape[1] - count[:, None]
        self.tail_dry[rows] = count
        self.tail_mm[rows] = np.where(after & ok, tail, 0.0).sum(axis=1)

    def push(self, rain_mm: npt.ArrayLike, vwc_m3m3: npt.ArrayLike) -> None:
        """Fold in one new step (arrays of shape [stations]; NaN where nothing arrived)."""
        win = self.win
        r = np.asarray(rain_mm, dtype=np.float64)
        r = screen(r[:, None], self.static.zone, win.step_minutes, self.config)[:, 0]
        v = np.asarray(vwc_m3m3, dtype=np.float64)
        valid = (r >= 0.0) & (r <= win.rain_max_mm)
        x0 = np.where(valid, r, 0.0)
        for j, length in enumerate((win.w1h, win.w24h, win.w96h)):
            old = self.ring[:, (self.pos - length) % win.w96h].astype(np.float64)
            old_valid = np.isfinite(old)
            self.acc[:, j] += x0 - np.where(old_valid, old, 0.0)
            self.missing[:, j] += (~valid).astype(np.int64) - (~old_valid)
        self.ring[:, self.pos] = np.where(valid, r, np.nan)
        self.pos = (self.pos + 1) % win.w96h
        if self.pos == 0:
            self._resum()
        self.api = win.k_step * self.api + x0
        self._push_event(valid, r, x0)
        self._push_quality(r, v, valid)
        self.t += 1

    def _resum(self) -> None:
        """Exact window sums from the ring (the oldest value sits at ``pos`` = 0 here)."""
        win = self.win
        for j, length in enumerate((win.w1h, win.w24h, win.w96h)):
            window = self.ring[:, win.w96h - length :].astype(np.float64)
            self.acc[:, j] = np.where(np.isfinite(window), window, 0.0).sum(axis=1)
            self.missing[:, j] = (~np.isfinite(window)).sum(axis=1)

    def _push_event(self, valid: npt.NDArray[np.bool_], r: FloatArray, x0: FloatArray) -> None:
        spell = self.win.dry_spell
        dry = valid & (r <= self.config.event.wet_threshold_mm)
        wet = ~dry
        rain_now = valid & ~dry
        fresh = wet & ~self.active
        going = wet & self.active
        # The first recorded rain of an event that began with gaps restarts its duration and
        # total there: missing history is not rain duration (models.event).
        first_rain = going & ~self.rained & rain_now
        self.truncated = np.where(fresh, self.tail_dry < spell, self.truncated)
        self.total = np.where(
            fresh | first_rain, x0, np.where(going, self.total + self.tail_mm + x0, self.total)
        )
        self.ev_missing = np.where(fresh, ~valid, self.ev_missing | (going & ~valid))
        self.steps = np.where(
            fresh | first_rain, 1, np.where(going, self.steps + self.tail_dry + 1, self.steps)
        )
        self.rained = np.where(fresh, rain_now, self.rained | (going & rain_now))
        self.tail_dry = np.where(wet, 0, np.minimum(self.tail_dry + 1, spell))
        self.tail_mm = np.where(wet, 0.0, self.tail_mm + x0)
        self.active = (self.active | wet) & (self.tail_dry < spell)

    def _push_quality(self, r: FloatArray, v: FloatArray, valid: npt.NDArray[np.bool_]) -> None:
        win, q = self.win, self.config.quality
        v_ok = (v >= 0.0) & (v <= q.vwc_max_m3m3)
        prev_v_ok = (self.prev_vwc >= 0.0) & (self.prev_vwc <= q.vwc_max_m3m3)
        same_r = (r == self.prev_rain) & (r > 0.0) & valid
        with np.errstate(invalid="ignore"):
            same_v = (np.abs(v - self.prev_vwc) <= q.stuck_tolerance_vwc) & v_ok & prev_v_ok
        cap = win.stuck - 1
        self.rain_flat = np.where(same_r, np.minimum(self.rain_flat + 1, cap), 0)
        self.vwc_flat = np.where(same_v, np.minimum(self.vwc_flat + 1, cap), 0)
        seen = np.isfinite(r) | np.isfinite(v)
        bad = (r < 0.0) | (r > win.rain_max_mm) | (v < 0.0) | (v > q.vwc_max_m3m3)
        self.since_obs = np.where(seen, 0, np.minimum(self.since_obs + 1, win.offline))
        self.since_bad = np.where(bad, 0, np.minimum(self.since_bad + 1, win.stuck))
        self.vwc_last = np.where(v_ok, v, self.vwc_last)
        self.vwc_age = np.where(v_ok, 0, np.minimum(self.vwc_age + 1, win.offline))
        self.vwc_seen |= v_ok
        self.prev_rain, self.prev_vwc = r, v
        self.vwc_ring[:, self.vwc_pos] = v
        self.vwc_pos = (self.vwc_pos + 1) % self.vwc_ring.shape[1]

    def summary(self) -> WindowSummary:
        """The per-station statistics at the newest step (copies)."""
        vwc_last = np.where(self.vwc_age < self.win.offline, self.vwc_last, np.nan)
        return WindowSummary(
            acc_mm=self.acc.copy(),
            missing=self.missing.copy(),
            api_mm=self.api.copy(),
            event_active=self.active.copy(),
            event_steps=np.where(self.active, self.steps, 0),
            event_total_mm=np.where(self.active, self.total, 0.0),
            event_missing=self.ev_missing & self.active,
            event_truncated=self.truncated & self.active,
            rain_flat_run=self.rain_flat.copy(),
            vwc_flat_run=self.vwc_flat.copy(),
            since_obs=self.since_obs.copy(),
            since_bad=self.since_bad.copy(),
            vwc_last=vwc_last,
            vwc_age=self.vwc_age.copy(),
            vwc_seen=self.vwc_seen.copy(),
            vwc_rise=vwc_rise(self.vwc_ring, vwc_last, self.config.quality.vwc_max_m3m3),
            gap_bound_mm=self._gap_bounds(),
        )

    def _gap_bounds(self) -> FloatArray:
        """:func:`models.completeness.gap_bounds` over the ring, oldest column first.

        O(stations x window) per call, not per push: only ``summary``/``result`` need it.
        Steps before the record are NaN in the ring for every station, so they take the
        record-rate bound, as the full path's steps before the first column do.
        """
        ordered = np.roll(self.ring, -self.pos, axis=1)
        dirty = np.asarray(np.isnan(ordered).any(axis=1), dtype=np.bool_)
        step_mm = self.config.quality.gap_max_mm_per_h * self.win.step_minutes / 60.0
        return gap_bounds(ordered, dirty, self.static.zone, self.static.n_zones, self.win, step_mm)

    def result(self) -> ModelResult:
        """Levels, flags and zones at the newest step (same code as the full evaluation)."""
        return finalize(self.summary(), self.static, self.win, self.config)
