"""What every request handler needs: the configuration, the database pool and the metrics."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from alerts.api.config import ApiConfig
from alerts.api.metrics import ApiMetrics
from alerts.api.schemas import Problem

# Responses every database-backed route can give; listed so the OpenAPI document says so.
DB_RESPONSES: dict[int | str, dict[str, object]] = {
    503: {"model": Problem, "description": "the database is unreachable; retry later"},
}
NOT_FOUND: dict[int | str, dict[str, object]] = {
    404: {"model": Problem, "description": "no such object"},
}


@dataclass(frozen=True, slots=True)
class ApiContext:
    """Resources built in the app's lifespan and shared by its handlers."""

    config: ApiConfig
    pool: asyncpg.Pool
    metrics: ApiMetrics


def _context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.context
    return context


Context = Annotated[ApiContext, Depends(_context)]
