"""The pure plans of payment intents: what a capture, refund or cancel does on a payment as it is now."""

from __future__ import annotations

import pytest

from giftcard_connector.commercetools import transactions as txn
from giftcard_connector.errors import InvalidField
from giftcard_connector.money import Money
from giftcard_connector.operations.payment_intents import (
    Done,
    Move,
    Outcome,
    plan_cancel,
    plan_capture,
    plan_refund,
    plan_refund_rest,
)


def tx(kind: str, state: str, amount: int, ref: str = "", tid: str = "", **extra: object) -> dict:
    return {
        "id": tid or f"{kind}-{state}-{amount}",
        "type": kind,
        "state": state,
        "amount": {"centAmount": amount, "currencyCode": "EUR"},
        "interactionId": ref,
        "timestamp": txn.timestamp(),
        **extra,
    }


def payment(*transactions: dict) -> dict:
    return {
        "id": "p1",
        "amountPlanned": {"centAmount": 3000, "currencyCode": "EUR"},
        "transactions": list(transactions),
    }


EUR = Money


def test_split_captures_take_what_is_left_of_the_hold_and_a_full_hold_refuses_more():
    held = payment(tx("Authorization", "Success", 3000, "hld_1"))
    assert plan_capture(held, EUR(2000, "EUR")) == Move("Charge", EUR(2000, "EUR"), "hld_1")
    with pytest.raises(InvalidField):
        plan_capture(held, EUR(3001, "EUR"))
    old = "2020-01-01T00:00:00.000Z"  # outside the repeat window
    part = tx("Charge", "Success", 2000, "red_1", timestamp=old)
    captured = payment(tx("Authorization", "Success", 3000, "hld_1"), part)
    assert plan_capture(captured, EUR(1000, "EUR")) == Move("Charge", EUR(1000, "EUR"), "hld_1")
    assert plan_capture(captured, EUR(2000, "EUR")) == Done(Outcome.APPROVED)  # a repeat: only 1000 is left
    with pytest.raises(InvalidField):
        plan_capture(captured, EUR(1500, "EUR"))
    full = payment(*captured["transactions"], tx("Charge", "Success", 1000, "red_2", timestamp=old))
    assert plan_capture(full, EUR(500, "EUR")) == Done(Outcome.REJECTED)
    assert plan_capture(full, EUR(1000, "EUR")) == Done(Outcome.APPROVED)  # the last capture repeated


def test_a_capture_of_the_same_amount_just_done_is_a_repeat_unless_its_merchant_reference_differs():
    captured = payment(tx("Authorization", "Success", 3000, "hld_1"), tx("Charge", "Success", 1000, "red_1"))
    assert plan_capture(captured, EUR(1000, "EUR")) == Done(Outcome.APPROVED)
    assert plan_capture(captured, EUR(1000, "EUR"), "C-2") == Move("Charge", EUR(1000, "EUR"), "hld_1")


def test_cancel_of_a_partially_captured_hold_releases_the_rest_first():
    p = payment(tx("Authorization", "Success", 3000, "hld_1"), tx("Charge", "Success", 2000, "red_1"))
    assert plan_cancel(p) == Move("CancelAuthorization", EUR(1000, "EUR"), "hld_1")
    voided = payment(*p["transactions"], tx("CancelAuthorization", "Success", 1000, "hld_1"))
    assert plan_cancel(voided) == Move("Refund", EUR(2000, "EUR"), "red_1")


def test_a_reversal_of_split_captures_refunds_each_capture_on_its_own():
    # The provider refunds each debit on its own: one refund of the total against one capture would be refused.
    old = "2020-01-01T00:00:00.000Z"
    hold = tx("Authorization", "Success", 3000, "hld_1")
    first, second = tx("Charge", "Success", 2000, "red_1", timestamp=old), tx("Charge", "Success", 1000, "red_2")
    p = payment(hold, first, second)
    assert plan_cancel(p) == Move("Refund", EUR(1000, "EUR"), "red_2")
    one_back = payment(hold, first, second, tx("Refund", "Success", 1000, "rfd_1"))
    assert plan_cancel(one_back) == Move("Refund", EUR(2000, "EUR"), "red_1")
    all_back = payment(*one_back["transactions"], tx("Refund", "Success", 2000, "rfd_2"))
    assert plan_cancel(all_back) == Done(Outcome.APPROVED)
    # While the release of the rest is still unknown, the captures are refunded all the same.
    releasing = payment(
        tx("Authorization", "Success", 3000, "hld_1"), first, tx("CancelAuthorization", "Pending", 1000)
    )
    assert plan_refund_rest(releasing) == Move("Refund", EUR(2000, "EUR"), "red_1")


def test_a_capture_repeated_while_in_flight_drives_that_transaction():
    pending = tx("Charge", "Pending", 2000, "intent-1")
    plan = plan_capture(payment(tx("Authorization", "Success", 3000, "hld_1"), pending), EUR(2000, "EUR"))
    assert isinstance(plan, Move) and plan.existing == pending


def test_refund_caps_count_in_flight_refunds_and_pick_the_newest_charge_with_room():
    p = payment(
        tx("Charge", "Success", 1000, "red_old", tid="c1"),
        tx("Charge", "Success", 2000, "red_new", tid="c2"),
        tx("Refund", "Pending", 1500, "intent-r"),
    )
    with pytest.raises(InvalidField) as caught:
        plan_refund(p, EUR(1600, "EUR"), None)
    assert caught.value.fields["maxCentAmount"] == 1500
    # 1500 in flight is taken from the newest charge (2000 -> 500 left): 500 fits there, 1000 only in the old one.
    assert plan_refund(p, EUR(500, "EUR"), None) == Move("Refund", EUR(500, "EUR"), "red_new")
    assert plan_refund(p, EUR(1000, "EUR"), None) == Move("Refund", EUR(1000, "EUR"), "red_old")
    assert plan_refund(p, EUR(100, "EUR"), "c1") == Move("Refund", EUR(100, "EUR"), "red_old")


def test_nothing_charged_means_no_refund_and_an_unknown_debit_means_received():
    assert plan_refund(payment(tx("Charge", "Failure", 3000)), EUR(100, "EUR"), None) == Done(Outcome.REJECTED)
    assert plan_refund(payment(tx("Charge", "Pending", 3000)), EUR(100, "EUR"), None) == Done(Outcome.RECEIVED)


@pytest.mark.parametrize(
    ("transactions", "plan"),
    [
        ([tx("Charge", "Failure", 3000)], Done(Outcome.APPROVED)),
        ([tx("Charge", "Pending", 3000)], Done(Outcome.RECEIVED)),
        ([tx("Authorization", "Initial", 3000)], Done(Outcome.RECEIVED)),
        ([tx("Authorization", "Success", 3000, "hld_1")], Move("CancelAuthorization", Money(3000, "EUR"), "hld_1")),
        (
            [tx("Charge", "Success", 3000, "red_1"), tx("Refund", "Success", 1000)],
            Move("Refund", Money(2000, "EUR"), "red_1"),
        ),
        ([tx("Charge", "Success", 3000, "red_1"), tx("Refund", "Success", 3000)], Done(Outcome.APPROVED)),
    ],
)
def test_cancel_releases_or_refunds_what_is_left_and_never_approves_an_unknown_debit(transactions, plan):
    assert plan_cancel(payment(*transactions)) == plan
