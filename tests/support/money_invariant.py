"""The one money invariant every fault test ends with: the ledger and commercetools agree exactly.

Every movement in the ledger's database (a debit, a hold, a capture, a void, a refund) has exactly one
Success transaction of the matching type, amount and reference on this card's commercetools payments, and
every Success transaction has exactly one movement; no transaction is left Initial or Pending; every
payment that took money is on its cart; and the card's balance is what the tests expect. Read straight
from the ledger's tables (a hold and a void leave no balance entry, so the admin history alone would not
show them) and from the emulator over HTTP.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from giftcard_connector.ledger.db import Database
from giftcard_connector.ledger.models import Card, Hold, HoldStatus, Redemption, Refund
from giftcard_connector.ledger.postings import EntryKind
from giftcard_devkit.emulator import Emulator

UNSETTLED = frozenset({"Initial", "Pending"})


@dataclass(frozen=True, order=True)
class Movement:
    """One money movement, named as commercetools records it: transaction type, reference, amount."""

    kind: str
    reference: str
    cent_amount: int


@dataclass(frozen=True)
class LedgerCard:
    movements: Counter[Movement]
    balance: int
    available: int


def ledger_card(database_url: str, schema: str | None, card_id: str) -> LedgerCard:
    """The card's movements and amounts, read from the ledger's own tables."""

    async def read() -> LedgerCard:
        database = Database(database_url, schema=schema, pool_size=1)
        try:
            async with database.transaction() as session:
                card = await session.get(Card, card_id)
                assert card is not None, f"no card {card_id} in the ledger"
                holds = (await session.scalars(select(Hold).where(Hold.card_id == card_id))).all()
                debits = (await session.scalars(select(Redemption).where(Redemption.card_id == card_id))).all()
                refunds = (await session.scalars(select(Refund).where(Refund.card_id == card_id))).all()
        finally:
            await database.dispose()
        movements: Counter[Movement] = Counter()
        now = dt.datetime.now(dt.UTC)
        held = 0
        for hold in holds:
            movements[Movement("Authorization", hold.id, hold.amount)] += 1
            # Split captures: a void releases, and an active hold keeps, only the uncaptured rest.
            rest = hold.amount - hold.captured_amount
            if hold.status == HoldStatus.VOIDED:
                movements[Movement("CancelAuthorization", hold.id, rest)] += 1
            if hold.status == HoldStatus.ACTIVE and hold.expires_at > now:
                held += rest
        for debit in debits:
            # A direct redemption and a capture are both a Charge on the payment.
            assert debit.kind in (EntryKind.REDEEM, EntryKind.CAPTURE), debit.kind
            movements[Movement("Charge", debit.id, debit.amount)] += 1
        for refund in refunds:
            movements[Movement("Refund", refund.id, refund.amount)] += 1
        return LedgerCard(movements, card.balance, card.balance - held)

    return asyncio.run(read())


def connector_payments(emulator: Emulator, anonymous_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Every payment made for these shoppers' carts, also ones created but never added to a cart."""
    payments = []
    for anonymous_id in anonymous_ids:
        answer = emulator.api("GET", "/payments", params={"where": f'anonymousId="{anonymous_id}"', "limit": 500})
        assert answer.status_code == 200, answer.text
        payments += answer.json()["results"]
    return payments


def success_movements(payments: list[dict[str, Any]]) -> Counter[Movement]:
    return Counter(
        Movement(t["type"], str(t.get("interactionId")), int(t["amount"]["centAmount"]))
        for p in payments
        for t in p.get("transactions", [])
        if t["state"] == "Success"
    )


def unsettled(payments: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    """Transactions still Initial or Pending, and payments that never got a transaction at all."""
    found = [(p["id"], "no transaction", "") for p in payments if not p.get("transactions")]
    return found + [
        (p["id"], t["type"], t["state"]) for p in payments for t in p.get("transactions", []) if t["state"] in UNSETTLED
    ]


def describe(payments: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{p['id'][:8]}: "
        + ", ".join(f"{t['type']} {t['state']} {t['amount']['centAmount']}" for t in p.get("transactions", []))
        for p in payments
    )


def assert_ledger_and_commercetools_agree(
    emulator: Emulator, anonymous_ids: Sequence[str], ledger_movements: Counter[Movement]
) -> list[dict[str, Any]]:
    """The invariant over these shoppers' payments and these cards' movements; returns the payments."""
    payments = connector_payments(emulator, anonymous_ids)
    check_agreement(payments, ledger_movements)
    return payments


def check_agreement(payments: list[dict[str, Any]], ledger_movements: Counter[Movement]) -> None:
    """Nothing unsettled, no Success twice, and the Success transactions are exactly the ledger's movements."""
    recorded = success_movements(payments)
    story = describe(payments)
    assert not unsettled(payments), f"left unsettled: {unsettled(payments)} ({story})"
    twice = {m: n for m, n in recorded.items() if n > 1}
    assert not twice, f"recorded more than once: {twice} ({story})"
    assert recorded == ledger_movements, (
        f"only in the ledger: {sorted(ledger_movements - recorded)}; "
        f"only in commercetools: {sorted(recorded - ledger_movements)} ({story})"
    )


def assert_money_taken_is_on_the_cart(
    emulator: Emulator, cart_ids: Sequence[str], payments: list[dict[str, Any]]
) -> None:
    """A payment that took money (a Success Authorization or Charge) must be on its cart, or the shopper
    paid and the cart still asks for the money."""
    on_carts = {
        ref["id"]
        for cart_id in cart_ids
        for ref in (emulator.get_cart(cart_id, expand=False).get("paymentInfo") or {}).get("payments", [])
    }
    taking = {
        p["id"]
        for p in payments
        for t in p.get("transactions", [])
        if t["type"] in ("Authorization", "Charge") and t["state"] == "Success"
    }
    assert taking <= on_carts, f"payments that took money but are not on the cart: {sorted(taking - on_carts)}"
