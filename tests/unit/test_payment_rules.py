"""The money rules: what a cart still owes, what a payment can refund, capture or cancel."""

from __future__ import annotations

import pytest

from giftcard_connector.commercetools import payments as rules
from giftcard_connector.errors import GiftCardError, InvalidField
from giftcard_connector.giftcards.service import check_redeem_amount, check_usable
from giftcard_connector.money import Money
from giftcard_connector.providers.base import BalanceResult, BalanceState


def tx(kind: str, state: str, amount: int, **extra: str) -> dict:
    return {"type": kind, "state": state, "amount": {"centAmount": amount, "currencyCode": "EUR"}, **extra}


def payment(amount: int, *transactions: dict) -> dict:
    return {"amountPlanned": {"centAmount": amount, "currencyCode": "EUR"}, "transactions": list(transactions)}


def cart(total: int, *payments: dict, taxed: int | None = None) -> dict:
    data: dict = {
        "totalPrice": {"centAmount": total, "currencyCode": "EUR"},
        "paymentInfo": {"payments": [{"typeId": "payment", "id": str(i), "obj": p} for i, p in enumerate(payments)]},
    }
    if taxed is not None:
        data["taxedPrice"] = {"totalGross": {"centAmount": taxed, "currencyCode": "EUR"}}
    return data


def test_owed_is_the_total_without_payments():
    assert rules.amount_owed(cart(10000)) == Money(10000, "EUR")


def test_taxed_gross_wins_over_total_price():
    assert rules.amount_owed(cart(10000, taxed=11900)) == Money(11900, "EUR")


@pytest.mark.parametrize(
    ("transactions", "counts"),
    [
        ([tx("Charge", "Success", 3000)], True),
        ([tx("Charge", "Pending", 3000)], True),
        ([tx("Authorization", "Success", 3000)], True),
        ([tx("Charge", "Failure", 3000)], False),
        # In flight counts as taken (contract section 9): it may succeed, or another copy is moving it.
        ([tx("Charge", "Initial", 3000)], True),
        ([tx("Authorization", "Initial", 3000)], True),
        ([tx("Charge", "Success", 3000), tx("Refund", "Success", 3000)], False),
        # A refund still under way may fail: until it succeeds the payment still covers the cart.
        ([tx("Charge", "Success", 3000), tx("Refund", "Pending", 1000)], True),
        ([tx("Authorization", "Success", 3000), tx("CancelAuthorization", "Success", 3000)], False),
        ([tx("Charge", "Success", 3000), tx("Refund", "Failure", 3000)], True),
        ([], False),
    ],
)
def test_which_payments_count_towards_the_cart(transactions, counts):
    assert rules.counts_towards_cart(payment(3000, *transactions)) is counts
    expected = 7000 if counts else 10000
    assert rules.amount_owed(cart(10000, payment(3000, *transactions))).cent_amount == expected


@pytest.mark.parametrize(
    ("transactions", "live"),
    [
        ([tx("Charge", "Initial", 3000)], True),
        ([tx("Charge", "Pending", 3000)], True),
        ([tx("Charge", "Success", 3000)], True),
        ([tx("Charge", "Failure", 3000)], False),
        ([tx("Charge", "Success", 3000), tx("Refund", "Success", 3000)], False),
        ([tx("Charge", "Success", 3000), tx("Refund", "Initial", 3000)], False),
        ([tx("Authorization", "Success", 3000), tx("CancelAuthorization", "Pending", 3000)], False),
    ],
)
def test_a_refunded_cancelled_or_failed_twin_no_longer_stands(transactions, live):
    assert rules.is_live_redemption(payment(3000, *transactions)) is live


def test_a_hold_is_capturable_up_to_its_amount_minus_captures_done_or_under_way():
    held = [tx("Authorization", "Success", 3000)]
    assert rules.capturable(payment(3000, *held)) == 3000
    assert rules.capturable(payment(3000, *held, tx("Charge", "Initial", 2000))) == 1000
    assert rules.capturable(payment(3000, *held, tx("Charge", "Success", 2000))) == 1000
    assert rules.capturable(payment(3000, *held, tx("Charge", "Success", 2000), tx("Charge", "Pending", 1000))) == 0
    assert rules.capturable(payment(3000, *held, tx("Charge", "Failure", 2000))) == 3000
    assert rules.capturable(payment(3000, *held, tx("CancelAuthorization", "Pending", 3000))) == 0


def test_unsettled_finds_an_in_flight_transaction_of_that_type_and_amount():
    p = payment(
        3000, tx("Charge", "Success", 3000), tx("Refund", "Failure", 1000), tx("Refund", "Pending", 1000, id="r2")
    )
    assert rules.unsettled(p, "Refund", 1000)["id"] == "r2"
    assert rules.unsettled(p, "Refund", 500) is None
    assert rules.unsettled(p, "Charge") is None


def test_only_this_connectors_payments_are_ours():
    ours = {"paymentMethodInfo": {"method": "giftcard", "paymentInterface": "ledger"}}
    assert rules.is_ours(ours)
    assert not rules.is_ours({"paymentMethodInfo": {"method": "card", "paymentInterface": "psp"}})
    assert not rules.is_ours({"paymentMethodInfo": {"method": "giftcard"}})
    assert not rules.is_ours({})


def test_owed_never_goes_below_zero():
    assert rules.amount_owed(cart(1000, payment(3000, tx("Charge", "Success", 3000)))).cent_amount == 0


def test_refundable_is_charged_minus_successful_and_pending_refunds():
    p = payment(
        5000,
        tx("Charge", "Success", 5000),
        tx("Refund", "Success", 1000),
        tx("Refund", "Pending", 500),
        tx("Refund", "Failure", 2000),
    )
    assert rules.charged(p) == 5000
    assert rules.refundable(p) == 3500


def test_an_authorization_is_open_until_cancelled():
    held = payment(3000, tx("Authorization", "Success", 3000, interactionId="hold-1"))
    assert rules.authorized(held)["interactionId"] == "hold-1"
    cancelled = payment(3000, tx("Authorization", "Success", 3000), tx("CancelAuthorization", "Success", 3000))
    assert rules.authorized(cancelled) is None
    cancelling = payment(3000, tx("Authorization", "Success", 3000), tx("CancelAuthorization", "Initial", 3000))
    assert rules.authorized(cancelling) is None
    assert rules.authorized(payment(3000, tx("Authorization", "Failure", 3000))) is None


@pytest.mark.parametrize(
    ("amount", "field"),
    [
        (Money(0, "EUR"), "redeemAmount.centAmount"),
        (Money(-1, "EUR"), "redeemAmount.centAmount"),
        (Money(100, "USD"), "redeemAmount.currencyCode"),
        (Money(5001, "EUR"), "redeemAmount.centAmount"),
        (Money(3001, "EUR"), "redeemAmount.centAmount"),
    ],
)
def test_redeem_amount_rules(amount, field):
    with pytest.raises(InvalidField) as caught:
        check_redeem_amount(amount, owed=Money(5000, "EUR"), card_balance=Money(3000, "EUR"))
    assert caught.value.fields["field"] == field


def test_redeem_amount_within_limits_passes():
    check_redeem_amount(Money(3000, "EUR"), owed=Money(5000, "EUR"), card_balance=Money(3000, "EUR"))


@pytest.mark.parametrize(
    ("result", "state"),
    [
        (BalanceResult(BalanceState.NOT_FOUND), BalanceState.NOT_FOUND),
        (BalanceResult(BalanceState.EXPIRED), BalanceState.EXPIRED),
        (BalanceResult(BalanceState.VALID, Money(100, "USD")), BalanceState.CURRENCY_NOT_MATCH),
        (BalanceResult(BalanceState.VALID, Money(0, "EUR")), BalanceState.ZERO_BALANCE),
        (BalanceResult(BalanceState.VALID, None), BalanceState.VALID),
    ],
)
def test_unusable_balances(result, state):
    with pytest.raises(GiftCardError) as caught:
        check_usable(result, "EUR")
    if state is not BalanceState.VALID:
        assert caught.value.state is state
    assert caught.value.status_code == (404 if state is BalanceState.NOT_FOUND else 400)
