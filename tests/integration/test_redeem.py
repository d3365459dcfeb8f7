"""POST /redeem: the server-side amount rules, the commercetools record, and no double charge."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.support.flows import cart_payments, money, new_session, redeem, transactions


def test_redeem_records_a_giftcard_payment_with_one_success_charge(api, emulator):
    cart, session_id = new_session(emulator, 10000, metadata={"paymentInterface": "my-giftcards"})
    response = redeem(api, session_id, "Valid-5000-EUR", 3000)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["result"] == "Success"
    [payment] = cart_payments(emulator, cart["id"])
    assert payment["id"] == body["paymentReference"]
    assert payment["paymentMethodInfo"]["method"] == "giftcard"
    assert payment["paymentMethodInfo"]["paymentInterface"] == "my-giftcards"
    assert payment["amountPlanned"] == {**money(3000), "type": "centPrecision", "fractionDigits": 2}
    assert payment["interfaceId"] == body["redemptionId"]
    assert payment["anonymousId"] == cart["anonymousId"]
    [charge] = transactions(payment)
    assert charge["type"] == "Charge"
    assert charge["state"] == "Success"
    assert charge["interactionId"] == body["redemptionId"]
    assert charge["amount"]["centAmount"] == 3000


def test_payment_interface_defaults_to_the_provider_name(api, emulator):
    cart = emulator.create_cart(5000)
    session_id = emulator.create_session(cart["id"], {})
    redeem(api, session_id, "Valid-5000-EUR", 1000)
    [payment] = cart_payments(emulator, cart["id"])
    assert payment["paymentMethodInfo"]["paymentInterface"] == "mock-giftcard-provider"


def test_customer_cart_links_the_customer(api, emulator):
    cart = emulator.create_cart(5000, customer_id="customer-1")
    session_id = emulator.create_session(cart["id"], {})
    assert redeem(api, session_id, "Valid-5000-EUR", 1000).status_code == 200
    [payment] = cart_payments(emulator, cart["id"])
    assert payment["customer"] == {"typeId": "customer", "id": "customer-1"}


def test_redeem_makes_at_most_five_commercetools_calls(api, emulator):
    _, session_id = new_session(emulator, 10000)
    redeem(api, session_id, "Valid-5000-EUR", 100)  # warms the token cache
    _, session_id = new_session(emulator, 10000)
    emulator.reset_stats()
    assert redeem(api, session_id, "Valid-5000-EUR", 1000).status_code == 200
    assert sum(emulator.stats().values()) <= 5, emulator.stats()


@pytest.mark.parametrize(
    ("code", "state"),
    [("Valid-005000-EUR", "Expired")],
)
def test_provider_refusal_leaves_a_failure_transaction(api, emulator, code, state):
    cart, session_id = new_session(emulator, 10000)
    response = redeem(api, session_id, code, 1000)
    assert response.status_code == 400
    assert response.json()["status"]["state"] == state
    [payment] = cart_payments(emulator, cart["id"])
    assert [(t["type"], t["state"]) for t in transactions(payment)] == [("Charge", "Failure")]


@pytest.mark.parametrize(
    ("code", "status", "state"),
    [
        ("Expired", 400, "Expired"),
        ("NotFound", 404, "NotFound"),
        ("Valid-0-EUR", 400, "ZeroBalance"),
        ("Valid-5000-USD", 400, "CurrencyNotMatch"),
        ("GenericError", 400, "GenericError"),
    ],
)
def test_unusable_cards_write_nothing(api, emulator, code, status, state):
    cart, session_id = new_session(emulator, 10000)
    response = redeem(api, session_id, code, 1000)
    assert response.status_code == status
    assert response.json()["status"]["state"] == state
    assert cart_payments(emulator, cart["id"]) == []


@pytest.mark.parametrize(
    ("amount", "currency", "field"),
    [
        (0, "EUR", "redeemAmount.centAmount"),
        (-100, "EUR", "redeemAmount.centAmount"),
        (1000, "USD", "redeemAmount.currencyCode"),
        (10001, "EUR", "redeemAmount.centAmount"),  # more than the cart owes
        (6000, "EUR", "redeemAmount.centAmount"),  # more than the card holds
    ],
)
def test_amount_rules_refuse_and_write_nothing(api, emulator, amount, currency, field):
    cart, session_id = new_session(emulator, 10000)
    response = redeem(api, session_id, "Valid-5000-EUR", amount, currency)
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert error["code"] == "InvalidField"
    assert error["field"] == field
    assert cart_payments(emulator, cart["id"]) == []


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"", "InvalidJsonInput"),
        (b"{", "InvalidJsonInput"),
        (b'"text"', "InvalidJsonInput"),
        (b'{"code": "Valid-5000-EUR"}', "RequiredField"),
        (b'{"redeemAmount": {"centAmount": 100, "currencyCode": "EUR"}}', "RequiredField"),
        (b'{"code": "Valid-5000-EUR", "redeemAmount": {"currencyCode": "EUR"}}', "RequiredField"),
        (b'{"code": "Valid-5000-EUR", "redeemAmount": {"centAmount": "100", "currencyCode": "EUR"}}', "InvalidField"),
        (b'{"code": "Valid-5000-EUR", "redeemAmount": {"centAmount": 10.5, "currencyCode": "EUR"}}', "InvalidField"),
        (b'{"code": "Valid-5000-EUR", "redeemAmount": {"centAmount": 100, "currencyCode": "euro"}}', "InvalidField"),
        (b'{"code": "Valid-5000-EUR", "redeemAmount": 100}', "InvalidField"),
        (b'{"code": ["Valid-5000-EUR"], "redeemAmount": {"centAmount": 100, "currencyCode": "EUR"}}', "InvalidField"),
    ],
)
def test_bad_bodies_are_400_and_write_nothing(api, emulator, body, code):
    cart, session_id = new_session(emulator, 10000)
    response = api.post(
        "/redeem", content=body, headers={"X-Session-Id": session_id, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["code"] == code
    assert cart_payments(emulator, cart["id"]) == []


def test_earlier_payments_lower_what_is_owed(api, emulator):
    cart, session_id = new_session(emulator, 5000)
    assert redeem(api, session_id, "Valid-3000-EUR", 3000).status_code == 200
    too_much = redeem(api, session_id, "Valid-9000-EUR", 2001)
    assert too_much.status_code == 400
    assert too_much.json()["errors"][0]["maxCentAmount"] == 2000
    assert redeem(api, session_id, "Valid-9000-EUR", 2000).status_code == 200
    assert redeem(api, session_id, "Valid-9000-EUR", 1).status_code == 400
    assert len(cart_payments(emulator, cart["id"])) == 2


def test_repeated_submit_charges_once(api, emulator):
    cart, session_id = new_session(emulator, 10000)
    first = redeem(api, session_id, "Valid-5000-EUR", 2500)
    second = redeem(api, session_id, "Valid-5000-EUR", 2500)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    [payment] = cart_payments(emulator, cart["id"])
    assert len(transactions(payment, "Charge")) == 1


def test_retry_after_a_refusal_is_a_new_attempt(api, emulator):
    cart, session_id = new_session(emulator, 10000)
    assert redeem(api, session_id, "Valid-005000-EUR", 1000).status_code == 400
    assert redeem(api, session_id, "Valid-005000-EUR", 1000).status_code == 400
    payments = cart_payments(emulator, cart["id"])
    assert len(payments) == 2
    assert all([t["state"] for t in transactions(p)] == ["Failure"] for p in payments)


def test_concurrent_submits_charge_once(processor_server, emulator):
    cart, session_id = new_session(emulator, 10000)

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=processor_server.base_url, timeout=30) as client:
            body = {"code": "Valid-5000-EUR", "redeemAmount": money(4000)}
            calls = [client.post("/redeem", json=body, headers={"X-Session-Id": session_id}) for _ in range(10)]
            return await asyncio.gather(*calls)

    responses = asyncio.run(fire())
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert len({r.json()["paymentReference"] for r in responses}) == 1
    payments = cart_payments(emulator, cart["id"])
    charges = [t for p in payments for t in transactions(p, "Charge") if t["state"] == "Success"]
    assert len(charges) == 1


def test_concurrent_different_amounts_never_overpay_the_cart(processor_server, emulator):
    cart, session_id = new_session(emulator, 5000)

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=processor_server.base_url, timeout=30) as client:
            calls = [
                client.post(
                    "/redeem",
                    json={"code": "Valid-9000-EUR", "redeemAmount": money(2000 + i)},
                    headers={"X-Session-Id": session_id},
                )
                for i in range(6)
            ]
            return await asyncio.gather(*calls)

    responses = asyncio.run(fire())
    assert {r.status_code for r in responses} <= {200, 400}
    payments = cart_payments(emulator, cart["id"])
    paid = sum(
        t["amount"]["centAmount"] for p in payments for t in transactions(p, "Charge") if t["state"] == "Success"
    )
    assert 0 < paid <= 5000


def test_concurrent_submits_to_two_processor_copies_charge_once(processor_server, emulator):
    from giftcard_devkit.processes import processor

    cart, session_id = new_session(emulator, 10000)
    with processor({**emulator.processor_env(), "LOG_LEVEL": "WARNING"}) as second:

        async def fire() -> list[httpx.Response]:
            body = {"code": "Valid-5000-EUR", "redeemAmount": money(4000)}
            async with (
                httpx.AsyncClient(base_url=processor_server.base_url, timeout=30) as one,
                httpx.AsyncClient(base_url=second.base_url, timeout=30) as two,
            ):
                calls = [
                    (one if i % 2 else two).post("/redeem", json=body, headers={"X-Session-Id": session_id})
                    for i in range(10)
                ]
                return await asyncio.gather(*calls)

        responses = asyncio.run(fire())
    # A copy that loses the race answers 409 (in progress) or the first one's result; never a second charge.
    assert {r.status_code for r in responses} <= {200, 409}, [r.text for r in responses]
    assert any(r.status_code == 200 for r in responses)
    payments = cart_payments(emulator, cart["id"])
    charges = [t for p in payments for t in transactions(p, "Charge") if t["state"] == "Success"]
    assert len(charges) == 1
