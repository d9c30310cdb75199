"""The evaluation loop of one network: readings -> model -> alert transitions + outbox.

Ownership is per zone partition (:mod:`alerts.partitions`): each evaluator evaluates only
the zones of the partitions it holds. The model still runs over every station of the network
(interpolation of a silent gauge draws on neighbours in other zones, and one vectorised pass
over all stations costs little more than over a quarter of them); the zone results are then
filtered to the owned partitions. The window of readings is kept between cycles and fed from
the 15-minute rollup with only what changed (:mod:`alerts.window`), and so is the model's
state (:mod:`alerts.incremental`: new steps are pushed, the open buckets undone and pushed
again, zones with late data rebuilt), so a cycle costs what is new, not what the window
holds. The station table is read again only when a signature of the registry's rows changes.

When an evaluation runs (docs/alerts.md, "Evaluate when it matters"): ingest NOTIFYs once per
committed batch; the notifications that arrive within ``coalesce_s`` of the first one (and
during a cycle in progress) are served by one cycle, so a reading reaches the model at most
``coalesce_s`` plus two cycles after its commit. Without notifications a cycle still runs
every ``interval_s`` (hold times and stale stations advance with the clock, not with data).
A cycle whose window read nothing new (no new step, no late or re-sent data, no registry change)
reuses the previous model result: only the clock-driven parts run, and zones whose open
alert would not change are not even locked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import asyncpg
import numpy as np

from alerts import fallback, heartbeat, reports
from alerts.incremental import IncrementalModel
from alerts.metrics import AlertsMetrics
from alerts.observations import Grid, StationTable, load_stations, stale_mask
from alerts.partitions import PartitionLease, partition_of
from alerts.results import StoredStep, store_results
from alerts.settled import SettledUnknown
from alerts.store import Proposal, apply, open_states
from alerts.window import IncrementalGrid
from models import MODEL_VERSION, ModelInputs, ModelResult, evaluate, load_preset, zone_evidence
from runtime.resource import StackedResource

if TYPE_CHECKING:
    from alerts.config import EvaluatorConfig
    from alerts.lifecycle import AlertState, Step
    from models import ModelConfig

log = logging.getLogger("encosta.alerts.evaluator")


# Changes with every insert, update or delete of the network's stations or zones (xmin is the
# writing transaction's id; a delete lowers the count).
# One scan of each table (two subqueries of one table would scan it twice).
_REGISTRY_SIGNATURE = """
SELECT s.n AS stations, s.x AS sx, z.n AS zones, z.x AS zx
FROM (SELECT count(*) AS n, coalesce(sum(xmin::text::int8), 0) AS x
      FROM stations WHERE network = $1) s,
     (SELECT count(*) AS n, coalesce(sum(xmin::text::int8), 0) AS x
      FROM zones WHERE network = $1) z
"""


def _clean(value: object) -> object:
    """JSON-safe evidence values: NaN and infinities become None."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def risk_proposals(
    result: ModelResult, config: ModelConfig, stations: StationTable, names: dict[str, str]
) -> list[Proposal]:
    """One risk proposal per zone with the model's evidence."""
    out = []
    for z, zone_id in enumerate(stations.zone_ids):
        evidence = [
            {
                k: _clean(v)
                for k, v in (
                    ("criterion", e.criterion),
                    ("value", e.value),
                    ("threshold", e.threshold),
                    ("unit", e.unit),
                    ("level", e.level),
                    ("unknown", e.unknown),
                    ("estimated", e.estimated),
                    ("station", None if e.station is None else stations.ids[e.station]),
                )
            }
            for e in zone_evidence(result, config, z)
        ]
        out.append(
            Proposal(
                zone_id,
                names.get(zone_id, zone_id),
                "risk",
                int(result.zone_level[z]),
                # Only unknown that could change the level holds a de-escalation (issue 9).
                bool(result.zone_unknown_material[z]),
                {
                    "model_version": result.model_version,
                    "criteria": evidence,
                    "unknown": bool(result.zone_unknown[z]),
                },
            )
        )
    return out


def data_proposals(
    stale: np.ndarray[Any, np.dtype[np.bool_]], stations: StationTable, names: dict[str, str]
) -> list[Proposal]:
    """A data alert per zone: level 1 while any station is stale, 2 when half or more are."""
    n_zones = len(stations.zone_ids)
    members = np.bincount(stations.zone, minlength=n_zones)
    silent_count = np.bincount(stations.zone[stale], minlength=n_zones)
    silent_ids: list[list[str]] = [[] for _ in range(n_zones)]
    for i in np.flatnonzero(stale):
        silent_ids[stations.zone[i]].append(stations.ids[i])
    out = []
    for z, zone_id in enumerate(stations.zone_ids):
        silent = int(silent_count[z])
        level = 0 if not silent else (2 if 2 * silent >= members[z] else 1)
        out.append(
            Proposal(
                zone_id,
                names.get(zone_id, zone_id),
                "data",
                level,
                unknown=False,
                evidence={
                    "model_version": MODEL_VERSION,
                    "stale_stations": silent_ids[z],
                    "stations": int(members[z]),
                },
            )
        )
    return out


def unchanged(known: AlertState | None, proposal: Proposal) -> bool:
    """Whether applying ``proposal`` would leave the alert as it is (no lock, no write needed).

    Nothing open and nothing to raise, or an open alert at exactly the proposed level with no
    de-escalation pending: :func:`alerts.lifecycle.advance` returns the same state for these.
    """
    if known is None:
        return proposal.level == 0
    return known.level == proposal.level and known.below_since is None


class Evaluator(StackedResource):
    """Evaluation of one network's owned zones; an async context manager owning connections."""

    close_timeout_s = 10.0

    def __init__(self, config: EvaluatorConfig, metrics: AlertsMetrics | None = None) -> None:
        self.config = config
        self.metrics = metrics or AlertsMetrics(config.interval_s)
        self.model = load_preset(config.preset)
        self.hold = timedelta(minutes=self.model.hysteresis.hold_minutes)
        self._stop = asyncio.Event()
        self._wake = asyncio.Event()
        self._pool: asyncpg.Pool | None = None
        self._lease: PartitionLease | None = None
        self._beat: int | None = None  # heartbeat period already sent by this evaluator
        # The window between cycles: each cycle reads only what changed (alerts.window).
        self._window = IncrementalGrid(config.step_minutes, config.window_h)
        # Material unknown of the bucket still filling alone holds no de-escalation.
        self._settled = SettledUnknown(config.step_minutes * 60.0)
        # The previous cycle's model result and the stations it was for (reused when the
        # window read nothing new), and what the last cycles did (for benchmarks and tests).
        self._result: tuple[StationTable, ModelResult] | None = None
        self.model_runs = 0
        self.model_skips = 0
        # What the last cycle stored for its step: later cycles of the step write what changed.
        self._stored = StoredStep()
        # The model's state between cycles (alerts.incremental): new steps are pushed.
        self.incremental = IncrementalModel(self.model, config.step_minutes)
        # The station table and zone names, reloaded only when the registry changes.
        self._registry: tuple[object, StationTable, dict[str, str]] | None = None
        self.registry_loads = 0

    async def open(self, stack: contextlib.AsyncExitStack) -> None:
        """Open the pool, then the partition lease (closed in reverse order)."""
        self._pool = await stack.enter_async_context(
            asyncpg.create_pool(self.config.dsn, min_size=1, max_size=2)
        )
        stack.callback(setattr, self, "_pool", None)
        self._lease = await stack.enter_async_context(
            PartitionLease(self.config.dsn, self.config.network, self.config.partitions, self._wake)
        )
        stack.callback(setattr, self, "_lease", None)

    @property
    def owned(self) -> frozenset[int]:
        """The partitions this evaluator owns now."""
        return frozenset() if self._lease is None else self._lease.owned

    def stop(self) -> None:
        """Finish the evaluation in progress, then return from :meth:`run`."""
        self._stop.set()
        self._wake.set()

    async def rebalance(self) -> frozenset[int]:
        """Take or give back partitions towards a fair share; return the ones owned."""
        assert self._lease is not None, "use Evaluator as an async context manager"
        return await self._lease.rebalance()

    def _mine(self, zone_id: str, partitions: frozenset[int] | None) -> bool:
        return partitions is None or partition_of(zone_id, self.config.partitions) in partitions

    async def evaluate_once(
        self, now: datetime | None = None, *, partitions: frozenset[int] | None = None
    ) -> list[tuple[Proposal, Step]]:
        """Evaluate the zones of ``partitions`` (None: all) at ``now``; return the changes."""
        assert self._pool is not None, "use Evaluator as an async context manager"
        at = now or datetime.now(UTC)
        cfg = self.config
        async with self._pool.acquire() as connection:
            stations, names = await self._stations(connection)
            grid = await self._window.refresh(connection, stations, at)
            proposals = data_proposals(
                stale_mask(stations, grid, at, cfg.stale_intervals), stations, names
            )
            if stations.ids:
                runs = self.model_runs
                result = await self._model(stations, grid)
                risk = risk_proposals(result, self.model, stations, names)
                held = self._settled.update(
                    grid.end.timestamp(), {p.zone_id: p.unknown for p in risk}
                )
                proposals += [replace(p, unknown=held[p.zone_id]) for p in risk]
                if self.model_runs > runs:  # a reused result of this step is stored already
                    mine = lambda zone: self._mine(zone, partitions)  # noqa: E731
                    await store_results(
                        connection, result, self.model, stations, grid.end, mine, self._stored
                    )
            proposals = await reports.amend(connection, cfg.network, proposals, at)
            states = await open_states(connection, cfg.network)
            changes = []
            for proposal in proposals:
                if not self._mine(proposal.zone_id, partitions):
                    continue
                known = states.get((proposal.zone_id, proposal.kind))
                if unchanged(known, proposal):
                    continue  # the alert stays as it is: skip the transaction
                try:
                    step = await apply(connection, cfg.network, proposal, at, self.hold)
                except asyncpg.UniqueViolationError:
                    # A previous owner raised it between our read and our write (handover).
                    continue
                if step.transition is not None:
                    changes.append((proposal, step))
                    self.metrics.transition(proposal.kind, step)
                    log.info(
                        "alert transition",
                        extra={
                            "zone": proposal.zone_id,
                            "kind": proposal.kind,
                            "transition": step.transition.value,
                            "from_level": step.from_level,
                            "to_level": step.to_level,
                        },
                    )
            zones = [z for z in stations.zone_ids if self._mine(z, partitions)]
            if cfg.fallback_min > 0:
                await fallback.escalate(
                    connection, cfg.network, zones, at, timedelta(minutes=cfg.fallback_min)
                )
            period = int(at.timestamp() // cfg.heartbeat_s) if cfg.heartbeat_s > 0 else None
            if period not in {None, self._beat} and (partitions is None or 0 in partitions):
                await heartbeat.beat(connection, cfg.network, at, cfg.heartbeat_s)
                self._beat = period
        return changes

    async def _stations(
        self, connection: asyncpg.Connection
    ) -> tuple[StationTable, dict[str, str]]:
        """The station table and zone names, read again only when the registry changed.

        The signature (rows and the sum of their ``xmin``, of the network's stations and
        zones) changes with every insert, update and delete of those rows, whoever makes
        it (``encosta stations import``, SQL by hand): one scan of the network's rows,
        no decoding, instead of the table's 100,000 rows in Python objects each cycle.
        """
        network = self.config.network
        signature = tuple(await connection.fetchrow(_REGISTRY_SIGNATURE, network))
        if self._registry is None or self._registry[0] != signature:
            stations = await load_stations(connection, network)
            names = {
                r["id"]: r["name"]
                for r in await connection.fetch(
                    "SELECT id, name FROM zones WHERE network = $1", network
                )
            }
            self._registry = (signature, stations, names)
            self.registry_loads += 1
        return self._registry[1], self._registry[2]

    async def _model(self, stations: StationTable, grid: Grid) -> ModelResult:
        """The model on ``grid``, or the previous result when nothing it reads changed.

        Nothing changed: the window read nothing new and the station table is the same one
        (a registry change, even of a station's parameters only, runs the model again).
        """
        if (
            self._result is not None
            and self._result[0] is stations  # the same table: no registry change
            and not self._window.changed
        ):
            self.model_skips += 1
            return self._result[1]
        if isinstance(self._window, IncrementalGrid) and self.incremental.supports(grid):
            first_write = self._window.first_write
            result = await asyncio.to_thread(self.incremental.evaluate, grid, stations, first_write)
            self._result = (stations, result)
            self.model_runs += 1
            return result
        inputs = ModelInputs.build(
            grid.rain_mm,
            grid.vwc_m3m3,
            self.config.step_minutes,
            stations.zone,
            stations.x_m,
            stations.y_m,
            stations.params,
            n_zones=len(stations.zone_ids),
            antecedent_daily_mm=grid.antecedent_mm,
        )
        result = await asyncio.to_thread(evaluate, inputs, self.model)
        self._result = (stations, result)
        self.model_runs += 1
        return result

    async def _coalesce(self, deadline: float) -> None:
        """Wait for a notification, stop() or ``deadline``; then let a burst of batches land.

        A notification starts a ``coalesce_s`` pause: the batches committed in it are served
        by the same cycle (ingest commits many small batches while a 5-minute round of a
        large network arrives).
        """
        try:
            async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                await self._wake.wait()  # new readings, stop(), or the interval
        except TimeoutError:
            return
        if not self._stop.is_set() and self.config.coalesce_s > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.config.coalesce_s):
                    await self._stop.wait()

    async def run(self) -> None:
        """Evaluate owned zones on new data and every ``interval_s``, until :meth:`stop`."""
        assert self._lease is not None, "use Evaluator as an async context manager"
        next_rebalance = 0.0
        while not self._stop.is_set():
            self._wake.clear()  # a batch committed during this evaluation wakes the next one
            try:
                if time.monotonic() >= next_rebalance:
                    next_rebalance = time.monotonic() + self.config.interval_s
                    await self._lease.reconnect()
                    self.metrics.owned.set(len(await self._lease.rebalance()))
                if self._lease.owned:
                    with self.metrics.evaluation.time():
                        await self.evaluate_once(partitions=self._lease.owned)
                self.metrics.evaluated()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                # The database is away: ownership goes with the session; retry next tick.
                log.exception("evaluation failed; retrying")
            await self._coalesce(next_rebalance)
