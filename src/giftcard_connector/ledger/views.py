"""JSON shapes of the ledger's objects (the API's answers)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from giftcard_connector.ledger.models import Card, Entry, Hold, HoldStatus, Redemption, Refund


def money(cent_amount: int, currency: str) -> dict[str, Any]:
    return {"centAmount": cent_amount, "currencyCode": currency}


def timestamp(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def card_view(card: Card, available: int | None = None) -> dict[str, Any]:
    return {
        "id": card.id,
        "last4": card.last4,
        "currency": card.currency,
        "status": card.status,
        "balance": money(card.balance, card.currency),
        "available": money(card.balance if available is None else available, card.currency),
        "expiresAt": card.expires_on.isoformat() if card.expires_on else None,
        "hasPin": card.pin_hash is not None,
        "createdAt": timestamp(card.created_at),
    }


def admin_card_view(card: Card, available: int | None = None) -> dict[str, Any]:
    view = card_view(card, available)
    view["pinLockedUntil"] = timestamp(card.pin_locked_until)
    view["pinFailedAttempts"] = card.pin_failed_attempts
    return view


def hold_status(hold: Hold, now: dt.datetime) -> str:
    if hold.status == HoldStatus.ACTIVE and hold.expires_at <= now:
        return HoldStatus.EXPIRED
    return hold.status


def hold_view(hold: Hold, now: dt.datetime) -> dict[str, Any]:
    return {
        "id": hold.id,
        "cardId": hold.card_id,
        "status": hold_status(hold, now),
        "amount": money(hold.amount, hold.currency),
        "capturedAmount": money(hold.captured_amount, hold.currency),
        "expiresAt": timestamp(hold.expires_at),
        "redemptionId": hold.redemption_id,
        "createdAt": timestamp(hold.created_at),
    }


def redemption_view(redemption: Redemption) -> dict[str, Any]:
    return {
        "id": redemption.id,
        "cardId": redemption.card_id,
        "kind": redemption.kind,
        "holdId": redemption.hold_id,
        "amount": money(redemption.amount, redemption.currency),
        "refundedAmount": money(redemption.refunded_amount, redemption.currency),
        "createdAt": timestamp(redemption.created_at),
    }


def refund_view(refund: Refund, redemption: Redemption) -> dict[str, Any]:
    return {
        "id": refund.id,
        "redemptionId": refund.redemption_id,
        "cardId": refund.card_id,
        "amount": money(refund.amount, refund.currency),
        "refundedTotal": money(redemption.refunded_amount, redemption.currency),
        "createdAt": timestamp(refund.created_at),
    }


def entry_view(entry: Entry, currency: str) -> dict[str, Any]:
    return {
        "id": entry.id,
        "kind": entry.kind,
        "amount": money(entry.amount, currency),
        "balanceAfter": money(entry.balance_after, currency),
        "reference": entry.reference,
        "note": entry.note,
        "createdAt": timestamp(entry.created_at),
    }
