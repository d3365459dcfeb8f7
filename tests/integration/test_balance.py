"""POST /balance with the mock provider: the six BalanceType states and bad bodies."""

from __future__ import annotations

import pytest

from tests.support.flows import balance, new_session, redeem


@pytest.fixture
def session_id(emulator):
    return new_session(emulator, 10000, "EUR")[1]


def test_valid_card(api, session_id):
    response = balance(api, session_id, "Valid-5000-EUR")
    assert response.status_code == 200
    assert response.json() == {"status": {"state": "Valid"}, "amount": {"centAmount": 5000, "currencyCode": "EUR"}}


@pytest.mark.parametrize(
    ("code", "status", "state"),
    [
        ("NotFound", 404, "NotFound"),
        ("Expired", 400, "Expired"),
        ("Valid-5000-USD", 400, "CurrencyNotMatch"),
        ("Valid-0-EUR", 400, "ZeroBalance"),
        ("GenericError", 400, "GenericError"),
        ("something-else", 400, "GenericError"),
    ],
)
def test_card_states(api, session_id, code, status, state):
    response = balance(api, session_id, code)
    assert response.status_code == status
    body = response.json()
    assert body["status"]["state"] == state
    assert body["status"]["errors"][0]["code"] == state
    assert body["status"]["errors"][0]["message"]


@pytest.mark.parametrize(
    "code",
    ["X" * 129, "Valid-5000-EUR" + "0" * 500, "   ", "Valid-5000-EUR\u0000", "Valid-5000\nEUR"],
    ids=["129-chars", "long-valid-prefix", "blank", "nul", "newline"],
)
def test_a_code_no_card_can_have_is_not_found(api, emulator, session_id, code):
    """Contract 4: a code that cannot exist answers like an unknown card (not GenericError, not 400)."""
    for response in (balance(api, session_id, code), redeem(api, session_id, code, 100)):
        assert response.status_code == 404, response.text
        assert response.json()["status"]["state"] == "NotFound"
        assert response.json()["status"]["errors"][0]["code"] == "NotFound"
    cart = emulator.get_cart(emulator.get_session(session_id)["activeCart"]["cartRef"]["id"])
    assert not (cart.get("paymentInfo") or {}).get("payments")  # nothing written for it


def test_expiring_code_reports_its_balance(api, session_id):
    response = balance(api, session_id, "Valid-005000-EUR")
    assert response.status_code == 200
    assert response.json()["amount"]["centAmount"] == 5000


def test_currency_is_compared_with_the_cart(api, emulator):
    _, session_id = new_session(emulator, 1000, "USD")
    assert balance(api, session_id, "Valid-5000-USD").status_code == 200
    assert balance(api, session_id, "Valid-5000-EUR").json()["status"]["state"] == "CurrencyNotMatch"


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "InvalidJsonInput"),
        (b"not json", "InvalidJsonInput"),
        (b"[1, 2]", "InvalidJsonInput"),
        (b"{}", "RequiredField"),
        (b'{"code": 123}', "InvalidField"),
        (b'{"code": ""}', "InvalidField"),
        (b'{"code": "Valid-1-EUR", "pin": 1234}', "InvalidField"),
    ],
)
def test_bad_bodies_are_400(api, session_id, content, code):
    response = api.post(
        "/balance", content=content, headers={"X-Session-Id": session_id, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["statusCode"] == 400
    assert body["errors"][0]["code"] == code
    if code == "RequiredField":
        assert body["errors"][0]["field"] == "code"


def test_balance_makes_at_most_two_commercetools_calls(api, emulator, session_id):
    balance(api, session_id, "Valid-5000-EUR")  # token already cached after this
    emulator.reset_stats()
    assert balance(api, session_id, "Valid-5000-EUR").status_code == 200
    assert sum(emulator.stats().values()) <= 2, emulator.stats()


def test_unknown_route_is_a_json_404(api):
    response = api.get("/no-such-route")
    assert response.status_code == 404
    assert response.json()["statusCode"] == 404


def test_health_needs_no_auth(api):
    assert api.get("/health").json() == {"status": "ok"}
