"""The fault tests' invariant checker fails on each way the two books can disagree (so a green fault
test means something)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.support.money_invariant import Movement, check_agreement


def _payment(*transactions: tuple[str, str, str, int]) -> dict[str, Any]:
    return {
        "id": "pay-1",
        "transactions": [
            {"type": kind, "state": state, "interactionId": ref, "amount": {"centAmount": cents, "currencyCode": "EUR"}}
            for kind, state, ref, cents in transactions
        ],
    }


CHARGED = Counter({Movement("Charge", "red_1", 3000): 1})


def test_a_success_charge_matching_the_ledger_debit_agrees():
    check_agreement([_payment(("Charge", "Success", "red_1", 3000))], CHARGED)


def test_failures_carry_no_money_and_are_ignored():
    check_agreement([_payment(("Charge", "Failure", "key-1", 3000), ("Charge", "Success", "red_1", 3000))], CHARGED)


@pytest.mark.parametrize(
    ("payments", "movements", "says"),
    [
        ([_payment(("Charge", "Pending", "key-1", 3000))], Counter(), "unsettled"),
        ([_payment(("Charge", "Initial", "key-1", 3000))], Counter(), "unsettled"),
        ([{"id": "pay-1", "transactions": []}], Counter(), "unsettled"),
        (
            [_payment(("Charge", "Failure", "key-1", 3000))],
            CHARGED,
            "only in the ledger",
        ),  # the card was debited, commercetools does not know
        ([_payment(("Charge", "Success", "red_1", 3000))], Counter(), "only in commercetools"),
        ([_payment(("Charge", "Success", "red_1", 2000))], CHARGED, "only in"),  # wrong amount
        ([_payment(("Refund", "Success", "red_1", 3000))], CHARGED, "only in"),  # wrong type
        (
            [_payment(("Charge", "Success", "red_1", 3000)), _payment(("Charge", "Success", "red_1", 3000))],
            CHARGED,
            "more than once",
        ),
    ],
    ids=["pending", "initial", "no-transaction", "missing", "extra", "amount", "type", "twice"],
)
def test_each_disagreement_fails(payments, movements, says):
    with pytest.raises(AssertionError, match=says):
        check_agreement(payments, movements)
