"""The traffic of `make container-check`, sent through the load balancer like a shop's would be.

Several shoppers at once, each with its own ledger card: for every checkout a new cart and Checkout
session (made at the commercetools emulator), a balance check, then a redemption. A redemption that gets
no clear answer (connection cut, 502/503/504, 409 "in progress") is submitted again with the same
Idempotency-Key and amount, as the Enabler does. Redemptions are told apart by amount too, so the
template's naming (session + card + amount) cannot merge two of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

RETRY_STATUSES = frozenset({409, 502, 503, 504})
CURRENCY = "EUR"


@dataclass
class Shopper:
    index: int
    code: str
    initial: int
    balance_seen_wrong: int = 0
    carts: list[str] = field(default_factory=list)
    charged: int = 0  # what this shopper's answers say was charged


@dataclass
class DriveStats:
    redemptions: int = 0
    balance_checks: int = 0
    resubmits: int = 0
    answers: Counter[str] = field(default_factory=Counter)
    redeem_latency: list[float] = field(default_factory=list)
    unfinished: int = 0
    refused: list[str] = field(default_factory=list)


class CommercetoolsSide:
    """Carts and sessions at the emulator (what the shop's frontend and Checkout would create)."""

    def __init__(self, base_url: str, project_key: str, token: str) -> None:
        self.project_key = project_key
        self.client = httpx.AsyncClient(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)

    async def cart_with_session(self, cent_amount: int) -> tuple[str, str]:
        draft = {
            "currency": CURRENCY,
            "anonymousId": str(uuid.uuid4()),
            "customLineItems": [
                {
                    "name": {"en": "Container check item"},
                    "slug": "container-check-item",
                    "quantity": 1,
                    "money": {"currencyCode": CURRENCY, "centAmount": cent_amount},
                }
            ],
        }
        cart = await self._ok(self.client.post(f"/{self.project_key}/carts", json=draft))
        session = await self._ok(
            self.client.post(f"/{self.project_key}/sessions", json={"cart": {"cartRef": {"id": cart["id"]}}})
        )
        return str(cart["id"]), str(session["id"])

    async def cart(self, cart_id: str) -> dict[str, Any]:
        params = {"expand": "paymentInfo.payments[*]"}
        return await self._ok(self.client.get(f"/{self.project_key}/carts/{cart_id}", params=params))

    @staticmethod
    async def _ok(pending: Awaitable[httpx.Response]) -> dict[str, Any]:
        response = await pending
        if response.status_code not in (200, 201):
            raise RuntimeError(f"emulator {response.request.url.path}: {response.status_code} {response.text[:300]}")
        body: dict[str, Any] = response.json()
        return body

    async def aclose(self) -> None:
        await self.client.aclose()


def tls_context(cafile: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=cafile)


async def redeem_until_answered(
    lb: httpx.AsyncClient, session_id: str, code: str, amount: int, stats: DriveStats, deadline: float
) -> dict[str, Any] | None:
    """POST /redeem, resubmitting the same redemption until a definite answer (or the deadline)."""
    key = str(uuid.uuid4())
    body = {"code": code, "redeemAmount": {"centAmount": amount, "currencyCode": CURRENCY}}
    headers = {"X-Session-Id": session_id, "Idempotency-Key": key}
    start = time.monotonic()
    attempt = 0
    while time.monotonic() < deadline:
        if attempt:
            stats.resubmits += 1
            await asyncio.sleep(min(0.2 * attempt, 1.0))
        attempt += 1
        try:
            response = await lb.post("/redeem", json=body, headers=headers)
        except httpx.TransportError as error:
            stats.answers[f"redeem {type(error).__name__}"] += 1
            continue
        stats.answers[f"redeem {response.status_code}"] += 1
        if response.status_code in RETRY_STATUSES:
            continue
        stats.redeem_latency.append(time.monotonic() - start)
        if response.status_code == 200:
            answer: dict[str, Any] = response.json()
            return answer
        stats.refused.append(f"redeem {amount}: {response.status_code} {response.text[:200]}")
        return None
    stats.unfinished += 1
    return None


async def shopper_loop(
    shopper: Shopper,
    lb: httpx.AsyncClient,
    ct: CommercetoolsSide,
    stats: DriveStats,
    keep_going: Callable[[], bool],
    pause: float,
) -> None:
    checkout = 0
    while keep_going():
        checkout += 1
        # Distinct amounts per shopper and checkout: no two redemptions of one shopper look alike.
        amount = 100 + shopper.index * 7 + checkout
        cart_id, session_id = await ct.cart_with_session(5000)
        shopper.carts.append(cart_id)
        expected = shopper.initial - shopper.charged
        try:
            response = await lb.post("/balance", json={"code": shopper.code}, headers={"X-Session-Id": session_id})
            stats.answers[f"balance {response.status_code}"] += 1
            stats.balance_checks += 1
            if response.status_code == 200 and response.json()["amount"]["centAmount"] != expected:
                shopper.balance_seen_wrong += 1
        except httpx.TransportError as error:
            stats.answers[f"balance {type(error).__name__}"] += 1
        answer = await redeem_until_answered(lb, session_id, shopper.code, amount, stats, time.monotonic() + 90)
        stats.redemptions += 1
        if answer is not None and answer.get("result") == "Success":
            shopper.charged += amount
        await asyncio.sleep(pause)


@dataclass
class KillReport:
    killed_at: float = 0.0
    in_flight: int = 0  # requests processor-1 was serving when it was killed (HAProxy's count)
    back_after: float = 0.0
    served_while_down: int = 0


async def drive(
    shoppers: list[Shopper],
    lb: httpx.AsyncClient,
    ct: CommercetoolsSide,
    *,
    kill: Callable[[], None],
    in_flight: Callable[[], Awaitable[int]],
    wait_back: Callable[[], float],
    kill_after: float,
    run_after_back: float,
    max_seconds: float,
    pause: float = 0.05,
) -> tuple[DriveStats, KillReport, float]:
    """All shoppers at once; `kill` one copy after `kill_after` s, at the first moment `in_flight` says
    it is serving a request (so the kill cuts answers, up to 10 s later); stop `run_after_back` s after
    it is healthy again (or at `max_seconds`). Returns the stats, the kill timings and the drive's length."""
    stats = DriveStats()
    report = KillReport()
    start = time.monotonic()
    stop_at = start + max_seconds

    def keep_going() -> bool:
        return time.monotonic() < stop_at

    async def killer() -> None:
        nonlocal stop_at
        await asyncio.sleep(kill_after)
        give_up = time.monotonic() + 10
        busy = 0
        while time.monotonic() < give_up:
            busy = await in_flight()
            if busy:
                break
            await asyncio.sleep(0.005)
        before = stats.redemptions
        report.killed_at = time.monotonic() - start
        kill()
        report.in_flight = busy
        report.back_after = await asyncio.to_thread(wait_back)
        report.served_while_down = stats.redemptions - before
        stop_at = min(stop_at, time.monotonic() + run_after_back)

    tasks = [asyncio.create_task(shopper_loop(s, lb, ct, stats, keep_going, pause)) for s in shoppers]
    kill_task = asyncio.create_task(killer())
    try:
        await asyncio.gather(*tasks)
    finally:
        if not kill_task.done():
            kill_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await kill_task
    return stats, report, time.monotonic() - start


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]
