"""LedgerProvider against the real ledger app (uvicorn on loopback): the whole mapping end to end."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from giftcard_connector.ledger.api import create_app
from giftcard_connector.ledger.db import Database
from giftcard_connector.ledger.service import LedgerService
from giftcard_connector.money import Money
from giftcard_connector.providers.base import BalanceState, OperationStatus
from giftcard_connector.providers.ledger import LedgerProvider
from giftcard_devkit.loopback import serve_on_loopback
from tests.ledger.conftest import make_keys
from tests.ledger.support import FakeClock, LedgerClient


@pytest.fixture
async def provider(service: LedgerService, database: Database, clock: FakeClock) -> AsyncIterator[LedgerProvider]:
    _, processor = await make_keys(database, clock)
    async with serve_on_loopback(create_app(service)) as base_url:
        provider = LedgerProvider(base_url, processor, 5.0)
        try:
            yield provider
        finally:
            await provider.aclose()


async def test_adapter_round_trip(ledger: LedgerClient, provider: LedgerProvider) -> None:
    code = await ledger.issue(1000, pin="4321")
    assert (await provider.health()).up
    balance = await provider.balance(code, "4321")
    assert balance.state is BalanceState.VALID and balance.amount == Money(1000, "EUR")
    assert (await provider.balance(code, "0000")).state is BalanceState.NOT_FOUND
    redeemed = await provider.redeem(code, "4321", Money(300, "EUR"), "pay-1")
    assert redeemed.succeeded
    replay = await provider.redeem(code, "4321", Money(300, "EUR"), "pay-1")
    assert replay.reference == redeemed.reference
    wrong_currency = await provider.redeem(code, "4321", Money(1, "USD"), "pay-2")
    assert wrong_currency.reason is BalanceState.CURRENCY_NOT_MATCH
    assert redeemed.reference
    assert (await provider.refund(redeemed.reference, Money(300, "EUR"), "pay-1-refund")).succeeded
    hold = await provider.authorize(code, "4321", Money(1000, "EUR"), "pay-3")
    assert hold.succeeded and hold.reference
    empty = await provider.redeem(code, "4321", Money(1, "EUR"), "pay-4")
    assert empty.status is OperationStatus.FAILURE and empty.reason is BalanceState.ZERO_BALANCE
    assert (await provider.balance(code, "4321")).state is BalanceState.ZERO_BALANCE
    capture = await provider.capture(hold.reference, Money(1000, "EUR"), "pay-3-capture")
    assert capture.succeeded
    assert not (await provider.void(hold.reference, "pay-3-void")).succeeded
    assert (await provider.refund(hold.reference, Money(1000, "EUR"), "pay-3-refund")).succeeded
    await ledger.assert_consistent(code, 1000)


async def test_adapter_sees_expiry(ledger: LedgerClient, provider: LedgerProvider) -> None:
    code = await ledger.issue(1000, expires="2026-06-01")
    ledger.clock.advance(2 * 86400)
    assert (await provider.balance(code, None)).state is BalanceState.EXPIRED
    assert (await provider.redeem(code, None, Money(1, "EUR"), "k")).reason is BalanceState.EXPIRED


async def test_status_reports_what_happened_to_each_key(ledger: LedgerClient, provider: LedgerProvider) -> None:
    code = await ledger.issue(1000)
    assert await provider.status("pay-9:tx-1") is None
    redeemed = await provider.redeem(code, None, Money(300, "EUR"), "pay-9:tx-1")
    status = await provider.status("pay-9:tx-1")
    assert status is not None and status.succeeded
    assert status.reference == redeemed.reference and status.amount == Money(300, "EUR")
    refused = await provider.redeem(code, None, Money(5000, "EUR"), "pay-9:tx-2")
    assert refused.status is OperationStatus.FAILURE
    refused_status = await provider.status("pay-9:tx-2")
    assert refused_status is not None and refused_status.status is OperationStatus.FAILURE
    # The same key with another request: the ledger's 409 says nothing about this key's money.
    reused = await provider.redeem(code, None, Money(1, "EUR"), "pay-9:tx-1")
    assert reused.status is OperationStatus.PENDING
