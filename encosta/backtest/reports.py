"""Simulated community reports of one run, from the simulator's ground truth (seeded).

No published distribution says how long before a failure residents report its signs, nor how
often operators confirm a false report; the defaults of :class:`ReportParams` are
**assumptions**, stated so the backtest's ``+reports`` figures can be read (and re-run) with
others:

* each zone that fails gets, with probability ``p_precursor``, one precursor report (crack,
  spring, leaning, slide) made ``lead`` hours before the zone's first failure, ``lead``
  uniform in [``lead_min_h``, ``lead_max_h``]; an operator confirms it ``confirm_delay_min``
  later with probability ``p_confirm``;
* every zone gets false reports (a blocked drain, an old crack) as a Poisson process of
  ``false_per_zone_day`` over the run; an operator wrongly confirms each with probability
  ``p_false_confirm``, after the same delay.

Only confirmed reports are kept: they are what the evaluator counts
(:func:`alerts.reports.confirmed`). The draws depend only on (scenario, seed, params).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from encosta.backtest.scores import DAY_S

if TYPE_CHECKING:
    from collections.abc import Sequence

    from simulators import Run


@dataclass(frozen=True, slots=True)
class ReportParams:
    """How simulated residents report and operators confirm (assumed, see the module doc)."""

    p_precursor: float = 0.5  # a failing zone gets a precursor report
    lead_min_h: float = 1.0  # report made this long before the first failure, at least
    lead_max_h: float = 12.0  # ... and at most (uniform in between)
    confirm_delay_min: float = 30.0  # operator review after the report
    p_confirm: float = 0.9  # a precursor report is confirmed
    false_per_zone_day: float = 0.2  # false reports per zone and day (Poisson)
    p_false_confirm: float = 0.1  # a false report is (wrongly) confirmed


@dataclass(frozen=True, slots=True)
class ConfirmedReport:
    """One confirmed report: its zone (index in the station table's zones) and review time."""

    zone: int
    confirmed_s: float
    precursor: bool  # True: a sign of the zone's failure; False: a false report


def simulate(
    run: Run, zone_ids: Sequence[str], params: ReportParams | None = None
) -> list[ConfirmedReport]:
    """The confirmed reports of ``run``, sorted by confirmation time (deterministic per seed)."""
    params = params or ReportParams()
    rng = np.random.default_rng([run.seed, zlib.crc32(run.scenario.name.encode())])
    first = {z.zone: z.first_failure_ts for z in run.truth.zones}
    delay = params.confirm_delay_min * 60.0
    days = (run.end_ts - run.start_ts) / DAY_S
    out = []
    for k, zone in enumerate(zone_ids):
        # Draw every variate whether used or not, so one zone's truth does not shift the others.
        precursor, lead_h, confirm = (
            rng.random(),
            rng.uniform(params.lead_min_h, params.lead_max_h),
            rng.random(),
        )
        failure = first.get(zone)
        if failure is not None and precursor < params.p_precursor and confirm < params.p_confirm:
            out.append(ConfirmedReport(k, failure - lead_h * 3600.0 + delay, precursor=True))
        n_false = int(rng.poisson(params.false_per_zone_day * days))
        made = rng.uniform(run.start_ts, run.end_ts, n_false)
        kept = rng.random(n_false) < params.p_false_confirm
        out += [ConfirmedReport(k, float(t) + delay, precursor=False) for t in made[kept]]
    return sorted(out, key=lambda r: (r.confirmed_s, r.zone))


def counts_at(
    reports: Sequence[ConfirmedReport], n_zones: int, t_s: float, window_hours: float
) -> list[int]:
    """Per zone, the reports confirmed in ``(t - window, t]``: what the evaluator counts at t."""
    out = [0] * n_zones
    for r in reports:
        if t_s - window_hours * 3600.0 < r.confirmed_s <= t_s:
            out[r.zone] += 1
    return out
