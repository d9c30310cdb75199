"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio

import asyncpg
from fastapi import APIRouter, Response

from alerts.api.context import Context
from alerts.api.schemas import Health

router = APIRouter(tags=["health"])

_READY_TIMEOUT_S = 2.0
_PROMETHEUS_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class PrometheusResponse(Response):
    """The Prometheus text exposition format."""

    media_type = _PROMETHEUS_TYPE


@router.get("/healthz")
async def healthz() -> Health:
    """The process is up and serving (no dependencies checked)."""
    return Health(status="ok")


@router.get("/readyz", responses={503: {"model": Health, "description": "database unreachable"}})
async def readyz(context: Context, response: Response) -> Health:
    """Ready when the database answers ``SELECT 1`` within two seconds."""
    try:
        async with asyncio.timeout(_READY_TIMEOUT_S):
            await context.pool.fetchval("SELECT 1")
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        response.status_code = 503
        return Health(status="unavailable", detail=type(exc).__name__)
    return Health(status="ready")


@router.get(
    "/metrics",
    response_class=PrometheusResponse,
    responses={200: {"content": {_PROMETHEUS_TYPE: {"schema": {"type": "string"}}}}},
)
async def metrics(context: Context) -> PrometheusResponse:
    """Prometheus metrics: API requests, outbox backlog by status, dead letters, attempts."""
    return PrometheusResponse(await context.metrics.scrape(context.pool))
