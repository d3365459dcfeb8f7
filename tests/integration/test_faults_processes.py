"""Processor processes that die or run side by side: money stays right (contract section 9).

- A Processor is SIGKILLed while concurrent redemptions are inside it (the provider still acts on the calls
  it received); it is restarted, the reconciler runs, and the ledger and commercetools agree; the shoppers
  submit again and every redemption ends up done exactly once.
- Two Processor processes serve one cart: redemptions of different amounts at once never pay more than
  the cart owes, and refunds of one payment at once never refund more than it charged.
- Two reconciler passes at the same moment settle each unknown outcome once.
On the ledger with SQLite and with PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time
from collections.abc import Iterator, Sequence
from functools import partial
from typing import Any

import httpx
import pytest

from giftcard_devkit.emulator import DEFAULT_PROJECT_KEY
from giftcard_devkit.processes import ServiceProcess, processor
from tests.support.fault_proxy import Fault, Rule
from tests.support.fault_stack import FaultStack, IssuedCard, Shopper, redeem_call, redeem_definite, until_definite
from tests.support.flows import money

PROVIDER_CALL = r"/v1/(?!cards/).+"
# Slow enough that both copies read before either writes; well under the Processor's timeouts.
SLOW_READ = 0.3

# One HTTP call: (Processor base URL, path, JSON body, headers).
Call = tuple[str, str, dict[str, Any], dict[str, str]]


def _redeem(base_url: str, shopper: Shopper, card: IssuedCard, cent_amount: int) -> Call:
    body = {"code": card.code, "redeemAmount": money(cent_amount)}
    return base_url, "/redeem", body, {"X-Session-Id": shopper.session_id}


def _refund(stack: FaultStack, base_url: str, payment_id: str, cent_amount: int) -> Call:
    token = stack.emulator.mint_token(scope=f"manage_checkout_payment_intents:{stack.emulator.project_key}")
    body = {"actions": [{"action": "refundPayment", "amount": money(cent_amount)}]}
    return base_url, f"/operations/payment-intents/{payment_id}", body, {"Authorization": f"Bearer {token}"}


def _at_once(calls: Sequence[Call]) -> list[httpx.Response | BaseException]:
    """Send every call at the same moment; a connection cut by a dying Processor is an exception."""

    async def fire() -> list[httpx.Response | BaseException]:
        async with httpx.AsyncClient(timeout=30) as client:
            return await asyncio.gather(
                *(client.post(url + path, json=body, headers=headers) for url, path, body, headers in calls),
                return_exceptions=True,
            )

    return asyncio.run(fire())


def _successes(payments: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [t for p in payments for t in p.get("transactions", []) if t["type"] == kind and t["state"] == "Success"]


@pytest.fixture(scope="session")
def two_copies(fault_stack: FaultStack) -> Iterator[tuple[ServiceProcess, ServiceProcess]]:
    env = fault_stack.env("direct")
    with processor(env) as first, processor(env) as second:
        yield first, second


def test_a_processor_killed_mid_redeems_then_restarted_and_reconciled_agrees_with_the_ledger(
    stack: FaultStack,
) -> None:
    card = stack.issue(5000)
    shoppers = [stack.shopper(2000) for _ in range(8)]
    env = stack.env("direct")
    # A slow provider: the kill finds money calls under way, and the ledger still acts on them afterwards.
    slow = Rule("POST", PROVIDER_CALL, Fault.DELAY, times=0, delay=0.5)
    stack.ledger_proxy.add(slow)
    doomed = processor(env).start()
    calls = [_redeem(doomed.base_url, shopper, card, 500) for shopper in shoppers]
    answers: list[httpx.Response | BaseException] = []
    firing = threading.Thread(target=lambda: answers.extend(_at_once(calls)))
    firing.start()
    deadline = time.monotonic() + 15
    while slow.fired < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert slow.fired >= 3, "the redemptions never reached the provider"
    with contextlib.suppress(ProcessLookupError):
        os.killpg(doomed.pid, signal.SIGKILL)
    firing.join(60)
    doomed.stop()
    assert any(isinstance(a, BaseException) for a in answers), "the kill cut no request"
    stack.clear_faults()
    stack.settle_proxies()

    with processor(env) as restarted, httpx.Client(base_url=restarted.base_url, timeout=30) as api:
        stack.reconcile_command()
        stack.assert_agree(card, shoppers)
        # Each shopper submits again: a settled redemption answers its Success, a failed one charges anew.
        for shopper in shoppers:
            answer = until_definite(stack, "direct", partial(redeem_call, api, shopper, card, 500), redeem_definite)
            assert answer.status_code == 200 and answer.json()["result"] == "Success", answer.text
    stack.reconcile_command()
    payments = stack.assert_agree(card, shoppers, balance=5000 - 8 * 500, available=5000 - 8 * 500)
    assert len(_successes(payments, "Charge")) == 8, "every shopper paid exactly once"


def test_two_copies_redeeming_different_amounts_on_one_cart_never_overpay_it(
    stack: FaultStack, two_copies: tuple[ServiceProcess, ServiceProcess]
) -> None:
    first, second = two_copies
    for _ in range(3):
        shopper = stack.shopper(5000)
        cards = [stack.issue(5000), stack.issue(5000)]
        # Each copy reads the cart slowly, so both check the amount owed before either one writes.
        stack.ct_proxy.add(Rule("GET", rf"/{DEFAULT_PROJECT_KEY}/carts/[^/]+", Fault.DELAY, times=2, delay=SLOW_READ))
        answers = _at_once(
            [_redeem(first.base_url, shopper, cards[0], 4000), _redeem(second.base_url, shopper, cards[1], 3000)]
        )
        stack.clear_faults()
        assert all(isinstance(a, httpx.Response) and a.status_code in {200, 400, 409, 503} for a in answers), answers
        stack.reconcile()
        payments = stack.assert_agree(cards, shopper)
        paid = [p["amountPlanned"]["centAmount"] for p in payments if _successes([p], "Charge")]
        assert paid, "one of the two redemptions must succeed"
        assert sum(paid) <= 5000, f"the cart of 5000 was paid {paid}"


def test_two_copies_refunding_one_payment_at_once_never_refund_more_than_it_charged(
    stack: FaultStack, two_copies: tuple[ServiceProcess, ServiceProcess]
) -> None:
    first, second = two_copies
    card = stack.issue(5000)
    shopper = stack.shopper(5000)
    with httpx.Client(base_url=first.base_url, timeout=30) as api:
        redeemed = until_definite(stack, "direct", partial(redeem_call, api, shopper, card, 3000), redeem_definite)
    assert redeemed.status_code == 200, redeemed.text
    payment_id = redeemed.json()["paymentReference"]
    for cent_amount in (2000, 1000):  # the second round races for the last 1000
        # Each copy reads the payment slowly, so both check the refund cap before either one writes.
        stack.ct_proxy.add(
            Rule("GET", rf"/{DEFAULT_PROJECT_KEY}/payments/[^/]+", Fault.DELAY, times=2, delay=SLOW_READ)
        )
        answers = _at_once(
            [
                _refund(stack, first.base_url, payment_id, cent_amount),
                _refund(stack, second.base_url, payment_id, cent_amount),
            ]
        )
        stack.clear_faults()
        assert all(isinstance(a, httpx.Response) and a.status_code in {200, 400, 409, 503} for a in answers), answers
    stack.reconcile()
    payments = stack.assert_agree(card, shopper)
    refunded = sum(t["amount"]["centAmount"] for t in _successes(payments, "Refund"))
    assert 2000 <= refunded <= 3000, f"refunded {refunded} of a 3000 charge"
    assert stack.ledger_card(card).balance == 2000 + refunded


def test_two_reconcilers_running_at_once_settle_each_unknown_outcome_once(stack: FaultStack) -> None:
    """Several copies may run the background sweep at the same moment (contract section 9)."""
    api = stack.api("direct")
    scenes = []
    for fault in (Fault.DROP_ANSWER, Fault.DROP_ANSWER, Fault.ERROR, Fault.ERROR):
        card, shopper = stack.issue(5000), stack.shopper()
        stack.ledger_proxy.add(Rule("POST", PROVIDER_CALL, fault, times=0))
        answer = redeem_call(api, shopper, card, 1000)
        stack.clear_faults()
        assert answer.status_code == 503, answer.text  # unknown outcome: Pending, "submit again"
        scenes.append((card, shopper, 4000 if fault is Fault.DROP_ANSWER else 5000))
    passes: list[dict[str, int]] = []
    sweeps = [threading.Thread(target=lambda: passes.append(stack.reconcile())) for _ in range(2)]
    for sweep in sweeps:
        sweep.start()
    for sweep in sweeps:
        sweep.join(120)
    assert len(passes) == 2, "a reconciler pass failed"
    for card, shopper, balance in scenes:
        stack.assert_agree(card, shopper, balance=balance, available=balance)
