"""The small HTTP server: parses one request, answers it, drops what it cannot read."""

from __future__ import annotations

import asyncio

import httpx

from runtime.http_server import HttpServer, Request, Response


async def test_a_request_is_parsed_and_answered() -> None:
    """Method, path, lower-cased headers and body reach the handler; the answer comes back."""
    seen: list[Request] = []

    async def answer(request: Request) -> Response:
        seen.append(request)
        return Response(202, b"taken", "text/plain", {"Retry-After": "3"})

    async with HttpServer(answer) as server, httpx.AsyncClient() as client:
        reply = await client.post(f"{server.url}/hook?x=1", content=b"{}", headers={"X-A": "b"})
    assert (reply.status_code, reply.text, reply.headers["retry-after"]) == (202, "taken", "3")
    assert reply.headers["content-type"] == "text/plain"
    assert (seen[0].method, seen[0].path, seen[0].body) == ("POST", "/hook?x=1", b"{}")
    assert seen[0].headers["x-a"] == "b"


async def test_no_content_has_no_length_and_none_hangs_up() -> None:
    """204 carries no Content-Length (RFC 9110); a handler's None closes without an answer."""
    assert b"Content-Length" not in Response(204).encode()
    assert b"Content-Length: 2" in Response(200, b"ok").encode()

    async def hang_up(_: Request) -> None:
        return None

    async with HttpServer(hang_up) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert await reader.read() == b""
        writer.close()


async def test_garbage_is_dropped_and_the_server_keeps_serving() -> None:
    """A request line that is not HTTP is dropped; the next request is answered."""

    async def ok(_: Request) -> Response:
        return Response(200, b"ok")

    async with HttpServer(ok) as server:
        reader, writer = await asyncio.open_connection(server.host, server.port)
        writer.write(b"\xff\xfe nonsense\r\n\r\n")
        assert await reader.read() == b""
        writer.close()
        async with httpx.AsyncClient() as client:
            assert (await client.get(server.url)).text == "ok"
