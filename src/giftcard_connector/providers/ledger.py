"""Provider adapter for the built-in gift card ledger (its HTTP API under /v1).

Only I/O lives here; the wire mapping is in ledger_mapping.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from giftcard_connector.money import Money
from giftcard_connector.providers import ledger_mapping as wire
from giftcard_connector.providers.base import (
    BalanceResult,
    GiftCardProvider,
    HealthResult,
    OperationResult,
    ProviderUnavailable,
)


class LedgerProvider(GiftCardProvider):
    name = "ledger"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout: float,
        client: httpx.AsyncClient | None = None,
        *,
        requires_pin: bool = False,
    ) -> None:
        # Ledger cards may carry a PIN: the Enabler shows an optional PIN field (supports_pin), and
        # the ledger ignores a PIN sent for a card without one.
        self.requires_pin = requires_pin
        self.supports_pin = True
        self._base_url = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        self._timeout = timeout
        self._owns_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout)

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, idempotency_key: str | None = None
    ) -> tuple[int, Any]:
        headers = dict(self._headers)
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        try:
            response = await self._client.request(
                method, self._base_url + path, json=body, headers=headers, timeout=self._timeout
            )
        except httpx.HTTPError as error:
            # The message names the failure kind only: the request may carry a card code.
            raise ProviderUnavailable(f"ledger unreachable: {type(error).__name__}") from error
        if response.status_code >= 500:
            raise ProviderUnavailable(f"ledger answered HTTP {response.status_code}")
        try:
            return response.status_code, response.json()
        except ValueError as error:
            raise ProviderUnavailable("ledger answered something that is not JSON") from error

    async def balance(self, code: str, pin: str | None) -> BalanceResult:
        return wire.balance_result(*await self._call("POST", "/v1/cards/balance", wire.card_body(code, pin)))

    async def redeem(self, code: str, pin: str | None, amount: Money, idempotency_key: str) -> OperationResult:
        answer = await self._call("POST", "/v1/redemptions", wire.amount_body(code, pin, amount), idempotency_key)
        return wire.operation_result(*answer)

    async def authorize(self, code: str, pin: str | None, amount: Money, idempotency_key: str) -> OperationResult:
        answer = await self._call("POST", "/v1/holds", wire.amount_body(code, pin, amount), idempotency_key)
        return wire.operation_result(*answer)

    async def capture(self, reference: str, amount: Money, idempotency_key: str) -> OperationResult:
        path = f"/v1/holds/{quote(reference, safe='')}/capture"
        answer = await self._call("POST", path, {"amount": amount.to_json()}, idempotency_key)
        return wire.operation_result(*answer)

    async def void(self, reference: str, idempotency_key: str) -> OperationResult:
        path = f"/v1/holds/{quote(reference, safe='')}/void"
        return wire.operation_result(*await self._call("POST", path, None, idempotency_key))

    async def refund(self, reference: str, amount: Money, idempotency_key: str) -> OperationResult:
        # The ledger accepts a redemption id or the id of a captured hold.
        path = f"/v1/redemptions/{quote(reference, safe='')}/refunds"
        answer = await self._call("POST", path, {"amount": amount.to_json()}, idempotency_key)
        return wire.operation_result(*answer)

    async def health(self) -> HealthResult:
        try:
            status, body = await self._call("GET", "/v1/health")
        except ProviderUnavailable as error:
            return HealthResult(up=False, message=str(error))
        if status != 200 or not isinstance(body, dict) or body.get("status") != "ok":
            return HealthResult(up=False, message=f"ledger health answered HTTP {status}")
        if body.get("apiKey") == "invalid":
            return HealthResult(up=False, message="ledger rejects the configured API key")
        return HealthResult(up=True, details={"database": body.get("database"), "role": body.get("role")})

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()
