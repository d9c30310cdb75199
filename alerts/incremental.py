"""The evaluator's model state between cycles: each cycle pushes only the steps that are new.

A full evaluation re-reads the whole 96 h grid each cycle (2.6 s at 100,000 stations); the
state (:class:`models.sliding.SlidingState`) folds one step in with O(stations) vector
operations and gives the result the full evaluation of the same window would (tested side by
side). The grid the window (:mod:`alerts.window`) holds is the source of every push:

* The newest ``open_steps`` buckets (default 2: the one being filled and the one before it,
  whose last readings may still be in flight at a bucket boundary) are pushed *tentatively*:
  each cycle undoes them (:meth:`SlidingState.rollback`, O(stations)) and pushes them again
  with what they hold now. Older steps are folded in for good ("committed").
* Data written into a committed step (late or re-sent readings, a better soil probe) rebuilds
  the state of the zones holding those stations from the window the evaluator already holds,
  and splices it in (:meth:`SlidingState.splice`); zone-wise because the outlier screen and
  the gap bounds compare a station with its zone only. When more than half of the stations
  are touched, the whole state is rebuilt instead (one pass instead of two).
* A new station table (a registry import), time going backwards (a replay), or a pause longer
  than the window rebuilds the whole state. A partition takeover changes nothing here: the
  model runs over every station of the network, whichever zones this replica owns.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from models import ModelInputs, StepWindows
from models.sliding import SlidingState

if TYPE_CHECKING:
    import numpy.typing as npt

    from alerts.observations import Grid, StationTable
    from models import ModelConfig, ModelResult

OPEN_STEPS = 2


def _inputs(
    grid: Grid,
    stations: StationTable,
    rows: slice | npt.NDArray[np.int64],
    upto: int,
    step_minutes: int,
) -> ModelInputs:
    """Model inputs of ``rows`` (a slice or indices) for the grid's columns before ``upto``."""
    zone = stations.zone[rows]
    n_zones = len(stations.zone_ids)
    if not isinstance(rows, slice):  # a subset of whole zones, renumbered in order
        _, zone = np.unique(zone, return_inverse=True)
        n_zones = int(zone.max()) + 1 if zone.size else 0
    params = stations.params
    sub: dict[str, Any] = {
        f.name: (None if getattr(params, f.name) is None else getattr(params, f.name)[rows])
        for f in dataclasses.fields(params)
    }
    # The whole table: views of the grid (no copy); a subset of rows is copied by indexing.
    return ModelInputs.build(
        grid.rain_mm[rows, :upto],
        grid.vwc_m3m3[rows, :upto],
        step_minutes,
        zone,
        stations.x_m[rows],
        stations.y_m[rows],
        dataclasses.replace(params, **sub),
        n_zones=n_zones,
    )


@dataclass(slots=True)
class IncrementalModel:
    """One network's model state, fed from the evaluator's window cycle after cycle."""

    config: ModelConfig
    step_minutes: int
    open_steps: int = OPEN_STEPS
    state: SlidingState | None = None
    stations: StationTable | None = None
    committed: Any = None  # datetime of the newest step folded in for good
    marks: list[dict[str, Any]] = field(default_factory=list)
    # What the cycles did (benchmarks and tests): whole rebuilds, zones rebuilt, steps pushed.
    rebuilds: int = 0
    zones_rebuilt: int = 0
    pushes: int = 0

    def supports(self, grid: Grid) -> bool:
        """Whether the grid is the model's 96 h window (else the full evaluation serves)."""
        win = StepWindows.build(self.step_minutes, self.config)
        return bool(grid.rain_mm.shape[1] == win.w96h and grid.rain_mm.shape[0] > 0)

    def _build(
        self, grid: Grid, stations: StationTable, rows: slice | npt.NDArray[np.int64], upto: int
    ) -> SlidingState:
        return SlidingState(_inputs(grid, stations, rows, upto, self.step_minutes), self.config)

    def evaluate(
        self, grid: Grid, stations: StationTable, first_write: npt.NDArray[np.int64]
    ) -> ModelResult:
        """The result at ``grid.end``, the same as the full evaluation of ``grid``.

        ``first_write[i]``: the oldest column written for row ``i`` since the previous call
        (the grid's width where nothing was: :attr:`alerts.window.IncrementalGrid.first_write`).
        A failure part-way leaves no half-updated state: the next call rebuilds it.
        """
        try:
            return self._evaluate(grid, stations, first_write)
        except BaseException:
            self.state, self.stations, self.committed = None, None, None
            self.marks.clear()
            raise

    def _evaluate(
        self, grid: Grid, stations: StationTable, first_write: npt.NDArray[np.int64]
    ) -> ModelResult:
        width = grid.rain_mm.shape[1]
        tentative = min(self.open_steps, width - 1)
        step = timedelta(minutes=self.step_minutes)
        target = grid.end - tentative * step  # the newest step to commit this cycle
        state = self.state
        whole = (
            state is None
            or stations is not self.stations
            or self.committed is None
            or self.committed > target
            or (grid.end - self.committed) / step > width - 1
        )
        if not whole:
            assert state is not None
            for mark in reversed(self.marks):
                state.rollback(mark)
            self.marks.clear()
            column = width - 1 - int((grid.end - self.committed) / step)  # committed's column
            late = first_write <= column
            if late.any():
                zones = np.unique(stations.zone[late])
                rows = np.flatnonzero(np.isin(stations.zone, zones))
                if 2 * rows.size > len(stations.ids):
                    whole = True
                else:
                    state.splice(rows, zones, self._build(grid, stations, rows, column + 1))
                    self.zones_rebuilt += zones.size
            if not whole:
                for j in range(column + 1, width - tentative):
                    state.push(grid.rain_mm[:, j], grid.vwc_m3m3[:, j])
                    self.pushes += 1
        if whole:
            self.marks.clear()
            self.state = state = None  # freed before the new one is built (peak memory)
            state = self._build(grid, stations, slice(None), width - tentative)
            self.rebuilds += 1
        self.state, self.stations, self.committed = state, stations, target
        assert state is not None
        for j in range(width - tentative, width):
            self.marks.append(state.mark())
            state.push(grid.rain_mm[:, j], grid.vwc_m3m3[:, j])
            self.pushes += 1
        return state.result(grid.antecedent_mm)
