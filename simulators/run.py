"""Generate a run: rain, soil, reports, faults, messages, manifest and ground truth.

Everything is drawn from one seed through independent streams (rain, soil noise, schedule,
faults, failure), so a run is bit-for-bit reproducible for a seed and an anchor, and turning
a fault on does not change the rain.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ingest.payload import PayloadDecoder
from registry.format import Registry
from simulators.community import CommunityReport, RunRain, community_reports
from simulators.failure import GroundTruth, Slopes, ground_truth
from simulators.fault_config import Faults, check_events
from simulators.faults import FaultInjector
from simulators.gateway import GatewayPlanner, Message, Station
from simulators.manifest import Manifest, build_manifest
from simulators.rainfield import rain_field
from simulators.schedule import report_mask, reports
from simulators.soil import SoilColumns, simulate_soil
from simulators.telemetry import probe_name, telemetry

if TYPE_CHECKING:
    from simulators.scenario import Scenario

Array = npt.NDArray[np.float64]
DAY_S = 86400.0


@dataclass(frozen=True, slots=True)
class Series:
    """The simulated physical state, for tests and plots: (stations, steps) arrays."""

    station_ids: tuple[str, ...]
    step_end_ts: Array  # epoch seconds of the end of each step
    rain_mm: Array
    probe_vwc: npt.NDArray[np.float32]  # (stations, probes, steps)
    probe_names: tuple[str, ...]
    water_table_m: npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Run:
    """One generated run: messages in send order, the manifest and the ground truth."""

    scenario: Scenario
    network: str
    seed: int
    start_ts: float  # the anchor: epoch seconds of simulated time zero
    end_ts: float
    messages: tuple[Message, ...]
    manifest: Manifest
    truth: GroundTruth
    series: Series
    # Simulated community reports with their review (simulators.community), by time made.
    reports: tuple[CommunityReport, ...] = ()


def end_now_anchor(scenario: Scenario, now: float | None = None) -> float:
    """The start that ends the scenario at ``now`` (whole steps), the default anchor."""
    now = time.time() if now is None else now
    end = now // scenario.step_s * scenario.step_s
    return end - scenario.steps * scenario.step_s


def same_hour_anchor(scenario: Scenario, now: float | None = None) -> float:
    """The latest start at the scenario's own time of day whose run ends by ``now``.

    Whole days from ``scenario.start``: the sun (evapotranspiration, hence the soil) and the
    spin-up's afternoon showers fall at the scenario's hours, so a live replay anchored here
    generates the very run ``encosta backtest`` scores (which starts at ``scenario.start``),
    and it ends at most a day before ``now`` (ingest accepts device times 30 days back).
    """
    now = time.time() if now is None else now
    start = scenario.start.timestamp()
    return start + (now - scenario.steps * scenario.step_s - start) // DAY_S * DAY_S


def _outages(
    scenario: Scenario, zones: list[str], start: float, rng: np.random.Generator
) -> dict[str, list[tuple[float, float]]]:
    rates = scenario.faults.rates
    hours = scenario.duration_h
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for zone in zones:
        for _ in range(rng.poisson(rates.outage_per_day * hours / 24.0)):
            a = rng.uniform(0.0, hours)
            out[zone].append(
                (start + a * 3600.0, start + (a + rng.exponential(rates.outage_h)) * 3600.0)
            )
    for event in scenario.faults.events:
        if event.kind == "outage":
            a = start + event.start_h * 3600.0
            out[event.target].append((a, a + event.duration_h * 3600.0))
    return dict(out)


def _soil(
    scenario: Scenario, registry: Registry, rain: Array, start: float
) -> tuple[
    tuple[float, ...], npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]
]:
    stations = registry.stations
    depths = tuple(sorted({d for s in stations for d in s.sensor_depths_m}))
    n, steps = rain.shape
    vwc = np.full((n, len(depths), steps), np.nan, dtype=np.float32)
    table = np.zeros((n, steps), dtype=np.float32)
    wet = np.zeros((n, steps), dtype=np.float32)
    for group in sorted({s.sensor_depths_m for s in stations}):
        idx = np.array([i for i, s in enumerate(stations) if s.sensor_depths_m == group])
        columns = SoilColumns(
            depths_m=group,
            soil_depth_m=np.array([stations[i].soil_depth_m for i in idx]),
            vwc_residual=np.array([stations[i].vwc_residual for i in idx]),
            vwc_saturated=np.array([stations[i].vwc_saturated for i in idx]),
            lon=np.array([stations[i].lon for i in idx]),
        )
        state = simulate_soil(columns, rain[idx], scenario.soil, start, scenario.step_s)
        where = [depths.index(d) for d in group]
        vwc[np.ix_(idx, np.array(where), np.arange(steps))] = state.probe_vwc
        table[idx] = state.water_table_m
        wet[idx] = state.wetness
    return depths, vwc, table, wet


def generate(
    scenario: Scenario,
    registry: Registry,
    seed: int = 0,
    anchor: float | None = None,
    *,
    faults: bool = True,
) -> Run:
    """Simulate ``scenario`` over the registry's active stations.

    ``anchor`` is the epoch of simulated time zero (default: end the run now, so ingest's
    timestamp window accepts a replay); ``faults=False`` gives a perfect network.
    """
    if not faults:
        scenario = _without_faults(scenario)
    start = end_now_anchor(scenario) if anchor is None else float(anchor)
    # A seventh stream (community reports) leaves the first six as they were: spawn(n)'s
    # children are its first n children whatever n.
    streams = np.random.SeedSequence(seed).spawn(7)
    rng_rain, rng_noise, rng_phase, rng_faults, rng_fail, rng_form, rng_reports = (
        np.random.default_rng(s) for s in streams
    )
    active = tuple(s for s in registry.stations if s.status == "active")
    registry = Registry(registry.network, registry.zones, active)
    lat = np.array([s.lat for s in active])
    lon = np.array([s.lon for s in active])
    steps, step_s = scenario.steps, scenario.step_s
    rain = rain_field(
        scenario.storms, lat, lon, scenario.start.timestamp(), steps, step_s, rng_rain
    )
    depths, vwc, table, wet = _soil(scenario, registry, rain, start)
    step_end = np.asarray(start + (np.arange(steps) + 1.0) * step_s, dtype=np.float64)

    rep = scenario.reporting
    interval = np.array([rep.interval_s or s.expected_interval_s for s in active])
    interval_steps = np.maximum(1, np.round(interval / step_s)).astype(np.int64)
    offsets = rng_phase.integers(0, 1 << 30, len(active)) % interval_steps
    fast = max(1, round(rep.rain_interval_s / step_s))
    rows = reports(
        rain, report_mask(rain, interval_steps, fast, rep, offsets, step_s), rep.bucket_mm
    )
    phase = np.floor(rng_phase.uniform(0.0, min(step_s, 60.0), len(active)))
    true_ts = step_end[rows.step] + phase[rows.station]
    solar_hour = ((true_ts / 3600.0) + lon[rows.station] / 15.0) % 24.0
    table_values = telemetry(
        rows, vwc, depths, rain, solar_hour, scenario.soil.probe_noise, rng_noise
    )

    ids = tuple(s.id for s in active)
    zone_ids = {z.id for z in registry.zones}
    check_events(scenario.faults, scenario.path, ids, zone_ids, table_values.quantities)
    injector = FaultInjector(scenario.faults, ids, step_s, scenario.duration_h, rng_faults)
    faulted = injector.apply(rows, table_values, true_ts, start)
    senml = rng_form.random(len(active)) < rep.senml_share
    gateway_stations = tuple(
        Station(s.id, s.zone, bool(f)) for s, f in zip(active, senml, strict=True)
    )
    planner = GatewayPlanner(
        registry.network,
        gateway_stations,
        table_values.quantities,
        scenario.faults.rates,
        rng_faults,
        injector.log,
    )
    outages = _outages(scenario, sorted({s.zone for s in active}), start, rng_faults)
    outbox = planner.plan(
        faulted, rows.station, true_ts, rep.latency_s, outages, float(interval.max())
    )
    decoder = PayloadDecoder(registry.network, registry.station_ids().__contains__)
    manifest = build_manifest(
        outbox, faulted, table_values.quantities, rows.station, ids, decoder, injector.log
    )

    slopes = Slopes(
        ids=ids,
        zones=tuple(s.zone for s in active),
        slope_deg=np.array([s.slope_deg for s in active]),
        soil_depth_m=np.array([s.soil_depth_m for s in active]),
        cohesion_kpa=np.array([s.cohesion_kpa for s in active]),
        friction_deg=np.array([s.friction_deg for s in active]),
        unit_weight_knm3=np.array([s.unit_weight_knm3 for s in active]),
    )
    truth = ground_truth(
        slopes, table, wet, rain, step_end, scenario.failure, scenario.soil, rng_fail
    )
    said = community_reports(
        scenario.reports, truth, RunRain(slopes.zones, rain, start, step_s), rng_reports
    )
    order = sorted(range(len(outbox.messages)), key=lambda i: outbox.messages[i].send_ts)
    series = Series(ids, step_end, rain, vwc, tuple(probe_name(d) for d in depths), table)
    return Run(
        scenario,
        registry.network,
        seed,
        start,
        start + steps * step_s,
        tuple(outbox.messages[i] for i in order),
        manifest,
        truth,
        series,
        said,
    )


def _without_faults(scenario: Scenario) -> Scenario:
    from dataclasses import replace  # noqa: PLC0415  only needed on this path

    return replace(scenario, faults=Faults())
