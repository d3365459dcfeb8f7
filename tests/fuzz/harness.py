"""An ASGI app served in-process on an event loop of its own thread, driven synchronously.

Hypothesis runs each example as a plain function call; the app (and its database engine or pooled
aiohttp session) lives on one loop for the whole module, apart from pytest-asyncio's loop.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from contextlib import AsyncExitStack
from typing import Any, TypeVar

import httpx

T = TypeVar("T")
REQUEST_TIMEOUT = 30.0


class LoopThread:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fuzz-app-loop", daemon=True)
        self._thread.start()

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(REQUEST_TIMEOUT)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


class InProcessApp:
    """The app with its lifespan entered, and an httpx client talking to it over ASGI."""

    def __init__(self, loop: LoopThread, app: Any, base_url: str) -> None:
        self.loop = loop
        self.app = app
        self._base_url = base_url
        self._stack = AsyncExitStack()
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        assert self._client is not None, "start() first"
        return self._client

    async def start(self) -> None:
        await self._stack.enter_async_context(self.app.router.lifespan_context(self.app))
        transport = httpx.ASGITransport(app=self.app, client=("203.0.113.7", 40000))
        self._client = await self._stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url=self._base_url, timeout=REQUEST_TIMEOUT)
        )

    async def stop(self) -> None:
        await self._stack.aclose()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.loop.run(self.client.request(method, url, **kwargs))
