"""A real local HTTP server that answers from a script: the network edge for client unit tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import orjson
from aiohttp import web
from aiohttp.test_utils import TestServer

Answer = Callable[[web.Request, bytes], Any]


def json_body(status: int, body: Any = None) -> web.Response:
    payload = orjson.dumps(body if body is not None else {})
    return web.Response(status=status, body=payload, content_type="application/json")


def json_response(status: int, body: Any = None) -> Answer:
    """A fresh response per request (an aiohttp response object can be sent only once)."""
    return lambda _request, _body: json_body(status, body)


def text_response(status: int, text: str) -> Answer:
    return lambda _request, _body: web.Response(status=status, text=text)


class ScriptedServer:
    """Answers each `METHOD path` from a script of answers (the last one repeats) and records requests."""

    def __init__(self, not_scripted: Answer = json_response(404, {"message": "not scripted"})) -> None:
        self.script: dict[str, list[Answer]] = {}
        self.requests: list[tuple[str, web.Request, bytes]] = []
        self.not_scripted = not_scripted

    def on(self, method: str, path: str, *answers: Answer) -> None:
        self.script[f"{method} {path}"] = list(answers)

    def count(self, method: str, path: str) -> int:
        return sum(1 for key, _, _ in self.requests if key == f"{method} {path}")

    def last(self, method: str, path: str) -> tuple[web.Request, bytes]:
        return next((r, b) for key, r, b in reversed(self.requests) if key == f"{method} {path}")

    async def handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        key = f"{request.method} {request.raw_path.split('?')[0]}"  # as sent: escapes kept, no query
        self.requests.append((key, request, body))
        answers = self.script.get(key)
        answer = self.not_scripted if not answers else (answers.pop(0) if len(answers) > 1 else answers[0])
        result = answer(request, body)
        if asyncio.iscoroutine(result):
            result = await result
        assert isinstance(result, web.StreamResponse)
        return result

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        """Serves on 127.0.0.1; yields the base URL without a trailing slash."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        try:
            yield str(server.make_url("")).rstrip("/")
        finally:
            await server.close()
