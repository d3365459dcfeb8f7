"""The only way a balance changes: a new immutable entry that carries the balance after it."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from giftcard_connector.ledger.models import Card, Entry


class EntryKind:
    ISSUE = "issue"
    REDEEM = "redeem"
    CAPTURE = "capture"
    REFUND = "refund"
    RELOAD = "reload"
    ADJUST = "adjust"


def post(
    session: AsyncSession,
    card: Card,
    amount: int,
    kind: str,
    now: dt.datetime,
    *,
    reference: str | None = None,
    note: str | None = None,
) -> Entry:
    """Apply `amount` (negative = debit) to a card the caller has locked."""
    new_balance = card.balance + amount
    if new_balance < 0:
        # Callers check availability first; this guards the invariant itself.
        raise AssertionError("a posting would make a card balance negative")
    card.balance = new_balance
    card.updated_at = now
    entry = Entry(
        card_id=card.id,
        kind=kind,
        amount=amount,
        balance_after=new_balance,
        reference=reference,
        note=note,
        created_at=now,
    )
    session.add(entry)
    return entry
