"""GET /ready: can this copy serve money requests right now? (/health only says the process is alive.)

The Processor is ready when a commercetools token is obtainable (the cached one counts) and the provider
answers its health check. The answer is reused for a few seconds, and concurrent probes share one
check, so an orchestrator polling every copy cannot multiply the upstream calls.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from giftcard_connector.commercetools.client import CommercetoolsClient
from giftcard_connector.errors import ApiError
from giftcard_connector.providers.base import GiftCardProvider


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    up: bool
    message: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "status": "UP" if self.up else "DOWN"}
        if self.message:
            body["message"] = self.message
        return body


Probe = Callable[[], Awaitable[list[Check]]]


class ReadinessCache:
    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._checks: list[Check] | None = None
        self._expires_at = float("-inf")
        self._lock = asyncio.Lock()

    async def checks(self, probe: Probe) -> list[Check]:
        if self._checks is not None and self._clock() < self._expires_at:
            return self._checks
        async with self._lock:
            if self._checks is None or self._clock() >= self._expires_at:
                self._checks = await probe()
                self._expires_at = self._clock() + self._ttl
            return self._checks


def readiness_body(checks: list[Check]) -> tuple[int, dict[str, Any]]:
    ready = all(check.up for check in checks)
    body = {"status": "ready" if ready else "not ready", "checks": [check.to_json() for check in checks]}
    return (200 if ready else 503), body


async def processor_checks(client: CommercetoolsClient, provider: GiftCardProvider, seconds: float) -> list[Check]:
    async def token() -> Check:
        try:
            async with asyncio.timeout(seconds):
                await client.access_token()
        except ApiError as error:
            return Check("commercetools token", False, error.message)
        except TimeoutError:
            return Check("commercetools token", False, f"no token within {seconds:g}s")
        return Check("commercetools token", True)

    async def reachable() -> Check:
        name = "provider"
        try:
            async with asyncio.timeout(seconds):
                health = await provider.health()
        except TimeoutError:
            return Check(name, False, f"no answer within {seconds:g}s")
        return Check(name, health.up, health.message)

    return list(await asyncio.gather(token(), reachable()))
