"""Which unknown holds a de-escalation: data really missing, not data not yet due.

The newest bucket of the evaluator's window is the one still filling (live: the bucket holding
``now``). At its start most stations have not reported in it yet, so a zone's newest step is
missing at every station and graded completeness (:mod:`models.completeness`) must bound it by
the record intensity — no neighbour reported — which makes the zone's unknown *material* at the
start of every bucket. Passed as it is to the lifecycle, that would restart the hold of every
de-escalation every 15 minutes, and no alert would ever step down while the evaluator runs.

So an unknown holds a de-escalation only if it is material now *and* was material at the last
evaluation of the previous step: a gap that stays in the window (a lost reading, an outage)
is still there one step later and still holds; the unfilled newest bucket alone is data not yet
due. The first evaluation, or one after a skipped or earlier step, has no previous step to go
by and keeps the unknown as it is (never safe). The price: the first step of a zone-wide
outage looks like a step not yet due, so a step-down may complete within it, on data that
showed the lower level for the hold time less at most one step (15 minutes of 60); from the
outage's second step on, its unknown holds. The alert evaluator and the backtest's replay
apply the same rule (their transitions are compared in ``tests/encosta/test_backtest_live.py``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping


class SettledUnknown:
    """Per zone, material unknown that has outlived the step still filling (see module doc)."""

    def __init__(self, step_s: float) -> None:
        self.step_s = step_s
        self._step: float | None = None  # the step (its start, epoch s) of the latest evaluation
        self._latest: dict[str, bool] = {}  # zone -> material at the latest evaluation
        self._closed: dict[str, bool] = {}  # zone -> material at the previous step's last one

    def update(self, step: float, material: Mapping[str, bool]) -> dict[str, bool]:
        """The unknown that holds a de-escalation, per zone, at an evaluation of ``step``."""
        if self._step is not None and step != self._step:
            self._closed = self._latest if step == self._step + self.step_s else {}
        self._step = step
        self._latest = dict(material)
        return {zone: m and self._closed.get(zone, True) for zone, m in material.items()}
