"""Community reports in the replay: the run's confirmed reports, counted as the evaluator does.

The simulator draws each run's reports and their review (:mod:`simulators.community`, the
scenario's ``[reports]`` table; ``run.reports``). Only confirmed reports count, from the time
an operator confirmed them: at an evaluation time ``t`` a zone holds the reports confirmed in
``(t - window, t]`` (:func:`alerts.reports.confirmed`'s query), so a report confirmed after
``t`` is not seen at ``t`` (no look-ahead). :func:`amend` hands them to
:func:`alerts.reports.amend_proposals`, the function the live evaluator applies
(:func:`alerts.reports.amend`), which decides the level by :func:`models.reports.with_reports`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from alerts.kind import AlertKind
from alerts.reports import amend_proposals
from alerts.store import Proposal
from simulators.community import CONFIRMED

if TYPE_CHECKING:
    from collections.abc import Sequence

    from models.reports import ReportRule
    from simulators import Run

CRITERION = "community_report"  # the criterion amend_proposals adds


@dataclass(frozen=True, slots=True)
class ConfirmedReport:
    """One confirmed report: its zone (index in the station table's zones) and review time."""

    zone: int
    confirmed_s: float
    precursor: bool  # True: a sign of a failing slope; False: a false report


def confirmed_reports(run: Run, zone_ids: Sequence[str]) -> list[ConfirmedReport]:
    """The run's confirmed reports in the replay's zone indices, by confirmation time."""
    index = {z: k for k, z in enumerate(zone_ids)}
    out = [
        ConfirmedReport(index[r.zone], r.reviewed_ts, r.precursor)
        for r in run.reports
        if r.status == CONFIRMED and r.zone in index
    ]
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


def amend(
    zone_ids: Sequence[str],
    model: tuple[Sequence[int], Sequence[bool], Sequence[str]],
    counts: Sequence[int],
    rule: ReportRule,
) -> tuple[list[int], list[bool], list[str]]:
    """The model's (levels, unknown, criteria) per zone with the confirmed reports counted.

    Counted by the evaluator's own function; the criterion becomes ``community_report`` where
    the reports raised the level.
    """
    level, unknown, why = model
    proposals = [
        Proposal(z, z, AlertKind.RISK, v, u, {"criteria": []})
        for z, v, u in zip(zone_ids, level, unknown, strict=True)
    ]
    # amend_proposals takes report ids; the replay's only need be distinct per zone.
    ids = {z: list(range(c)) for z, c in zip(zone_ids, counts, strict=True) if c > 0}
    amended = [p.level for p in amend_proposals(proposals, ids, rule)]
    out_why = [CRITERION if a > v else w for a, v, w in zip(amended, level, why, strict=True)]
    return amended, list(unknown), out_why
