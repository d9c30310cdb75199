"""The OpenAPI document tells the truth: schemathesis fuzzes the served API and checks replies.

Every operation gets generated requests (positive mode). Reads must answer with a documented
status, content type, headers and a body that validates against the documented schema; writes,
sent without a token, must answer 401 and that 401 must be documented too (but ``POST
/public/reports``, open to residents, which must answer a documented status).
"""

from __future__ import annotations

import asyncio
import threading
from typing import TYPE_CHECKING, Any

import hypothesis
import pytest
import schemathesis
import uvicorn
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from alerts.api.app import create_app
from alerts.api.config import ApiConfig
from tests.alerts.receiver import LOOPBACK, free_port
from tests.alerts.test_api import raise_alert

if TYPE_CHECKING:
    from schemathesis import APIOperation

    from tests.conftest import Database

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = 25


def fuzz(operation: APIOperation[Any, Any, Any, Any], base_url: str) -> None:
    """Send generated requests for one operation and validate every response."""
    # Every write needs the token, but a community report (anyone may post one).
    write = operation.method.upper() != "GET" and operation.path != "/public/reports"

    @hypothesis.given(case=operation.as_strategy())
    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    def check(case: schemathesis.Case[Any]) -> None:
        response = case.call_and_validate(base_url=base_url, checks=CHECKS, timeout=10)
        if write:
            assert response.status_code == 401, (case.path, response.text)

    check()


def fuzz_all(base_url: str) -> list[str]:
    """Fuzz every operation of the served document; return their labels."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    labels = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operation = result.ok()
        fuzz(operation, base_url)
        labels.append(operation.label)
    return labels


async def test_openapi_document_matches_responses(database: Database) -> None:
    """Schemathesis finds no undocumented status, content type or schema violation."""
    alert = await raise_alert(database, "rocinha", 2)
    await database.fetchval(
        "INSERT INTO readings (station_id, quantity, ts, value)"
        " SELECT id, 'battery_v', now(), 3.8 FROM stations"
    )
    sub = await database.fetchval(
        "INSERT INTO webhook_subscriptions (url, secret) VALUES"
        " ('http://127.0.0.1:9/', 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=') RETURNING id"
    )
    await database.fetchval(
        "INSERT INTO outbox (message_id, subscription_id, alert_id, seq, zone_id, content_type,"
        " payload, status, last_error) VALUES ($1, $2, $3, 1, 'rocinha', 'application/json',"
        " '{}', 'dead', 'HTTP 410')",
        f"msg_{alert}_1_{sub}",
        sub,
        alert,
    )
    port = free_port()
    config = ApiConfig(
        dsn=database.dsn_for("api"),
        network=database.network,
        port=port,
        token="secret",
        destinations=LOOPBACK,
    )
    # A thread of its own: schemathesis calls with blocking `requests`.
    server = uvicorn.Server(
        uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_config=None)
    )
    thread = threading.Thread(target=server.run, name="api-under-schemathesis", daemon=True)
    thread.start()
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110  uvicorn offers a flag, not an event
                await asyncio.sleep(0.01)
        labels = await asyncio.to_thread(fuzz_all, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)
    assert "GET /alerts/{alert_id}/cap" in labels
    assert "POST /deadletters/{message_id}/replay" in labels
    assert await database.fetchval("SELECT count(*) FROM alert_events") == 1  # nothing written
