"""What became of a change, by its Idempotency-Key (for the Processor's reconciliation).

The idempotency record is written in the same transaction as the money movement (see
idempotency.py), so it is the ledger's own answer to "did the change sent with this key happen?":
a record with a 2xx status means it happened (the stored body names the reference and amount), a
4xx record means it was refused and nothing moved, and no record means no change with that key was
ever committed (so far: a call still in flight may commit later)."""

from __future__ import annotations

import orjson
from sqlalchemy import bindparam, select

from giftcard_connector.ledger.db import Database
from giftcard_connector.ledger.errors import Reply
from giftcard_connector.ledger.models import IdempotencyRecord

_LOOKUP = select(IdempotencyRecord.status_code, IdempotencyRecord.response_body, IdempotencyRecord.created_at).where(
    IdempotencyRecord.api_key_id == bindparam("api_key_id"), IdempotencyRecord.key == bindparam("key")
)


async def operation_status(database: Database, api_key_id: str, key: str) -> Reply:
    """`{idempotencyKey, state: unknown}` or `{idempotencyKey, state: succeeded|refused, statusCode,
    result, recordedAt}`; only the calling API key's records are visible (keys are per API key)."""
    async with database.transaction() as session:
        connection = await session.connection()
        record = (await connection.execute(_LOOKUP, {"api_key_id": api_key_id, "key": key})).first()
    if record is None:
        return Reply(200, {"idempotencyKey": key, "state": "unknown"})
    return Reply(
        200,
        {
            "idempotencyKey": key,
            "state": "succeeded" if record.status_code < 300 else "refused",
            "statusCode": record.status_code,
            "result": orjson.loads(record.response_body),
            "recordedAt": record.created_at.isoformat(),
        },
    )
