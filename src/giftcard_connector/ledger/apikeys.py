"""API keys: random bearer tokens stored only as SHA-256 hashes, each with a role."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from giftcard_connector.ledger.models import ApiKey, new_id

KEY_PREFIX = "glk_"


class Role(StrEnum):
    PROCESSOR = "processor"
    ADMIN = "admin"


def hash_key(plaintext: str) -> str:
    # 256 random bits need no slow hash or salt: SHA-256 is enough to keep the stored value useless.
    return hashlib.sha256(plaintext.encode()).hexdigest()


async def create_key(session: AsyncSession, role: Role, label: str | None, now: dt.datetime) -> tuple[str, ApiKey]:
    plaintext = KEY_PREFIX + secrets.token_urlsafe(32)
    record = ApiKey(
        id=new_id("key"),
        key_hash=hash_key(plaintext),
        prefix=plaintext[:8],
        role=role.value,
        label=label,
        created_at=now,
    )
    session.add(record)
    await session.flush()
    return plaintext, record


async def find_key(session: AsyncSession, plaintext: str) -> ApiKey | None:
    record = await session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(plaintext)))
    if record is None or record.revoked_at is not None:
        return None
    return record


async def list_keys(session: AsyncSession) -> list[ApiKey]:
    """Every key, revoked ones included (they stay for the record), oldest first."""
    return list((await session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id))).all())


async def revoke_key(session: AsyncSession, key_id: str, now: dt.datetime) -> ApiKey | None:
    """Revoke a key by its id (`key_...`) or its shown prefix; None when no such key. The ledger checks
    keys on every request, so a revoked key is refused from the next request on, in every process."""
    query = select(ApiKey).where((ApiKey.id == key_id) | (ApiKey.prefix == key_id)).with_for_update()
    matches = list((await session.scalars(query)).all())
    if len(matches) != 1:
        return None
    record = matches[0]
    if record.revoked_at is None:
        record.revoked_at = now
    return record
