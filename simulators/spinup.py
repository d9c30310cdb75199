"""The spin-up: the history a network holds before a scenario starts, as stored readings.

A live network that has run for days evaluates every window on days of readings; a replay that
starts at the scenario's ``start`` has none, so the model's 96 h window begins empty (unknown:
no de-escalation, truncated events). :func:`history` gives a run the readings such a network
would hold for the ``[spinup] hours`` before its start (longer when the ``[antecedent]``
record covers more days), one per station and 15-minute bucket, as the readings table and its
rollup would store them, stamped on each logger's own schedule (its first report of the run,
minus whole buckets: the last row may fall just after the start, in the bucket the run's first
report skipped):

* **rain** — the ``[antecedent]`` record's daily totals (dry where no record is documented),
  each day's total at a steady rate over ``rain_hours`` ending at ``rain_end_hour`` local time
  (the scenario's UTC offset), the newest day in the last such shower that ended by the start;
  quantised to the tipping bucket (``[reporting] bucket_mm``) on each gauge's running total,
  as a gauge counts tips;
* **soil** — every probe at the scenario's starting state (``[soil] antecedent_wetness`` and
  ``antecedent_water_table``, :func:`simulators.soil.initial_probe_vwc`) with the probe noise
  and rounding of live telemetry: the state the documented scenario starts from, held;
* **gaps** — each row is lost with the scenario's ``[faults] dropout`` rate, as a live history
  has gaps.

The history is not sent as messages (the replay stores it directly, the live equivalence test
copies it into ``readings``): it is what was stored *before* the run, so ingest's timestamp and
duplicate checks have nothing to say about it. It draws on its own random stream, so a run's
messages, rain and truth do not change with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ingest.payload import PayloadDecoder, epoch_of
from simulators.soil import SoilColumns, initial_probe_vwc
from simulators.telemetry import probe_name

if TYPE_CHECKING:
    from collections.abc import Iterator

    from registry.format import Registry
    from simulators.run import Run
    from simulators.scenario import Scenario

BUCKET_S = 900.0  # the rollup's bucket and the evaluator's step
RAIN = "rain_mm"
# The spin-up's own stream: a spawn key that generate()'s SeedSequence(seed).spawn(n) children
# (keys (0,) .. (n-1,)) never take, so adding a stream there does not change the history.
_STREAM = 0x5350

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class History:
    """Stored readings before a run: one row per (station, quantity, bucket) kept."""

    station_ids: tuple[str, ...]
    quantities: tuple[str, ...]
    station: IntArray  # index into station_ids
    quantity: IntArray  # index into quantities
    ts_s: FloatArray  # device time (epoch s): before each logger's first report of the run
    value: FloatArray
    start_ts: float  # the first bucket's start
    end_ts: float  # the run's start (the last bucket's end)

    def __len__(self) -> int:
        return int(self.ts_s.size)

    def rows(self) -> Iterator[tuple[str, str, float, float]]:
        """(station id, quantity, ts, value) of every row, in time order."""
        for k in np.argsort(self.ts_s, kind="stable"):
            yield (
                self.station_ids[self.station[k]],
                self.quantities[self.quantity[k]],
                float(self.ts_s[k]),
                float(self.value[k]),
            )


def shower_blocks(scenario: Scenario, end_ts: float, days: int) -> list[tuple[float, float]]:
    """The ``days`` daily showers (start, end epoch), oldest first, that ended by ``end_ts``."""
    spin = scenario.spinup
    offset = scenario.start.utcoffset()
    offset_s = 0.0 if offset is None else offset.total_seconds()
    local_midnight = math.floor((end_ts + offset_s) / 86400.0) * 86400.0 - offset_s
    blocks: list[tuple[float, float]] = []
    day = local_midnight
    while len(blocks) < days:
        end = day + spin.rain_end_hour * 3600.0
        if end <= end_ts:
            blocks.append((end - spin.rain_hours * 3600.0, end))
        day -= 86400.0
    return blocks[::-1]


def bucket_rain(
    daily_mm: tuple[float, ...],
    blocks: list[tuple[float, float]],
    starts: FloatArray,
    bucket_mm: float,
) -> FloatArray:
    """Rain per bucket (starting at ``starts``) of daily totals falling in their blocks."""
    rain = np.zeros(starts.size)
    for total, (a, b) in zip(daily_mm, blocks, strict=True):
        overlap = np.clip(np.minimum(starts + BUCKET_S, b) - np.maximum(starts, a), 0.0, None)
        rain += total * overlap / (b - a)
    if bucket_mm > 0:  # a gauge reports whole tips of its running total
        tips = np.floor(np.cumsum(rain) / bucket_mm + 1e-9)
        rain = np.diff(tips, prepend=0.0) * bucket_mm
    return np.round(rain, 3)


def first_reports(run: Run, ids: tuple[str, ...]) -> FloatArray:
    """Each station's first rain reading time in the run's first hour of messages (NaN: none).

    The history continues each logger's own schedule backwards from it, so that every bucket
    up to that reading holds one report, as it would on a network that had been running
    (a logger whose first report of the run falls in the second bucket reported in the first
    one too).
    """
    index = {s: k for k, s in enumerate(ids)}
    decoder = PayloadDecoder(run.network, index.__contains__)
    first = np.full(len(ids), np.inf)
    for message in run.messages:
        if message.send_ts > run.start_ts + 3600.0:
            break
        for r in decoder.decode(message.topic, message.payload, message.send_ts).readings:
            if r.quantity == RAIN:
                k = index[r.station_id]
                first[k] = min(first[k], epoch_of(r.ts))
    return np.where(np.isfinite(first), first, np.nan)


def history(run: Run, registry: Registry) -> History:
    """The spin-up history of ``run`` over ``registry``'s active stations (see module doc)."""
    scenario = run.scenario
    spin = scenario.spinup
    active = tuple(s for s in registry.stations if s.status == "active")
    ids = tuple(s.id for s in active)
    depths = tuple(sorted({d for s in active for d in s.sensor_depths_m}))
    quantities = (RAIN, *(probe_name(d) for d in depths))
    end = run.start_ts
    if spin.hours <= 0:
        empty = np.empty(0)
        return History(ids, quantities, empty.astype(np.int64), empty.astype(np.int64),
                       empty, empty, end, end)  # fmt: skip
    daily = scenario.antecedent.daily_mm()
    blocks = shower_blocks(scenario, end, len(daily))
    first = min([end - spin.hours * 3600.0, *(a for a, _ in blocks)])
    n = math.ceil((end - first) / BUCKET_S)
    starts = end - np.arange(n, 0, -1, dtype=np.float64) * BUCKET_S
    rain = bucket_rain(daily, blocks, starts, scenario.reporting.bucket_mm)
    # A row of bucket k is stamped on the logger's schedule: its first report of the run,
    # minus whole buckets (at the bucket's end where the run has no report in its first hour).
    due = first_reports(run, ids)
    due = np.where(np.isnan(due), end + BUCKET_S, due)
    lag = (end - due)[:, None] + np.arange(n, 0, -1, dtype=np.float64)[None, :] * BUCKET_S

    rng = np.random.default_rng(np.random.SeedSequence(run.seed, spawn_key=(_STREAM,)))
    station: list[IntArray] = []
    quantity: list[IntArray] = []
    ts: list[FloatArray] = []
    value: list[FloatArray] = []
    kept = rng.random((len(active), n)) >= scenario.faults.rates.dropout
    soil = scenario.soil
    for group in sorted({s.sensor_depths_m for s in active}):
        idx = np.array([i for i, s in enumerate(active) if s.sensor_depths_m == group])
        columns = SoilColumns(
            depths_m=group,
            soil_depth_m=np.array([active[i].soil_depth_m for i in idx]),
            vwc_residual=np.array([active[i].vwc_residual for i in idx]),
            vwc_saturated=np.array([active[i].vwc_saturated for i in idx]),
            lon=np.array([active[i].lon for i in idx]),
        )
        probes = initial_probe_vwc(columns, soil)  # (stations of the group, probes)
        for row, i in enumerate(idx):
            when = end - lag[i, kept[i]]
            station.append(np.full(when.size * (1 + len(group)), i, dtype=np.int64))
            quantity.append(np.full(when.size, 0, dtype=np.int64))
            ts.append(when)
            value.append(rain[kept[i]])
            for p, depth in enumerate(group):
                noisy = probes[row, p] + rng.normal(0.0, soil.probe_noise, when.size)
                quantity.append(np.full(when.size, quantities.index(probe_name(depth))))
                ts.append(when)
                value.append(np.round(np.clip(noisy, 0.0, 0.7), 3))
    return History(
        ids,
        quantities,
        np.concatenate(station),
        np.concatenate(quantity).astype(np.int64),
        np.concatenate(ts),
        np.concatenate(value),
        float(starts[0]),
        end,
    )
