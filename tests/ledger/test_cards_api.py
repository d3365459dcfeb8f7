"""Balance, redeem, auth, validation and PIN rules of the ledger API (SQLite and PostgreSQL)."""

from __future__ import annotations

import httpx

from giftcard_connector.ledger import codes
from tests.ledger.support import LedgerClient, eur


def _unknown_code() -> str:
    return codes.format_code(codes.generate())


def _typo(code: str) -> str:
    normalized = codes.normalize(code)
    replacement = "2" if normalized[3] != "2" else "3"
    return normalized[:3] + replacement + normalized[4:]


async def test_health_needs_no_key_and_checks_the_database(ledger: LedgerClient) -> None:
    response = await ledger.http.get("/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


async def test_health_reports_whether_a_presented_key_is_valid(ledger: LedgerClient) -> None:
    good = await ledger.http.get("/v1/health", headers={"Authorization": f"Bearer {ledger.processor_key}"})
    bad = await ledger.http.get("/v1/health", headers={"Authorization": "Bearer nope"})
    assert good.json()["apiKey"] == "valid" and good.json()["role"] == "processor"
    assert bad.json()["apiKey"] == "invalid"


async def test_requests_without_a_valid_key_are_refused(ledger: LedgerClient) -> None:
    code = await ledger.issue()
    missing = await ledger.http.post("/v1/cards/balance", json={"code": code})
    wrong = await ledger.post("/v1/cards/balance", {"code": code}, key="glk_wrong")
    assert missing.status_code == wrong.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"


async def test_processor_key_cannot_use_admin_routes(ledger: LedgerClient) -> None:
    code = await ledger.issue()
    for path, body in (
        ("/v1/cards", {"amount": eur(100)}),
        ("/v1/cards/lookup", {"code": code}),
        ("/v1/cards/history", {"code": code}),
        ("/v1/cards/reload", {"code": code, "amount": eur(100)}),
        ("/v1/cards/adjust", {"code": code, "amount": eur(-100)}),
        ("/v1/cards/deactivate", {"code": code}),
    ):
        response = await ledger.post(path, body)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "forbidden"


async def test_issue_then_balance_and_redeem(ledger: LedgerClient) -> None:
    code = await ledger.issue(5000)
    assert len(codes.normalize(code)) == 20 and code.count("-") == 4
    balance = await ledger.post("/v1/cards/balance", {"code": code.lower().replace("-", " ")}, idempotency=None)
    assert balance.status_code == 200
    assert balance.json()["card"]["available"] == eur(5000)
    redeemed = await ledger.post("/v1/redemptions", {"code": code, "amount": eur(1200)})
    assert redeemed.status_code == 201
    assert redeemed.json()["id"].startswith("red_")
    assert redeemed.json()["card"]["balance"] == eur(3800)
    await ledger.assert_consistent(code, 3800)


async def test_admin_key_may_also_move_money(ledger: LedgerClient) -> None:
    code = await ledger.issue(5000)
    response = await ledger.admin("/v1/redemptions", {"code": code, "amount": eur(100)})
    assert response.status_code == 201


async def test_unknown_code_and_failed_check_symbol_are_not_found(ledger: LedgerClient) -> None:
    code = await ledger.issue()
    for candidate in (_unknown_code(), _typo(code), "not a code", "x" * 64):
        response = await ledger.post("/v1/cards/balance", {"code": candidate}, idempotency=None)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


async def test_check_symbol_catches_every_single_symbol_typo() -> None:
    code = codes.generate()
    for position in range(len(code)):
        for symbol in codes.ALPHABET:
            if symbol != code[position]:
                assert not codes.is_valid(code[:position] + symbol + code[position + 1 :])


async def test_wrong_pin_looks_exactly_like_an_unknown_card(ledger: LedgerClient) -> None:
    code = await ledger.issue(pin="1234")
    unknown = await ledger.post("/v1/cards/balance", {"code": _unknown_code(), "pin": "1234"}, idempotency=None)
    wrong = await ledger.post("/v1/cards/balance", {"code": code, "pin": "9999"}, idempotency=None)
    missing = await ledger.post("/v1/cards/balance", {"code": code}, idempotency=None)
    right = await ledger.post("/v1/cards/balance", {"code": code, "pin": "1234"}, idempotency=None)
    assert unknown.status_code == wrong.status_code == missing.status_code == 404
    assert unknown.json() == wrong.json() == missing.json()
    assert right.status_code == 200


async def test_pin_lockout_after_max_attempts_then_unlocks(ledger: LedgerClient) -> None:
    code = await ledger.issue(pin="1234")
    for _ in range(5):
        response = await ledger.post("/v1/cards/balance", {"code": code, "pin": "0000"}, idempotency=None)
        assert response.status_code == 404
    locked = await ledger.post("/v1/cards/balance", {"code": code, "pin": "1234"}, idempotency=None)
    assert locked.status_code == 404  # even the right PIN: guessing during the lock learns nothing
    redeem = await ledger.post("/v1/redemptions", {"code": code, "pin": "1234", "amount": eur(1)})
    assert redeem.status_code == 404
    lookup = await ledger.admin("/v1/cards/lookup", {"code": code}, idempotency=None)
    assert lookup.json()["card"]["pinLockedUntil"] is not None
    ledger.clock.advance(901)
    unlocked = await ledger.post("/v1/cards/balance", {"code": code, "pin": "1234"}, idempotency=None)
    assert unlocked.status_code == 200


async def test_correct_pin_resets_the_failure_count(ledger: LedgerClient) -> None:
    code = await ledger.issue(pin="1234")
    for _ in range(4):
        await ledger.post("/v1/cards/balance", {"code": code, "pin": "0000"}, idempotency=None)
    assert (await ledger.post("/v1/cards/balance", {"code": code, "pin": "1234"}, idempotency=None)).is_success
    for _ in range(4):
        await ledger.post("/v1/cards/balance", {"code": code, "pin": "0000"}, idempotency=None)
    assert (await ledger.post("/v1/cards/balance", {"code": code, "pin": "1234"}, idempotency=None)).is_success


async def test_expired_card_is_refused(ledger: LedgerClient) -> None:
    code = await ledger.issue(expires="2026-06-30")
    assert (await ledger.post("/v1/cards/balance", {"code": code}, idempotency=None)).status_code == 200
    ledger.clock.advance(30 * 86400)
    for response in (
        await ledger.post("/v1/cards/balance", {"code": code}, idempotency=None),
        await ledger.post("/v1/redemptions", {"code": code, "amount": eur(1)}),
    ):
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "card_expired"


async def test_issue_refuses_an_expiry_in_the_past(ledger: LedgerClient) -> None:
    response = await ledger.admin("/v1/cards", {"amount": eur(1), "expiresAt": "2020-01-01"})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "expiresAt"


async def test_disabled_card_is_refused_and_can_be_activated_again(ledger: LedgerClient) -> None:
    code = await ledger.issue()
    assert (await ledger.admin("/v1/cards/deactivate", {"code": code})).json()["card"]["status"] == "disabled"
    response = await ledger.post("/v1/redemptions", {"code": code, "amount": eur(1)})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "card_disabled"
    assert (await ledger.admin("/v1/cards/activate", {"code": code})).json()["card"]["status"] == "active"
    assert (await ledger.post("/v1/redemptions", {"code": code, "amount": eur(1)})).status_code == 201


async def test_redeem_in_another_currency_is_refused_with_the_card_currency(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000, "EUR")
    response = await ledger.post("/v1/redemptions", {"code": code, "amount": eur(100, "USD")})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "currency_mismatch"
    assert response.json()["error"]["details"]["cardCurrency"] == "EUR"


async def test_insufficient_and_zero_balance(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    too_much = await ledger.post("/v1/redemptions", {"code": code, "amount": eur(1001)})
    assert too_much.status_code == 422
    assert too_much.json()["error"]["code"] == "insufficient_funds"
    assert too_much.json()["error"]["details"]["available"] == eur(1000)
    assert (await ledger.post("/v1/redemptions", {"code": code, "amount": eur(1000)})).status_code == 201
    empty = await ledger.post("/v1/redemptions", {"code": code, "amount": eur(1)})
    assert empty.json()["error"]["details"]["available"] == eur(0)
    balance = await ledger.post("/v1/cards/balance", {"code": code}, idempotency=None)
    assert balance.json()["card"]["available"] == eur(0)
    await ledger.assert_consistent(code, 0)


async def test_reload_and_adjust(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    reloaded = await ledger.admin("/v1/cards/reload", {"code": code, "amount": eur(500)})
    assert reloaded.json()["card"]["balance"] == eur(1500)
    adjusted = await ledger.admin("/v1/cards/adjust", {"code": code, "amount": eur(-200), "note": "goodwill fix"})
    assert adjusted.json()["card"]["balance"] == eur(1300)
    below = await ledger.admin("/v1/cards/adjust", {"code": code, "amount": eur(-1301)})
    assert below.status_code == 422
    zero = await ledger.admin("/v1/cards/adjust", {"code": code, "amount": eur(0)})
    assert zero.status_code == 422
    history = await ledger.history(code)
    assert [entry["kind"] for entry in history["entries"]] == ["issue", "reload", "adjust"]
    assert history["entries"][-1]["note"] == "goodwill fix"
    await ledger.assert_consistent(code, 1300)


async def test_issue_several_cards(ledger: LedgerClient) -> None:
    response = await ledger.admin("/v1/cards", {"amount": eur(0, "JPY"), "count": 3, "pin": "123456"})
    cards = response.json()["cards"]
    assert len({card["code"] for card in cards}) == 3
    assert all(card["hasPin"] and card["balance"] == eur(0, "JPY") for card in cards)


async def _post_raw(ledger: LedgerClient, path: str, content: bytes) -> httpx.Response:
    headers = {
        "Authorization": f"Bearer {ledger.admin_key}",
        "Idempotency-Key": "raw",
        "Content-Type": "application/json",
    }
    return await ledger.http.post(path, content=content, headers=headers)


async def test_client_mistakes_are_4xx_with_an_error_body(ledger: LedgerClient) -> None:
    code = await ledger.issue()
    cases: list[tuple[bytes | dict[str, object] | list[object], int, str]] = [
        (b"{not json", 400, "invalid_json"),
        (b"", 422, "invalid_request"),
        ([], 422, "invalid_request"),
        ({"code": code}, 422, "invalid_request"),
        ({"code": code, "amount": {"centAmount": "100", "currencyCode": "EUR"}}, 422, "invalid_request"),
        ({"code": code, "amount": {"centAmount": 1.5, "currencyCode": "EUR"}}, 422, "invalid_request"),
        ({"code": code, "amount": {"centAmount": True, "currencyCode": "EUR"}}, 422, "invalid_request"),
        ({"code": code, "amount": eur(-5)}, 422, "invalid_request"),
        ({"code": code, "amount": eur(0)}, 422, "invalid_request"),
        ({"code": code, "amount": eur(10**13)}, 422, "invalid_request"),
        ({"code": code, "amount": eur(5, "eur")}, 422, "invalid_request"),
        ({"code": code, "amount": eur(5, "EURO")}, 422, "invalid_request"),
        ({"code": 12345, "amount": eur(5)}, 422, "invalid_request"),
        ({"code": code, "pin": 1234, "amount": eur(5)}, 422, "invalid_request"),
    ]
    for body, status, error_code in cases:
        if isinstance(body, bytes):
            response = await _post_raw(ledger, "/v1/redemptions", body)
        else:
            response = await ledger.post("/v1/redemptions", body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["code"] == error_code, body
    missing = await ledger.post("/v1/redemptions", {"code": code})
    assert missing.json()["error"]["details"]["field"] == "amount"
    await ledger.assert_consistent(code, 10_000)


async def test_unknown_routes_and_methods_answer_json(ledger: LedgerClient) -> None:
    assert (await ledger.http.get("/v1/nothing")).json()["error"]["code"] == "not_found"
    response = await ledger.http.get("/v1/redemptions")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


async def test_body_is_json_whatever_the_content_type(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    headers = {
        "Authorization": f"Bearer {ledger.processor_key}",
        "Idempotency-Key": "form",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    body = f'{{"code": "{code}", "amount": {{"centAmount": 5, "currencyCode": "EUR"}}}}'
    assert (await ledger.http.post("/v1/redemptions", content=body, headers=headers)).status_code == 201
    headers["Idempotency-Key"] = "form-2"
    garbage = await ledger.http.post("/v1/redemptions", content="nonsense", headers=headers)
    assert garbage.status_code == 400
    assert garbage.json()["error"]["code"] == "invalid_json"
