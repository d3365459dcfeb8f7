"""The PostgreSQL debit fast path (ledger_redeem + DebitLane) against the general path it stands in for.

The general path (LedgerService.redeem) owns every rule; the fast path may only do the plain success, and
its stored reply must be exactly what the general path would have answered.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from giftcard_connector.ledger.api import create_app
from giftcard_connector.ledger.apikeys import revoke_key
from giftcard_connector.ledger.cardaccess import PinPolicy
from giftcard_connector.ledger.db import Database
from giftcard_connector.ledger.debits import RawReply
from giftcard_connector.ledger.idempotency import fingerprint
from giftcard_connector.ledger.migrate import migrate
from giftcard_connector.ledger.models import ApiKey, Card, IdempotencyRecord, Redemption
from giftcard_connector.ledger.service import LedgerService
from giftcard_connector.ledger.views import card_view, redemption_view
from giftcard_connector.money import Money
from tests.ledger.conftest import DatabaseTarget, make_keys
from tests.ledger.support import SECRET, FakeClock, LedgerClient, eur

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg_database(postgres_target: DatabaseTarget) -> AsyncIterator[Database]:
    database = Database(postgres_target.url, schema=postgres_target.schema)
    await migrate(database)
    yield database
    await database.dispose()


@pytest.fixture
def pg_service(pg_database: Database, clock: FakeClock) -> LedgerService:
    return LedgerService(pg_database, SECRET, pin_policy=PinPolicy(max_attempts=3, lock_seconds=900), clock=clock)


@pytest.fixture
async def pg_ledger(pg_service: LedgerService, pg_database: Database, clock: FakeClock) -> AsyncIterator[LedgerClient]:
    admin, processor = await make_keys(pg_database, clock)
    transport = httpx.ASGITransport(app=create_app(pg_service))
    async with httpx.AsyncClient(transport=transport, base_url="http://ledger.test") as http:
        yield LedgerClient(http, admin, processor, clock)


def _print(payload: dict[str, object]) -> str:
    return fingerprint(SECRET, "POST", "/v1/redemptions", payload)


async def _redeem_fast(
    service: LedgerService, key: str, idem: str, code: str, cents: int, pin: str | None = None
) -> RawReply:
    payload: dict[str, object] = {"code": code, "pin": pin, "amount": eur(cents)}
    reply = await service.redeem_with_key(key, idem, _print(payload), code, pin, Money(cents, "EUR"))
    assert isinstance(reply, RawReply), f"expected the fast path, got {reply!r}"
    return reply


@pytest.mark.parametrize("microsecond", [0, 123456])
async def test_fast_reply_is_what_the_general_views_answer(
    pg_ledger: LedgerClient, pg_service: LedgerService, pg_database: Database, clock: FakeClock, microsecond: int
) -> None:
    clock.now = clock.now.replace(microsecond=microsecond)
    code = await pg_ledger.issue(5_000, expires="2027-03-31")
    clock.advance(61.5)
    # A hold, so that available and balance differ in the reply.
    held = await pg_ledger.post("/v1/holds", {"code": code, "amount": eur(700)})
    assert held.status_code == 201
    reply = await _redeem_fast(pg_service, pg_ledger.processor_key, "fast-1", code, 1_250)
    async with pg_database.transaction() as session:
        redemption = await session.scalar(select(Redemption))
        assert redemption is not None
        card = await session.get(Card, redemption.card_id)
        assert card is not None
        expected = redemption_view(redemption) | {"card": card_view(card, card.balance - 700)}
        stored = await session.scalar(select(IdempotencyRecord.response_body).where(IdempotencyRecord.key == "fast-1"))
    assert orjson.loads(reply.content) == expected
    assert stored is not None and orjson.loads(stored) == expected
    assert expected["card"]["balance"]["centAmount"] == 3_750
    assert expected["card"]["available"]["centAmount"] == 3_050
    await pg_ledger.assert_consistent(code, 3_750)


async def test_a_fast_debit_is_replayed_and_a_changed_body_is_refused(pg_ledger: LedgerClient) -> None:
    code = await pg_ledger.issue(1_000)
    first = await pg_ledger.post("/v1/redemptions", {"code": code, "amount": eur(300)}, idempotency="same")
    again = await pg_ledger.post("/v1/redemptions", {"code": code, "amount": eur(300)}, idempotency="same")
    changed = await pg_ledger.post("/v1/redemptions", {"code": code, "amount": eur(301)}, idempotency="same")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert changed.status_code == 409
    assert changed.json()["error"]["code"] == "idempotency_key_reused"
    await pg_ledger.assert_consistent(code, 700)


async def test_parallel_requests_with_one_key_debit_once_on_the_fast_path(pg_ledger: LedgerClient) -> None:
    code = await pg_ledger.issue(1_000)
    answers = await asyncio.gather(
        *(pg_ledger.post("/v1/redemptions", {"code": code, "amount": eur(100)}, idempotency="k") for _ in range(10))
    )
    assert {answer.status_code for answer in answers} == {201}
    assert len({answer.json()["id"] for answer in answers}) == 1
    await pg_ledger.assert_consistent(code, 900)


async def test_pin_cards_wrong_pins_and_lockout_go_the_general_way(
    pg_ledger: LedgerClient, pg_service: LedgerService, pg_database: Database
) -> None:
    code = await pg_ledger.issue(1_000, pin="4321")
    # First debit of a PIN card in this process: the card id is not known yet, so the general path answers.
    first = await pg_ledger.post("/v1/redemptions", {"code": code, "pin": "4321", "amount": eur(100)})
    assert first.status_code == 201
    # Now the fast path can check the PIN hash itself.
    await _redeem_fast(pg_service, pg_ledger.processor_key, "pin-fast", code, 100, pin="4321")
    wrong = await pg_ledger.post("/v1/redemptions", {"code": code, "pin": "0000", "amount": eur(100)})
    assert wrong.status_code == 404
    async with pg_database.transaction() as session:
        attempts = await session.scalar(select(Card.pin_failed_attempts))
    assert attempts == 1  # counted by the general path: the fast path never writes for a wrong PIN
    for _ in range(2):
        await pg_ledger.post("/v1/redemptions", {"code": code, "pin": "0000", "amount": eur(100)})
    locked = await pg_ledger.post("/v1/redemptions", {"code": code, "pin": "4321", "amount": eur(100)})
    assert locked.status_code == 404  # the lock holds for the right PIN too
    await pg_ledger.assert_consistent(code, 800)


async def test_refusals_come_from_the_general_path(pg_ledger: LedgerClient) -> None:
    code = await pg_ledger.issue(500)
    held = await pg_ledger.post("/v1/holds", {"code": code, "amount": eur(400)})
    assert held.status_code == 201
    short = await pg_ledger.post("/v1/redemptions", {"code": code, "amount": eur(200)})
    assert short.status_code == 422
    assert short.json()["error"]["code"] == "insufficient_funds"
    assert short.json()["error"]["details"]["available"] == eur(100)
    other = await pg_ledger.post("/v1/redemptions", {"code": code, "amount": eur(50, "USD")})
    assert other.json()["error"]["code"] == "currency_mismatch"
    await pg_ledger.admin("/v1/cards/deactivate", {"code": code})
    disabled = await pg_ledger.post("/v1/redemptions", {"code": code, "amount": eur(50)})
    assert disabled.json()["error"]["code"] == "card_disabled"
    unknown = await pg_ledger.post("/v1/redemptions", {"code": "AAAA-BBBB-CCCC-DDDD-EEEE", "amount": eur(50)})
    assert unknown.status_code == 404
    await pg_ledger.assert_consistent(code, 500)


async def test_a_revoked_key_is_refused_from_the_next_request_on(
    pg_ledger: LedgerClient, pg_database: Database, clock: FakeClock
) -> None:
    code = await pg_ledger.issue(1_000)
    assert (await pg_ledger.post("/v1/redemptions", {"code": code, "amount": eur(100)})).status_code == 201
    async with pg_database.transaction() as session:
        key_id = await session.scalar(select(ApiKey.id).where(ApiKey.role == "processor"))
        assert key_id is not None
        assert await revoke_key(session, key_id, clock()) is not None
    debit = await pg_ledger.post("/v1/redemptions", {"code": code, "amount": eur(100)})
    balance = await pg_ledger.post("/v1/cards/balance", {"code": code}, idempotency=None)
    assert debit.status_code == balance.status_code == 401
    async with pg_database.transaction() as session:
        assert await session.scalar(select(func.count()).select_from(Redemption)) == 1
    await pg_ledger.assert_consistent(code, 900)


async def test_an_expired_card_is_refused(pg_ledger: LedgerClient, clock: FakeClock) -> None:
    code = await pg_ledger.issue(1_000, expires="2026-06-01")
    clock.advance(dt.timedelta(days=1).total_seconds())
    expired = await pg_ledger.post("/v1/redemptions", {"code": code, "amount": eur(100)})
    assert expired.json()["error"]["code"] == "card_expired"


async def test_parallel_holds_and_fast_debits_never_promise_more_than_the_balance(pg_ledger: LedgerClient) -> None:
    # The fast path reads the holds after taking the card's lock: a hold committed while it waited counts.
    code = await pg_ledger.issue(1_000)
    answers = await asyncio.gather(
        *(
            pg_ledger.post(path, {"code": code, "amount": eur(100)})
            for _ in range(10)
            for path in ("/v1/holds", "/v1/redemptions")
        )
    )
    assert sum(answer.status_code == 201 for answer in answers) == 10  # 1000 / 100, whatever the order
    assert {answer.status_code for answer in answers} <= {201, 422}
    history = await pg_ledger.history(code)
    debited = 100 * sum(1 for entry in history["entries"] if entry["kind"] == "redeem")
    assert history["card"]["balance"]["centAmount"] == 1_000 - debited
    assert history["card"]["available"]["centAmount"] == 0


async def test_a_partially_captured_hold_keeps_only_its_rest_on_the_fast_path(
    pg_ledger: LedgerClient, pg_service: LedgerService
) -> None:
    # Migration 0003: ledger_redeem sums amount - captured_amount; summing whole holds would count the
    # captured 500 twice (once in the balance, once as held) and send this debit the general way.
    code = await pg_ledger.issue(1_000)
    held = await pg_ledger.post("/v1/holds", {"code": code, "amount": eur(700)})
    captured = await pg_ledger.post(f"/v1/holds/{held.json()['id']}/capture", {"amount": eur(500)})
    assert captured.status_code == 201
    reply = await _redeem_fast(pg_service, pg_ledger.processor_key, "after-split", code, 300)
    card = orjson.loads(reply.content)["card"]
    assert (card["balance"]["centAmount"], card["available"]["centAmount"]) == (200, 0)
    await pg_ledger.assert_consistent(code, 200)
