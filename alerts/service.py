"""The ``encosta alerts`` service: the evaluator and the webhook dispatcher in one TaskGroup."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from alerts.dispatcher import WebhookDispatcher
from alerts.errors import ConfigError
from alerts.evaluator import Evaluator
from alerts.metrics import AlertsMetrics
from runtime.probe import ProbeServer

if TYPE_CHECKING:
    from alerts.config import DispatchConfig, EvaluatorConfig

log = logging.getLogger("encosta.alerts")


class AlertsService:
    """Runs both loops until :meth:`stop`; SIGTERM handling is the caller's (run_until_signal).

    On stop both loops stop taking new work and finish what is in progress; whatever is still
    running after the dispatcher's ``drain_s`` is cancelled (an interrupted delivery's claim is
    released on the way out, or with the session if the process dies, and it is retried, so
    nothing is lost). ``/metrics`` and ``/healthz``
    are served on ``metrics_port`` (:mod:`alerts.metrics`).
    """

    def __init__(self, evaluator: EvaluatorConfig, dispatch: DispatchConfig) -> None:
        self.evaluator_config = evaluator
        self.dispatch_config = dispatch
        self.metrics = AlertsMetrics(evaluator.interval_s)
        self._stopping = asyncio.Event()
        self._loops: list[Evaluator | WebhookDispatcher] = []

    def stop(self) -> None:
        """Stop evaluating and claiming messages; work in progress finishes."""
        self._stopping.set()
        for loop in self._loops:
            loop.stop()

    def _probe(self) -> ProbeServer:
        return ProbeServer(
            self.evaluator_config.metrics_port,
            self.metrics.registry,
            self.metrics.healthy,
            host=self.evaluator_config.metrics_host,
        )

    async def run(self) -> None:
        """Evaluate and dispatch until stopped."""
        async with contextlib.AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(self._probe())
            except OSError as exc:
                raise ConfigError(
                    f"cannot listen on port {self.evaluator_config.metrics_port} "
                    f"({exc.strerror}): set a free port or 0 (off)",
                    variable="ENCOSTA_ALERTS_METRICS_PORT",
                ) from exc
            evaluator = await stack.enter_async_context(
                Evaluator(self.evaluator_config, self.metrics)
            )
            dispatcher = await stack.enter_async_context(
                WebhookDispatcher(self.dispatch_config, metrics=self.metrics)
            )
            self._loops = [evaluator, dispatcher]
            if self._stopping.is_set():
                return
            async with asyncio.TaskGroup() as tg:
                loops = [
                    tg.create_task(evaluator.run(), name="alerts-evaluator"),
                    tg.create_task(dispatcher.run(), name="alerts-dispatcher"),
                ]
                tg.create_task(
                    self.metrics.watch(self.evaluator_config.dsn, self._stopping),
                    name="alerts-metrics-watch",
                )
                tg.create_task(self._deadline(loops), name="alerts-drain-deadline")
        log.info("alerts stopped")  # as ingest says "ingest stopped": a clean, drained exit

    async def _deadline(self, loops: list[asyncio.Task[None]]) -> None:
        stopped = asyncio.create_task(self._stopping.wait(), name="alerts-stop-wait")
        try:
            await asyncio.wait([stopped, *loops], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
        if not self._stopping.is_set():
            return  # a loop ended on its own (its error surfaces through the group)
        _, pending = await asyncio.wait(loops, timeout=self.dispatch_config.drain_s)
        for task in pending:
            log.warning("drain deadline passed; cancelling", extra={"task": task.get_name()})
            task.cancel()
