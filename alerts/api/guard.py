"""The gate in front of the API: the token of a write, then the size of its body.

FastAPI reads and parses a request's body before it runs any dependency, so the bearer-token
dependency alone let anyone make the API read (and hold in memory) a body of any size. This
ASGI middleware runs first, on the raw request:

1. a write (any method but GET, HEAD, OPTIONS) without the right token is answered 401 at
   once, **without reading its body**, and the connection is closed (except the public
   writes, community reports, and the writes with a token of their own, receipts, which their
   routes check);
2. a body declared larger than ``max_body_bytes`` (``Content-Length``) is answered 413 unread;
   a body without ``Content-Length`` (chunked) is read until it passes the limit, then
   answered 413; at most the limit is ever held in memory;
3. the body, read and within the limit, is handed to the application.

The token dependency (:mod:`alerts.api.auth`) stays on every write route: it documents the
scheme in OpenAPI and would catch a route this gate missed.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from alerts.api.auth import refusal

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def _answer(send: Send, status: int, detail: str, headers: dict[str, str]) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        # The rest of the body is not read: this connection cannot carry another request.
        (b"connection", b"close"),
        *((k.encode(), v.encode()) for k, v in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class RequestGuard:
    """Token before body, and a body size limit; see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        token: str | None,
        max_body_bytes: int,
        public_writes: dict[str, int] | None = None,
        own_token: re.Pattern[str] | None = None,
    ) -> None:
        self.app = app
        self.token = token
        self.max_body_bytes = max_body_bytes
        # path -> body limit of the POSTs anyone may make (community reports): no token asked
        self.public_writes = public_writes or {}
        # paths of the POSTs that carry a token of their own (receipts): the route checks it
        self.own_token = own_token

    def _limit(self, scope: Scope) -> int:
        public = self.public_writes.get(scope["path"])
        return public if public is not None and scope["method"] == "POST" else self.max_body_bytes

    def _too_large(self, scope: Scope) -> str:
        public = scope["method"] == "POST" and scope["path"] in self.public_writes
        variable = "ENCOSTA_REPORTS_PHOTO_MAX_BYTES" if public else "ENCOSTA_API_MAX_BODY_BYTES"
        return f"the request body is larger than {self._limit(scope)} bytes ({variable})"

    def _refusal(self, scope: Scope) -> tuple[int, str, dict[str, str]] | None:
        """What to answer from the request line and headers alone, if anything."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        public = scope["method"] == "POST" and scope["path"] in self.public_writes
        own = (
            scope["method"] == "POST"
            and self.own_token is not None
            and self.own_token.match(scope["path"]) is not None
        )
        if scope["method"] not in SAFE_METHODS and not public and not own:
            detail = refusal(self.token, headers.get("authorization"))
            if detail is not None:
                return 401, detail, {"www-authenticate": "Bearer"}
        declared = headers.get("content-length")
        if declared is not None and not declared.isdigit():
            return 400, "Content-Length is not a number", {}
        if declared is not None and int(declared) > self._limit(scope):
            return 413, self._too_large(scope), {}
        return None

    async def _body(self, receive: Receive, limit: int) -> list[bytes] | None:
        """The body's chunks, or None when it passes the limit or the client went away."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse, or pass the request on with its body already read."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refused = self._refusal(scope)
        if refused is not None:
            await _answer(send, *refused)
            return
        chunks = await self._body(receive, self._limit(scope))
        if chunks is None:
            await _answer(send, 413, self._too_large(scope), {})  # unheard if the client left
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # after the body: the disconnect, when it comes
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)
