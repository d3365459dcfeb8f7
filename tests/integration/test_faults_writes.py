"""Cut every write of every money flow, then do what happens in real life, and the money is still right.

For each flow (redeem direct and authorize, capture, partial capture, refund, partial refund, cancel and
reverse of a charge and of a hold) and each of its writes (the provider's money call; each commercetools
write) a fault is injected at a real HTTP boundary (tests/support/fault_proxy.py): the answer is lost after
the upstream acted, a 5xx without forwarding, a delay past the Processor's timeout (the upstream acts
late), a refused connection. Then the shopper submits again / Checkout repeats the action until it gets a
definite answer, `giftcard-connector reconcile` runs, and the ledger and commercetools must agree exactly
(tests/support/money_invariant.py) with the card's balance as if the flow had run once. On the ledger with
SQLite and with PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import httpx
import pytest

from giftcard_devkit.emulator import DEFAULT_PROJECT_KEY
from tests.support.fault_proxy import Fault, Rule
from tests.support.fault_stack import (
    PAST_CTP_TIMEOUT,
    PAST_TIMEOUT,
    FaultStack,
    IssuedCard,
    Shopper,
    intent_definite,
    redeem_call,
    redeem_definite,
    until_definite,
)
from tests.support.flows import intent, money
from tests.support.money_invariant import connector_payments

ISSUED = 5000
REDEEMED = 3000


@dataclass(frozen=True)
class Flow:
    mode: str  # GIFTCARD_CAPTURE_MODE
    action: dict[str, Any] | None  # the payment intent under test; None: the redemption itself
    balance: int  # the card after the flow ran exactly once
    available: int
    before: tuple[dict[str, Any], ...] = ()  # intents done (without faults) after the redemption, first


CAPTURE_2000 = {"action": "capturePayment", "amount": money(2000)}

FLOWS = {
    "redeem-direct": Flow("direct", None, ISSUED - REDEEMED, ISSUED - REDEEMED),
    "redeem-authorize": Flow("authorize", None, ISSUED, ISSUED - REDEEMED),
    "capture": Flow("authorize", {"action": "capturePayment", "amount": money(REDEEMED)}, 2000, 2000),
    # Split captures: the hold keeps its uncaptured 1000 until captured or cancelled.
    "partial-capture": Flow("authorize", {"action": "capturePayment", "amount": money(2000)}, 3000, 2000),
    # Split captures: the rest of a partly captured hold, and cancelling one (void the rest, refund the capture).
    "capture-rest": Flow("authorize", {"action": "capturePayment", "amount": money(1000)}, 2000, 2000, (CAPTURE_2000,)),
    "cancel-part-captured": Flow("authorize", {"action": "cancelPayment"}, ISSUED, ISSUED, (CAPTURE_2000,)),
    "refund": Flow("direct", {"action": "refundPayment", "amount": money(REDEEMED)}, ISSUED, ISSUED),
    "partial-refund": Flow("direct", {"action": "refundPayment", "amount": money(1000)}, 3000, 3000),
    "cancel-charge": Flow("direct", {"action": "cancelPayment"}, ISSUED, ISSUED),
    "cancel-hold": Flow("authorize", {"action": "cancelPayment"}, ISSUED, ISSUED),
    "reverse-charge": Flow("direct", {"action": "reversePayment"}, ISSUED, ISSUED),
    "reverse-hold": Flow("authorize", {"action": "reversePayment"}, ISSUED, ISSUED),
}


@dataclass(frozen=True)
class Write:
    upstream: str  # "ledger" or "commercetools"
    method: str
    path: str
    nth: int = 1  # which matching request of the flow is cut

    def rule(self, fault: Fault) -> Rule:
        # A provider call is cut every time during the first attempt, so a retry inside the Processor
        # cannot hide the fault; a commercetools write is cut once.
        times = 0 if self.upstream == "ledger" else 1
        delay = PAST_TIMEOUT if self.upstream == "ledger" else PAST_CTP_TIMEOUT
        return Rule(self.method, self.path, fault, nth=self.nth, times=times, delay=delay)


PROJECT = DEFAULT_PROJECT_KEY
PROVIDER_CALL = Write("ledger", "POST", r"/v1/(?!cards/).+")  # debit, hold, capture, void, refund
CREATE_PAYMENT = Write("commercetools", "POST", rf"/{PROJECT}/payments")
ADD_PAYMENT = Write("commercetools", "POST", rf"/{PROJECT}/carts/[^/]+")
FIRST_PAYMENT_UPDATE = Write("commercetools", "POST", rf"/{PROJECT}/payments/[^/]+", nth=1)
SECOND_PAYMENT_UPDATE = Write("commercetools", "POST", rf"/{PROJECT}/payments/[^/]+", nth=2)

# The payment is created with its Initial transaction, so the first update after it records the outcome.
REDEEM_WRITES = {
    "create-payment": CREATE_PAYMENT,
    "add-payment": ADD_PAYMENT,
    "provider": PROVIDER_CALL,
    "record-outcome": FIRST_PAYMENT_UPDATE,
}
INTENT_WRITES = {
    "add-transaction": FIRST_PAYMENT_UPDATE,
    "provider": PROVIDER_CALL,
    "record-outcome": SECOND_PAYMENT_UPDATE,
}
# Toward commercetools "lost answer" and "5xx" are the two outcomes that matter (it wrote / it did not),
# plus, on the redemption's writes, a write that lands after the Processor gave up on it. Toward the
# provider also a late action after the timeout; and a refused connection, which a client sees like a 5xx
# without forwarding, on the redemption calls only.
COMMERCETOOLS_FAULTS = (Fault.DROP_ANSWER, Fault.ERROR)
PROVIDER_FAULTS = (Fault.DROP_ANSWER, Fault.ERROR, Fault.DELAY)


def _cases(upstream: str) -> list[Any]:
    cases = []
    for flow_name, flow in FLOWS.items():
        writes = REDEEM_WRITES if flow.action is None else INTENT_WRITES
        faults = COMMERCETOOLS_FAULTS if upstream == "commercetools" else PROVIDER_FAULTS
        if flow.action is None:
            faults = (*faults, Fault.REFUSE if upstream == "ledger" else Fault.DELAY)
        for write_name, write in writes.items():
            if write.upstream == upstream:
                cases += [pytest.param(flow, write, f, id=f"{flow_name}-{write_name}-{f.value}") for f in faults]
    return cases


# -- what counts as a definite answer, and what an answer may be while the outcome is unknown ------------


def _check_first_answer(flow: Flow, answer: httpx.Response) -> None:
    """Under a fault the Processor may say "not now", never a refusal or a 500 (contract 4)."""
    assert answer.status_code in {200, 409, 502, 503, 504}, answer.text
    if answer.status_code == 200 and flow.action is None:
        assert answer.json()["result"] == "Success", answer.text
    elif answer.status_code == 200:
        assert answer.json()["outcome"] in {"approved", "received"}, answer.text


def _redeemed_payment(stack: FaultStack, shopper: Shopper, card: IssuedCard, mode: str) -> str:
    api = stack.api(mode)
    answer = until_definite(stack, mode, lambda: redeem_call(api, shopper, card, REDEEMED), redeem_definite)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["paymentReference"])


@pytest.mark.parametrize(("flow", "write", "fault"), _cases("ledger"))
def test_a_cut_provider_call_then_a_retry_and_reconcile_leave_ledger_and_commercetools_agreeing(
    stack: FaultStack, flow: Flow, write: Write, fault: Fault
) -> None:
    _cut_then_recover(stack, flow, write, fault)


# The ledger's code paths do not depend on which commercetools write was cut (it sees the same calls), so
# these run on the SQLite ledger only; the provider cuts above run on both databases.
@pytest.mark.parametrize("fault_ledger", ["sqlite"], indirect=True)
@pytest.mark.parametrize(("flow", "write", "fault"), _cases("commercetools"))
def test_a_cut_commercetools_write_then_a_retry_and_reconcile_leave_ledger_and_commercetools_agreeing(
    stack: FaultStack, flow: Flow, write: Write, fault: Fault
) -> None:
    _cut_then_recover(stack, flow, write, fault)


@dataclass(frozen=True)
class Scene:
    """A fresh card and cart brought to the state the flow starts from, and the flow's one call."""

    card: IssuedCard
    shopper: Shopper
    call: Callable[[], httpx.Response]
    definite: Callable[[httpx.Response], bool]


def _scene(stack: FaultStack, flow: Flow) -> Scene:
    card = stack.issue(ISSUED)
    shopper = stack.shopper()
    api = stack.api(flow.mode)
    action = flow.action
    if action is None:
        return Scene(card, shopper, lambda: redeem_call(api, shopper, card, REDEEMED), redeem_definite)
    payment_id = _redeemed_payment(stack, shopper, card, flow.mode)
    for earlier in flow.before:
        done = until_definite(
            stack, flow.mode, partial(intent, api, stack.emulator, payment_id, earlier), intent_definite
        )
        assert done.json() == {"outcome": "approved"}, done.text
    return Scene(card, shopper, lambda: intent(api, stack.emulator, payment_id, action), intent_definite)


def _cut(stack: FaultStack, scene: Scene, flow: Flow, write: Write, fault: Fault) -> httpx.Response:
    """The flow's call with one write cut; the answer must be one the contract allows under a fault."""
    proxy = stack.ledger_proxy if write.upstream == "ledger" else stack.ct_proxy
    rule = write.rule(fault)
    proxy.add(rule)
    first = scene.call()
    assert rule.fired, f"the flow never made the write {write}: nothing was cut"
    _check_first_answer(flow, first)
    proxy.clear()
    return first


def _cut_then_recover(stack: FaultStack, flow: Flow, write: Write, fault: Fault) -> None:
    scene = _scene(stack, flow)
    first = _cut(stack, scene, flow, write, fault)
    last = first if scene.definite(first) else until_definite(stack, flow.mode, scene.call, scene.definite)
    assert scene.definite(last), (
        f"no definite answer after retries and reconcile: {last.status_code} {last.text} "
        f"(first answer: {first.status_code} {first.text})"
    )
    if flow.action is None:
        assert last.json()["result"] == "Success", last.text
    else:
        assert last.json() == {"outcome": "approved"}, last.text

    stack.reconcile(flow.mode)
    stack.assert_agree(scene.card, scene.shopper, balance=flow.balance, available=flow.available)


def _reconcile_only_cases() -> list[Any]:
    return [
        pytest.param(
            flow,
            fault,
            id=f"{name}-{fault.value}",
        )
        for name, flow in FLOWS.items()
        for fault in (Fault.DROP_ANSWER, Fault.ERROR)
    ]


@pytest.mark.parametrize(("flow", "fault"), _reconcile_only_cases())
def test_an_unknown_provider_outcome_nobody_retries_is_settled_by_the_reconciler_alone(
    stack: FaultStack, flow: Flow, fault: Fault
) -> None:
    """The shopper leaves, Checkout does not repeat: `reconcile` asks the provider what became of the key.
    A lost answer (the provider acted) settles as done; a call that never arrived settles as not done."""
    scene = _scene(stack, flow)
    before = stack.ledger_card(scene.card)
    first = _cut(stack, scene, flow, PROVIDER_CALL, fault)
    assert not scene.definite(first), f"an unknown outcome must not be answered as settled: {first.text}"
    stack.settle_proxies()
    stack.reconcile(flow.mode)
    if fault is Fault.DROP_ANSWER:
        stack.assert_agree(scene.card, scene.shopper, balance=flow.balance, available=flow.available)
    else:
        stack.assert_agree(scene.card, scene.shopper, balance=before.balance, available=before.available)


@pytest.mark.parametrize(
    "flow",
    [pytest.param(flow, id=name) for name, flow in FLOWS.items()],
)
def test_a_reconciler_that_cannot_ask_the_provider_leaves_the_outcome_unknown_and_settles_it_later(
    stack: FaultStack, flow: Flow
) -> None:
    """The provider acted, its answer was lost, and then its status endpoint fails too: the reconciler must
    not guess (a Failure here would lose the money); the next pass, with the provider back, settles it."""
    scene = _scene(stack, flow)
    _cut(stack, scene, flow, PROVIDER_CALL, Fault.DROP_ANSWER)
    asking = Rule("GET", r"/v1/operations", Fault.ERROR, times=0)
    stack.ledger_proxy.add(asking)
    blind = stack.reconcile(flow.mode, through_proxies=True)
    assert asking.fired, "the reconciler did not ask the provider"
    assert blind["unsettled"] >= 1 and blind["failure"] == 0, blind
    states = {
        t["state"] for p in connector_payments(stack.emulator, [scene.shopper.anonymous_id]) for t in p["transactions"]
    }
    assert "Pending" in states or "Initial" in states, f"settled without the provider's word: {states}"
    stack.clear_faults()
    stack.reconcile(flow.mode)
    stack.assert_agree(scene.card, scene.shopper, balance=flow.balance, available=flow.available)


def test_a_lost_redeem_answer_retried_under_the_same_idempotency_key_charges_once_and_a_new_key_charges_again(
    stack: FaultStack,
) -> None:
    """Our Enabler names each submit() with an Idempotency-Key and reuses it on its own retries."""
    card = stack.issue(ISSUED)
    shopper = stack.shopper()
    api = stack.api("direct")

    def submit(key: str) -> httpx.Response:
        body = {"code": card.code, "redeemAmount": money(1000)}
        return api.post("/redeem", json=body, headers={"X-Session-Id": shopper.session_id, "Idempotency-Key": key})

    rule = PROVIDER_CALL.rule(Fault.DROP_ANSWER)
    stack.ledger_proxy.add(rule)
    first = submit("submit-1")
    assert rule.fired and first.status_code == 503, first.text
    stack.clear_faults()
    retried = submit("submit-1")
    assert retried.status_code == 200 and retried.json()["result"] == "Success", retried.text
    stack.assert_agree(card, shopper, balance=ISSUED - 1000)

    again = submit("submit-2")  # a new submit by the shopper: a new redemption, the cart still owes
    assert again.status_code == 200 and again.json()["paymentReference"] != retried.json()["paymentReference"]
    stack.reconcile()
    stack.assert_agree(card, shopper, balance=ISSUED - 2000)
