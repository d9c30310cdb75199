"""Evidence: why a station or zone is at its level, as frozen records an alert can carry."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from models.quality import describe
from models.result import MODEL_VERSION, Criterion, ModelResult

if TYPE_CHECKING:
    from models.config import ModelConfig

_UNITS = {
    Criterion.RAIN_1H: "mm",
    Criterion.RAIN_24H: "mm",
    Criterion.RAIN_96H: "mm",
    Criterion.INTENSITY_DURATION: "mm/h",
    Criterion.ANTECEDENT: "mm",
    Criterion.SLOPE: "1",
}


@dataclass(frozen=True, slots=True)
class Evidence:
    """One number behind a level.

    ``threshold`` is the threshold of the level reached, or of level 1 when the level is 0
    (the distance still to go). For the slope criterion lower values are worse.
    """

    criterion: str
    value: float
    threshold: float
    unit: str
    level: int
    station: int | None = None
    unknown: bool = False
    estimated: bool = False
    model_version: str = MODEL_VERSION


def thresholds(config: ModelConfig, criterion: Criterion) -> tuple[float, float, float]:
    """The three level thresholds of a criterion (ID thresholds are ratios to the curve)."""
    return {
        Criterion.RAIN_1H: config.rain_levels.rain_1h_mm,
        Criterion.RAIN_24H: config.rain_levels.rain_24h_mm,
        Criterion.RAIN_96H: config.rain_levels.rain_96h_mm,
        Criterion.INTENSITY_DURATION: config.intensity_duration.ratio_levels,
        Criterion.ANTECEDENT: config.antecedent.levels_mm,
        Criterion.SLOPE: config.slope.fs_levels,
    }[criterion]


def _value(result: ModelResult, criterion: Criterion, i: int) -> float:
    return float(
        {
            Criterion.RAIN_1H: result.acc_1h_mm,
            Criterion.RAIN_24H: result.acc_24h_mm,
            Criterion.RAIN_96H: result.acc_96h_mm,
            Criterion.INTENSITY_DURATION: result.event_intensity_mm_h,
            Criterion.ANTECEDENT: result.api_mm,
            Criterion.SLOPE: result.factor_of_safety,
        }[criterion][i]
    )


def station_evidence(result: ModelResult, config: ModelConfig, station: int) -> list[Evidence]:
    """Every criterion of one station, worst first, plus one record per quality flag."""
    out: list[Evidence] = []
    for criterion in Criterion:
        level = int(result.criterion_level[station, criterion])
        threshold = thresholds(config, criterion)[max(level, 1) - 1]
        if criterion is Criterion.INTENSITY_DURATION:
            curve = float(result.id_threshold_mm_h[station])
            threshold = threshold * curve if math.isfinite(curve) else math.nan
        out.append(
            Evidence(
                criterion=criterion.name.lower(),
                value=_value(result, criterion, station),
                threshold=threshold,
                unit=_UNITS[criterion],
                level=level,
                station=station,
                unknown=bool(result.criterion_unknown[station, criterion]),
                estimated=bool(result.criterion_estimated[station, criterion]),
            )
        )
    out.sort(key=lambda e: -e.level)
    out.extend(
        Evidence(f"quality_{name.lower()}", 1.0, 1.0, "flag", -1, station, unknown=True)
        for name in describe(int(result.quality[station]))
    )
    return out


def zone_evidence(result: ModelResult, config: ModelConfig, zone: int) -> list[Evidence]:
    """The deciding station's criterion, corroboration and live-sensor count of one zone."""
    out: list[Evidence] = []
    level = int(result.zone_level[zone])
    station = int(result.zone_station[zone])
    if station >= 0:
        deciding = station_evidence(result, config, station)
        out.extend(e for e in deciding if e.level >= max(level, 1) or e.level == level)
    out.append(
        Evidence(
            criterion="corroboration",
            value=float(result.zone_crisis_stations[zone]),
            threshold=float(config.zone.corroboration_stations),
            unit="stations",
            level=3 if bool(result.zone_corroborated[zone]) else level,
            unknown=bool(result.zone_uncorroborated[zone]),
        )
    )
    out.append(
        Evidence(
            criterion="live_stations",
            value=float(result.zone_live[zone]),
            threshold=float(result.zone_live_needed[zone]),
            unit="stations",
            level=level,
            unknown=bool(result.zone_degraded[zone]),
        )
    )
    return out
