"""The API's gate: the token is checked before a body is read, and bodies are size-limited."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from alerts.api.config import ApiConfig
from tests.alerts.test_api import AUTH, TOKEN, api_config, served

if TYPE_CHECKING:
    import httpx

    from tests.conftest import Database

pytestmark = [pytest.mark.services, pytest.mark.timeout(60)]

HUGE = 100 * 1024 * 1024  # the size the outside review sent
LIMIT = 64 * 1024


@asynccontextmanager
async def api_at(config: ApiConfig) -> AsyncIterator[tuple[httpx.AsyncClient, int]]:
    """The served API and its port, for raw-socket clients."""
    async with served(config) as client:
        yield client, int(client.base_url.port or 0)


async def response_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of one HTTP/1.1 response read from ``reader``."""
    status = int((await reader.readline()).split()[1])
    headers: dict[str, str] = {}
    while line := (await reader.readline()).decode().strip():
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def test_unauthenticated_huge_body_is_refused_before_it_is_read(
    database: Database,
) -> None:
    """A write declaring 100 MB without a token gets 401 after 1 KB sent; the rest is never read."""
    async with api_at(api_config(database)) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(
                b"POST /webhooks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                + f"content-length: {HUGE}\r\n\r\n".encode()
                + b"{" * 1024
            )
            await writer.drain()
            # Had the API waited for the body, this would never come: 100 MB are still unsent.
            async with asyncio.timeout(10):
                status, headers, body = await response_head(reader)
                closed = await reader.read()  # the server closes: it will not read the rest
        finally:
            writer.close()
    assert status == 401
    assert headers["www-authenticate"] == "Bearer"
    assert headers["connection"] == "close"
    assert b"ENCOSTA_API_TOKEN" in body
    assert closed == b""


async def test_declared_oversize_body_is_413_unread(database: Database) -> None:
    """With the token, a Content-Length over the limit is answered 413 before the body is sent."""
    async with api_at(api_config(database)) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(
                b"POST /webhooks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                + f"authorization: Bearer {TOKEN}\r\ncontent-length: {LIMIT + 1}\r\n\r\n".encode()
            )
            await writer.drain()
            async with asyncio.timeout(10):
                status, _, body = await response_head(reader)
        finally:
            writer.close()
    assert status == 413
    assert b"ENCOSTA_API_MAX_BODY_BYTES" in body


async def test_chunked_body_past_the_limit_is_cut_off_with_413(database: Database) -> None:
    """A chunked body without Content-Length is answered 413 while the client is still sending."""
    chunk = b"x" * 16384
    sent = 0
    async with api_at(api_config(database)) as (_, port):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(
                b"POST /webhooks HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
                + f"authorization: Bearer {TOKEN}\r\ntransfer-encoding: chunked\r\n\r\n".encode()
            )
            answer = asyncio.create_task(response_head(reader))
            while not answer.done() and sent < HUGE:
                writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                try:
                    await writer.drain()
                except ConnectionError:
                    break  # the server closed after answering
                sent += len(chunk)
                await asyncio.sleep(0.005)
            async with asyncio.timeout(10):
                status, _, body = await answer
        finally:
            writer.close()
    assert status == 413
    assert b"ENCOSTA_API_MAX_BODY_BYTES" in body
    assert sent < HUGE  # answered long before the client was done


async def test_chunked_body_within_the_limit_is_accepted(database: Database) -> None:
    """A small body streamed without Content-Length reaches the route intact."""

    async def stream() -> AsyncIterator[bytes]:
        yield b'{"url": "http://127.0.0.1:9/hook",'
        yield b' "min_level": 2}'

    async with served(api_config(database)) as api:
        created = await api.post(
            "/webhooks", content=stream(), headers={**AUTH, "content-type": "application/json"}
        )
    assert created.status_code == 201, created.text
    assert created.json()["min_level"] == 2
    assert await database.fetchval("SELECT count(*) FROM webhook_subscriptions") == 1


async def test_limit_is_configurable_and_reads_are_not_gated(database: Database) -> None:
    """ENCOSTA_API_MAX_BODY_BYTES sets the limit; GETs need no token."""
    config = replace(api_config(database), max_body_bytes=2048)
    async with served(config) as client:
        assert (await client.get("/webhooks")).status_code == 200
        body = {"url": "http://127.0.0.1:9/hook", "zones": ["rocinha"] * 300}
        refused = await client.post("/webhooks", json=body, headers=AUTH)
        assert refused.status_code == 413
        small = await client.post("/webhooks", json={"url": "http://127.0.0.1:9/"}, headers=AUTH)
        assert small.status_code == 201
    assert ApiConfig.from_env({"ENCOSTA_API_MAX_BODY_BYTES": "4096"}).max_body_bytes == 4096
    assert ApiConfig.from_env({}).max_body_bytes == LIMIT


@pytest.mark.parametrize("method", ["POST", "DELETE"])
async def test_every_write_without_token_is_401_before_routing(
    database: Database, method: str
) -> None:
    """Writes are refused whatever the path, even one that does not exist."""
    async with served(api_config(database)) as client:
        for path in ("/webhooks", "/webhooks/1", "/deadletters/replay", "/nowhere"):
            response = await client.request(method, path, content=b"{}")
            assert response.status_code == 401, (method, path)
