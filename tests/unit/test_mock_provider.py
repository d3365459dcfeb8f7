"""The mock provider's codes map onto the contract's states (contract section 6)."""

from __future__ import annotations

import pytest

from giftcard_connector.money import Money
from giftcard_connector.providers.base import BalanceState, OperationStatus
from giftcard_connector.providers.mock import MockProvider

EUR = Money(100, "EUR")


@pytest.mark.parametrize(
    ("code", "state", "amount"),
    [
        ("Valid-5000-EUR", BalanceState.VALID, Money(5000, "EUR")),
        ("Valid-005000-EUR", BalanceState.VALID, Money(5000, "EUR")),
        ("Valid-0-EUR", BalanceState.ZERO_BALANCE, Money(0, "EUR")),
        ("Expired", BalanceState.EXPIRED, None),
        ("NotFound", BalanceState.NOT_FOUND, None),
        ("GenericError", BalanceState.GENERIC_ERROR, None),
        ("Valid-abc-EUR", BalanceState.GENERIC_ERROR, None),
        ("whatever", BalanceState.GENERIC_ERROR, None),
    ],
)
async def test_balance_states(code, state, amount):
    result = await MockProvider().balance(code, None)
    assert result.state is state
    assert result.amount == amount


async def test_configured_currency_refuses_other_currencies():
    assert (await MockProvider("EUR").balance("Valid-5000-USD", None)).state is BalanceState.CURRENCY_NOT_MATCH
    assert (await MockProvider("USD").balance("Valid-5000-USD", None)).state is BalanceState.VALID


@pytest.mark.parametrize(
    ("code", "status", "reason"),
    [
        ("Valid-5000-EUR", OperationStatus.SUCCESS, None),
        ("Valid-005000-EUR", OperationStatus.FAILURE, BalanceState.EXPIRED),
        ("Valid-0-EUR", OperationStatus.FAILURE, BalanceState.ZERO_BALANCE),
        ("Expired", OperationStatus.FAILURE, BalanceState.EXPIRED),
        ("NotFound", OperationStatus.FAILURE, BalanceState.NOT_FOUND),
        ("GenericError", OperationStatus.FAILURE, BalanceState.GENERIC_ERROR),
    ],
)
async def test_redeem_outcomes(code, status, reason):
    result = await MockProvider().redeem(code, None, EUR, "key")
    assert result.status is status
    assert result.reason is reason
    assert (result.reference is not None) is (status is OperationStatus.SUCCESS)


async def test_follow_ups_succeed_only_for_mock_references():
    provider = MockProvider()
    redemption = await provider.redeem("Valid-5000-EUR", None, EUR, "key")
    assert (await provider.refund(redemption.reference, EUR, "k2")).status is OperationStatus.SUCCESS
    assert (await provider.void(redemption.reference, "k3")).status is OperationStatus.SUCCESS
    assert (await provider.refund("someone-elses", EUR, "k4")).status is OperationStatus.FAILURE


async def test_a_repeated_key_answers_what_the_first_call_did_and_status_reports_it():
    provider = MockProvider()
    assert await provider.status("pay-1:tx-1") is None
    first = await provider.redeem("Valid-5000-EUR", None, EUR, "pay-1:tx-1")
    again = await provider.redeem("Valid-5000-EUR", None, EUR, "pay-1:tx-1")
    assert again == first
    status = await provider.status("pay-1:tx-1")
    assert status is not None and status.reference == first.reference and status.amount == EUR
    refused = await provider.redeem("Expired", None, EUR, "pay-2:tx-1")
    assert await provider.status("pay-2:tx-1") == refused
    refund = await provider.refund(str(first.reference), EUR, "pay-1:tx-2")
    assert await provider.refund(str(first.reference), EUR, "pay-1:tx-2") == refund
