"""Full evaluation: arrays in, levels and evidence arrays out, for every station at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from models.event import current_event
from models.inputs import ModelInputs, StationStatic, StepWindows
from models.interpolation import idw_estimate
from models.levels import aggregate_zones
from models.quality import assess, sensor_stats
from models.rainfall import as_float, dirty_rows, window_sums
from models.result import MODEL_VERSION, Criterion, Level, ModelResult
from models.slope import station_factor_of_safety, wetness
from models.summary import WindowSummary
from models.threshold import id_ratio, id_threshold_mm_h, level_falling, level_rising

if TYPE_CHECKING:
    from models.config import ModelConfig


def summarise(inputs: ModelInputs, config: ModelConfig) -> WindowSummary:
    """Reduce the gridded arrays to the per-station statistics at the newest step."""
    win = StepWindows.build(inputs.step_minutes, config)
    rain = as_float(inputs.rain_mm)
    dirty = dirty_rows(rain, win.rain_max_mm)
    acc, missing, api = window_sums(rain, win, dirty)
    event = current_event(rain, win, config.event.wet_threshold_mm, ~dirty)
    stats = sensor_stats(rain, inputs.vwc_m3m3, win, config, dirty)
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
    )


def evaluate(inputs: ModelInputs, config: ModelConfig) -> ModelResult:
    """Evaluate every criterion, station and zone at the newest step of ``inputs``."""
    win = StepWindows.build(inputs.step_minutes, config)
    return finalize(summarise(inputs, config), inputs.static, win, config)


def finalize(
    summary: WindowSummary, static: StationStatic, win: StepWindows, config: ModelConfig
) -> ModelResult:
    """Levels, interpolation, quality and zones from a summary (shared by both paths)."""
    n = summary.api_mm.shape[0]
    quality = assess(summary, static, win, config)
    trusted = quality.rain_trusted
    # Columns: acc 1 h, 24 h, 96 h, API. A stuck gauge proves nothing (lower bound 0); a
    # clogged one under-reads, so its sums stay lower bounds and neighbours fill in.
    stuck = quality.rain_stuck
    own = np.where(stuck[:, None], 0.0, np.column_stack([summary.acc_mm, summary.api_mm]))
    incomplete = np.column_stack([summary.missing > 0, summary.missing[:, 2] > 0])
    incomplete |= ~trusted[:, None] | quality.rain_suspect[:, None]
    targets = np.asarray(incomplete.any(axis=1), dtype=np.bool_)
    donors = ~targets & quality.live
    estimate, has_estimate = idw_estimate(
        own, donors, targets, static.zone, static.x_m, static.y_m, config.interpolation
    )
    use_estimate = incomplete & has_estimate[:, None]
    value = np.where(use_estimate, np.fmax(own, estimate), own)

    rain = config.rain_levels
    tables = (rain.rain_1h_mm, rain.rain_24h_mm, rain.rain_96h_mm, config.antecedent.levels_mm)
    columns = (Criterion.RAIN_1H, Criterion.RAIN_24H, Criterion.RAIN_96H, Criterion.ANTECEDENT)
    levels = np.zeros((n, len(Criterion)), dtype=np.int8)
    own_levels = np.zeros_like(levels)
    unknown = np.zeros(levels.shape, dtype=np.bool_)
    estimated = np.zeros(levels.shape, dtype=np.bool_)
    for j, (column, table) in enumerate(zip(columns, tables, strict=True)):
        levels[:, column] = level_rising(value[:, j], table)
        own_levels[:, column] = level_rising(own[:, j], table)
        unknown[:, column] = incomplete[:, j]
        estimated[:, column] = use_estimate[:, j]

    curve = config.intensity_duration
    duration_h = (summary.event_steps * (win.step_minutes / 60.0)).astype(np.float64)
    event_ok = summary.event_active & ~stuck
    total = np.where(event_ok, summary.event_total_mm, 0.0)
    ratio = np.where(event_ok, id_ratio(total, duration_h, curve), np.nan)
    levels[:, Criterion.INTENSITY_DURATION] = level_rising(ratio, curve.ratio_levels)
    own_levels[:, Criterion.INTENSITY_DURATION] = levels[:, Criterion.INTENSITY_DURATION]
    unknown[:, Criterion.INTENSITY_DURATION] = (
        summary.event_active & (summary.event_missing | summary.event_truncated)
    ) | ~trusted

    vwc = np.where(quality.vwc_trusted, summary.vwc_last, np.nan)
    fs = station_factor_of_safety(vwc, static.params, config.slope.water_unit_weight_knm3)
    levels[:, Criterion.SLOPE] = level_falling(fs, config.slope.fs_levels)
    own_levels[:, Criterion.SLOPE] = levels[:, Criterion.SLOPE]
    has_soil = summary.vwc_seen if static.has_soil_sensor is None else static.has_soil_sensor
    unknown[:, Criterion.SLOPE] = has_soil & ~quality.vwc_trusted

    unknown &= levels < Level.CRISIS
    station_level = levels.max(axis=1)
    station_unknown = unknown.any(axis=1) & (station_level < Level.CRISIS)
    zones = aggregate_zones(
        station_level, station_unknown, own_levels, quality.live, static.zone, static.n_zones,
        config.zone,
    )  # fmt: skip
    with np.errstate(divide="ignore", invalid="ignore"):
        intensity = np.where(summary.event_active, total / duration_h, np.nan)
    return ModelResult(
        network=config.network,
        model_version=MODEL_VERSION,
        step_minutes=win.step_minutes,
        acc_1h_mm=value[:, 0],
        acc_24h_mm=value[:, 1],
        acc_96h_mm=value[:, 2],
        missing_steps=summary.missing,
        api_mm=value[:, 3],
        event_active=summary.event_active,
        event_duration_h=duration_h,
        event_total_mm=total,
        event_intensity_mm_h=intensity,
        id_threshold_mm_h=np.where(
            summary.event_active, id_threshold_mm_h(duration_h, curve.a, curve.b), np.nan
        ),
        id_ratio=ratio,
        vwc_m3m3=vwc,
        wetness=wetness(vwc, static.params.vwc_residual, static.params.vwc_saturated),
        factor_of_safety=fs,
        criterion_level=levels,
        criterion_unknown=unknown,
        criterion_estimated=estimated,
        station_level=station_level,
        station_criterion=levels.argmax(axis=1).astype(np.int8),
        station_unknown=station_unknown,
        estimated=np.asarray(estimated.any(axis=1), dtype=np.bool_),
        own_crisis=own_levels.max(axis=1) >= Level.CRISIS,
        quality=quality.flags,
        live=quality.live,
        zone=static.zone,
        zone_level=zones.level,
        zone_unknown=zones.unknown,
        zone_station=zones.station,
        zone_crisis_stations=zones.crisis_stations,
        zone_corroborated=zones.corroborated,
        zone_uncorroborated=zones.uncorroborated,
        zone_stations=zones.stations,
        zone_live=zones.live,
        zone_live_needed=zones.live_needed,
        zone_degraded=zones.degraded,
    )
