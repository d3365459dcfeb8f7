"""Helpers for ledger tests: a controllable clock and a small HTTP client for the ledger API."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any

import httpx

SECRET = b"test-secret-key-0123456789"
_keys = itertools.count()


class FakeClock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def eur(cent_amount: int, currency: str = "EUR") -> dict[str, Any]:
    return {"centAmount": cent_amount, "currencyCode": currency}


def idem() -> str:
    return f"test-{next(_keys)}"


@dataclass
class LedgerClient:
    http: httpx.AsyncClient
    admin_key: str
    processor_key: str
    clock: FakeClock

    async def post(
        self, path: str, body: Any = None, *, key: str | None = None, idempotency: str | bool | None = True
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {key or self.processor_key}"}
        if idempotency is True:
            headers["Idempotency-Key"] = idem()
        elif isinstance(idempotency, str):
            headers["Idempotency-Key"] = idempotency
        return await self.http.post(path, json=body, headers=headers)

    async def admin(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return await self.post(path, body, key=self.admin_key, **kwargs)

    async def issue(
        self, amount: int = 10_000, currency: str = "EUR", *, pin: str | None = None, expires: str | None = None
    ) -> str:
        body: dict[str, Any] = {"amount": eur(amount, currency)}
        if pin:
            body["pin"] = pin
        if expires:
            body["expiresAt"] = expires
        response = await self.admin("/v1/cards", body)
        assert response.status_code == 201, response.text
        code: str = response.json()["cards"][0]["code"]
        return code

    async def history(self, code: str) -> dict[str, Any]:
        response = await self.admin("/v1/cards/history", {"code": code}, idempotency=None)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def assert_consistent(self, code: str, expected_balance: int) -> None:
        history = await self.history(code)
        entries_sum = sum(entry["amount"]["centAmount"] for entry in history["entries"])
        assert history["card"]["balance"]["centAmount"] == expected_balance
        assert entries_sum == expected_balance
        assert history["entries"][-1]["balanceAfter"]["centAmount"] == expected_balance
