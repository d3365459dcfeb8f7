"""GET /operations/status: permissions of the commercetools client and the provider's health."""

from __future__ import annotations

import asyncio
import platform
from datetime import UTC, datetime
from typing import Any

import structlog

from giftcard_connector import __version__
from giftcard_connector.commercetools.client import CommercetoolsClient
from giftcard_connector.errors import ApiError
from giftcard_connector.providers.base import GiftCardProvider

log = structlog.get_logger(__name__)

REQUIRED_SCOPES = (
    "manage_payments",
    "view_sessions",
    "view_api_clients",
    "manage_orders",
    "introspect_oauth_tokens",
    "manage_checkout_payment_intents",
)


def missing_scopes(granted: str, project_key: str) -> list[str]:
    scopes = set(granted.split())
    if f"manage_project:{project_key}" in scopes:
        return []
    return [f"{s}:{project_key}" for s in REQUIRED_SCOPES if f"{s}:{project_key}" not in scopes]


def _check(name: str, up: bool, message: str | None = None, details: dict[str, Any] | None = None) -> dict[str, Any]:
    check: dict[str, Any] = {"name": name, "status": "UP" if up else "DOWN"}
    if message:
        check["message"] = message
    if details:
        check["details"] = details
    return check


class StatusService:
    def __init__(self, commercetools: CommercetoolsClient, provider: GiftCardProvider, timeout_ms: int) -> None:
        self._ct = commercetools
        self._provider = provider
        self._timeout = timeout_ms / 1000

    async def _permissions(self) -> dict[str, Any]:
        name = "CoCo Permissions"
        try:
            token = await self._ct.access_token()
        except ApiError as error:
            return _check(name, False, f"Cannot obtain a commercetools token: {error.message}")
        missing = missing_scopes(token.scope, self._ct.project_key)
        if missing:
            return _check(name, False, "The API client lacks required scopes", {"missingScopes": missing})
        return _check(name, True)

    async def _provider_health(self) -> dict[str, Any]:
        name = "Giftcard provider status check"
        try:
            health = await self._provider.health()
        except Exception as error:
            log.warning("provider_health_failed", error=type(error).__name__)
            return _check(name, False, f"The provider health check failed: {type(error).__name__}")
        return _check(name, health.up, health.message, health.details)

    async def status(self) -> dict[str, Any]:
        names = ("CoCo Permissions", "Giftcard provider status check")
        tasks = [asyncio.ensure_future(self._permissions()), asyncio.ensure_future(self._provider_health())]
        done, pending = await asyncio.wait(tasks, timeout=self._timeout)
        for task in pending:
            task.cancel()
        checks = [
            task.result() if task in done else _check(name, False, f"No answer within {self._timeout:g}s")
            for task, name in zip(tasks, names, strict=True)
        ]
        up = sum(check["status"] == "UP" for check in checks)
        overall = "OK" if up == len(checks) else ("Partially Available" if up else "Unavailable")
        if pending:
            overall = "Unavailable"  # contract: checks that time out make the connector Unavailable
        return {
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "version": __version__,
            "metadata": {
                "name": "giftcard-connector",
                "description": "Gift card connector for commercetools Checkout (Python)",
                "provider": self._provider.name,
                "python": platform.python_version(),
            },
            "status": overall,
            "checks": checks,
        }
