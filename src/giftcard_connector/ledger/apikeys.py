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
