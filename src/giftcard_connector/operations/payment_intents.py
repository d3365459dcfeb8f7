"""Checkout's payment modifications: capture, refund, cancel, reverse (contract section 4 table).

Every transaction is written Initial first (with an interactionId naming the provider call), the
provider is called with an idempotency key derived from that transaction, then the transaction is
moved to Success, Failure or Pending. A failed provider call is recorded as Failure and rejected."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import structlog

from giftcard_connector.commercetools import payments as rules
from giftcard_connector.commercetools.client import CommercetoolsClient
from giftcard_connector.errors import InvalidField
from giftcard_connector.giftcards.idempotency import KeyedLocks
from giftcard_connector.money import Money
from giftcard_connector.operations.schemas import (
    CapturePayment,
    PaymentAction,
    RefundPayment,
)
from giftcard_connector.providers.base import (
    GiftCardProvider,
    OperationResult,
    OperationStatus,
    ProviderUnavailable,
)

log = structlog.get_logger(__name__)


class Outcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    RECEIVED = "received"


_OUTCOMES = {
    OperationStatus.SUCCESS: Outcome.APPROVED,
    OperationStatus.FAILURE: Outcome.REJECTED,
    OperationStatus.PENDING: Outcome.RECEIVED,
}


def _reference(transaction: dict[str, Any], payment: dict[str, Any]) -> str:
    """The provider's reference for the hold or debit a transaction recorded."""
    return str(transaction.get("interactionId") or rules.provider_reference(payment) or "")


def _planned_currency(payment: dict[str, Any]) -> str:
    return str(payment["amountPlanned"]["currencyCode"])


def _check_amount(field: str, amount: Money, currency: str, limit: int, what: str) -> None:
    if amount.currency_code != currency:
        raise InvalidField(f"{field}.currencyCode", f"The amount must be in the payment's currency {currency}")
    if amount.cent_amount <= 0:
        raise InvalidField(f"{field}.centAmount", "The amount must be positive")
    if amount.cent_amount > limit:
        raise InvalidField(
            f"{field}.centAmount",
            f"The amount {amount.cent_amount} is more than {what} ({limit})",
            maxCentAmount=limit,
        )


class PaymentIntentService:
    def __init__(self, commercetools: CommercetoolsClient, provider: GiftCardProvider) -> None:
        self._ct = commercetools
        self._provider = provider
        # One modification of a payment at a time in this process, so two refunds cannot both pass
        # the "at most what is left" check.
        self._locks = KeyedLocks()

    async def modify(self, payment_id: str, action: PaymentAction) -> Outcome:
        async with self._locks.hold(payment_id):
            payment = await self._ct.get_payment(payment_id)
            log.info("payment_modification", payment_id=payment_id, action=action.action)
            if isinstance(action, CapturePayment):
                return await self._capture(payment, action.amount.to_money())
            if isinstance(action, RefundPayment):
                return await self._refund(payment, action.amount.to_money())
            # cancelPayment and reversePayment alike: release a hold, or refund what is charged.
            return await self._cancel(payment)

    async def _capture(self, payment: dict[str, Any], amount: Money) -> Outcome:
        hold = rules.authorized(payment)
        if hold is None:
            # Already captured (direct charge or an earlier capture): nothing new to do.
            return Outcome.APPROVED if rules.successful_charge(payment) else Outcome.REJECTED
        if rules.successful_charge(payment) is not None:
            return Outcome.APPROVED
        _check_amount(
            "amount",
            amount,
            _planned_currency(payment),
            int(hold["amount"]["centAmount"]),
            "the authorized amount",
        )
        reference = _reference(hold, payment)
        return await self._run(
            payment,
            "Charge",
            amount,
            lambda key: self._provider.capture(reference, amount, key),
        )

    async def _refund(self, payment: dict[str, Any], amount: Money) -> Outcome:
        charge = rules.successful_charge(payment)
        if charge is None:
            return Outcome.REJECTED  # nothing charged: a hold is released by cancel, not refunded
        _check_amount(
            "amount",
            amount,
            _planned_currency(payment),
            rules.refundable(payment),
            "what is charged and not yet refunded",
        )
        reference = _reference(charge, payment)
        return await self._run(
            payment,
            "Refund",
            amount,
            lambda key: self._provider.refund(reference, amount, key),
        )

    async def _cancel(self, payment: dict[str, Any]) -> Outcome:
        hold = rules.authorized(payment)
        if hold is not None and rules.successful_charge(payment) is None:
            reference = _reference(hold, payment)
            amount = Money.from_json(hold["amount"])
            return await self._run(
                payment,
                "CancelAuthorization",
                amount,
                lambda key: self._provider.void(reference, key),
            )
        charge = rules.successful_charge(payment)
        left = rules.refundable(payment)
        if charge is None or left == 0:
            return Outcome.APPROVED  # nothing succeeded or all already refunded: nothing to undo
        reference = _reference(charge, payment)
        amount = Money(left, _planned_currency(payment))
        return await self._run(
            payment,
            "Refund",
            amount,
            lambda key: self._provider.refund(reference, amount, key),
        )

    async def _run(self, payment: dict[str, Any], kind: str, amount: Money, call: Any) -> Outcome:
        interaction_id = str(uuid.uuid4())
        payment = await self._ct.update_payment(
            payment,
            [
                {
                    "action": "addTransaction",
                    "transaction": {
                        "type": kind,
                        "amount": amount.to_json(),
                        "state": "Initial",
                        "interactionId": interaction_id,
                        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    },
                }
            ],
        )
        transaction_id = next(t["id"] for t in rules.transactions(payment) if t.get("interactionId") == interaction_id)
        idempotency_key = f"{payment['id']}:{kind.lower()}:{transaction_id}"
        try:
            result: OperationResult = await call(idempotency_key)
        except ProviderUnavailable as error:
            log.warning("provider_modification_unavailable", payment_id=payment["id"], kind=kind, error=str(error))
            result = OperationResult(OperationStatus.FAILURE, message="The gift card provider is not available")
        actions: list[dict[str, Any]] = [
            {
                "action": "changeTransactionState",
                "transactionId": transaction_id,
                "state": result.status.value,
            }
        ]
        if result.reference:
            actions.append(
                {
                    "action": "changeTransactionInteractionId",
                    "transactionId": transaction_id,
                    "interactionId": result.reference,
                }
            )
        await self._ct.update_payment(payment, actions)
        log.info("payment_modification_recorded", payment_id=payment["id"], kind=kind, state=result.status.value)
        return _OUTCOMES[result.status]
