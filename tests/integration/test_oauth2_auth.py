"""OAuth2 introspection on POST /operations/payment-intents (contract section 3)."""

from __future__ import annotations

import pytest

from tests.support.flows import new_session, redeem

CANCEL = {"actions": [{"action": "cancelPayment"}]}


@pytest.fixture
def payment_id(api, emulator):
    _, session_id = new_session(emulator)
    return redeem(api, session_id, "Valid-5000-EUR", 1000).json()["paymentReference"]


def _call(api, payment_id, authorization=None):
    headers = {} if authorization is None else {"Authorization": authorization}
    return api.post(f"/operations/payment-intents/{payment_id}", json=CANCEL, headers=headers)


def test_missing_header_is_access_denied(api, payment_id):
    response = _call(api, payment_id)
    assert response.status_code == 401
    assert response.json()["error"] == "access_denied"


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "token"])
def test_malformed_header_is_invalid_request(api, payment_id, header):
    response = _call(api, payment_id, header)
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_request"


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(lambda emu: emu.mint_token(active=False), id="inactive"),
        pytest.param(lambda emu: "unknown-token", id="unknown"),
        pytest.param(lambda emu: emu.mint_token(scope=f"view_orders:{emu.project_key}"), id="wrong-scope"),
        pytest.param(
            lambda emu: emu.mint_token(scope="manage_checkout_payment_intents:other-project"), id="other-project"
        ),
        pytest.param(lambda emu: emu.mint_token(scope="manage_project:other-project"), id="other-project-admin"),
        pytest.param(lambda emu: emu.mint_token(scope="manage_checkout_payment_intents"), id="no-project-key"),
    ],
)
def test_unacceptable_tokens_are_invalid_token(api, emulator, payment_id, make_token):
    response = _call(api, payment_id, f"Bearer {make_token(emulator)}")
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"


@pytest.mark.parametrize("scope", ["manage_checkout_payment_intents", "manage_project"])
def test_accepted_scopes(api, emulator, payment_id, scope):
    token = emulator.mint_token(scope=f"{scope}:{emulator.project_key}")
    response = _call(api, payment_id, f"Bearer {token}")
    assert response.status_code == 200, response.text
    assert response.json() == {"outcome": "approved"}


def test_introspection_failure_is_503_never_allowed(api, emulator, payment_id):
    token = emulator.mint_token()
    emulator.set_faults(introspect=500)
    try:
        response = _call(api, payment_id, f"Bearer {token}")
    finally:
        emulator.clear_faults()
    assert response.status_code == 503
    payment = emulator.get_payment(payment_id)
    assert [t["type"] for t in payment["transactions"]] == ["Charge"], "nothing may be written when auth fails"
