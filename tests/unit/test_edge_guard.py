"""EdgeGuard on a bare ASGI app (no framework handlers): what it answers itself, and when it must not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
import orjson
import pytest
from starlette.types import Receive, Scope, Send

from giftcard_connector.edge import EdgeGuard

App = Callable[[Scope, Receive, Send], Awaitable[None]]
logged: list[Exception] = []


def render(status: int, message: str) -> bytes:
    return orjson.dumps({"status": status, "message": message})


def guarded(app: App, cap: int = 100) -> httpx.AsyncClient:
    guard = EdgeGuard(app, max_body_bytes=cap, render=render, log_error=logged.append)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=guard, raise_app_exceptions=True), base_url="http://t")


async def reads_everything(scope: Scope, receive: Receive, send: Send) -> None:
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(size).encode()})


async def test_a_streamed_body_past_the_cap_is_413_even_without_a_framework() -> None:
    async def chunks():
        for _ in range(10):
            yield b"x" * 30

    async with guarded(reads_everything) as client:
        response = await client.post("/", content=chunks())
    assert response.status_code == 413
    assert response.json() == {"status": 413, "message": "The request body is too large"}


async def test_a_streamed_body_under_the_cap_passes() -> None:
    async def chunks():
        for _ in range(3):
            yield b"x" * 30

    async with guarded(reads_everything) as client:
        response = await client.post("/", content=chunks())
    assert response.status_code == 200 and response.text == "90"


async def test_an_error_after_the_answer_started_is_not_hidden() -> None:
    async def fails_midway(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("after the status line")

    logged.clear()
    async with guarded(fails_midway) as client:
        with pytest.raises(RuntimeError):
            await client.get("/")
    assert [str(error) for error in logged] == ["after the status line"]


async def test_an_error_before_the_answer_is_a_500_body_and_logged() -> None:
    async def fails(scope: Scope, receive: Receive, send: Send) -> None:
        raise KeyError("secret")

    logged.clear()
    async with guarded(fails) as client:
        response = await client.get("/")
    assert response.status_code == 500
    assert response.json() == {"status": 500, "message": "Internal error"}
    assert len(logged) == 1 and isinstance(logged[0], KeyError)
