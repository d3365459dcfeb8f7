"""Holds, captures, voids, refunds and idempotency keys (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from giftcard_connector.ledger.db import Database
from tests.ledger.support import LedgerClient, eur


async def _hold(ledger: LedgerClient, code: str, amount: int) -> str:
    response = await ledger.post("/v1/holds", {"code": code, "amount": eur(amount)})
    assert response.status_code == 201, response.text
    hold_id: str = response.json()["id"]
    return hold_id


async def _available(ledger: LedgerClient, code: str) -> int:
    response = await ledger.post("/v1/cards/balance", {"code": code}, idempotency=None)
    available: int = response.json()["card"]["available"]["centAmount"]
    return available


async def test_split_captures_debit_up_to_the_hold_and_available_counts_only_the_rest(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    hold_id = await _hold(ledger, code, 700)
    assert await _available(ledger, code) == 300
    assert (await ledger.post("/v1/redemptions", {"code": code, "amount": eur(301)})).status_code == 422
    first = await ledger.post(f"/v1/holds/{hold_id}/capture", {"amount": eur(500)}, idempotency="cap-1")
    assert first.status_code == 201
    assert first.json()["holdId"] == hold_id
    # Balance 500, the hold keeps its uncaptured 200: available 300, as before the capture.
    assert first.json()["card"]["balance"] == eur(500)
    assert first.json()["card"]["available"] == eur(300)
    assert await _available(ledger, code) == 300
    # A direct debit (ledger_redeem on PostgreSQL) sees the same 300, not 500 - 700.
    assert (await ledger.post("/v1/redemptions", {"code": code, "amount": eur(301)})).status_code == 422
    over = await ledger.post(f"/v1/holds/{hold_id}/capture", {"amount": eur(201)})
    assert over.status_code == 422
    assert over.json()["error"]["code"] == "amount_exceeds_hold"
    second = await ledger.post(f"/v1/holds/{hold_id}/capture", {"amount": eur(200)}, idempotency="cap-2")
    assert second.status_code == 201
    assert second.json()["id"] != first.json()["id"]
    assert second.json()["card"]["available"] == eur(300)
    # Each capture replays its own stored answer and debits nothing more.
    replay = await ledger.post(f"/v1/holds/{hold_id}/capture", {"amount": eur(500)}, idempotency="cap-1")
    assert replay.json() == first.json()
    third = await ledger.post(f"/v1/holds/{hold_id}/capture", {"amount": eur(1)})
    assert third.status_code == 409
    assert third.json()["error"]["code"] == "hold_not_active"
    assert (await ledger.post(f"/v1/holds/{hold_id}/void")).status_code == 409  # fully captured
    await ledger.assert_consistent(code, 300)
    # Refunds stay per capture: each redemption gives back at most what it debited.
    refund = await ledger.post(f"/v1/redemptions/{second.json()['id']}/refunds", {"amount": eur(201)})
    assert refund.json()["error"]["code"] == "refund_exceeds_redemption"
    refund = await ledger.post(f"/v1/redemptions/{first.json()['id']}/refunds", {"amount": eur(500)})
    assert refund.status_code == 201
    await ledger.assert_consistent(code, 800)


async def test_void_after_a_partial_capture_releases_only_the_rest(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    hold_id = await _hold(ledger, code, 700)
    captured = await ledger.post(f"/v1/holds/{hold_id}/capture", {"amount": eur(250)})
    assert captured.status_code == 201
    assert await _available(ledger, code) == 300
    voided = await ledger.post(f"/v1/holds/{hold_id}/void")
    assert voided.status_code == 200
    assert voided.json()["status"] == "voided"
    assert voided.json()["capturedAmount"] == eur(250)
    assert voided.json()["card"]["available"] == eur(750)
    assert (await ledger.post(f"/v1/holds/{hold_id}/capture", {"amount": eur(10)})).status_code == 409
    await ledger.assert_consistent(code, 750)
    assert await _available(ledger, code) == 750


async def test_capture_without_amount_takes_the_whole_hold(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    hold_id = await _hold(ledger, code, 400)
    captured = await ledger.post(f"/v1/holds/{hold_id}/capture")
    assert captured.status_code == 201
    assert captured.json()["amount"] == eur(400)
    await ledger.assert_consistent(code, 600)


async def test_capture_more_than_the_hold_is_refused(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    hold_id = await _hold(ledger, code, 400)
    response = await ledger.post(f"/v1/holds/{hold_id}/capture", {"amount": eur(401)})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "amount_exceeds_hold"
    await ledger.assert_consistent(code, 1000)


async def test_void_releases_and_a_voided_hold_cannot_be_captured(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    hold_id = await _hold(ledger, code, 400)
    voided = await ledger.post(f"/v1/holds/{hold_id}/void")
    assert voided.status_code == 200 and voided.json()["status"] == "voided"
    assert await _available(ledger, code) == 1000
    assert (await ledger.post(f"/v1/holds/{hold_id}/void")).status_code == 200  # voiding twice is harmless
    assert (await ledger.post(f"/v1/holds/{hold_id}/capture")).status_code == 409
    await ledger.assert_consistent(code, 1000)


async def test_captured_hold_cannot_be_voided(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    hold_id = await _hold(ledger, code, 400)
    await ledger.post(f"/v1/holds/{hold_id}/capture")
    response = await ledger.post(f"/v1/holds/{hold_id}/void")
    assert response.status_code == 409


async def test_expired_hold_releases_itself_and_cannot_be_captured(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    hold_id = await _hold(ledger, code, 900)
    assert await _available(ledger, code) == 100
    ledger.clock.advance(7 * 86400 + 1)
    assert await _available(ledger, code) == 1000
    response = await ledger.post(f"/v1/holds/{hold_id}/capture")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "hold_expired"
    assert (await ledger.post("/v1/redemptions", {"code": code, "amount": eur(1000)})).status_code == 201
    await ledger.assert_consistent(code, 0)


async def test_unknown_hold_and_redemption_are_not_found(ledger: LedgerClient) -> None:
    for path in ("/v1/holds/hld_nope/capture", "/v1/holds/hld_nope/void"):
        assert (await ledger.post(path)).status_code == 404
    response = await ledger.post("/v1/redemptions/red_nope/refunds", {"amount": eur(1)})
    assert response.status_code == 404


async def test_refunds_never_exceed_what_was_redeemed(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    redemption_id = (await ledger.post("/v1/redemptions", {"code": code, "amount": eur(800)})).json()["id"]
    first = await ledger.post(f"/v1/redemptions/{redemption_id}/refunds", {"amount": eur(500)})
    assert first.status_code == 201
    assert first.json()["refundedTotal"] == eur(500)
    too_much = await ledger.post(f"/v1/redemptions/{redemption_id}/refunds", {"amount": eur(301)})
    assert too_much.status_code == 422
    assert too_much.json()["error"]["code"] == "refund_exceeds_redemption"
    assert too_much.json()["error"]["details"]["refundable"] == eur(300)
    wrong_currency = await ledger.post(f"/v1/redemptions/{redemption_id}/refunds", {"amount": eur(1, "USD")})
    assert wrong_currency.json()["error"]["code"] == "currency_mismatch"
    rest = await ledger.post(f"/v1/redemptions/{redemption_id}/refunds", {"amount": eur(300)})
    assert rest.status_code == 201
    assert (await ledger.post(f"/v1/redemptions/{redemption_id}/refunds", {"amount": eur(1)})).status_code == 422
    await ledger.assert_consistent(code, 1000)


async def test_a_capture_can_be_refunded_by_hold_id(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    hold_id = await _hold(ledger, code, 600)
    not_captured = await ledger.post(f"/v1/redemptions/{hold_id}/refunds", {"amount": eur(1)})
    assert not_captured.status_code == 409
    await ledger.post(f"/v1/holds/{hold_id}/capture", {"amount": eur(400)})
    refund = await ledger.post(f"/v1/redemptions/{hold_id}/refunds", {"amount": eur(400)})
    assert refund.status_code == 201
    assert (await ledger.post(f"/v1/redemptions/{hold_id}/refunds", {"amount": eur(1)})).status_code == 422
    await ledger.assert_consistent(code, 1000)


async def test_every_change_needs_an_idempotency_key(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    response = await ledger.post("/v1/redemptions", {"code": code, "amount": eur(1)}, idempotency=None)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_required"
    too_long = await ledger.post("/v1/redemptions", {"code": code, "amount": eur(1)}, idempotency="k" * 256)
    assert too_long.status_code == 400


async def test_same_key_same_body_replays_the_stored_answer(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    body = {"code": code, "amount": eur(300)}
    first = await ledger.post("/v1/redemptions", body, idempotency="order-1")
    second = await ledger.post("/v1/redemptions", body, idempotency="order-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    await ledger.assert_consistent(code, 700)


async def test_same_key_different_body_is_refused(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    await ledger.post("/v1/redemptions", {"code": code, "amount": eur(300)}, idempotency="order-2")
    other = await ledger.post("/v1/redemptions", {"code": code, "amount": eur(301)}, idempotency="order-2")
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    other_route = await ledger.post("/v1/holds", {"code": code, "amount": eur(300)}, idempotency="order-2")
    assert other_route.status_code == 409
    await ledger.assert_consistent(code, 700)


async def test_a_refusal_is_replayed_too(ledger: LedgerClient) -> None:
    code = await ledger.issue(100)
    body = {"code": code, "amount": eur(300)}
    first = await ledger.post("/v1/redemptions", body, idempotency="order-3")
    await ledger.admin("/v1/cards/reload", {"code": code, "amount": eur(1000)})
    second = await ledger.post("/v1/redemptions", body, idempotency="order-3")
    assert first.status_code == second.status_code == 422
    assert first.json() == second.json()


async def test_keys_are_scoped_per_api_key(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    body = {"code": code, "amount": eur(100)}
    await ledger.post("/v1/redemptions", body, idempotency="shared")
    await ledger.admin("/v1/redemptions", body, idempotency="shared")
    await ledger.assert_consistent(code, 800)


async def test_replayed_issue_does_not_reveal_codes(ledger: LedgerClient) -> None:
    body = {"amount": eur(100)}
    first = await ledger.admin("/v1/cards", body, idempotency="issue-1")
    second = await ledger.admin("/v1/cards", body, idempotency="issue-1")
    assert first.json()["cards"][0]["code"]
    assert second.json()["cards"][0]["code"] is None
    assert second.json()["cards"][0]["id"] == first.json()["cards"][0]["id"]


async def test_parallel_requests_with_one_key_debit_once(ledger: LedgerClient) -> None:
    code = await ledger.issue(1000)
    body = {"code": code, "amount": eur(100)}
    answers = await asyncio.gather(*(ledger.post("/v1/redemptions", body, idempotency="same") for _ in range(10)))
    assert {answer.status_code for answer in answers} == {201}
    assert len({answer.json()["id"] for answer in answers}) == 1
    await ledger.assert_consistent(code, 900)


async def test_parallel_debits_never_overdraw(ledger: LedgerClient) -> None:
    code = await ledger.issue(10_000)
    answers = await asyncio.gather(
        *(ledger.post("/v1/redemptions", {"code": code, "amount": eur(300)}) for _ in range(50))
    )
    assert sum(answer.status_code == 201 for answer in answers) == 33
    assert all(answer.status_code in (201, 422) for answer in answers)
    await ledger.assert_consistent(code, 100)


async def test_entries_cannot_be_changed_or_deleted(ledger: LedgerClient, database: Database) -> None:
    await ledger.issue(1000)
    for statement in ("UPDATE entries SET amount = 5", "DELETE FROM entries"):
        with pytest.raises(Exception, match="immutable"):
            async with database.engine.begin() as connection:
                await connection.execute(text(statement))
