"""The request edge shared by the Processor and the ledger (pure ASGI middleware): NUL bytes refused,
an over-size body refused before it is read, and the catch-all 500.

Install with `install_edge(app, ...)` before the CORS and correlation-id middlewares, so the answers
made here (400, 413, 500) still pass through them and carry their headers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# (status, message) -> the service's JSON error body for that status.
RenderError = Callable[[int, str], bytes]
LogError = Callable[[Exception], None]

NUL_MESSAGE = "The request contains a NUL byte"
TOO_LARGE_MESSAGE = "The request body is too large"
INTERNAL_MESSAGE = "Internal error"


class BodyTooLarge(HTTPException):
    """Raised from `receive` when a streamed body passes the cap; an HTTPException, so the app's own
    HTTP error handler answers it with its error body (FastAPI re-raises it from body parsing)."""

    def __init__(self) -> None:
        super().__init__(status_code=413, detail=TOO_LARGE_MESSAGE)


def has_nul(scope: Scope) -> bool:
    """A NUL byte in the path (also as %00), the query string or a header value."""
    if "\x00" in scope["path"]:
        return True
    query: bytes = scope["query_string"]
    if b"\x00" in query or b"%00" in query:
        return True
    return any(b"\x00" in value for _, value in scope["headers"])


def declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


class EdgeGuard:
    """Refuses NUL bytes (400) and a declared Content-Length above the cap (413) without calling the
    app; counts a body of unknown length (chunked) as it is read and stops it at the cap (413); answers
    any exception the app lets through with a 500 error body (instead of Starlette's outermost handler,
    whose answer would skip the CORS and correlation-id middlewares)."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, render: RenderError, log_error: LogError) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.render = render
        self.log_error = log_error

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if has_nul(scope):
            await self._answer(send, 400, NUL_MESSAGE)
            return
        length = declared_length(scope)
        if length is not None and length > self.max_body_bytes:
            await self._answer(send, 413, TOO_LARGE_MESSAGE)
            return
        started = False
        received = 0
        limit = self.max_body_bytes

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        # A declared length was checked above, and the server delivers no more than it declares: only
        # a body of unknown length needs counting.
        app_receive = receive if length is not None else capped_receive
        try:
            await self.app(scope, app_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._answer(send, 413, TOO_LARGE_MESSAGE)
        except Exception as error:
            self.log_error(error)
            if started:  # the status line is out: nothing better to do than let the server cut it
                raise
            await self._answer(send, 500, INTERNAL_MESSAGE)

    async def _answer(self, send: Send, status: int, message: str) -> None:
        body = self.render(status, message)
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def install_edge(app: Any, *, max_body_bytes: int, render: RenderError, log_error: LogError) -> None:
    """Adds EdgeGuard to a Starlette/FastAPI app (call before adding CORS and correlation, so it runs
    inside them). It counts streamed bodies itself rather than adding Starlette's
    RequestBodyLimitMiddleware as a second layer (see docs/benchmark.md, "Request edge")."""
    app.add_middleware(EdgeGuard, max_body_bytes=max_body_bytes, render=render, log_error=log_error)
