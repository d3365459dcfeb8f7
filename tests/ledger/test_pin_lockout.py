"""The PIN lockout holds (contract section 10): locks that double, a count that never resets by itself,
a correct PIN after the lock resets it, an operator unlocks; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

from giftcard_connector.ledger import codes
from giftcard_connector.ledger.cardaccess import PinPolicy
from tests.ledger.support import LedgerClient, eur

FIRST_LOCK = 900  # the conftest's policy: 5 wrong PINs, 15 minutes


async def balance(ledger: LedgerClient, code: str, pin: str) -> int:
    response = await ledger.post("/v1/cards/balance", {"code": code, "pin": pin}, idempotency=None)
    return response.status_code


async def card_state(ledger: LedgerClient, code: str) -> dict[str, Any]:
    response = await ledger.admin("/v1/cards/lookup", {"code": code}, idempotency=None)
    assert response.status_code == 200, response.text
    card: dict[str, Any] = response.json()["card"]
    return card


def locked_for(card: dict[str, Any], now: dt.datetime) -> float:
    until = card["pinLockedUntil"]
    return 0.0 if until is None else (dt.datetime.fromisoformat(until.replace("Z", "+00:00")) - now).total_seconds()


async def test_each_lock_doubles_and_the_count_does_not_reset(ledger: LedgerClient) -> None:
    code = await ledger.issue(pin="1234")
    for _ in range(5):
        assert await balance(ledger, code, "0000") == 404
    assert locked_for(await card_state(ledger, code), ledger.clock.now) == FIRST_LOCK
    for doubling in (2, 4, 8):
        ledger.clock.advance(FIRST_LOCK * doubling)  # well past the running lock
        assert await balance(ledger, code, "0000") == 404  # one wrong PIN locks again, twice as long
        assert locked_for(await card_state(ledger, code), ledger.clock.now) == FIRST_LOCK * doubling
    assert (await card_state(ledger, code))["pinFailedAttempts"] == 8


async def test_a_running_lock_answers_not_found_even_to_the_right_pin_and_counts_nothing(ledger: LedgerClient) -> None:
    code = await ledger.issue(pin="1234")
    for _ in range(5):
        await balance(ledger, code, "0000")
    before = await card_state(ledger, code)
    assert await balance(ledger, code, "1234") == 404
    redeem = await ledger.post("/v1/redemptions", {"code": code, "pin": "1234", "amount": eur(1)})
    assert redeem.status_code == 404
    assert await card_state(ledger, code) == before


async def test_the_right_pin_after_the_lock_ends_resets_the_count(ledger: LedgerClient) -> None:
    code = await ledger.issue(pin="1234")
    for _ in range(6):  # two locks
        ledger.clock.advance(FIRST_LOCK * 3)
        await balance(ledger, code, "0000")
    ledger.clock.advance(FIRST_LOCK * 3)
    assert await balance(ledger, code, "1234") == 200
    card = await card_state(ledger, code)
    assert card["pinFailedAttempts"] == 0 and card["pinLockedUntil"] is None
    for _ in range(4):  # a fresh allowance of wrong PINs before the first, short lock
        assert await balance(ledger, code, "0000") == 404
    assert locked_for(await card_state(ledger, code), ledger.clock.now) == 0
    assert await balance(ledger, code, "0000") == 404
    assert locked_for(await card_state(ledger, code), ledger.clock.now) == FIRST_LOCK


async def test_a_day_of_guessing_gets_a_handful_of_tries_and_a_year_a_few_dozen(ledger: LedgerClient) -> None:
    """The issue's arithmetic: resetting at each lock gave ~480 tries a day. A guesser who tries again the
    moment each lock ends now gets 5 + 6 in the first day and under 40 in a year (locks cap at 30 days)."""
    code = await ledger.issue(pin="1234")
    start = ledger.clock.now
    tries = {"day": 0, "year": 0}
    while ledger.clock.now < start + dt.timedelta(days=365):
        assert await balance(ledger, code, "0000") == 404
        tries["year"] += 1
        if ledger.clock.now < start + dt.timedelta(days=1):
            tries["day"] += 1
        wait = locked_for(await card_state(ledger, code), ledger.clock.now)
        ledger.clock.advance(max(wait, 0) + 1)
    assert tries["day"] == 11, tries
    assert tries["year"] < 40, tries


def test_policy_lock_lengths() -> None:
    policy = PinPolicy(max_attempts=5, lock_seconds=900, max_lock_seconds=86_400)
    assert policy.lock_for(4) is None
    assert [policy.lock_for(n) for n in (5, 6, 7)] == [dt.timedelta(seconds=s) for s in (900, 1800, 3600)]
    assert policy.lock_for(12) == dt.timedelta(days=1)  # capped
    assert policy.lock_for(10_000) == dt.timedelta(days=1)  # no overflow however long the guessing


async def test_operator_unlock_lifts_the_lock_at_once(ledger: LedgerClient) -> None:
    code = await ledger.issue(pin="1234")
    for _ in range(7):
        await balance(ledger, code, "0000")
    refused = await ledger.post("/v1/cards/unlock", {"code": code}, idempotency=None)  # a processor key
    assert refused.status_code == 403
    unlocked = await ledger.admin("/v1/cards/unlock", {"code": code})
    assert unlocked.status_code == 200, unlocked.text
    card = unlocked.json()["card"]
    assert card["pinLockedUntil"] is None and card["pinFailedAttempts"] == 0 and card["status"] == "active"
    assert await balance(ledger, code, "1234") == 200


async def test_unlock_of_an_unknown_card_is_not_found(ledger: LedgerClient) -> None:
    response = await ledger.admin("/v1/cards/unlock", {"code": codes.format_code(codes.generate())})
    assert response.status_code == 404


async def test_locked_card_answers_exactly_like_an_unknown_card(ledger: LedgerClient) -> None:
    code = await ledger.issue(pin="1234")
    for _ in range(5):
        await balance(ledger, code, "0000")
    unknown = codes.format_code(codes.generate())
    for path, extra in (("/v1/cards/balance", {}), ("/v1/redemptions", {"amount": eur(1)})):
        answers = [
            await ledger.post(path, {"code": c, "pin": "1234", **extra}, idempotency=path != "/v1/cards/balance")
            for c in (code, unknown)
        ]
        assert answers[0].status_code == answers[1].status_code == 404
        assert answers[0].json() == answers[1].json()
        assert answers[0].headers.keys() == answers[1].headers.keys()
