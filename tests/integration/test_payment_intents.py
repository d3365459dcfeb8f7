"""POST /operations/payment-intents: every row of the contract's table, in both capture modes."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from giftcard_devkit.processes import processor
from tests.support.flows import intent, money, new_session, redeem, transactions


@pytest.fixture(scope="module")
def authorize_api(emulator) -> Iterator[httpx.Client]:
    env = {**emulator.processor_env(), "GIFTCARD_CAPTURE_MODE": "authorize", "LOG_LEVEL": "WARNING"}
    with processor(env) as server, httpx.Client(base_url=server.base_url, timeout=15) as client:
        yield client


def _charged(api, emulator, amount=3000):
    _, session_id = new_session(emulator, 10000)
    response = redeem(api, session_id, "Valid-5000-EUR", amount)
    assert response.status_code == 200, response.text
    return response.json()["paymentReference"]


def _held(authorize_api, emulator, amount=3000):
    return _charged(authorize_api, emulator, amount)


def _states(emulator, payment_id):
    return [(t["type"], t["state"]) for t in transactions(emulator.get_payment(payment_id))]


# -- charged payments (direct mode) ----------------------------------------------------------


def test_capture_of_a_charged_payment_is_approved_and_writes_nothing(api, emulator):
    payment_id = _charged(api, emulator)
    response = intent(api, emulator, payment_id, {"action": "capturePayment", "amount": money(3000)})
    assert response.json() == {"outcome": "approved"}
    assert _states(emulator, payment_id) == [("Charge", "Success")]


def test_partial_refunds_up_to_what_was_charged(api, emulator):
    payment_id = _charged(api, emulator, 3000)
    first = intent(api, emulator, payment_id, {"action": "refundPayment", "amount": money(1000)})
    assert first.json() == {"outcome": "approved"}
    too_much = intent(api, emulator, payment_id, {"action": "refundPayment", "amount": money(2001)})
    assert too_much.status_code == 400
    assert too_much.json()["errors"][0]["maxCentAmount"] == 2000
    rest = intent(api, emulator, payment_id, {"action": "refundPayment", "amount": money(2000)})
    assert rest.json() == {"outcome": "approved"}
    more = intent(api, emulator, payment_id, {"action": "refundPayment", "amount": money(1)})
    assert more.status_code == 400
    payment = emulator.get_payment(payment_id)
    refunds = [t for t in transactions(payment, "Refund") if t["state"] == "Success"]
    assert sum(t["amount"]["centAmount"] for t in refunds) == 3000
    assert all(t["interactionId"].startswith("mock-refund-") for t in refunds)


def test_refund_in_another_currency_is_refused(api, emulator):
    payment_id = _charged(api, emulator)
    response = intent(api, emulator, payment_id, {"action": "refundPayment", "amount": money(100, "USD")})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "amount.currencyCode"


def test_cancel_of_a_charged_payment_refunds_it_fully(api, emulator):
    payment_id = _charged(api, emulator, 3000)
    intent(api, emulator, payment_id, {"action": "refundPayment", "amount": money(500)})
    response = intent(api, emulator, payment_id, {"action": "cancelPayment"})
    assert response.json() == {"outcome": "approved"}
    refunds = transactions(emulator.get_payment(payment_id), "Refund")
    assert [t["amount"]["centAmount"] for t in refunds] == [500, 2500]


def test_reverse_of_a_charged_payment_refunds_what_is_left(api, emulator):
    payment_id = _charged(api, emulator, 3000)
    assert intent(api, emulator, payment_id, {"action": "reversePayment"}).json() == {"outcome": "approved"}
    assert _states(emulator, payment_id) == [("Charge", "Success"), ("Refund", "Success")]
    # Nothing left: a second reverse approves and writes nothing.
    assert intent(api, emulator, payment_id, {"action": "reversePayment"}).json() == {"outcome": "approved"}
    assert len(transactions(emulator.get_payment(payment_id))) == 2


def test_provider_failure_is_recorded_as_failure_and_rejected(api, emulator):
    payment_id = _charged(api, emulator, 3000)
    payment = emulator.get_payment(payment_id)
    # A reference the mock did not issue makes its refund fail.
    response = emulator.api(
        "POST",
        f"/payments/{payment_id}",
        json={
            "version": payment["version"],
            "actions": [
                {
                    "action": "changeTransactionInteractionId",
                    "transactionId": payment["transactions"][0]["id"],
                    "interactionId": "foreign-ref",
                },
                {"action": "setInterfaceId", "interfaceId": "foreign-ref"},
            ],
        },
    )
    assert response.status_code == 200, response.text
    result = intent(api, emulator, payment_id, {"action": "refundPayment", "amount": money(1000)})
    assert result.json() == {"outcome": "rejected"}
    assert _states(emulator, payment_id) == [("Charge", "Success"), ("Refund", "Failure")]


# -- payments where nothing succeeded --------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "outcome"),
    [
        ({"action": "cancelPayment"}, "approved"),
        ({"action": "reversePayment"}, "approved"),
        ({"action": "capturePayment", "amount": money(1000)}, "rejected"),
        ({"action": "refundPayment", "amount": money(1000)}, "rejected"),
    ],
)
def test_nothing_succeeded(api, emulator, action, outcome):
    cart, session_id = new_session(emulator, 10000)
    assert redeem(api, session_id, "Valid-005000-EUR", 1000).status_code == 400
    payment_id = emulator.get_cart(cart["id"])["paymentInfo"]["payments"][0]["id"]
    response = intent(api, emulator, payment_id, action)
    assert response.json() == {"outcome": outcome}
    assert _states(emulator, payment_id) == [("Charge", "Failure")]


def test_unknown_payment_is_404(api, emulator):
    response = intent(api, emulator, "00000000-0000-0000-0000-000000000000", {"action": "cancelPayment"})
    assert response.status_code == 404
    assert isinstance(response.json()["errors"], list)


# -- held payments (authorize mode) ----------------------------------------------------------


def test_authorize_mode_redeem_records_an_authorization(authorize_api, emulator):
    payment_id = _held(authorize_api, emulator)
    assert _states(emulator, payment_id) == [("Authorization", "Success")]


def test_capture_of_a_hold(authorize_api, emulator):
    payment_id = _held(authorize_api, emulator, 3000)
    response = intent(authorize_api, emulator, payment_id, {"action": "capturePayment", "amount": money(3000)})
    assert response.json() == {"outcome": "approved"}
    assert _states(emulator, payment_id) == [("Authorization", "Success"), ("Charge", "Success")]
    again = intent(authorize_api, emulator, payment_id, {"action": "capturePayment", "amount": money(3000)})
    assert again.json() == {"outcome": "approved"}
    assert len(transactions(emulator.get_payment(payment_id))) == 2, "a second capture writes nothing"


def test_capture_above_the_hold_is_refused(authorize_api, emulator):
    payment_id = _held(authorize_api, emulator, 3000)
    response = intent(authorize_api, emulator, payment_id, {"action": "capturePayment", "amount": money(3001)})
    assert response.status_code == 400
    assert _states(emulator, payment_id) == [("Authorization", "Success")]


@pytest.mark.parametrize("action", ["cancelPayment", "reversePayment"])
def test_cancel_and_reverse_of_a_hold_void_it(authorize_api, emulator, action):
    payment_id = _held(authorize_api, emulator)
    assert intent(authorize_api, emulator, payment_id, {"action": action}).json() == {"outcome": "approved"}
    assert _states(emulator, payment_id) == [("Authorization", "Success"), ("CancelAuthorization", "Success")]
    capture = intent(authorize_api, emulator, payment_id, {"action": "capturePayment", "amount": money(100)})
    assert capture.json() == {"outcome": "rejected"}


def test_refund_of_a_hold_is_rejected(authorize_api, emulator):
    payment_id = _held(authorize_api, emulator)
    response = intent(authorize_api, emulator, payment_id, {"action": "refundPayment", "amount": money(100)})
    assert response.json() == {"outcome": "rejected"}
    assert _states(emulator, payment_id) == [("Authorization", "Success")]


def test_a_cancelled_hold_no_longer_counts_towards_the_cart(authorize_api, emulator):
    _, session_id = new_session(emulator, 5000)
    payment_id = redeem(authorize_api, session_id, "Valid-5000-EUR", 5000).json()["paymentReference"]
    assert redeem(authorize_api, session_id, "Valid-5000-EUR", 1).status_code == 400
    intent(authorize_api, emulator, payment_id, {"action": "cancelPayment"})
    assert redeem(authorize_api, session_id, "Valid-4000-EUR", 4000).status_code == 200


# -- bad bodies ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "InvalidJsonInput"),
        (b"nope", "InvalidJsonInput"),
        (b"[]", "InvalidJsonInput"),
        (b"{}", "RequiredField"),
        (b'{"actions": {}}', "InvalidField"),
        (b'{"actions": []}', "InvalidField"),
        (b'{"actions": [{"action": "cancelPayment"}, {"action": "cancelPayment"}]}', "InvalidField"),
        (b'{"actions": [{"action": "explodePayment"}]}', "InvalidField"),
        (b'{"actions": [{}]}', "RequiredField"),
        (b'{"actions": ["cancelPayment"]}', "InvalidField"),
        (b'{"actions": [{"action": "capturePayment"}]}', "RequiredField"),
        (
            b'{"actions": [{"action": "refundPayment", "amount": {"centAmount": "1", "currencyCode": "EUR"}}]}',
            "InvalidField",
        ),
    ],
)
def test_bad_bodies_are_400(api, emulator, body, code):
    payment_id = _charged(api, emulator)
    token = emulator.mint_token()
    response = api.post(
        f"/operations/payment-intents/{payment_id}",
        content=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["code"] == code
    assert _states(emulator, payment_id) == [("Charge", "Success")]


@pytest.mark.parametrize("amount", [0, -5])
def test_non_positive_amounts_are_400(api, emulator, amount):
    payment_id = _charged(api, emulator)
    response = intent(api, emulator, payment_id, {"action": "refundPayment", "amount": money(amount)})
    assert response.status_code == 400
