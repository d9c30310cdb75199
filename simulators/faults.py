"""Sensor and logger faults applied to the report table, and a log of what was done.

Report-level faults change values (stuck, drift, spike), times (clock skew, clock reset) or
drop reports (dropout, low battery). Message-level faults (duplicates, out-of-order delivery,
gateway outages) are applied when messages are built (``simulators.gateway``). Readings
that ingest must reject are marked ``corrupt``; wrong but plausible ones are only logged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from simulators.telemetry import NOMINAL_BATTERY_V, Table

if TYPE_CHECKING:
    from simulators.fault_config import FaultEvent, Faults
    from simulators.schedule import Reports

Array = npt.NDArray[np.float64]
RTC_RESET_EPOCH = 946684800.0  # 2000-01-01T00:00:00Z, where a logger's clock restarts
BROWNOUT_V = 3.3
# Values no plausible sensor gives: ingest must reject them as out_of_range.
_OUT_OF_RANGE = {"rain_mm": 999.0, "battery_v": 42.0, "temp_c": 85.0}
_OUT_OF_RANGE_VWC = 0.95


@dataclass(slots=True)
class FaultLog:
    """Counts and episodes of the faults a run contains (filled while faults are applied)."""

    counts: dict[str, int] = field(default_factory=dict)
    episodes: list[dict[str, object]] = field(default_factory=list)

    def add(self, kind: str, n: int = 1) -> None:
        """Count ``n`` more faults of ``kind``."""
        self.counts[kind] = self.counts.get(kind, 0) + n


@dataclass(frozen=True, slots=True)
class Faulted:
    """The report table after faults: which rows are sent, their times and values."""

    kept: npt.NDArray[np.bool_]
    ts: Array  # what the logger's clock stamps
    values: Array
    corrupt: npt.NDArray[np.bool_]  # rows ingest must reject


def _episodes(
    rate_per_day: float, mean_h: float, stations: int, hours: float, rng: np.random.Generator
) -> list[tuple[int, float, float]]:
    counts = rng.poisson(rate_per_day * hours / 24.0, stations)
    out = []
    for s in np.repeat(np.arange(stations), counts):
        start = rng.uniform(0.0, hours)
        out.append((int(s), start, start + rng.exponential(mean_h)))
    return out


class FaultInjector:
    """Applies a scenario's faults to one report table."""

    def __init__(
        self,
        faults: Faults,
        station_ids: tuple[str, ...],
        step_s: float,
        hours: float,
        rng: np.random.Generator,
    ) -> None:
        self.rates = faults.rates
        self.events = faults.events
        self.index = {s: i for i, s in enumerate(station_ids)}
        self.ids = station_ids
        self.step_s = step_s
        self.hours = hours
        self.rng = rng
        self.log = FaultLog()

    def _rows(self, rows: Reports, station: int, start_h: float, end_h: float) -> slice:
        lo, hi = rows.first[station], rows.first[station + 1]
        steps = rows.step[lo:hi]
        a = np.searchsorted(steps, start_h * 3600.0 / self.step_s)
        b = np.searchsorted(steps, end_h * 3600.0 / self.step_s)
        return slice(int(lo + a), int(lo + b))

    def _station_events(self, kind: str) -> list[FaultEvent]:
        return [e for e in self.events if e.kind == kind]

    def _value_faults(self, rows: Reports, table: Table, values: Array) -> None:
        rates, rng = self.rates, self.rng
        probes = [i for i, q in enumerate(table.quantities) if q.startswith("vwc")]
        stuck = [
            (s, a, b, int(rng.choice([*probes, 0, table.column("temp_c")])))
            for s, a, b in _episodes(
                rates.stuck_per_day, rates.stuck_h, len(self.ids), self.hours, rng
            )
        ]
        stuck += [
            (
                self.index[e.target],
                e.start_h,
                e.start_h + e.duration_h,
                table.column(e.quantity or table.quantities[probes[0]]),
            )
            for e in self._station_events("stuck")
        ]
        for s, a, b, q in stuck:
            part = self._rows(rows, s, a, b)
            if part.stop > part.start:
                # A clogged gauge reads zero; a stuck probe repeats its last value.
                values[part, q] = 0.0 if q == 0 else values[part.start, q]
                self.log.add("stuck", part.stop - part.start)
                self.log.episodes.append(
                    {
                        "kind": "stuck",
                        "station": self.ids[s],
                        "start_h": a,
                        "end_h": b,
                        "quantity": table.quantities[q],
                    }
                )
        drift = [
            (s, a, b, int(rng.choice(probes)), rates.drift_per_h)
            for s, a, b in _episodes(
                rates.drift_per_day, rates.drift_h, len(self.ids), self.hours, rng
            )
        ]
        drift += [
            (
                self.index[e.target],
                e.start_h,
                e.start_h + e.duration_h,
                table.column(e.quantity or table.quantities[probes[0]]),
                e.magnitude if e.magnitude is not None else rates.drift_per_h,
            )
            for e in self._station_events("drift")
        ]
        for s, a, b, q, per_h in drift:
            part = self._rows(rows, s, a, b)
            hours = (rows.step[part] * self.step_s / 3600.0) - a
            values[part, q] = np.round(np.clip(values[part, q] + per_h * hours, 0.0, 0.7), 3)
            self.log.add("drift", part.stop - part.start)
            self.log.episodes.append(
                {
                    "kind": "drift",
                    "station": self.ids[s],
                    "start_h": a,
                    "end_h": b,
                    "quantity": table.quantities[q],
                }
            )

    def _spikes(self, rows: Reports, table: Table, values: Array) -> npt.NDArray[np.bool_]:
        spike = self.rng.random(values.shape) < self.rates.spike
        for e in self._station_events("spike"):
            part = self._rows(rows, self.index[e.target], e.start_h, e.start_h + e.duration_h)
            spike[part, table.column(e.quantity or "rain_mm")] = True
        spike &= ~np.isnan(values)  # a station without that probe has nothing to corrupt
        outside = spike & (self.rng.random(values.shape) < self.rates.spike_out_of_range)
        for q, name in enumerate(table.quantities):
            inside = spike[:, q] & ~outside[:, q]
            if name.startswith("vwc"):
                values[outside[:, q], q] = _OUT_OF_RANGE_VWC
                values[inside, q] = np.minimum(values[inside, q] + 0.2, 0.7)
            else:
                values[outside[:, q], q] = _OUT_OF_RANGE[name]
                bump = {"rain_mm": 40.0, "battery_v": -1.0, "temp_c": 15.0}[name]
                values[inside, q] = np.round(values[inside, q] + bump, 2)
        self.log.add("spike", int(spike.sum()))
        self.log.add("spike_out_of_range", int(outside.sum()))
        return np.asarray(outside.any(axis=1))

    def _battery(
        self, rows: Reports, table: Table, values: Array, kept: npt.NDArray[np.bool_]
    ) -> None:
        chosen = np.flatnonzero(self.rng.random(len(self.ids)) < self.rates.low_battery)
        windows = [(int(s), self.rng.uniform(0.0, self.hours / 2), self.hours) for s in chosen]
        windows += [
            (self.index[e.target], e.start_h, e.start_h + e.duration_h)
            for e in self._station_events("low_battery")
        ]
        column = table.column("battery_v")
        for s, a, b in windows:
            part = self._rows(rows, s, a, self.hours)
            hours = rows.step[part] * self.step_s / 3600.0
            # Linear discharge reaching 3.1 V at the end of the window, then flat.
            fall = (NOMINAL_BATTERY_V - 3.1) * np.clip((hours - a) / max(b - a, 1e-6), 0.0, 1.0)
            values[part, column] = np.round(values[part, column] - fall, 2)
            dead = values[part, column] < BROWNOUT_V
            kept[part] &= ~dead
            self.log.add("low_battery_silent", int(dead.sum()))
            self.log.episodes.append(
                {"kind": "low_battery", "station": self.ids[s], "start_h": a, "end_h": b}
            )

    def _clocks(
        self, rows: Reports, ts: Array, start_epoch: float, corrupt: npt.NDArray[np.bool_]
    ) -> None:
        rates, rng, n = self.rates, self.rng, len(self.ids)
        skewed = rng.random(n) < rates.clock_skew
        skew = np.where(skewed, np.round(rng.uniform(-1, 1, n) * rates.clock_skew_max_s), 0.0)
        for e in self._station_events("clock_skew"):
            skew[self.index[e.target]] = e.magnitude or 0.0
        ts += skew[rows.station]
        self.log.add("clock_skew_stations", int(np.count_nonzero(skew)))
        for s in np.flatnonzero(rng.random(n) < rates.clock_reset):
            at = rng.uniform(0.0, self.hours)
            part = self._rows(rows, int(s), at, self.hours)
            ts[part] = RTC_RESET_EPOCH + (ts[part] - start_epoch)
            corrupt[part] = True
            self.log.add("clock_reset", part.stop - part.start)
            self.log.episodes.append(
                {"kind": "clock_reset", "station": self.ids[s], "start_h": at, "end_h": self.hours}
            )

    def apply(self, rows: Reports, table: Table, ts: Array, start_epoch: float) -> Faulted:
        """Apply every report-level fault; ``ts`` are the true report times (epoch s)."""
        values = table.values.copy()
        ts = ts.copy()
        kept = self.rng.random(ts.size) >= self.rates.dropout
        self.log.add("dropout", int((~kept).sum()))
        for e in self._station_events("dropout"):
            part = self._rows(rows, self.index[e.target], e.start_h, e.start_h + e.duration_h)
            self.log.add("dropout", int(kept[part].sum()))
            kept[part] = False
        self._value_faults(rows, table, values)
        corrupt = self._spikes(rows, table, values)
        self._battery(rows, table, values, kept)
        self._clocks(rows, ts, start_epoch, corrupt)
        return Faulted(kept, ts, values, corrupt & kept)
