"""Full evaluation: arrays in, levels and evidence arrays out, for every station at once."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from models.antecedent import prior_api
from models.completeness import gap_bounds
from models.consistency import screen
from models.event import current_event, first_blocks
from models.inputs import ModelInputs, StationStatic, StepWindows
from models.interpolation import idw_estimate
from models.levels import aggregate_zones
from models.quality import assess, sensor_stats
from models.rainfall import as_float, row_pass, window_sums
from models.result import MODEL_VERSION, Criterion, Level, ModelResult
from models.slope import station_factor_of_safety, wetness
from models.summary import WindowSummary
from models.threshold import id_ratio, id_threshold_mm_h

if TYPE_CHECKING:
    from collections.abc import Callable

    from models.config import ModelConfig
    from models.inputs import FloatArray


def summarise(inputs: ModelInputs, config: ModelConfig) -> WindowSummary:
    """Reduce the gridded arrays to the per-station statistics at the newest step."""
    win = StepWindows.build(inputs.step_minutes, config)
    rain = screen(as_float(inputs.rain_mm), inputs.static.zone, inputs.step_minutes, config)
    # One pass over the array: bad-value screen, 96 h sum and API, and hourly sums over the
    # trailing window (they serve the 1 h / 24 h sums and the event scan).
    n_steps = rain.shape[1]
    blocks = min(n_steps // win.w1h, max(first_blocks(n_steps, win), win.w24h // win.w1h))
    dirty, long, hourly_all = row_pass(rain, win, blocks)
    hourly = hourly_all if blocks else None
    acc, missing, api = window_sums(rain, win, dirty, hourly, long)
    if inputs.antecedent_daily_mm is not None:
        api = api + prior_api(
            inputs.antecedent_daily_mm, config.antecedent.k_daily, win.k_step, n_steps
        )
    event = current_event(rain, win, config.event.wet_threshold_mm, ~dirty, hourly)
    stats = sensor_stats(rain, inputs.vwc_m3m3, win, config, dirty)
    static = inputs.static
    gap_step_mm = config.quality.gap_max_mm_per_h * win.step_minutes / 60.0
    bound = gap_bounds(rain, dirty, static.zone, static.n_zones, win, gap_step_mm)
    return WindowSummary(
        acc_mm=acc,
        missing=missing,
        api_mm=api,
        event_active=event.active,
        event_steps=event.steps,
        event_total_mm=event.total_mm,
        event_missing=event.missing,
        event_truncated=event.truncated,
        **stats,
        gap_bound_mm=bound,
    )


def evaluate(inputs: ModelInputs, config: ModelConfig) -> ModelResult:
    """Evaluate every criterion, station and zone at the newest step of ``inputs``."""
    win = StepWindows.build(inputs.step_minutes, config)
    return finalize(summarise(inputs, config), inputs.static, win, config)


def _rising(values: FloatArray, table: tuple[float, float, float]) -> npt.NDArray[np.int8]:
    """Level 0-3: how many thresholds the value reaches (value >= threshold); NaN -> 0."""
    level = (values >= table[0]).view(np.int8)
    level += values >= table[1]
    level += values >= table[2]
    return level


def _falling(values: FloatArray, table: tuple[float, float, float]) -> npt.NDArray[np.int8]:
    """Level 0-3 where lower is worse (factor of safety <= threshold); NaN -> 0."""
    level = (values <= table[0]).view(np.int8)
    level += values <= table[1]
    level += values <= table[2]
    return level


def _graded(
    summary: WindowSummary,
    own: FloatArray,
    incomplete: npt.NDArray[np.bool_],
    untrusted: npt.NDArray[np.bool_],
) -> Callable[[int, npt.NDArray[np.int8], tuple[float, float, float]], npt.NDArray[np.bool_]]:
    """Material unknown per rain row: a gap counts while its hidden rain reaches the next level.

    Rows 0-2 are the 1 h, 24 h, 96 h sums, row 3 the API (whose weights are <= 1, so the 96 h
    bound bounds it). Without a bound (incremental path) any gap is unknown.
    """
    bound = summary.gap_bound_mm

    def unknown(
        j: int, level: npt.NDArray[np.int8], table: tuple[float, float, float]
    ) -> npt.NDArray[np.bool_]:
        gaps: npt.NDArray[np.bool_] = incomplete[j]
        if bound is None:
            return gaps
        next_mm = np.asarray((*table, np.inf))[level]
        could: npt.NDArray[np.bool_] = own[j] + bound[:, min(j, 2)] >= next_mm
        out: npt.NDArray[np.bool_] = (gaps & could) | untrusted
        return out

    return unknown


def _graded_event(  # noqa: PLR0913, PLR0917  the event's figures and the station screen
    summary: WindowSummary,
    total_mm: FloatArray,
    duration_h: FloatArray,
    level: npt.NDArray[np.int8],
    untrusted: npt.NDArray[np.bool_],
    config: ModelConfig,
) -> npt.NDArray[np.bool_]:
    """Material unknown of the ID criterion: could the event's gaps lift its level?

    The rain an event's gaps may hide is at most the 96 h window's gap bound (the event lies
    in the window unless it is truncated, and the bound covers every gap of the window). More
    rain over the observed or a longer duration (a hidden rain at the event's edges lengthens
    it) gives a ratio total·D^(b-1)/a of at most (total + bound)·D^(b-1)/a at the observed D,
    since b < 1; D is taken at least the curve's shortest duration. A truncated event, an
    untrusted gauge, or no bound (incremental path without one) stays material.
    """
    active = summary.event_active
    missing = active & summary.event_missing
    strict = (active & summary.event_truncated) | untrusted
    bound = summary.gap_bound_mm
    if bound is None:
        out: npt.NDArray[np.bool_] = missing | strict
        return out
    curve = config.intensity_duration
    rows = np.flatnonzero(missing & ~strict)
    could = np.zeros(active.shape, dtype=np.bool_)
    if rows.size:
        shortest = np.maximum(duration_h[rows], curve.min_duration_h)
        worst = id_ratio(total_mm[rows] + bound[rows, 2], shortest, curve)
        could[rows] = _rising(worst, curve.ratio_levels) > level[rows]
    return could | strict


def _gate_trigger(  # noqa: PLR0913, PLR0917  the criterion arrays, capped in place
    levels: npt.NDArray[np.int8],
    own_levels: npt.NDArray[np.int8],
    unknown: npt.NDArray[np.bool_],
    material: npt.NDArray[np.bool_],
    fs: FloatArray,
    gates: tuple[tuple[Criterion, int], ...],
) -> None:
    """Cause-trigger gate: a rain trigger counts above its cause level only on a primed slope.

    Hydro-meteorological thresholds (Bogaard and Greco 2018; Mirus et al. 2018): rain over a
    duration — the ID curve's intensity, the 24 h event total — is the *trigger*; whether it
    can initiate a landslide depends on the *cause*, the slope's hydrological state. A station
    is primed for a ``(trigger, cause_level)`` gate when its factor of safety (the measured
    wetness, through the slope's own strength) or its antecedent precipitation index has
    reached ``cause_level`` — or when that cannot be told (no trusted probe reading, or gaps
    that could lift the index there): no data is unknown, never safe. Elsewhere the trigger's
    level is capped at ``cause_level``. A cause level 0 is no gate. The 1 h and 96 h sums,
    the API and the slope criterion itself are not gated.
    """
    slope, antecedent = Criterion.SLOPE, Criterion.ANTECEDENT
    unknown_cause = unknown[slope] | ~np.isfinite(fs) | material[antecedent]
    for trigger, cause_level in gates:
        if cause_level <= 0:
            continue
        primed = (levels[slope] >= cause_level) | (levels[antecedent] >= cause_level)
        capped = ~(primed | unknown_cause) & (levels[trigger] > cause_level)
        levels[trigger, capped] = cause_level
        own_levels[trigger, capped] = np.minimum(own_levels[trigger, capped], cause_level)


def finalize(  # noqa: PLR0915  one pass through the criteria, kept together on purpose
    summary: WindowSummary, static: StationStatic, win: StepWindows, config: ModelConfig
) -> ModelResult:
    """Levels, interpolation, quality and zones from a summary (shared by both paths).

    Per-criterion arrays are held criterion-major ([criteria, stations]) so that the reductions
    over criteria are element-wise operations over stations.
    """
    n = summary.api_mm.shape[0]
    quality = assess(summary, static, win, config)
    trusted = quality.rain_trusted
    # Rows: acc 1 h, 24 h, 96 h, API. A stuck gauge proves nothing (lower bound 0); a
    # clogged one under-reads, so its sums stay lower bounds and neighbours fill in.
    stuck = quality.rain_stuck
    own = np.empty((4, n), dtype=np.float64)
    own[:3] = summary.acc_mm.T
    own[3] = summary.api_mm
    own[:, stuck] = 0.0
    incomplete = np.empty((4, n), dtype=np.bool_)
    np.greater(summary.missing.T, 0, out=incomplete[:3])
    incomplete[3] = incomplete[2]
    incomplete |= ~trusted | quality.rain_suspect
    targets = np.logical_or.reduce(incomplete, axis=0)
    donors = ~targets & quality.live
    value = own.copy()
    use_estimate = np.zeros((4, n), dtype=np.bool_)
    if targets.any():
        estimate, has_estimate = idw_estimate(
            own.T, donors, targets, static.zone, static.x_m, static.y_m, config.interpolation
        )
        rows = np.flatnonzero(has_estimate)
        use_estimate[:, rows] = incomplete[:, rows]
        picked = use_estimate[:, rows]
        value[:, rows] = np.where(picked, np.fmax(own[:, rows], estimate[rows].T), own[:, rows])

    rain = config.rain_levels
    tables = (rain.rain_1h_mm, rain.rain_24h_mm, rain.rain_96h_mm, config.antecedent.levels_mm)
    columns = (Criterion.RAIN_1H, Criterion.RAIN_24H, Criterion.RAIN_96H, Criterion.ANTECEDENT)
    levels = np.empty((len(Criterion), n), dtype=np.int8)
    own_levels = np.empty_like(levels)
    unknown = np.empty(levels.shape, dtype=np.bool_)
    material = np.empty(levels.shape, dtype=np.bool_)  # unknown that could change the level
    estimated = np.zeros(levels.shape, dtype=np.bool_)
    graded = _graded(summary, own, incomplete, ~trusted | quality.rain_suspect)
    for j, (column, table) in enumerate(zip(columns, tables, strict=True)):
        own_levels[column] = _rising(own[j], table)
        levels[column] = own_levels[column]
        changed = np.flatnonzero(use_estimate[j])
        levels[column, changed] = _rising(value[j, changed], table)
        unknown[column] = incomplete[j]
        material[column] = graded(j, levels[column], table)
        estimated[column] = use_estimate[j]

    curve = config.intensity_duration
    active = summary.event_active
    duration_h = (summary.event_steps * (win.step_minutes / 60.0)).astype(np.float64)
    event_ok = active & ~stuck
    total = np.where(event_ok, summary.event_total_mm, 0.0)
    ratio = np.full(n, np.nan)
    ok_rows = np.flatnonzero(event_ok)
    ratio[ok_rows] = id_ratio(total[ok_rows], duration_h[ok_rows], curve)
    levels[Criterion.INTENSITY_DURATION] = _rising(ratio, curve.ratio_levels)
    own_levels[Criterion.INTENSITY_DURATION] = levels[Criterion.INTENSITY_DURATION]
    unknown[Criterion.INTENSITY_DURATION] = (
        active & (summary.event_missing | summary.event_truncated)
    ) | ~trusted
    material[Criterion.INTENSITY_DURATION] = _graded_event(
        summary, total, duration_h, levels[Criterion.INTENSITY_DURATION], ~trusted, config
    )

    vwc = np.where(quality.vwc_trusted, summary.vwc_last, np.nan)
    slope = config.slope
    params = static.params
    if slope.water_table == "column":  # the probe stands for the column (models.slope)
        params = dataclasses.replace(params, probe_depth_m=None)
    fs = station_factor_of_safety(
        vwc,
        params,
        slope.water_unit_weight_knm3,
        suction_cohesion_kpa=slope.suction_cohesion_kpa,
        saturation_tolerance_m3m3=config.quality.vwc_saturation_tolerance,
    )
    levels[Criterion.SLOPE] = _falling(fs, config.slope.fs_levels)
    own_levels[Criterion.SLOPE] = levels[Criterion.SLOPE]
    has_soil = summary.vwc_seen if static.has_soil_sensor is None else static.has_soil_sensor
    unknown[Criterion.SLOPE] = has_soil & ~quality.vwc_trusted
    material[Criterion.SLOPE] = unknown[Criterion.SLOPE]
    gates = (
        (Criterion.INTENSITY_DURATION, curve.cause_level),
        (Criterion.RAIN_24H, rain.cause_level_24h),
    )
    _gate_trigger(levels, own_levels, unknown, material, fs, gates)

    unknown &= levels < Level.CRISIS
    material &= unknown
    station_level = np.maximum.reduce(levels, axis=0)
    station_unknown = np.logical_or.reduce(unknown, axis=0) & (station_level < Level.CRISIS)
    station_criterion = np.zeros(n, dtype=np.int8)
    for column in reversed(Criterion):  # the first criterion at the station level wins
        station_criterion[levels[column] == station_level] = column
    zones = aggregate_zones(
        station_level, station_unknown, own_levels.T, quality.live, static.zone, static.n_zones,
        config.zone,
    )  # fmt: skip
    station_material = np.logical_or.reduce(material, axis=0) & (station_level < Level.CRISIS)
    zone_material = (
        np.bincount(static.zone, weights=station_material, minlength=static.n_zones) > 0
    ) | zones.degraded
    zone_material &= zones.unknown
    active_rows = np.flatnonzero(active)
    intensity = np.full(n, np.nan)
    threshold = np.full(n, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        intensity[active_rows] = total[active_rows] / duration_h[active_rows]
    threshold[active_rows] = id_threshold_mm_h(duration_h[active_rows], curve.a, curve.b)
    return ModelResult(
        network=config.network,
        model_version=MODEL_VERSION,
        step_minutes=win.step_minutes,
        acc_1h_mm=value[0],
        acc_24h_mm=value[1],
        acc_96h_mm=value[2],
        missing_steps=summary.missing,
        api_mm=value[3],
        event_active=active,
        event_duration_h=duration_h,
        event_total_mm=total,
        event_intensity_mm_h=intensity,
        id_threshold_mm_h=threshold,
        id_ratio=ratio,
        vwc_m3m3=vwc,
        wetness=wetness(vwc, static.params.vwc_residual, static.params.vwc_saturated),
        factor_of_safety=fs,
        criterion_level=np.ascontiguousarray(levels.T),
        criterion_unknown=np.ascontiguousarray(unknown.T),
        criterion_estimated=np.ascontiguousarray(estimated.T),
        station_level=station_level,
        station_criterion=station_criterion,
        station_unknown=station_unknown,
        estimated=np.logical_or.reduce(estimated, axis=0),
        own_crisis=np.maximum.reduce(own_levels, axis=0) >= Level.CRISIS,
        quality=quality.flags,
        live=quality.live,
        zone=static.zone,
        zone_level=zones.level,
        zone_unknown=zones.unknown,
        zone_unknown_material=zone_material,
        zone_station=zones.station,
        zone_crisis_stations=zones.crisis_stations,
        zone_corroborated=zones.corroborated,
        zone_uncorroborated=zones.uncorroborated,
        zone_stations=zones.stations,
        zone_live=zones.live,
        zone_live_needed=zones.live_needed,
        zone_degraded=zones.degraded,
    )
