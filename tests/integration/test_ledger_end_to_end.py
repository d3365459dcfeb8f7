"""The Processor with the built-in ledger as its provider, against the emulator, in both capture modes:
every number agrees between the ledger and commercetools."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from giftcard_devkit.processes import processor
from tests.support.flows import cart_payments, intent, money, new_session, transactions
from tests.support.ledger_fixture import LedgerRun, ledger_run

__all__ = ["ledger_run"]


@pytest.fixture(scope="module", params=["direct", "authorize"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def ledger_api(emulator, ledger_run: LedgerRun, mode: str) -> Iterator[httpx.Client]:
    env = {
        **emulator.processor_env(),
        "GIFTCARD_PROVIDER": "ledger",
        "LEDGER_URL": ledger_run.url,
        "LEDGER_API_KEY": ledger_run.processor_key,
        "GIFTCARD_CAPTURE_MODE": mode,
        "LOG_LEVEL": "WARNING",
    }
    with processor(env) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield client


def _post(api, path, session_id, **body):
    return api.post(path, json=body, headers={"X-Session-Id": session_id})


def _cents(value) -> int:
    return int(value["centAmount"])


def test_balance_redeem_capture_refund_agree(ledger_api, ledger_run, emulator, mode):
    code = ledger_run.issue(5000, pin="4321")
    cart, session_id = new_session(emulator, 10000)

    balance = _post(ledger_api, "/balance", session_id, code=code, pin="4321")
    assert balance.status_code == 200, balance.text
    assert balance.json()["amount"] == money(5000)

    redeemed = _post(ledger_api, "/redeem", session_id, code=code, pin="4321", redeemAmount=money(3000))
    assert redeemed.status_code == 200, redeemed.text
    payment_id = redeemed.json()["paymentReference"]
    [payment] = cart_payments(emulator, cart["id"])
    [first] = transactions(payment)
    assert first["state"] == "Success"
    assert first["interactionId"] == redeemed.json()["redemptionId"]

    card = ledger_run.show(code)
    if mode == "authorize":
        assert first["type"] == "Authorization"
        assert (_cents(card["balance"]), _cents(card["available"])) == (5000, 2000), "a hold moves no money"
        captured = intent(ledger_api, emulator, payment_id, {"action": "capturePayment", "amount": money(3000)})
        assert captured.json() == {"outcome": "approved"}
        card = ledger_run.show(code)
    else:
        assert first["type"] == "Charge"
    assert (_cents(card["balance"]), _cents(card["available"])) == (2000, 2000)

    refunded = intent(ledger_api, emulator, payment_id, {"action": "refundPayment", "amount": money(1000)})
    assert refunded.json() == {"outcome": "approved"}
    too_much = intent(ledger_api, emulator, payment_id, {"action": "refundPayment", "amount": money(2001)})
    assert too_much.status_code == 400
    assert _cents(ledger_run.show(code)["balance"]) == 3000

    entries = ledger_run.history(code)
    assert sum(_cents(e["amount"]) if isinstance(e["amount"], dict) else e["amount"] for e in entries) == 3000
    payment = emulator.get_payment(payment_id)
    charged = sum(t["amount"]["centAmount"] for t in transactions(payment, "Charge") if t["state"] == "Success")
    refunded_total = sum(t["amount"]["centAmount"] for t in transactions(payment, "Refund") if t["state"] == "Success")
    assert 5000 - charged + refunded_total == _cents(ledger_run.show(code)["balance"])


def test_wrong_pin_answers_like_an_unknown_card(ledger_api, ledger_run, emulator):
    code = ledger_run.issue(5000, pin="4321")
    _, session_id = new_session(emulator, 10000)
    wrong = _post(ledger_api, "/balance", session_id, code=code, pin="0000")
    unknown = _post(ledger_api, "/balance", session_id, code="AAAA-BBBB-CCCC-DDDD-EEEE", pin="0000")
    assert wrong.status_code == unknown.status_code == 404
    assert wrong.json()["status"]["state"] == unknown.json()["status"]["state"] == "NotFound"


def test_currency_and_zero_balance_states(ledger_api, ledger_run, emulator):
    _, session_id = new_session(emulator, 10000)
    usd = ledger_run.issue(5000, currency="USD")
    assert _post(ledger_api, "/balance", session_id, code=usd).json()["status"]["state"] == "CurrencyNotMatch"
    small = ledger_run.issue(500)
    assert _post(ledger_api, "/redeem", session_id, code=small, redeemAmount=money(500)).status_code == 200
    assert _post(ledger_api, "/balance", session_id, code=small).json()["status"]["state"] == "ZeroBalance"


def test_cancel_gives_the_money_back(ledger_api, ledger_run, emulator):
    code = ledger_run.issue(5000)
    _, session_id = new_session(emulator, 10000)
    payment_id = _post(ledger_api, "/redeem", session_id, code=code, redeemAmount=money(2500)).json()[
        "paymentReference"
    ]
    assert intent(ledger_api, emulator, payment_id, {"action": "cancelPayment"}).json() == {"outcome": "approved"}
    card = ledger_run.show(code)
    assert (_cents(card["balance"]), _cents(card["available"])) == (5000, 5000)


def test_concurrent_and_duplicated_redemptions_never_overdraw(ledger_api, ledger_run, emulator, mode):
    code = ledger_run.issue(5000)
    sessions = [new_session(emulator, 1000) for _ in range(8)]

    async def fire() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=str(ledger_api.base_url), timeout=60) as client:
            calls = [
                client.post(
                    "/redeem",
                    json={"code": code, "redeemAmount": money(700)},
                    headers={"X-Session-Id": session_id},
                )
                for _, session_id in sessions
                for _ in range(2)  # every submit duplicated
            ]
            return await asyncio.gather(*calls)

    responses = asyncio.run(fire())
    assert all(r.status_code in {200, 400, 409} for r in responses), [r.text for r in responses]
    kind = "Authorization" if mode == "authorize" else "Charge"
    successes = [
        t
        for cart, _ in sessions
        for p in cart_payments(emulator, cart["id"])
        for t in transactions(p, kind)
        if t["state"] == "Success"
    ]
    assert len(successes) == 7, "5000 covers exactly seven redemptions of 700"
    card = ledger_run.show(code)
    assert _cents(card["available"]) == 5000 - 700 * len(successes) >= 0
    if mode == "direct":
        entries = ledger_run.history(code)
        debits = {e["reference"] for e in entries if e["kind"] == "redeem"}
        assert debits == {t["interactionId"] for t in successes}, "every Charge has its debit and the reverse"
        assert _cents(card["balance"]) == 5000 - 700 * 7
