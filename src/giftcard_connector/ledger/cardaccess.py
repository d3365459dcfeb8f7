"""Finding a card by its code under a row lock, with PIN checks and the PIN lockout."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from giftcard_connector.ledger import codes
from giftcard_connector.ledger.errors import not_found, refused
from giftcard_connector.ledger.models import Card, CardStatus, Hold, HoldStatus

# Statements of the debit path built once: building and cache-keying a fresh select per request cost
# more CPU than running it (py-spy on `ledger serve`).
_CARD_BY_CODE = select(Card).where(Card.code_hash == bindparam("code_hash")).with_for_update()
_HELD = select(func.coalesce(func.sum(Hold.amount), 0)).where(
    Hold.card_id == bindparam("card_id"), Hold.status == HoldStatus.ACTIVE, Hold.expires_at > bindparam("now")
)


@dataclass(frozen=True, slots=True)
class PinPolicy:
    max_attempts: int
    lock_seconds: int


async def lock_card_by_code(session: AsyncSession, secret: bytes, code: str) -> Card:
    """The card for `code`, locked for this transaction; NotFound for a code that cannot exist."""
    normalized = codes.normalize(code)
    if not codes.is_valid(normalized):
        raise not_found()  # failed check symbol: no database lookup
    card = await session.scalar(_CARD_BY_CODE, {"code_hash": codes.code_hash(secret, normalized)})
    if card is None:
        raise not_found()
    return card


async def lock_card_by_id(session: AsyncSession, card_id: str) -> Card:
    card = await session.scalar(select(Card).where(Card.id == card_id).with_for_update())
    if card is None:
        raise not_found("card not found")
    return card


def verify_pin(card: Card, secret: bytes, pin: str | None, policy: PinPolicy, now: dt.datetime) -> None:
    """Raise NotFound for a wrong or missing PIN and while the card is locked.

    A locked card is not checked at all, so guessing during the lock learns nothing. The caller must
    commit even when this raises: the failed attempt has to be counted.
    """
    if card.pin_hash is None:
        return
    if card.pin_locked_until is not None and card.pin_locked_until > now:
        raise not_found()
    if pin is None or not codes.pin_matches(secret, card.id, pin, card.pin_hash):
        card.pin_failed_attempts += 1
        if card.pin_failed_attempts >= policy.max_attempts:
            card.pin_locked_until = now + dt.timedelta(seconds=policy.lock_seconds)
            card.pin_failed_attempts = 0
        card.updated_at = now
        raise not_found()
    if card.pin_failed_attempts or card.pin_locked_until is not None:
        card.pin_failed_attempts = 0
        card.pin_locked_until = None
        card.updated_at = now


def is_expired(card: Card, now: dt.datetime) -> bool:
    return card.expires_on is not None and card.expires_on < now.date()


def ensure_usable(card: Card, now: dt.datetime) -> None:
    if card.status != CardStatus.ACTIVE:
        raise refused("card_disabled", "card is disabled")
    if is_expired(card, now):
        raise refused("card_expired", "card has expired")


def ensure_currency(card: Card, currency: str) -> None:
    if currency != card.currency:
        raise refused(
            "currency_mismatch",
            f"card is in {card.currency}, not {currency}",
            cardCurrency=card.currency,
        )


async def held_amount(session: AsyncSession, card_id: str, now: dt.datetime) -> int:
    """What unexpired holds keep from the balance (an expired hold releases itself)."""
    # Core, not the ORM: a plain number needs no identity map. Core does not autoflush, so flush pending
    # ORM changes (e.g. a hold just captured or voided) first, as session.scalar would.
    if session.new or session.dirty or session.deleted:
        await session.flush()
    connection = await session.connection()
    total = await connection.scalar(_HELD, {"card_id": card_id, "now": now})
    return int(total or 0)


async def available_amount(session: AsyncSession, card: Card, now: dt.datetime) -> int:
    return card.balance - await held_amount(session, card.id, now)
