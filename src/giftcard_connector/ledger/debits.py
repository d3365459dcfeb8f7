"""The debit hot path on PostgreSQL: one call of ledger_redeem() (migration 0002) per debit.

Checking the API key, the idempotency key, the card lock, the PIN hash and the available amount, and
writing the redemption, entry, idempotency record and balance, all happen inside the database in
one round trip and one short transaction, so the card row is locked only for the time PostgreSQL
itself needs. The function only does the plain successful debit; for anything else it writes
nothing and says 'fallback', and LedgerService.redeem (the general path, with every refusal and the
PIN lockout rules) answers instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

import asyncpg

from giftcard_connector.ledger import codes
from giftcard_connector.ledger.apikeys import hash_key
from giftcard_connector.ledger.db import Database
from giftcard_connector.ledger.models import new_id
from giftcard_connector.ledger.views import timestamp
from giftcard_connector.money import Money

_REDEEM = "SELECT o_outcome, o_key_id, o_card_id, o_body FROM ledger_redeem($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
# card code hash -> card id. A card's id and code never change, so this needs no invalidation; it
# only lets the PIN hash (salted with the card id) be computed before the one database call.
_MAX_CACHED_CARDS = 100_000


class Outcome(StrEnum):
    OK = "ok"
    UNAUTHORIZED = "unauthorized"
    FALLBACK = "fallback"


@dataclass(frozen=True, slots=True)
class RawReply:
    """A reply whose JSON body is already encoded (by the database), sent as it is."""

    status: int
    content: bytes


@dataclass(frozen=True, slots=True)
class FastDebit:
    outcome: Outcome
    key_id: str | None = None
    body: bytes | None = None  # the JSON reply, exactly as stored in the idempotency record


class FastDebits:
    def __init__(self, database: Database, secret: bytes) -> None:
        self._database = database
        self._secret = secret
        self._card_ids: dict[str, str] = {}

    async def redeem(
        self,
        api_key: str,
        idempotency_key: str,
        fingerprint: str,
        code: str,
        pin: str | None,
        amount: Money,
        now: dt.datetime,
    ) -> FastDebit:
        code_hash = codes.code_hash(self._secret, codes.normalize(code))
        card_id = self._card_ids.get(code_hash)
        # Without the card id (first debit of a card in this process) a PIN card falls back once.
        pin_hash = codes.pin_hash(self._secret, card_id, pin) if pin is not None and card_id else None
        pool = await self._database.raw_pool()
        try:
            row = await pool.fetchrow(
                _REDEEM,
                hash_key(api_key),
                idempotency_key,
                fingerprint,
                code_hash,
                pin_hash,
                amount.cent_amount,
                amount.currency_code,
                new_id("red"),
                now.astimezone(dt.UTC).replace(tzinfo=None),
                timestamp(now),
            )
        except asyncpg.UniqueViolationError:
            # The same Idempotency-Key committed by a concurrent request: the general path replays it.
            return FastDebit(Outcome.FALLBACK, await self._key_id(api_key))
        assert row is not None
        found_card = row["o_card_id"]
        if found_card is not None and code_hash not in self._card_ids:
            if len(self._card_ids) >= _MAX_CACHED_CARDS:
                self._card_ids.clear()
            self._card_ids[code_hash] = found_card
        body = row["o_body"]
        return FastDebit(Outcome(row["o_outcome"]), row["o_key_id"], body.encode() if body is not None else None)

    async def _key_id(self, api_key: str) -> str | None:
        pool = await self._database.raw_pool()
        key_id: str | None = await pool.fetchval(
            "SELECT id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL", hash_key(api_key)
        )
        return key_id
