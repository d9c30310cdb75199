"""The FastAPI application of ``encosta api`` and the uvicorn server that runs it.

The database pool is created in the app's lifespan with ``min_size=0``: the process starts and
answers ``/healthz`` even while the database is down (``/readyz`` says 503 until it is back),
and closing it is bounded so a stuck connection cannot hold up a restart.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

import asyncpg
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from alerts.api import (
    alerts,
    deadletters,
    health,
    public,
    receipts,
    reports,
    stations,
    webhooks,
    zones,
)
from alerts.api.context import ApiContext
from alerts.api.guard import RequestGuard
from alerts.api.metrics import ApiMetrics, MetricsMiddleware
from alerts.api.rate_limit import ReportRateLimit
from alerts.api.retention import PERIOD_S, ReportRetention
from alerts.api.schemas import Problem
from alerts.api.snapshot import PublicView
from runtime.periodic import Periodic

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from alerts.api.config import ApiConfig

log = logging.getLogger("encosta.api")

_DB_ERRORS = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
)


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning(
        "database unavailable", extra={"path": request.url.path, "error": type(exc).__name__}
    )
    return JSONResponse(
        {"detail": "the database is unreachable; retry later"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


def _rate_key(config: ApiConfig) -> bytes:
    key = config.rate_key()
    if key is None:
        log.warning(
            "neither ENCOSTA_REPORTS_RATE_KEY nor ENCOSTA_API_TOKEN is set: the reports' rate "
            "limit is keyed per process, so each API replica admits its own limit"
        )
        key = secrets.token_bytes(32)
    return key


def create_app(config: ApiConfig) -> FastAPI:
    """The API for ``config``; its pool lives as long as the app's lifespan."""
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if config.token is None:
            log.warning("ENCOSTA_API_TOKEN is not set: every write endpoint answers 401")
        pool = await asyncpg.create_pool(
            config.dsn, min_size=0, max_size=config.pool_max, command_timeout=30
        )
        app.state.context = ApiContext(config, pool, metrics)
        app.state.renderings = public.Renderings()
        view = PublicView(pool, config.network, config.stale_intervals, config.public_refresh_s)
        app.state.public = view
        limit = ReportRateLimit(pool, config.network, _rate_key(config), config.reports_per_hour)
        app.state.report_limit = limit
        retention = ReportRetention(pool, config.reports_retention_days, limit)
        try:
            async with (
                asyncio.TaskGroup() as group,
                Periodic(group, "public-snapshot", view.refresh, config.public_refresh_s),
                Periodic(group, "report-retention", retention.tick, PERIOD_S),
            ):
                yield
        finally:
            try:
                async with asyncio.timeout(config.close_timeout_s):
                    await pool.close()
            except TimeoutError:
                log.warning("database pool did not close in time; terminating it")
                pool.terminate()

    app = FastAPI(
        title="Encosta ops API",
        version="1.0.0",
        lifespan=lifespan,
        responses={
            413: {
                "model": Problem,
                "description": "request body larger than ENCOSTA_API_MAX_BODY_BYTES",
            }
        },
        description="Stations, zones, alerts, webhook subscriptions and dead letters of one "
        "Encosta network. Write endpoints need `Authorization: Bearer <ENCOSTA_API_TOKEN>`.",
    )
    # Last added runs first: metrics count what the guard refuses, the guard runs before
    # FastAPI reads a body.
    app.add_middleware(
        RequestGuard,
        token=config.token,
        max_body_bytes=config.max_body_bytes,
        public_writes={reports.PUBLIC_PATH: config.reports_max_body_bytes},
        own_token=receipts.OWN_TOKEN_PATHS,
    )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    for error in _DB_ERRORS:
        app.add_exception_handler(error, _database_unavailable)
    for module in (
        health,
        stations,
        zones,
        alerts,
        receipts,
        webhooks,
        deadletters,
        public,
        reports,
    ):
        app.include_router(module.router)
    return app


def server(config: ApiConfig) -> uvicorn.Server:
    """A uvicorn server for the API; it handles SIGTERM itself (drains, then runs shutdown)."""
    return uvicorn.Server(
        uvicorn.Config(
            create_app(config),
            host=config.host,
            port=config.port,
            log_config=None,
            timeout_graceful_shutdown=10,
            server_header=False,
        )
    )
