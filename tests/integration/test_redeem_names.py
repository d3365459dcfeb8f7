"""How a redemption is named (contract section 9): the Enabler's Idempotency-Key, else session + card +
amount; a twin that was refunded is not the same redemption; an intent never added to its cart resumes."""

from __future__ import annotations

import httpx

from giftcard_connector.giftcards.idempotency import redemption_key
from giftcard_connector.money import Money
from tests.support.flows import cart_payments, intent, money, new_session, redeem, transactions


def _redeem(api: httpx.Client, session_id: str, cent_amount: int, key: str | None = None) -> httpx.Response:
    headers = {"X-Session-Id": session_id}
    if key is not None:
        headers["Idempotency-Key"] = key
    body = {"code": "Valid-5000-EUR", "redeemAmount": money(cent_amount)}
    return api.post("/redeem", json=body, headers=headers)


def _charges(payment: dict, state: str = "Success") -> list[dict]:
    return [t for t in transactions(payment, "Charge") if t["state"] == state]


def test_redeem_again_after_a_cancel_is_a_new_redemption(api, emulator):
    cart, session_id = new_session(emulator, 5000)
    first = redeem(api, session_id, "Valid-5000-EUR", 1000)
    assert first.status_code == 200, first.text
    cancelled = intent(api, emulator, first.json()["paymentReference"], {"action": "cancelPayment"})
    assert cancelled.json() == {"outcome": "approved"}
    second = redeem(api, session_id, "Valid-5000-EUR", 1000)
    assert second.status_code == 200, second.text
    assert second.json()["paymentReference"] != first.json()["paymentReference"]
    payments = {p["id"]: p for p in cart_payments(emulator, cart["id"])}
    assert len(_charges(payments[second.json()["paymentReference"]])) == 1
    # The refunded twin no longer covers the cart; the new one does.
    third = redeem(api, session_id, "Valid-5000-EUR", 4001)
    assert third.status_code == 400
    assert third.json()["errors"][0]["maxCentAmount"] == 4000


def test_the_same_idempotency_key_charges_once(api, emulator):
    cart, session_id = new_session(emulator, 5000)
    first = _redeem(api, session_id, 1000, key="submit-1")
    again = _redeem(api, session_id, 1000, key="submit-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    [payment] = cart_payments(emulator, cart["id"])
    assert len(_charges(payment)) == 1


def test_another_idempotency_key_is_another_redemption_of_the_same_amount(api, emulator):
    cart, session_id = new_session(emulator, 5000)
    assert _redeem(api, session_id, 1000, key="submit-1").status_code == 200
    assert _redeem(api, session_id, 1000, key="submit-2").status_code == 200
    assert len(cart_payments(emulator, cart["id"])) == 2


def test_an_idempotency_key_reused_for_another_amount_is_refused_and_writes_nothing(api, emulator):
    cart, session_id = new_session(emulator, 5000)
    assert _redeem(api, session_id, 1000, key="submit-1").status_code == 200
    reused = _redeem(api, session_id, 2000, key="submit-1")
    assert reused.status_code == 400
    assert reused.json()["errors"][0]["field"] == "Idempotency-Key"
    assert len(cart_payments(emulator, cart["id"])) == 1


def test_a_malformed_idempotency_key_is_400(api, emulator):
    _, session_id = new_session(emulator, 5000)
    response = _redeem(api, session_id, 1000, key="x" * 300)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "Idempotency-Key"


def _orphan_intent(emulator, key: str) -> dict:
    """A payment a crashed Processor created with its young Initial charge of 10.00, never added to its cart."""
    intent = {
        "type": "Charge",
        "amount": money(1000),
        "state": "Initial",
        "interactionId": "intent-crashed",
        "timestamp": "2099-01-01T00:00:00.000Z",  # young: the intent may still be driven
    }
    draft = {
        "key": key,
        "amountPlanned": money(1000),
        "paymentMethodInfo": {"method": "giftcard", "paymentInterface": "giftcard-test"},
        "transactions": [intent],
    }
    return emulator.api("POST", "/payments", json=draft).json()


def test_an_intent_never_added_to_its_cart_is_resumed_by_the_next_submit(api, emulator):
    # A Processor died after creating the payment with its Initial charge, before addPayment.
    cart, session_id = new_session(emulator, 5000)
    key = redemption_key(session_id, "Valid-5000-EUR", Money(1000, "EUR"))
    orphan = _orphan_intent(emulator, key)
    response = redeem(api, session_id, "Valid-5000-EUR", 1000)
    assert response.status_code == 200, response.text
    assert response.json()["paymentReference"] == orphan["id"]
    [payment] = cart_payments(emulator, cart["id"])
    assert payment["id"] == orphan["id"]
    assert [(t["type"], t["state"]) for t in transactions(payment)] == [("Charge", "Success")]


def test_an_orphan_that_no_longer_fits_the_cart_is_not_driven(api, emulator):
    cart, session_id = new_session(emulator, 5000)
    assert redeem(api, session_id, "Valid-5000-EUR", 4500).status_code == 200
    key = redemption_key(session_id, "Valid-5000-EUR", Money(1000, "EUR"))
    orphan = _orphan_intent(emulator, key)
    response = redeem(api, session_id, "Valid-5000-EUR", 1000)
    assert response.status_code == 400
    # Never driven, never added; the reconciler records it Failure after the grace period.
    assert [(t["type"], t["state"]) for t in transactions(emulator.get_payment(orphan["id"]))] == [
        ("Charge", "Initial")
    ]
    assert orphan["id"] not in {p["id"] for p in cart_payments(emulator, cart["id"])}
