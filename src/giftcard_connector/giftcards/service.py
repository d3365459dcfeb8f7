"""Enabler-facing flows: balance check and redemption (contract sections 4 and 9).

A redemption follows the one transaction model (commercetools/transactions.py):
1. the payment is created WITH its Initial Charge (or Authorization), keyed by the redemption's name;
2. it is added to the cart with the cart version the owed-amount check read (in-flight payments
   count as taken); on 409 the cart is re-read and checked again; when it no longer fits, the
   transaction is recorded Failure (the provider was never called) and the answer is 400;
3. the provider is called with the transaction's idempotency key, and the outcome recorded.
So the amount owed holds across Processor copies without any lock: two copies can both pass the
check, but only one addPayment per cart version succeeds and the other re-checks.
On a fresh cart that is five commercetools calls: session, cart, create, addPayment, record.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import structlog

from giftcard_connector.auth.session import SessionContext
from giftcard_connector.commercetools import payments as rules
from giftcard_connector.commercetools import transactions as txn
from giftcard_connector.commercetools.client import CommercetoolsClient
from giftcard_connector.errors import ApiError, GiftCardError, InvalidField, UpstreamError
from giftcard_connector.giftcards.idempotency import KeyedLocks, attempt_key, attempt_number, redemption_key
from giftcard_connector.log import mask_code
from giftcard_connector.money import Money
from giftcard_connector.providers.base import (
    BalanceResult,
    BalanceState,
    GiftCardProvider,
    OperationResult,
    OperationStatus,
    ProviderUnavailable,
)
from giftcard_connector.settings import CaptureMode

log = structlog.get_logger(__name__)

_UNAVAILABLE_MESSAGE = "The gift card provider is not available; please try again"
_PENDING_MESSAGE = "The gift card provider did not confirm the redemption; submit again to complete it"
# Attempts of one redemption name (each after the previous one failed, was refunded or cancelled).
MAX_ATTEMPTS = 20
_SETTLING_MESSAGE = "This redemption is being settled with the gift card provider; submit again later"


@dataclass(frozen=True, slots=True)
class Redemption:
    result: str
    payment_id: str
    redemption_id: str | None

    def body(self) -> dict[str, Any]:
        return {
            "result": self.result,
            "paymentReference": self.payment_id,
            "redemptionId": self.redemption_id,
        }


class _NoLongerFits(Exception):
    def __init__(self, owed: Money) -> None:
        self.owed = owed


def balance_error(result: BalanceResult) -> GiftCardError:
    return GiftCardError(result.state, result.message or f"Gift card state: {result.state.value}")


def check_usable(result: BalanceResult, cart_currency: str) -> Money:
    """The card's balance if it can pay for this cart, else the BalanceType error."""
    if result.state is not BalanceState.VALID or result.amount is None:
        raise balance_error(result)
    if result.amount.currency_code != cart_currency:
        raise GiftCardError(BalanceState.CURRENCY_NOT_MATCH, "The gift card's currency does not match the cart's")
    if result.amount.cent_amount <= 0:
        raise GiftCardError(BalanceState.ZERO_BALANCE, "The gift card has no balance left")
    return result.amount


def _too_much(amount: Money, owed: Money) -> InvalidField:
    return InvalidField(
        "redeemAmount.centAmount",
        f"redeemAmount {amount.cent_amount} is more than the cart still owes ({owed.cent_amount})",
        maxCentAmount=owed.cent_amount,
    )


def check_redeem_amount(amount: Money, owed: Money, card_balance: Money) -> None:
    """Server-side amount rules: positive, the cart's currency, at most owed, at most the balance."""
    if amount.currency_code != owed.currency_code:
        raise InvalidField(
            "redeemAmount.currencyCode",
            f"redeemAmount must be in the cart's currency {owed.currency_code}, not {amount.currency_code}",
        )
    if amount.cent_amount <= 0:
        raise InvalidField("redeemAmount.centAmount", "redeemAmount must be a positive amount")
    if amount.cent_amount > owed.cent_amount:
        raise _too_much(amount, owed)
    if amount.cent_amount > card_balance.cent_amount:
        raise InvalidField(
            "redeemAmount.centAmount",
            f"redeemAmount {amount.cent_amount} is more than the gift card holds ({card_balance.cent_amount})",
            maxCentAmount=card_balance.cent_amount,
        )


def _fits(amount: Money) -> Any:
    def check(cart: dict[str, Any]) -> None:
        owed = rules.amount_owed(cart)
        if amount.cent_amount > owed.cent_amount:
            raise _NoLongerFits(owed)

    return check


def _twins(cart: dict[str, Any], name: str) -> dict[int, dict[str, Any]]:
    """The cart's payments of this redemption name, by attempt number."""
    found: dict[int, dict[str, Any]] = {}
    for payment in rules.expanded_payments(cart):
        number = attempt_number(name, str(payment.get("key") or ""))
        if number is not None:
            found[number] = payment
    return found


class GiftCardService:
    def __init__(
        self,
        commercetools: CommercetoolsClient,
        provider: GiftCardProvider,
        capture_mode: CaptureMode,
        grace: float = txn.GRACE_SECONDS,
    ) -> None:
        self._grace = grace
        self._ct = commercetools
        self._provider = provider
        self._capture_mode = capture_mode
        self._locks = KeyedLocks()
        self._kind = "Authorization" if capture_mode is CaptureMode.AUTHORIZE else "Charge"

    async def _provider_balance(self, code: str, pin: str | None) -> BalanceResult:
        try:
            return await self._provider.balance(code, pin)
        except ProviderUnavailable as error:
            log.warning("provider_balance_unavailable", card=mask_code(code), error=str(error))
            raise GiftCardError(BalanceState.GENERIC_ERROR, _UNAVAILABLE_MESSAGE, status_code=503) from None

    async def balance(self, session: SessionContext, code: str, pin: str | None) -> dict[str, Any]:
        # The cart (for its currency) and the card are independent: ask both at once.
        cart, result = await asyncio.gather(self._ct.get_cart(session.cart_id), self._provider_balance(code, pin))
        amount = check_usable(result, rules.cart_total(cart).currency_code)
        return {"status": {"state": BalanceState.VALID.value}, "amount": amount.to_json()}

    async def redeem(
        self, session: SessionContext, code: str, pin: str | None, amount: Money, header_key: str | None = None
    ) -> Redemption:
        name = redemption_key(session.session_id, code, amount, header_key)
        # Only an optimisation (fewer 409s between submits in this process); the guarantee is the
        # version-conditional addPayment and the payment key's uniqueness in commercetools.
        async with self._locks.hold(session.cart_id):
            cart, card = await asyncio.gather(self._ct.get_cart(session.cart_id), self._provider_balance(code, pin))
            twins = _twins(cart, name)
            for number in sorted(twins):
                if rules.is_live_redemption(twins[number]):
                    done = await self._resume(cart, twins[number], code, pin, amount)
                    if done is not None:
                        return done
                    cart = await self._ct.get_cart(session.cart_id)  # that attempt is over: owed changed
            attempt = max(twins, default=0) + 1
            while attempt <= MAX_ATTEMPTS:
                key = attempt_key(name, attempt)
                balance = check_usable(card, rules.cart_total(cart).currency_code)
                check_redeem_amount(amount, rules.amount_owed(cart), balance)
                payment = await self._create_payment(session, cart, key, amount)
                if payment is not None:
                    log.info("redemption_started", payment_id=payment["id"], card=mask_code(code), amount=str(amount))
                    await self._reserve(cart, payment, amount)
                    return await self._drive(payment, self._intent(payment), code, pin, amount)
                # The key exists but was not on the cart as read: made by another copy (perhaps never
                # added to the cart, after a crash). Resume it if it stands, else try the next attempt.
                existing = await self._ct.get_payment_by_key(key)
                cart = await self._ct.get_cart(session.cart_id)
                if existing is not None and rules.is_live_redemption(existing):
                    done = await self._resume(cart, existing, code, pin, amount)
                    if done is not None:
                        return done
                    cart = await self._ct.get_cart(session.cart_id)
                attempt += 1
            raise ApiError(409, "TooManyAttempts", "This redemption was tried too many times; start a new one")

    async def _create_payment(
        self, session: SessionContext, cart: dict[str, Any], key: str, amount: Money
    ) -> dict[str, Any] | None:
        """The payment with its Initial transaction (the intent), or None when the key is taken."""
        draft: dict[str, Any] = {
            "key": key,
            "amountPlanned": amount.to_json(),
            "paymentMethodInfo": {
                "method": rules.PAYMENT_METHOD,
                "paymentInterface": session.payment_interface or self._provider.name,
                "name": {"en": "Gift card"},
            },
            "transactions": [txn.intent(self._kind, amount, txn.new_marker())],
        }
        if cart.get("customerId"):
            draft["customer"] = {"typeId": "customer", "id": cart["customerId"]}
        elif cart.get("anonymousId"):
            draft["anonymousId"] = cart["anonymousId"]
        try:
            return await self._ct.create_payment(draft)
        except UpstreamError as error:
            if error.status_code == 400 and any(e.get("code") == "DuplicateField" for e in error.errors):
                return None
            raise

    def _intent(self, payment: dict[str, Any]) -> dict[str, Any]:
        transaction = next((t for t in rules.transactions(payment) if t.get("type") == self._kind), None)
        if transaction is None:
            raise ApiError(409, "RedemptionInconsistent", "The redemption's payment has no transaction to settle")
        return transaction

    async def _reserve(self, cart: dict[str, Any], payment: dict[str, Any], amount: Money) -> None:
        """Add the payment to the cart, conditional on the cart version; if it no longer fits, record
        its intent Failure (the provider was never called) and answer 400."""
        try:
            await self._ct.add_payment_to_cart(cart, str(payment["id"]), _fits(amount))
        except _NoLongerFits as no:
            refusal = OperationResult(OperationStatus.FAILURE, message="The cart no longer owes this amount")
            await txn.record(self._ct, payment, str(self._intent(payment)["id"]), refusal)
            log.info("redemption_no_longer_fits", payment_id=payment["id"], owed=str(no.owed))
            raise _too_much(amount, no.owed) from None

    async def _resume(
        self, cart: dict[str, Any], payment: dict[str, Any], code: str, pin: str | None, amount: Money
    ) -> Redemption | None:
        """A submit of a redemption that already stands: its outcome, settling it first when it has
        none; None when it turns out refused or never received (the submit is then a new attempt)."""
        if Money.from_json(payment["amountPlanned"]) != amount:
            raise InvalidField("Idempotency-Key", "This Idempotency-Key was already used for another amount")
        transaction = self._intent(payment)
        on_cart = rules.has_payment(cart, str(payment["id"]))
        if transaction.get("state") == "Success":
            if not on_cart:
                await self._ct.add_payment_to_cart(cart, str(payment["id"]))  # the money moved: show it
            return Redemption("Success", str(payment["id"]), rules.provider_reference(payment))
        try:
            result = await txn.ask(self._provider, payment, transaction, give_up_after=self._grace)
        except ProviderUnavailable as error:
            log.warning("provider_status_unavailable", payment_id=payment["id"], error=str(error))
            raise GiftCardError(BalanceState.GENERIC_ERROR, _UNAVAILABLE_MESSAGE, status_code=503) from None
        if result is None:
            if not txn.drivable(transaction, self._grace):
                # Too old to send again, too young to call never-received: the reconciler decides.
                raise GiftCardError(BalanceState.GENERIC_ERROR, _SETTLING_MESSAGE, status_code=503)
            # The provider never received this key and the intent is young: drive it with the same
            # key (a copy doing the same at this moment is harmless: the provider acts once per key).
            if not on_cart:
                await self._reserve(cart, payment, amount)
            return await self._drive(payment, transaction, code, pin, amount)
        settled = await txn.record(self._ct, payment, str(transaction["id"]), result, interface_id=True)
        log.info("redemption_settled", payment_id=payment["id"], state=settled.state)
        if settled.state == "Success":
            if not on_cart:
                await self._ct.add_payment_to_cart(cart, str(payment["id"]))
            return Redemption("Success", str(payment["id"]), settled.result.reference)
        return None

    async def _drive(
        self, payment: dict[str, Any], transaction: dict[str, Any], code: str, pin: str | None, amount: Money
    ) -> Redemption:
        """Move the money with the transaction's key and record the outcome."""
        move = self._provider.authorize if self._kind == "Authorization" else self._provider.redeem

        async def call(key: str) -> OperationResult:
            return await move(code, pin, amount, key)

        try:
            settled = await txn.run(self._ct, payment, str(transaction["id"]), call, interface_id=True, attempts=2)
        except ApiError as error:
            # The outcome could not be written (commercetools down): the money may have moved and the
            # intent stays Initial; a resubmit or the reconciler settles it from the provider's status.
            log.warning("redemption_outcome_not_recorded", payment_id=payment["id"], error=str(error))
            raise GiftCardError(BalanceState.GENERIC_ERROR, _PENDING_MESSAGE, status_code=503) from None
        result = settled.result
        log.info("redemption_recorded", payment_id=payment["id"], state=settled.state, card=mask_code(code))
        if settled.contradicted:
            await self._undo(settled.payment, transaction, result, amount)
            raise GiftCardError(BalanceState.GENERIC_ERROR, _UNAVAILABLE_MESSAGE, status_code=503)
        if settled.state == "Success":
            return Redemption("Success", str(payment["id"]), result.reference)
        if settled.state == "Failure":
            raise GiftCardError(result.reason or BalanceState.GENERIC_ERROR, result.message or "Redemption failed")
        raise GiftCardError(BalanceState.GENERIC_ERROR, _PENDING_MESSAGE, status_code=503)

    async def _undo(
        self, payment: dict[str, Any], transaction: dict[str, Any], result: OperationResult, amount: Money
    ) -> None:
        """The provider moved money for a transaction already recorded Failure (it arrived after the
        grace period): give it back, with a key of its own so a repeat undoes it once."""
        assert result.reference is not None
        key = f"{txn.key_of(payment, transaction)}:undo"
        try:
            if self._kind == "Authorization":
                undone = await self._provider.void(result.reference, key)
            else:
                undone = await self._provider.refund(result.reference, amount, key)
        except ProviderUnavailable as error:
            undone = OperationResult(OperationStatus.PENDING, message=str(error))
        log.error("late_provider_movement_undone", payment_id=payment["id"], undo=undone.status.value, key=key)
