"""GET /v1/operations?idempotencyKey=: what became of a change, by its key, for the calling API key."""

from __future__ import annotations

from tests.ledger.support import LedgerClient, eur


async def _status(ledger: LedgerClient, key: str, api_key: str | None = None) -> dict[str, object]:
    response = await ledger.http.get(
        "/v1/operations",
        params={"idempotencyKey": key},
        headers={"Authorization": f"Bearer {api_key or ledger.processor_key}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def test_a_key_never_sent_is_unknown(ledger: LedgerClient) -> None:
    assert await _status(ledger, "pay-1:tx-1") == {"idempotencyKey": "pay-1:tx-1", "state": "unknown"}


async def test_a_redemption_is_reported_with_its_reference_and_amount(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    answer = await ledger.post("/v1/redemptions", {"code": code, "amount": eur(300)}, idempotency="pay-2:tx-1")
    assert answer.status_code == 201
    status = await _status(ledger, "pay-2:tx-1")
    assert status["state"] == "succeeded"
    assert status["statusCode"] == 201
    result = status["result"]
    assert isinstance(result, dict)
    assert result["id"] == answer.json()["id"]
    assert result["amount"] == eur(300)


async def test_a_refusal_is_reported_as_refused(ledger: LedgerClient) -> None:
    code = await ledger.issue(100)
    answer = await ledger.post("/v1/redemptions", {"code": code, "amount": eur(300)}, idempotency="pay-3:tx-1")
    assert answer.status_code == 422
    status = await _status(ledger, "pay-3:tx-1")
    assert status["state"] == "refused"
    result = status["result"]
    assert isinstance(result, dict)
    assert result["error"]["code"] == "insufficient_funds"


async def test_another_api_key_does_not_see_the_operation(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    await ledger.post("/v1/redemptions", {"code": code, "amount": eur(300)}, idempotency="pay-4:tx-1")
    # The admin key is another caller: keys are scoped per API key, like the idempotency records.
    assert (await _status(ledger, "pay-4:tx-1", ledger.admin_key))["state"] == "unknown"


async def test_asking_needs_an_api_key_and_a_key(ledger: LedgerClient) -> None:
    anonymous = await ledger.http.get("/v1/operations", params={"idempotencyKey": "x"})
    assert anonymous.status_code == 401
    missing = await ledger.http.get("/v1/operations", headers={"Authorization": f"Bearer {ledger.processor_key}"})
    assert missing.status_code == 422
    too_long = await ledger.http.get(
        "/v1/operations",
        params={"idempotencyKey": "k" * 256},
        headers={"Authorization": f"Bearer {ledger.processor_key}"},
    )
    assert too_long.status_code == 400
