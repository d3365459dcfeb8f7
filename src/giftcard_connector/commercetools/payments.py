"""Pure rules over commercetools carts and payments: what is owed, charged, refunded, held.

In-flight transactions (Initial, Pending) count as taken everywhere a limit is checked: their money
may have moved, and another Processor copy may be moving it right now (contract section 9). Only a
Success undoes a payment's claim on the cart: a Refund that is still Pending may yet fail.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from giftcard_connector.money import Money

IN_FLIGHT = frozenset({"Initial", "Pending"})
TAKEN = frozenset({"Initial", "Pending", "Success"})
SUCCESS = frozenset({"Success"})
DEBITS = ("Authorization", "Charge")
UNDOS = ("Refund", "CancelAuthorization")
# This connector's payments (contract section 4): payment intents act on no other payment.
PAYMENT_METHOD = "giftcard"


def transactions(payment: dict[str, Any]) -> list[dict[str, Any]]:
    return list(payment.get("transactions") or [])


def _has(payment: dict[str, Any], types: Iterable[str], states: frozenset[str]) -> bool:
    wanted = set(types)
    return any(t.get("type") in wanted and t.get("state") in states for t in transactions(payment))


def is_ours(payment: dict[str, Any]) -> bool:
    info = payment.get("paymentMethodInfo") or {}
    return info.get("method") == PAYMENT_METHOD and bool(info.get("paymentInterface"))


def counts_towards_cart(payment: dict[str, Any]) -> bool:
    """A payment covers part of the cart while its Authorization or Charge is Success or may still
    become Success (Initial, Pending) and no Refund or CancelAuthorization has succeeded
    (stricter than contract section 4 reads: in-flight counts as taken, see the module doc)."""
    return _has(payment, DEBITS, TAKEN) and not _has(payment, UNDOS, SUCCESS)


def is_live_redemption(payment: dict[str, Any]) -> bool:
    """A redemption that still stands: its debit succeeded or may succeed, and nothing undid it or
    is undoing it. A refunded, cancelled or failed twin does not stand: the same submit again is a
    new redemption (contract section 4)."""
    return _has(payment, DEBITS, TAKEN) and not _has(payment, UNDOS, TAKEN)


def cart_total(cart: dict[str, Any]) -> Money:
    taxed = cart.get("taxedPrice") or {}
    total = taxed.get("totalGross") or cart["totalPrice"]
    return Money(int(total["centAmount"]), str(total["currencyCode"]))


def expanded_payments(cart: dict[str, Any]) -> list[dict[str, Any]]:
    payments = []
    for reference in (cart.get("paymentInfo") or {}).get("payments") or []:
        obj = reference.get("obj")
        if obj is not None:
            payments.append(obj)
    return payments


def has_payment(cart: dict[str, Any], payment_id: str) -> bool:
    return any(ref.get("id") == payment_id for ref in (cart.get("paymentInfo") or {}).get("payments") or [])


def amount_owed(cart: dict[str, Any]) -> Money:
    total = cart_total(cart)
    covered = sum(int(p["amountPlanned"]["centAmount"]) for p in expanded_payments(cart) if counts_towards_cart(p))
    return Money(max(total.cent_amount - covered, 0), total.currency_code)


def _sum(payment: dict[str, Any], kind: str, states: frozenset[str]) -> int:
    return sum(
        int(t["amount"]["centAmount"])
        for t in transactions(payment)
        if t.get("type") == kind and t.get("state") in states
    )


def charged(payment: dict[str, Any]) -> int:
    return _sum(payment, "Charge", SUCCESS)


def refunded_or_refunding(payment: dict[str, Any]) -> int:
    """Refunds that succeeded or may still succeed count against what can be refunded."""
    return _sum(payment, "Refund", TAKEN)


def refundable(payment: dict[str, Any]) -> int:
    return max(charged(payment) - refunded_or_refunding(payment), 0)


def authorized(payment: dict[str, Any]) -> dict[str, Any] | None:
    """The Success Authorization still open (no CancelAuthorization succeeded or under way), if any."""
    if _has(payment, ("CancelAuthorization",), TAKEN):
        return None
    for transaction in transactions(payment):
        if transaction.get("type") == "Authorization" and transaction.get("state") == "Success":
            return transaction
    return None


def capturable(payment: dict[str, Any]) -> int:
    """What of the open hold is still capturable: its amount minus every capture that succeeded or is
    under way (split captures: the provider captures a hold several times up to its amount)."""
    hold = authorized(payment)
    if hold is None:
        return 0
    return max(int(hold["amount"]["centAmount"]) - _sum(payment, "Charge", TAKEN), 0)


def successful_charges(payment: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in transactions(payment) if t.get("type") == "Charge" and t.get("state") == "Success"]


def successful_charge(payment: dict[str, Any]) -> dict[str, Any] | None:
    charges = successful_charges(payment)
    return charges[0] if charges else None


def unsettled(payment: dict[str, Any], kind: str, amount: int | None = None) -> dict[str, Any] | None:
    """The oldest Initial or Pending transaction of this type (and amount, when given)."""
    for transaction in transactions(payment):
        if transaction.get("type") != kind or transaction.get("state") not in IN_FLIGHT:
            continue
        if amount is None or int(transaction["amount"]["centAmount"]) == amount:
            return transaction
    return None


def provider_reference(payment: dict[str, Any]) -> str | None:
    """The provider's reference for the redemption or hold: the payment's interfaceId."""
    value = payment.get("interfaceId")
    return str(value) if value else None
