"""Naming one intended redemption so a repeated or concurrent submit never charges twice."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from giftcard_connector.money import Money


def redemption_key(session_id: str, code: str, amount: Money) -> str:
    """The same session, card and amount name the same redemption. Used as the commercetools
    payment key (unique per project, so it also guards across Processor copies); a hash, so the
    card code never appears in commercetools."""
    material = f"{session_id}\x00{code}\x00{amount.cent_amount}\x00{amount.currency_code}".encode()
    return "giftcard-" + hashlib.sha256(material).hexdigest()[:40]


def attempt_key(base: str, attempt: int) -> str:
    return base if attempt == 1 else f"{base}-{attempt}"


class KeyedLocks:
    """One asyncio lock per key, dropped when nobody holds or waits for it."""

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
