"""Enabler-facing flows: balance check and redemption (contract section 4)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from giftcard_connector.auth.session import SessionContext
from giftcard_connector.commercetools import payments as rules
from giftcard_connector.commercetools.client import CommercetoolsClient
from giftcard_connector.errors import ApiError, GiftCardError, InvalidField, UpstreamError
from giftcard_connector.giftcards.idempotency import KeyedLocks, attempt_key, redemption_key
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
        raise InvalidField(
            "redeemAmount.centAmount",
            f"redeemAmount {amount.cent_amount} is more than the cart still owes ({owed.cent_amount})",
            maxCentAmount=owed.cent_amount,
        )
    if amount.cent_amount > card_balance.cent_amount:
        raise InvalidField(
            "redeemAmount.centAmount",
            f"redeemAmount {amount.cent_amount} is more than the gift card holds ({card_balance.cent_amount})",
            maxCentAmount=card_balance.cent_amount,
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class GiftCardService:
    def __init__(
        self, commercetools: CommercetoolsClient, provider: GiftCardProvider, capture_mode: CaptureMode
    ) -> None:
        self._ct = commercetools
        self._provider = provider
        self._capture_mode = capture_mode
        self._locks = KeyedLocks()
        self._transaction_type = "Authorization" if capture_mode is CaptureMode.AUTHORIZE else "Charge"

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

    async def redeem(self, session: SessionContext, code: str, pin: str | None, amount: Money) -> Redemption:
        key = redemption_key(session.session_id, code, amount)
        # One redemption per cart at a time in this process: a second submit then sees the first's
        # payment (same key: no second charge; other amount: the owed amount already lowered).
        async with self._locks.hold(session.cart_id):
            cart, card = await asyncio.gather(self._ct.get_cart(session.cart_id), self._provider_balance(code, pin))
            existing, attempt = _find_attempt(cart, key)
            if existing is not None:
                if existing.get("transactions"):
                    done = _settled(existing, self._transaction_type)
                    if done is not None:
                        return done
                elif _recently_created(existing):
                    # No outcome yet and young: another Processor copy is moving the money right now.
                    raise ApiError(409, "RedemptionInProgress", "This redemption is already being processed")
                # Created earlier but never settled (a crash, or a provider that did not answer):
                # drive it to an outcome with the same provider idempotency key.
                return await self._drive(existing, code, pin, amount)
            balance = check_usable(card, rules.cart_total(cart).currency_code)
            check_redeem_amount(amount, rules.amount_owed(cart), balance)
            payment = await self._create_payment(session, cart, attempt_key(key, attempt), amount)
            await self._ct.add_payment_to_cart(cart, str(payment["id"]))
            log.info("redemption_started", payment_id=payment["id"], card=mask_code(code), amount=str(amount))
            return await self._drive(payment, code, pin, amount)

    async def _create_payment(
        self, session: SessionContext, cart: dict[str, Any], key: str, amount: Money
    ) -> dict[str, Any]:
        draft: dict[str, Any] = {
            "key": key,
            "amountPlanned": amount.to_json(),
            "paymentMethodInfo": {
                "method": "giftcard",
                "paymentInterface": session.payment_interface or self._provider.name,
                "name": {"en": "Gift card"},
            },
        }
        if cart.get("customerId"):
            draft["customer"] = {"typeId": "customer", "id": cart["customerId"]}
        elif cart.get("anonymousId"):
            draft["anonymousId"] = cart["anonymousId"]
        try:
            return await self._ct.create_payment(draft)
        except UpstreamError as error:
            if error.status_code == 400 and any(e.get("code") == "DuplicateField" for e in error.errors):
                # Another Processor copy is creating the same redemption right now.
                raise ApiError(409, "RedemptionInProgress", "This redemption is already being processed") from None
            raise

    async def _drive(self, payment: dict[str, Any], code: str, pin: str | None, amount: Money) -> Redemption:
        """Move the money at the provider and record the outcome on the payment in one update."""
        idempotency_key = f"{payment['id']}:{self._transaction_type.lower()}"
        outcome = await self._call_provider(code, pin, amount, idempotency_key)
        reference = outcome.reference if outcome.status is OperationStatus.SUCCESS else None
        state = outcome.status.value
        interaction_id = reference or idempotency_key
        kind = self._transaction_type

        def record(current: dict[str, Any]) -> list[dict[str, Any]]:
            return outcome_actions(current, kind, amount, state, reference, interaction_id)

        await self._ct.update_payment(payment, record)
        log.info("redemption_recorded", payment_id=payment["id"], state=state, card=mask_code(code))
        if outcome.status is OperationStatus.FAILURE:
            raise GiftCardError(outcome.reason or BalanceState.GENERIC_ERROR, outcome.message or "Redemption failed")
        if outcome.status is OperationStatus.PENDING and outcome.reference is None:
            raise GiftCardError(BalanceState.GENERIC_ERROR, _PENDING_MESSAGE, status_code=503)
        return Redemption("Success", str(payment["id"]), outcome.reference)

    async def _call_provider(self, code: str, pin: str | None, amount: Money, idempotency_key: str) -> OperationResult:
        call = self._provider.authorize if self._capture_mode is CaptureMode.AUTHORIZE else self._provider.redeem
        # The idempotency key makes a second try safe: the provider answers the first one's result.
        for attempt in (1, 2):
            try:
                return await call(code, pin, amount, idempotency_key)
            except ProviderUnavailable as error:
                log.warning("provider_redeem_unavailable", attempt=attempt, error=str(error), card=mask_code(code))
        # Unknown whether money moved: leave a Pending transaction; a repeated submit settles it.
        return OperationResult(OperationStatus.PENDING, reference=None, message=_PENDING_MESSAGE)


def _find_attempt(cart: dict[str, Any], key: str) -> tuple[dict[str, Any] | None, int]:
    """The unsettled-or-successful payment for this redemption, or the next attempt number."""
    attempts = 0
    for payment in rules.expanded_payments(cart):
        payment_key = str(payment.get("key") or "")
        if payment_key != key and not payment_key.startswith(f"{key}-"):
            continue
        attempts += 1
        states = {t.get("state") for t in rules.transactions(payment)}
        if not states or states & {"Success", "Pending", "Initial"}:
            return payment, attempts
    return None, attempts + 1


# A payment without an outcome younger than this is taken to be in flight in another Processor copy
# (longer than a provider call with its retry can take); an older one was abandoned and is settled.
IN_FLIGHT_SECONDS = 60.0


def _recently_created(payment: dict[str, Any]) -> bool:
    created = payment.get("createdAt")
    if not isinstance(created, str):
        return False
    try:
        created_at = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return False
    return (datetime.now(UTC) - created_at).total_seconds() < IN_FLIGHT_SECONDS


def _settled(payment: dict[str, Any], kind: str) -> Redemption | None:
    for transaction in rules.transactions(payment):
        if transaction.get("type") == kind and transaction.get("state") == "Success":
            return Redemption("Success", str(payment["id"]), rules.provider_reference(payment))
    return None


def _pending_transaction(payment: dict[str, Any], kind: str) -> dict[str, Any] | None:
    for transaction in rules.transactions(payment):
        if transaction.get("type") == kind and transaction.get("state") in {"Pending", "Initial"}:
            return transaction
    return None


def outcome_actions(
    payment: dict[str, Any], kind: str, amount: Money, state: str, reference: str | None, interaction_id: str
) -> list[dict[str, Any]]:
    """The update that records a redemption's outcome, derived from the payment as it is now: when a
    concurrent writer (another Processor copy settling the same redemption) already recorded it,
    nothing (an empty list) is recorded twice."""
    if any(
        t.get("type") == kind and t.get("interactionId") == interaction_id and t.get("state") == state
        for t in rules.transactions(payment)
    ):
        return []
    actions: list[dict[str, Any]] = []
    if reference:
        actions.append({"action": "setInterfaceId", "interfaceId": reference})
    pending = _pending_transaction(payment, kind)
    if pending is not None:
        actions.append({"action": "changeTransactionState", "transactionId": pending["id"], "state": state})
        if reference:
            actions.append(
                {"action": "changeTransactionInteractionId", "transactionId": pending["id"], "interactionId": reference}
            )
        return actions
    transaction = {
        "type": kind,
        "amount": amount.to_json(),
        "state": state,
        "interactionId": interaction_id,
        "timestamp": _now(),
    }
    actions.append({"action": "addTransaction", "transaction": transaction})
    return actions
