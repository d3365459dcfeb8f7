"""Split captures end to end (bug 7 of issue 8): Checkout captures 20 then 10 of a 30 hold.

Real parts: the devkit emulator over HTTP, the Processor as a process, the built-in ledger as a process
(SQLite and PostgreSQL). Each capture is its own Charge with its own ledger redemption; the ledger's
balance is the sum of its entries and agrees with commercetools to the cent.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from giftcard_devkit.processes import processor
from tests.support.flows import intent, money, new_session, transactions
from tests.support.ledger_fixture import LedgerRun, ledger_run

__all__ = ["ledger_run"]


@pytest.fixture(scope="module")
def held_api(emulator, ledger_run: LedgerRun) -> Iterator[httpx.Client]:
    env = {
        **emulator.processor_env(),
        "GIFTCARD_PROVIDER": "ledger",
        "LEDGER_URL": ledger_run.url,
        "LEDGER_API_KEY": ledger_run.processor_key,
        "GIFTCARD_CAPTURE_MODE": "authorize",
        "LOG_LEVEL": "WARNING",
    }
    with processor(env) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client


def _cents(value) -> int:
    return int(value["centAmount"])


def _card(ledger_run: LedgerRun, code: str) -> tuple[int, int]:
    card = ledger_run.show(code)
    return _cents(card["balance"]), _cents(card["available"])


def _hold(api, emulator, ledger_run: LedgerRun, amount: int) -> tuple[str, str]:
    code = ledger_run.issue(5000)
    _, session_id = new_session(emulator, 10000)
    held = api.post("/redeem", json={"code": code, "redeemAmount": money(amount)}, headers={"X-Session-Id": session_id})
    assert held.status_code == 200, held.text
    return code, held.json()["paymentReference"]


def _charges(emulator, payment_id: str) -> list[dict]:
    return [t for t in transactions(emulator.get_payment(payment_id), "Charge") if t["state"] == "Success"]


def test_capture_20_then_10_of_a_30_hold_captures_both_and_a_third_is_rejected(held_api, ledger_run, emulator):
    code, payment_id = _hold(held_api, emulator, ledger_run, 3000)
    assert _card(ledger_run, code) == (5000, 2000)

    first = intent(held_api, emulator, payment_id, {"action": "capturePayment", "amount": money(2000)})
    assert first.json() == {"outcome": "approved"}
    # 2000 debited; the hold still keeps its uncaptured 1000.
    assert _card(ledger_run, code) == (3000, 2000)

    rest = intent(held_api, emulator, payment_id, {"action": "capturePayment", "amount": money(1000)})
    assert rest.json() == {"outcome": "approved"}
    assert _card(ledger_run, code) == (2000, 2000)

    charges = _charges(emulator, payment_id)
    assert sorted(_cents(c["amount"]) for c in charges) == [1000, 2000]
    references = {c["interactionId"] for c in charges}
    assert len(references) == 2 and all(r.startswith("red_") for r in references)

    third = intent(held_api, emulator, payment_id, {"action": "capturePayment", "amount": money(500)})
    assert third.json() == {"outcome": "rejected"}
    assert len(_charges(emulator, payment_id)) == 2
    entries = ledger_run.history(code)
    assert sum(_cents(e["amount"]) for e in entries) == 2000
    assert sorted(-_cents(e["amount"]) for e in entries if e["kind"] == "capture") == [1000, 2000]

    # Refunds stay per capture: the one named by transactionId, at most what that capture debited.
    small = next(c for c in charges if _cents(c["amount"]) == 1000)
    too_much = intent(
        held_api,
        emulator,
        payment_id,
        {"action": "refundPayment", "amount": money(1500), "transactionId": small["id"]},
    )
    assert too_much.json() == {"outcome": "rejected"}
    refund = {"action": "refundPayment", "amount": money(1000), "transactionId": small["id"]}
    assert intent(held_api, emulator, payment_id, refund).json() == {"outcome": "approved"}
    assert _card(ledger_run, code) == (3000, 3000)


def test_cancel_of_a_partially_captured_hold_releases_the_rest_and_refunds_the_capture(held_api, ledger_run, emulator):
    code, payment_id = _hold(held_api, emulator, ledger_run, 3000)
    captured = intent(held_api, emulator, payment_id, {"action": "capturePayment", "amount": money(2000)})
    assert captured.json() == {"outcome": "approved"}
    assert intent(held_api, emulator, payment_id, {"action": "cancelPayment"}).json() == {"outcome": "approved"}
    assert _card(ledger_run, code) == (5000, 5000)
    kinds = [(t["type"], t["state"], _cents(t["amount"])) for t in transactions(emulator.get_payment(payment_id))]
    assert kinds == [
        ("Authorization", "Success", 3000),
        ("Charge", "Success", 2000),
        ("CancelAuthorization", "Success", 1000),
        ("Refund", "Success", 2000),
    ]
    # Checkout repeating the cancel: nothing is left to undo.
    assert intent(held_api, emulator, payment_id, {"action": "cancelPayment"}).json() == {"outcome": "approved"}
    assert _card(ledger_run, code) == (5000, 5000)


def test_reverse_of_two_split_captures_refunds_each_capture(held_api, ledger_run, emulator):
    code, payment_id = _hold(held_api, emulator, ledger_run, 3000)
    for amount, reference in ((2000, "C-1"), (1000, "C-2")):
        capture = {"action": "capturePayment", "amount": money(amount), "merchantReference": reference}
        assert intent(held_api, emulator, payment_id, capture).json() == {"outcome": "approved"}
    assert _card(ledger_run, code) == (2000, 2000)
    # One refund per capture: the ledger refunds each debit on its own, so one refund of 3000 would be refused.
    assert intent(held_api, emulator, payment_id, {"action": "reversePayment"}).json() == {"outcome": "approved"}
    assert _card(ledger_run, code) == (5000, 5000)
    refunds = [t for t in transactions(emulator.get_payment(payment_id), "Refund") if t["state"] == "Success"]
    assert sorted(_cents(t["amount"]) for t in refunds) == [1000, 2000]
    assert intent(held_api, emulator, payment_id, {"action": "reversePayment"}).json() == {"outcome": "approved"}
    assert _card(ledger_run, code) == (5000, 5000)
