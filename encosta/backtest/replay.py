"""One simulated run replayed offline through the live path's own code.

The simulator's messages go through ingest's :class:`~ingest.payload.PayloadDecoder` (at each
message's send time, so timestamp checks act as they would live) and are stored once per
(station, quantity, ts), the first copy winning, as the ``readings`` primary key with
``ON CONFLICT DO NOTHING`` does. Every 15 minutes of simulated time ``t`` the evaluator's
window is gridded by :mod:`alerts.gridding` from the readings that had **arrived** by ``t``
and carry a device time **before** ``t`` (no look-ahead: the newest bucket is
``[t - 15 min, t)``), evaluated by :func:`models.evaluate` for every preset, and each zone's
proposal goes through :func:`alerts.lifecycle.advance` (the lifecycle's hysteresis).

The community-siren rule is evaluated on the same grid: a zone is at level 2 while one of
its gauges holds >= 40 mm in 1 h or >= 125 mm in 24 h (``models/config/sirens.toml``, row 2;
d'Orsi 2012), from the gauge's own readings, held by the same lifecycle.

With ``reports`` (the run's confirmed community reports, :mod:`encosta.backtest.reports`), the
method ``<first preset>+reports`` is the first preset's zone levels with the reports confirmed
in ``(t - window, t]`` counted by the evaluator's :func:`alerts.reports.amend_proposals`, then
the same lifecycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from alerts.antecedent import ANTECEDENT_DAYS, DAY_S, first_day, record
from alerts.gridding import OTHER, PLAIN_VWC, RAIN, bucket_cells, fill_grid, soil_preference
from alerts.lifecycle import AlertState, advance
from alerts.observations import StationTable, station_table
from alerts.settled import SettledUnknown
from encosta.backtest.reports import amend, counts_at
from ingest.payload import PayloadDecoder, epoch_of
from models import ModelInputs, evaluate
from models.reports import ReportRule
from models.result import Criterion

if TYPE_CHECKING:
    from collections.abc import Sequence

    from encosta.backtest.reports import ConfirmedReport
    from models import ModelConfig, ModelResult
    from registry.format import Registry
    from simulators import Run
    from simulators.spinup import History

STEP_MINUTES = 15  # the evaluator's grid (alerts.config.EvaluatorConfig)
WINDOW_H = 96
SIREN = "siren"
WITH_REPORTS = "+reports"  # suffix of the first preset's method with community reports


@dataclass(frozen=True, slots=True)
class Readings:
    """Stored readings of a run, sorted by device time: what the database would hold."""

    station: npt.NDArray[np.int64]
    pref: npt.NDArray[np.int64]
    ts_s: npt.NDArray[np.float64]
    value: npt.NDArray[np.float64]
    arrival_s: npt.NDArray[np.float64]
    rejected: int
    duplicates: int
    # Rows stored before the run (the spin-up history); None: none.
    history: npt.NDArray[np.bool_] | None = None


def stations_of(registry: Registry) -> StationTable:
    """The active stations as the evaluator's station table (ordered by id, as in SQL)."""
    by_id = {s.id: s for s in registry.stations if s.status == "active"}
    ids = tuple(sorted(by_id))
    zones = tuple(sorted(z.id for z in registry.zones))
    rows = [by_id[i] for i in ids]

    def column(name: str) -> npt.NDArray[np.float64]:
        if name == "probe_depth_m":  # the probe the grid reads: the deepest (alerts.gridding)
            return np.asarray([max(r.sensor_depths_m) for r in rows], dtype=np.float64)
        return np.asarray([float(getattr(r, name)) for r in rows], dtype=np.float64)

    return station_table(ids, zones, [r.zone for r in rows], column)


def store(run: Run, stations: StationTable, history: History | None = None) -> Readings:
    """Decode every message as ingest would and keep the first copy of each reading.

    ``history`` (:func:`simulators.spinup.history`) is what the database held before the run:
    stored first, arrived at its device time, not decoded (it was never a message).
    """
    index = {s: k for k, s in enumerate(stations.ids)}
    decoder = PayloadDecoder(run.network, index.__contains__)
    seen: set[tuple[str, str, float]] = set()
    prefs: dict[str, int] = {}
    station: list[int] = []
    prefs_out: list[int] = []
    times: list[float] = []
    values: list[float] = []
    arrival: list[float] = []
    rejected = duplicates = 0
    for message in run.messages:
        decoded = decoder.decode(message.topic, message.payload, message.send_ts)
        rejected += len(decoded.rejects)
        for r in decoded.readings:
            ts = epoch_of(r.ts)
            key = (r.station_id, r.quantity, ts)
            if key in seen:
                duplicates += 1
                continue
            seen.add(key)
            pref = prefs.setdefault(r.quantity, soil_preference(r.quantity))
            if pref == OTHER:
                continue
            station.append(index[r.station_id])
            prefs_out.append(pref)
            times.append(ts)
            values.append(r.value)
            arrival.append(message.send_ts)
    columns: list[npt.NDArray[Any]] = [
        np.asarray(station, dtype=np.int64),
        np.asarray(prefs_out, dtype=np.int64),
        np.asarray(times, dtype=np.float64),
        np.asarray(values, dtype=np.float64),
        np.asarray(arrival, dtype=np.float64),
    ]
    is_history = None
    if history is not None and len(history):
        past = _history_columns(history, index)
        # A run's reading with the key of a stored history row (a clock set back) is a
        # duplicate: the history was stored first and wins, as ON CONFLICT DO NOTHING.
        again = np.zeros(columns[0].size, dtype=np.bool_)
        early = np.flatnonzero(columns[2] <= past[2].max())  # only these can collide
        if early.size:
            stored = set(zip(*(c.tolist() for c in past[:3]), strict=True))
            hit = [k in stored for k in zip(*(c[early].tolist() for c in columns[:3]), strict=True)]
            again[early[np.asarray(hit, dtype=np.bool_)]] = True
        duplicates += int(again.sum())
        columns = [np.concatenate([h, c[~again]]) for h, c in zip(past, columns, strict=True)]
        is_history = np.arange(columns[0].size) < past[0].size
    order = np.argsort(columns[2], kind="stable")
    by_station, by_pref, by_ts, by_value, by_arrival = (c[order] for c in columns)
    return Readings(
        by_station,
        by_pref,
        by_ts,
        by_value,
        by_arrival,
        rejected,
        duplicates,
        None if is_history is None else is_history[order],
    )


def _history_columns(history: History, index: dict[str, int]) -> list[npt.NDArray[Any]]:
    """The history's rows of known stations and model quantities as the store's columns."""
    own = np.asarray([index.get(s, -1) for s in history.station_ids], dtype=np.int64)
    codes = np.asarray([soil_preference(q) for q in history.quantities], dtype=np.int64)
    where = own[history.station]
    code = codes[history.quantity]
    keep = (where >= 0) & (code != OTHER)
    ts = history.ts_s[keep]
    return [where[keep], code[keep], ts, history.value[keep], ts.copy()]


Cells = tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]
]


@dataclass(frozen=True, slots=True)
class Prebucketed:
    """The history's cells, bucketed once on the evaluation grid (the rollup it is stored as).

    History rows arrived before the run, so every window sees all of its cells; bucketing them
    once (instead of at every evaluation) keeps the spin-up cheap. A cell that a run reading
    also falls in (a clock set back) is left to the per-window bucketing with its rows.
    """

    origin_s: float  # start of the global bucket 0
    cells: Cells  # (station, global bucket, preference, value), sorted by bucket
    loose: Readings  # the run's readings and the history rows of shared cells

    @classmethod
    def of(cls, readings: Readings, origin_s: float) -> Prebucketed:
        """Split ``readings`` into the history's own cells and the rest."""
        step = STEP_MINUTES * 60.0
        past = readings.history
        if past is None or not past.any():
            empty = np.empty(0, dtype=np.int64)
            return cls(origin_s, (empty, empty, empty, np.empty(0)), readings)
        g = np.floor((readings.ts_s - origin_s) / step).astype(np.int64)
        # Cells holding rows of both (a run reading stamped inside the history): only run rows
        # earlier than the history's newest can share one.
        shared = np.zeros(g.size, dtype=np.bool_)
        late = ~past & (readings.ts_s <= readings.ts_s[past].max())
        if late.any():
            width, span = PLAIN_VWC + 2, int(g.max() - g.min()) + 1
            key = (readings.station * width + readings.pref + 1) * span + (g - g.min())
            shared = past & np.isin(key, key[late])
        own = past & ~shared & (g >= 0)
        n_global = int(g[own].max()) + 1 if own.any() else 0
        i, j, pref, value = bucket_cells(
            readings.station[own], readings.pref[own], readings.ts_s[own],
            readings.value[own], origin_s, step, n_global,
        )  # fmt: skip
        order = np.argsort(j, kind="stable")
        rest = ~own & ~(past & (g < 0))  # rows before the first window serve the days only
        loose = Readings(
            readings.station[rest], readings.pref[rest], readings.ts_s[rest],
            readings.value[rest], readings.arrival_s[rest], readings.rejected,
            readings.duplicates,
        )  # fmt: skip
        return cls(origin_s, (i[order], j[order], pref[order], value[order]), loose)

    def window(self, start_s: float, n_steps: int) -> Cells:
        """The cells of the window from ``start_s`` (``n_steps`` buckets), window-indexed."""
        k = round((start_s - self.origin_s) / (STEP_MINUTES * 60.0))
        i, j, pref, value = self.cells
        a, b = np.searchsorted(j, [k, k + n_steps], side="left")
        return i[a:b], j[a:b] - k, pref[a:b], value[a:b]


def grid_at(
    readings: Readings, n_stations: int, t_s: float, base: Prebucketed | None = None
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The evaluator's window ending before ``t_s``, from what had arrived by ``t_s``.

    With ``base``, ``readings`` is ``base.loose`` and the history's cells come bucketed.
    """
    step = STEP_MINUTES * 60.0
    n_steps = WINDOW_H * 60 // STEP_MINUTES
    start = t_s - n_steps * step
    a, b = np.searchsorted(readings.ts_s, [start, t_s], side="left")
    part = slice(int(a), int(b))
    here = readings.arrival_s[part] <= t_s
    cells = bucket_cells(
        readings.station[part][here],
        readings.pref[part][here],
        readings.ts_s[part][here],
        readings.value[part][here],
        start,
        step,
        n_steps,
    )
    if base is not None:
        cells = tuple(  # type: ignore[assignment]
            np.concatenate([h, c]) for h, c in zip(base.window(start, n_steps), cells, strict=True)
        )
    return fill_grid(n_stations, n_steps, *cells)


@dataclass(frozen=True, slots=True)
class DailyRain:
    """Rain per station and UTC day of the stored readings: ``readings_rain_1d``'s twin."""

    first_day: int  # epoch day of column 0
    total_mm: npt.NDArray[np.float64]  # [stations, days], NaN where no rain was stored

    @classmethod
    def of(cls, readings: Readings, n_stations: int) -> DailyRain:
        """Sum the rain readings by station and UTC day (``time_bucket('1 day')``)."""
        rain = readings.pref == RAIN
        day = np.floor(readings.ts_s[rain] / DAY_S).astype(np.int64)
        first = int(day.min()) - ANTECEDENT_DAYS - 1 if day.size else 0
        width = int(day.max()) - first + 1 if day.size else 1
        key = readings.station[rain] * width + (day - first)
        size = n_stations * width
        total = np.bincount(key, weights=readings.value[rain], minlength=size)
        count = np.bincount(key, minlength=size)
        out = np.where(count > 0, total, np.nan).reshape(n_stations, width)
        return cls(first, out)

    def record(self, rain: npt.NDArray[np.float32], start_s: float) -> npt.NDArray[np.float64]:
        """The model's antecedent record for a window from ``start_s`` (``alerts.antecedent``)."""
        start = datetime.fromtimestamp(start_s, UTC)
        last = int(first_day(start).timestamp() // DAY_S) - self.first_day
        days = np.full((self.total_mm.shape[0], ANTECEDENT_DAYS + 1), np.nan)
        lo = last - ANTECEDENT_DAYS
        a, b = max(lo, 0), min(last + 1, self.total_mm.shape[1])
        if b > a:
            days[:, a - lo : b - lo] = self.total_mm[:, a:b]
        return record(days, rain, start, STEP_MINUTES * 60.0)


@dataclass(slots=True)
class Timeline:
    """Per method (preset or siren rule) and zone, at each evaluation time."""

    times_s: list[float] = field(default_factory=list)
    proposed: dict[str, list[list[int]]] = field(default_factory=dict)
    held: dict[str, list[list[int]]] = field(default_factory=dict)
    unknown: dict[str, list[list[bool]]] = field(default_factory=dict)
    criterion: dict[str, list[list[str]]] = field(default_factory=dict)
    # Zone maxima of the first preset's inputs, for the report's plots.
    rain_1h_mm: list[list[float]] = field(default_factory=list)
    rain_24h_mm: list[list[float]] = field(default_factory=list)
    min_fs: list[list[float]] = field(default_factory=list)


def _zone_max(values: npt.NDArray[np.float64], zone: npt.NDArray[np.int64], n: int) -> list[float]:
    out = np.full(n, np.nan)
    ok = np.isfinite(values)
    np.fmax.at(out, zone[ok], values[ok])
    return [float(v) for v in out]


def _criteria(result: ModelResult) -> list[str]:
    out = []
    for z in range(len(result.zone_level)):
        s = int(result.zone_station[z])
        out.append("-" if s < 0 else Criterion(int(result.station_criterion[s])).name.lower())
    return out


def _siren(
    rain: npt.NDArray[np.float32], stations: StationTable, siren: ModelConfig
) -> tuple[list[int], list[str]]:
    per_h = 60 // STEP_MINUTES
    with np.errstate(invalid="ignore"):
        acc_1h = np.nansum(rain[:, -per_h:], axis=1, dtype=np.float64)
        acc_24h = np.nansum(rain[:, -24 * per_h :], axis=1, dtype=np.float64)
    levels = siren.rain_levels
    n = len(stations.zone_ids)
    by_1h = np.zeros(n, dtype=np.bool_)
    by_24h = np.zeros(n, dtype=np.bool_)
    by_1h[stations.zone[acc_1h >= levels.rain_1h_mm[1]]] = True
    by_24h[stations.zone[acc_24h >= levels.rain_24h_mm[1]]] = True
    level = [2 if a or b else 0 for a, b in zip(by_1h, by_24h, strict=True)]
    why = ["rain_1h" if a else "rain_24h" if b else "-" for a, b in zip(by_1h, by_24h, strict=True)]
    return level, why


def replay(  # noqa: PLR0913  the run, its methods, its history and its reports
    run: Run,
    presets: dict[str, ModelConfig],
    siren: ModelConfig,
    stations: StationTable,
    history: History | None = None,
    *,
    reports: Sequence[ConfirmedReport] | None = None,
    rule: ReportRule | None = None,
) -> Timeline:
    """Evaluate ``run`` every 15 simulated minutes with each preset and the siren rule.

    ``history``: the spin-up readings stored before the run (:mod:`simulators.spinup`), so
    that the first windows are full, as a network with history sees them. With ``reports``,
    also the first preset with them counted (``<first>+reports``).
    """
    readings = store(run, stations, history)
    step = STEP_MINUTES * 60.0
    first = (run.start_ts // step + 1) * step
    rule = rule or ReportRule()
    head = next(iter(presets))
    amended = [head + WITH_REPORTS] if reports is not None else []
    methods = [*presets, *amended, SIREN]
    n_zones = len(stations.zone_ids)
    holds = {name: timedelta(minutes=c.hysteresis.hold_minutes) for name, c in presets.items()}
    for name in amended:
        holds[name] = holds[head]
    holds[SIREN] = timedelta(minutes=siren.hysteresis.hold_minutes)
    states = {m: [AlertState() for _ in range(n_zones)] for m in methods}
    settled_by = {m: SettledUnknown(STEP_MINUTES * 60.0) for m in methods}  # as the evaluator
    line = Timeline()
    for m in methods:
        line.proposed[m], line.held[m], line.unknown[m], line.criterion[m] = [], [], [], []
    # The 30-day antecedent record, built from the stored readings' daily rain as the live
    # evaluator builds it from readings_rain_1d (alerts.antecedent.record): the spin-up's
    # documented days before the window, then the run's own days as the window moves on.
    daily = DailyRain.of(readings, len(stations.ids))
    window_s = WINDOW_H * 3600.0
    base = Prebucketed.of(readings, first - window_s)
    t = first
    while t <= run.end_ts:
        rain, vwc = grid_at(base.loose, len(stations.ids), t, base)
        inputs = ModelInputs.build(
            rain, vwc, STEP_MINUTES, stations.zone, stations.x_m, stations.y_m,
            stations.params, n_zones=n_zones,
            antecedent_daily_mm=daily.record(rain, t - window_s),
        )  # fmt: skip
        at = datetime.fromtimestamp(t, UTC)
        line.times_s.append(t)
        outputs: dict[str, tuple[list[int], list[bool], list[str]]] = {}
        for k, (name, config) in enumerate(presets.items()):
            result = evaluate(inputs, config)
            outputs[name] = (
                [int(v) for v in result.zone_level],
                [bool(v) for v in result.zone_unknown_material],
                _criteria(result),
            )
            if k == 0:
                line.rain_1h_mm.append(_zone_max(result.acc_1h_mm, stations.zone, n_zones))
                line.rain_24h_mm.append(_zone_max(result.acc_24h_mm, stations.zone, n_zones))
                line.min_fs.append(
                    [-v for v in _zone_max(-result.factor_of_safety, stations.zone, n_zones)]
                )
        if reports is not None:
            counts = counts_at(reports, n_zones, t, rule.window_hours)
            outputs[head + WITH_REPORTS] = amend(stations.zone_ids, outputs[head], counts, rule)
        level, why = _siren(rain, stations, siren)
        outputs[SIREN] = (level, [False] * n_zones, why)
        for m, (proposed, material, why) in outputs.items():
            settled = settled_by[m].update(t, dict(zip(stations.zone_ids, material, strict=True)))
            unknown = [settled[zone] for zone in stations.zone_ids]
            held = []
            for z in range(n_zones):
                step_z = advance(states[m][z], proposed[z], at, holds[m], unknown=unknown[z])
                states[m][z] = step_z.state
                held.append(step_z.state.level)
            line.proposed[m].append(proposed)
            line.held[m].append(held)
            line.unknown[m].append(unknown)
            line.criterion[m].append(why)
        t += step
    return line
