"""The ledger's operations. Each runs in one transaction; balance changes happen under a row lock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from giftcard_connector.ledger import codes
from giftcard_connector.ledger.cardaccess import (
    PinPolicy,
    available_amount,
    ensure_currency,
    ensure_usable,
    lock_card_by_code,
    lock_card_by_id,
    lock_card_for_use,
    unlock_pin,
)
from giftcard_connector.ledger.db import Database
from giftcard_connector.ledger.debits import FastDebits, Outcome, RawReply
from giftcard_connector.ledger.errors import LedgerError, Reply, conflict, invalid, not_found, refused
from giftcard_connector.ledger.idempotency import IdempotencyRequest, store_reply, stored_reply
from giftcard_connector.ledger.models import (
    Card,
    CardStatus,
    Entry,
    Hold,
    HoldStatus,
    Redemption,
    Refund,
    new_id,
)
from giftcard_connector.ledger.postings import EntryKind, post
from giftcard_connector.ledger.views import (
    admin_card_view,
    card_view,
    entry_view,
    hold_view,
    money,
    redemption_view,
    refund_view,
)
from giftcard_connector.money import Money

Clock = Callable[[], dt.datetime]
Action = Callable[[AsyncSession, dt.datetime], Awaitable[Reply]]
MAX_ISSUE_COUNT = 1000
MAX_LISTED = 1000  # cards in one answer (a page, or the cards sharing four last characters)


@dataclass(frozen=True, slots=True)
class CardQuery:
    """Filters of `cards list`; every bound is inclusive, amounts in minor units, dates in UTC."""

    status: str | None = None
    currency: str | None = None
    min_balance: int | None = None
    max_balance: int | None = None
    issued_from: dt.date | None = None
    issued_to: dt.date | None = None
    limit: int = 50
    offset: int = 0

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.status is not None:
            conditions.append(Card.status == self.status)
        if self.currency is not None:
            conditions.append(Card.currency == self.currency)
        if self.min_balance is not None:
            conditions.append(Card.balance >= self.min_balance)
        if self.max_balance is not None:
            conditions.append(Card.balance <= self.max_balance)
        if self.issued_from is not None:
            start = dt.datetime.combine(self.issued_from, dt.time(), dt.UTC)
            conditions.append(Card.created_at >= start)
        if self.issued_to is not None:
            end = dt.datetime.combine(self.issued_to + dt.timedelta(days=1), dt.time(), dt.UTC)
            conditions.append(Card.created_at < end)
        return conditions


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class LedgerService:
    def __init__(
        self,
        database: Database,
        secret: bytes,
        *,
        pin_policy: PinPolicy = PinPolicy(max_attempts=5, lock_seconds=900),
        hold_ttl: dt.timedelta = dt.timedelta(days=7),
        clock: Clock = utcnow,
    ) -> None:
        self.database = database
        self.secret = secret
        self.pin_policy = pin_policy
        self.hold_ttl = hold_ttl
        self.clock = clock
        self.fast_debits = None if database.is_sqlite else FastDebits(database, secret)

    # -- running operations ---------------------------------------------------------------------

    async def run(
        self,
        action: Action,
        idempotency: IdempotencyRequest | None = None,
        *,
        redact: Callable[[Reply], Reply] | None = None,
    ) -> Reply:
        """Run `action` in one transaction. A business refusal still commits (a wrong PIN must be
        counted) and, with an idempotency key, is stored like a success."""
        try:
            return await self._run_once(action, idempotency, redact)
        except IntegrityError:
            if idempotency is None:
                raise
        # A concurrent request with the same key committed first: answer with what it stored.
        async with self.database.transaction() as session:
            try:
                stored = await stored_reply(session, idempotency)
            except LedgerError as error:
                return error.reply()
        if stored is None:
            raise RuntimeError("idempotency record vanished")
        return stored

    async def _run_once(
        self,
        action: Action,
        idempotency: IdempotencyRequest | None,
        redact: Callable[[Reply], Reply] | None,
    ) -> Reply:
        async with self.database.transaction() as session:
            now = self.clock()
            if idempotency is not None:
                try:
                    stored = await stored_reply(session, idempotency)
                except LedgerError as error:
                    return error.reply()
                if stored is not None:
                    return stored
            try:
                reply = await action(session, now)
            except LedgerError as error:
                reply = error.reply()
            if idempotency is not None:
                await store_reply(session, idempotency, redact(reply) if redact else reply, now)
            return reply

    async def _card_for_use(self, session: AsyncSession, code: str, pin: str | None, now: dt.datetime) -> Card:
        card = await lock_card_for_use(session, self.secret, code, pin, self.pin_policy, now)
        ensure_usable(card, now)
        return card

    # -- processor operations -------------------------------------------------------------------

    async def balance(self, code: str, pin: str | None) -> Reply:
        async def action(session: AsyncSession, now: dt.datetime) -> Reply:
            card = await self._card_for_use(session, code, pin, now)
            return Reply(200, {"card": card_view(card, await available_amount(session, card, now))})

        return await self.run(action)

    async def _debitable(
        self, session: AsyncSession, code: str, pin: str | None, amount: Money, now: dt.datetime
    ) -> tuple[Card, int]:
        card = await self._card_for_use(session, code, pin, now)
        ensure_currency(card, amount.currency_code)
        available = await available_amount(session, card, now)
        if amount.cent_amount > available:
            raise refused(
                "insufficient_funds",
                "the card's available balance is lower than the amount",
                available=money(available, card.currency),
            )
        return card, available

    async def redeem(
        self, code: str, pin: str | None, amount: Money, idempotency: IdempotencyRequest | None = None
    ) -> Reply:
        async def action(session: AsyncSession, now: dt.datetime) -> Reply:
            card, available = await self._debitable(session, code, pin, amount, now)
            redemption = Redemption(
                id=new_id("red"),
                card_id=card.id,
                kind=EntryKind.REDEEM,
                amount=amount.cent_amount,
                currency=card.currency,
                refunded_amount=0,
                created_at=now,
            )
            session.add(redemption)
            post(session, card, -amount.cent_amount, EntryKind.REDEEM, now, reference=redemption.id)
            body = redemption_view(redemption) | {"card": card_view(card, available - amount.cent_amount)}
            return Reply(201, body)

        return await self.run(action, idempotency)

    async def redeem_with_key(
        self, api_key: str, idempotency_key: str, fingerprint: str, code: str, pin: str | None, amount: Money
    ) -> Reply | RawReply | None:
        """A debit whose API key is checked in the same database call (PostgreSQL: ledger_redeem in one
        round trip; anything but a plain success goes the general way). None: unknown or revoked key."""
        if self.fast_debits is None:
            raise RuntimeError("redeem_with_key needs PostgreSQL")
        fast = await self.fast_debits.redeem(api_key, idempotency_key, fingerprint, code, pin, amount, self.clock())
        if fast.outcome is Outcome.OK and fast.body is not None:
            return RawReply(201, fast.body)
        if fast.outcome is Outcome.UNAUTHORIZED or fast.key_id is None:
            return None
        return await self.redeem(code, pin, amount, IdempotencyRequest(fast.key_id, idempotency_key, fingerprint))

    async def authorize(
        self, code: str, pin: str | None, amount: Money, idempotency: IdempotencyRequest | None = None
    ) -> Reply:
        async def action(session: AsyncSession, now: dt.datetime) -> Reply:
            card, available = await self._debitable(session, code, pin, amount, now)
            hold = Hold(
                id=new_id("hld"),
                card_id=card.id,
                amount=amount.cent_amount,
                currency=card.currency,
                status=HoldStatus.ACTIVE,
                captured_amount=0,
                expires_at=now + self.hold_ttl,
                created_at=now,
                updated_at=now,
            )
            session.add(hold)
            body = hold_view(hold, now) | {"card": card_view(card, available - amount.cent_amount)}
            return Reply(201, body)

        return await self.run(action, idempotency)

    async def _lock_hold(self, session: AsyncSession, hold_id: str) -> tuple[Card, Hold]:
        hold = await session.get(Hold, hold_id)
        if hold is None:
            raise not_found("hold not found")
        # Fixed lock order (card, then hold) so capture and void of one hold cannot deadlock.
        card = await lock_card_by_id(session, hold.card_id)
        locked = await session.scalar(
            select(Hold).where(Hold.id == hold_id).with_for_update().execution_options(populate_existing=True)
        )
        assert locked is not None
        return card, locked

    async def capture(self, hold_id: str, amount: Money | None, idempotency: IdempotencyRequest | None = None) -> Reply:
        async def action(session: AsyncSession, now: dt.datetime) -> Reply:
            card, hold = await self._lock_hold(session, hold_id)
            if hold.status != HoldStatus.ACTIVE:
                raise conflict("hold_not_active", f"hold is {hold.status}", status=hold.status)
            if hold.expires_at <= now:
                raise refused("hold_expired", "hold has expired and was released")
            # Split captures: each capture debits up to what is left of the hold; the hold stays active
            # (keeping only its uncaptured rest from the available balance) until nothing is left.
            remaining = hold.amount - hold.captured_amount
            cent_amount = remaining if amount is None else amount.cent_amount
            if amount is not None and amount.currency_code != hold.currency:
                raise refused("currency_mismatch", f"hold is in {hold.currency}", cardCurrency=hold.currency)
            if cent_amount > remaining:
                raise refused(
                    "amount_exceeds_hold",
                    "capture is larger than what is left of the hold",
                    held=money(remaining, hold.currency),
                )
            redemption = Redemption(
                id=new_id("red"),
                card_id=card.id,
                kind=EntryKind.CAPTURE,
                amount=cent_amount,
                currency=hold.currency,
                refunded_amount=0,
                hold_id=hold.id,
                created_at=now,
            )
            session.add(redemption)
            hold.captured_amount += cent_amount
            if hold.captured_amount == hold.amount:
                hold.status = HoldStatus.CAPTURED
            hold.redemption_id = redemption.id
            hold.updated_at = now
            post(session, card, -cent_amount, EntryKind.CAPTURE, now, reference=redemption.id)
            available = await available_amount(session, card, now)
            return Reply(201, redemption_view(redemption) | {"card": card_view(card, available)})

        return await self.run(action, idempotency)

    async def void(self, hold_id: str, idempotency: IdempotencyRequest | None = None) -> Reply:
        async def action(session: AsyncSession, now: dt.datetime) -> Reply:
            card, hold = await self._lock_hold(session, hold_id)
            if hold.status == HoldStatus.CAPTURED:
                raise conflict("hold_not_active", "hold is captured; refund the capture instead", status=hold.status)
            if hold.status == HoldStatus.ACTIVE:
                # After split captures this releases only the uncaptured rest; the captures stand.
                hold.status = HoldStatus.VOIDED
                hold.updated_at = now
            available = await available_amount(session, card, now)
            return Reply(200, hold_view(hold, now) | {"card": card_view(card, available)})

        return await self.run(action, idempotency)

    async def refund(self, reference: str, amount: Money, idempotency: IdempotencyRequest | None = None) -> Reply:
        async def action(session: AsyncSession, now: dt.datetime) -> Reply:
            redemption_id = reference
            if reference.startswith("hld_"):
                # A captured hold stands for its capture (its newest one, after split captures), so a
                # caller may refund by the hold id.
                hold = await session.get(Hold, reference)
                if hold is None:
                    raise not_found("redemption not found")
                if hold.redemption_id is None:
                    raise conflict("hold_not_captured", "hold was not captured; void it instead")
                redemption_id = hold.redemption_id
            found = await session.get(Redemption, redemption_id)
            if found is None:
                raise not_found("redemption not found")
            card = await lock_card_by_id(session, found.card_id)
            redemption = await session.scalar(
                select(Redemption)
                .where(Redemption.id == redemption_id)
                .with_for_update()
                .execution_options(populate_existing=True)
            )
            assert redemption is not None
            if amount.currency_code != redemption.currency:
                raise refused(
                    "currency_mismatch", f"redemption is in {redemption.currency}", cardCurrency=card.currency
                )
            refundable = redemption.amount - redemption.refunded_amount
            if amount.cent_amount > refundable:
                raise refused(
                    "refund_exceeds_redemption",
                    "refunds would exceed what the redemption debited",
                    refundable=money(refundable, redemption.currency),
                )
            refund = Refund(
                id=new_id("rfd"),
                redemption_id=redemption.id,
                card_id=card.id,
                amount=amount.cent_amount,
                currency=redemption.currency,
                created_at=now,
            )
            session.add(refund)
            redemption.refunded_amount += amount.cent_amount
            post(session, card, amount.cent_amount, EntryKind.REFUND, now, reference=refund.id)
            available = await available_amount(session, card, now)
            return Reply(201, refund_view(refund, redemption) | {"card": card_view(card, available)})

        return await self.run(action, idempotency)

    # -- admin operations -----------------------------------------------------------------------

    async def issue(
        self,
        amount: Money,
        *,
        pin: str | None = None,
        expires_on: dt.date | None = None,
        count: int = 1,
        idempotency: IdempotencyRequest | None = None,
    ) -> Reply:
        if not 1 <= count <= MAX_ISSUE_COUNT:
            return invalid(f"count must be between 1 and {MAX_ISSUE_COUNT}", "count").reply()

        async def action(session: AsyncSession, now: dt.datetime) -> Reply:
            if expires_on is not None and expires_on < now.date():
                raise invalid("expiresAt is in the past", "expiresAt")
            issued = []
            for _ in range(count):
                code = codes.generate()
                card = Card(
                    id=new_id("crd"),
                    code_hash=codes.code_hash(self.secret, code),
                    last4=codes.last4(code),
                    currency=amount.currency_code,
                    balance=0,
                    status=CardStatus.ACTIVE,
                    pin_failed_attempts=0,
                    expires_on=expires_on,
                    created_at=now,
                    updated_at=now,
                )
                if pin is not None:
                    card.pin_hash = codes.pin_hash(self.secret, card.id, pin)
                session.add(card)
                post(session, card, amount.cent_amount, EntryKind.ISSUE, now)
                issued.append(card_view(card) | {"code": codes.format_code(code)})
            return Reply(201, {"cards": issued})

        return await self.run(action, idempotency, redact=_without_codes)

    async def _admin(
        self,
        code: str,
        change: Callable[[AsyncSession, Card, dt.datetime], Awaitable[None]] | None,
        idempotency: IdempotencyRequest | None,
        status: int = 200,
    ) -> Reply:
        async def action(session: AsyncSession, now: dt.datetime) -> Reply:
            card = await self._lock_admin_card(session, code)
            if change is not None:
                await change(session, card, now)
            return Reply(status, {"card": admin_card_view(card, await available_amount(session, card, now))})

        return await self.run(action, idempotency)

    async def lookup(self, code: str) -> Reply:
        return await self._admin(code, None, None)

    async def reload(self, code: str, amount: Money, idempotency: IdempotencyRequest | None = None) -> Reply:
        async def change(session: AsyncSession, card: Card, now: dt.datetime) -> None:
            ensure_usable(card, now)
            ensure_currency(card, amount.currency_code)
            post(session, card, amount.cent_amount, EntryKind.RELOAD, now)

        return await self._admin(code, change, idempotency)

    async def adjust(
        self, code: str, amount: Money, note: str | None, idempotency: IdempotencyRequest | None = None
    ) -> Reply:
        async def change(session: AsyncSession, card: Card, now: dt.datetime) -> None:
            ensure_currency(card, amount.currency_code)
            available = await available_amount(session, card, now)
            if available + amount.cent_amount < 0:
                raise refused(
                    "insufficient_funds",
                    "the adjustment would take the balance below what is available",
                    available=money(available, card.currency),
                )
            post(session, card, amount.cent_amount, EntryKind.ADJUST, now, note=note)

        return await self._admin(code, change, idempotency)

    async def set_status(self, code: str, status: str, idempotency: IdempotencyRequest | None = None) -> Reply:
        async def change(session: AsyncSession, card: Card, now: dt.datetime) -> None:
            card.status = status
            if status == CardStatus.ACTIVE:
                # Reactivating is also how an operator lifts a PIN lockout.
                unlock_pin(card, now)
            card.updated_at = now

        return await self._admin(code, change, idempotency)

    async def unlock(self, code: str, idempotency: IdempotencyRequest | None = None) -> Reply:
        """Lift a PIN lockout and forget the wrong PINs (an operator, after checking who is asking)."""

        async def change(session: AsyncSession, card: Card, now: dt.datetime) -> None:
            unlock_pin(card, now)

        return await self._admin(code, change, idempotency)

    async def history(self, code: str) -> Reply:
        async def action(session: AsyncSession, now: dt.datetime) -> Reply:
            card = await self._lock_admin_card(session, code)
            entries = (await session.scalars(select(Entry).where(Entry.card_id == card.id).order_by(Entry.id))).all()
            available = await available_amount(session, card, now)
            return Reply(
                200,
                {
                    "card": admin_card_view(card, available),
                    "entries": [entry_view(entry, card.currency) for entry in entries],
                },
            )

        return await self.run(action)

    async def _lock_admin_card(self, session: AsyncSession, reference: str) -> Card:
        """Operators name a card by its code or by its id (`crd_...`, never a valid code: 27 symbols)."""
        if reference.startswith("crd_"):
            return await lock_card_by_id(session, reference)
        return await lock_card_by_code(session, self.secret, reference)

    async def find_cards(self, reference: str) -> Reply:
        """Cards an operator may mean by `reference`: a code, an id, or the last four characters that
        receipts and logs show (several cards can share those: all of them, newest first)."""
        normalized = codes.normalize(reference)
        if reference.startswith("crd_") or codes.is_valid(normalized):
            found = await self.lookup(reference)
            return Reply(200, {"cards": [found.body["card"]]}) if found.status == 200 else found

        if len(normalized) == codes.CODE_LENGTH:
            return Reply(200, {"cards": []})  # a code whose check character does not fit: a typo

        async def action(session: AsyncSession, now: dt.datetime) -> Reply:
            if len(normalized) != codes.GROUP:
                raise invalid("name a card by its code, its id (crd_...) or its last four characters", "card")
            query = select(Card).where(Card.last4 == normalized).order_by(Card.created_at.desc(), Card.id)
            cards = (await session.scalars(query.limit(MAX_LISTED))).all()
            held = await _held_amounts(session, [card.id for card in cards], now)
            return Reply(200, {"cards": [admin_card_view(card, card.balance - held.get(card.id, 0)) for card in cards]})

        return await self.run(action)

    async def list_cards(self, query: CardQuery) -> Reply:
        """A page of cards matching the operator's filters, newest first, with the total count."""

        async def action(session: AsyncSession, now: dt.datetime) -> Reply:
            conditions = query.conditions()
            total = await session.scalar(select(func.count()).select_from(Card).where(*conditions))
            page = (
                select(Card)
                .where(*conditions)
                .order_by(Card.created_at.desc(), Card.id)
                .limit(query.limit)
                .offset(query.offset)
            )
            cards = (await session.scalars(page)).all()
            held = await _held_amounts(session, [card.id for card in cards], now)
            views = [admin_card_view(card, card.balance - held.get(card.id, 0)) for card in cards]
            return Reply(200, {"cards": views, "total": total, "limit": query.limit, "offset": query.offset})

        return await self.run(action)

    async def health(self) -> None:
        await self.database.ping()


async def _held_amounts(session: AsyncSession, card_ids: list[str], now: dt.datetime) -> dict[str, int]:
    """What unexpired holds keep (their uncaptured rest) from each of these cards (one query for a page)."""
    if not card_ids:
        return {}
    query = (
        select(Hold.card_id, func.sum(Hold.amount - Hold.captured_amount))
        .where(Hold.card_id.in_(card_ids), Hold.status == HoldStatus.ACTIVE, Hold.expires_at > now)
        .group_by(Hold.card_id)
    )
    return {card_id: int(total) for card_id, total in (await session.execute(query)).all()}


def _without_codes(reply: Reply) -> Reply:
    # Card codes are never stored in clear, not even in an idempotency record: a replayed issue
    # answers with the same cards but `code: null`.
    cards: list[dict[str, Any]] = reply.body.get("cards", [])
    return Reply(reply.status, {**reply.body, "cards": [card | {"code": None} for card in cards]})
