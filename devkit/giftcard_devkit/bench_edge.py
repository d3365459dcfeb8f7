"""CPU per request of the Processor's request edge (giftcard_connector.edge): the same app built with and
without it, driven in-process by direct ASGI calls (no network, no server), interleaved rounds, median
and minimum of the process CPU time per request. Run: `PYTHONPATH=devkit python -m giftcard_devkit.bench_edge`.
"""

from __future__ import annotations

import asyncio
import gc
import os
import statistics
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

from starlette.types import Message, Scope

ROUNDS = int(os.environ.get("BENCH_EDGE_ROUNDS", "15"))
REQUESTS = int(os.environ.get("BENCH_EDGE_REQUESTS", "3000"))
NOWHERE = "http://127.0.0.1:9"
BODY = b'{"code":"Valid-5000-EUR","redeemAmount":{"centAmount":100,"currencyCode":"EUR"}}'
CASES = (("GET /health", "GET", "/health", b""), ("POST /balance without a session (401)", "POST", "/balance", BODY))


def _quiet_rate_limits() -> None:
    # The limiter is not what is measured here: budgets no run reaches.
    for name in ("BALANCE_PER_SESSION", "BALANCE_PER_ADDRESS", "REDEEM_PER_SESSION", "REDEEM_PER_ADDRESS"):
        os.environ.setdefault(f"RATE_LIMIT_{name}", "1000000000/minute")
    os.environ.setdefault("RATE_LIMIT_WRONG_TRIES_PER_CARD", "1000000000/hour")


def build(with_edge: bool) -> Any:
    import giftcard_connector.app as app_module
    from giftcard_connector.settings import Settings

    settings = Settings(
        CTP_PROJECT_KEY="bench",
        CTP_CLIENT_ID="id",
        CTP_CLIENT_SECRET="secret",
        CTP_AUTH_URL=NOWHERE,
        CTP_API_URL=NOWHERE,
        CTP_SESSION_URL=NOWHERE,
        CTP_JWKS_URL=NOWHERE,
        CTP_JWT_ISSUER="https://mc.example",
        CORS_ALLOWED_ORIGINS=["https://shop.example"],
    )
    original: Callable[..., None] = getattr(app_module, "install_edge")  # noqa: B009
    if not with_edge:
        setattr(app_module, "install_edge", lambda *_args, **_kwargs: None)  # noqa: B010
    try:
        return app_module.create_app(settings)
    finally:
        setattr(app_module, "install_edge", original)  # noqa: B010


def request_scope(method: str, path: str, body: bytes) -> Scope:
    headers = [
        (b"host", b"processor"),
        (b"origin", b"https://shop.example"),
        (b"content-type", b"application/json"),
        (b"x-correlation-id", b"bench-1234"),
        (b"user-agent", b"bench"),
    ]
    if body:
        headers.append((b"content-length", str(len(body)).encode()))
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 8080),
    }


async def cpu_us_per_request(app: Any, method: str, path: str, body: bytes) -> tuple[float, int]:
    statuses: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    started = time.process_time()
    for _ in range(REQUESTS):
        await app(request_scope(method, path, body), receive, send)
    return (time.process_time() - started) / REQUESTS * 1e6, statuses[-1]


async def main() -> None:
    _quiet_rate_limits()
    apps = {"with edge": build(True), "without": build(False)}
    async with AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.router.lifespan_context(app))
        await measure(apps)


async def measure(apps: dict[str, Any]) -> None:
    for label, method, path, body in CASES:
        samples: dict[str, list[float]] = {name: [] for name in apps}
        status = 0
        for round_number in range(ROUNDS):
            # Alternate which app goes first, and start each batch with a fresh GC, so neither pays
            # for the other's garbage.
            order = list(apps.items()) if round_number % 2 == 0 else list(reversed(apps.items()))
            for name, app in order:
                gc.collect()
                cpu, status = await cpu_us_per_request(app, method, path, body)
                samples[name].append(cpu)
        with_edge, without = (samples[name] for name in apps)
        print(
            f"{label:40} HTTP {status}: median {statistics.median(with_edge):6.1f} vs "
            f"{statistics.median(without):6.1f} us (+{statistics.median(with_edge) - statistics.median(without):.1f}); "
            f"min {min(with_edge):6.1f} vs {min(without):6.1f} us (+{min(with_edge) - min(without):.1f})"
        )


if __name__ == "__main__":
    asyncio.run(main())
