"""No credential in the logs: API token, webhook secrets and URLs, DSN passwords.

The services' real logging set-up (``encosta.logs.configure``, JSON lines on stderr) captures
everything the API (uvicorn access log included), the dispatcher and the HTTP client log while
they handle tokens, secrets and a password-bearing DSN; none of them may appear.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import pytest

from alerts.dispatcher import WebhookDispatcher
from encosta import logs
from tests.alerts.receiver import Receiver, free_port
from tests.alerts.test_api import TOKEN, api_config, raise_alert, served
from tests.alerts.test_dispatcher import fast, until

if TYPE_CHECKING:
    from tests.conftest import Database

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

SECRET = "whsec_bG9nLXRlc3Qtc2VjcmV0LWtleS0xMjM0NTY="
CAPABILITY = "T0CAPABILITY0B0XYZZY"  # a path that is the credential (Slack-style hook URL)
URL_PASSWORD = "url-pass-w0rd"


def with_password(dsn: str) -> tuple[str, str]:
    """``dsn`` with a password (its own if it has one; the local server trusts loopback)."""
    parts = urlsplit(dsn)
    if parts.password:
        return dsn, parts.password
    password = "dsn-pa55-word"
    netloc = f"{parts.username}:{password}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc)), password


@pytest.fixture
def production_logging() -> Iterator[io.StringIO]:
    """Logging configured as ``encosta`` does (JSON, DEBUG), its lines kept; restored after."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    chatty = {n: logging.getLogger(n).level for n in ("httpx", "httpcore")}
    logs.configure("DEBUG", json_logs=True)
    lines = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(lines)  # the configured handler and formatter, into a buffer
    yield lines
    root.handlers[:], level = saved
    root.setLevel(level)
    for name, was in chatty.items():
        logging.getLogger(name).setLevel(was)


def test_redact_masks_every_kind_of_secret() -> None:
    """The last-line redaction masks secrets, bearer tokens and URL passwords."""
    line = logs.redact(
        f"postgresql://enc:hunter2@db/x Authorization: Bearer {TOKEN} {SECRET}"
        f' "http://u:{URL_PASSWORD}@h/"'
    )
    for secret in ("hunter2", TOKEN, SECRET, URL_PASSWORD):
        assert secret not in line
    assert "postgresql://enc:***@db/x" in line


async def test_no_credential_is_logged(database: Database, production_logging: io.StringIO) -> None:
    """Writes with right and wrong tokens, a webhook created, tested and delivered: no secret."""
    dsn, dsn_password = with_password(database.dsn)
    config = replace(api_config(database), dsn=dsn)
    alert = await raise_alert(database, "rocinha", 3)
    async with Receiver() as receiver, served(config) as client:
        with_credentials = f"http://hook:{URL_PASSWORD}@127.0.0.1:{receiver.port}/{CAPABILITY}"
        refused = await client.post(
            "/webhooks",
            json={"url": with_credentials, "secret": SECRET},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert refused.status_code == 400, refused.text  # refused, and never echoed or logged
        url = f"http://127.0.0.1:{receiver.port}/{CAPABILITY}"
        created = await client.post(
            "/webhooks",
            json={"url": url, "secret": SECRET, "min_level": 0},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert created.status_code == 201, created.text
        sub = created.json()["id"]
        tested = await client.post(
            f"/webhooks/{sub}/test", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert tested.status_code == 200
        assert (await client.get("/webhooks")).status_code == 200
        for token in (f"{TOKEN}-wrong", "x", TOKEN):  # the last one queues a message
            auth = {"Authorization": f"Bearer {token}"}
            await client.post(f"/alerts/{alert}/acknowledge", json={"by": "op"}, headers=auth)
        delivery = replace(fast(database), dsn=dsn)
        async with WebhookDispatcher(delivery) as dispatcher, asyncio.TaskGroup() as tg:
            tg.create_task(dispatcher.run(), name="dispatcher-under-test")
            try:
                await until(database, "SELECT count(*) FROM outbox WHERE status = 'delivered'", 1)
            finally:
                dispatcher.stop()
    assert len(receiver.received) == 2  # the test message and the acknowledgement
    down_dsn, _ = with_password(f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere")
    down_dsn = down_dsn.replace("dsn-pa55-word", dsn_password)
    async with served(replace(config, dsn=down_dsn)) as client:
        assert (await client.get("/stations")).status_code == 503
    logged = production_logging.getvalue()
    assert "POST /webhooks" in logged  # the access log was captured
    assert "alert acknowledged" in logged
    for secret in (TOKEN, SECRET, SECRET.removeprefix("whsec_"), dsn_password):
        assert secret not in logged, secret
    assert CAPABILITY not in logged
    assert URL_PASSWORD not in logged
