"""Finding a card by its code under a row lock, with PIN checks and the PIN lockout that holds."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from giftcard_connector.ledger import codes
from giftcard_connector.ledger.errors import not_found, refused
from giftcard_connector.ledger.models import Card, CardStatus, Hold, HoldStatus

# Statements of the debit path built once: building and cache-keying a fresh select per request cost
# more CPU than running it (py-spy on `ledger serve`).
_CARD_BY_CODE = select(Card).where(Card.code_hash == bindparam("code_hash")).with_for_update()
_HELD = select(func.coalesce(func.sum(Hold.amount - Hold.captured_amount), 0)).where(
    Hold.card_id == bindparam("card_id"), Hold.status == HoldStatus.ACTIVE, Hold.expires_at > bindparam("now")
)


# A card whose PIN lock is running is not even selected on the Processor's paths: it then costs exactly
# what an unknown code costs (same statement, no row, no row lock). Locking a found row would make the
# transaction a writer and its commit wait for a WAL flush on PostgreSQL: measurably slower (+0.47 ms).
_USABLE_CARD_BY_CODE = (
    select(Card)
    .where(
        Card.code_hash == bindparam("code_hash"),
        or_(Card.pin_locked_until.is_(None), Card.pin_locked_until <= bindparam("now")),
    )
    .with_for_update()
)
# Stand-ins so an unknown or locked card still costs one PIN HMAC, like a card that is checked.
_NO_CARD_ID = "crd_" + "0" * 24
_NO_PIN_HASH = "0" * 64
_MAX_DOUBLINGS = 32


@dataclass(frozen=True, slots=True)
class PinPolicy:
    """Wrong PINs before the first lock, the first lock's length, and the longest lock.

    From the `max_attempts`-th wrong PIN on, every wrong PIN locks the card again, each lock twice as long
    as the one before (15 min, 30 min, 1 h, ...), up to `max_lock_seconds`. The count of wrong PINs only
    goes back to zero on a correct PIN (once a lock has ended) or an operator's unlock, never by itself.
    """

    max_attempts: int
    lock_seconds: int
    max_lock_seconds: int = 30 * 24 * 3600

    def lock_for(self, failed_attempts: int) -> dt.timedelta | None:
        """How long the card locks after its `failed_attempts`-th wrong PIN (None: not yet)."""
        if failed_attempts < self.max_attempts:
            return None
        doublings = min(failed_attempts - self.max_attempts, _MAX_DOUBLINGS)
        return dt.timedelta(seconds=min(self.lock_seconds * 2**doublings, self.max_lock_seconds))


async def lock_card_by_code(session: AsyncSession, secret: bytes, code: str) -> Card:
    """The card for `code`, locked for this transaction; NotFound for a code that cannot exist.

    For operators (lookup, reload, unlock ...): it finds a PIN-locked card too."""
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


async def lock_card_for_use(
    session: AsyncSession, secret: bytes, code: str, pin: str | None, policy: PinPolicy, now: dt.datetime
) -> Card:
    """The card for a balance check or a debit, its PIN checked, locked for this transaction.

    NotFound for an unknown code, a wrong or missing PIN, and while the card's PIN lock runs, and the
    last three cost the same work: one select that finds no row, one PIN HMAC, no write. (A wrong PIN
    outside a lock must be counted, so it writes.) The caller must commit even when this raises.
    A code with a failed check symbol is refused before the database: the check symbol is public.
    """
    normalized = codes.normalize(code)
    if not codes.is_valid(normalized):
        raise not_found()
    card = await session.scalar(_USABLE_CARD_BY_CODE, {"code_hash": codes.code_hash(secret, normalized), "now": now})
    stored = card.pin_hash if card is not None else None
    pin_ok = codes.pin_matches(secret, card.id if card is not None else _NO_CARD_ID, pin or "", stored or _NO_PIN_HASH)
    if card is None:
        raise not_found()
    if stored is not None:
        _count_pin(card, pin is not None and pin_ok, policy, now)
    return card


def _count_pin(card: Card, correct: bool, policy: PinPolicy, now: dt.datetime) -> None:
    if not correct:
        card.pin_failed_attempts += 1
        lock = policy.lock_for(card.pin_failed_attempts)
        if lock is not None:
            card.pin_locked_until = now + lock
        card.updated_at = now
        raise not_found()
    if card.pin_failed_attempts or card.pin_locked_until is not None:
        # A correct PIN once the lock has ended (a running lock never gets here) starts the count anew.
        unlock_pin(card, now)


def unlock_pin(card: Card, now: dt.datetime) -> None:
    """An operator's unlock, or a correct PIN: no lock, no wrong PINs counted."""
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
    """What unexpired holds keep from the balance: the uncaptured rest of each (an expired hold releases itself)."""
    # Core, not the ORM: a plain number needs no identity map. Core does not autoflush, so flush pending
    # ORM changes (e.g. a hold just captured or voided) first, as session.scalar would.
    if session.new or session.dirty or session.deleted:
        await session.flush()
    connection = await session.connection()
    total = await connection.scalar(_HELD, {"card_id": card_id, "now": now})
    return int(total or 0)


async def available_amount(session: AsyncSession, card: Card, now: dt.datetime) -> int:
    return card.balance - await held_amount(session, card.id, now)
