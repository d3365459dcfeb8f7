"""The one transaction model of every money flow: intent -> provider -> outcome (contract section 9).

1. Intent: the transaction is written to the commercetools payment first, state Initial, by a write
   that is conditional on the version the money checks read (payment create, or a payment update
   with its version). A crash after this point leaves a record that can be finished.
2. Provider: the call carries the idempotency key `provider_key(payment, transaction)`, stable
   across retries, resubmits, Processor copies and the reconciler, so the provider moves the money
   at most once whoever calls and however often.
3. Outcome: Success (with the provider's reference as interactionId), Failure only for a definite
   refusal, Pending when the answer did not say (timeout, lost connection, 5xx, 409). An Initial or
   Pending transaction is settled later only from `provider.status(key)`, never by guessing.

Recording is derived from the payment as it is now (re-read on 409): a transaction another writer
already settled is left alone, so two copies settling the same transaction write it once.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

from giftcard_connector.commercetools import payments as rules
from giftcard_connector.commercetools.client import CommercetoolsClient
from giftcard_connector.money import Money
from giftcard_connector.observability import metrics
from giftcard_connector.providers.base import GiftCardProvider, OperationResult, OperationStatus, ProviderUnavailable

log = structlog.get_logger(__name__)

ProviderCall = Callable[[str], Awaitable[OperationResult]]
# The grace period (RECONCILE_GRACE): an intent whose key the provider never received is recorded
# Failure once it is this old. Nobody drives an intent older than half of it (drivable), and a drive
# ends within a provider call and its retry (two PROVIDER_TIMEOUTs), so at the grace period no call
# with that key can still arrive.
GRACE_SECONDS = 300.0


def drivable(transaction: dict[str, Any], grace: float) -> bool:
    """Whether a caller may still (re)send this intent's provider call with its key."""
    return age_seconds(transaction) < grace / 2


UNKNOWN_OUTCOME = "The gift card provider did not confirm the operation"
# What the reconciler records for a key the provider never received, once older than the grace period.
NEVER_RECEIVED = "The gift card provider never received the operation"


def timestamp(moment: datetime | None = None) -> str:
    moment = moment or datetime.now(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_timestamp(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def new_marker() -> str:
    """A unique interactionId for an intent, until the provider's reference replaces it."""
    return f"intent-{uuid.uuid4()}"


# Checkout's merchantReference is kept on the transaction in a custom field. commercetools Transaction
# has no free field for it (interactionId holds the provider's reference), so a custom type is needed;
# the Processor creates it on first use (TRANSACTION_TYPE), or an operator creates it in advance.
TRANSACTION_TYPE_KEY = "giftcard-connector-transaction"
TRANSACTION_TYPE: dict[str, Any] = {
    "key": TRANSACTION_TYPE_KEY,
    "name": {"en": "Gift card connector transaction"},
    "resourceTypeIds": ["transaction"],
    "fieldDefinitions": [
        {
            "name": "merchantReference",
            "label": {"en": "Merchant reference"},
            "required": False,
            "type": {"name": "String"},
            "inputHint": "SingleLine",
        }
    ],
}


def intent(kind: str, amount: Money, marker: str, merchant_reference: str | None = None) -> dict[str, Any]:
    """The TransactionDraft of an intent."""
    draft: dict[str, Any] = {
        "type": kind,
        "amount": amount.to_json(),
        "state": "Initial",
        "interactionId": marker,
        "timestamp": timestamp(),
    }
    if merchant_reference is not None:
        draft["custom"] = {
            "type": {"typeId": "type", "key": TRANSACTION_TYPE_KEY},
            "fields": {"merchantReference": merchant_reference},
        }
    return draft


def missing_type(error: Exception) -> bool:
    """commercetools' answer to a draft naming a custom type that does not exist (yet)."""
    errors = getattr(error, "errors", None) or []
    return getattr(error, "status_code", None) == 400 and any(
        e.get("code") == "ReferencedResourceNotFound" for e in errors if isinstance(e, dict)
    )


def provider_key(payment_id: str, transaction_id: str) -> str:
    """The provider idempotency key of one transaction (contract section 9, names)."""
    return f"{payment_id}:{transaction_id}"


def key_of(payment: dict[str, Any], transaction: dict[str, Any]) -> str:
    return provider_key(str(payment["id"]), str(transaction["id"]))


def find(payment: dict[str, Any], transaction_id: str) -> dict[str, Any] | None:
    return next((t for t in rules.transactions(payment) if t.get("id") == transaction_id), None)


def find_marker(payment: dict[str, Any], marker: str) -> dict[str, Any] | None:
    return next((t for t in rules.transactions(payment) if t.get("interactionId") == marker), None)


def age_seconds(transaction: dict[str, Any], now: datetime | None = None) -> float:
    written = parse_timestamp(transaction.get("timestamp"))
    if written is None:
        return float("inf")
    return ((now or datetime.now(UTC)) - written).total_seconds()


def outcome_actions(
    payment: dict[str, Any], transaction_id: str, result: OperationResult, *, interface_id: bool
) -> list[dict[str, Any]]:
    """The update that records `result` on the transaction, or nothing when there is nothing to do
    (already settled by another writer, or still Pending)."""
    transaction = find(payment, transaction_id)
    if transaction is None or transaction.get("state") not in rules.IN_FLIGHT:
        return []
    if result.status is OperationStatus.PENDING:
        if transaction.get("state") == "Pending":
            return []
        return [{"action": "changeTransactionState", "transactionId": transaction_id, "state": "Pending"}]
    actions: list[dict[str, Any]] = []
    if result.succeeded and result.reference:
        if interface_id:
            actions.append({"action": "setInterfaceId", "interfaceId": result.reference})
        actions.append(
            {
                "action": "changeTransactionInteractionId",
                "transactionId": transaction_id,
                "interactionId": result.reference,
            }
        )
    actions.append({"action": "changeTransactionState", "transactionId": transaction_id, "state": result.status.value})
    return actions


@dataclass(frozen=True, slots=True)
class Settled:
    """The payment after recording, the provider's answer, and the state commercetools now holds."""

    payment: dict[str, Any]
    result: OperationResult
    state: str
    transaction_id: str = ""

    @property
    def contradicted(self) -> bool:
        """The provider moved money but the transaction was already recorded Failure (the reconciler
        gave up on it): the caller must undo the movement or raise the alarm."""
        return self.result.succeeded and self.state == "Failure"


async def record(
    ct: CommercetoolsClient,
    payment: dict[str, Any],
    transaction_id: str,
    result: OperationResult,
    *,
    interface_id: bool = False,
) -> Settled:
    def derive(current: dict[str, Any]) -> list[dict[str, Any]]:
        return outcome_actions(current, transaction_id, result, interface_id=interface_id)

    before = find(payment, transaction_id)
    payment = await ct.update_payment(payment, derive)
    transaction = find(payment, transaction_id)
    state = str(transaction.get("state")) if transaction else "Unknown"
    settled = Settled(payment, result, state, transaction_id)
    if transaction is not None:
        _observe(before, transaction, result)
    if settled.contradicted:
        log.error(
            "provider_succeeded_after_failure",
            payment_id=payment["id"],
            transaction_id=transaction_id,
            reference=result.reference,
        )
    return settled


def _observe(before: dict[str, Any] | None, after: dict[str, Any], result: OperationResult) -> None:
    """Metrics: the provider's outcome, and the money a transaction newly recorded Success moved."""
    kind = str(after.get("type"))
    metrics.provider_outcome(kind, result.status.value)
    if after.get("state") == "Success" and (before or {}).get("state") != "Success":
        metrics.money_moved(kind, Money.from_json(after["amount"]))


async def call_provider(call: ProviderCall, key: str, *, attempts: int = 1) -> OperationResult:
    """Run a money-moving provider call; an unreachable provider is an unknown outcome (PENDING),
    never a refusal. Retrying is safe: the key makes the provider answer the first call's result."""
    for attempt in range(1, attempts + 1):
        try:
            return await call(key)
        except ProviderUnavailable as error:
            log.warning("provider_call_unavailable", key=key, attempt=attempt, error=str(error))
    return OperationResult(OperationStatus.PENDING, message=UNKNOWN_OUTCOME)


async def run(
    ct: CommercetoolsClient,
    payment: dict[str, Any],
    transaction_id: str,
    call: ProviderCall,
    *,
    interface_id: bool = False,
    attempts: int = 1,
) -> Settled:
    """Steps 2 and 3 for an intent already written."""
    result = await call_provider(call, provider_key(str(payment["id"]), transaction_id), attempts=attempts)
    return await record(ct, payment, transaction_id, result, interface_id=interface_id)


async def ask(
    provider: GiftCardProvider, payment: dict[str, Any], transaction: dict[str, Any], *, give_up_after: float | None
) -> OperationResult | None:
    """What the provider says became of an unsettled transaction: its answer, or None when it never
    received the key. With `give_up_after` (seconds), an unknown key whose intent is older than
    that is a definite Failure: the intent is written before the provider is called, and no caller
    still holds it after the grace period (a provider call with its retries is far shorter), so the
    call can no longer arrive. Raises ProviderUnavailable when the provider cannot tell now."""
    result = await provider.status(key_of(payment, transaction))
    if result is not None and result.status is not OperationStatus.PENDING:
        return result
    if give_up_after is not None and age_seconds(transaction) >= give_up_after:
        return OperationResult(OperationStatus.FAILURE, message=NEVER_RECEIVED)
    return None


async def settle(
    ct: CommercetoolsClient,
    provider: GiftCardProvider,
    payment: dict[str, Any],
    transaction: dict[str, Any],
    *,
    interface_id: bool = False,
    give_up_after: float | None = None,
) -> Settled | None:
    """Settle one Initial or Pending transaction from the provider's status; None when the provider
    does not know the key (yet)."""
    result = await ask(provider, payment, transaction, give_up_after=give_up_after)
    if result is None:
        return None
    return await record(ct, payment, str(transaction["id"]), result, interface_id=interface_id)
