"""Naming one intended redemption so a repeated or concurrent submit never charges twice.

The name is the commercetools payment key (unique per project, so it is checked by commercetools,
shared by every Processor copy); a hash, so neither the card code nor the Enabler's key appears in
commercetools. A later attempt of the same name (after its twin failed, was refunded or cancelled)
gets the key `<name>-<n>`.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from giftcard_connector.errors import InvalidField
from giftcard_connector.money import Money

MAX_HEADER_LENGTH = 255
_SEPARATORS = re.compile(r"[\s\-]+")
_HEADER = re.compile(r"^[\x21-\x7e]+$")


def normalise_code(code: str) -> str:
    """The same card typed differently (case, spaces, dashes) names the same redemption."""
    return _SEPARATORS.sub("", code).upper()


def check_header(value: str | None) -> str | None:
    if value is None:
        return None
    if not value or len(value) > MAX_HEADER_LENGTH or not _HEADER.match(value):
        raise InvalidField(
            "Idempotency-Key", f"Idempotency-Key must be 1 to {MAX_HEADER_LENGTH} visible ASCII characters"
        )
    return value


def redemption_key(session_id: str, code: str, amount: Money, header: str | None = None) -> str:
    """The Enabler's Idempotency-Key (one per submit, reused on its own retries) names the redemption
    when sent; else the session, the normalised card code and the amount do (contract section 9)."""
    if header is not None:
        material = f"header\x00{session_id}\x00{header}"
    else:
        material = f"code\x00{session_id}\x00{normalise_code(code)}\x00{amount.cent_amount}\x00{amount.currency_code}"
    return "giftcard-" + hashlib.sha256(material.encode()).hexdigest()[:40]


def attempt_key(base: str, attempt: int) -> str:
    return base if attempt == 1 else f"{base}-{attempt}"


def attempt_number(base: str, key: str) -> int | None:
    """Which attempt of `base` the payment key `key` is, or None when it is another redemption's."""
    if key == base:
        return 1
    prefix = f"{base}-"
    if key.startswith(prefix) and key[len(prefix) :].isdigit():
        return int(key[len(prefix) :])
    return None


class KeyedLocks:
    """One asyncio lock per key, dropped when nobody holds or waits for it. Only an optimisation
    (fewer commercetools 409s inside one process): money rules never rest on it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
