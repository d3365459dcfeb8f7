"""Payment intents on the one transaction model: only this connector's payments, in-flight transactions
counted and settled, a repeat settles its own transaction, a second capture is not approved for nothing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from giftcard_devkit.processes import processor
from tests.support.flows import intent, money, new_session, redeem, transactions

YOUNG = "2099-01-01T00:00:00.000Z"  # a timestamp that is never older than the grace period
OLD = "2000-01-01T00:00:00.000Z"


@pytest.fixture(scope="module")
def authorize_api(emulator) -> Iterator[httpx.Client]:
    env = {**emulator.processor_env(), "GIFTCARD_CAPTURE_MODE": "authorize", "LOG_LEVEL": "WARNING"}
    with processor(env) as server, httpx.Client(base_url=server.base_url, timeout=15) as client:
        yield client


def _tx(kind: str, state: str, amount: int, interaction_id: str, timestamp: str = YOUNG) -> dict[str, Any]:
    return {
        "type": kind,
        "amount": money(amount),
        "state": state,
        "interactionId": interaction_id,
        "timestamp": timestamp,
    }


def _payment(emulator, *txs: dict[str, Any], method: str = "giftcard", amount: int = 3000) -> dict[str, Any]:
    response = emulator.api(
        "POST",
        "/payments",
        json={
            "amountPlanned": money(amount),
            "paymentMethodInfo": {"method": method, "paymentInterface": "giftcard-test"},
            "transactions": list(txs),
        },
    )
    assert response.status_code == 201, response.text
    payment: dict[str, Any] = response.json()
    return payment


def _states(emulator, payment_id: str) -> list[tuple[str, str]]:
    return [(t["type"], t["state"]) for t in transactions(emulator.get_payment(payment_id))]


@pytest.mark.parametrize(
    "action",
    [
        {"action": "cancelPayment"},
        {"action": "refundPayment", "amount": money(100)},
        {"action": "capturePayment", "amount": money(100)},
    ],
)
def test_a_payment_of_another_connector_is_400_and_untouched(api, emulator, action):
    other = _payment(emulator, _tx("Charge", "Success", 3000, "psp-1"), method="creditcard")
    response = intent(api, emulator, other["id"], action)
    assert response.status_code == 400
    assert emulator.get_payment(other["id"])["version"] == other["version"]


def test_a_pending_refund_counts_against_the_cap_and_its_repeat_settles_it(api, emulator):
    payment = _payment(
        emulator, _tx("Charge", "Success", 3000, "mock-redemption-1"), _tx("Refund", "Pending", 2000, "intent-1")
    )
    over = intent(api, emulator, payment["id"], {"action": "refundPayment", "amount": money(1500)})
    assert over.status_code == 400
    assert over.json()["errors"][0]["maxCentAmount"] == 1000
    # Checkout repeats the 2000 refund: the Pending one is driven with its own key, not a second one.
    repeat = intent(api, emulator, payment["id"], {"action": "refundPayment", "amount": money(2000)})
    assert repeat.json() == {"outcome": "approved"}
    assert _states(emulator, payment["id"]) == [("Charge", "Success"), ("Refund", "Success")]


def test_refund_names_its_charge_by_transaction_id(api, emulator):
    payment = _payment(emulator, _tx("Charge", "Success", 3000, "mock-redemption-2"))
    charge_id = payment["transactions"][0]["id"]
    wrong = intent(
        api, emulator, payment["id"], {"action": "refundPayment", "amount": money(100), "transactionId": "nope"}
    )
    assert wrong.status_code == 400
    assert wrong.json()["errors"][0]["field"] == "actions.0.transactionId"
    named = intent(
        api,
        emulator,
        payment["id"],
        {"action": "refundPayment", "amount": money(100), "transactionId": charge_id, "merchantReference": "R-1"},
    )
    assert named.json() == {"outcome": "approved"}
    refund = transactions(emulator.get_payment(payment["id"]), "Refund")[0]
    assert refund["state"] == "Success"
    assert refund["custom"]["fields"] == {"merchantReference": "R-1"}


def test_cancel_of_a_young_pending_only_payment_is_received_and_undoes_nothing_yet(api, emulator):
    payment = _payment(emulator, _tx("Charge", "Pending", 3000, "intent-2"))
    response = intent(api, emulator, payment["id"], {"action": "cancelPayment"})
    assert response.json() == {"outcome": "received"}
    assert _states(emulator, payment["id"]) == [("Charge", "Pending")]


def test_cancel_of_an_old_pending_charge_the_provider_never_received_settles_it_failure_first(api, emulator):
    payment = _payment(emulator, _tx("Charge", "Pending", 3000, "intent-3", OLD))
    response = intent(api, emulator, payment["id"], {"action": "reversePayment"})
    assert response.json() == {"outcome": "approved"}
    assert _states(emulator, payment["id"]) == [("Charge", "Failure")]


def test_split_captures_capture_the_rest_and_the_same_capture_repeated_is_approved_once(authorize_api, emulator):
    _, session_id = new_session(emulator, 10000)
    held = redeem(authorize_api, session_id, "Valid-5000-EUR", 3000)
    assert held.status_code == 200, held.text
    payment_id = held.json()["paymentReference"]
    first = intent(authorize_api, emulator, payment_id, {"action": "capturePayment", "amount": money(2000)})
    assert first.json() == {"outcome": "approved"}
    # Split captures: the other 1000 of the hold is a second capture, its own Charge.
    rest = intent(authorize_api, emulator, payment_id, {"action": "capturePayment", "amount": money(1000)})
    assert rest.json() == {"outcome": "approved"}
    # Checkout repeating the first capture (its answer lost): nothing is left of that size, no new Charge.
    again = intent(authorize_api, emulator, payment_id, {"action": "capturePayment", "amount": money(2000)})
    assert again.json() == {"outcome": "approved"}
    more = intent(authorize_api, emulator, payment_id, {"action": "capturePayment", "amount": money(500)})
    assert more.json() == {"outcome": "rejected"}
    assert _states(emulator, payment_id) == [
        ("Authorization", "Success"),
        ("Charge", "Success"),
        ("Charge", "Success"),
    ]


def test_a_refund_repeated_at_once_is_the_same_refund_unless_its_merchant_reference_differs(api, emulator):
    payment = _payment(emulator, _tx("Charge", "Success", 3000, "mock-redemption-3"))
    refund = {"action": "refundPayment", "amount": money(1000)}
    assert intent(api, emulator, payment["id"], refund).json() == {"outcome": "approved"}
    # Checkout did not get our answer and repeats it: no second credit.
    assert intent(api, emulator, payment["id"], refund).json() == {"outcome": "approved"}
    assert _states(emulator, payment["id"]) == [("Charge", "Success"), ("Refund", "Success")]
    # A second refund of the same amount, told apart by its merchantReference, is a new refund.
    other = intent(api, emulator, payment["id"], {**refund, "merchantReference": "RMA-2"})
    assert other.json() == {"outcome": "approved"}
    assert _states(emulator, payment["id"]) == [("Charge", "Success"), ("Refund", "Success"), ("Refund", "Success")]
