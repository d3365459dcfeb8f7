"""Processor variants for the benchmark only (server.py is the real entry point; this one is not shipped).

    python -m giftcard_devkit.bench_server --loop uvloop --http httptools --json orjson [--count]
    BENCH_JSON=stdlib granian --interface asgi --factory giftcard_devkit.bench_server:granian_app

``--count`` wraps the configured provider in a counter and adds ``GET /__bench/counters``
(provider calls per method and the commercetools client's call count), so calls per operation can be
measured rather than read off the code. ``--json stdlib`` swaps orjson for the standard library's json in
the request parser, the response renderer and the commercetools client.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
from typing import Any

from fastapi import FastAPI, Request

from giftcard_connector.log import configure_logging
from giftcard_connector.money import Money
from giftcard_connector.providers.base import BalanceResult, GiftCardProvider, HealthResult, OperationResult
from giftcard_connector.settings import load_settings


class CountingProvider(GiftCardProvider):
    """Delegates every call and counts it per method."""

    def __init__(self, inner: GiftCardProvider) -> None:
        self._inner = inner
        self.name = inner.name
        self.requires_pin = inner.requires_pin
        self.calls: collections.Counter[str] = collections.Counter()

    async def balance(self, code: str, pin: str | None) -> BalanceResult:
        self.calls["balance"] += 1
        return await self._inner.balance(code, pin)

    async def redeem(self, code: str, pin: str | None, amount: Money, idempotency_key: str) -> OperationResult:
        self.calls["redeem"] += 1
        return await self._inner.redeem(code, pin, amount, idempotency_key)

    async def authorize(self, code: str, pin: str | None, amount: Money, idempotency_key: str) -> OperationResult:
        self.calls["authorize"] += 1
        return await self._inner.authorize(code, pin, amount, idempotency_key)

    async def capture(self, reference: str, amount: Money, idempotency_key: str) -> OperationResult:
        self.calls["capture"] += 1
        return await self._inner.capture(reference, amount, idempotency_key)

    async def void(self, reference: str, idempotency_key: str) -> OperationResult:
        self.calls["void"] += 1
        return await self._inner.void(reference, idempotency_key)

    async def refund(self, reference: str, amount: Money, idempotency_key: str) -> OperationResult:
        self.calls["refund"] += 1
        return await self._inner.refund(reference, amount, idempotency_key)

    async def health(self) -> HealthResult:
        self.calls["health"] += 1
        return await self._inner.health()

    async def aclose(self) -> None:
        await self._inner.aclose()


class _StdlibJson:
    """The slice of orjson's API the Processor uses, on the standard library."""

    JSONDecodeError = json.JSONDecodeError

    @staticmethod
    def dumps(value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()

    @staticmethod
    def loads(value: bytes | str) -> Any:
        return json.loads(value)


def use_stdlib_json() -> None:
    from giftcard_connector import http
    from giftcard_connector.commercetools import client

    setattr(http, "orjson", _StdlibJson)  # noqa: B010 - a module global, swapped for the experiment
    setattr(client, "orjson", _StdlibJson)  # noqa: B010


def build_app(*, json_lib: str = "orjson", count: bool = False) -> FastAPI:
    settings = load_settings()
    configure_logging(settings.LOG_LEVEL)
    if json_lib == "stdlib":
        use_stdlib_json()
    from giftcard_connector.app import create_app
    from giftcard_connector.providers.factory import build_provider

    counting = CountingProvider(build_provider(settings)) if count else None
    app = create_app(settings, counting)
    if counting is not None:

        @app.get("/__bench/counters")
        async def counters(request: Request) -> dict[str, Any]:
            return {
                "provider": dict(counting.calls),
                "provider_total": sum(counting.calls.values()),
                "commercetools_client_calls": request.app.state.services.commercetools.calls,
            }

    return app


def granian_app() -> FastAPI:
    """Factory for granian (configured by BENCH_JSON and BENCH_COUNT)."""
    return build_app(json_lib=os.environ.get("BENCH_JSON", "orjson"), count=os.environ.get("BENCH_COUNT") == "1")


def main(argv: list[str] | None = None) -> int:
    import uvicorn

    parser = argparse.ArgumentParser(description="a Processor variant for the benchmark")
    parser.add_argument("--loop", default="uvloop", choices=["uvloop", "asyncio"])
    parser.add_argument("--http", default="httptools", choices=["httptools", "h11"])
    parser.add_argument("--json", default="orjson", choices=["orjson", "stdlib"])
    parser.add_argument("--count", action="store_true")
    args = parser.parse_args(argv)
    app = build_app(json_lib=args.json, count=args.count)
    settings = load_settings()
    uvicorn.run(
        app,
        host=settings.HOST,
        port=settings.PORT,
        loop=args.loop,
        http=args.http,
        log_level=settings.LOG_LEVEL.lower(),
        access_log=False,
        server_header=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
