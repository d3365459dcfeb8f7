"""Checkout's payment modifications: capture, refund, cancel, reverse (contract section 4 table).

Every action follows the one transaction model (commercetools/transactions.py):
1. the payment's unsettled transactions are settled first from the provider's status (a Pending
   charge that in fact succeeded must be refunded by a cancel, not ignored);
2. a pure plan decides from the payment as it is now, counting in-flight transactions as taken:
   nothing to do, drive an unsettled transaction of the same type and amount with its own key (a
   repeat by Checkout), or start a new one;
3. a new transaction is written Initial by a payment update conditional on the version the plan
   read; on 409 the payment is re-read and the plan made again (never a fixed action list), so two
   Processor copies cannot both pass the refund cap;
4. the provider is called with the transaction's key; the outcome is recorded: a definite refusal is
   Failure (`rejected`), an unknown outcome Pending (`received`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import structlog

from giftcard_connector.commercetools import payments as rules
from giftcard_connector.commercetools import transactions as txn
from giftcard_connector.commercetools.client import CommercetoolsClient
from giftcard_connector.errors import ApiError, InvalidField, UpstreamError
from giftcard_connector.giftcards.idempotency import KeyedLocks
from giftcard_connector.money import Money
from giftcard_connector.operations.schemas import CapturePayment, PaymentAction, RefundPayment
from giftcard_connector.providers.base import GiftCardProvider, ProviderUnavailable

log = structlog.get_logger(__name__)

# Plans made per action at most: each further one follows a concurrent writer's change.
_MAX_PLANS = 4
# Checkout sends no idempotency key with an action. A refund of the same amount (and the same
# merchantReference, or none) that succeeded this recently is taken to be the one Checkout is
# repeating because our answer was lost, not a second refund: a double credit is the worse error.
# A second identical refund within this window needs its own merchantReference.
REPEAT_WINDOW_SECONDS = 120.0


class Outcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    RECEIVED = "received"


_BY_STATE = {"Success": Outcome.APPROVED, "Failure": Outcome.REJECTED}


@dataclass(frozen=True, slots=True)
class Done:
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class Move:
    """A provider call for a transaction: `existing` (an unsettled one, driven with its own key) or a
    new one of `kind` and `amount`. `reference` is the hold or charge the call acts on."""

    kind: str
    amount: Money
    reference: str
    existing: dict[str, Any] | None = None


Plan = Done | Move
Planner = Callable[[dict[str, Any]], Plan]


def _reference(transaction: dict[str, Any], payment: dict[str, Any]) -> str:
    """The provider's reference for the hold or debit a transaction recorded."""
    return str(transaction.get("interactionId") or rules.provider_reference(payment) or "")


def _currency(payment: dict[str, Any]) -> str:
    return str(payment["amountPlanned"]["currencyCode"])


def _check_amount(amount: Money, currency: str, limit: int, what: str) -> None:
    field = "amount"
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


def _debit_in_flight(payment: dict[str, Any]) -> bool:
    return any(t.get("type") in rules.DEBITS and t.get("state") in rules.IN_FLIGHT for t in rules.transactions(payment))


def plan_capture(payment: dict[str, Any], amount: Money, merchant_reference: str | None = None) -> Plan:
    hold = rules.authorized(payment)
    repeat = rules.unsettled(payment, "Charge", amount.cent_amount)
    if repeat is not None and hold is not None:
        return Move("Charge", amount, _reference(hold, payment), repeat)
    charges = [int(t["amount"]["centAmount"]) for t in rules.successful_charges(payment)]
    if hold is None:
        if _debit_in_flight(payment):
            return Done(Outcome.RECEIVED)  # the redemption itself is not settled yet
        # A direct charge is captured already: approved, nothing new (the template's answer).
        has_hold = any(t.get("type") == "Authorization" for t in rules.transactions(payment))
        ok = not has_hold and sum(charges) > 0 and amount.cent_amount <= sum(charges)
        return Done(Outcome.APPROVED if ok else Outcome.REJECTED)
    if _recently_done(payment, "Charge", amount.cent_amount, merchant_reference):
        return Done(Outcome.APPROVED)  # Checkout repeating a capture whose answer it did not get
    # Split captures: each capture takes part of what is left of the hold (captures that succeeded or
    # are under way count as taken), so 20 then 10 of a 30 hold are two captures.
    left = rules.capturable(payment)
    if amount.cent_amount > left and amount.cent_amount in charges:
        return Done(Outcome.APPROVED)  # the same capture again, and nothing of that size is left: a repeat
    if left == 0:
        return Done(Outcome.REJECTED)  # the hold is fully captured (or being captured)
    _check_amount(amount, _currency(payment), left, "what is left of the authorized amount")
    return Move("Charge", amount, _reference(hold, payment))


def _refund_target(payment: dict[str, Any], transaction_id: str | None, amount: int) -> dict[str, Any] | None:
    """The Charge to refund: the one named, else the newest with room left (refunds are taken from
    the newest charges first, the order this rule picks them in)."""
    charges = rules.successful_charges(payment)
    if transaction_id is not None:
        named = next((t for t in charges if t.get("id") == transaction_id), None)
        if named is None:
            raise InvalidField(
                "actions.0.transactionId", "transactionId does not name a successful Charge of this payment"
            )
        return named
    room = _refund_room(payment)
    return next((c for c, left in room if left >= amount), next((c for c, left in room if left > 0), None))


def _refund_room(payment: dict[str, Any]) -> list[tuple[dict[str, Any], int]]:
    """Each successful Charge, newest first, with what is left to refund on it (refunds, in flight
    too, are taken from the newest charges first)."""
    taken = rules.refunded_or_refunding(payment)
    room: list[tuple[dict[str, Any], int]] = []
    for charge in reversed(rules.successful_charges(payment)):
        size = int(charge["amount"]["centAmount"])
        used = min(size, taken)
        taken -= used
        room.append((charge, size - used))
    return room


def plan_refund_rest(payment: dict[str, Any]) -> Plan:
    """The next refund of a full reversal: what is left on the newest charge with room. One refund per
    charge, because the provider refunds each debit (capture) on its own."""
    target = next(((charge, left) for charge, left in _refund_room(payment) if left > 0), None)
    if target is None:
        return Done(Outcome.APPROVED)
    charge, left = target
    return Move("Refund", Money(left, _currency(payment)), _reference(charge, payment))


def _merchant_reference(transaction: dict[str, Any]) -> str | None:
    value = ((transaction.get("custom") or {}).get("fields") or {}).get("merchantReference")
    return str(value) if value is not None else None


def _recently_done(payment: dict[str, Any], kind: str, amount: int, merchant_reference: str | None) -> bool:
    return any(
        t.get("type") == kind
        and t.get("state") == "Success"
        and int(t["amount"]["centAmount"]) == amount
        and _merchant_reference(t) == merchant_reference
        and txn.age_seconds(t) < REPEAT_WINDOW_SECONDS
        for t in rules.transactions(payment)
    )


def plan_refund(
    payment: dict[str, Any], amount: Money, transaction_id: str | None, merchant_reference: str | None = None
) -> Plan:
    if not rules.successful_charges(payment):
        if _debit_in_flight(payment):
            return Done(Outcome.RECEIVED)
        return Done(Outcome.REJECTED)  # nothing charged: a hold is released by cancel, not refunded
    repeat = rules.unsettled(payment, "Refund", amount.cent_amount)
    target = _refund_target(payment, transaction_id, amount.cent_amount)
    if repeat is None and _recently_done(payment, "Refund", amount.cent_amount, merchant_reference):
        return Done(Outcome.APPROVED)  # Checkout repeating a refund whose answer it did not get
    if repeat is not None:
        charge = target or rules.successful_charges(payment)[-1]
        return Move("Refund", amount, _reference(charge, payment), repeat)
    _check_amount(amount, _currency(payment), rules.refundable(payment), "what is charged and not yet refunded")
    assert target is not None  # something is refundable, so some charge has room
    return Move("Refund", amount, _reference(target, payment))


def plan_cancel(payment: dict[str, Any]) -> Plan:
    """cancelPayment and reversePayment: release an open hold, or refund what is charged and not yet
    refunded; with nothing succeeded and nothing in flight, approved with nothing to do."""
    hold = rules.authorized(payment)
    charges = rules.successful_charges(payment)
    repeat_void = rules.unsettled(payment, "CancelAuthorization")
    if repeat_void is not None:
        held = next(t for t in rules.transactions(payment) if t.get("type") == "Authorization")
        return Move(
            "CancelAuthorization", Money.from_json(repeat_void["amount"]), _reference(held, payment), repeat_void
        )
    repeat_refund = rules.unsettled(payment, "Refund")
    if repeat_refund is not None and charges:
        amount = Money.from_json(repeat_refund["amount"])
        return Move("Refund", amount, _reference(charges[-1], payment), repeat_refund)
    if hold is not None and not charges and not rules.unsettled(payment, "Charge"):
        return Move("CancelAuthorization", Money.from_json(hold["amount"]), _reference(hold, payment))
    rest = rules.capturable(payment)
    if hold is not None and charges and rest > 0 and not rules.unsettled(payment, "Charge"):
        # Partially captured: release the uncaptured rest first; the captures are refunded next
        # (PaymentIntentService.modify plans again after this void), a full reversal as on a charged payment.
        return Move("CancelAuthorization", Money(rest, _currency(payment)), _reference(hold, payment))
    if charges and rules.refundable(payment) > 0:
        return plan_refund_rest(payment)
    if _debit_in_flight(payment) or rules.unsettled(payment, "Charge"):
        # The money may have moved and the provider cannot say yet: undoing "nothing" would be a lie.
        return Done(Outcome.RECEIVED)
    return Done(Outcome.APPROVED)  # nothing succeeded, or all already refunded: nothing to undo


def _repeat_outcome(settled: list[txn.Settled], action: PaymentAction) -> Outcome | None:
    """The outcome of a just-settled transaction this capture or refund repeats (same type and
    amount), unless the provider never received it: then the action has not happened and is planned
    anew. Cancel and reverse need no such rule: their plan refunds or releases what is still left."""
    if isinstance(action, CapturePayment):
        kind = "Charge"
    elif isinstance(action, RefundPayment):
        kind = "Refund"
    else:
        return None
    amount = action.amount.to_money().cent_amount
    for item in settled:
        transaction = txn.find(item.payment, item.transaction_id)
        if transaction is None or transaction.get("type") != kind:
            continue
        if int(transaction["amount"]["centAmount"]) != amount:
            continue
        if item.state == "Success":
            return Outcome.APPROVED
        if item.state == "Failure" and item.result.message != txn.NEVER_RECEIVED:
            return Outcome.REJECTED
    return None


class PaymentIntentService:
    def __init__(
        self, commercetools: CommercetoolsClient, provider: GiftCardProvider, grace: float = txn.GRACE_SECONDS
    ) -> None:
        self._grace = grace
        self._ct = commercetools
        self._provider = provider
        # An optimisation only (fewer 409s inside one process); the guarantee is the conditional write.
        self._locks = KeyedLocks()

    async def modify(self, payment_id: str, action: PaymentAction) -> Outcome:
        async with self._locks.hold(payment_id):
            payment = await self._ct.get_payment(payment_id)
            if not rules.is_ours(payment):
                raise InvalidField("paymentId", "The payment is not a gift card payment of this connector")
            log.info("payment_modification", payment_id=payment_id, action=action.action)
            payment, settled = await self._settle_unsettled(payment)
            repeated = _repeat_outcome(settled, action)
            if repeated is not None:
                # Checkout repeated an action whose transaction was in flight and has just been settled:
                # that transaction is this action's outcome; starting another would do it twice.
                return repeated
            planner = self._planner(action)
            reversal = planner is plan_cancel
            # A release of a partly captured hold whose outcome is unknown: the reversal still refunds the
            # captures now (nobody may repeat the cancel; the reconciler settles the release, not refunds
            # that were never written), and the answer stays `received`.
            release_unknown = False
            for _ in range(_MAX_PLANS + len(rules.successful_charges(payment))):
                plan = planner(payment)
                if isinstance(plan, Done):
                    return Outcome.RECEIVED if release_unknown and plan.outcome is Outcome.APPROVED else plan.outcome
                marker = txn.new_marker()
                if plan.existing is None:
                    payment = await self._write_intent(payment, planner, plan, marker, action.merchantReference)
                    transaction = txn.find_marker(payment, marker)
                    if transaction is None:
                        continue  # the payment changed under us: plan again on what it is now
                else:
                    transaction = plan.existing
                    if not txn.drivable(transaction, self._grace):
                        return Outcome.RECEIVED  # too old to send again; the reconciler settles it
                outcome = await self._move(payment, transaction, plan, action.merchantReference)
                if (
                    plan.kind == "CancelAuthorization"
                    and outcome is not Outcome.REJECTED
                    and rules.successful_charges(payment)
                ):
                    # The rest of a partially captured hold is released (or on its way): refund the captures.
                    payment = await self._ct.get_payment(payment_id)
                    if outcome is Outcome.RECEIVED:
                        release_unknown, planner = True, plan_refund_rest
                    continue
                if reversal and plan.kind == "Refund" and outcome is Outcome.APPROVED:
                    # A full reversal refunds charge by charge: plan the next one on the payment as it is now.
                    payment = await self._ct.get_payment(payment_id)
                    continue
                if release_unknown and outcome is Outcome.APPROVED:
                    return Outcome.RECEIVED
                return outcome
            return Outcome.RECEIVED

    def _planner(self, action: PaymentAction) -> Planner:
        if isinstance(action, CapturePayment):
            amount, capture_reference = action.amount.to_money(), action.merchantReference
            return lambda payment: plan_capture(payment, amount, capture_reference)
        if isinstance(action, RefundPayment):
            refund = action.amount.to_money()
            named, reference = action.transactionId, action.merchantReference
            return lambda payment: plan_refund(payment, refund, named, reference)
        return plan_cancel

    async def _settle_unsettled(self, payment: dict[str, Any]) -> tuple[dict[str, Any], list[txn.Settled]]:
        """Ask the provider about every Initial or Pending transaction and record what it knows."""
        done: list[txn.Settled] = []
        for transaction in rules.transactions(payment):
            if transaction.get("state") not in rules.IN_FLIGHT:
                continue
            try:
                settled = await txn.settle(
                    self._ct,
                    self._provider,
                    payment,
                    transaction,
                    interface_id=not payment.get("interfaceId"),
                    give_up_after=self._grace,
                )
            except ProviderUnavailable as error:
                log.warning("provider_status_unavailable", payment_id=payment["id"], error=str(error))
                continue  # it stays in flight and counts as taken
            if settled is not None:
                payment = settled.payment
                done.append(settled)
        return payment, done

    async def _write_intent(
        self, payment: dict[str, Any], planner: Planner, plan: Move, marker: str, merchant_reference: str | None
    ) -> dict[str, Any]:
        """Add the Initial transaction with the version the plan read; after a 409 only if the plan
        made again on the re-read payment is still the same new transaction."""
        draft = txn.intent(plan.kind, plan.amount, marker, merchant_reference)

        def derive(current: dict[str, Any]) -> list[dict[str, Any]]:
            return [{"action": "addTransaction", "transaction": draft}] if planner(current) == plan else []

        try:
            return await self._ct.update_payment(payment, derive)
        except UpstreamError as error:
            if not txn.missing_type(error):
                raise
        # The merchantReference's custom type does not exist yet: create it once, then write again.
        try:
            await self._ct.create_type(txn.TRANSACTION_TYPE)
        except UpstreamError as error:
            log.warning("transaction_type_not_created", error=str(error))
            draft.pop("custom", None)  # keep the money flow; the reference is only logged
        return await self._ct.update_payment(payment, derive)

    async def _move(
        self, payment: dict[str, Any], transaction: dict[str, Any], plan: Move, merchant_reference: str | None
    ) -> Outcome:
        reference, amount = plan.reference, plan.amount
        provider = self._provider

        async def call(key: str) -> Any:
            if plan.kind == "Charge":
                return await provider.capture(reference, amount, key)
            if plan.kind == "CancelAuthorization":
                return await provider.void(reference, key)
            return await provider.refund(reference, amount, key)

        try:
            settled = await txn.run(self._ct, payment, str(transaction["id"]), call)
        except ApiError as error:
            # The provider was asked but the outcome could not be written: the money may have moved. The
            # transaction stays Initial; Checkout's repeat or the reconciler settles it from status(key).
            log.warning("payment_modification_not_recorded", payment_id=payment["id"], error=str(error))
            return Outcome.RECEIVED
        log.info(
            "payment_modification_recorded",
            payment_id=payment["id"],
            kind=plan.kind,
            state=settled.state,
            merchant_reference=merchant_reference,
        )
        if settled.contradicted and plan.kind == "Charge" and settled.result.reference:
            # A capture that arrived after its transaction was recorded Failure: commercetools says not
            # captured, so give the money back (its own key, so a repeat undoes it once).
            await self._undo_capture(payment, transaction, settled.result.reference, amount)
        return _BY_STATE.get(settled.state, Outcome.RECEIVED)

    async def _undo_capture(
        self, payment: dict[str, Any], transaction: dict[str, Any], reference: str, amount: Money
    ) -> None:
        key = f"{txn.key_of(payment, transaction)}:undo"
        try:
            undone = (await self._provider.refund(reference, amount, key)).status.value
        except ProviderUnavailable as error:
            undone = f"unknown ({error})"
        log.error("late_capture_refunded", payment_id=payment["id"], undo=undone, key=key)
