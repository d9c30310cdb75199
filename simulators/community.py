"""Simulated community reports: residents' signs before some failures, false reports, triage.

Residents and community agents report what precedes many failures (a new crack, a leaning pole
or wall, water springing from the slope, a small slide). Kato et al. ("A risk assessment
system of sediment-related disaster using premonitory phenomena", Japan Society of Erosion
Control Engineering; abstract at http://jsece.or.jp/archive2/publish/275/2.html) name the
three uncertainties of such reports that this model draws: a sign may occur and not be seen
(or not be reported); a reported sign may precede no failure; and no report does not mean
nothing was there. **No published distribution was found of the share of failures preceded by
a report, of how long before the failure it comes, or of how often an operator confirms a
false one**: every default of :class:`CommunityReports` is an assumption, said so in
docs/simulator.md, and a scenario's ``[reports]`` table sets its own.

The process, per run (one seeded stream, ``spawn(7)[6]`` of the run's seed, so adding it
changed no other draw):

* **precursors**: each slope that fails is, with probability ``precursor_share``, reported
  ``lead`` hours before its failure, ``lead`` lognormal with median ``lead_median_h`` and
  log-sd ``lead_sigma``, capped at ``lead_max_h`` and at the run start; its category is drawn
  from the signs that precede failures (crack, leaning, spring, slide);
* **false reports**: every zone, a Poisson process of ``false_per_zone_day`` reports a day,
  times ``heavy_rain_factor`` while the zone's mean rain over the last hour is at least
  ``heavy_rain_mm_h`` (anxious residents report more in heavy rain); any category;
* **triage**: an operator reviews each report ``review_min_min`` + an exponential of mean
  ``review_mean_min`` minutes after it is made, and confirms a precursor with probability
  ``p_confirm``, a false report with probability ``p_false_confirm`` (else dismisses it).

Reports of the failure itself (after it) are not simulated: the backtest scores the first
failure of each zone, which they cannot change.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING, Annotated

import msgspec
import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    from simulators.failure import GroundTruth

_M = msgspec.Meta
_Share = Annotated[float, _M(ge=0.0, le=1.0)]

# The closed list of models.reports.Category (the simulator imports only ingest's contract;
# a test checks these are the model's categories).
PRECURSOR_SIGNS = ("crack", "leaning", "spring", "slide")
CATEGORIES = (*PRECURSOR_SIGNS, "drain", "other")
CONFIRMED = "confirmed"
DISMISSED = "dismissed"
_NORMAL = NormalDist()


@dataclass(frozen=True, slots=True)
class CommunityReports:
    """The ``[reports]`` table: how residents report and operators triage (assumed defaults)."""

    enabled: bool = True
    precursor_share: _Share = 0.4  # share of failing slopes reported before they fail
    lead_median_h: Annotated[float, _M(gt=0.0, le=72.0)] = 3.0  # median report-to-failure
    lead_sigma: Annotated[float, _M(ge=0.0, le=3.0)] = 0.8  # log-sd: 5-95 % 0.8-11 h at 3 h
    lead_max_h: Annotated[float, _M(gt=0.0, le=240.0)] = 24.0
    false_per_zone_day: Annotated[float, _M(ge=0.0, le=50.0)] = 0.2  # out of heavy rain
    heavy_rain_mm_h: Annotated[float, _M(gt=0.0, le=200.0)] = 10.0  # zone mean, last hour
    heavy_rain_factor: Annotated[float, _M(ge=0.0, le=100.0)] = 5.0  # false rate multiplier
    review_min_min: Annotated[float, _M(ge=0.0, le=1440.0)] = 5.0  # triage delay, at least
    review_mean_min: Annotated[float, _M(ge=0.0, le=1440.0)] = 25.0  # ... plus exponential
    p_confirm: _Share = 0.8  # a precursor report is confirmed
    p_false_confirm: _Share = 0.1  # a false report is (wrongly) confirmed


@dataclass(frozen=True, slots=True)
class CommunityReport:
    """One simulated report, with the operator's review."""

    zone: str
    category: str  # one of CATEGORIES
    made_ts: float  # epoch seconds (anchored time) the resident sends it
    reviewed_ts: float  # when an operator confirms or dismisses it
    status: str  # CONFIRMED or DISMISSED
    precursor: bool  # True: a sign of a slope that fails; False: a false report
    station: str | None = None  # the failing slope's station (precursors only)
    failure_ts: float | None = None  # that slope's failure (precursors only)


@dataclass(frozen=True, slots=True)
class RunRain:
    """A run's rain and clock, as the reports see them.

    ``rain_mm`` is (stations, steps) in ``station_zones``' order, step ``j`` ending at
    ``start_ts + (j + 1) * step_s``.
    """

    station_zones: tuple[str, ...]
    rain_mm: npt.NDArray[np.float64]
    start_ts: float
    step_s: float


def community_reports(
    config: CommunityReports, truth: GroundTruth, rain: RunRain, rng: np.random.Generator
) -> tuple[CommunityReport, ...]:
    """The run's reports, sorted by the time they are made (deterministic for ``rng``).

    Every variate of a slope is drawn whether used or not, so one slope's fate shifts no
    other slope's draws.
    """
    start_ts = rain.start_ts
    if not config.enabled:
        return ()
    out: list[CommunityReport] = []
    for s in truth.stations:  # the registry's active stations, in order
        seen, z, sign, delay, ok = rng.random(5)
        if s.failure_ts is None or seen >= config.precursor_share:
            continue
        lead_h = config.lead_median_h * float(np.exp(config.lead_sigma * _normal(z)))
        made = max(s.failure_ts - min(lead_h, config.lead_max_h) * 3600.0, start_ts)
        out.append(
            CommunityReport(
                s.zone,
                PRECURSOR_SIGNS[int(sign * len(PRECURSOR_SIGNS))],
                made,
                made + _delay_s(config, float(delay)),
                CONFIRMED if ok < config.p_confirm else DISMISSED,
                precursor=True,
                station=s.station,
                failure_ts=s.failure_ts,
            )
        )
    out += _false_reports(config, rain, rng)
    return tuple(sorted(out, key=lambda r: (r.made_ts, r.zone, r.category)))


def heavy_rain(
    station_zones: tuple[str, ...],
    rain_mm: npt.NDArray[np.float64],
    step_s: float,
    threshold_mm_h: float,
) -> tuple[list[str], npt.NDArray[np.bool_]]:
    """Zones (sorted) and, per zone and step, whether the zone's mean 1 h rain >= threshold."""
    zones = sorted(set(station_zones))
    per_h = max(1, round(3600.0 / step_s))
    member = np.asarray(station_zones)
    heavy = np.zeros((len(zones), rain_mm.shape[1]), dtype=np.bool_)
    for k, zone in enumerate(zones):
        mean = rain_mm[member == zone].mean(axis=0)
        hourly = np.convolve(mean, np.ones(per_h))[: len(mean)]  # the hour ending at each step
        heavy[k] = hourly >= threshold_mm_h
    return zones, heavy


def _false_reports(
    config: CommunityReports, rain: RunRain, rng: np.random.Generator
) -> list[CommunityReport]:
    step_s = rain.step_s
    zones, heavy = heavy_rain(rain.station_zones, rain.rain_mm, step_s, config.heavy_rain_mm_h)
    factor = np.where(heavy, config.heavy_rain_factor, 1.0)
    counts = rng.poisson(config.false_per_zone_day * step_s / 86400.0 * factor)
    out = []
    for k, j in zip(*np.nonzero(counts), strict=True):
        for _ in range(int(counts[k, j])):
            offset, category, delay, ok = rng.random(4)
            made = rain.start_ts + (int(j) + float(offset)) * step_s
            out.append(
                CommunityReport(
                    zones[int(k)],
                    CATEGORIES[int(category * len(CATEGORIES))],
                    made,
                    made + _delay_s(config, float(delay)),
                    CONFIRMED if ok < config.p_false_confirm else DISMISSED,
                    precursor=False,
                )
            )
    return out


def _normal(u: float) -> float:
    """The standard normal quantile of ``u`` in [0, 1)."""
    return _NORMAL.inv_cdf(min(max(u, 1e-12), 1.0 - 1e-12))


def _delay_s(config: CommunityReports, u: float) -> float:
    """The triage delay for a uniform variate ``u`` (inverse of the exponential's CDF)."""
    return (config.review_min_min - config.review_mean_min * float(np.log1p(-u))) * 60.0
