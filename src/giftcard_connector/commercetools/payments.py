"""Pure rules over commercetools carts and payments: what is owed, charged, refunded, held."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from giftcard_connector.money import Money

_ACTIVE = frozenset({"Success", "Pending"})


def transactions(payment: dict[str, Any]) -> list[dict[str, Any]]:
    return list(payment.get("transactions") or [])


def _has(payment: dict[str, Any], types: Iterable[str], states: frozenset[str] = _ACTIVE) -> bool:
    wanted = set(types)
    return any(t.get("type") in wanted and t.get("state") in states for t in transactions(payment))


def counts_towards_cart(payment: dict[str, Any]) -> bool:
    """A payment covers part of the cart when it has a Success or Pending Authorization or Charge and
    no Success or Pending Refund or CancelAuthorization (contract section 4, /redeem)."""
    return _has(payment, ("Authorization", "Charge")) and not _has(payment, ("Refund", "CancelAuthorization"))


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
    return _sum(payment, "Charge", frozenset({"Success"}))


def refunded_or_refunding(payment: dict[str, Any]) -> int:
    """Refunds that succeeded or may still succeed count against what can be refunded."""
    return _sum(payment, "Refund", _ACTIVE)


def refundable(payment: dict[str, Any]) -> int:
    return max(charged(payment) - refunded_or_refunding(payment), 0)


def authorized(payment: dict[str, Any]) -> dict[str, Any] | None:
    """The Success Authorization still open (not cancelled), if any."""
    if _has(payment, ("CancelAuthorization",), frozenset({"Success", "Pending"})):
        return None
    for transaction in transactions(payment):
        if transaction.get("type") == "Authorization" and transaction.get("state") == "Success":
            return transaction
    return None


def successful_charge(payment: dict[str, Any]) -> dict[str, Any] | None:
    for transaction in transactions(payment):
        if transaction.get("type") == "Charge" and transaction.get("state") == "Success":
            return transaction
    return None


def provider_reference(payment: dict[str, Any]) -> str | None:
    """The provider's reference for the redemption or hold: the payment's interfaceId."""
    value = payment.get("interfaceId")
    return str(value) if value else None
