"""The typed API against a real Processor: bodies, the contract's 400s, the served OpenAPI document."""

from __future__ import annotations

import json

import pytest

from giftcard_devkit.openapi import DEFAULT_PATH
from tests.support.flows import new_session


@pytest.fixture
def session_id(emulator):
    return new_session(emulator, 10000, "EUR")[1]


def test_a_json_body_without_a_content_type_is_read_as_json(api, session_id):
    answer = api.post("/balance", content=b'{"code": "Valid-5000-EUR"}', headers={"X-Session-Id": session_id})
    assert answer.status_code == 200, answer.text
    assert answer.json()["amount"] == {"centAmount": 5000, "currencyCode": "EUR"}


def test_a_body_sent_as_something_else_than_json_is_invalid_json_input(api, session_id):
    answer = api.post(
        "/balance",
        content=b'{"code": "Valid-5000-EUR"}',
        headers={"X-Session-Id": session_id, "Content-Type": "text/plain"},
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["code"] == "InvalidJsonInput"


def test_the_session_is_checked_before_the_body(api):
    answer = api.post("/balance", json={"code": 7}, headers={"X-Session-Id": "no-such-session"})
    assert answer.status_code == 401
    assert answer.json()["message"] == "Session is not active"


def test_a_bad_payment_id_is_an_invalid_field_named_as_in_the_url(api, emulator):
    token = emulator.mint_token(scope=f"manage_checkout_payment_intents:{emulator.project_key}")
    answer = api.post(
        "/operations/payment-intents/not%20an%20id",
        json={"actions": [{"action": "cancelPayment"}]},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert (error["code"], error["field"]) == ("InvalidField", "paymentId")


def test_the_served_openapi_document_is_the_committed_one(api):
    served = api.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == json.loads(DEFAULT_PATH.read_text())
