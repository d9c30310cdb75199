"""The evaluation loop of one network: readings -> model -> alert transitions + outbox.

Ownership: one evaluator per network at a time, elected with a session-level
``pg_try_advisory_lock`` held on a dedicated connection. Replicas that do not hold it stand by
and try again every interval; when the owner dies its connection closes, the lock is released
and a standby takes over. (Zone partitions within a network are a later refinement: one
network's model runs as one vectorised pass, so splitting it saves little.)
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Self

import asyncpg

from alerts.observations import StationTable, load_grid, load_stations, stale_mask
from alerts.store import Proposal, apply, open_states
from models import MODEL_VERSION, ModelInputs, ModelResult, evaluate, load_preset, zone_evidence

if TYPE_CHECKING:
    from types import TracebackType

    import numpy as np

    from alerts.config import EvaluatorConfig
    from alerts.lifecycle import Step
    from models import ModelConfig

log = logging.getLogger("encosta.alerts.evaluator")


def lock_key(network: str) -> int:
    """The advisory-lock key of ``network``'s evaluator (a signed 64-bit hash)."""
    digest = hashlib.blake2b(f"encosta-alerts:{network}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


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
            {k: _clean(v) for k, v in (
                ("criterion", e.criterion), ("value", e.value), ("threshold", e.threshold),
                ("unit", e.unit), ("level", e.level), ("unknown", e.unknown),
                ("estimated", e.estimated),
                ("station", None if e.station is None else stations.ids[e.station]))}
            for e in zone_evidence(result, config, z)
        ]
        out.append(Proposal(
            zone_id, names.get(zone_id, zone_id), "risk", int(result.zone_level[z]),
            bool(result.zone_unknown[z]),
            {"model_version": result.model_version, "criteria": evidence}))
    return out


def data_proposals(
    stale: np.ndarray[Any, np.dtype[np.bool_]], stations: StationTable, names: dict[str, str]
) -> list[Proposal]:
    """A data alert per zone: level 1 while any station is stale, 2 when half or more are."""
    out = []
    for z, zone_id in enumerate(stations.zone_ids):
        members = [i for i in range(len(stations.ids)) if stations.zone[i] == z]
        silent = [stations.ids[i] for i in members if stale[i]]
        level = 0 if not silent else (2 if 2 * len(silent) >= len(members) else 1)
        out.append(Proposal(
            zone_id, names.get(zone_id, zone_id), "data", level, unknown=False,
            evidence={"model_version": MODEL_VERSION, "stale_stations": silent,
                      "stations": len(members)}))
    return out


class Evaluator:
    """Periodic evaluation of one network; an async context manager owning its connections."""

    def __init__(self, config: EvaluatorConfig) -> None:
        self.config = config
        self.model = load_preset(config.preset)
        self.hold = timedelta(minutes=self.model.hysteresis.hold_minutes)
        self._stop = asyncio.Event()
        self._pool: asyncpg.Pool | None = None
        self._lock_conn: asyncpg.Connection | None = None
        self.owner = False

    async def __aenter__(self) -> Self:
        self._pool = await asyncpg.create_pool(self.config.dsn, min_size=1, max_size=2)
        self._lock_conn = await asyncpg.connect(self.config.dsn)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        async with asyncio.timeout(10):
            if self._lock_conn is not None:
                await self._lock_conn.close()
            if self._pool is not None:
                await self._pool.close()

    def stop(self) -> None:
        """Finish the evaluation in progress, then return from :meth:`run`."""
        self._stop.set()

    async def acquire(self) -> bool:
        """Try to become the network's evaluator; True while this replica owns it."""
        assert self._lock_conn is not None, "use Evaluator as an async context manager"
        if not self.owner:
            self.owner = bool(await self._lock_conn.fetchval(
                "SELECT pg_try_advisory_lock($1)", lock_key(self.config.network)))
            if self.owner:
                log.info("evaluator owns network", extra={"network": self.config.network})
        return self.owner

    async def evaluate_once(self, now: datetime | None = None) -> list[tuple[Proposal, Step]]:
        """Evaluate every zone at ``now`` (default: the clock); return the changes written."""
        assert self._pool is not None, "use Evaluator as an async context manager"
        at = now or datetime.now(UTC)
        cfg = self.config
        async with self._pool.acquire() as connection:
            stations = await load_stations(connection, cfg.network)
            names = {r["id"]: r["name"] for r in await connection.fetch(
                "SELECT id, name FROM zones WHERE network = $1", cfg.network)}
            grid = await load_grid(connection, stations, at, cfg.step_minutes, cfg.window_h)
            proposals = data_proposals(stale_mask(stations, grid, at, cfg.stale_intervals),
                                       stations, names)
            if stations.ids:
                inputs = ModelInputs.build(
                    grid.rain_mm, grid.vwc_m3m3, cfg.step_minutes, stations.zone, stations.x_m,
                    stations.y_m, stations.params, n_zones=len(stations.zone_ids))
                result = await asyncio.to_thread(evaluate, inputs, self.model)
                proposals += risk_proposals(result, self.model, stations, names)
            states = await open_states(connection, cfg.network)
            changes = []
            for proposal in proposals:
                known = states.get((proposal.zone_id, proposal.kind))
                if known is None and proposal.level == 0:
                    continue  # nothing open, nothing to raise: skip the transaction
                step = await apply(connection, cfg.network, proposal, at, self.hold)
                if step.transition is not None:
                    changes.append((proposal, step))
                    log.info("alert transition", extra={
                        "zone": proposal.zone_id, "kind": proposal.kind,
                        "transition": str(step.transition), "from_level": step.from_level,
                        "to_level": step.to_level})
        return changes

    async def run(self) -> None:
        """Evaluate every ``interval_s`` while owning the network, until :meth:`stop`."""
        while not self._stop.is_set():
            try:
                if await self.acquire():
                    await self.evaluate_once()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                # The database is away: lose ownership with the connection, retry next tick.
                log.exception("evaluation failed; retrying")
                await self._reconnect()
            try:
                async with asyncio.timeout(self.config.interval_s):
                    await self._stop.wait()
            except TimeoutError:
                pass

    async def _reconnect(self) -> None:
        if self._lock_conn is not None and not self._lock_conn.is_closed():
            return  # the lock's session survived: still the owner
        self.owner = False
        try:
            self._lock_conn = await asyncpg.connect(self.config.dsn)
        except (OSError, asyncpg.PostgresError):
            log.warning("database unreachable")
