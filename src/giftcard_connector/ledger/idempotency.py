"""Idempotency keys: one key names one intended operation of one API key.

Same key and same request: the stored answer (status and body). Same key, different request: 409.
The record is written in the same transaction as the money movement, so both happen or neither.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from giftcard_connector.ledger.errors import Reply, conflict
from giftcard_connector.ledger.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


@dataclass(frozen=True, slots=True)
class IdempotencyRequest:
    api_key_id: str
    key: str
    fingerprint: str


def fingerprint(secret: bytes, method: str, path: str, body: Any) -> str:
    # Keyed, because the body may hold a card code and PIN.
    canonical = orjson.dumps([method.upper(), path, body], option=orjson.OPT_SORT_KEYS)
    return hmac.new(secret, b"idem:" + canonical, hashlib.sha256).hexdigest()


# Built once, run on the Core connection: this lookup precedes every change.
_LOOKUP = select(IdempotencyRecord.fingerprint, IdempotencyRecord.status_code, IdempotencyRecord.response_body).where(
    IdempotencyRecord.api_key_id == bindparam("api_key_id"), IdempotencyRecord.key == bindparam("key")
)


async def stored_reply(session: AsyncSession, request: IdempotencyRequest) -> Reply | None:
    connection = await session.connection()
    record = (await connection.execute(_LOOKUP, {"api_key_id": request.api_key_id, "key": request.key})).first()
    if record is None:
        return None
    if not hmac.compare_digest(record.fingerprint, request.fingerprint):
        raise conflict("idempotency_key_reused", "this Idempotency-Key was already used for a different request")
    return Reply(record.status_code, orjson.loads(record.response_body))


async def store_reply(session: AsyncSession, request: IdempotencyRequest, reply: Reply, now: dt.datetime) -> None:
    session.add(
        IdempotencyRecord(
            api_key_id=request.api_key_id,
            key=request.key,
            fingerprint=request.fingerprint,
            status_code=reply.status,
            response_body=orjson.dumps(reply.body).decode(),
            created_at=now,
        )
    )
    # Flush now so a concurrent request with the same key fails here (unique index), not at commit.
    await session.flush()
