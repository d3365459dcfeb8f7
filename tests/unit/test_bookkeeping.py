"""Transaction bookkeeping against an in-memory commercetools and scripted providers."""

from __future__ import annotations

import copy
import uuid
from typing import Any

import pytest

from giftcard_connector.auth.session import SessionContext
from giftcard_connector.commercetools import transactions as txn
from giftcard_connector.errors import GiftCardError, UpstreamError
from giftcard_connector.giftcards.service import GiftCardService
from giftcard_connector.money import Money
from giftcard_connector.operations.payment_intents import Outcome, PaymentIntentService
from giftcard_connector.operations.schemas import parse_action
from giftcard_connector.providers.base import (
    BalanceResult,
    BalanceState,
    OperationResult,
    OperationStatus,
    ProviderUnavailable,
)
from giftcard_connector.providers.mock import MockProvider
from giftcard_connector.settings import CaptureMode


class FakeCommercetools:
    """Applies the update actions we use, bumping the version per request like commercetools."""

    project_key = "proj"

    def __init__(self) -> None:
        self.payments: dict[str, dict[str, Any]] = {}
        self.carts: dict[str, dict[str, Any]] = {}
        self.updates: list[list[dict[str, Any]]] = []

    def add_cart(self, total: int) -> str:
        cart_id = str(uuid.uuid4())
        self.carts[cart_id] = {
            "id": cart_id,
            "version": 1,
            "anonymousId": "anon",
            "totalPrice": {"centAmount": total, "currencyCode": "EUR"},
            "paymentInfo": {"payments": []},
        }
        return cart_id

    async def get_cart(self, cart_id: str) -> dict[str, Any]:
        cart = copy.deepcopy(self.carts[cart_id])
        for ref in cart["paymentInfo"]["payments"]:
            ref["obj"] = copy.deepcopy(self.payments[ref["id"]])
        return cart

    async def add_payment_to_cart(self, cart: dict[str, Any], payment_id: str, check: Any = None) -> dict[str, Any]:
        current = await self.get_cart(cart["id"])
        if any(ref["id"] == payment_id for ref in current["paymentInfo"]["payments"]):
            return current
        if check is not None:
            check(current)  # the real client re-checks on the re-read cart after a 409
        stored = self.carts[cart["id"]]
        stored["paymentInfo"]["payments"].append({"typeId": "payment", "id": payment_id})
        stored["version"] += 1
        return copy.deepcopy(stored)

    async def create_payment(self, draft: dict[str, Any]) -> dict[str, Any]:
        if draft.get("key") and any(p.get("key") == draft["key"] for p in self.payments.values()):
            raise UpstreamError(400, "duplicate", [{"code": "DuplicateField", "field": "key"}])
        transactions = [{**t, "id": str(uuid.uuid4())} for t in draft.get("transactions", [])]
        payment = {**copy.deepcopy(draft), "id": str(uuid.uuid4()), "version": 1, "transactions": transactions}
        self.payments[payment["id"]] = payment
        return copy.deepcopy(payment)

    async def get_payment_by_key(self, key: str) -> dict[str, Any] | None:
        found = next((p for p in self.payments.values() if p.get("key") == key), None)
        return copy.deepcopy(found) if found else None

    async def get_payment(self, payment_id: str) -> dict[str, Any]:
        return copy.deepcopy(self.payments[payment_id])

    async def update_payment(self, payment: dict[str, Any], actions: Any) -> dict[str, Any]:
        stored = self.payments[payment["id"]]
        if callable(actions):
            actions = actions(copy.deepcopy(stored))
            if not actions:
                return copy.deepcopy(stored)
        self.updates.append(actions)
        for action in actions:
            name = action["action"]
            if name == "addTransaction":
                stored["transactions"].append({**action["transaction"], "id": str(uuid.uuid4())})
            elif name == "changeTransactionState":
                self._transaction(stored, action["transactionId"])["state"] = action["state"]
            elif name == "changeTransactionInteractionId":
                self._transaction(stored, action["transactionId"])["interactionId"] = action["interactionId"]
            elif name == "setInterfaceId":
                stored["interfaceId"] = action["interfaceId"]
        stored["version"] += 1
        return copy.deepcopy(stored)

    @staticmethod
    def _transaction(payment: dict[str, Any], transaction_id: str) -> dict[str, Any]:
        return next(t for t in payment["transactions"] if t["id"] == transaction_id)


class ScriptedProvider(MockProvider):
    """The mock, but money-moving calls answer from a script (results or exceptions)."""

    def __init__(self, *script: OperationResult | Exception) -> None:
        super().__init__()
        self.script = list(script)
        self.keys: list[str] = []

    async def _next(self, key: str) -> OperationResult:
        self.keys.append(key)
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        return step

    async def redeem(self, code, pin, amount, idempotency_key):  # type: ignore[no-untyped-def]
        return await self._next(idempotency_key)

    async def refund(self, reference, amount, idempotency_key):  # type: ignore[no-untyped-def]
        return await self._next(idempotency_key)

    async def balance(self, code, pin):  # type: ignore[no-untyped-def]
        return BalanceResult(BalanceState.VALID, Money(5000, "EUR"))


OK = OperationResult(OperationStatus.SUCCESS, reference="ref-1")
REFUSED = OperationResult(OperationStatus.FAILURE, reason=BalanceState.EXPIRED, message="expired")
DOWN = ProviderUnavailable("connection refused")


def session(cart_id: str) -> SessionContext:
    return SessionContext("session-1", cart_id, {})


async def test_redeem_records_the_outcome_in_one_update():
    ct = FakeCommercetools()
    cart_id = ct.add_cart(10000)
    service = GiftCardService(ct, ScriptedProvider(OK), CaptureMode.DIRECT)  # type: ignore[arg-type]
    result = await service.redeem(session(cart_id), "code", None, Money(1000, "EUR"))
    payment = ct.payments[result.payment_id]
    assert [(t["type"], t["state"], t["interactionId"]) for t in payment["transactions"]] == [
        ("Charge", "Success", "ref-1")
    ]
    assert payment["interfaceId"] == "ref-1"
    assert len(ct.updates) == 1


async def test_unanswered_provider_leaves_pending_and_a_resubmit_settles_it_with_the_same_key():
    ct = FakeCommercetools()
    cart_id = ct.add_cart(10000)
    provider = ScriptedProvider(DOWN, DOWN, OK)
    service = GiftCardService(ct, provider, CaptureMode.DIRECT)  # type: ignore[arg-type]
    with pytest.raises(GiftCardError) as caught:
        await service.redeem(session(cart_id), "code", None, Money(1000, "EUR"))
    assert caught.value.status_code == 503
    [payment] = ct.payments.values()
    assert [t["state"] for t in payment["transactions"]] == ["Pending"]
    # The pending charge still counts as paid: nobody can over-redeem while it is unresolved.
    result = await service.redeem(session(cart_id), "code", None, Money(1000, "EUR"))
    assert result.result == "Success"
    assert [t["state"] for t in ct.payments[result.payment_id]["transactions"]] == ["Success"]
    assert len(set(provider.keys)) == 1, "every try of one redemption uses the same idempotency key"


async def test_refusal_is_a_failure_transaction_and_a_retry_is_a_new_payment():
    ct = FakeCommercetools()
    cart_id = ct.add_cart(10000)
    provider = ScriptedProvider(REFUSED, OK)
    service = GiftCardService(ct, provider, CaptureMode.DIRECT)  # type: ignore[arg-type]
    with pytest.raises(GiftCardError) as caught:
        await service.redeem(session(cart_id), "code", None, Money(1000, "EUR"))
    assert caught.value.state is BalanceState.EXPIRED
    await service.redeem(session(cart_id), "code", None, Money(1000, "EUR"))
    states = sorted(p["transactions"][0]["state"] for p in ct.payments.values())
    assert states == ["Failure", "Success"]
    assert provider.keys[0] != provider.keys[1]


async def _charged_payment(ct: FakeCommercetools) -> str:
    payment = await ct.create_payment(
        {
            "amountPlanned": {"centAmount": 3000, "currencyCode": "EUR"},
            "paymentMethodInfo": {"method": "giftcard", "paymentInterface": "mock"},
        }
    )
    await ct.update_payment(
        payment,
        [
            {
                "action": "addTransaction",
                "transaction": {
                    "type": "Charge",
                    "state": "Success",
                    "interactionId": "mock-redemption-1",
                    "amount": {"centAmount": 3000, "currencyCode": "EUR"},
                },
            },
        ],
    )
    ct.updates.clear()
    return str(payment["id"])


REFUND_1000 = {"actions": [{"action": "refundPayment", "amount": {"centAmount": 1000, "currencyCode": "EUR"}}]}


@pytest.mark.parametrize(
    ("step", "outcome", "state"),
    [
        (OK, Outcome.APPROVED, "Success"),
        (REFUSED, Outcome.REJECTED, "Failure"),
        # Unreachable: the money may have moved, so never Failure (contract section 4).
        (DOWN, Outcome.RECEIVED, "Pending"),
        (OperationResult(OperationStatus.PENDING, reference="later"), Outcome.RECEIVED, "Pending"),
    ],
)
async def test_modifications_write_initial_first_then_the_outcome(step, outcome, state):
    ct = FakeCommercetools()
    payment_id = await _charged_payment(ct)
    provider = ScriptedProvider(step)
    service = PaymentIntentService(ct, provider)  # type: ignore[arg-type]
    assert await service.modify(payment_id, parse_action(REFUND_1000)) is outcome
    first, second = ct.updates
    assert first[0]["action"] == "addTransaction"
    assert first[0]["transaction"]["state"] == "Initial"
    assert first[0]["transaction"]["interactionId"]
    assert second[-1] == {
        "action": "changeTransactionState",
        "transactionId": second[-1]["transactionId"],
        "state": state,
    }
    refund = ct.payments[payment_id]["transactions"][-1]
    assert (refund["type"], refund["state"]) == ("Refund", state)
    assert provider.keys == [f"{payment_id}:{refund['id']}"]


def test_an_outcome_already_recorded_by_another_copy_is_not_recorded_again():
    recorded = {
        "transactions": [
            {"id": "t1", "type": "Charge", "state": "Success", "interactionId": "ref-1", "amount": {}},
        ]
    }
    assert txn.outcome_actions(recorded, "t1", OK, interface_id=True) == []
    pending = {"transactions": [{"id": "t9", "type": "Charge", "state": "Pending", "interactionId": "k"}]}
    actions = txn.outcome_actions(pending, "t9", OK, interface_id=True)
    assert {"action": "changeTransactionState", "transactionId": "t9", "state": "Success"} in actions


async def test_a_conflicting_update_is_derived_again_from_the_reread_payment():
    """The client re-derives actions after a 409: a writer that got there first is not repeated."""
    import aiohttp
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from giftcard_connector.commercetools.client import CommercetoolsClient, CommercetoolsConfig

    settled = {
        "id": "p1",
        "version": 3,
        "transactions": [{"id": "t1", "type": "Charge", "state": "Success", "interactionId": "ref-1"}],
    }
    posts: list[bytes] = []

    async def handle(request: web.Request) -> web.Response:
        if request.path == "/oauth/token":
            return web.json_response({"access_token": "t", "expires_in": 3600})
        if request.method == "POST":
            posts.append(await request.read())
            return web.json_response({"errors": [{"code": "ConcurrentModification"}]}, status=409)
        return web.json_response(settled)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    base = str(server.make_url("")).rstrip("/")
    try:
        async with aiohttp.ClientSession() as http:
            client = CommercetoolsClient(CommercetoolsConfig("proj", "id", "s", base, base, base), http)
            result = await client.update_payment(
                {"id": "p1", "version": 1, "transactions": [{"id": "t1", "type": "Charge", "state": "Initial"}]},
                lambda current: txn.outcome_actions(current, "t1", OK, interface_id=True),
            )
    finally:
        await server.close()
    assert len(posts) == 1, "after the re-read there was nothing left to write"
    assert result["version"] == 3


@pytest.mark.parametrize(("age_seconds", "resumed"), [(1, True), (3600, False)])
async def test_an_intent_the_provider_never_received_is_driven_while_young_else_failed_and_tried_anew(
    age_seconds, resumed
):
    import datetime as dt

    from giftcard_connector.giftcards.idempotency import redemption_key

    ct = FakeCommercetools()
    cart_id = ct.add_cart(10000)
    amount = Money(1000, "EUR")
    written = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=age_seconds)
    intent = txn.intent("Charge", amount, "intent-1") | {"timestamp": txn.timestamp(written)}
    payment = await ct.create_payment(
        {
            "key": redemption_key("session-1", "code", amount),
            "amountPlanned": amount.to_json(),
            "transactions": [intent],
        }
    )
    await ct.add_payment_to_cart(ct.carts[cart_id], payment["id"])
    provider = ScriptedProvider(OK)
    service = GiftCardService(ct, provider, CaptureMode.DIRECT)  # type: ignore[arg-type]
    result = await service.redeem(session(cart_id), "code", None, amount)
    key = f"{payment['id']}:{payment['transactions'][0]['id']}"
    if resumed:
        assert result.payment_id == payment["id"], "a young intent is driven with its own key"
        assert provider.keys == [key]
    else:
        # Older than the grace period and unknown to the provider: it can no longer be acted on.
        assert ct.payments[payment["id"]]["transactions"][0]["state"] == "Failure"
        assert result.payment_id != payment["id"]
        assert provider.keys != [key]


class LostAnswerProvider(ScriptedProvider):
    """The provider acts but its answer is lost; status(key) then tells the truth."""

    def __init__(self) -> None:
        super().__init__(DOWN)
        self.done: dict[str, OperationResult] = {}

    async def refund(self, reference, amount, idempotency_key):  # type: ignore[no-untyped-def]
        self.done[idempotency_key] = OperationResult(OperationStatus.SUCCESS, reference="rfd-1", amount=amount)
        return await self._next(idempotency_key)

    async def status(self, idempotency_key: str) -> OperationResult | None:
        return self.done.get(idempotency_key)


@pytest.mark.parametrize("amount", [1000, 3000])
async def test_checkouts_repeat_of_a_refund_whose_answer_was_lost_is_its_outcome_not_a_second_refund(amount):
    ct = FakeCommercetools()
    payment_id = await _charged_payment(ct)
    provider = LostAnswerProvider()
    service = PaymentIntentService(ct, provider)  # type: ignore[arg-type]
    refund = {"actions": [{"action": "refundPayment", "amount": {"centAmount": amount, "currencyCode": "EUR"}}]}
    assert await service.modify(payment_id, parse_action(refund)) is Outcome.RECEIVED
    assert await service.modify(payment_id, parse_action(refund)) is Outcome.APPROVED
    refunds = [t for t in ct.payments[payment_id]["transactions"] if t["type"] == "Refund"]
    assert [(t["state"], t["interactionId"]) for t in refunds] == [("Success", "rfd-1")]
    assert len(provider.keys) == 1, "the provider was asked to refund once"


async def test_an_intent_between_half_and_the_whole_grace_period_is_left_to_the_reconciler():
    import datetime as dt

    from giftcard_connector.giftcards.idempotency import redemption_key

    ct = FakeCommercetools()
    cart_id = ct.add_cart(10000)
    amount = Money(1000, "EUR")
    written = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=200)  # grace 300: not drivable, not yet failed
    intent = txn.intent("Charge", amount, "intent-1") | {"timestamp": txn.timestamp(written)}
    payment = await ct.create_payment(
        {
            "key": redemption_key("session-1", "code", amount),
            "amountPlanned": amount.to_json(),
            "transactions": [intent],
        }
    )
    await ct.add_payment_to_cart(ct.carts[cart_id], payment["id"])
    provider = ScriptedProvider(OK)
    service = GiftCardService(ct, provider, CaptureMode.DIRECT, grace=300)  # type: ignore[arg-type]
    with pytest.raises(GiftCardError) as caught:
        await service.redeem(session(cart_id), "code", None, amount)
    assert caught.value.status_code == 503
    assert provider.keys == []
    assert ct.payments[payment["id"]]["transactions"][0]["state"] == "Initial"


async def test_a_redemption_that_no_longer_fits_after_a_concurrent_add_is_failed_without_calling_the_provider():
    """Another copy added a payment between our owed check and our addPayment: commercetools answers 409,
    the re-read cart is checked again, and our intent is recorded Failure with a 400."""
    from giftcard_connector.errors import InvalidField

    ct = FakeCommercetools()
    cart_id = ct.add_cart(5000)
    rival: dict[str, Any] = {}
    original = ct.add_payment_to_cart

    async def add_after_a_rival(cart: dict[str, Any], payment_id: str, check: Any = None) -> dict[str, Any]:
        if not rival:  # the other copy's 4000 lands first
            rival.update(
                await ct.create_payment(
                    {
                        "amountPlanned": {"centAmount": 4000, "currencyCode": "EUR"},
                        "transactions": [txn.intent("Charge", Money(4000, "EUR"), "other-copy")],
                    }
                )
            )
            await original(ct.carts[cart_id], rival["id"])
        return await original(cart, payment_id, check)

    ct.add_payment_to_cart = add_after_a_rival  # type: ignore[method-assign]
    provider = ScriptedProvider(OK)
    service = GiftCardService(ct, provider, CaptureMode.DIRECT)  # type: ignore[arg-type]
    with pytest.raises(InvalidField) as caught:
        await service.redeem(session(cart_id), "code", None, Money(3000, "EUR"))
    assert caught.value.fields["maxCentAmount"] == 1000
    assert provider.keys == [], "the provider is never called for an intent that no longer fits"
    ours = next(p for p in ct.payments.values() if p["id"] != rival["id"])
    assert [t["state"] for t in ours["transactions"]] == ["Failure"]
    assert ours["id"] not in {ref["id"] for ref in ct.carts[cart_id]["paymentInfo"]["payments"]}


async def test_an_outcome_that_cannot_be_written_is_an_unknown_outcome_not_an_error_body():
    from giftcard_connector.errors import ServiceUnavailable

    ct = FakeCommercetools()
    cart_id = ct.add_cart(10000)
    payment_id = await _charged_payment(ct)
    original = ct.update_payment

    async def commercetools_down(payment: dict[str, Any], actions: Any) -> dict[str, Any]:
        todo = actions(copy.deepcopy(ct.payments[payment["id"]])) if callable(actions) else actions
        if any(action["action"] == "changeTransactionState" for action in todo):  # the outcome write
            raise ServiceUnavailable("commercetools is unreachable")
        return await original(payment, actions)

    ct.update_payment = commercetools_down  # type: ignore[method-assign]
    provider = ScriptedProvider(OK, OK)
    with pytest.raises(GiftCardError) as caught:
        await GiftCardService(ct, provider, CaptureMode.DIRECT).redeem(  # type: ignore[arg-type]
            session(cart_id), "code", None, Money(1000, "EUR")
        )
    assert caught.value.status_code == 503 and caught.value.state is BalanceState.GENERIC_ERROR
    redeemed = next(p for p in ct.payments.values() if p.get("key"))
    assert [t["state"] for t in redeemed["transactions"]] == ["Initial"], "left for status(key) to settle"
    outcome = await PaymentIntentService(ct, provider).modify(payment_id, parse_action(REFUND_1000))  # type: ignore[arg-type]
    assert outcome is Outcome.RECEIVED


async def test_a_capture_that_lands_after_its_transaction_was_failed_is_given_back():
    ct = FakeCommercetools()
    payment = await ct.create_payment(
        {
            "amountPlanned": {"centAmount": 3000, "currencyCode": "EUR"},
            "paymentMethodInfo": {"method": "giftcard", "paymentInterface": "mock"},
            "transactions": [
                {
                    "type": "Authorization",
                    "state": "Success",
                    "interactionId": "hld_1",
                    "amount": {"centAmount": 3000, "currencyCode": "EUR"},
                }
            ],
        }
    )

    class LateCapture(ScriptedProvider):
        async def capture(self, reference, amount, idempotency_key):  # type: ignore[no-untyped-def]
            # Meanwhile the reconciler (grace period over, key unknown) recorded the intent Failure.
            for transaction in ct.payments[payment["id"]]["transactions"]:
                if transaction["type"] == "Charge":
                    transaction["state"] = "Failure"
            return OperationResult(OperationStatus.SUCCESS, reference="red_late")

    provider = LateCapture(OK)
    capture = {"actions": [{"action": "capturePayment", "amount": {"centAmount": 3000, "currencyCode": "EUR"}}]}
    outcome = await PaymentIntentService(ct, provider).modify(payment["id"], parse_action(capture))  # type: ignore[arg-type]
    assert outcome is Outcome.REJECTED
    [undo_key] = provider.keys
    assert undo_key.endswith(":undo"), "the late capture is refunded with its own key"
